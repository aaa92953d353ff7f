//! Receiving a deployment (specs/spiro.md 5.1, 13.2): the multipart body is
//! read as a stream; form fields are collected as Tornado's `get_argument`
//! sees them (query string and body, the last value winning); the project
//! check runs as soon as the bundle part begins, so a 403 is decided before
//! any of the bundle is spooled; the bundle is spooled to a file, never
//! held in memory, and the file is removed whatever the outcome.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper::{HeaderMap, StatusCode};
use tokio::io::AsyncWriteExt;

use super::Spiro;
use super::auth::Denied;
use super::body::{BodyFault, BodyState, bounded_stream};
use super::macaroon::Macaroon;
use super::tokens::is_valid_name;

/// A form field longer than this is refused: the real ones are names.
const MAX_FIELD_BYTES: usize = 64 << 10;

/// A complete, authorized upload, ready for the tar scan.
pub struct Upload {
    pub project: String,
    pub deployment: String,
    pub highstate: bool,
    pub spool: Spool,
}

/// A pre-stream answer: the status and its one-line reason.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    pub fn from_denied(denied: Denied) -> Self {
        match denied {
            Denied::Unauthenticated(why) => Self::new(StatusCode::UNAUTHORIZED, why),
            Denied::Forbidden(why) => Self::new(StatusCode::FORBIDDEN, why),
        }
    }
}

/// The spooled bundle; the file goes when this does.
pub struct Spool {
    path: PathBuf,
}

impl Spool {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), %error, "spiro: removing a spool file failed");
        }
    }
}

/// Reads the whole request. On a refusal the rest of the body has been
/// read and discarded (up to the body limit), so the client sees the status.
pub async fn receive(
    spiro: &Spiro,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Incoming,
    macaroon: &Macaroon,
) -> Result<Upload, Refusal> {
    let limits = &spiro.config.limits;
    let state = Arc::new(Mutex::new(BodyState::default()));
    let stream = bounded_stream(
        body,
        limits.max_body_bytes,
        spiro.config.body_idle_timeout,
        Arc::clone(&state),
    );
    let boundary = match headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(multer::parse_boundary)
    {
        Some(Ok(boundary)) => boundary,
        _ => {
            super::body::drain(stream, &state).await;
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "the body must be multipart/form-data with a boundary",
            ));
        }
    };
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut reader = Reader {
        spiro,
        macaroon,
        arguments: query.map(query_arguments).unwrap_or_default(),
        bundles: 0,
        spool: None,
        state: &state,
    };
    match reader.read_parts(&mut multipart).await {
        Ok(()) => {}
        Err(refusal) => {
            drain_parts(&mut multipart, &state).await;
            return Err(refusal);
        }
    }
    let (project, deployment) = reader.check_fields(true)?.expect("checked in full");
    let spool = match (reader.bundles, reader.spool.take()) {
        (0, _) | (_, None) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "no `bundle` file part: the bundle must be sent as a file",
            ));
        }
        (1, Some(spool)) => spool,
        (n, Some(_)) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("{n} `bundle` file parts: exactly one is expected"),
            ));
        }
    };
    let highstate = reader
        .argument("highstate")?
        .is_some_and(|value| !value.is_empty());
    Ok(Upload {
        project,
        deployment,
        highstate,
        spool,
    })
}

struct Reader<'a> {
    spiro: &'a Spiro,
    macaroon: &'a Macaroon,
    /// (name, raw value) in arrival order: query string first, then body.
    arguments: Vec<(String, Vec<u8>)>,
    bundles: usize,
    spool: Option<Spool>,
    state: &'a Mutex<BodyState>,
}

impl Reader<'_> {
    async fn read_parts(
        &mut self,
        multipart: &mut multer::Multipart<'static>,
    ) -> Result<(), Refusal> {
        loop {
            let next = multipart.next_field().await;
            let Some(mut field) = next.map_err(|e| self.body_refusal(e))? else {
                return Ok(());
            };
            self.progress();
            let name = field.name().unwrap_or_default().to_string();
            let is_file = field.file_name().is_some_and(|f| !f.is_empty());
            if is_file && name == "bundle" {
                self.bundles += 1;
                if self.bundles > 1 {
                    while field
                        .chunk()
                        .await
                        .map_err(|e| self.body_refusal(e))?
                        .is_some()
                    {}
                    continue;
                }
                // The client sends project and deployment first: decide
                // on them before spooling anything.
                self.check_fields(false)?;
                self.spool = Some(self.spool_part(&mut field).await?);
            } else if is_file {
                while field
                    .chunk()
                    .await
                    .map_err(|e| self.body_refusal(e))?
                    .is_some()
                {}
            } else {
                let mut value = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| self.body_refusal(e))? {
                    self.progress();
                    if value.len() + chunk.len() > MAX_FIELD_BYTES {
                        return Err(Refusal::new(
                            StatusCode::BAD_REQUEST,
                            format!(
                                "the form field {name:?} is longer than {MAX_FIELD_BYTES} bytes"
                            ),
                        ));
                    }
                    value.extend_from_slice(&chunk);
                }
                self.arguments.push((name, value));
            }
        }
    }

    async fn spool_part(&self, field: &mut multer::Field<'static>) -> Result<Spool, Refusal> {
        let internal = |e: std::io::Error| {
            tracing::error!(error = %e, "spiro: spooling the bundle failed");
            Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the bundle could not be spooled",
            )
        };
        let path = self.spiro.deployments.staging_path("upload");
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .await
            .map_err(internal)?;
        let spool = Spool { path };
        let mut writer = tokio::io::BufWriter::with_capacity(256 << 10, file);
        while let Some(chunk) = field.chunk().await.map_err(|e| self.body_refusal(e))? {
            self.progress();
            writer.write_all(&chunk).await.map_err(internal)?;
        }
        writer.flush().await.map_err(internal)?;
        Ok(spool)
    }

    fn progress(&self) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .progress();
    }

    /// A multipart error: the body's own fault when it had one (413, a
    /// stall, a broken connection), else a malformed body.
    fn body_refusal(&self, error: multer::Error) -> Refusal {
        let fault = self
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fault
            .clone();
        match fault {
            Some(fault @ BodyFault::TooLarge(_)) => {
                Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, fault.to_string())
            }
            Some(fault @ BodyFault::Idle(_)) => {
                Refusal::new(StatusCode::REQUEST_TIMEOUT, fault.to_string())
            }
            Some(fault @ (BodyFault::Io(_) | BodyFault::Unparsed(_))) => {
                Refusal::new(StatusCode::BAD_REQUEST, fault.to_string())
            }
            None => Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("the multipart body is malformed: {error}"),
            ),
        }
    }

    /// The last value of argument `name`, decoded as Tornado does: UTF-8,
    /// control characters to spaces, surrounding whitespace stripped.
    fn argument(&self, name: &str) -> Result<Option<String>, Refusal> {
        let Some((_, raw)) = self.arguments.iter().rev().find(|(n, _)| n == name) else {
            return Ok(None);
        };
        let text = std::str::from_utf8(raw).map_err(|_| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("the argument {name:?} is not valid UTF-8"),
            )
        })?;
        let cleaned: String = text
            .chars()
            .map(|c| match c {
                '\u{0}'..='\u{8}' | '\u{e}'..='\u{1f}' => ' ',
                _ => c,
            })
            .collect();
        Ok(Some(cleaned.trim().to_string()))
    }

    /// Once both names are known (or, when `complete`, at the end): both
    /// present, both valid names, and the token good for the project.
    fn check_fields(&self, complete: bool) -> Result<Option<(String, String)>, Refusal> {
        let project = self.argument("project")?;
        let deployment = self.argument("deployment")?;
        let (project, deployment) = match (project, deployment) {
            (Some(project), Some(deployment)) => (project, deployment),
            (project, _) if complete => {
                let missing = if project.is_none() {
                    "project"
                } else {
                    "deployment"
                };
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("missing argument {missing}"),
                ));
            }
            _ => return Ok(None),
        };
        for (what, name) in [("project", &project), ("deployment", &deployment)] {
            if !is_valid_name(name) {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid {what} name {name:?}: names match [A-Za-z0-9][A-Za-z0-9._-]*"),
                ));
            }
        }
        self.spiro
            .authority
            .authorize(self.macaroon, &project)
            .map_err(Refusal::from_denied)?;
        Ok(Some((project, deployment)))
    }
}

/// Reads and discards what is left of a multipart body.
async fn drain_parts(multipart: &mut multer::Multipart<'static>, state: &Mutex<BodyState>) {
    let progress = || state.lock().unwrap_or_else(|e| e.into_inner()).progress();
    while let Ok(Some(mut field)) = multipart.next_field().await {
        progress();
        while let Ok(Some(_)) = field.chunk().await {
            progress();
        }
    }
}

/// `a=1&b=%20x+y` → [("a", "1"), ("b", " x y")], blank values kept, as
/// Python's `parse_qs_bytes(keep_blank_values=True)`.
fn query_arguments(query: &str) -> Vec<(String, Vec<u8>)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                String::from_utf8_lossy(&percent_decode(name, true)).into_owned(),
                percent_decode(value, true),
            )
        })
        .collect()
}

/// `%XX` is a byte (and, in a query string, `+` a space); anything else,
/// a bad escape included, stays as it is.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}
