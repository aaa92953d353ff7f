//! Module signatures: ed25519 over the component's sha256, with a context
//! prefix so that a Postern module signature means nothing anywhere else.
//!
//! Text forms (one line each, what `postern module keygen` / `sign` write):
//! - public key: `ed25519:<base64 of the 32-byte key>`
//! - secret key: `ed25519-secret:<base64 of the 32-byte seed>`
//! - signature:  `ed25519:<base64 public key>:<base64 of the 64-byte signature>`
//!
//! The signature names its key so that the server can say "signed by a key
//! that is not trusted" rather than only "bad signature".

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// What is signed: this prefix, then the 32 raw bytes of sha256(component).
const CONTEXT: &[u8] = b"postern module signature v1\0";

const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "ed25519-secret:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error(
        "the module is not signed, and this server accepts only modules signed by a trusted key"
    )]
    Missing,
    #[error("malformed signature: {0}")]
    Malformed(String),
    #[error("the module is signed by {0}, which is not a trusted key")]
    UntrustedKey(String),
    #[error("the signature by {0} does not match the module's bytes")]
    Mismatch(String),
}

/// A trusted or signing public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn parse(text: &str) -> Result<Self, String> {
        let encoded = text
            .trim()
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or_else(|| format!("a public key starts with `{PUBLIC_PREFIX}`"))?;
        let bytes: [u8; 32] = decode_fixed(encoded, "public key")?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|e| format!("invalid ed25519 public key: {e}"))
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", STANDARD.encode(self.0.as_bytes()))
    }
}

/// A signing key (`postern module keygen`).
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| format!("no randomness available: {e}"))?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let encoded = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| format!("a secret key starts with `{SECRET_PREFIX}`"))?;
        let seed: [u8; 32] = decode_fixed(encoded, "secret key")?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(self.0.to_bytes()))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The signature line for `component`.
    pub fn sign(&self, component: &[u8]) -> String {
        let signature = self.0.sign(&signed_message(component));
        format!(
            "{}:{}",
            self.public(),
            STANDARD.encode(signature.to_bytes())
        )
    }
}

/// Checks `signature` (a signature line, or empty for none) over `component`
/// against `trusted`. With no trusted keys every upload is accepted, and a
/// signature, if any, must still be well formed and valid. Returns the key
/// that signed, if signed.
pub fn verify(
    component: &[u8],
    signature: &str,
    trusted: &[PublicKey],
) -> Result<Option<PublicKey>, SignatureError> {
    let signature = signature.trim();
    if signature.is_empty() {
        return if trusted.is_empty() {
            Ok(None)
        } else {
            Err(SignatureError::Missing)
        };
    }
    let (key, signature) = parse_signature(signature).map_err(SignatureError::Malformed)?;
    if !trusted.is_empty() && !trusted.contains(&key) {
        return Err(SignatureError::UntrustedKey(key.to_string()));
    }
    key.0
        .verify(&signed_message(component), &signature)
        .map_err(|_| SignatureError::Mismatch(key.to_string()))?;
    Ok(Some(key))
}

fn parse_signature(line: &str) -> Result<(PublicKey, Signature), String> {
    let rest = line
        .strip_prefix(PUBLIC_PREFIX)
        .ok_or_else(|| format!("a signature starts with `{PUBLIC_PREFIX}`"))?;
    let (key, signature) = rest
        .split_once(':')
        .ok_or("a signature is `ed25519:<public key>:<signature>`")?;
    let key = PublicKey::parse(&format!("{PUBLIC_PREFIX}{key}"))?;
    let bytes: [u8; 64] = decode_fixed(signature, "signature")?;
    Ok((key, Signature::from_bytes(&bytes)))
}

fn signed_message(component: &[u8]) -> Vec<u8> {
    let mut message = CONTEXT.to_vec();
    message.extend_from_slice(&Sha256::digest(component));
    message
}

fn decode_fixed<const N: usize>(encoded: &str, what: &str) -> Result<[u8; N], String> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("{what}: invalid base64: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{what}: {} bytes, expected {N}", b.len()))
}
