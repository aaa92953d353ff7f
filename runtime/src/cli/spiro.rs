//! `postern spiro …`: the spiro workflow's tokens, offline, against the
//! same key file the server uses (spec 13.8).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::workflows::spiro::auth;
use crate::workflows::spiro::auth::Denied;
use crate::workflows::spiro::config::SpiroPaths;
use crate::workflows::spiro::macaroon::Macaroon;
use crate::workflows::spiro::tokens;

/// `postern spiro …`
#[derive(Args)]
pub struct SpiroCommand {
    /// The configuration `serve` uses, for its data directory and `[spiro]`
    /// paths [default: the embedded default, data in ./postern-data].
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    /// The root key file (created, mode 0600, when absent) [default:
    /// `spiro.key_file`, else <data_dir>/spiro/macaroon-key].
    #[arg(long, global = true)]
    pub key_file: Option<PathBuf>,
    /// The revoked identifiers [default: `spiro.revoked_file`, else
    /// <data_dir>/spiro/revoked-identifiers].
    #[arg(long, global = true)]
    pub revoked_file: Option<PathBuf>,
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
    /// Refuse a token from now on: its identifier goes on the denylist,
    /// which a running server re-reads when it changes.
    RevokeToken { token: String },
}

/// The key and denylist files the server of the same configuration uses.
fn resolve_paths(command: &SpiroCommand) -> anyhow::Result<SpiroPaths> {
    let config = match &command.config {
        Some(path) => Config::load(path)?,
        None => Config::embedded_default(),
    };
    let mut paths = match &config.spiro {
        Some(spiro) => spiro.paths(&config.data_dir),
        None => SpiroPaths::defaults(&config.data_dir),
    };
    if let Some(key_file) = &command.key_file {
        paths.key_file = key_file.clone();
    }
    if let Some(revoked_file) = &command.revoked_file {
        paths.revoked_file = revoked_file.clone();
    }
    Ok(paths)
}

pub fn run(command: SpiroCommand) -> anyhow::Result<()> {
    let paths = resolve_paths(&command)?;
    let key_file = paths.key_file;
    match command.action {
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
            // Exactly the server's checks, against the same files.
            let authority = auth::Authority::new(read_key(&key_file)?, paths.revoked_file);
            let checked = authority
                .check_token(&token)
                .and_then(|macaroon| match &project {
                    Some(project) => authority.authorize(&macaroon, project),
                    None => Ok(()),
                });
            match checked {
                Ok(()) => {
                    println!("accepted");
                    Ok(())
                }
                Err(Denied::Forbidden(why)) => anyhow::bail!("refused (403): {why}"),
                Err(Denied::Unauthenticated(why)) => anyhow::bail!("refused (401): {why}"),
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
        SpiroAction::RevokeToken { token } => {
            let macaroon = Macaroon::parse(&token).map_err(|e| anyhow::anyhow!("{e}"))?;
            auth::revoke(&paths.revoked_file, &macaroon.identifier)
                .with_context(|| format!("writing {}", paths.revoked_file.display()))?;
            println!(
                "revoked {} (listed in {})",
                String::from_utf8_lossy(&macaroon.identifier),
                paths.revoked_file.display()
            );
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
    let token = tokens::issue(&key, tokens::unix_now(), lifespan, projects)
        .map_err(|e| anyhow::anyhow!("minting: {e}"))?;
    println!("{}", token.serialize());
    Ok(())
}

fn read_key(key_file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(key_file).with_context(|| format!("reading the key file {}", key_file.display()))
}
