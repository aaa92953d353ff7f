//! Base64 decoding in the two flavours the spec needs.
//!
//! * [`decode_strict`] for OpenSSH key bodies: standard alphabet, `=` padding, nothing else.
//! * [`decode_like_python`] for `!!binary` scalars: Python's `base64.decodebytes`, which skips
//!   characters outside the alphabet (line breaks, spaces) and only insists on padding.
//!
//! Encoding is the host's job (spec 7.2); the tests have their own copy of the table.

/// The 6-bit value of a base64 alphabet character.
fn sextet(byte: u8) -> Option<u8> {
    Some(match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// Accumulates sextets into bytes.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    buffer: u32,
    count: u32,
}

impl Bits {
    fn push(&mut self, value: u8) {
        self.buffer = (self.buffer << 6) | u32::from(value);
        self.count += 6;
        if self.count >= 8 {
            self.count -= 8;
            self.out.push((self.buffer >> self.count) as u8);
            self.buffer &= (1 << self.count) - 1;
        }
    }
}

/// Standard base64: length a multiple of 4, at most two `=` and only at the very end.
/// Non-zero bits in the last character are tolerated, as everywhere in Python.
pub fn decode_strict(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let padding = text.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return None;
    }
    let mut bits = Bits {
        out: Vec::with_capacity(text.len() / 4 * 3),
        ..Bits::default()
    };
    for &byte in &text[..text.len() - padding] {
        bits.push(sextet(byte)?);
    }
    Some(bits.out)
}

/// Python 3.6 `binascii.a2b_base64`: non-alphabet characters are skipped; a `=` ends the data
/// once at least two characters of the current quad were read (with a third character it must be
/// followed, after skipped characters, by a second `=`, otherwise it is skipped too); an
/// unfinished quad is "Incorrect padding".
pub fn decode_like_python(text: &[u8]) -> Option<Vec<u8>> {
    let mut bits = Bits::default();
    let mut quad_position = 0;
    for (index, &byte) in text.iter().enumerate() {
        if byte == b'=' {
            let ends_data = match quad_position {
                0 | 1 => false,
                2 => {
                    text[index + 1..]
                        .iter()
                        .copied()
                        .find(|&b| b == b'=' || sextet(b).is_some())
                        == Some(b'=')
                }
                _ => true,
            };
            if ends_data {
                return Some(bits.out);
            }
            continue;
        }
        if let Some(value) = sextet(byte) {
            bits.push(value);
            quad_position = (quad_position + 1) % 4;
        }
    }
    (bits.count == 0).then_some(bits.out)
}

#[cfg(test)]
pub(crate) fn encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[(group >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(decode_strict(b"").unwrap(), b"");
        assert_eq!(decode_strict(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_strict(b"aGVsbA==").unwrap(), b"hell");
        assert_eq!(decode_strict(b"aGVs").unwrap(), b"hel");
        assert_eq!(
            decode_strict(b"aGVsbG9=").unwrap(),
            b"hello",
            "non-zero trailing bits are tolerated"
        );
        for bad in [
            &b"aGVsbG8"[..],
            b"aGVs bG8=",
            b"aGVsbG8=\n",
            b"a===",
            b"aGVsb===",
            b"aG=s",
            b"a=GV",
            b"aGV\x80",
        ] {
            assert_eq!(decode_strict(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn like_python() {
        assert_eq!(decode_like_python(b"aGVs\nbG8=\n").unwrap(), b"hello");
        assert_eq!(decode_like_python(b" a G V s b G 8 = ").unwrap(), b"hello");
        assert_eq!(decode_like_python(b"aGVsbA==junk").unwrap(), b"hell");
        assert_eq!(decode_like_python(b"aGVsbA=!=").unwrap(), b"hell");
        assert_eq!(
            decode_like_python(b"=a=GVs").unwrap(),
            b"hel",
            "= before two characters of a quad is skipped"
        );
        assert_eq!(
            decode_like_python(b"aGVsbA=x=").unwrap(),
            b"hell\x0c",
            "= not followed by = in third position is skipped"
        );
        assert_eq!(decode_like_python(b"aGVsbG8"), None);
        assert_eq!(decode_like_python(b"a"), None);
        assert_eq!(decode_like_python(b"").unwrap(), b"");
    }

    #[test]
    fn round_trip_of_the_test_encoder() {
        for text in [&b""[..], b"h", b"he", b"hel", b"hello world"] {
            assert_eq!(decode_strict(encode(text).as_bytes()).unwrap(), text);
        }
    }
}
