//! Minting spiro tokens as `spiro.issue_token` / `issue_root_token` do
//! (spec 8.9, 13.8): the root key file, identifiers, and the one caveat in
//! Python's `json.dumps` layout.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::macaroon::{Macaroon, TokenError};
use crate::python::json::{self, Json};

/// The 94 printable ASCII symbols (no space) keys and identifiers are drawn from.
pub const ALPHABET: &[u8] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const KEY_CHARS: usize = 64;
const IDENTIFIER_CHARS: usize = 20;

/// `n` symbols of [`ALPHABET`], uniformly (rejection sampling).
pub fn random_string(n: usize) -> std::io::Result<Vec<u8>> {
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut out = Vec::with_capacity(n);
    let mut pool = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut pool).map_err(|e| std::io::Error::other(e.to_string()))?;
        out.extend(
            pool.iter()
                .filter(|&&b| b < limit)
                .map(|&b| ALPHABET[b as usize % ALPHABET.len()])
                .take(n - out.len()),
        );
    }
    Ok(out)
}

/// The root key: the file's exact bytes (never stripped), created with 64
/// random symbols, mode 0600 and `O_EXCL` when absent.
pub fn load_or_create_key(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(key) => return Ok(key),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key = random_string(KEY_CHARS)?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            file.write_all(&key)?;
            file.sync_all()?;
            Ok(key)
        }
        // Someone (the server, another CLI) created it first: theirs wins.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path),
        Err(e) => Err(e),
    }
}

/// The caveat `issue_token` writes: keys in its order, `json.dumps` layout.
pub fn caveat(now: f64, lifespan: Option<u64>, projects: Option<&[String]>) -> String {
    let mut members = vec![("not_before".to_string(), Json::Float(now))];
    if let Some(lifespan) = lifespan {
        members.push(("not_after".into(), Json::Float(now + lifespan as f64)));
    }
    if let Some(projects) = projects {
        let list = projects.iter().map(|p| Json::str(p.as_str())).collect();
        members.push(("project_allow".into(), Json::Array(list)));
    }
    json::dumps(&Json::Object(members))
}

/// Now, as the float seconds since the epoch that time caveats compare with.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A token with an empty location, a fresh identifier and one caveat.
pub fn issue(
    key: &[u8],
    now: f64,
    lifespan: Option<u64>,
    projects: Option<&[String]>,
) -> Result<Macaroon, TokenError> {
    let identifier =
        random_string(IDENTIFIER_CHARS).map_err(|_| TokenError::Format("no randomness"))?;
    Macaroon::mint(
        key,
        b"",
        &identifier,
        &[caveat(now, lifespan, projects).as_bytes()],
    )
}

/// Project and deployment names: `^[A-Za-z0-9][A-Za-z0-9._-]*$`, not `.`/`..`.
pub fn is_valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
