//! The deploy event stream (specs/spiro.md 7): `event: <name>\ndata:
//! <json>\n\n` per event, the JSON laid out as Python's `json.dumps` with
//! its defaults ([`crate::python::json`]), ASCII only (the real client
//! decodes Latin-1 and splits on Unicode line breaks, so a raw non-ASCII
//! byte could break a data line).

use crate::python::json::{self, Json};

fn msg(text: &str) -> Vec<(String, Json)> {
    vec![("msg".into(), Json::str(text))]
}

/// One event of the stream, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: &'static str,
    pub data: Json,
}

impl Event {
    /// The event's bytes: `event:` line, one `data:` line, a blank line.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "event: {}\ndata: {}\n\n",
            self.name,
            json::dumps(&self.data)
        )
        .into_bytes()
    }

    pub fn deploy_bundle() -> Self {
        Self {
            name: "deploy-bundle",
            data: Json::Object(msg("Deploying bundle")),
        }
    }

    pub fn highstate_calc() -> Self {
        Self {
            name: "highstate-calc",
            data: Json::Object(msg("Calculating minions to highstate")),
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
            Json::Array(minions.iter().cloned().map(Json::Str).collect()),
        ));
        Self {
            name: "highstate-start",
            data: Json::Object(data),
        }
    }

    pub fn highstate_finish() -> Self {
        Self {
            name: "highstate-finish",
            data: Json::Object(msg("Highstate complete")),
        }
    }

    /// The failure that ends a stream: `<ErrorType>: <message>\n`.
    pub fn exception(kind: ErrorKind, message: &str) -> Self {
        Self {
            name: "exception",
            data: Json::Object(msg(&format!("{}: {message}\n", kind.as_str()))),
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
