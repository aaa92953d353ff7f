//! OpenSSH public key lines, checked as cryptography 2.1.4's `load_ssh_public_key` does, plus
//! `ssh-ed25519` (spec 8.6, decision 12). The key is only checked, never re-encoded: the
//! meta-data carries the line as written.

mod nist_curve;

use crate::base64;
use nist_curve::{Curve, NISTP256, NISTP384, NISTP521};

/// Why a key line is refused; the messages are the seed's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyProblem {
    UnsupportedType,
    Malformed,
}

impl KeyProblem {
    pub fn message(self) -> &'static str {
        match self {
            KeyProblem::UnsupportedType => "public_key serialization type is not supported",
            KeyProblem::Malformed => {
                "public_key could not be decoded or is not in the proper format"
            }
        }
    }
}

/// Checks one `authorized_keys`-style line: `<type> <base64 body>[ <comment>]`.
pub fn check(line: &str) -> Result<(), KeyProblem> {
    // Python's `split(b' ', 2)`: single spaces, the comment keeps its own spaces.
    let mut parts = line.splitn(3, ' ');
    let key_type = parts.next().unwrap_or_default();
    let body = parts.next().ok_or(KeyProblem::Malformed)?;
    let curve = match key_type {
        "ssh-rsa" | "ssh-dss" | "ssh-ed25519" => None,
        "ecdsa-sha2-nistp256" => Some(&NISTP256),
        "ecdsa-sha2-nistp384" => Some(&NISTP384),
        "ecdsa-sha2-nistp521" => Some(&NISTP521),
        _ => return Err(KeyProblem::UnsupportedType),
    };
    let blob = base64::decode_strict(body.as_bytes()).ok_or(KeyProblem::Malformed)?;
    let mut reader = Reader(&blob);
    if reader.string()? != key_type.as_bytes() {
        return Err(KeyProblem::Malformed);
    }
    let valid = match (key_type, curve) {
        ("ssh-rsa", _) => check_rsa(&mut reader)?,
        ("ssh-dss", _) => check_dss(&mut reader)?,
        ("ssh-ed25519", _) => reader.string()?.len() == 32,
        (_, Some(curve)) => check_ecdsa(&mut reader, curve)?,
        _ => false,
    };
    if valid && reader.0.is_empty() {
        Ok(())
    } else {
        Err(KeyProblem::Malformed)
    }
}

/// The SSH wire encoding: each field a 4-byte big-endian length and that many bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn string(&mut self) -> Result<&'a [u8], KeyProblem> {
        let (length, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or(KeyProblem::Malformed)?;
        let length =
            usize::try_from(u32::from_be_bytes(*length)).map_err(|_| KeyProblem::Malformed)?;
        if rest.len() < length {
            return Err(KeyProblem::Malformed);
        }
        let (field, rest) = rest.split_at(length);
        self.0 = rest;
        Ok(field)
    }

    /// An mpint read as cryptography 2.1.4 does: unsigned, so only its magnitude matters.
    fn magnitude(&mut self) -> Result<Magnitude<'a>, KeyProblem> {
        let bytes = self.string()?;
        let first_nonzero = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        Ok(Magnitude(&bytes[first_nonzero..]))
    }
}

/// An unsigned big-endian integer without leading zero bytes; comparisons need no arithmetic.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Magnitude<'a>(&'a [u8]);

impl Magnitude<'_> {
    fn bits(self) -> usize {
        match self.0.first() {
            None => 0,
            Some(first) => self.0.len() * 8 - first.leading_zeros() as usize,
        }
    }

    fn is_odd(self) -> bool {
        self.0.last().is_some_and(|last| last & 1 == 1)
    }

    /// Whether the value is at least the small number `small`.
    fn at_least(self, small: u8) -> bool {
        self.0.len() > 1 || self.0.first().is_some_and(|&b| b >= small)
    }
}

impl PartialOrd for Magnitude<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(
            self.0
                .len()
                .cmp(&other.0.len())
                .then_with(|| self.0.cmp(other.0)),
        )
    }
}

/// `e ≥ 3`, `e` odd, `e < n`, `n ≥ 3`.
fn check_rsa(reader: &mut Reader<'_>) -> Result<bool, KeyProblem> {
    let e = reader.magnitude()?;
    let n = reader.magnitude()?;
    Ok(n.at_least(3) && e.at_least(3) && e < n && e.is_odd())
}

/// `p` of 1024, 2048 or 3072 bits, `q` of 160 or 256 bits, `1 < g < p`; `y` is not checked.
fn check_dss(reader: &mut Reader<'_>) -> Result<bool, KeyProblem> {
    let p = reader.magnitude()?;
    let q = reader.magnitude()?;
    let g = reader.magnitude()?;
    reader.magnitude()?;
    Ok(matches!(p.bits(), 1024 | 2048 | 3072)
        && matches!(q.bits(), 160 | 256)
        && g.at_least(2)
        && g < p)
}

/// The curve name matches the key type, and the point is uncompressed and on the curve.
fn check_ecdsa(reader: &mut Reader<'_>, curve: &Curve) -> Result<bool, KeyProblem> {
    let name = reader.string()?;
    let point = reader.string()?;
    if name != curve.name.as_bytes() {
        return Ok(false);
    }
    let Some((&4, coordinates)) = point.split_first() else {
        return Ok(false);
    };
    if coordinates.len() != 2 * curve.coordinate_len {
        return Ok(false);
    }
    let (x, y) = coordinates.split_at(curve.coordinate_len);
    Ok(curve.contains(x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(bytes: &[u8]) -> Vec<u8> {
        let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    fn line(key_type: &str, fields: &[&[u8]]) -> String {
        let mut blob = field(key_type.as_bytes());
        for f in fields {
            blob.extend(field(f));
        }
        format!("{key_type} {} comment with spaces", base64::encode(&blob))
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    const GOLDEN_RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDB9FH324syhZ88B3TiMkYIMrI2/yvCF+tiWk+eOQKnmxA4zXSeVot1z52fk6P2xdZU9jzni2Qm5PihVKclzQmvIijpXV7MBXQS2/G100FyfZL76LK/ZLGITE3MU2+iBVH59gq+sJywQXkXYLngZiChVbokFidND39kNuQXQZCb2lnKXwM6KLMn4v9nFBTYQmjImqm+2BMsKgdupaYm+qzr+Gr8lLitb+VKJtsrnRaW0NerTLNr3fXtw0sgeQkcQtqaKOvPRocUoa7qnzI0TP8Mx02klTiWwHvPzc9e0HztXOQwYZB6/dcB9CoglLYnzcTf2cEVGHO9NGb9GLqn3Oph";

    /// Generator points of the three curves (SEC 2), uncompressed.
    const GENERATORS: [(&str, &str); 3] = [
        (
            "ecdsa-sha2-nistp256",
            "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
        ),
        (
            "ecdsa-sha2-nistp384",
            "04aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
        ),
        (
            "ecdsa-sha2-nistp521",
            "0400c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650",
        ),
    ];

    const MALFORMED: Result<(), KeyProblem> = Err(KeyProblem::Malformed);
    const UNSUPPORTED: Result<(), KeyProblem> = Err(KeyProblem::UnsupportedType);

    #[test]
    fn key_line_structure() {
        assert_eq!(check(GOLDEN_RSA), Ok(()));
        assert_eq!(check(&format!("{GOLDEN_RSA} user@host")), Ok(()));
        assert_eq!(check(&format!("{GOLDEN_RSA}  two  spaces ")), Ok(()));
        assert_eq!(check("ssh-rsa"), MALFORMED);
        assert_eq!(check(""), MALFORMED);
        assert_eq!(
            check("ssh-foo"),
            MALFORMED,
            "fewer than two parts is checked before the type"
        );
        assert_eq!(check("ssh-foo AAAA"), UNSUPPORTED);
        assert_eq!(check("SSH-RSA AAAA"), UNSUPPORTED);
        assert_eq!(check(&format!("no-pty {GOLDEN_RSA}")), UNSUPPORTED);
        assert_eq!(
            check(&GOLDEN_RSA.replacen(' ', "  ", 1)),
            MALFORMED,
            "two spaces leave an empty body"
        );
        assert_eq!(
            check(&GOLDEN_RSA.replacen(' ', "\t", 1)),
            MALFORMED,
            "only spaces separate"
        );
        assert_eq!(
            check(&GOLDEN_RSA[..GOLDEN_RSA.len() - 1]),
            MALFORMED,
            "bad padding"
        );
        assert_eq!(
            check(&GOLDEN_RSA.replacen("AAAAB3", "AAA*B3", 1)),
            MALFORMED,
            "outside the alphabet"
        );
        assert_eq!(
            check(&GOLDEN_RSA.replacen("ssh-rsa", "ssh-dss", 1)),
            MALFORMED,
            "inner type differs"
        );
    }

    #[test]
    fn rsa_rules() {
        let n = [0xC1u8; 256];
        assert_eq!(check(&line("ssh-rsa", &[&[1, 0, 1], &n])), Ok(()));
        assert_eq!(
            check(&line("ssh-rsa", &[&[0, 0, 3], &[0, 5]])),
            Ok(()),
            "leading zeros are ignored"
        );
        assert_eq!(
            check(&line("ssh-rsa", &[&[0x81], &n])),
            Ok(()),
            "mpints are read unsigned"
        );
        assert_eq!(check(&line("ssh-rsa", &[&[1], &n])), MALFORMED, "e < 3");
        assert_eq!(check(&line("ssh-rsa", &[&[4], &n])), MALFORMED, "e even");
        assert_eq!(check(&line("ssh-rsa", &[&[5], &[5]])), MALFORMED, "e = n");
        assert_eq!(check(&line("ssh-rsa", &[&[3], &[2]])), MALFORMED, "n < 3");
        assert_eq!(
            check(&line("ssh-rsa", &[&[3], &n, b""])),
            MALFORMED,
            "left over"
        );
        assert_eq!(check(&line("ssh-rsa", &[&[3]])), MALFORMED, "n missing");
    }

    #[test]
    fn dss_rules() {
        let p1024 = [0x80u8; 128];
        let q160 = [0xFFu8; 20];
        let q256 = [0x01u8; 32];
        let ok = |p: &[u8], q: &[u8], g: &[u8]| check(&line("ssh-dss", &[p, q, g, &[7]]));
        assert_eq!(ok(&p1024, &q160, &[2]), Ok(()));
        assert_eq!(ok(&[0x80u8; 256], &[0x80u8; 32], &[2]), Ok(()));
        assert_eq!(ok(&[0xFFu8; 384], &q160, &[2]), Ok(()));
        assert_eq!(
            ok(&[0x40u8; 128], &q160, &[2]),
            MALFORMED,
            "p has 1023 bits"
        );
        assert_eq!(ok(&p1024, &q256, &[2]), MALFORMED, "q has 249 bits");
        assert_eq!(ok(&p1024, &q160, &[1]), MALFORMED, "g = 1");
        assert_eq!(ok(&p1024, &q160, &p1024), MALFORMED, "g = p");
        assert_eq!(
            check(&line("ssh-dss", &[&p1024, &q160, &[2]])),
            MALFORMED,
            "y missing"
        );
    }

    #[test]
    fn ecdsa_points() {
        for (key_type, point) in GENERATORS {
            let point = hex(point);
            let curve = key_type.trim_start_matches("ecdsa-sha2-").as_bytes();
            assert_eq!(
                check(&line(key_type, &[curve, &point])),
                Ok(()),
                "{key_type}"
            );

            let mut off_curve = point.clone();
            *off_curve.last_mut().unwrap() ^= 1;
            assert_eq!(
                check(&line(key_type, &[curve, &off_curve])),
                MALFORMED,
                "{key_type} off the curve"
            );

            let mut compressed = point[..point.len() / 2 + 1].to_vec();
            compressed[0] = 2 + (point.last().unwrap() & 1);
            assert_eq!(
                check(&line(key_type, &[curve, &compressed])),
                MALFORMED,
                "{key_type} compressed"
            );

            assert_eq!(
                check(&line(key_type, &[curve, &point[..point.len() - 1]])),
                MALFORMED,
                "{key_type} short"
            );
            assert_eq!(
                check(&line(key_type, &[curve, b""])),
                MALFORMED,
                "{key_type} empty point"
            );
            assert_eq!(
                check(&line(key_type, &[b"nistp999", &point])),
                MALFORMED,
                "{key_type} other curve name"
            );
            assert_eq!(
                check(&line(key_type, &[curve, &point, b"x"])),
                MALFORMED,
                "{key_type} left over"
            );
        }
        // P-521 coordinates have 7 spare bits: x + p is the same point modulo p, and refused.
        let (_, point) = GENERATORS[2];
        let point = hex(point);
        let p = hex(
            "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        );
        let mut shifted_x = point[1..67].to_vec();
        let mut carry = 0u16;
        for (digit, add) in shifted_x.iter_mut().rev().zip(p.iter().rev()) {
            let sum = u16::from(*digit) + u16::from(*add) + carry;
            *digit = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0, "x + p still fits in 66 bytes");
        let mut shifted = vec![4];
        shifted.extend(shifted_x);
        shifted.extend(&point[67..]);
        assert_eq!(
            check(&line("ecdsa-sha2-nistp521", &[b"nistp521", &shifted])),
            MALFORMED
        );
    }

    #[test]
    fn ed25519() {
        assert_eq!(check(&line("ssh-ed25519", &[&[7u8; 32]])), Ok(()));
        assert_eq!(check(&line("ssh-ed25519", &[&[7u8; 31]])), MALFORMED);
        assert_eq!(check(&line("ssh-ed25519", &[&[7u8; 33]])), MALFORMED);
        assert_eq!(check(&line("ssh-ed25519", &[&[7u8; 32], b""])), MALFORMED);
    }
}
