//! Who may deploy (specs/spiro.md 3, 8.7, 13.1, 13.4): the bearer macaroon
//! of the `Authorization` header, checked without a project for every
//! method (401) and with the project for a deployment (403), and the
//! revocation denylist, re-read whenever its file changes.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::HeaderMap;

use super::macaroon::{Macaroon, TokenError};
use super::tokens::unix_now;

/// Why a request is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// 401: no usable token.
    Unauthenticated(String),
    /// 403: a good token, not for this project.
    Forbidden(String),
}

pub struct Authority {
    key: Vec<u8>,
    revoked: Revocations,
}

impl Authority {
    pub fn new(key: Vec<u8>, revoked_file: PathBuf) -> Self {
        Self {
            key,
            revoked: Revocations::new(revoked_file),
        }
    }

    /// The project-less check of every request (spec 3, 8.7).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Macaroon, Denied> {
        let token = bearer_token(headers).map_err(|why| Denied::Unauthenticated(why.into()))?;
        self.check_token(token)
    }

    /// The project-less check of one token: format, signature, time
    /// bounds, and the denylist.
    pub fn check_token(&self, token: &str) -> Result<Macaroon, Denied> {
        let macaroon =
            Macaroon::parse(token).map_err(|e| Denied::Unauthenticated(e.to_string()))?;
        macaroon
            .verify(&self.key, unix_now(), None)
            .map_err(|e| Denied::Unauthenticated(e.to_string()))?;
        if self.revoked.contains(&macaroon.identifier) {
            return Err(Denied::Unauthenticated("the token has been revoked".into()));
        }
        Ok(macaroon)
    }

    /// The check with the project (spec 8.7): 403 when only the project
    /// predicates refuse, 401 when the token went bad meanwhile.
    pub fn authorize(&self, macaroon: &Macaroon, project: &str) -> Result<(), Denied> {
        match macaroon.verify(&self.key, unix_now(), Some(project)) {
            Ok(()) => Ok(()),
            Err(TokenError::Project) => Err(Denied::Forbidden(format!(
                "the token is not valid for project {project:?}"
            ))),
            Err(error) => Err(Denied::Unauthenticated(error.to_string())),
        }
    }
}

/// The token of `Authorization: <scheme> <token>` (spec 3): split at the
/// first space, the scheme `bearer` in any case, both parts trimmed.
fn bearer_token(headers: &HeaderMap) -> Result<&str, &'static str> {
    let value = headers
        .get(hyper::header::AUTHORIZATION)
        .ok_or("no Authorization header")?
        .to_str()
        .map_err(|_| "the Authorization header is not ASCII")?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or("the Authorization header has no scheme")?;
    if !scheme.trim().eq_ignore_ascii_case("bearer") {
        return Err("the Authorization scheme is not Bearer");
    }
    let token = token.trim();
    if token.is_empty() {
        return Err("the bearer token is empty");
    }
    Ok(token)
}

/// The denylist of token identifiers, one per line, re-read when the
/// file's modification time or size changes.
struct Revocations {
    path: PathBuf,
    cached: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    stamp: Option<(SystemTime, u64)>,
    identifiers: HashSet<Vec<u8>>,
}

impl Revocations {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            cached: Mutex::new(Cached::default()),
        }
    }

    fn contains(&self, identifier: &[u8]) -> bool {
        let stamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.modified().unwrap_or(UNIX_EPOCH), m.len()));
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if cached.stamp != stamp {
            cached.identifiers = match stamp {
                None => HashSet::new(),
                Some(_) => match std::fs::read(&self.path) {
                    Ok(text) => parse_denylist(&text),
                    Err(error) => {
                        // Fail closed on the old list rather than forget it.
                        tracing::warn!(path = %self.path.display(), %error, "spiro: cannot read the revoked identifiers");
                        return cached.identifiers.contains(identifier);
                    }
                },
            };
            cached.stamp = stamp;
        }
        cached.identifiers.contains(identifier)
    }
}

fn parse_denylist(text: &[u8]) -> HashSet<Vec<u8>> {
    text.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Appends `identifier` to the denylist file (`postern spiro revoke-token`).
pub fn revoke(path: &Path, identifier: &[u8]) -> std::io::Result<()> {
    if identifier.is_empty() || identifier.contains(&b'\n') || identifier.contains(&b'\r') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "this identifier cannot be listed (empty or contains a line break)",
        ));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut line = identifier.to_vec();
    line.push(b'\n');
    file.write_all(&line)?;
    file.sync_all()
}
