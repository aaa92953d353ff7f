//! The operator CLI: `postern module …` and `postern policy …`, clients of a
//! running server's admin API (gRPC `postern.v1.ModuleAdmin`), plus the
//! offline signing helpers `module keygen` and `module sign`.
//!
//! Errors end as one line on stderr (`postern: <what failed>: <why>`) and a
//! non-zero exit; no logging is set up, so nothing else is printed.

pub mod client;
pub mod keys;
pub mod module;
pub mod policy;
pub mod spiro;
pub mod table;

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use client::{Admin, AdminArgs};

/// `postern module …`
#[derive(Args)]
pub struct ModuleCommand {
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(subcommand)]
    pub action: ModuleAction,
}

#[derive(Subcommand)]
pub enum ModuleAction {
    /// Upload a component; it becomes active unless --stage.
    Push {
        /// The module to upload a version of.
        name: String,
        /// The component (.wasm).
        file: PathBuf,
        /// The signature file [default: <FILE>.sig when it exists].
        #[arg(long, value_name = "SIGFILE")]
        signature: Option<PathBuf>,
        /// Store and compile only; keep the active version.
        #[arg(long)]
        stage: bool,
    },
    /// Every module: world, active version, calls, errors.
    #[command(visible_alias = "ls")]
    List,
    /// One module and its versions.
    Describe { name: String },
    /// Make a stored version active.
    Activate {
        name: String,
        /// A digest, a unique prefix of one (8+ characters), or `builtin`.
        version: String,
    },
    /// Go back to the version active before the current one.
    Rollback {
        name: String,
        /// Go back to this version instead.
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
    },
    /// Delete a version that is not active, or without VERSION an uploaded
    /// module that no policy chain uses.
    Rm {
        name: String,
        version: Option<String>,
    },
    /// Create a signing key pair (offline).
    Keygen {
        /// The secret key file (mode 0600); the public key goes to <OUT>.pub.
        #[arg(long, short, value_name = "PATH")]
        out: PathBuf,
        /// Replace existing key files.
        #[arg(long)]
        force: bool,
    },
    /// Sign a component (offline).
    Sign {
        /// The component (.wasm).
        file: PathBuf,
        /// The secret key file from `keygen`.
        #[arg(long, short, value_name = "KEYFILE")]
        key: PathBuf,
        /// Where to write the signature [default: <FILE>.sig].
        #[arg(long, short, value_name = "SIGFILE")]
        out: Option<PathBuf>,
    },
}

/// `postern policy …`
#[derive(Args)]
pub struct PolicyCommand {
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(subcommand)]
    pub action: PolicyAction,
}

#[derive(Subcommand)]
pub enum PolicyAction {
    /// A workflow's policy chain.
    Show {
        /// The workflow, `cvproxy` or `vspc`.
        workflow: String,
    },
    /// Replace a workflow's policy chain (no modules: an empty chain).
    Set {
        /// The workflow whose chain to replace.
        workflow: String,
        /// Policy modules in order, each optionally `:protect` (the default,
        /// a deny refuses) or `:monitor` (a deny is only logged).
        #[arg(value_name = "MODULE[:protect|:monitor]")]
        modules: Vec<String>,
    },
}

pub fn run_module(command: ModuleCommand) -> ExitCode {
    use ModuleAction::*;
    let ModuleCommand { admin, action } = command;
    let result = match action {
        Keygen { out, force } => keys::keygen(&out, force),
        Sign { file, key, out } => keys::sign(&file, &key, out.as_deref()),
        Push {
            name,
            file,
            signature,
            stage,
        } => with_admin(&admin, async |a| {
            module::push(a, &name, &file, signature.as_deref(), stage).await
        }),
        List => with_admin(&admin, async |a| module::list(a).await),
        Describe { name } => with_admin(&admin, async |a| module::describe(a, &name).await),
        Activate { name, version } => {
            with_admin(&admin, async |a| module::activate(a, &name, &version).await)
        }
        Rollback { name, to } => with_admin(&admin, async |a| {
            module::rollback(a, &name, to.as_deref()).await
        }),
        Rm { name, version } => with_admin(&admin, async |a| {
            module::rm(a, &name, version.as_deref()).await
        }),
    };
    exit(result)
}

pub fn run_policy(command: PolicyCommand) -> ExitCode {
    let PolicyCommand { admin, action } = command;
    let result = match action {
        PolicyAction::Show { workflow } => {
            with_admin(&admin, async |a| policy::show(a, &workflow).await)
        }
        PolicyAction::Set { workflow, modules } => {
            // Parsed before connecting: a typo in a mode is not worth a
            // round trip, nor a server to report it.
            match modules
                .iter()
                .map(|spec| policy::parse_entry(spec))
                .collect()
            {
                Ok(entries) => {
                    with_admin(&admin, async |a| policy::set(a, &workflow, entries).await)
                }
                Err(error) => Err(error),
            }
        }
    };
    exit(result)
}

pub fn run_spiro(command: spiro::SpiroCommand) -> ExitCode {
    exit(spiro::run(command))
}

/// Connects, then runs one call on a single-threaded runtime: one request
/// at a time needs no worker pool.
fn with_admin<F>(args: &AdminArgs, call: F) -> anyhow::Result<()>
where
    F: AsyncFnOnce(&mut Admin) -> anyhow::Result<()>,
{
    block_on(async {
        let mut admin = Admin::connect(args).await?;
        call(&mut admin).await
    })
}

fn block_on<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?
        .block_on(future)
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("postern: {error:#}");
            ExitCode::FAILURE
        }
    }
}
