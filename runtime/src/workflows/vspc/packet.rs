//! The serial-line packet protocol `!!<CODE>#<base64>` (spec 7).

/// A request the guest agent can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestCode {
    Metadata,
    NetworkData,
    UserData,
}

impl RequestCode {
    pub fn label(self) -> &'static str {
        match self {
            RequestCode::Metadata => "REQUEST_METADATA",
            RequestCode::NetworkData => "REQUEST_NETWORKDATA",
            RequestCode::UserData => "REQUEST_USERDATA",
        }
    }

    fn response_code(self) -> &'static str {
        match self {
            RequestCode::Metadata => "RESPONSE_METADATA",
            RequestCode::NetworkData => "RESPONSE_NETWORKDATA",
            RequestCode::UserData => "RESPONSE_USERDATA",
        }
    }
}

/// Why a console line is not a request; the `reason` label of
/// `postern_vspc_lines_ignored_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    Empty,
    NonAscii,
    NotPacket,
    BadHash,
    BadBase64,
    ResponseCode,
    UnknownCode,
}

impl Ignored {
    pub fn reason(self) -> &'static str {
        match self {
            Ignored::Empty => "empty",
            Ignored::NonAscii => "non_ascii",
            Ignored::NotPacket => "not_packet",
            Ignored::BadHash => "bad_hash",
            Ignored::BadBase64 => "bad_base64",
            Ignored::ResponseCode => "response_code",
            Ignored::UnknownCode => "unknown_code",
        }
    }
}

/// Classifies one line (its LF already removed), steps 2–8 of spec 7.1.
pub fn parse_line(line: &[u8]) -> Result<RequestCode, Ignored> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(Ignored::Empty);
    }
    if !line.is_ascii() {
        return Err(Ignored::NonAscii);
    }
    let Some(rest) = line.strip_prefix(b"!!") else {
        return Err(Ignored::NotPacket);
    };
    let mut parts = rest.splitn(3, |b| *b == b'#');
    let (Some(code), Some(payload), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Ignored::BadHash);
    };
    if !is_strict_base64(payload) {
        return Err(Ignored::BadBase64);
    }
    match code {
        b"REQUEST_METADATA" => Ok(RequestCode::Metadata),
        b"REQUEST_NETWORKDATA" => Ok(RequestCode::NetworkData),
        b"REQUEST_USERDATA" => Ok(RequestCode::UserData),
        b"RESPONSE_METADATA" | b"RESPONSE_NETWORKDATA" | b"RESPONSE_USERDATA" => {
            Err(Ignored::ResponseCode)
        }
        _ => Err(Ignored::UnknownCode),
    }
}

/// Standard alphabet, `=` padding only at the end (at most two), length a
/// multiple of four. The decoded bytes are never used, so only the form counts.
fn is_strict_base64(payload: &[u8]) -> bool {
    if !payload.len().is_multiple_of(4) {
        return false;
    }
    let body_len = payload.len() - payload.iter().rev().take_while(|b| **b == b'=').count();
    payload.len() - body_len <= 2
        && payload[..body_len]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// The reply line: `!!RESPONSE_X#<base64(body)>` then LF CR, as the seed
/// writes it (spec 7.2).
pub fn reply_line(code: RequestCode, body: &str) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
    let response = code.response_code();
    let mut line = Vec::with_capacity(response.len() + encoded.len() + 5);
    line.extend_from_slice(b"!!");
    line.extend_from_slice(response.as_bytes());
    line.push(b'#');
    line.extend_from_slice(encoded.as_bytes());
    line.extend_from_slice(b"\n\r");
    line
}
