//! spiro's bearer tokens: macaroons in pymacaroons' binary format v1
//! (spec 8), parsed strictly (13.4: every malformed token is a refusal,
//! never a crash), verified over the caveat bytes exactly as stored, minted
//! as `spiro.issue_token` does (8.9).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Packet header: 4 hex digits, the whole packet's length.
const HEADER: usize = 4;
/// The shortest packet: header, a one-byte key, space, LF.
const MIN_PACKET: usize = HEADER + 3;
const MAX_PACKET: usize = 0xFFFF;
const SIGNATURE_BYTES: usize = 32;

/// A macaroon as parsed (or minted): caveats are kept as their raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Macaroon {
    pub location: Vec<u8>,
    pub identifier: Vec<u8>,
    pub caveats: Vec<Vec<u8>>,
    pub signature: [u8; SIGNATURE_BYTES],
}

/// Why a token is refused (every one of them is a 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not base64")]
    Base64,
    #[error("not a v1 macaroon: {0}")]
    Format(&'static str),
    #[error("the signature does not match")]
    Signature,
    #[error("a caveat is not satisfied")]
    Caveat,
    #[error("the token is valid, but not for this project")]
    Project,
}

impl Macaroon {
    /// Parses the text form: base64 in either alphabet, padding optional.
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        let token = token.trim_end_matches('=');
        let raw = if token.contains(['+', '/']) {
            STANDARD_NO_PAD.decode(token)
        } else {
            URL_SAFE_NO_PAD.decode(token)
        }
        .map_err(|_| TokenError::Base64)?;
        Self::from_bytes(&raw)
    }

    /// Parses the binary v1 packet sequence: `location`, `identifier`, zero
    /// or more `cid`, `signature` (32 bytes), and nothing after it.
    pub fn from_bytes(raw: &[u8]) -> Result<Self, TokenError> {
        let mut packets = Packets { raw, at: 0 };
        let location = packets.expect(b"location")?;
        let identifier = packets.expect(b"identifier")?;
        let mut caveats = Vec::new();
        loop {
            let (key, value) = packets.next()?.ok_or(TokenError::Format("no signature"))?;
            match key {
                b"cid" => caveats.push(value.to_vec()),
                b"signature" => {
                    let signature = value
                        .try_into()
                        .map_err(|_| TokenError::Format("the signature is not 32 bytes"))?;
                    if packets.at != raw.len() {
                        return Err(TokenError::Format("bytes after the signature"));
                    }
                    return Ok(Self {
                        location: location.to_vec(),
                        identifier: identifier.to_vec(),
                        caveats,
                        signature,
                    });
                }
                b"vid" | b"cl" => {
                    return Err(TokenError::Format("third-party caveats are not supported"));
                }
                b"location" | b"identifier" => {
                    return Err(TokenError::Format("a repeated location or identifier"));
                }
                _ => return Err(TokenError::Format("an unknown packet")),
            }
        }
    }

    /// The binary v1 form (pymacaroons' packet order).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        packet(&mut out, "location", &self.location);
        packet(&mut out, "identifier", &self.identifier);
        for caveat in &self.caveats {
            packet(&mut out, "cid", caveat);
        }
        packet(&mut out, "signature", &self.signature);
        out
    }

    /// The text form: URL-safe base64 without padding.
    pub fn serialize(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_bytes())
    }

    /// A new macaroon under `root_key` with `caveats` (8.5).
    pub fn mint(
        root_key: &[u8],
        location: &[u8],
        identifier: &[u8],
        caveats: &[&[u8]],
    ) -> Result<Self, TokenError> {
        fits("location", location)?;
        fits("identifier", identifier)?;
        let mut macaroon = Self {
            location: location.to_vec(),
            identifier: identifier.to_vec(),
            caveats: Vec::new(),
            signature: hmac(&derived_key(root_key), identifier),
        };
        for caveat in caveats {
            macaroon = macaroon.attenuate(caveat)?;
        }
        Ok(macaroon)
    }

    /// What a holder does to restrict a token without the root key (8.8).
    pub fn attenuate(&self, caveat: &[u8]) -> Result<Self, TokenError> {
        fits("cid", caveat)?;
        let mut attenuated = self.clone();
        attenuated.caveats.push(caveat.to_vec());
        attenuated.signature = hmac(&self.signature, caveat);
        Ok(attenuated)
    }

    /// Verifies the signature chain under `root_key`, then every caveat at
    /// `now` (seconds since the epoch) for `project` (`None`: the
    /// project-less check of 8.7, where project predicates pass).
    pub fn verify(
        &self,
        root_key: &[u8],
        now: f64,
        project: Option<&str>,
    ) -> Result<(), TokenError> {
        let mut signature = hmac(&derived_key(root_key), &self.identifier);
        for caveat in &self.caveats {
            signature = hmac(&signature, caveat);
        }
        if !constant_time_eq(&signature, &self.signature) {
            return Err(TokenError::Signature);
        }
        let mut project_refused = false;
        for caveat in &self.caveats {
            match check_caveat(caveat, now, project) {
                CaveatCheck::Pass => {}
                CaveatCheck::Fail => return Err(TokenError::Caveat),
                CaveatCheck::ProjectFail => project_refused = true,
            }
        }
        if project_refused {
            return Err(TokenError::Project);
        }
        Ok(())
    }
}

enum CaveatCheck {
    Pass,
    Fail,
    /// Every predicate but a project one passed.
    ProjectFail,
}

/// One caveat: a JSON object whose every predicate must pass (8.6). A
/// caveat that is not UTF-8, not JSON, not an object, or has an argument of
/// the wrong type is unsatisfied.
fn check_caveat(caveat: &[u8], now: f64, project: Option<&str>) -> CaveatCheck {
    let Ok(serde_json::Value::Object(predicates)) = serde_json::from_slice(caveat) else {
        return CaveatCheck::Fail;
    };
    let mut result = CaveatCheck::Pass;
    for (key, argument) in &predicates {
        let time = || argument.as_f64();
        let projects = || -> Option<Vec<&str>> {
            argument
                .as_array()?
                .iter()
                .map(serde_json::Value::as_str)
                .collect()
        };
        match key.as_str() {
            "not_before" => match time() {
                Some(bound) if now > bound => {}
                _ => return CaveatCheck::Fail,
            },
            "not_after" => match time() {
                Some(bound) if now < bound => {}
                _ => return CaveatCheck::Fail,
            },
            "project_allow" => match (projects(), project) {
                (None, _) => return CaveatCheck::Fail,
                (Some(_), None) => {}
                (Some(list), Some(p)) if list.contains(&p) => {}
                (Some(_), Some(_)) => result = CaveatCheck::ProjectFail,
            },
            "project_deny" => match (projects(), project) {
                (None, _) => return CaveatCheck::Fail,
                (Some(_), None) => {}
                (Some(list), Some(p)) if !list.contains(&p) => {}
                (Some(_), Some(_)) => result = CaveatCheck::ProjectFail,
            },
            _ => return CaveatCheck::Fail,
        }
    }
    result
}

/// One packet's key and value.
type Packet<'a> = (&'a [u8], &'a [u8]);

/// Iterates `LLLL key SP value LF` packets.
struct Packets<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Packets<'a> {
    fn next(&mut self) -> Result<Option<Packet<'a>>, TokenError> {
        if self.at == self.raw.len() {
            return Ok(None);
        }
        let header = self
            .raw
            .get(self.at..self.at + HEADER)
            .ok_or(TokenError::Format("a truncated packet header"))?;
        let length = std::str::from_utf8(header)
            .ok()
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .ok_or(TokenError::Format(
                "a packet header that is not 4 hex digits",
            ))?;
        if length < MIN_PACKET {
            return Err(TokenError::Format("a packet shorter than its header"));
        }
        let packet = self
            .raw
            .get(self.at..self.at + length)
            .ok_or(TokenError::Format("a packet longer than the token"))?;
        let content = &packet[HEADER..];
        let (body, last) = content.split_at(content.len() - 1);
        if last != b"\n" {
            return Err(TokenError::Format("a packet that does not end in LF"));
        }
        let space = body
            .iter()
            .position(|&b| b == b' ')
            .ok_or(TokenError::Format("a packet without a space"))?;
        self.at += length;
        Ok(Some((&body[..space], &body[space + 1..])))
    }

    fn expect(&mut self, key: &[u8]) -> Result<&'a [u8], TokenError> {
        match self.next()? {
            Some((found, value)) if found == key => Ok(value),
            _ => Err(TokenError::Format(
                "packets out of order (location, identifier, cid…, signature)",
            )),
        }
    }
}

fn packet_length(key: &str, value: &[u8]) -> usize {
    HEADER + key.len() + 1 + value.len() + 1
}

/// Whether `value` fits one packet (v1 lengths are 4 hex digits).
fn fits(key: &str, value: &[u8]) -> Result<(), TokenError> {
    if packet_length(key, value) > MAX_PACKET {
        return Err(TokenError::Format("a packet longer than 65535 bytes"));
    }
    Ok(())
}

/// Every value was checked by [`fits`] (minted) or came from a packet.
fn packet(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    let length = packet_length(key, value);
    out.extend_from_slice(format!("{length:04x}").as_bytes());
    out.extend_from_slice(key.as_bytes());
    out.push(b' ');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// k' = HMAC("macaroons-key-generator", root key).
fn derived_key(root_key: &[u8]) -> [u8; SIGNATURE_BYTES] {
    hmac(b"macaroons-key-generator", root_key)
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; SIGNATURE_BYTES] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn constant_time_eq(a: &[u8; SIGNATURE_BYTES], b: &[u8; SIGNATURE_BYTES]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}
