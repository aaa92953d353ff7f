//! JSON with Python's semantics: `json.loads` (objects keep insertion order,
//! a duplicate key keeps its first position and takes the last value, `NaN`
//! and `Infinity` accepted, Python's error messages) and `json.dumps` with
//! its defaults (`", "` and `": "` separators, `ensure_ascii`). Used for
//! cvproxy's studio inputs, whose JSON pyavd reads and writes
//! (specs/cloudvision.md 6.2), and spiro's events and token caveats.

use std::fmt::Write as _;

/// Nesting deeper than this fails like Python's recursion limit would
/// (lower than Python's 1000, to stay well inside a task's stack).
const MAX_DEPTH: usize = 256;

/// Marks an object key that Python would hold as an `int` (set through a
/// numeric studio path element, see `studio_tree`). `get` by name never
/// matches it; `dumps` prints the digits, as `json.dumps` does for int keys.
pub const INT_KEY_MARK: char = '\u{0}';

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// An integer in canonical decimal form (Python ints are unbounded).
    Int(String),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    /// Entries in insertion order, keys unique.
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    /// `dict.get(key)` on an object; `None` for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Self::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `data[key] = value` on an object (existing keys keep their position).
    /// Does nothing on other values.
    pub fn set(&mut self, key: &str, value: Json) {
        if let Self::Object(entries) = self {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key.to_owned(), value)),
            }
        }
    }

    /// Python's type name (`dict`, `list`, `str`, `int`, `float`, `bool`, `NoneType`).
    pub fn py_type_name(&self) -> &'static str {
        match self {
            Self::Null => "NoneType",
            Self::Bool(_) => "bool",
            Self::Int(_) => "int",
            Self::Float(_) => "float",
            Self::Str(_) => "str",
            Self::Array(_) => "list",
            Self::Object(_) => "dict",
        }
    }

    /// Python's `type(value)` repr, e.g. `<class 'dict'>`.
    pub fn py_type_repr(&self) -> String {
        format!("<class '{}'>", self.py_type_name())
    }

    /// Python `repr()` of the value.
    pub fn py_repr(&self) -> String {
        match self {
            Self::Null => "None".to_owned(),
            Self::Bool(true) => "True".to_owned(),
            Self::Bool(false) => "False".to_owned(),
            Self::Int(i) => i.clone(),
            Self::Float(f) => float_repr(*f),
            Self::Str(s) => super::repr::repr_str(s),
            Self::Array(items) => {
                let inner: Vec<String> = items.iter().map(Self::py_repr).collect();
                format!("[{}]", inner.join(", "))
            }
            Self::Object(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", key_repr(k), v.py_repr()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }

    /// Python `str()` of the value: strings as they are, the rest as repr.
    pub fn py_str(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            other => other.py_repr(),
        }
    }

    /// Python `len()`; `None` for values without one.
    pub fn py_len(&self) -> Option<usize> {
        match self {
            Self::Str(s) => Some(s.chars().count()),
            Self::Array(a) => Some(a.len()),
            Self::Object(o) => Some(o.len()),
            _ => None,
        }
    }
}

fn key_repr(key: &str) -> String {
    match key.strip_prefix(INT_KEY_MARK) {
        Some(digits) => digits.to_owned(),
        None => super::repr::repr_str(key),
    }
}

/// Python's `repr(float)`: shortest round-trip digits, exponent form when
/// the decimal exponent is below -4 or at least 16.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `d[.ddd]e[-]x`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    // Python's decpt: value = 0.d1d2... * 10^decpt.
    let decpt = exp + 1;
    if !(-4 < decpt && decpt <= 16) {
        let mut m = digits[..1].to_owned();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    let n = digits.len() as i32;
    let body = if decpt <= 0 {
        format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
    } else if decpt >= n {
        format!("{}{}.0", digits, "0".repeat((decpt - n) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..decpt as usize],
            &digits[decpt as usize..]
        )
    };
    format!("{sign}{body}")
}

/// A `json.loads` failure: Python's message and the character position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub message: String,
    /// Character (code point) offset into the document.
    pub pos: usize,
    /// `msg: line L column C (char N)` as `str(JSONDecodeError)` prints it.
    pub text: String,
}

/// Python's `json.loads` of a text.
pub fn loads(text: &str) -> Result<Json, JsonError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser { s: &chars, i: 0 };
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.i != chars.len() {
        return Err(p.error("Extra data", p.i));
    }
    Ok(value)
}

struct Parser<'a> {
    s: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str, pos: usize) -> JsonError {
        let before = &self.s[..pos.min(self.s.len())];
        let line = before.iter().filter(|&&c| c == '\n').count() + 1;
        let col = match before.iter().rposition(|&c| c == '\n') {
            Some(nl) => pos - nl,
            None => pos + 1,
        };
        JsonError {
            message: message.to_owned(),
            pos,
            text: format!("{message}: line {line} column {col} (char {pos})"),
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.i += 1;
        }
    }

    fn starts_with(&self, lit: &str) -> bool {
        let n = lit.chars().count();
        self.s
            .get(self.i..self.i + n)
            .is_some_and(|window| window.iter().copied().eq(lit.chars()))
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError {
                message: "maximum recursion depth exceeded while decoding a JSON document".into(),
                pos: self.i,
                text: "maximum recursion depth exceeded while decoding a JSON document".into(),
            });
        }
        let start = self.i;
        match self.peek() {
            Some('"') => {
                self.i += 1;
                Ok(Json::Str(self.string(start)?))
            }
            Some('{') => {
                self.i += 1;
                self.object(depth)
            }
            Some('[') => {
                self.i += 1;
                self.array(depth)
            }
            Some('n') if self.starts_with("null") => {
                self.i += 4;
                Ok(Json::Null)
            }
            Some('t') if self.starts_with("true") => {
                self.i += 4;
                Ok(Json::Bool(true))
            }
            Some('f') if self.starts_with("false") => {
                self.i += 5;
                Ok(Json::Bool(false))
            }
            Some('N') if self.starts_with("NaN") => {
                self.i += 3;
                Ok(Json::Float(f64::NAN))
            }
            Some('I') if self.starts_with("Infinity") => {
                self.i += 8;
                Ok(Json::Float(f64::INFINITY))
            }
            Some('-') if self.starts_with("-Infinity") => {
                self.i += 9;
                Ok(Json::Float(f64::NEG_INFINITY))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(start),
            _ => Err(self.error("Expecting value", start)),
        }
    }

    /// `(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?`, as Python's scanner matches it.
    fn number(&mut self, start: usize) -> Result<Json, JsonError> {
        let mut j = self.i;
        if self.s.get(j) == Some(&'-') {
            j += 1;
        }
        match self.s.get(j) {
            Some('0') => j += 1,
            Some(c) if c.is_ascii_digit() => {
                while self.s.get(j).is_some_and(char::is_ascii_digit) {
                    j += 1;
                }
            }
            _ => return Err(self.error("Expecting value", start)),
        }
        let int_end = j;
        let mut is_float = false;
        if self.s.get(j) == Some(&'.') && self.s.get(j + 1).is_some_and(char::is_ascii_digit) {
            j += 1;
            while self.s.get(j).is_some_and(char::is_ascii_digit) {
                j += 1;
            }
            is_float = true;
        }
        if matches!(self.s.get(j), Some('e' | 'E')) {
            let mut k = j + 1;
            if matches!(self.s.get(k), Some('+' | '-')) {
                k += 1;
            }
            if self.s.get(k).is_some_and(char::is_ascii_digit) {
                while self.s.get(k).is_some_and(char::is_ascii_digit) {
                    k += 1;
                }
                j = k;
                is_float = true;
            }
        }
        let text: String = self.s[self.i..j].iter().collect();
        self.i = j;
        if is_float {
            return Ok(Json::Float(text.parse().unwrap_or(f64::NAN)));
        }
        let int_text: String = self.s[start..int_end].iter().collect();
        let (neg, digits) = match int_text.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, int_text.as_str()),
        };
        if digits == "0" || digits.is_empty() {
            return Ok(Json::Int("0".into()));
        }
        Ok(Json::Int(if neg {
            format!("-{digits}")
        } else {
            digits.to_owned()
        }))
    }

    /// After the opening quote at `start`.
    fn string(&mut self, start: usize) -> Result<String, JsonError> {
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("Unterminated string starting at", start));
            };
            match c {
                '"' => {
                    self.i += 1;
                    return Ok(out);
                }
                '\\' => {
                    let esc_pos = self.i;
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.error("Unterminated string starting at", start));
                    };
                    self.i += 1;
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let hi = self.hex4(esc_pos)?;
                            if (0xD800..0xDC00).contains(&hi) && self.starts_with("\\u") {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4(save)?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                                } else {
                                    // A lone high surrogate; Rust strings cannot hold it.
                                    out.push('\u{FFFD}');
                                    self.i = save;
                                }
                            } else {
                                out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
                            }
                        }
                        _ => return Err(self.error("Invalid \\escape", esc_pos)),
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error("Invalid control character at", self.i));
                }
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// Four hex digits after `\u`; `esc_pos` is the backslash.
    fn hex4(&mut self, esc_pos: usize) -> Result<u32, JsonError> {
        let digits: String = self
            .s
            .get(self.i..self.i + 4)
            .unwrap_or(&[])
            .iter()
            .collect();
        if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.error("Invalid \\uXXXX escape", esc_pos + 1));
        }
        self.i += 4;
        Ok(u32::from_str_radix(&digits, 16).unwrap_or(0xFFFD))
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        let mut entries: Vec<(String, Json)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.i += 1;
            return Ok(Json::Object(entries));
        }
        loop {
            if self.peek() != Some('"') {
                return Err(self.error("Expecting property name enclosed in double quotes", self.i));
            }
            let key_start = self.i;
            self.i += 1;
            let key = self.string(key_start)?;
            self.skip_ws();
            if self.peek() != Some(':') {
                return Err(self.error("Expecting ':' delimiter", self.i));
            }
            self.i += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
            self.skip_ws();
            match self.peek() {
                Some('}') => {
                    self.i += 1;
                    return Ok(Json::Object(entries));
                }
                Some(',') => {
                    self.i += 1;
                    self.skip_ws();
                }
                _ => return Err(self.error("Expecting ',' delimiter", self.i)),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                Some(',') => {
                    self.i += 1;
                    self.skip_ws();
                }
                _ => return Err(self.error("Expecting ',' delimiter", self.i)),
            }
        }
    }
}

/// Python's `json.dumps(value)` with default arguments.
pub fn dumps(value: &Json) -> String {
    let mut out = String::new();
    dump_into(value, &mut out);
    out
}

fn dump_into(value: &Json, out: &mut String) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Int(i) => out.push_str(i),
        Json::Float(f) => {
            if f.is_nan() {
                out.push_str("NaN");
            } else if f.is_infinite() {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" });
            } else {
                out.push_str(&float_repr(*f));
            }
        }
        Json::Str(s) => dump_str(s, out),
        Json::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                dump_into(item, out);
            }
            out.push(']');
        }
        Json::Object(entries) => {
            out.push('{');
            for (n, (k, v)) in entries.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                match k.strip_prefix(INT_KEY_MARK) {
                    Some(digits) => dump_str(digits, out),
                    None => dump_str(k, out),
                }
                out.push_str(": ");
                dump_into(v, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string with `ensure_ascii=True`.
pub fn dump_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (' '..='~').contains(&c) => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}
