//! Python's `repr()` of `json.loads` values, as quoted in the schema messages (spec 2.4) and
//! in the `cv_server` error (spec 15, item 2).
//!
//! Rules (CPython `unicode_repr`, `float_repr`): strings take single quotes unless they contain
//! `'` and no `"`; backslash, the chosen quote, `\t`, `\n`, `\r` are escaped; other ASCII
//! control characters and DEL become `\xNN`; non-ASCII characters stay as they are when
//! `str.isprintable()` says so, else `\xNN`, `\uNNNN` or `\UNNNNNNNN`. Floats use the shortest
//! round-trip digits, in positional notation when the decimal exponent is in -4..16.

use crate::json::{Member, Value};
use crate::unicode;
use std::fmt::Write;

/// `repr(value)`.
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(value, &mut out);
    out
}

/// `repr(text)` for a string.
pub fn repr_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_str(text, &mut out);
    out
}

/// A container being written, with its remaining members.
enum Open<'v, 'a> {
    Array(std::slice::Iter<'v, Value<'a>>, bool),
    Object(std::slice::Iter<'v, Member<'a>>, bool),
}

/// Appends `repr(value)`. Iterative, so a deeply nested value costs heap, not call stack.
pub fn write_repr(value: &Value, out: &mut String) {
    let mut stack: Vec<Open> = Vec::new();
    let mut pending = Some(value);
    loop {
        if let Some(value) = pending.take() {
            match value {
                Value::Null => out.push_str("None"),
                Value::Bool(true) => out.push_str("True"),
                Value::Bool(false) => out.push_str("False"),
                Value::Int(digits) => out.push_str(digits),
                Value::Float(number) => write_float(*number, out),
                Value::Str(text) => write_str(text, out),
                Value::Array(items) => {
                    out.push('[');
                    stack.push(Open::Array(items.iter(), true));
                }
                Value::Object(members) => {
                    out.push('{');
                    stack.push(Open::Object(members.iter(), true));
                }
            }
        }
        match stack.last_mut() {
            None => return,
            Some(Open::Array(items, first)) => match items.next() {
                Some(item) => {
                    if !std::mem::replace(first, false) {
                        out.push_str(", ");
                    }
                    pending = Some(item);
                }
                None => {
                    out.push(']');
                    stack.pop();
                }
            },
            Some(Open::Object(members, first)) => match members.next() {
                Some((key, item)) => {
                    if !std::mem::replace(first, false) {
                        out.push_str(", ");
                    }
                    write_str(key, out);
                    out.push_str(": ");
                    pending = Some(item);
                }
                None => {
                    out.push('}');
                    stack.pop();
                }
            },
        }
    }
}

/// Appends `repr(text)`.
pub fn write_str(text: &str, out: &mut String) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in text.chars() {
        let code = u32::from(c);
        match c {
            '\\' => out.push_str("\\\\"),
            _ if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if code < 0x20 || code == 0x7f => {
                let _ = write!(out, "\\x{code:02x}");
            }
            _ if code < 0x7f || unicode::is_printable(c) => out.push(c),
            _ if code <= 0xff => {
                let _ = write!(out, "\\x{code:02x}");
            }
            _ if code <= 0xffff => {
                let _ = write!(out, "\\u{code:04x}");
            }
            _ => {
                let _ = write!(out, "\\U{code:08x}");
            }
        }
    }
    out.push(quote);
}

/// `repr(float)`: `1.5`, `100000.0`, `1e+16`, `1e-05`, `inf`, `-0.0`.
pub fn write_float(number: f64, out: &mut String) {
    if number.is_nan() {
        out.push_str("nan");
        return;
    }
    if number.is_sign_negative() {
        out.push('-');
    }
    let number = number.abs();
    if number.is_infinite() {
        out.push_str("inf");
        return;
    }
    if number == 0.0 {
        out.push_str("0.0");
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr.
    let scientific = format!("{number:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    if let Some(even) = tie_to_even(number, &digits, exponent) {
        digits = even;
    }
    let count = digits.len() as i32;
    // Python's `decpt`: the value is 0.DIGITS times ten to the decpt.
    let decpt = exponent + 1;
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else if decpt >= count {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (decpt - count) as usize));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..decpt as usize]);
            out.push('.');
            out.push_str(&digits[decpt as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if count > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.abs());
    }
}

/// When the exact value lies exactly halfway between two shortest candidates, Python (David
/// Gay's `dtoa`, mode 0) takes the one with the even last digit; Rust's formatter rounds such
/// ties up (`-631533562696038.25` is `...038.2` in Python, `...038.3` in Rust). Returns the
/// even candidate's digits when it differs from `digits` and still reads back as `number`.
fn tie_to_even(number: f64, digits: &str, exponent: i32) -> Option<String> {
    // A double's exact decimal expansion has at most 767 significant digits.
    let exact = format!("{number:.770e}");
    let (mantissa, exact_exponent) = exact.split_once('e')?;
    if exact_exponent.parse::<i32>().ok()? != exponent {
        return None;
    }
    let exact_digits: Vec<u8> = mantissa.bytes().filter(|&b| b != b'.').collect();
    let count = digits.len();
    let (kept, rest) = exact_digits.split_at_checked(count)?;
    if rest.first() != Some(&b'5') || rest[1..].iter().any(|&b| b != b'0') {
        return None;
    }
    let mut candidate = kept.to_vec();
    if candidate.last()? % 2 == 1 {
        // Round up to the even neighbour; a carry out of the first digit changes the length.
        let mut index = candidate.len();
        loop {
            index = index.checked_sub(1)?;
            if candidate[index] == b'9' {
                candidate[index] = b'0';
            } else {
                candidate[index] += 1;
                break;
            }
        }
    }
    let candidate = String::from_utf8(candidate).ok()?;
    let text = format!("{}.{}e{exponent}", &candidate[..1], &candidate[1..]);
    (candidate != digits && text.parse::<f64>() == Ok(number)).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn float(number: f64) -> String {
        let mut out = String::new();
        write_float(number, &mut out);
        out
    }

    // Expected texts from CPython 3.11 `repr()`.
    #[test]
    fn floats() {
        let cases = [
            (1.5, "1.5"),
            (100000.0, "100000.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1.5e-7, "1.5e-07"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1e22, "1e+22"),
            (12.0, "12.0"),
            (-631_533_562_696_038.2, "-631533562696038.2"),
            (1_699_553_817_234_170.2, "1699553817234170.2"),
            (158_336_682_043_317.62, "158336682043317.62"),
        ];
        for (number, expected) in cases {
            assert_eq!(float(number), expected, "{number:e}");
        }
    }

    #[test]
    fn strings() {
        let cases = [
            ("abc", "'abc'"),
            ("", "''"),
            ("it's", "\"it's\""),
            ("it's \"x\"", "'it\\'s \"x\"'"),
            ("say \"hi\"", "'say \"hi\"'"),
            ("a\\b", "'a\\\\b'"),
            ("\t\n\r", "'\\t\\n\\r'"),
            ("\u{0}\u{1f}\u{7f}", "'\\x00\\x1f\\x7f'"),
            ("\u{1c}", "'\\x1c'"),
            ("é€😀", "'é€😀'"),
            ("\u{85}\u{a0}\u{ad}", "'\\x85\\xa0\\xad'"),
            ("\u{2028}\u{feff}\u{3000}", "'\\u2028\\ufeff\\u3000'"),
            ("\u{e0001}\u{10ffff}", "'\\U000e0001\\U0010ffff'"),
            ("\\S+", "'\\\\S+'"),
        ];
        for (text, expected) in cases {
            assert_eq!(repr_str(text), expected, "{text:?}");
        }
    }

    #[test]
    fn values() {
        let cases = [
            ("null", "None"),
            ("true", "True"),
            ("false", "False"),
            ("-12", "-12"),
            ("-0", "0"),
            ("1E2", "100.0"),
            ("{}", "{}"),
            ("[]", "[]"),
            ("{\"a\": [1, null]}", "{'a': [1, None]}"),
            (
                "{\"z\": 1, \"a\": {\"b\": [true, \"x\", 2.5, {}]}, \"z\": 3}",
                "{'z': 3, 'a': {'b': [True, 'x', 2.5, {}]}}",
            ),
            ("[[[\"it's\"]]]", "[[[\"it's\"]]]"),
        ];
        for (json, expected) in cases {
            assert_eq!(repr(&parse(json).unwrap()), expected, "{json}");
        }
    }

    #[test]
    fn deep_values_do_not_recurse() {
        let depth = crate::json::MAX_DEPTH;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(repr(&parse(&text).unwrap()), text);
    }
}
