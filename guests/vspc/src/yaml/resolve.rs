//! YAML 1.1 implicit typing of plain scalars, as PyYAML 3.12's resolver does it.
//!
//! The same table decides two things: what a plain scalar in an instance file means
//! (`yes` is a bool, `010` is 8), and whether a string may be written back plain in the
//! network-config output (the emitter quotes any string that would read back as something
//! else). The patterns are matched by hand over ASCII bytes; non-ASCII text is always a string.

/// The type a plain scalar resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainType {
    Bool,
    Float,
    Int,
    /// `<<`, the merge key.
    Merge,
    Null,
    Timestamp,
    /// `=`, the "value" key of YAML 1.1.
    Value,
    /// A lone `!`, `&` or `*`.
    Yaml,
    Str,
}

/// Resolves a plain scalar. The rules are tried in PyYAML's registration order, each only when
/// the first character is one of those it was registered for; the first whole-text match wins.
pub fn resolve_plain(text: &str) -> PlainType {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return PlainType::Null;
    };
    let may_be_number = matches!(first, b'-' | b'+' | b'0'..=b'9');
    if matches!(
        first,
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O'
    ) && is_bool(text)
    {
        return PlainType::Bool;
    }
    if (may_be_number || first == b'.') && is_float(bytes) {
        return PlainType::Float;
    }
    if may_be_number && is_int(bytes) {
        return PlainType::Int;
    }
    match text {
        "<<" => return PlainType::Merge,
        "~" | "null" | "Null" | "NULL" => return PlainType::Null,
        _ => {}
    }
    if first.is_ascii_digit() && crate::yaml::timestamp::is_implicit_timestamp(text) {
        return PlainType::Timestamp;
    }
    match text {
        "=" => PlainType::Value,
        "!" | "&" | "*" => PlainType::Yaml,
        _ => PlainType::Str,
    }
}

fn is_bool(text: &str) -> bool {
    matches!(
        text,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn strip_sign(bytes: &[u8]) -> &[u8] {
    match bytes.first() {
        Some(b'-' | b'+') => &bytes[1..],
        _ => bytes,
    }
}

/// Length of the longest prefix whose bytes all satisfy `accept`.
fn run(bytes: &[u8], accept: impl Fn(u8) -> bool) -> usize {
    bytes.iter().take_while(|&&b| accept(b)).count()
}

fn digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// `[eE][-+][0-9]+` or nothing, up to the end.
fn is_optional_exponent(bytes: &[u8]) -> bool {
    match bytes {
        [] => true,
        [b'e' | b'E', b'-' | b'+', digits @ ..] => {
            !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// One or more `:[0-5]?[0-9]` groups; returns what follows them, or `None` without a group.
/// Taking two digits whenever possible is safe: what follows a group is never a digit.
fn sexagesimal_groups(mut bytes: &[u8]) -> Option<&[u8]> {
    let mut groups = 0;
    while let [b':', rest @ ..] = bytes {
        bytes = match rest {
            [b'0'..=b'5', b'0'..=b'9', tail @ ..] => tail,
            [b'0'..=b'9', tail @ ..] => tail,
            _ => return None,
        };
        groups += 1;
    }
    (groups > 0).then_some(bytes)
}

/// PyYAML's float patterns:
/// `[-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?`, `\.[0-9_]+([eE][-+][0-9]+)?`,
/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`, `[-+]?\.(inf|Inf|INF)`, `\.(nan|NaN|NAN)`.
fn is_float(bytes: &[u8]) -> bool {
    let unsigned = strip_sign(bytes);
    if matches!(unsigned, b".inf" | b".Inf" | b".INF")
        || matches!(bytes, b".nan" | b".NaN" | b".NAN")
    {
        return true;
    }
    if let [b'.', fraction @ ..] = bytes {
        let digits = run(fraction, digit_or_underscore);
        return digits > 0 && is_optional_exponent(&fraction[digits..]);
    }
    if !unsigned.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let integer = 1 + run(&unsigned[1..], digit_or_underscore);
    let rest = &unsigned[integer..];
    if let [b'.', fraction @ ..] = rest {
        let digits = run(fraction, digit_or_underscore);
        return is_optional_exponent(&fraction[digits..]);
    }
    match sexagesimal_groups(rest) {
        Some([b'.', fraction @ ..]) => fraction.iter().all(|&b| digit_or_underscore(b)),
        _ => false,
    }
}

/// PyYAML's int patterns: `[-+]?0b[0-1_]+`, `[-+]?0[0-7_]+`, `[-+]?(0|[1-9][0-9_]*)`,
/// `[-+]?0x[0-9a-fA-F_]+`, `[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`.
fn is_int(bytes: &[u8]) -> bool {
    let unsigned = strip_sign(bytes);
    match unsigned {
        [b'0'] => true,
        [b'0', b'b', digits @ ..] => {
            !digits.is_empty() && digits.iter().all(|&b| matches!(b, b'0' | b'1' | b'_'))
        }
        [b'0', b'x', digits @ ..] => {
            !digits.is_empty() && digits.iter().all(|&b| b.is_ascii_hexdigit() || b == b'_')
        }
        [b'0', digits @ ..] => digits.iter().all(|&b| matches!(b, b'0'..=b'7' | b'_')),
        [b'1'..=b'9', rest @ ..] => {
            let integer = run(rest, digit_or_underscore);
            let tail = &rest[integer..];
            tail.is_empty() || sexagesimal_groups(tail).is_some_and(<[u8]>::is_empty)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::PlainType::*;
    use super::*;

    #[test]
    fn typing_notes_of_the_spec() {
        let cases = [
            ("y", Str),
            ("n", Str),
            ("1e3", Str),
            ("08", Str),
            ("09", Str),
            ("10.0.0.5", Str),
            ("010", Int),
            ("0x1A", Int),
            ("1_000", Int),
            ("190:20:30", Int),
            ("1.0e+3", Float),
            ("yes", Bool),
            ("No", Bool),
            ("off", Bool),
            ("ON", Bool),
            ("oN", Str),
            ("", Null),
            ("~", Null),
            ("null", Null),
            ("NULL", Null),
            ("nULL", Str),
            ("<<", Merge),
            ("=", Value),
            ("!", Yaml),
            ("2020-01-01", Timestamp),
            ("2020-1-1", Str),
            ("2001-12-14t21:59:43.10-05:00", Timestamp),
            ("2001-12-14 21:59:43.10 -5", Timestamp),
            ("2001-1-4 1:59:43", Timestamp),
            ("2001-12-14 21:59", Str),
        ];
        for (text, expected) in cases {
            assert_eq!(resolve_plain(text), expected, "{text:?}");
        }
    }

    #[test]
    fn floats() {
        for text in [
            "1.5",
            "-1.5",
            "+1.",
            "1_0.5_",
            ".5",
            ".5e+3",
            "1.5E-10",
            ".inf",
            "-.Inf",
            "+.INF",
            ".nan",
            ".NaN",
            "190:20:30.15",
            "1:2.",
            "0.",
            "00.5",
            // PyYAML 3.12 allows `\.[0-9_]+` (later versions need a digit first).
            "._",
            "._5",
        ] {
            assert_eq!(resolve_plain(text), Float, "{text:?}");
        }
        for text in [
            ".", "-.nan", "1.5e3", "1.5e+", ".e+3", "1:60.5", "inf", "1:2:", "+.5", "1.5.", "1e+3",
        ] {
            assert_ne!(resolve_plain(text), Float, "{text:?}");
        }
    }

    #[test]
    fn ints() {
        for text in [
            "0", "-0", "+0", "0b101", "-0b1_0", "0b_", "017", "0_", "0_7", "00", "12", "-1_2",
            "0x_", "0xFf", "-0x1A", "1:30", "1:5:9", "1_0:59",
        ] {
            assert_eq!(resolve_plain(text), Int, "{text:?}");
        }
        for text in [
            "08", "0b", "0b2", "0x", "0xg", "0:30", "1:60", "1:", "-", "+", "0o17", "0B1", "12a",
        ] {
            let resolved = resolve_plain(text);
            assert!(resolved != Int, "{text:?}");
        }
        // `1_0_` is an int too: underscores may trail in YAML 1.1.
        assert_eq!(resolve_plain("1_0_"), Int);
    }
}
