//! The JSON replies, byte for byte as cvproxy's `json.dumps(response,
//! indent=2)` writes them (spec 2.6): two-space indentation, `": "` after
//! keys, no trailing newline, and `ensure_ascii` escaping.

use super::plan::DeployReport;
use crate::python::json::dump_str;

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
                        Some(name) => dump_str(name, &mut out),
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
                        dump_str(error, &mut out);
                    }
                    out.push_str("\n  ]");
                }
            }
        }
        out.push_str("\n}");
        out
    }
}
