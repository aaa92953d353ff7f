//! The loaded document: Python-like values as PyYAML's `safe_load` would build them.
//!
//! Containers and strings are reference-counted so that an alias shares the anchored value
//! instead of copying it; a document's expanded size is bounded by the composer, its memory by
//! the file.

use super::integer::Integer;
use super::timestamp::Timestamp;
use core::fmt::{self, Write};
use std::rc::Rc;

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(Integer),
    /// The value, and the text it was written as (what messages show).
    Float(f64, Rc<str>),
    Str(Rc<str>),
    /// `!!binary`: Python `bytes`.
    Binary(Rc<[u8]>),
    Timestamp(Timestamp),
    Seq(Rc<[Value]>),
    Map(Rc<Mapping>),
}

/// A mapping with unique keys, in the order Python's `dict` would keep them (first insertion).
#[derive(Debug, Default)]
pub struct Mapping {
    pub entries: Vec<(Value, Value)>,
}

impl Mapping {
    /// The value of the string key `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(key, _)| matches!(key, Value::Str(text) if &**text == name))
            .map(|(_, value)| value)
    }
}

/// How Python's `==` (and so a `dict`) tells keys apart: `1`, `1.0` and `true` are one key,
/// `"1"` another. Sequences and mappings cannot be keys (they are unhashable).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyIdentity {
    Null,
    Number(Integer),
    /// A float that is not integral (the bits of the value; `-0.0` is the number 0).
    Float(u64),
    /// NaN never equals anything, itself included; each gets its own serial number.
    NotANumber(usize),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Timestamp(bool, i64),
}

impl Value {
    /// The identity of this value as a mapping key, or `None` when it is unhashable.
    pub fn key_identity(&self, nan_serial: &mut usize) -> Option<KeyIdentity> {
        Some(match self {
            Value::Null => KeyIdentity::Null,
            Value::Bool(b) => KeyIdentity::Number(Integer::small(u64::from(*b))),
            Value::Int(i) => KeyIdentity::Number(i.clone()),
            Value::Float(f, _) if f.is_nan() => {
                *nan_serial += 1;
                KeyIdentity::NotANumber(*nan_serial)
            }
            Value::Float(f, _) if f.fract() == 0.0 => match Integer::from_integral_f64(*f) {
                Some(integral) => KeyIdentity::Number(integral),
                None => KeyIdentity::Float(f.to_bits()),
            },
            Value::Float(f, _) => KeyIdentity::Float(f.to_bits()),
            Value::Str(s) => KeyIdentity::Str(s.clone()),
            Value::Binary(b) => KeyIdentity::Bytes(b.clone()),
            Value::Timestamp(t) => {
                let (is_datetime, instant) = t.identity();
                KeyIdentity::Timestamp(is_datetime, instant)
            }
            Value::Seq(_) | Value::Map(_) => return None,
        })
    }

    /// Python's type name, for messages.
    pub fn python_type(&self) -> &'static str {
        match self {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(..) => "float",
            Value::Str(_) => "str",
            Value::Binary(_) => "bytes",
            Value::Timestamp(t) if t.identity().0 => "datetime",
            Value::Timestamp(_) => "date",
            Value::Seq(_) => "list",
            Value::Map(_) => "dict",
        }
    }

    /// Python's `str(value)`, cut short for messages (values can be large).
    pub fn python_str(&self) -> String {
        let mut out = Bounded::new(MESSAGE_VALUE_LIMIT);
        let _ = match self {
            Value::Str(s) => out.write_str(s),
            Value::Timestamp(t) => write!(out, "{t}"),
            other => write_repr(&mut out, other),
        };
        out.finish()
    }
}

/// Longest value text put into a validation message.
const MESSAGE_VALUE_LIMIT: usize = 200;

/// A string that stops accepting text at a limit, so a huge or deeply shared value costs no more
/// than the limit to show.
struct Bounded {
    text: String,
    limit: usize,
    cut: bool,
}

impl Bounded {
    fn new(limit: usize) -> Self {
        Bounded {
            text: String::new(),
            limit,
            cut: false,
        }
    }

    fn finish(mut self) -> String {
        if self.cut {
            self.text.push_str("...");
        }
        self.text
    }
}

impl Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            if self.text.len() + ch.len_utf8() > self.limit {
                self.cut = true;
                // Failing stops the writers above from walking the rest of the value.
                return Err(fmt::Error);
            }
            self.text.push(ch);
        }
        Ok(())
    }
}

/// Python's `repr()` of a value, as it appears inside containers.
fn write_repr(out: &mut impl Write, value: &Value) -> fmt::Result {
    match value {
        Value::Null => out.write_str("None"),
        Value::Bool(true) => out.write_str("True"),
        Value::Bool(false) => out.write_str("False"),
        Value::Int(i) => write!(out, "{i}"),
        // Python would show its own repr (`1000.0` for `1e+3`); the text as written serves a
        // log message as well and needs no float formatting code in the component.
        Value::Float(_, text) => out.write_str(text),
        Value::Str(s) => write_str_repr(out, s),
        Value::Binary(bytes) => write_bytes_repr(out, bytes),
        Value::Timestamp(t) if t.identity().0 => write!(out, "datetime.datetime('{t}')"),
        Value::Timestamp(t) => write!(out, "datetime.date('{t}')"),
        Value::Seq(items) => {
            out.write_char('[')?;
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.write_str(", ")?;
                }
                write_repr(out, item)?;
            }
            out.write_char(']')
        }
        Value::Map(mapping) => {
            out.write_char('{')?;
            for (index, (key, item)) in mapping.entries.iter().enumerate() {
                if index > 0 {
                    out.write_str(", ")?;
                }
                write_repr(out, key)?;
                out.write_str(": ")?;
                write_repr(out, item)?;
            }
            out.write_char('}')
        }
    }
}

/// Python's `repr(str)`: single quotes unless the text holds `'` and no `"`.
pub fn python_str_repr(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let _ = write_str_repr(&mut out, text);
    out
}

fn write_str_repr(out: &mut impl Write, text: &str) -> fmt::Result {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.write_char(quote)?;
    for ch in text.chars() {
        match ch {
            '\\' => out.write_str("\\\\")?,
            '\t' => out.write_str("\\t")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            _ if ch == quote => write!(out, "\\{ch}")?,
            _ if is_python_printable(ch) => out.write_char(ch)?,
            _ if (ch as u32) < 0x100 => write!(out, "\\x{:02x}", ch as u32)?,
            _ if (ch as u32) < 0x10000 => write!(out, "\\u{:04x}", ch as u32)?,
            _ => write!(out, "\\U{:08x}", ch as u32)?,
        }
    }
    out.write_char(quote)
}

/// An approximation of Python's `str.isprintable()` that is exact for ASCII and for the
/// control, separator and format characters an instance file may plausibly hold.
fn is_python_printable(ch: char) -> bool {
    !matches!(ch as u32,
        0..=0x1F | 0x7F..=0xA0 | 0xAD | 0x1680 | 0x2000..=0x200F | 0x2028..=0x202F
        | 0x205F..=0x206F | 0x3000 | 0xD800..=0xDFFF | 0xFEFF | 0xFFF9..=0xFFFB)
}

fn write_bytes_repr(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.write_char('b')?;
    out.write_char(char::from(quote))?;
    for &b in bytes {
        match b {
            b'\\' => out.write_str("\\\\")?,
            b'\t' => out.write_str("\\t")?,
            b'\n' => out.write_str("\\n")?,
            b'\r' => out.write_str("\\r")?,
            _ if b == quote => write!(out, "\\{}", char::from(b))?,
            0x20..=0x7E => out.write_char(char::from(b))?,
            _ => write!(out, "\\x{b:02x}")?,
        }
    }
    out.write_char(char::from(quote))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_of_values_for_messages() {
        let map = Value::Map(Rc::new(Mapping {
            entries: vec![(Value::Str("x".into()), Value::Int(Integer::small(1)))],
        }));
        assert_eq!(map.python_str(), "{'x': 1}");
        let list =
            Value::Seq(vec![Value::Null, Value::Bool(true), Value::Str("it's".into())].into());
        assert_eq!(list.python_str(), "[None, True, \"it's\"]");
        assert_eq!(
            Value::Float(1.5, "1_5e-0_1".into()).python_str(),
            "1_5e-0_1"
        );
        assert_eq!(
            Value::Binary(b"a\x00'".to_vec().into()).python_str(),
            "b\"a\\x00'\""
        );
        assert_eq!(python_str_repr("a'b\"c\n"), "'a\\'b\"c\\n'");
        let long = Value::Seq(vec![Value::Str("x".repeat(500).into())].into());
        assert_eq!(long.python_str().len(), MESSAGE_VALUE_LIMIT + 3);
    }
}
