//! `postern spiro …`: the spiro workflow's tokens, offline, against the
//! same key file the server uses (spec 13.8).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::workflows::spiro::macaroon::{Macaroon, TokenError};
use crate::workflows::spiro::tokens;

/// `postern spiro …`
#[derive(Args)]
pub struct SpiroCommand {
    /// The root key file (created, mode 0600, when absent).
    #[arg(
        long,
        global = true,
        default_value = "./postern-data/spiro/macaroon-key"
    )]
    pub key_file: PathBuf,
    #[command(subcommand)]
    pub action: SpiroAction,
}

#[derive(Subcommand)]
pub enum SpiroAction {
    /// A token for some projects (`spiro.issue_token`).
    IssueToken {
        /// Comma-separated project names.
        #[arg(long)]
        projects: String,
        /// Seconds the token stays valid [default: forever].
        #[arg(long)]
        lifespan: Option<u64>,
    },
    /// A token for every project (`spiro.issue_root_token`).
    IssueRootToken {
        #[arg(long)]
        lifespan: Option<u64>,
    },
    /// Whether a token is accepted now (for a project, if given).
    CheckToken {
        token: String,
        #[arg(long)]
        project: Option<String>,
    },
    /// The location, identifier and caveats of a token.
    InspectToken { token: String },
}

pub fn run(command: SpiroCommand) -> anyhow::Result<()> {
    let SpiroCommand { key_file, action } = command;
    match action {
        SpiroAction::IssueToken { projects, lifespan } => {
            // Split like the runner (on `,`, no trimming); a name no
            // deployment could have would make a token good for nothing.
            let projects: Vec<String> = projects.split(',').map(str::to_string).collect();
            if let Some(bad) = projects.iter().find(|p| !tokens::is_valid_name(p)) {
                anyhow::bail!("`{bad}` is not a valid project name ([A-Za-z0-9][A-Za-z0-9._-]*)");
            }
            issue(&key_file, lifespan, Some(&projects))
        }
        SpiroAction::IssueRootToken { lifespan } => issue(&key_file, lifespan, None),
        SpiroAction::CheckToken { token, project } => {
            let key = read_key(&key_file)?;
            let result =
                Macaroon::parse(&token).and_then(|m| m.verify(&key, now(), project.as_deref()));
            match result {
                Ok(()) => {
                    println!("accepted");
                    Ok(())
                }
                Err(TokenError::Project) => anyhow::bail!("refused (403): {}", TokenError::Project),
                Err(error) => anyhow::bail!("refused (401): {error}"),
            }
        }
        SpiroAction::InspectToken { token } => {
            let macaroon = Macaroon::parse(&token).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "location:   {}",
                String::from_utf8_lossy(&macaroon.location)
            );
            println!(
                "identifier: {}",
                String::from_utf8_lossy(&macaroon.identifier)
            );
            for caveat in &macaroon.caveats {
                println!("caveat:     {}", String::from_utf8_lossy(caveat));
            }
            Ok(())
        }
    }
}

fn issue(
    key_file: &Path,
    lifespan: Option<u64>,
    projects: Option<&[String]>,
) -> anyhow::Result<()> {
    let key = tokens::load_or_create_key(key_file)
        .with_context(|| format!("the key file {}", key_file.display()))?;
    let token = tokens::issue(&key, now(), lifespan, projects)
        .map_err(|e| anyhow::anyhow!("minting: {e}"))?;
    println!("{}", token.serialize());
    Ok(())
}

fn read_key(key_file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(key_file).with_context(|| format!("reading the key file {}", key_file.display()))
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
