//! Deployed content, read-only, with the deploy tokens (issue 5, item 5):
//! `GET /deployments/<project>/<deployment>/` lists the regular files of a
//! deployment as JSON; `GET /deployments/<project>/<deployment>/<path>`
//! returns one. Every path is resolved through directory handles without
//! following links, inside the live deployment only.

use std::io::Read;
use std::path::Path;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde::Serialize;

use super::Spiro;
use super::body::ChannelBody;
use super::confined::Confined;
use super::front_door::{CONTENT_PREFIX, SpiroResponse, full, refusal_response};
use super::macaroon::Macaroon;
use super::tokens::is_valid_name;
use super::upload::{Refusal, percent_decode};

#[derive(Serialize)]
struct Listing {
    project: String,
    deployment: String,
    files: Vec<ListedFile>,
}

#[derive(Serialize)]
struct ListedFile {
    path: String,
    size: u64,
}

pub async fn serve(spiro: &Spiro, macaroon: &Macaroon, path: &str) -> SpiroResponse {
    match respond(spiro, macaroon, path).await {
        Ok(response) => response,
        Err(refusal) => refusal_response(refusal).0,
    }
}

async fn respond(spiro: &Spiro, macaroon: &Macaroon, path: &str) -> Result<SpiroResponse, Refusal> {
    let rest = &path[CONTENT_PREFIX.len()..];
    let mut segments = rest.splitn(3, '/');
    let project = decode_segment(segments.next().unwrap_or_default())?;
    let deployment = decode_segment(segments.next().unwrap_or_default())?;
    let file = segments.next();
    for (what, name) in [("project", &project), ("deployment", &deployment)] {
        if !is_valid_name(name) {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("invalid {what} name {name:?}"),
            ));
        }
    }
    spiro
        .authority
        .authorize(macaroon, &project)
        .map_err(Refusal::from_denied)?;
    let root = spiro
        .deployments
        .deploy_root()
        .join(&project)
        .join(&deployment);
    let not_found = || {
        Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no deployment {project}/{deployment}"),
        )
    };
    match file {
        // `/deployments/p/d` (no slash) and `/deployments/p/d/`: the listing.
        None | Some("") => {
            let files = tokio::task::spawn_blocking(move || list_files(&root))
                .await
                .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
                .map_err(|_| not_found())?;
            let listing = Listing {
                project: project.clone(),
                deployment: deployment.clone(),
                files,
            };
            let body = serde_json::to_vec(&listing).expect("a listing serializes");
            Ok(Response::builder()
                .header(CONTENT_TYPE, "application/json")
                .body(full(body))
                .expect("a static response is valid"))
        }
        Some(file) => {
            let mut components = Vec::new();
            for segment in file.split('/') {
                let component = decode_segment(segment)?;
                if component.is_empty()
                    || component == "."
                    || component == ".."
                    || component.contains('/')
                {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        format!("invalid path {file:?}"),
                    ));
                }
                components.push(component);
            }
            let name = components.join("/");
            send_file(&root, &name).await.map_err(|_| {
                Refusal::new(
                    StatusCode::NOT_FOUND,
                    format!("no file {name:?} in {project}/{deployment}"),
                )
            })
        }
    }
}

fn decode_segment(segment: &str) -> Result<String, Refusal> {
    let bytes = percent_decode(segment, false);
    let text = String::from_utf8(bytes)
        .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "the path is not UTF-8"))?;
    if text.contains('\0') {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "the path contains a NUL byte",
        ));
    }
    Ok(text)
}

/// The regular files below `root`, sorted by path (directories walked
/// without following links).
fn list_files(root: &Path) -> std::io::Result<Vec<ListedFile>> {
    Confined::open(root)?;
    let mut files = Vec::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let meta = entry.metadata()?; // does not follow links
            if meta.is_dir() {
                pending.push((entry.path(), path));
            } else if meta.is_file() {
                files.push(ListedFile {
                    path,
                    size: meta.len(),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The file's bytes, streamed from a blocking reader.
async fn send_file(root: &Path, name: &str) -> std::io::Result<SpiroResponse> {
    let (root, name) = (root.to_path_buf(), name.to_string());
    let file = tokio::task::spawn_blocking(move || {
        let file = Confined::open(&root)?.open_existing(&name)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        }
        Ok((file, meta.len()))
    })
    .await
    .map_err(std::io::Error::other)??;
    let (mut file, length) = file;
    let (sender, body) = ChannelBody::new(4);
    tokio::task::spawn_blocking(move || {
        let mut buffer = vec![0u8; 64 << 10];
        loop {
            match file.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sender
                        .blocking_send(Bytes::copy_from_slice(&buffer[..n]))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    Ok(Response::builder()
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(CONTENT_LENGTH, length)
        .body(body.boxed())
        .expect("a static response is valid"))
}
