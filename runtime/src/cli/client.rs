//! The admin API client: a tonic channel over HTTP/2 cleartext to the
//! loopback admin port, the bearer token on every call, and gRPC statuses
//! turned into one line an operator can act on.

use std::error::Error as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::admin::proto::module_admin_client::ModuleAdminClient;

/// Where the admin API is and how to authenticate (shared by every
/// subcommand that talks to a running server).
#[derive(clap::Args, Debug, Clone)]
pub struct AdminArgs {
    /// The admin endpoint of a running server (plain HTTP/2; it listens on
    /// loopback).
    #[arg(
        long = "admin",
        value_name = "URL",
        env = "POSTERN_ADMIN",
        default_value = "http://127.0.0.1:9090",
        global = true
    )]
    pub url: String,
    /// The admin API's bearer token (instead of --token-file).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "POSTERN_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// The file holding the bearer token: the server writes one to
    /// `<data_dir>/admin.token` at first start.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "./postern-data/admin.token",
        global = true
    )]
    pub token_file: PathBuf,
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct BearerAuth(MetadataValue<Ascii>);

impl Interceptor for BearerAuth {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub type AdminClient = ModuleAdminClient<InterceptedService<Channel, BearerAuth>>;

/// A connected client, and where its token came from (for the hint when the
/// server refuses it).
pub struct Admin {
    pub client: AdminClient,
    token_source: String,
}

impl Admin {
    /// Reads the token, then connects: a missing token file is a local
    /// mistake and should not look like a server problem.
    pub async fn connect(args: &AdminArgs) -> anyhow::Result<Self> {
        let (token, token_source) = read_token(args)?;
        let auth = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| {
            anyhow!("the admin token from {token_source} is not a valid header value")
        })?;
        let url = normalize_url(&args.url)?;
        let endpoint = Endpoint::from_shared(url.clone())
            .map_err(|e| anyhow!("invalid admin URL `{}`: {}", args.url, chain(&e)))?
            // Loopback: if it takes longer than this, nothing is listening.
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("postern-cli/", env!("CARGO_PKG_VERSION")))
            .map_err(|e| anyhow!("user agent: {e}"))?;
        // Connect eagerly so that "nothing listens there" is reported as
        // such, before any request is built.
        let channel = endpoint.connect().await.map_err(|e| {
            anyhow!(
                "connecting to the admin API at {url}: {} (is `postern serve` running, \
                 and is this its [admin] listen address? see --admin / POSTERN_ADMIN)",
                chain(&e)
            )
        })?;
        Ok(Self {
            client: ModuleAdminClient::with_interceptor(channel, BearerAuth(auth)),
            token_source,
        })
    }

    /// `<what failed>: <status message>`, with a hint where the usual fix
    /// is on the operator's side.
    pub fn failed(&self, what: &str, status: Status) -> anyhow::Error {
        let mut text = format!("{what}: {}", status_text(&status));
        if status.code() == Code::Unauthenticated {
            text.push_str(&format!(
                " (sent the token from {}; the server's token is `[admin] token` in its \
                 config or else <data_dir>/admin.token: pass --token-file or set \
                 POSTERN_ADMIN_TOKEN)",
                self.token_source
            ));
        }
        anyhow!(text)
    }
}

fn read_token(args: &AdminArgs) -> anyhow::Result<(String, String)> {
    if let Some(token) = &args.token {
        let token = token.trim();
        if token.is_empty() {
            bail!("the admin token given by --token / POSTERN_ADMIN_TOKEN is empty");
        }
        return Ok((token.to_string(), "--token / POSTERN_ADMIN_TOKEN".into()));
    }
    let path = &args.token_file;
    let token = std::fs::read_to_string(path).map_err(|e| {
        anyhow!(
            "reading the admin token {}: {e} (run from the server's directory, pass \
             --token-file <data_dir>/admin.token, or set POSTERN_ADMIN_TOKEN)",
            path.display()
        )
    })?;
    let token = token.trim();
    if token.is_empty() {
        bail!("the admin token file {} is empty", path.display());
    }
    Ok((token.to_string(), path.display().to_string()))
}

/// `host:port` alone means h2c; `https://` is refused rather than silently
/// spoken in clear, since the admin port has no TLS.
fn normalize_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    if url.starts_with("https://") {
        bail!("the admin API is plain HTTP/2 on a loopback port; use http:// (got `{url}`)");
    }
    if url.starts_with("http://") {
        Ok(url.to_string())
    } else {
        Ok(format!("http://{url}"))
    }
}

/// The message of a status; its code when the server sent no message, and
/// the transport's cause when the call never reached the server.
fn status_text(status: &Status) -> String {
    let mut text = status.message().trim().to_string();
    if text.is_empty() {
        text = code_text(status.code()).to_string();
    }
    if let Some(source) = status.source() {
        let cause = chain(source);
        if !cause.is_empty() && !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

fn code_text(code: Code) -> &'static str {
    match code {
        Code::Unauthenticated => "not authenticated",
        Code::PermissionDenied => "permission denied",
        Code::NotFound => "not found",
        Code::Unimplemented => "the server does not implement this call (an older postern?)",
        Code::Unavailable => "the server is unavailable",
        Code::DeadlineExceeded => "timed out",
        _ => "failed",
    }
}

/// An error and its causes as `a: b: c`, skipping a cause its parent
/// already quotes (tonic and hyper often repeat each other).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}
