//! A Postern with vspc, cvproxy and the admin API, on a data directory
//! that outlives it (restart tests), plus an admin API client over HTTP.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::support::{self, RawResponse};

/// The component bytes of a test guest built by runtime/build.rs.
pub fn guest(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

pub struct ModulesServer {
    pub data: PathBuf,
    pub admin: SocketAddr,
    pub cvproxy: SocketAddr,
    pub vspc: SocketAddr,
    pub token: String,
    server: Option<postern::RunningServer>,
}

/// Options of one start.
#[derive(Default)]
pub struct Setup<'a> {
    /// Extra top-level TOML (tables such as `[modules.gate.settings]`).
    pub tables: &'a str,
    /// `[registry]` keys.
    pub registry: &'a str,
    /// Use `<data>/aot` instead of the shared cache (compile counting).
    pub own_cache: bool,
}

impl ModulesServer {
    pub async fn start(data: &Path, setup: Setup<'_>) -> ModulesServer {
        support::init_logging();
        let cache = if setup.own_cache {
            String::new()
        } else {
            format!(
                "cache_dir = {:?}\n",
                support::shared_aot_cache().display().to_string()
            )
        };
        let config = format!(
            "data_dir = {data:?}\n[admin]\nlisten = \"127.0.0.1:0\"\n[engine]\n{cache}\
             [registry]\n{registry}\n[vspc]\nlisten = \"127.0.0.1:0\"\n\
             [cvproxy]\nlisten = \"127.0.0.1:0\"\n{tables}\n",
            data = data.display().to_string(),
            registry = setup.registry,
            tables = setup.tables,
        );
        let config = postern::Config::parse(&config, "test").expect("valid test config");
        let server = postern::start(&config).await.expect("server starts");
        ModulesServer {
            data: data.to_path_buf(),
            admin: server.admin_addr,
            cvproxy: server.cvproxy_addr.expect("cvproxy"),
            vspc: server.vspc_addr.expect("vspc"),
            token: server.admin_token.clone(),
            server: Some(server),
        }
    }

    /// A server on a fresh data directory with `tables` in its config.
    pub async fn with_tables(tables: &str) -> (tempfile::TempDir, ModulesServer) {
        let data = tempfile::tempdir().unwrap();
        let server = ModulesServer::start(
            data.path(),
            Setup {
                tables,
                ..Setup::default()
            },
        )
        .await;
        (data, server)
    }

    pub async fn shut_down(mut self) {
        assert!(self.server.take().expect("running").shut_down().await);
    }

    pub fn vm_dir(&self) -> PathBuf {
        self.data.join("vspc")
    }

    pub async fn metric(&self, prefix: &str) -> f64 {
        support::metric_value(&support::http_get(self.admin, "/metrics").await.1, prefix)
    }

    /// One admin API request with the bearer token.
    pub async fn admin(&self, method: &str, path: &str, body: &[u8]) -> RawResponse {
        self.admin_with(
            method,
            path,
            &[("Authorization", &format!("Bearer {}", self.token))],
            body,
        )
        .await
    }

    /// One admin API request with exactly these extra headers.
    pub async fn admin_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        let mut stream = tokio::net::TcpStream::connect(self.admin).await.unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        // The server may answer (413) and close before taking a large body.
        let _ = stream.write_all(body).await;
        support::read_response(&mut stream).await
    }

    pub async fn admin_json(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let response = self.admin(method, path, body).await;
        let json = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body)
                .unwrap_or_else(|e| panic!("admin answered non-JSON ({e}): {}", response.text()))
        };
        (response.status, json)
    }

    /// Uploads over HTTP; panics unless accepted. Returns the version.
    pub async fn upload(&self, name: &str, bytes: &[u8]) -> String {
        let (status, json) = self
            .admin_json("POST", &format!("/admin/v1/modules/{name}"), bytes)
            .await;
        assert_eq!(status, 200, "upload of {name} refused: {json}");
        json["version"].as_str().expect("version").to_string()
    }

    pub async fn module(&self, name: &str) -> Value {
        let (status, json) = self
            .admin_json("GET", &format!("/admin/v1/modules/{name}"), b"")
            .await;
        assert_eq!(status, 200, "{json}");
        json
    }

    pub async fn active(&self, name: &str) -> String {
        self.module(name).await["active"]
            .as_str()
            .expect("active")
            .to_string()
    }

    pub async fn set_chain(&self, workflow: &str, entries: &[(&str, &str)]) {
        let entries: Vec<Value> = entries
            .iter()
            .map(|(module, mode)| serde_json::json!({"module": module, "mode": mode}))
            .collect();
        let body = serde_json::json!({ "entries": entries }).to_string();
        let (status, json) = self
            .admin_json(
                "PUT",
                &format!("/admin/v1/policies/{workflow}"),
                body.as_bytes(),
            )
            .await;
        assert_eq!(status, 200, "setting the {workflow} chain: {json}");
    }

    /// cvproxy's reply body to `body`.
    pub async fn cvproxy_reply(&self, body: &str) -> String {
        let response = support::post_json(self.cvproxy, body.as_bytes()).await;
        assert_eq!(response.status, 200, "{}", response.text());
        response.text()
    }
}

/// A request body the built-in cvproxy guest refuses at the input stage.
pub const INVALID_BODY: &str = "{}";
/// What the built-in guest answers to [`INVALID_BODY`].
pub fn builtin_answer_to_invalid() -> String {
    reply(&["ValidationError: 'devices' is a required property"])
}
/// What the cvproxy-alt test guest answers to everything.
pub fn alt_answer() -> String {
    reply(&["AltError: answered by the alternate cvproxy module"])
}

/// cvproxy's error reply layout (`json.dumps(indent=2)`), ASCII only.
pub fn reply(errors: &[&str]) -> String {
    let items: Vec<String> = errors
        .iter()
        .map(|e| format!("    {}", serde_json::to_string(e).unwrap()))
        .collect();
    format!(
        "{{\n  \"status\": \"error\",\n  \"errors\": [\n{}\n  ]\n}}",
        items.join(",\n")
    )
}

/// A valid request whose deployment would go to `cv_server`; the configlet
/// is `configlet` (base64-encoded here).
pub fn deploy_body(cv_server: &str, configlet: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(configlet);
    serde_json::json!({
        "cv_server": cv_server,
        "cv_token": "secret-token",
        "devices": {"leaf1": {"configlet": encoded}},
    })
    .to_string()
}
