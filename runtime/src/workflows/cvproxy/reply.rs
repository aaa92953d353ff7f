//! The JSON replies, byte for byte as cvproxy's `json.dumps(response,
//! indent=2)` writes them (spec 2.6): two-space indentation, `": "` after
//! keys, no trailing newline, and `ensure_ascii` escaping.

use super::plan::DeployReport;

/// What the reply says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `{"status": "ok"}`, with `change_control` when one was created
    /// (`Some(None)` is a change control CloudVision gave no name: `null`).
    Ok {
        change_control: Option<Option<String>>,
    },
    /// `{"status": "error", "errors": [...]}`.
    Error(Vec<String>),
}

impl Reply {
    pub fn error(text: impl Into<String>) -> Self {
        Self::Error(vec![text.into()])
    }

    pub fn from_report(report: &DeployReport) -> Self {
        if report.errors.is_empty() {
            Self::Ok {
                change_control: report.change_control.clone(),
            }
        } else {
            Self::Error(report.errors.clone())
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n  \"status\": ");
        match self {
            Self::Ok { change_control } => {
                out.push_str("\"ok\"");
                if let Some(name) = change_control {
                    out.push_str(",\n  \"change_control\": ");
                    match name {
                        Some(name) => push_json_string(&mut out, name),
                        None => out.push_str("null"),
                    }
                }
            }
            Self::Error(errors) => {
                out.push_str("\"error\",\n  \"errors\": ");
                if errors.is_empty() {
                    out.push_str("[]");
                } else {
                    out.push_str("[\n");
                    for (i, error) in errors.iter().enumerate() {
                        if i > 0 {
                            out.push_str(",\n");
                        }
                        out.push_str("    ");
                        push_json_string(&mut out, error);
                    }
                    out.push_str("\n  ]");
                }
            }
        }
        out.push_str("\n}");
        out
    }
}

/// A JSON string as Python's `json.dumps` writes it with `ensure_ascii`:
/// everything above U+007E as `\uXXXX` (astral characters as a surrogate
/// pair), the short escapes for `\n \r \t \b \f`, `/` left alone.
pub fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}
