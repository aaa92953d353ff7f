//! CloudVision versions (spec 3): the pattern, the numeric comparison
//! (14.7) and what a version selects.

use std::cmp::Ordering;

/// The pattern pyavd's error message quotes.
pub const VERSION_PATTERN: &str = r"(\d{4}\.\d{1,2}\.\d{1,2}|CVaaS)";

/// A CloudVision version as the pre-flight reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CvVersion {
    /// `CVaaS`: counts as the newest version.
    Cvaas,
    OnPrem {
        year: u32,
        minor: u32,
        patch: u32,
        text: String,
    },
}

/// Parse a version that fully matches `(\d{4}\.\d{1,2}\.\d{1,2}|CVaaS)`
/// (ASCII digits); `None` when it does not.
pub fn parse_cv_version(v: &str) -> Option<CvVersion> {
    if v == "CVaaS" {
        return Some(CvVersion::Cvaas);
    }
    let mut parts = v.split('.');
    let (year, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let digits = |s: &str, lo: usize, hi: usize| {
        (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(year, 4, 4) && digits(minor, 1, 2) && digits(patch, 1, 2)) {
        return None;
    }
    Some(CvVersion::OnPrem {
        year: year.parse().ok()?,
        minor: minor.parse().ok()?,
        patch: patch.parse().ok()?,
        text: v.to_owned(),
    })
}

impl CvVersion {
    /// The text as CloudVision reported it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Cvaas => "CVaaS",
            Self::OnPrem { text, .. } => text,
        }
    }

    pub fn is_cvaas(&self) -> bool {
        matches!(self, Self::Cvaas)
    }

    /// Numeric comparison with an on-prem version; CVaaS is newer than all.
    pub fn cmp_numeric(&self, other: (u32, u32, u32)) -> Ordering {
        match self {
            Self::Cvaas => Ordering::Greater,
            Self::OnPrem {
                year, minor, patch, ..
            } => (*year, *minor, *patch).cmp(&other),
        }
    }

    /// Configlet and container writes need 2024.1.0 or newer.
    pub fn supports_deploy(&self) -> bool {
        self.cmp_numeric((2024, 1, 0)) != Ordering::Less
    }

    /// 2024.1.x writes configlets and containers with per-item `Set` calls.
    pub fn uses_per_item_set(&self) -> bool {
        self.supports_deploy() && self.cmp_numeric((2024, 2, 0)) == Ordering::Less
    }

    /// Workspace rebase needs 2026.2.0 or CVaaS.
    pub fn supports_rebase(&self) -> bool {
        self.cmp_numeric((2026, 2, 0)) != Ordering::Less
    }
}

/// `ValueError` text for a version that does not match the pattern.
pub fn invalid_version_message(v: &str) -> String {
    format!("Invalid CV Version '{v}'. The version must conform to the pattern '{VERSION_PATTERN}'")
}

/// `LookupError` text for a version too old for a call.
pub fn unsupported_version_message(v: &str) -> String {
    format!("Unsupported version of CloudVision: '{v}'.")
}

/// Why the pre-flight answer gave no usable version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerError {
    /// Not JSON, or JSON without `version` (D2).
    Unusable,
    /// `version` does not match the pattern: the `ValueError` text.
    InvalidVersion(String),
    /// Python would fail with a `TypeError` (a non-object answer, a
    /// non-string version): its message.
    TypeError(String),
}

/// pyavd's `CvVersion(response.json()["version"])` on the answer's body.
pub fn version_from_answer(body: &str) -> Result<CvVersion, AnswerError> {
    use crate::python::json::{self as pyjson, Json};
    let json = pyjson::loads(body).map_err(|_| AnswerError::Unusable)?;
    let version = match &json {
        Json::Object(_) => json.get("version").ok_or(AnswerError::Unusable)?,
        Json::Array(_) => {
            return Err(AnswerError::TypeError(
                "list indices must be integers or slices, not str".into(),
            ));
        }
        Json::Str(_) => {
            return Err(AnswerError::TypeError(
                "string indices must be integers, not 'str'".into(),
            ));
        }
        other => {
            return Err(AnswerError::TypeError(format!(
                "'{}' object is not subscriptable",
                other.py_type_name()
            )));
        }
    };
    match version {
        Json::Str(v) => parse_cv_version(v)
            .ok_or_else(|| AnswerError::InvalidVersion(invalid_version_message(v))),
        other => Err(AnswerError::TypeError(format!(
            "expected string or bytes-like object, got '{}'",
            other.py_type_name()
        ))),
    }
}
