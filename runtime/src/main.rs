use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use postern::cli::spiro::SpiroCommand;
use postern::cli::{ModuleCommand, PolicyCommand};
use postern::config::Config;
use postern::telemetry::{self, LogFormat};

/// Postern: one binary that terminates HTTP, gRPC and telnet and hands every
/// decision to sandboxed WebAssembly components.
#[derive(Parser)]
#[command(name = "postern", version, about)]
struct Cli {
    /// Log output format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        env = "POSTERN_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every configured workflow (the embedded default without --config).
    Serve {
        /// TOML configuration file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Validate a configuration and its modules without serving.
    Check {
        /// TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Manage live modules on a running server (push, list, activate,
    /// rollback, ...) and sign them.
    #[command(subcommand_required = true, arg_required_else_help = true)]
    Module(ModuleCommand),
    /// Show or replace a workflow's policy chain on a running server.
    #[command(subcommand_required = true, arg_required_else_help = true)]
    Policy(PolicyCommand),
    /// The spiro workflow's tokens: issue, check, inspect (offline).
    #[command(subcommand_required = true, arg_required_else_help = true)]
    Spiro(SpiroCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config } => run_server(cli.log_format, serve(config)),
        Command::Check { config } => run_server(cli.log_format, check(config)),
        // The admin-client commands report in one line of their own; the
        // server's log output would only add noise around it.
        Command::Module(command) => postern::cli::run_module(command),
        Command::Policy(command) => postern::cli::run_policy(command),
        Command::Spiro(command) => postern::cli::run_spiro(command),
    }
}

/// Logging and the multi-threaded runtime the server needs, then `task`.
fn run_server(
    log_format: LogFormat,
    task: impl std::future::Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    telemetry::init(log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("postern: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("postern: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: Option<PathBuf>) -> anyhow::Result<Config> {
    Ok(match path {
        Some(path) => Config::load(&path)?,
        None => Config::embedded_default(),
    })
}

async fn serve(config: Option<PathBuf>) -> anyhow::Result<()> {
    let config = load_config(config)?;
    // Handlers first: a signal that arrives once we report ready must drain,
    // not kill the process with the default action.
    let signals = ShutdownSignals::install()?;
    let server = postern::start(&config).await?;
    signals.wait().await;
    tracing::info!("shutting down: no new connections, finishing in-flight work");
    if server.shut_down().await {
        tracing::info!("shut down cleanly");
    } else {
        tracing::warn!("shutdown grace period ended with work still running");
    }
    Ok(())
}

async fn check(config: PathBuf) -> anyhow::Result<()> {
    let config = load_config(Some(config))?;
    for line in postern::server::check(&config).await? {
        println!("{line}");
    }
    println!("configuration OK");
    Ok(())
}

struct ShutdownSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}
