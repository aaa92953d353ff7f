//! One request line and its reply (spec 7): `!!REQUEST_<X>#\n` is answered
//! by `!!RESPONSE_<X>#<base64>\n\r`.

use anyhow::{Context, Result, bail};

use super::hex;
use super::session::Session;

#[derive(Debug, Clone, Copy)]
pub struct Code {
    pub name: &'static str,
    pub line: &'static [u8],
    pub reply_prefix: &'static [u8],
}

/// The three request codes, cycled by the request loop.
pub const CODES: [Code; 3] = [
    Code {
        name: "REQUEST_METADATA",
        line: b"!!REQUEST_METADATA#\n",
        reply_prefix: b"!!RESPONSE_METADATA#",
    },
    Code {
        name: "REQUEST_NETWORKDATA",
        line: b"!!REQUEST_NETWORKDATA#\n",
        reply_prefix: b"!!RESPONSE_NETWORKDATA#",
    },
    Code {
        name: "REQUEST_USERDATA",
        line: b"!!REQUEST_USERDATA#\n",
        reply_prefix: b"!!RESPONSE_USERDATA#",
    },
];

/// Replies are base64 of a small file; the server's own file limit is 1 MiB.
const MAX_REPLY: usize = 2 << 20;

/// Sends one request and reads its whole reply; returns the reply's length.
pub async fn exchange(session: &mut Session, code: Code) -> Result<usize> {
    session
        .send(code.line)
        .await
        .with_context(|| format!("sending {}", code.name))?;
    let reply = session
        .read_line(MAX_REPLY)
        .await
        .with_context(|| format!("reply to {}", code.name))?;
    check(code, &reply)?;
    Ok(reply.len())
}

/// The reply must be the matching response code and a base64 body.
fn check(code: Code, reply: &[u8]) -> Result<()> {
    let body = reply
        .strip_prefix(code.reply_prefix)
        .and_then(|r| r.strip_suffix(b"\n\r"));
    let ok = body.is_some_and(|b| {
        b.len() % 4 == 0
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
    });
    if !ok {
        bail!(
            "bad reply to {}\n  expected: {} <base64> 0A 0D\n  received: {}",
            code.name,
            hex(code.reply_prefix),
            hex(reply)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_matching_base64_replies() {
        assert!(check(CODES[0], b"!!RESPONSE_METADATA#b2sgdm0=\n\r").is_ok());
        assert!(check(CODES[0], b"!!RESPONSE_METADATA#\n\r").is_ok());
        assert!(check(CODES[1], b"!!RESPONSE_METADATA#b2sgdm0=\n\r").is_err());
        assert!(check(CODES[0], b"!!RESPONSE_METADATA#b2s\n\r").is_err());
    }
}
