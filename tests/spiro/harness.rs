//! What the spiro server tests share: an in-process Postern serving only
//! `[spiro]`, tokens under its key, a small HTTP/1.1 client (multipart
//! requests, chunked replies), tar bundles as a hostile client writes them,
//! snapshots of trees on disk, and the real client `spiro-deploy` 0.4.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use postern::workflows::spiro::macaroon::Macaroon;
use postern::workflows::spiro::tokens;
use tar::{EntryType, Header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::shared_aot_cache;

pub const POSTERN: &str = env!("CARGO_BIN_EXE_postern");

/// The whole stream of a deployment without highstate (spec 7.3).
pub const STREAM_DEPLOY_ONLY: &str =
    "event: deploy-bundle\ndata: {\"msg\": \"Deploying bundle\"}\n\n";

/// The whole stream with highstate and no targets: the byte example of 7.3.
pub const STREAM_HIGHSTATE_NO_TARGETS: &str = "event: deploy-bundle\n\
data: {\"msg\": \"Deploying bundle\"}\n\
\n\
event: highstate-calc\n\
data: {\"msg\": \"Calculating minions to highstate\"}\n\
\n\
event: highstate-start\n\
data: {\"msg\": \"No minions to highstate\", \"minions\": []}\n\
\n\
event: highstate-finish\n\
data: {\"msg\": \"Highstate complete\"}\n\
\n";

pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The `[spiro]` config of a test server, data under `data_dir`.
pub fn spiro_config(data_dir: &Path, listen: &str, spiro_extra: &str) -> String {
    format!(
        "data_dir = {data:?}\n[admin]\nlisten = \"127.0.0.1:0\"\n[engine]\ncache_dir = {cache:?}\n\
         [spiro]\nlisten = \"{listen}\"\n{spiro_extra}\n",
        data = data_dir.display().to_string(),
        cache = shared_aot_cache().display().to_string(),
    )
}

/// A Postern started in-process with only the spiro workflow; its data
/// directory is `dir/data`, its config also written to `dir/postern.toml`
/// (for `postern spiro --config`).
pub struct SpiroServer {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    server: Option<postern::RunningServer>,
}

impl SpiroServer {
    pub async fn start() -> SpiroServer {
        Self::start_with("").await
    }

    /// `spiro_extra` goes into the `[spiro]` table; it may end with a
    /// `[spiro.limits]` table.
    pub async fn start_with(spiro_extra: &str) -> SpiroServer {
        crate::support::init_logging();
        let dir = tempfile::tempdir().expect("temp dir");
        let config = spiro_config(&dir.path().join("data"), "127.0.0.1:0", spiro_extra);
        std::fs::write(dir.path().join("postern.toml"), &config).unwrap();
        let config = postern::Config::parse(&config, "test").expect("valid test config");
        let server = postern::start(&config).await.expect("server starts");
        SpiroServer {
            addr: server.spiro_addr.expect("spiro configured"),
            server: Some(server),
            dir,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("postern.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn deploy_root(&self) -> PathBuf {
        self.data_dir().join("spiro/deployments")
    }

    pub fn staging_root(&self) -> PathBuf {
        self.data_dir().join("spiro/staging")
    }

    pub fn deployment(&self, project: &str, deployment: &str) -> PathBuf {
        self.deploy_root().join(project).join(deployment)
    }

    pub fn key(&self) -> Vec<u8> {
        let path = self.data_dir().join("spiro/macaroon-key");
        assert!(path.is_file(), "the server creates its key file at start");
        tokens::load_or_create_key(&path).unwrap()
    }

    /// A token for `projects`, valid for an hour.
    pub fn token(&self, projects: &[&str]) -> String {
        let projects: Vec<String> = projects.iter().map(|p| p.to_string()).collect();
        tokens::issue(&self.key(), now() - 1.0, Some(3600), Some(&projects))
            .unwrap()
            .serialize()
    }

    /// A token for every project.
    pub fn root_token(&self) -> String {
        tokens::issue(&self.key(), now() - 1.0, None, None)
            .unwrap()
            .serialize()
    }

    /// A token with exactly these caveats, under the server's key.
    pub fn token_with(&self, caveats: &[&str]) -> String {
        minted(&self.key(), caveats)
    }

    /// `POST /` with the real client's parts: project, deployment, the
    /// highstate field `True` when asked, the bundle.
    pub async fn deploy(
        &self,
        token: &str,
        project: &str,
        deployment: &str,
        highstate: bool,
        bundle: &[u8],
    ) -> Reply {
        let mut form = Form::new()
            .field("project", project)
            .field("deployment", deployment);
        if highstate {
            form = form.field("highstate", "True");
        }
        post_form(
            self.addr,
            Some(&format!("bearer {token}")),
            form.file("bundle", "bundle", bundle),
        )
        .await
    }

    /// What is under the staging root besides the lock file.
    pub fn staging_leftovers(&self) -> Vec<String> {
        leftovers(&self.staging_root())
    }

    pub async fn shut_down(mut self) -> tempfile::TempDir {
        self.server.take().expect("running").shut_down().await;
        self.dir
    }
}

/// Entries of `staging_root` other than `.lock` (sorted).
pub fn leftovers(staging_root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(staging_root)
        .unwrap_or_else(|e| panic!("reading {}: {e}", staging_root.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".lock")
        .collect();
    names.sort();
    names
}

/// A macaroon with an empty location, a fixed identifier and `caveats`,
/// signed under `key`.
pub fn minted(key: &[u8], caveats: &[&str]) -> String {
    let caveats: Vec<&[u8]> = caveats.iter().map(|c| c.as_bytes()).collect();
    Macaroon::mint(key, b"", b"postern-test-tokenid", &caveats)
        .unwrap()
        .serialize()
}

// ---------------------------------------------------------------- HTTP

/// A response read off the wire: chunked bodies are decoded, `chunked`
/// records whether they were.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub chunked: bool,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_event_stream(&self) -> bool {
        self.header("content-type") == Some("text/event-stream")
    }

    /// The 401 of spec 13.3: exactly one `WWW-Authenticate: Bearer`.
    #[track_caller]
    pub fn assert_unauthorized(&self, case: &str) {
        assert_eq!(self.status, 401, "{case}: {}", self.text());
        assert_eq!(
            self.headers_named("www-authenticate"),
            ["Bearer"],
            "{case}: WWW-Authenticate"
        );
        assert!(!self.is_event_stream(), "{case}");
    }

    /// A pre-stream refusal: `status` with a one-line text/plain reason.
    #[track_caller]
    pub fn assert_refused(&self, status: u16, case: &str) {
        assert_eq!(self.status, status, "{case}: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{case}"
        );
        let text = self.text();
        assert!(
            !text.trim().is_empty() && !text.trim_end().contains('\n'),
            "{case}: a one-line reason, got {text:?}"
        );
    }
}

/// Sends `head` and `body` on a fresh connection (the head must carry
/// `Connection: close`) and reads the response to the end of the
/// connection. The body is written by another task while the response is
/// read, so a server answering early is heard even while we still send.
pub async fn exchange(addr: SocketAddr, head: String, body: Vec<u8>) -> Reply {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_ok() && writer.write_all(&body).await.is_ok()
        {
            let _ = writer.flush().await;
        }
        // Keep the write half open until the reader is done: dropping it
        // would half-close the connection.
        writer
    });
    let mut raw = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            // A reset after the server's answer (it stopped reading an
            // over-long body): keep what arrived.
            Err(e) if !raw.is_empty() => {
                eprintln!("read ended with {e} after {} bytes", raw.len());
                break;
            }
            Err(e) => panic!("reading the response from {addr}: {e}"),
        }
    }
    sender.abort();
    parse_reply(&raw)
}

pub fn parse_reply(raw: &[u8]) -> Reply {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no complete response header in {:?}",
                String::from_utf8_lossy(raw)
            )
        });
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else if let Some((_, length)) = headers.iter().find(|(n, _)| n == "content-length") {
        let length: usize = length.parse().expect("numeric content-length");
        rest[..length.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body,
        chunked,
    }
}

/// Decodes a chunked body; panics unless it ends with the last chunk.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk-size line (the stream ended early)");
        let size_text = std::str::from_utf8(&rest[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .unwrap_or_else(|_| panic!("a chunk size, got {size_text:?}"));
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        assert!(rest.len() >= size + 2, "a truncated chunk");
        body.extend_from_slice(&rest[..size]);
        assert_eq!(&rest[size..size + 2], b"\r\n", "chunk terminator");
        rest = &rest[size + 2..];
    }
}

/// A request with `Connection: close`; `headers` are written as given.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    exchange(addr, head, body.to_vec()).await
}

/// `GET path` with an optional `Authorization` value.
pub async fn get(addr: SocketAddr, path: &str, authorization: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| ("Authorization", a))
        .into_iter()
        .collect();
    request(addr, "GET", path, &headers, b"").await
}

/// `POST /` of a multipart form, as the real client sends it.
pub async fn post_form(addr: SocketAddr, authorization: Option<&str>, form: Form) -> Reply {
    let (content_type, body) = form.finish();
    let mut headers = vec![
        ("Accept", "text/event-stream"),
        ("Cache-Control", "no-cache"),
        ("Content-Type", content_type.as_str()),
    ];
    if let Some(authorization) = authorization {
        headers.push(("Authorization", authorization));
    }
    request(addr, "POST", "/", &headers, &body).await
}

/// A `multipart/form-data` body, parts in the order added.
pub struct Form {
    boundary: String,
    body: Vec<u8>,
}

impl Default for Form {
    fn default() -> Self {
        Self::new()
    }
}

impl Form {
    pub fn new() -> Form {
        Form {
            // As urllib3 does: 32 hex digits.
            boundary: "7d1c0f5e2a9b4c6d8e0f1a2b3c4d5e6f".into(),
            body: Vec::new(),
        }
    }

    pub fn field(mut self, name: &str, value: &str) -> Form {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        self
    }

    /// A file part (urllib3 sends no part Content-Type for a buffer).
    pub fn file(mut self, name: &str, filename: &str, data: &[u8]) -> Form {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(data);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    pub fn finish(mut self) -> (String, Vec<u8>) {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            self.body,
        )
    }
}

/// The (event, data) pairs of an event stream, checking its framing: every
/// block is exactly `event:` then `data:` then a blank line.
pub fn events(stream: &str) -> Vec<(String, serde_json::Value)> {
    assert!(stream.is_ascii(), "the stream is ASCII (7.2): {stream:?}");
    let mut out = Vec::new();
    let mut blocks = stream.split("\n\n").collect::<Vec<_>>();
    assert_eq!(
        blocks.pop(),
        Some(""),
        "the stream ends with a blank line: {stream:?}"
    );
    for block in blocks {
        let (event, data) = block
            .split_once('\n')
            .unwrap_or_else(|| panic!("a two-line block, got {block:?}"));
        let event = event
            .strip_prefix("event: ")
            .unwrap_or_else(|| panic!("an event line, got {event:?}"));
        let data = data
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("a data line, got {data:?}"));
        out.push((event.to_string(), serde_json::from_str(data).unwrap()));
    }
    out
}

// ---------------------------------------------------------------- bundles

/// A tar member as raw as a hostile client writes it: the name goes
/// straight into the header (no sanitizing).
#[derive(Clone)]
pub struct Member {
    pub name: Vec<u8>,
    pub kind: EntryType,
    pub mode: u32,
    pub data: Vec<u8>,
    pub link: Option<&'static str>,
}

pub fn file(name: &str, data: &[u8]) -> Member {
    Member {
        name: name.as_bytes().to_vec(),
        kind: EntryType::Regular,
        mode: 0o644,
        data: data.to_vec(),
        link: None,
    }
}

pub fn dir(name: &str) -> Member {
    Member {
        name: name.as_bytes().to_vec(),
        kind: EntryType::Directory,
        mode: 0o755,
        data: Vec::new(),
        link: None,
    }
}

pub fn special(name: &str, kind: EntryType, link: Option<&'static str>) -> Member {
    Member {
        name: name.as_bytes().to_vec(),
        kind,
        mode: 0o644,
        data: Vec::new(),
        link,
    }
}

impl Member {
    pub fn mode(mut self, mode: u32) -> Member {
        self.mode = mode;
        self
    }
}

/// An uncompressed tar of `members` (GNU headers, names unchecked).
pub fn tar_of(members: &[Member]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for member in members {
        let mut header = Header::new_gnu();
        let name = &mut header.as_old_mut().name;
        assert!(
            member.name.len() <= name.len(),
            "test names fit the old header"
        );
        name[..member.name.len()].copy_from_slice(&member.name);
        header.set_entry_type(member.kind);
        header.set_mode(member.mode);
        header.set_size(member.data.len() as u64);
        header.set_mtime(1_600_000_000);
        if let Some(link) = member.link {
            header.set_link_name(link).unwrap();
        }
        header.set_cksum();
        builder.append(&header, member.data.as_slice()).unwrap();
    }
    builder.into_inner().unwrap()
}

/// An uncompressed tar of regular files (mode 0644), parents implied.
pub fn tar_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    tar_of(&files.iter().map(|(n, d)| file(n, d)).collect::<Vec<_>>())
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut writer =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
    writer.write_all(bytes).unwrap();
    writer.finish().unwrap()
}

/// `count` files `d<i % 50>/f<i>` whose content starts with `tag`: bundles
/// that are told apart by every file.
pub fn tagged_files(tag: &str, count: usize) -> Vec<(String, Vec<u8>)> {
    (0..count)
        .map(|i| {
            (
                format!("d{}/f{i}", i % 50),
                format!("{tag}:{i}\n").into_bytes(),
            )
        })
        .collect()
}

pub fn tar_owned(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    tar_of(&files.iter().map(|(n, d)| file(n, d)).collect::<Vec<_>>())
}

// ---------------------------------------------------------------- trees

/// A node of a tree on disk: permission bits (and setuid & co) included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    File { data: Vec<u8>, mode: u32 },
    Dir { mode: u32 },
    Other { kind: String },
}

/// Everything below `root`, by relative path; symlinks are not followed.
pub fn tree(root: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out).unwrap_or_else(|e| panic!("walking {}: {e}", root.display()));
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Node>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::symlink_metadata(&path)?;
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() {
            out.insert(relative, Node::Dir { mode });
            walk(root, &path, out)?;
        } else if meta.is_file() {
            out.insert(
                relative,
                Node::File {
                    data: std::fs::read(&path)?,
                    mode,
                },
            );
        } else {
            out.insert(
                relative,
                Node::Other {
                    kind: format!("{:?}", meta.file_type()),
                },
            );
        }
    }
    Ok(())
}

/// The regular files of a tree, by relative path (anything else panics).
pub fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(root)
        .into_iter()
        .filter_map(|(path, node)| match node {
            Node::File { data, .. } => Some((path, data)),
            Node::Dir { .. } => None,
            Node::Other { kind } => panic!("{path} is a {kind}, not a file or directory"),
        })
        .collect()
}

pub fn file_map(files: &[(String, Vec<u8>)]) -> BTreeMap<String, Vec<u8>> {
    files.iter().cloned().collect()
}

/// One consistent look at a live deployment, as a reader that opens the
/// directory once sees it. `Err` when the deployment does not exist;
/// `Ok(None)` when it was swapped while we read (the snapshot may mix).
pub fn snapshot(live: &Path) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    use std::os::fd::AsRawFd;
    let missing = |e: std::io::Error| format!("{} is missing: {e}", live.display());
    let before = std::fs::metadata(live).map_err(missing)?;
    let handle = std::fs::File::open(live).map_err(missing)?;
    if handle.metadata().unwrap().ino() != before.ino() {
        return Ok(None);
    }
    let root = PathBuf::from(format!("/proc/self/fd/{}", handle.as_raw_fd()));
    let mut out = BTreeMap::new();
    let read = walk(&root, &root, &mut out);
    let after = std::fs::metadata(live).map_err(missing)?;
    // nlink 0: the tree we read was retired and deleted meanwhile.
    if read.is_err() || after.ino() != before.ino() || handle.metadata().unwrap().nlink() == 0 {
        return Ok(None);
    }
    Ok(Some(
        out.into_iter()
            .filter_map(|(path, node)| match node {
                Node::File { data, .. } => Some((path, data)),
                _ => None,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------- the real client

/// `spiro-deploy` 0.4: `$POSTERN_SPIRO_DEPLOY` (set by `.ci/run`), else a
/// virtualenv `target/spiro-deploy-venv` created here on first use with
/// `python3 -m venv` and pip, as `.ci/run` does.
pub fn spiro_deploy() -> &'static Path {
    static CLIENT: OnceLock<PathBuf> = OnceLock::new();
    CLIENT.get_or_init(|| {
        if let Some(path) = std::env::var_os("POSTERN_SPIRO_DEPLOY") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "POSTERN_SPIRO_DEPLOY={} is not a file",
                path.display()
            );
            return path;
        }
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("CARGO_TARGET_TMPDIR is inside the target directory");
        let venv = target.join("spiro-deploy-venv");
        // Other test processes may install at the same time.
        let lock = std::fs::File::create(target.join("spiro-deploy-venv.lock")).unwrap();
        lock.lock().unwrap();
        if !has_client(&venv) {
            install_client(&venv);
        }
        venv.join("bin/spiro-deploy")
    })
}

fn has_client(venv: &Path) -> bool {
    Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import importlib.metadata as m, sys; sys.exit(m.version('spiro-deploy') != '0.4')",
        ])
        .output()
        .is_ok_and(|out| out.status.success())
}

fn install_client(venv: &Path) {
    let _ = std::fs::remove_dir_all(venv);
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "python3 is needed to install spiro-deploy 0.4 (the real client the spiro tests \
                 drive): {e}. Install Python 3 with venv and pip, or point POSTERN_SPIRO_DEPLOY \
                 at a spiro-deploy 0.4 executable"
            )
        });
    assert!(
        created.status.success(),
        "python3 -m venv {}: {}",
        venv.display(),
        String::from_utf8_lossy(&created.stderr)
    );
    let installed = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "spiro-deploy==0.4",
        ])
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "pip install spiro-deploy==0.4 failed (PyPI unreachable?): {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    assert!(has_client(venv), "spiro-deploy 0.4 installed");
}

/// One run of the real client.
#[derive(Debug)]
pub struct ClientRun {
    pub code: Option<i32>,
    /// With the ANSI colour codes removed.
    pub stdout: String,
    pub stderr: String,
}

/// Runs `spiro-deploy ARGS` in `repo` with `SPIRO_URL` and `SPIRO_TOKEN`.
pub async fn run_client(repo: &Path, url: &str, token: &str, args: &[&str]) -> ClientRun {
    let client = spiro_deploy();
    let output = tokio::process::Command::new(client)
        .args(args)
        .current_dir(repo)
        .env("SPIRO_URL", url)
        .env("SPIRO_TOKEN", token)
        .env("NO_PROXY", "*")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {}: {e}", client.display()));
    ClientRun {
        code: output.status.code(),
        stdout: strip_ansi(&String::from_utf8_lossy(&output.stdout)),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Removes `ESC [ … letter` sequences.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `git ARGS` in `repo`, with a fixed identity; its trimmed stdout.
pub fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Postern Test",
            "-c",
            "user.email=test@postern.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is installed");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Writes `files` (relative path → content) under `root`, parents created.
pub fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (path, data) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap();
    }
}
