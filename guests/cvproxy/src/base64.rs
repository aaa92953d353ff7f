//! `base64.b64decode(s, validate=True)` of CPython 3.11, errors included (spec 2.5).
//!
//! This is `binascii.a2b_base64(s, strict_mode=True)` (`Modules/binascii.c`), transcribed
//! state for state, because the order of its checks decides which message a bad configlet
//! gets: `-` → `Only base64 data is allowed`, a `\n` after `=` padding → `Excess data after
//! padding`. Like CPython it ignores non-zero trailing bits (`QR==` decodes like `QQ==`).

/// The decoded bytes, or the reply text (`Error: ...` for `binascii.Error`).
pub fn b64decode_validate(text: &str) -> Result<Vec<u8>, String> {
    // `_bytes_from_decode_data` encodes a str as ASCII first.
    if !text.is_ascii() {
        return Err("ValueError: string argument should contain only ASCII characters".into());
    }
    a2b_base64_strict(text.as_bytes()).map_err(|message| format!("Error: {message}"))
}

/// Sextet values of the standard alphabet; 0xff for every other byte.
const SEXTETS: [u8; 256] = {
    let mut table = [0xff; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut index = 0;
    while index < 64 {
        table[alphabet[index] as usize] = index as u8;
        index += 1;
    }
    table
};

fn sextet(byte: u8) -> Option<u8> {
    let value = SEXTETS[usize::from(byte)];
    (value != 0xff).then_some(value)
}

/// Decodes whole quads of alphabet characters from the start of `data` (the fast path for
/// multi-megabyte configlets); returns how many bytes it consumed. The state machine in
/// [`a2b_base64_strict`] handles the rest, so the result is the same as running it alone.
fn decode_quads(data: &[u8], out: &mut Vec<u8>) -> usize {
    let quads = data.len() / 4;
    let start = out.len();
    out.resize(start + quads * 3, 0);
    let mut done = 0;
    for (quad, bytes) in data.chunks_exact(4).zip(out[start..].chunks_exact_mut(3)) {
        // Four scalar lookups (an array `map` here stalls on store forwarding). Sextets are
        // below 64, so the OR is 0xff only when one of them is the invalid marker.
        let sextet = |index: usize| SEXTETS[usize::from(quad[index])];
        let (a, b, c, d) = (sextet(0), sextet(1), sextet(2), sextet(3));
        if (a | b | c | d) == 0xff {
            break;
        }
        let bits = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        bytes.copy_from_slice(&bits.to_be_bytes()[1..]);
        done += 1;
    }
    out.truncate(start + done * 3);
    done * 4
}

fn a2b_base64_strict(data: &[u8]) -> Result<Vec<u8>, String> {
    if data.first() == Some(&b'=') {
        return Err("Leading padding not allowed".into());
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    // Whole quads leave the state machine where it started: quad_pos 0, no padding.
    let start = decode_quads(data, &mut out);
    let mut quad_pos = 0;
    let mut left: u8 = 0;
    let mut pads = 0;
    let mut padding_started = false;
    for (index, &byte) in data.iter().enumerate().skip(start) {
        if byte == b'=' {
            padding_started = true;
            // CPython only counts pads once two data characters of the quad are there.
            if quad_pos >= 2 {
                pads += 1;
            }
            if quad_pos >= 2 && quad_pos + pads >= 4 {
                // The padding completes the quad: nothing may follow it.
                if index + 1 < data.len() {
                    return Err("Excess data after padding".into());
                }
                return Ok(out);
            }
            continue;
        }
        let Some(value) = sextet(byte) else {
            return Err("Only base64 data is allowed".into());
        };
        if padding_started {
            return Err("Discontinuous padding not allowed".into());
        }
        pads = 0;
        match quad_pos {
            0 => {
                quad_pos = 1;
                left = value;
            }
            1 => {
                quad_pos = 2;
                out.push((left << 2) | (value >> 4));
                left = value & 0x0f;
            }
            2 => {
                quad_pos = 3;
                out.push((left << 4) | (value >> 2));
                left = value & 0x03;
            }
            _ => {
                quad_pos = 0;
                out.push((left << 6) | value);
                left = 0;
            }
        }
    }
    match quad_pos {
        0 => Ok(out),
        1 => Err(format!(
            "Invalid base64-encoded string: number of data characters ({}) cannot be 1 more \
             than a multiple of 4",
            out.len() / 3 * 4 + 1
        )),
        _ => Err("Incorrect padding".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::b64decode_validate;

    // Expected results from CPython 3.11 `base64.b64decode(s, validate=True)`.
    #[test]
    fn matches_cpython() {
        let ok: &[(&str, &[u8])] = &[
            ("", b""),
            ("QQ==", b"A"),
            ("QR==", b"A"),
            ("QUI=", b"AB"),
            ("QUJD", b"ABC"),
            ("aGVsbG8=", b"hello"),
            ("AAAA=", b"\0\0\0"),
            ("AAAA===", b"\0\0\0"),
            ("AB==", b"\0"),
            ("+/+/", b"\xfb\xff\xbf"),
        ];
        for (text, expected) in ok {
            assert_eq!(b64decode_validate(text).as_deref(), Ok(*expected), "{text}");
        }
        let errors = [
            ("AB-D", "Only base64 data is allowed"),
            ("aGVsbG8-", "Only base64 data is allowed"),
            ("AAAA\n", "Only base64 data is allowed"),
            ("AA==\n", "Excess data after padding"),
            ("aGVsbG8=\n", "Excess data after padding"),
            ("AA==\n\n", "Excess data after padding"),
            ("AAA==", "Excess data after padding"),
            ("AA==AA", "Excess data after padding"),
            ("AAA=A", "Excess data after padding"),
            ("=AAA", "Leading padding not allowed"),
            ("AA=A", "Discontinuous padding not allowed"),
            ("AAAA=A", "Discontinuous padding not allowed"),
            ("AB=\n", "Only base64 data is allowed"),
            ("AA=", "Incorrect padding"),
            ("AAAAAA", "Incorrect padding"),
            (
                "AAAAA",
                "Invalid base64-encoded string: number of data characters (5) cannot be 1 more \
                 than a multiple of 4",
            ),
            (
                "A===",
                "Invalid base64-encoded string: number of data characters (1) cannot be 1 more \
                 than a multiple of 4",
            ),
        ];
        for (text, expected) in errors {
            assert_eq!(
                b64decode_validate(text),
                Err(format!("Error: {expected}")),
                "{text}"
            );
        }
        assert_eq!(
            b64decode_validate("QQ==é"),
            Err("ValueError: string argument should contain only ASCII characters".into())
        );
    }
}
