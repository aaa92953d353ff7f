//! YAML integers of any size, kept as what they are ever used for: Python's `str(int)`, the
//! canonical decimal text (`010` → `8`, `-0x1A` → `-26`).
//!
//! Decimal literals are only normalised, in linear time. The other bases need a conversion whose
//! cost grows with the square of the length, so those literals are bounded; no instance file
//! needs a hexadecimal number of more than a hundred digits.

use std::rc::Rc;

/// Most digits of a binary, octal, hexadecimal or base-60 literal.
pub const MAX_CONVERTED_DIGITS: usize = 128;

/// Canonical decimal text: no leading zeros, `0` without a sign, `-` for negatives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Integer(Rc<str>);

impl Integer {
    pub fn small(value: u64) -> Self {
        Integer(value.to_string().into())
    }

    /// Digits in `radix` (2, 8, 10 or 16), without sign, prefix or underscores.
    pub fn parse(negative: bool, digits: &str, radix: u32) -> Option<Self> {
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        if radix == 10 {
            return Some(Self::from_decimal(negative, digits));
        }
        if digits.len() > MAX_CONVERTED_DIGITS {
            return None;
        }
        let mut magnitude = Magnitude::default();
        for digit in digits.chars().filter_map(|c| c.to_digit(radix)) {
            magnitude.mul_add(radix, digit);
        }
        Some(Self::from_magnitude(negative, &magnitude))
    }

    /// Base 60: `190:20:30` is 190·3600 + 20·60 + 30. Every part is decimal digits.
    pub fn parse_sexagesimal(negative: bool, text: &str) -> Option<Self> {
        if text.len() > MAX_CONVERTED_DIGITS {
            return None;
        }
        let mut parts = text.split(':');
        let mut magnitude = Magnitude::from_decimal(parts.next()?)?;
        for part in parts {
            let part = Magnitude::from_decimal(part)?;
            // Parts after the first are below 60 in the pattern; anything larger is refused
            // rather than carried (Python would carry it, but only `!!int` can produce one).
            let value = match part.0.as_slice() {
                [] => 0,
                [value] if *value < 60 => *value,
                _ => return None,
            };
            magnitude.mul_add(60, value);
        }
        Some(Self::from_magnitude(negative, &magnitude))
    }

    /// The integer equal to an integral float (Python's `1.0 == 1`), exactly.
    pub fn from_integral_f64(value: f64) -> Option<Self> {
        if !value.is_finite() || value.fract() != 0.0 {
            return None;
        }
        let bits = value.abs().to_bits();
        let exponent = ((bits >> 52) & 0x7FF) as i32;
        if exponent == 0 {
            return Some(Self::small(0));
        }
        // value = mantissa · 2^(exponent - 1075), with the shift non-negative once integral
        // values of at least 2^52 are reached; smaller ones fit an u64 directly.
        let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
        let shift = exponent - 1075;
        if shift <= 0 {
            let integral = mantissa >> (-shift);
            return Some(Self::from_decimal(value < 0.0, &integral.to_string()));
        }
        let mut magnitude = Magnitude::from_decimal(&mantissa.to_string())?;
        for _ in 0..shift {
            magnitude.mul_add(2, 0);
        }
        Some(Self::from_magnitude(value < 0.0, &magnitude))
    }

    fn from_decimal(negative: bool, digits: &str) -> Self {
        let significant = digits.trim_start_matches('0');
        Integer(match (negative, significant) {
            (_, "") => "0".into(),
            (false, _) => significant.into(),
            (true, _) => format!("-{significant}").into(),
        })
    }

    fn from_magnitude(negative: bool, magnitude: &Magnitude) -> Self {
        Self::from_decimal(negative, &magnitude.to_decimal())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Display for Integer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A non-negative number in base 10⁹ limbs, least significant first: decimal text converts in
/// and out of it chunk by chunk.
#[derive(Default)]
struct Magnitude(Vec<u32>);

const LIMB_BASE: u64 = 1_000_000_000;
const LIMB_DIGITS: usize = 9;

impl Magnitude {
    fn from_decimal(digits: &str) -> Option<Self> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let bytes = digits.as_bytes();
        let limbs = bytes
            .rchunks(LIMB_DIGITS)
            .map(|chunk| {
                chunk
                    .iter()
                    .fold(0u32, |value, b| value * 10 + u32::from(b - b'0'))
            })
            .collect();
        let mut magnitude = Magnitude(limbs);
        magnitude.trim();
        Some(magnitude)
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// `self = self · factor + addend`, for small factors.
    fn mul_add(&mut self, factor: u32, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.0 {
            let value = u64::from(*limb) * u64::from(factor) + carry;
            *limb = (value % LIMB_BASE) as u32;
            carry = value / LIMB_BASE;
        }
        while carry > 0 {
            self.0.push((carry % LIMB_BASE) as u32);
            carry /= LIMB_BASE;
        }
    }

    fn to_decimal(&self) -> String {
        let mut limbs = self.0.iter().rev();
        let Some(first) = limbs.next() else {
            return "0".into();
        };
        let mut text = first.to_string();
        for limb in limbs {
            text.push_str(&format!("{limb:09}"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: Option<Integer>) -> String {
        value
            .map(|i| i.to_string())
            .unwrap_or_else(|| "refused".into())
    }

    #[test]
    fn parses_every_base() {
        assert_eq!(text(Integer::parse(false, "0010", 10)), "10");
        assert_eq!(text(Integer::parse(true, "000", 10)), "0");
        assert_eq!(text(Integer::parse(true, "42", 10)), "-42");
        assert_eq!(text(Integer::parse(false, "17", 8)), "15");
        assert_eq!(text(Integer::parse(false, "1010", 2)), "10");
        assert_eq!(text(Integer::parse(true, "1A", 16)), "-26");
        assert_eq!(
            text(Integer::parse(
                false,
                "ffffffffffffffffffffffffffffffff",
                16
            )),
            "340282366920938463463374607431768211455"
        );
        assert_eq!(text(Integer::parse(false, "0x1", 16)), "refused");
        assert_eq!(text(Integer::parse(false, "8", 8)), "refused");
        assert_eq!(text(Integer::parse(false, "", 10)), "refused");
        let long_decimal = "9".repeat(10_000);
        assert_eq!(
            text(Integer::parse(false, &long_decimal, 10)),
            long_decimal,
            "decimal has no bound"
        );
        assert_eq!(
            text(Integer::parse(false, &"f".repeat(MAX_CONVERTED_DIGITS), 16)).len(),
            155
        );
        assert_eq!(
            text(Integer::parse(
                false,
                &"f".repeat(MAX_CONVERTED_DIGITS + 1),
                16
            )),
            "refused"
        );
    }

    #[test]
    fn sexagesimal() {
        assert_eq!(
            text(Integer::parse_sexagesimal(false, "190:20:30")),
            "685230"
        );
        assert_eq!(text(Integer::parse_sexagesimal(true, "1:30")), "-90");
        assert_eq!(text(Integer::parse_sexagesimal(false, "1:5:9")), "3909");
        assert_eq!(
            text(Integer::parse_sexagesimal(false, "99999999999999999999:0")),
            "5999999999999999999940"
        );
        assert_eq!(text(Integer::parse_sexagesimal(false, "1:60")), "refused");
        assert_eq!(text(Integer::parse_sexagesimal(false, "1::2")), "refused");
    }

    #[test]
    fn integral_floats() {
        assert_eq!(text(Integer::from_integral_f64(1.0)), "1");
        assert_eq!(text(Integer::from_integral_f64(-0.0)), "0");
        assert_eq!(text(Integer::from_integral_f64(-3.0)), "-3");
        assert_eq!(
            text(Integer::from_integral_f64(1e22)),
            "10000000000000000000000"
        );
        assert_eq!(
            text(Integer::from_integral_f64(2f64.powi(100))),
            "1267650600228229401496703205376"
        );
        assert_eq!(text(Integer::from_integral_f64(1.5)), "refused");
        assert_eq!(text(Integer::from_integral_f64(f64::INFINITY)), "refused");
        assert_eq!(text(Integer::from_integral_f64(f64::MAX)).len(), 309);
    }
}
