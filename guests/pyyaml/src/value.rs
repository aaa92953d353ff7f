//! The loaded data, shaped like the Python objects PyYAML builds, and the
//! bits of Python semantics (equality, ordering, truthiness) that Salt's
//! behaviour depends on.

use std::cmp::Ordering;
use std::rc::Rc;

/// One loaded YAML value.
///
/// Collections sit behind `Rc` so that an alias is the *same* node as its
/// anchor, as in Python: expanding aliases would let a few hundred bytes of
/// "billion laughs" input grow without bound, and the dumper needs the
/// identity to write `&id001` / `*id001`.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    /// Python ints are unbounded; values outside `i128` are refused by the
    /// loader rather than silently wrapped.
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Rc<Vec<Value>>),
    /// Entries in insertion order; keys are unique under Python equality.
    Map(Rc<Vec<(Value, Value)>>),
}

impl Value {
    pub fn seq(items: Vec<Value>) -> Value {
        Value::Seq(Rc::new(items))
    }

    pub fn map(entries: Vec<(Value, Value)>) -> Value {
        Value::Map(Rc::new(entries))
    }

    pub fn str(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    /// Python's `bool(value)`.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Seq(items) => !items.is_empty(),
            Value::Map(entries) => !entries.is_empty(),
        }
    }

    /// A short English name of the type, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// Python's `a == b` for the hashable (scalar) values that can be
    /// mapping keys: `True == 1 == 1.0`, `nan != nan`, `'1' != 1`.
    pub fn key_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => match (Number::of(self), Number::of(other)) {
                (Some(a), Some(b)) => a.partial_cmp(&b) == Some(Ordering::Equal),
                _ => false,
            },
        }
    }

    /// Python's `str(key)`, for messages that quote a key.
    pub fn python_str(&self) -> String {
        match self {
            Value::Null => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => python_float_repr(*f),
            Value::Str(s) => s.clone(),
            Value::Seq(_) => "[...]".into(),
            Value::Map(_) => "{...}".into(),
        }
    }
}

/// The numeric tower of Python (`bool` ⊂ `int`, compared exactly with
/// `float`), used for key equality and key sorting.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    pub(crate) fn of(value: &Value) -> Option<Number> {
        match value {
            Value::Bool(b) => Some(Number::Int(i128::from(*b))),
            Value::Int(i) => Some(Number::Int(*i)),
            Value::Float(f) => Some(Number::Float(*f)),
            _ => None,
        }
    }

    /// Exact comparison; `None` when a NaN is involved (Python answers
    /// `False` to every ordering question about NaN).
    pub(crate) fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        match (*self, *other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (Number::Float(a), Number::Float(b)) => a.partial_cmp(&b),
            (Number::Int(a), Number::Float(b)) => compare_int_float(a, b),
            (Number::Float(a), Number::Int(b)) => compare_int_float(b, a).map(Ordering::reverse),
        }
    }
}

/// Compares an integer with a float without rounding the integer.
fn compare_int_float(int: i128, float: f64) -> Option<Ordering> {
    if float.is_nan() {
        return None;
    }
    // 2^127 is exactly representable; everything at or beyond it is
    // outside i128.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if float >= LIMIT {
        return Some(Ordering::Less);
    }
    if float < -LIMIT {
        return Some(Ordering::Greater);
    }
    let whole = float.trunc();
    // In range, so the cast is exact.
    let whole_int = whole as i128;
    match int.cmp(&whole_int) {
        Ordering::Equal => {
            let fraction = float - whole;
            Some(if fraction > 0.0 {
                Ordering::Less
            } else if fraction < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        unequal => Some(unequal),
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in -4..16, else scientific with a
/// signed two-digit-minimum exponent (`1e+16`, `1.5e-07`).
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` prints the shortest round-tripping digits, e.g.
    // "1.2345e-7"; only the layout differs from Python.
    let sci = format!("{value:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if negative { "-" } else { "" };
    // Python's decpt: the value is 0.DIGITS × 10^decpt.
    let decpt = exponent + 1;
    if (-3..=16).contains(&decpt) {
        let body = if decpt <= 0 {
            format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
        } else if decpt as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(decpt as usize - digits.len()))
        } else {
            let (whole, fraction) = digits.split_at(decpt as usize);
            format!("{whole}.{fraction}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs())
    }
}
