//! A JSON parser that behaves like CPython 3.11's `json.loads` (the C scanner in
//! `Modules/_json.c`): same accepted language, same error messages, same error positions, and
//! the same value model where it matters for the reply (spec 2.2 step 4, 2.6, 14.10).
//!
//! Why our own: the replies quote Python's messages with `line L column C (char N)` positions
//! counted in characters, objects keep Python `dict` semantics for duplicate keys (first
//! position, last value), and integers are exact (their `repr()` appears in messages). A
//! general-purpose parser gets every one of these slightly differently.
//!
//! Departures, each reported in the usual `JSONDecodeError: <what>: line L column C (char N)`
//! frame: `NaN`, `Infinity` and `-Infinity` are not numbers (spec 14.10: `Expecting value`);
//! a `\uXXXX` escape that leaves a lone surrogate cannot be held in a Rust string (reported
//! only when Python would have accepted the document, so Python's own errors keep priority);
//! nesting deeper than [`MAX_DEPTH`] is refused so that nothing downstream recurses deeply.
//! Python 3.11's limit of 4300 digits for integers is kept, with its `ValueError` text.
//!
//! The parser is iterative (an explicit stack of open containers) so that a hostile body can
//! not exhaust the guest's small call stack. Strings without escapes borrow from the text:
//! the guest parses its schema and the request on every call, and a configlet may be
//! megabytes long, so copies are avoided where they are free to avoid.

use std::borrow::Cow;
use std::collections::HashMap;

/// A JSON value after `json.loads`, borrowing from the parsed text where it can.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// An integer, as its canonical decimal text (Python integers are exact).
    Int(&'a str),
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    /// Members in document order; a repeated key kept its first position and its last value.
    Object(Vec<Member<'a>>),
}

/// An object member: key and value.
pub type Member<'a> = (Cow<'a, str>, Value<'a>);

impl<'a> Value<'a> {
    /// The members of an object.
    pub fn as_object(&self) -> Option<&[Member<'a>]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }
}

/// The value of `key` in an object's members.
pub fn member<'v, 'a>(members: &'v [Member<'a>], key: &str) -> Option<&'v Value<'a>> {
    members
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

/// Containers nested deeper than this are refused. A valid request nests 4 levels; Python
/// itself gives up near 1000 (RecursionError).
pub const MAX_DEPTH: usize = 256;

/// Python 3.11's `sys.get_int_max_str_digits()` default.
const MAX_INT_DIGITS: usize = 4300;

/// Beyond this many members an object gets a hash index for duplicate detection, so that a
/// body with millions of keys stays linear.
const INDEX_THRESHOLD: usize = 16;

/// Parses `text` like `json.loads`. The error is the complete reply text, e.g.
/// `JSONDecodeError: Expecting value: line 1 column 1 (char 0)`.
pub fn parse(text: &str) -> Result<Value<'_>, String> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        first_lone_surrogate: None,
    };
    parser.document().map_err(|error| error.render(text))
}

/// An error before rendering; positions are byte offsets into the text.
enum Error {
    Decode { message: &'static str, at: usize },
    IntTooLong { digits: usize },
}

impl Error {
    fn render(self, text: &str) -> String {
        match self {
            Error::Decode { message, at } => {
                let before = &text[..at];
                let char_index = before.chars().count();
                let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
                // Python: `pos - doc.rfind('\n', 0, pos)`, in characters.
                let column = match before.rfind('\n') {
                    Some(newline) => before[newline..].chars().count(),
                    None => char_index + 1,
                };
                format!(
                    "JSONDecodeError: {message}: line {line} column {column} (char {char_index})"
                )
            }
            Error::IntTooLong { digits } => format!(
                "ValueError: Exceeds the limit ({MAX_INT_DIGITS} digits) for integer string \
                 conversion: value has {digits} digits; use sys.set_int_max_str_digits() to \
                 increase the limit"
            ),
        }
    }
}

fn decode_error(message: &'static str, at: usize) -> Error {
    Error::Decode { message, at }
}

const EXPECTING_VALUE: &str = "Expecting value";
const EXPECTING_NAME: &str = "Expecting property name enclosed in double quotes";
const EXPECTING_COMMA: &str = "Expecting ',' delimiter";
const EXPECTING_COLON: &str = "Expecting ':' delimiter";

/// An open container while its members are being read.
enum Frame<'a> {
    Array(Vec<Value<'a>>),
    /// The members so far and the key whose value is being read.
    Object(ObjectBuilder<'a>, Cow<'a, str>),
}

/// Object members with Python `dict` assignment semantics.
#[derive(Default)]
struct ObjectBuilder<'a> {
    members: Vec<Member<'a>>,
    index: Option<HashMap<Cow<'a, str>, usize>>,
}

impl<'a> ObjectBuilder<'a> {
    fn insert(&mut self, key: Cow<'a, str>, value: Value<'a>) {
        let existing = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self.members.iter().position(|(name, _)| *name == key),
        };
        if let Some(position) = existing {
            self.members[position].1 = value;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.members.len());
        }
        self.members.push((key, value));
        if self.index.is_none() && self.members.len() > INDEX_THRESHOLD {
            let index = self
                .members
                .iter()
                .enumerate()
                .map(|(position, (name, _))| (name.clone(), position))
                .collect();
            self.index = Some(index);
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Where the first `\uXXXX` escape leaving a lone surrogate starts (its backslash).
    first_lone_surrogate: Option<usize>,
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Skips eight bytes at a time while none of them is `"`, `\\` or a control character, so
/// that multi-megabyte strings (configlets) are scanned quickly; the byte loop finishes.
fn skip_plain_words(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // `(x - ONES * n) & !x & HIGH` is non-zero exactly when some byte of x is below n.
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGH;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
        if control
            | has_zero(word ^ (ONES * u64::from(b'"')))
            | has_zero(word ^ (ONES * u64::from(b'\\')))
            != 0
        {
            break;
        }
        at += 8;
    }
    at
}

fn hex_value(byte: u8) -> Option<u32> {
    char::from(byte).to_digit(16)
}

impl<'a> Parser<'a> {
    fn skip_whitespace(&self, mut at: usize) -> usize {
        while self.bytes.get(at).copied().is_some_and(is_whitespace) {
            at += 1;
        }
        at
    }

    fn document(&mut self) -> Result<Value<'a>, Error> {
        if self.text.starts_with('\u{feff}') {
            return Err(decode_error(
                "Unexpected UTF-8 BOM (decode using utf-8-sig)",
                0,
            ));
        }
        let start = self.skip_whitespace(0);
        let (value, end) = self.value(start)?;
        let end = self.skip_whitespace(end);
        if end != self.bytes.len() {
            return Err(decode_error("Extra data", end));
        }
        if let Some(at) = self.first_lone_surrogate {
            return Err(decode_error("Lone surrogate in \\uXXXX escape", at));
        }
        Ok(value)
    }

    /// Reads the value starting at `at` (whitespace already skipped); returns it and the
    /// offset just after it.
    fn value(&mut self, mut at: usize) -> Result<(Value<'a>, usize), Error> {
        let mut stack: Vec<Frame<'a>> = Vec::new();
        'value: loop {
            // Read one value, or open a container and go read its first member.
            let (mut value, mut end) = match self.bytes.get(at) {
                Some(b'{') | Some(b'[') if stack.len() >= MAX_DEPTH => {
                    return Err(decode_error("Nesting deeper than 256 levels", at));
                }
                Some(b'{') => {
                    let inner = self.skip_whitespace(at + 1);
                    if self.bytes.get(inner) == Some(&b'}') {
                        (Value::Object(Vec::new()), inner + 1)
                    } else {
                        let (key, next) = self.member_key(inner)?;
                        stack.push(Frame::Object(ObjectBuilder::default(), key));
                        at = next;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    let inner = self.skip_whitespace(at + 1);
                    if self.bytes.get(inner) == Some(&b']') {
                        (Value::Array(Vec::new()), inner + 1)
                    } else {
                        stack.push(Frame::Array(Vec::new()));
                        at = inner;
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    let (text, next) = self.string(at)?;
                    (Value::Str(text), next)
                }
                Some(b'n') if self.bytes[at..].starts_with(b"null") => (Value::Null, at + 4),
                Some(b't') if self.bytes[at..].starts_with(b"true") => (Value::Bool(true), at + 4),
                Some(b'f') if self.bytes[at..].starts_with(b"false") => {
                    (Value::Bool(false), at + 5)
                }
                // Everything else is a number or nothing (NaN and Infinity included).
                _ => self.number(at)?,
            };
            // Hand the finished value to its container; close containers as they end.
            loop {
                let after = self.skip_whitespace(end);
                let closing = match stack.last_mut() {
                    None => return Ok((value, end)),
                    Some(Frame::Array(items)) => {
                        items.push(value);
                        b']'
                    }
                    Some(Frame::Object(members, key)) => {
                        members.insert(std::mem::take(key), value);
                        b'}'
                    }
                };
                match self.bytes.get(after) {
                    Some(&byte) if byte == closing => {
                        value = match stack.pop() {
                            Some(Frame::Array(items)) => Value::Array(items),
                            Some(Frame::Object(members, _)) => Value::Object(members.members),
                            None => Value::Null,
                        };
                        end = after + 1;
                    }
                    Some(b',') => {
                        let inner = self.skip_whitespace(after + 1);
                        if let Some(Frame::Object(_, key)) = stack.last_mut() {
                            let (next_key, next) = self.member_key(inner)?;
                            *key = next_key;
                            at = next;
                        } else {
                            at = inner;
                        }
                        continue 'value;
                    }
                    _ => return Err(decode_error(EXPECTING_COMMA, after)),
                }
            }
        }
    }

    /// Reads `"key" :` at `at`; returns the key and where its value starts.
    fn member_key(&mut self, at: usize) -> Result<(Cow<'a, str>, usize), Error> {
        if self.bytes.get(at) != Some(&b'"') {
            return Err(decode_error(EXPECTING_NAME, at));
        }
        let (key, end) = self.string(at)?;
        let colon = self.skip_whitespace(end);
        if self.bytes.get(colon) != Some(&b':') {
            return Err(decode_error(EXPECTING_COLON, colon));
        }
        Ok((key, self.skip_whitespace(colon + 1)))
    }

    /// Four hex digits at `at`, if they are all there.
    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        digits
            .iter()
            .try_fold(0, |sum, &digit| Some(sum * 16 + hex_value(digit)?))
    }

    /// Reads the string whose opening quote is at `quote` (strict mode: no raw control
    /// characters); returns it and the offset after the closing quote.
    fn string(&mut self, quote: usize) -> Result<(Cow<'a, str>, usize), Error> {
        let bytes = self.bytes;
        let text: &'a str = self.text;
        let mut out = String::new();
        let mut at = quote + 1;
        loop {
            // Multi-byte UTF-8 sequences never contain these bytes, so a byte scan is safe.
            let chunk = at;
            at = skip_plain_words(bytes, at);
            loop {
                match bytes.get(at) {
                    None => return Err(decode_error("Unterminated string starting at", quote)),
                    Some(b'"') | Some(b'\\') => break,
                    Some(&byte) if byte < 0x20 => {
                        return Err(decode_error("Invalid control character at", at));
                    }
                    Some(_) => at += 1,
                }
            }
            if bytes[at] == b'"' {
                // No escape so far: borrow the whole string.
                let value = if out.is_empty() && chunk == quote + 1 {
                    Cow::Borrowed(&text[chunk..at])
                } else {
                    out.push_str(&text[chunk..at]);
                    Cow::Owned(out)
                };
                return Ok((value, at + 1));
            }
            out.push_str(&text[chunk..at]);
            let backslash = at;
            let Some(&escape) = bytes.get(backslash + 1) else {
                return Err(decode_error("Unterminated string starting at", quote));
            };
            at = backslash + 2;
            let decoded = match escape {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    // CPython also insists on at least one character after the four digits.
                    let code = self
                        .hex4(at)
                        .filter(|_| bytes.len() > at + 4)
                        .ok_or_else(|| decode_error("Invalid \\uXXXX escape", backslash + 1))?;
                    at += 4;
                    self.code_point(code, backslash, &mut at)
                }
                _ => return Err(decode_error("Invalid \\escape", backslash)),
            };
            out.push(decoded);
        }
    }

    /// The character of a `\uXXXX` escape whose digits end at `*at`, joining a following low
    /// surrogate escape the way CPython does (only with at least one character after it).
    fn code_point(&mut self, code: u32, backslash: usize, at: &mut usize) -> char {
        if (0xd800..0xdc00).contains(&code)
            && self.bytes.get(*at..*at + 2) == Some(b"\\u")
            && self.bytes.len() > *at + 6
            && let Some(low @ 0xdc00..=0xdfff) = self.hex4(*at + 2)
        {
            *at += 6;
            let joined = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            return char::from_u32(joined).unwrap_or(char::REPLACEMENT_CHARACTER);
        }
        char::from_u32(code).unwrap_or_else(|| {
            self.first_lone_surrogate.get_or_insert(backslash);
            char::REPLACEMENT_CHARACTER
        })
    }

    /// A number at `at`, following the C scanner's `_match_number_unicode` exactly, including
    /// where it stops (`1.e5` is `1` then extra data, `1.5e` is `1.5` then extra data).
    fn number(&self, start: usize) -> Result<(Value<'a>, usize), Error> {
        let bytes = self.bytes;
        let digit_at = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
        let mut at = start;
        let negative = bytes.get(at) == Some(&b'-');
        if negative {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'1'..=b'9') => {
                at += 1;
                while digit_at(at) {
                    at += 1;
                }
            }
            Some(b'0') => at += 1,
            _ => return Err(decode_error(EXPECTING_VALUE, start)),
        }
        let mut is_float = false;
        if bytes.get(at) == Some(&b'.') && digit_at(at + 1) {
            is_float = true;
            at += 2;
            while digit_at(at) {
                at += 1;
            }
        }
        if matches!(bytes.get(at), Some(b'e') | Some(b'E')) && at + 1 < bytes.len() {
            let exponent = at;
            at += 1;
            if matches!(bytes.get(at), Some(b'-') | Some(b'+')) && at + 1 < bytes.len() {
                at += 1;
            }
            while digit_at(at) {
                at += 1;
            }
            if bytes[at - 1].is_ascii_digit() {
                is_float = true;
            } else {
                at = exponent;
            }
        }
        let literal: &'a str = &self.text[start..at];
        if is_float {
            // Rust's parser is correctly rounded like Python's `float()`; overflow gives inf.
            let value = literal.parse::<f64>().unwrap_or(f64::NAN);
            return Ok((Value::Float(value), at));
        }
        let digits = literal.len() - usize::from(negative);
        if digits > MAX_INT_DIGITS {
            return Err(Error::IntTooLong { digits });
        }
        let canonical = if literal == "-0" { "0" } else { literal };
        Ok((Value::Int(canonical), at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(text).unwrap_err()
    }

    fn object<'a>(members: &[(&'a str, Value<'a>)]) -> Value<'a> {
        Value::Object(
            members
                .iter()
                .map(|(key, value)| (Cow::Borrowed(*key), value.clone()))
                .collect(),
        )
    }

    fn int(text: &str) -> Value<'_> {
        Value::Int(text)
    }

    fn string(text: &str) -> Value<'_> {
        Value::Str(text.into())
    }

    #[test]
    fn values() {
        assert_eq!(parse(" null "), Ok(Value::Null));
        assert_eq!(parse("true"), Ok(Value::Bool(true)));
        assert_eq!(parse("false"), Ok(Value::Bool(false)));
        assert_eq!(parse("-0"), Ok(int("0")));
        assert_eq!(
            parse("123456789012345678901234567890"),
            Ok(int("123456789012345678901234567890"))
        );
        assert_eq!(parse("1.5"), Ok(Value::Float(1.5)));
        assert_eq!(parse("1E400"), Ok(Value::Float(f64::INFINITY)));
        assert_eq!(parse("-2e-3"), Ok(Value::Float(-0.002)));
        assert_eq!(parse("1e5"), Ok(Value::Float(100000.0)));
        assert_eq!(
            parse(r#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00é""#),
            Ok(string("a\"\\/\u{8}\u{c}\n\r\té😀é"))
        );
        assert_eq!(
            parse("[1, [], {}, \"x\"]"),
            Ok(Value::Array(vec![
                int("1"),
                Value::Array(vec![]),
                object(&[]),
                string("x")
            ]))
        );
        assert_eq!(parse("\"\u{7f}\""), Ok(string("\u{7f}")));
    }

    #[test]
    fn duplicate_keys_keep_first_position_and_last_value() {
        assert_eq!(
            parse(r#"{"a": 1, "b": 2, "a": 3}"#),
            Ok(object(&[("a", int("3")), ("b", int("2"))]))
        );
        // The same with the hash index in use.
        let mut text = String::from("{");
        for index in 0..40 {
            text.push_str(&format!("\"k{index}\": {index}, "));
        }
        text.push_str("\"k3\": \"last\"}");
        let Value::Object(members) = parse(&text).unwrap() else {
            panic!("object expected")
        };
        assert_eq!(members.len(), 40);
        assert_eq!(members[3], ("k3".into(), string("last")));
        assert_eq!(members[39], ("k39".into(), int("39")));
    }

    // Expected texts from CPython 3.11 `json.loads`.
    #[test]
    fn errors_match_python() {
        let cases = [
            ("", "Expecting value: line 1 column 1 (char 0)"),
            ("   ", "Expecting value: line 1 column 4 (char 3)"),
            ("\n\n  x", "Expecting value: line 3 column 3 (char 4)"),
            ("-", "Expecting value: line 1 column 1 (char 0)"),
            ("nul", "Expecting value: line 1 column 1 (char 0)"),
            ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
            ("[", "Expecting value: line 1 column 2 (char 1)"),
            ("{\"a\":\t}", "Expecting value: line 1 column 7 (char 6)"),
            (
                "{",
                "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            ),
            (
                "{\"a\":1,}",
                "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
            ),
            (
                "{'a': 1}",
                "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            ),
            (
                "{\"a\" 1}",
                "Expecting ':' delimiter: line 1 column 6 (char 5)",
            ),
            (
                "{\"a\"",
                "Expecting ':' delimiter: line 1 column 5 (char 4)",
            ),
            (
                "{\"a\":1 \"b\"}",
                "Expecting ',' delimiter: line 1 column 8 (char 7)",
            ),
            (
                "{\"a\":1",
                "Expecting ',' delimiter: line 1 column 7 (char 6)",
            ),
            ("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"),
            ("[01]", "Expecting ',' delimiter: line 1 column 3 (char 2)"),
            ("1 2", "Extra data: line 1 column 3 (char 2)"),
            ("01", "Extra data: line 1 column 2 (char 1)"),
            ("1.5e", "Extra data: line 1 column 4 (char 3)"),
            ("1.e5", "Extra data: line 1 column 2 (char 1)"),
            ("1e+", "Extra data: line 1 column 2 (char 1)"),
            ("{} x", "Extra data: line 1 column 4 (char 3)"),
            (
                "\"abc",
                "Unterminated string starting at: line 1 column 1 (char 0)",
            ),
            (
                "\"\\",
                "Unterminated string starting at: line 1 column 1 (char 0)",
            ),
            (
                "[\"é\n",
                "Invalid control character at: line 1 column 4 (char 3)",
            ),
            (
                "\"a\u{1}\"",
                "Invalid control character at: line 1 column 3 (char 2)",
            ),
            ("\"\\q\"", "Invalid \\escape: line 1 column 2 (char 1)"),
            (
                "\"\\ud800\\x\"",
                "Invalid \\escape: line 1 column 8 (char 7)",
            ),
            (
                "\"\\u12",
                "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
            ),
            (
                "\"\\u1234",
                "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
            ),
            (
                "\"\\u123x\"",
                "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
            ),
            (
                "\"\\ud800\\u12\"",
                "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
            ),
            (
                "\"\\ud800\\udc0\"",
                "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
            ),
            (
                "\"\\ud800\\udc00",
                "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
            ),
            (
                "\"é\\uéééé\"",
                "Invalid \\uXXXX escape: line 1 column 4 (char 3)",
            ),
            (
                "\u{feff}{}",
                "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
            ),
            ("NaN", "Expecting value: line 1 column 1 (char 0)"),
            ("[Infinity]", "Expecting value: line 1 column 2 (char 1)"),
            (
                "{\"a\": -Infinity}",
                "Expecting value: line 1 column 7 (char 6)",
            ),
            ("{\"é\": NaN}", "Expecting value: line 1 column 7 (char 6)"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                error(text),
                format!("JSONDecodeError: {expected}"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn lone_surrogates_are_refused_after_python_errors() {
        assert_eq!(
            error("[\"\\ud800\"]"),
            "JSONDecodeError: Lone surrogate in \\uXXXX escape: line 1 column 3 (char 2)"
        );
        assert_eq!(
            error("\"\\udc00x\\ud800\\u0041\""),
            "JSONDecodeError: Lone surrogate in \\uXXXX escape: line 1 column 2 (char 1)"
        );
        // Python accepts the surrogate and fails later; that error wins.
        assert_eq!(
            error("[\"\\ud800\" 1]"),
            "JSONDecodeError: Expecting ',' delimiter: line 1 column 11 (char 10)"
        );
    }

    #[test]
    fn integer_digit_limit_matches_python() {
        assert!(parse(&"9".repeat(4300)).is_ok());
        let expected = "ValueError: Exceeds the limit (4300 digits) for integer string conversion: \
                        value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit";
        assert_eq!(error(&format!("-{}", "1".repeat(4301))), expected);
        assert_eq!(error(&format!("[{}, x]", "1".repeat(4301))), expected);
        // Floats have no such limit.
        assert!(parse(&format!("{}.0", "1".repeat(5000))).is_ok());
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(100_000);
        assert_eq!(
            error(&deep),
            "JSONDecodeError: Nesting deeper than 256 levels: line 1 column 257 (char 256)"
        );
        let deep_objects = "{\"a\":".repeat(300);
        assert!(error(&deep_objects).contains("Nesting deeper than 256 levels"));
    }

    #[test]
    fn positions_count_characters_and_lines() {
        assert_eq!(
            error("{\n  \"é😀\": 1,\n  \"b\" 2}"),
            "JSONDecodeError: Expecting ':' delimiter: line 3 column 7 (char 19)"
        );
    }
}
