//! Python `repr()` / `str()` renderings used by the error texts (spec 2.4,
//! 11.3), on top of [`crate::python::repr`]: exception argument tuples, gRPC status names, the
//! workspace `Response` repr and the device reprs.

use std::fmt::Write as _;

use crate::python::repr::repr_str;

/// A Python value as it appears inside an exception's argument tuple.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PyVal {
    Str(String),
    None,
    /// Rendered as is (`<Status.NOT_FOUND: 5>`, `<CVClient>`, `AvdDevice(...)`).
    Raw(String),
    Tuple(Vec<PyVal>),
    List(Vec<PyVal>),
    /// A dict with string keys, in insertion order.
    Dict(Vec<(String, PyVal)>),
}

impl PyVal {
    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    pub fn opt_str(s: Option<&str>) -> Self {
        s.map_or(Self::None, Self::str)
    }

    /// Python `repr()`.
    pub fn repr(&self) -> String {
        match self {
            Self::Str(s) => repr_str(s),
            Self::None => "None".to_owned(),
            Self::Raw(r) => r.clone(),
            Self::Tuple(items) => {
                let inner: Vec<String> = items.iter().map(Self::repr).collect();
                if inner.len() == 1 {
                    format!("({},)", inner[0])
                } else {
                    format!("({})", inner.join(", "))
                }
            }
            Self::List(items) => {
                let inner: Vec<String> = items.iter().map(Self::repr).collect();
                format!("[{}]", inner.join(", "))
            }
            Self::Dict(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", repr_str(k), v.repr()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }

    /// Python `str()`: a string is itself, everything else its repr.
    pub fn to_py_str(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            other => other.repr(),
        }
    }
}

/// `str(exception)` for an exception built with these arguments: `''` for
/// none, `str(arg)` for one, the tuple repr for more.
pub fn exception_str(args: &[PyVal]) -> String {
    match args {
        [] => String::new(),
        [one] => one.to_py_str(),
        many => PyVal::Tuple(many.to_vec()).repr(),
    }
}

/// Python list repr of strings, e.g. `['leaf-1b (SSJ22222222)']`.
pub fn list_repr_str(items: &[String]) -> String {
    PyVal::List(items.iter().map(|s| PyVal::str(s.as_str())).collect()).repr()
}

/// grpclib's status name for a gRPC code, `None` for numbers outside 0–16.
pub fn grpc_status_name(code: i32) -> Option<&'static str> {
    Some(match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => return None,
    })
}

/// `<Status.NAME: N>` (grpclib's enum repr); an unknown code prints as `<Status.N: N>`.
pub fn grpc_status_repr(code: i32) -> String {
    match grpc_status_name(code) {
        Some(name) => format!("<Status.{name}: {code}>"),
        None => format!("<Status.{code}: {code}>"),
    }
}

/// The stable repr of a workspace `Response` (spec 11.3):
/// `Response(status=ResponseStatus.X[, message=<repr>][, code=ResponseCode.Y])`.
pub fn workspace_response_repr(status: i32, message: Option<&str>, code: i32) -> String {
    let status_name = match status {
        0 => "ResponseStatus.UNSPECIFIED".to_owned(),
        1 => "ResponseStatus.SUCCESS".to_owned(),
        2 => "ResponseStatus.FAIL".to_owned(),
        n => n.to_string(),
    };
    let mut out = format!("Response(status={status_name}");
    if let Some(m) = message {
        let _ = write!(out, ", message={}", repr_str(m));
    }
    if code != 0 {
        let code_name = match code {
            1 => "ResponseCode.INACTIVE_DEVICES_EXIST".to_owned(),
            2 => "ResponseCode.DECOMMISSION_DEVICES_INCOMPLETE".to_owned(),
            3 => "ResponseCode.SYNCHRONIZATION_REQUIRED".to_owned(),
            n => n.to_string(),
        };
        let _ = write!(out, ", code={code_name}");
    }
    out.push(')');
    out
}

/// `AvdDevice(hostname=<repr>, serial_number=<repr or None>, system_mac_address=None)`.
pub fn avd_device_repr(hostname: &str, serial_number: Option<&str>) -> String {
    format!(
        "AvdDevice(hostname={}, serial_number={}, system_mac_address=None)",
        repr_str(hostname),
        PyVal::opt_str(serial_number).repr()
    )
}

/// `CVDevice(avd_device=<AvdDevice>, serial_number=<repr>, system_mac_address=None, exists_on_cv=None, streaming=None)`.
pub fn cv_device_repr(hostname: &str, serial_number: Option<&str>) -> String {
    format!(
        "CVDevice(avd_device={}, serial_number={}, system_mac_address=None, exists_on_cv=None, streaming=None)",
        avd_device_repr(hostname, serial_number),
        PyVal::opt_str(serial_number).repr()
    )
}

/// Python `str()` of an optional string (`None` when absent), as f-strings
/// render it (`f"avd-{serial}"`).
pub fn py_str_opt(s: Option<&str>) -> String {
    s.unwrap_or("None").to_owned()
}
