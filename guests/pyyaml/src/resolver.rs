//! YAML 1.1 implicit typing of plain scalars: PyYAML's `Resolver` regular
//! expressions, written out by hand. The loader uses it to type plain
//! scalars; the emitter uses it to decide whether a string may be written
//! plain (it may not when it would load back as something else).

/// The tag a plain scalar resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implicit {
    Null,
    Bool,
    Int,
    Float,
    /// `<<`
    Merge,
    Timestamp,
    /// `=`: PyYAML resolves it to `tag:yaml.org,2002:value`, which the safe
    /// constructor cannot build (outside a mapping key).
    ValueKey,
    /// `!`, `&` or `*` alone; cannot be written plain.
    YamlIndicator,
    Str,
}

impl Implicit {
    pub fn tag(self) -> &'static str {
        match self {
            Implicit::Null => "tag:yaml.org,2002:null",
            Implicit::Bool => "tag:yaml.org,2002:bool",
            Implicit::Int => "tag:yaml.org,2002:int",
            Implicit::Float => "tag:yaml.org,2002:float",
            Implicit::Merge => "tag:yaml.org,2002:merge",
            Implicit::Timestamp => "tag:yaml.org,2002:timestamp",
            Implicit::ValueKey => "tag:yaml.org,2002:value",
            Implicit::YamlIndicator => "tag:yaml.org,2002:yaml",
            Implicit::Str => "tag:yaml.org,2002:str",
        }
    }
}

/// Resolves a plain scalar. The order of the checks matters only where two
/// patterns overlap (PyYAML tries bool, float, int, merge, null, timestamp,
/// value, yaml in that order; `1:30.5` is a float, `1:30` an int).
pub fn resolve_plain(text: &str) -> Implicit {
    let b = text.as_bytes();
    if is_bool(text) {
        Implicit::Bool
    } else if is_float(b) {
        Implicit::Float
    } else if is_int(b) {
        Implicit::Int
    } else if text == "<<" {
        Implicit::Merge
    } else if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        Implicit::Null
    } else if is_timestamp(b) {
        Implicit::Timestamp
    } else if text == "=" {
        Implicit::ValueKey
    } else if matches!(text, "!" | "&" | "*") {
        Implicit::YamlIndicator
    } else {
        Implicit::Str
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

/// A tiny cursor for hand-written regular expressions.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8]) -> Self {
        Cursor { b, at: 0 }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }
    fn eat(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(c) if pred(c) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }
    fn eat_byte(&mut self, byte: u8) -> bool {
        self.eat(|c| c == byte)
    }
    /// Eats as many as match; returns how many.
    fn eat_many(&mut self, pred: impl Fn(u8) -> bool) -> usize {
        let start = self.at;
        while self.eat(&pred) {}
        self.at - start
    }
    fn done(&self) -> bool {
        self.at == self.b.len()
    }
    fn rest(&self) -> &'a [u8] {
        &self.b[self.at..]
    }
}

fn digit(c: u8) -> bool {
    c.is_ascii_digit()
}
fn digit_(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

/// `[eE][-+][0-9]+` or nothing, then the end.
fn exponent_then_end(cur: &mut Cursor) -> bool {
    if cur.eat(|c| c == b'e' || c == b'E') {
        if !cur.eat(|c| c == b'-' || c == b'+') {
            return false;
        }
        if cur.eat_many(digit) == 0 {
            return false;
        }
    }
    cur.done()
}

/// `(?::[0-5]?[0-9])+`; returns false when not even one group matched.
fn sexagesimal_groups(cur: &mut Cursor) -> bool {
    let mut groups = 0;
    loop {
        let save = cur.at;
        if !cur.eat_byte(b':') {
            break;
        }
        // [0-5]?[0-9]: one or two digits, the first of two at most 5.
        let rest = cur.rest();
        let two = rest.len() >= 2 && (b'0'..=b'5').contains(&rest[0]) && digit(rest[1]);
        if two {
            cur.at += 2;
        } else if cur.eat(digit) {
        } else {
            cur.at = save;
            break;
        }
        groups += 1;
    }
    groups > 0
}

/// PyYAML 6's float pattern:
/// `[-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?`
/// `| \.[0-9][0-9_]*([eE][-+][0-9]+)?`
/// `| [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`
/// `| [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)`
fn is_float(b: &[u8]) -> bool {
    if matches!(b, b".nan" | b".NaN" | b".NAN") {
        return true;
    }
    let unsigned = match b.first() {
        Some(b'-' | b'+') => &b[1..],
        _ => b,
    };
    if matches!(unsigned, b".inf" | b".Inf" | b".INF") {
        return true;
    }
    // Second alternative (no sign allowed).
    {
        let mut cur = Cursor::new(b);
        if cur.eat_byte(b'.') && cur.eat(digit) {
            cur.eat_many(digit_);
            if exponent_then_end(&mut cur) {
                return true;
            }
        }
    }
    // First alternative.
    {
        let mut cur = Cursor::new(unsigned);
        if cur.eat(digit) {
            cur.eat_many(digit_);
            if cur.eat_byte(b'.') {
                cur.eat_many(digit_);
                if exponent_then_end(&mut cur) {
                    return true;
                }
            }
        }
    }
    // Third alternative (sexagesimal). `[0-9_]*` before the groups is
    // greedy but cannot swallow ':' so no backtracking is needed.
    {
        let mut cur = Cursor::new(unsigned);
        if cur.eat(digit) {
            cur.eat_many(digit_);
            if sexagesimal_groups(&mut cur) && cur.eat_byte(b'.') {
                cur.eat_many(digit_);
                if cur.done() {
                    return true;
                }
            }
        }
    }
    false
}

/// PyYAML's int pattern:
/// `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*)`
/// `| [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`
fn is_int(b: &[u8]) -> bool {
    let unsigned = match b.first() {
        Some(b'-' | b'+') => &b[1..],
        _ => b,
    };
    let all = |s: &[u8], pred: fn(u8) -> bool| !s.is_empty() && s.iter().all(|c| pred(*c));
    if let Some(rest) = unsigned.strip_prefix(b"0b")
        && all(rest, |c| matches!(c, b'0' | b'1' | b'_'))
    {
        return true;
    }
    if let Some(rest) = unsigned.strip_prefix(b"0x")
        && all(rest, |c| c.is_ascii_hexdigit() || c == b'_')
    {
        return true;
    }
    if unsigned == b"0" {
        return true;
    }
    if let Some(rest) = unsigned.strip_prefix(b"0")
        && all(rest, |c| matches!(c, b'0'..=b'7' | b'_'))
    {
        return true;
    }
    let mut cur = Cursor::new(unsigned);
    if cur.eat(|c| (b'1'..=b'9').contains(&c)) {
        cur.eat_many(digit_);
        if cur.done() {
            return true;
        }
        if sexagesimal_groups(&mut cur) && cur.done() {
            return true;
        }
    }
    false
}

/// PyYAML's timestamp pattern: `YYYY-MM-DD`, or a date with one- or
/// two-digit month and day, then `T`/`t`/blanks, a time, optional fraction
/// and optional zone.
fn is_timestamp(b: &[u8]) -> bool {
    let mut cur = Cursor::new(b);
    for _ in 0..4 {
        if !cur.eat(digit) {
            return false;
        }
    }
    if !cur.eat_byte(b'-') {
        return false;
    }
    let month = cur.eat_many(digit);
    if !(1..=2).contains(&month) || !cur.eat_byte(b'-') {
        return false;
    }
    let day = cur.eat_many(digit);
    if !(1..=2).contains(&day) {
        return false;
    }
    if cur.done() {
        return month == 2 && day == 2;
    }
    // Date and time.
    let blanks = |c: u8| c == b' ' || c == b'\t';
    if !cur.eat(|c| c == b'T' || c == b't') && cur.eat_many(blanks) == 0 {
        return false;
    }
    let hour = cur.eat_many(digit);
    if !(1..=2).contains(&hour) {
        return false;
    }
    for _ in 0..2 {
        if !cur.eat_byte(b':') || cur.eat_many(digit) != 2 {
            return false;
        }
    }
    if cur.eat_byte(b'.') {
        cur.eat_many(digit);
    }
    if cur.done() {
        return true;
    }
    cur.eat_many(blanks);
    if cur.eat_byte(b'Z') {
        return cur.done();
    }
    if !cur.eat(|c| c == b'-' || c == b'+') {
        return false;
    }
    let zone_hour = cur.eat_many(digit);
    if !(1..=2).contains(&zone_hour) {
        return false;
    }
    if cur.eat_byte(b':') && cur.eat_many(digit) != 2 {
        return false;
    }
    cur.done()
}
