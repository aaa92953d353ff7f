//! The NIST prime curves of `ecdsa-sha2-nistp*` keys, and the one question asked of them:
//! does a point lie on the curve `y² = x³ - 3x + b (mod p)`?
//!
//! Only public data is involved and only once per key, so the arithmetic is the plainest that
//! is obviously right: fixed-width limbs and multiplication by doubling and adding.

use core::cmp::Ordering;

/// A non-negative integer below 2^576 (nine 64-bit limbs, least significant first): room for
/// P-521 elements and for the sum of two of them.
type Limbs = [u64; 9];

pub struct Curve {
    /// The curve name inside the key blob (`nistp256`).
    pub name: &'static str,
    /// Bytes of one coordinate in an uncompressed point.
    pub coordinate_len: usize,
    p_hex: &'static str,
    b_hex: &'static str,
}

/// Parameters from SEC 2 / FIPS 186-4.
pub const NISTP256: Curve = Curve {
    name: "nistp256",
    coordinate_len: 32,
    p_hex: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    b_hex: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
};

pub const NISTP384: Curve = Curve {
    name: "nistp384",
    coordinate_len: 48,
    p_hex: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
    b_hex: "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
};

pub const NISTP521: Curve = Curve {
    name: "nistp521",
    coordinate_len: 66,
    p_hex: "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    b_hex: "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00",
};

impl Curve {
    /// Whether the affine point (x, y), given as big-endian coordinates, is on the curve. Like
    /// OpenSSL, which reduces coordinates modulo p and then sees that they changed, coordinates
    /// of p or more are refused.
    pub fn contains(&self, x: &[u8], y: &[u8]) -> bool {
        let (Some(p), Some(b), Some(x), Some(y)) = (
            from_hex(self.p_hex),
            from_hex(self.b_hex),
            from_be_bytes(x),
            from_be_bytes(y),
        ) else {
            return false;
        };
        if compare(&x, &p) != Ordering::Less || compare(&y, &p) != Ordering::Less {
            return false;
        }
        let field = Field { p };
        let left = field.mul(&y, &y);
        let x_cubed = field.mul(&field.mul(&x, &x), &x);
        let three_x = field.add(&field.add(&x, &x), &x);
        let right = field.add(&field.sub(&x_cubed, &three_x), &b);
        left == right
    }
}

fn from_be_bytes(bytes: &[u8]) -> Option<Limbs> {
    if bytes.len() > 8 * 9 {
        return None;
    }
    let mut limbs = [0u64; 9];
    for (index, &byte) in bytes.iter().rev().enumerate() {
        limbs[index / 8] |= u64::from(byte) << (8 * (index % 8));
    }
    Some(limbs)
}

fn from_hex(hex: &str) -> Option<Limbs> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect();
    from_be_bytes(&bytes?)
}

fn compare(a: &Limbs, b: &Limbs) -> Ordering {
    a.iter().rev().cmp(b.iter().rev())
}

/// `a + b`, wrapping at 2^576 (never reached: operands stay below 2p < 2^522).
fn add(a: &Limbs, b: &Limbs) -> Limbs {
    let mut sum = [0u64; 9];
    let mut carry = false;
    for i in 0..9 {
        let (partial, overflow1) = a[i].overflowing_add(b[i]);
        let (partial, overflow2) = partial.overflowing_add(u64::from(carry));
        sum[i] = partial;
        carry = overflow1 || overflow2;
    }
    sum
}

/// `a - b` for `a >= b`.
fn subtract(a: &Limbs, b: &Limbs) -> Limbs {
    let mut difference = [0u64; 9];
    let mut borrow = false;
    for i in 0..9 {
        let (partial, underflow1) = a[i].overflowing_sub(b[i]);
        let (partial, underflow2) = partial.overflowing_sub(u64::from(borrow));
        difference[i] = partial;
        borrow = underflow1 || underflow2;
    }
    difference
}

/// Arithmetic modulo p on reduced operands (all below p).
struct Field {
    p: Limbs,
}

impl Field {
    fn add(&self, a: &Limbs, b: &Limbs) -> Limbs {
        let sum = add(a, b);
        if compare(&sum, &self.p) == Ordering::Less {
            sum
        } else {
            subtract(&sum, &self.p)
        }
    }

    fn sub(&self, a: &Limbs, b: &Limbs) -> Limbs {
        if compare(a, b) != Ordering::Less {
            subtract(a, b)
        } else {
            add(a, &subtract(&self.p, b))
        }
    }

    /// Multiplication as repeated doubling and adding, from the top bit of `b` down.
    fn mul(&self, a: &Limbs, b: &Limbs) -> Limbs {
        let mut product = [0u64; 9];
        for bit in (0..9 * 64).rev() {
            product = self.add(&product, &product);
            if b[bit / 64] >> (bit % 64) & 1 == 1 {
                product = self.add(&product, a);
            }
        }
        product
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(value: u64) -> Limbs {
        let mut limbs = [0; 9];
        limbs[0] = value;
        limbs
    }

    #[test]
    fn field_arithmetic_modulo_a_small_prime() {
        let field = Field { p: small(97) };
        assert_eq!(field.mul(&small(50), &small(60)), small(50 * 60 % 97));
        assert_eq!(field.add(&small(90), &small(10)), small(3));
        assert_eq!(field.sub(&small(3), &small(10)), small(90));
        assert_eq!(field.sub(&small(10), &small(3)), small(7));
    }

    #[test]
    fn field_arithmetic_across_limbs() {
        let p = from_hex(NISTP521.p_hex).unwrap();
        let field = Field { p };
        let minus_one = subtract(&p, &small(1));
        // (-1)·(-1) = 1 and (-1) + (-1) = -2.
        assert_eq!(field.mul(&minus_one, &minus_one), small(1));
        assert_eq!(field.add(&minus_one, &minus_one), subtract(&p, &small(2)));
        // 2^64 · 2^64 = 2^128: a carry into the third limb.
        let two_64 = from_hex("010000000000000000").unwrap();
        assert_eq!(
            field.mul(&two_64, &two_64),
            from_hex("0100000000000000000000000000000000").unwrap()
        );
    }
}
