//! UTF-8 decoding with CPython's error text (`bytes.decode("utf-8")`), for the request body
//! (spec 2.2, step 4) and for every decoded configlet (spec 14.3).
//!
//! Rust and CPython accept exactly the same byte sequences, so the fast path is
//! `std::str::from_utf8`; only when it fails do we look at the offending sequence and classify
//! it the way CPython's `utf8_decode` does (`Objects/stringlib/codecs.h`), because the wording
//! and the reported byte range are part of the reply.

/// The body as text, or the message of Python's `UnicodeDecodeError` (without the class name),
/// e.g. `'utf-8' codec can't decode byte 0xff in position 3: invalid start byte`.
pub fn decode(bytes: &[u8]) -> Result<&str, String> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(error) => Err(describe(bytes, error.valid_up_to())),
    }
}

/// Like [`decode`], keeping the bytes' allocation (for decoded configlets, which may be large).
pub fn into_string(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|error| {
        let start = error.utf8_error().valid_up_to();
        describe(error.as_bytes(), start)
    })
}

/// CPython's reason and byte range for the ill-formed sequence that starts at `start`.
fn describe(bytes: &[u8], start: usize) -> String {
    let (reason, end) = classify(&bytes[start..]);
    let end = match end {
        Some(length) => start + length,
        None => bytes.len(),
    };
    if end - start == 1 {
        format!(
            "'utf-8' codec can't decode byte 0x{:02x} in position {start}: {reason}",
            bytes[start]
        )
    } else {
        format!(
            "'utf-8' codec can't decode bytes in position {start}-{}: {reason}",
            end - 1
        )
    }
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xc0 == 0x80
}

/// The reason and the length of the reported range (`None`: up to the end of the data) for a
/// sequence starting at `rest[0]` that is known to be ill-formed.
fn classify(rest: &[u8]) -> (&'static str, Option<usize>) {
    const START: &str = "invalid start byte";
    const CONTINUATION: &str = "invalid continuation byte";
    const END: &str = "unexpected end of data";
    let lead = rest[0];
    let at = |index: usize| rest.get(index).copied();
    // The second byte's allowed range depends on the lead byte: E0 and F0 exclude overlongs,
    // ED excludes surrogates, F4 excludes code points above U+10FFFF.
    let second_ok = |byte: u8| {
        is_continuation(byte)
            && match lead {
                0xe0 => byte >= 0xa0,
                0xed => byte < 0xa0,
                0xf0 => byte >= 0x90,
                0xf4 => byte < 0x90,
                _ => true,
            }
    };
    let width = match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return (START, Some(1)),
    };
    // CPython checks the bytes that are there before complaining about the missing ones.
    match at(1) {
        None => return (END, None),
        Some(byte) if !second_ok(byte) => return (CONTINUATION, Some(1)),
        Some(_) => {}
    }
    if width >= 3 {
        match at(2) {
            None => return (END, None),
            Some(byte) if !is_continuation(byte) => return (CONTINUATION, Some(2)),
            Some(_) => {}
        }
    }
    if width == 4 {
        match at(3) {
            None => return (END, None),
            Some(byte) if !is_continuation(byte) => return (CONTINUATION, Some(3)),
            Some(_) => {}
        }
    }
    // Unreachable for input that `from_utf8` rejected at this position; say "start byte"
    // rather than panic.
    (START, Some(1))
}

#[cfg(test)]
mod tests {
    use super::decode;

    fn error(bytes: &[u8]) -> String {
        decode(bytes).unwrap_err()
    }

    #[test]
    fn valid_text_passes() {
        assert_eq!(decode("aé€😀".as_bytes()), Ok("aé€😀"));
        assert_eq!(decode(b""), Ok(""));
    }

    // Expected texts from CPython 3.11: `bytes.decode("utf-8")`.
    #[test]
    fn messages_match_cpython() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x80", "byte 0x80 in position 0: invalid start byte"),
            (b"ab\xc0\xaf", "byte 0xc0 in position 2: invalid start byte"),
            (b"\xc1\xbf", "byte 0xc1 in position 0: invalid start byte"),
            (
                b"\xf5\x80\x80\x80",
                "byte 0xf5 in position 0: invalid start byte",
            ),
            (b"\xff", "byte 0xff in position 0: invalid start byte"),
            (b"\xe2", "byte 0xe2 in position 0: unexpected end of data"),
            (b"\xe2\x82", "bytes in position 0-1: unexpected end of data"),
            (
                b"ab\xf0\x9f",
                "bytes in position 2-3: unexpected end of data",
            ),
            (
                b"\xf0\x90\x80",
                "bytes in position 0-2: unexpected end of data",
            ),
            (
                b"\xe2\x82A",
                "bytes in position 0-1: invalid continuation byte",
            ),
            (
                b"\xe0\x80",
                "byte 0xe0 in position 0: invalid continuation byte",
            ),
            (
                b"\xe0\x80\x80",
                "byte 0xe0 in position 0: invalid continuation byte",
            ),
            (
                b"\xed\xa0\x80",
                "byte 0xed in position 0: invalid continuation byte",
            ),
            (
                b"\xed\xa0",
                "byte 0xed in position 0: invalid continuation byte",
            ),
            (
                b"\xf4\x90",
                "byte 0xf4 in position 0: invalid continuation byte",
            ),
            (
                b"\xf0\x80\x80\x80",
                "byte 0xf0 in position 0: invalid continuation byte",
            ),
            (
                b"\xf0\x90\x80A",
                "bytes in position 0-2: invalid continuation byte",
            ),
            (
                b"\xf0\x90A",
                "bytes in position 0-1: invalid continuation byte",
            ),
            (
                b"\xc3A",
                "byte 0xc3 in position 0: invalid continuation byte",
            ),
            (b"\xc3", "byte 0xc3 in position 0: unexpected end of data"),
        ];
        for (bytes, expected) in cases {
            let expected = format!("'utf-8' codec can't decode {expected}");
            assert_eq!(error(bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn position_counts_bytes() {
        assert_eq!(
            error(
                "é€\u{ff}"
                    .as_bytes()
                    .iter()
                    .copied()
                    .chain([0xfe])
                    .collect::<Vec<_>>()
                    .as_slice()
            ),
            "'utf-8' codec can't decode byte 0xfe in position 7: invalid start byte"
        );
    }
}
