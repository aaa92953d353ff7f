//! Turning one scalar (its text, whether it was plain, and its tag) into a value, with the
//! typing of PyYAML 3.12's `SafeConstructor` (spec 8.2).
//!
//! Where PyYAML would fail with a Python exception rather than a YAML error (`!!int abc`,
//! `2020-02-30`), the file is refused all the same. A few bizarre inputs that only an explicit
//! tag can produce (`!!int " 12"`, `!!int 0o17`), which Python's lenient `int()` would accept,
//! are refused as well: they never belong in an instance file.

use super::integer::Integer;
use super::resolve::{PlainType, resolve_plain};
use super::timestamp;
use super::value::Value;
use crate::base64;

/// The YAML 1.1 tag namespace of `!!` (PyYAML's `tag:yaml.org,2002:`).
pub const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// The non-specific tag `!`: PyYAML resolves such a scalar like a plain one, quoted or not.
pub const NON_SPECIFIC_TAG: &str = "!";

/// A constructed scalar. The merge key `<<` and the value key `=` only mean something as keys
/// of a mapping; anywhere else PyYAML has no constructor for them.
#[derive(Clone, Debug)]
pub enum Item {
    Value(Value),
    MergeKey,
    ValueKey,
}

pub fn construct(text: &str, plain: bool, tag: Option<&str>) -> Result<Item, String> {
    let resolved = match tag {
        None if plain => resolve_plain(text),
        None => PlainType::Str,
        Some(NON_SPECIFIC_TAG) => resolve_plain(text),
        Some(tag) => return construct_tagged(text, tag).map(Item::Value),
    };
    let value = match resolved {
        PlainType::Merge => return Ok(Item::MergeKey),
        PlainType::Value => return Ok(Item::ValueKey),
        PlainType::Yaml => return Err(no_constructor(&format!("{CORE_TAG_PREFIX}yaml"))),
        PlainType::Bool => Value::Bool(construct_bool(text)?),
        PlainType::Float => Value::Float(construct_float(text)?, text.into()),
        PlainType::Int => Value::Int(construct_int(text)?),
        PlainType::Null => Value::Null,
        PlainType::Timestamp => Value::Timestamp(timestamp::construct(text)?),
        PlainType::Str => Value::Str(text.into()),
    };
    Ok(Item::Value(value))
}

/// PyYAML's wording, so the message is searchable.
pub fn no_constructor(tag: &str) -> String {
    format!("could not determine a constructor for the tag '{tag}'")
}

fn construct_tagged(text: &str, tag: &str) -> Result<Value, String> {
    let Some(name) = tag.strip_prefix(CORE_TAG_PREFIX) else {
        return Err(no_constructor(tag));
    };
    Ok(match name {
        "str" => Value::Str(text.into()),
        "int" => Value::Int(construct_int(text)?),
        "float" => Value::Float(construct_float(text)?, text.into()),
        "bool" => Value::Bool(construct_bool(text)?),
        "null" => Value::Null,
        "binary" => Value::Binary(construct_binary(text)?.into()),
        "timestamp" => Value::Timestamp(timestamp::construct(text)?),
        "map" | "seq" => {
            let kind = if name == "map" { "mapping" } else { "sequence" };
            return Err(format!("expected a {kind} node, but found scalar"));
        }
        _ => return Err(no_constructor(tag)),
    })
}

fn construct_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(true),
        "no" | "false" | "off" => Ok(false),
        _ => Err(format!("'{text}' is not a bool")),
    }
}

/// Splits an optional sign off text from which `_` was removed; `true` for a minus.
fn split_sign(cleaned: &str) -> (bool, &str) {
    match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned),
    }
}

/// `construct_yaml_int`: underscores dropped, `0b`/`0x` prefixes, a leading `0` for octal,
/// `:` for base 60, arbitrary size.
fn construct_int(text: &str) -> Result<Integer, String> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = split_sign(&cleaned);
    let integer = if digits == "0" {
        Some(Integer::small(0))
    } else if let Some(binary) = digits.strip_prefix("0b") {
        Integer::parse(negative, binary, 2)
    } else if let Some(hex) = digits.strip_prefix("0x") {
        Integer::parse(negative, hex, 16)
    } else if digits.starts_with('0') {
        Integer::parse(negative, digits, 8)
    } else if digits.contains(':') {
        Integer::parse_sexagesimal(negative, digits)
    } else {
        Integer::parse(negative, digits, 10)
    };
    integer.ok_or_else(|| format!("'{text}' is not an integer (or too long to convert)"))
}

/// `construct_yaml_float`: underscores dropped, case ignored, `.inf`/`.nan`, `:` for base 60.
fn construct_float(text: &str) -> Result<f64, String> {
    let invalid = || format!("'{text}' is not a float");
    if !text.is_ascii() {
        return Err(invalid());
    }
    let cleaned: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let (negative, rest) = split_sign(&cleaned);
    let magnitude = match rest {
        ".inf" => f64::INFINITY,
        ".nan" => f64::NAN,
        _ if rest.contains(':') => {
            // Summed from the last part up, in PyYAML's order (rounding included).
            let (mut total, mut base) = (0.0, 1.0);
            for part in rest.rsplit(':') {
                total += python_float(part).ok_or_else(invalid)? * base;
                base *= 60.0;
            }
            total
        }
        _ => python_float(rest).ok_or_else(invalid)?,
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// Python's `float(str)` for the ASCII forms it shares with Rust's parser.
fn python_float(text: &str) -> Option<f64> {
    // Rust accepts a second sign after ours ("-+1"); Python does too, so no special case.
    text.parse().ok()
}

/// `construct_yaml_binary`: ASCII text, then Python's lenient base64.
fn construct_binary(text: &str) -> Result<Vec<u8>, String> {
    if !text.is_ascii() {
        return Err("failed to convert base64 data into ascii".into());
    }
    base64::decode_like_python(text.as_bytes())
        .ok_or_else(|| "failed to decode base64 data: Incorrect padding".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, plain: bool, tag: Option<&str>) -> Value {
        match construct(text, plain, tag) {
            Ok(Item::Value(value)) => value,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn int(text: &str) -> String {
        match value(text, true, None) {
            Value::Int(i) => i.to_string(),
            other => panic!("{text:?} is {other:?}"),
        }
    }

    fn float(text: &str) -> f64 {
        match value(text, true, None) {
            Value::Float(f, _) => f,
            other => panic!("{text:?} is {other:?}"),
        }
    }

    #[test]
    fn integers() {
        assert_eq!(int("010"), "8");
        assert_eq!(int("0x1A"), "26");
        assert_eq!(int("-0x_1f"), "-31");
        assert_eq!(int("1_000"), "1000");
        assert_eq!(int("190:20:30"), "685230");
        assert_eq!(int("-1:30"), "-90");
        assert_eq!(int("0b1010"), "10");
        assert_eq!(int("+0"), "0");
        assert_eq!(int("-0"), "0");
        assert_eq!(int("0_"), "0");
        assert_eq!(int("00"), "0");
        assert_eq!(
            int("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(
            int("0x123456789abcdef0123456789abcdef"),
            "1512366075204170929049582354406559215"
        );
        // Matched by the resolver, but Python's int('', 2) fails.
        assert!(construct("0b_", true, None).is_err());
        assert!(construct("0x_", true, None).is_err());
    }

    #[test]
    fn floats() {
        assert_eq!(float("1.0e+3"), 1000.0);
        assert_eq!(float("1_0.5"), 10.5);
        assert_eq!(float("-.inf"), f64::NEG_INFINITY);
        assert!(float(".NaN").is_nan());
        assert_eq!(float("1:30.5"), 90.5);
        assert_eq!(float(".5"), 0.5);
        assert_eq!(float("1."), 1.0);
    }

    #[test]
    fn quoted_and_block_scalars_are_strings() {
        assert!(matches!(value("yes", false, None), Value::Str(s) if &*s == "yes"));
        assert!(matches!(value("010", false, None), Value::Str(s) if &*s == "010"));
        assert!(matches!(value("", false, None), Value::Str(s) if s.is_empty()));
    }

    #[test]
    fn non_specific_tag_resolves_even_quoted() {
        assert!(matches!(value("12", false, Some("!")), Value::Int(_)));
        assert!(matches!(value("x", false, Some("!")), Value::Str(_)));
    }

    #[test]
    fn explicit_tags() {
        let tag = |name: &str| format!("{CORE_TAG_PREFIX}{name}");
        assert!(matches!(value("12", true, Some(&tag("str"))), Value::Str(s) if &*s == "12"));
        assert!(
            matches!(value("12", false, Some(&tag("int"))), Value::Int(i) if i.as_str() == "12")
        );
        assert!(matches!(value("1", true, Some(&tag("float"))), Value::Float(f, _) if f == 1.0));
        assert!(matches!(
            value("TrUe", true, Some(&tag("bool"))),
            Value::Bool(true)
        ));
        assert!(matches!(
            value("anything", true, Some(&tag("null"))),
            Value::Null
        ));
        assert!(
            matches!(value("aGk=\n", true, Some(&tag("binary"))), Value::Binary(b) if &*b == b"hi")
        );
        assert!(matches!(
            value("2020-1-2", true, Some(&tag("timestamp"))),
            Value::Timestamp(_)
        ));
        for (text, name) in [
            ("abc", "int"),
            ("x", "float"),
            ("maybe", "bool"),
            ("a", "binary"),
            ("x", "timestamp"),
            ("x", "map"),
            ("x", "seq"),
            ("x", "omap"),
            ("x", "set"),
            ("x", "python/none"),
        ] {
            assert!(
                construct(text, true, Some(&tag(name))).is_err(),
                "!!{name} {text}"
            );
        }
        assert!(construct("x", true, Some("!local")).is_err());
        assert!(construct("!", true, None).is_err());
    }

    #[test]
    fn merge_and_value_keys() {
        assert!(matches!(construct("<<", true, None), Ok(Item::MergeKey)));
        assert!(matches!(construct("=", true, None), Ok(Item::ValueKey)));
        assert!(matches!(
            construct("<<", false, None),
            Ok(Item::Value(Value::Str(_)))
        ));
    }
}
