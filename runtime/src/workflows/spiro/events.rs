//! The deploy event stream (specs/spiro.md 7): `event: <name>\ndata:
//! <json>\n\n` per event, the JSON laid out as Python's `json.dumps` with
//! its defaults, ASCII only (the real client decodes Latin-1 and splits on
//! Unicode line breaks, so a raw non-ASCII byte could break a data line).

use std::fmt::Write;

/// A JSON value with keys in insertion order, as the events need them.
#[derive(Debug, Clone, PartialEq)]
pub enum PyJson {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<PyJson>),
    Object(Vec<(String, PyJson)>),
}

impl PyJson {
    /// `json.dumps(value)`: `", "` and `": "` separators, `ensure_ascii`.
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            PyJson::Null => out.push_str("null"),
            PyJson::Bool(true) => out.push_str("true"),
            PyJson::Bool(false) => out.push_str("false"),
            PyJson::Int(n) => {
                let _ = write!(out, "{n}");
            }
            PyJson::Str(text) => write_string(text, out),
            PyJson::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            PyJson::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_string(key, out);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string with `ensure_ascii`: short escapes for `\n \r \t \b \f`,
/// `\uXXXX` (lowercase hex, surrogate pairs above U+FFFF) for everything
/// else outside U+0020..U+007E.
fn write_string(text: &str, out: &mut String) {
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
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn msg(text: &str) -> Vec<(String, PyJson)> {
    vec![("msg".into(), PyJson::Str(text.into()))]
}

/// One event of the stream, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: &'static str,
    pub data: PyJson,
}

impl Event {
    /// The event's bytes: `event:` line, one `data:` line, a blank line.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!("event: {}\ndata: {}\n\n", self.name, self.data.dumps()).into_bytes()
    }

    pub fn deploy_bundle() -> Self {
        Self {
            name: "deploy-bundle",
            data: PyJson::Object(msg("Deploying bundle")),
        }
    }

    pub fn highstate_calc() -> Self {
        Self {
            name: "highstate-calc",
            data: PyJson::Object(msg("Calculating minions to highstate")),
        }
    }

    /// `highstate-start` for `minions` in the order they were computed.
    pub fn highstate_start(minions: &[String]) -> Self {
        let text = if minions.is_empty() {
            "No minions to highstate".to_string()
        } else {
            format!(
                "Highstating {} minions: {}",
                minions.len(),
                minions.join(", ")
            )
        };
        let mut data = msg(&text);
        data.push((
            "minions".into(),
            PyJson::List(minions.iter().cloned().map(PyJson::Str).collect()),
        ));
        Self {
            name: "highstate-start",
            data: PyJson::Object(data),
        }
    }

    pub fn highstate_finish() -> Self {
        Self {
            name: "highstate-finish",
            data: PyJson::Object(msg("Highstate complete")),
        }
    }

    /// The failure that ends a stream: `<ErrorType>: <message>\n`.
    pub fn exception(kind: ErrorKind, message: &str) -> Self {
        Self {
            name: "exception",
            data: PyJson::Object(msg(&format!("{}: {message}\n", kind.as_str()))),
        }
    }
}

/// The error types of `exception` events (spec 13.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Extract,
    Topfile,
    Swap,
    Highstate,
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Extract => "ExtractError",
            ErrorKind::Topfile => "TopfileError",
            ErrorKind::Swap => "SwapError",
            ErrorKind::Highstate => "HighstateError",
            ErrorKind::Internal => "InternalError",
        }
    }
}
