//! `postern module push|list|describe|activate|rollback|rm` against the
//! admin API.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
// tonic's re-export: the crate has no direct tokio-stream dependency, and
// this is the version tonic's own streaming requests are built on.
use tonic::codegen::tokio_stream::{self, StreamExt as _};

use super::client::Admin;
use super::keys::with_suffix;
use super::table::{Align, Table};
use crate::admin::proto::upload_module_request::Part;
use crate::admin::proto::{
    ActivateVersionRequest, DeleteVersionRequest, DescribeModuleRequest, ListModulesRequest,
    Module, RollbackRequest, UploadHeader, UploadModuleRequest,
};

/// Upload chunk: well under tonic's default 4 MiB message limit on the
/// server, large enough that per-message overhead does not matter.
const CHUNK: usize = 1 << 20;

/// What the registry calls the version compiled into the binary.
const BUILTIN: &str = "builtin";

/// A version as shown: `builtin`, or the first 12 hex digits of the digest
/// (as unique in practice as a short git hash, and accepted back as a
/// prefix by activate / rollback / rm).
pub fn short(version: &str) -> &str {
    if version == BUILTIN {
        return version;
    }
    version.get(..12).unwrap_or(version)
}

pub async fn push(
    admin: &mut Admin,
    name: &str,
    file: &Path,
    signature: Option<&Path>,
    stage: bool,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    if bytes.is_empty() {
        bail!("{} is empty", file.display());
    }
    let signature = read_signature(file, signature, &bytes)?;
    let size = bytes.len();
    let header = UploadModuleRequest {
        part: Some(Part::Header(UploadHeader {
            name: name.to_string(),
            signature: signature.clone().unwrap_or_default(),
            stage_only: stage,
            size: size as u64,
        })),
    };
    // Drawn on stderr only when it is a terminal (indicatif hides it
    // otherwise), so scripts get the one result line and nothing else.
    let bar = ProgressBar::new(size as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:10} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    bar.set_message("uploading");
    // The stream is polled as the HTTP/2 body is written, so counting a
    // chunk when it is handed over tracks what has been sent.
    let bytes: Arc<[u8]> = bytes.into();
    let chunks = {
        let bar = bar.clone();
        tokio_stream::iter((0..size).step_by(CHUNK)).map(move |start| {
            let end = (start + CHUNK).min(size);
            bar.inc((end - start) as u64);
            if end == size {
                // The server checks the world and compiles before answering.
                bar.set_message("compiling");
            }
            UploadModuleRequest {
                part: Some(Part::Chunk(bytes[start..end].to_vec())),
            }
        })
    };
    let result = admin
        .client
        .upload_module(tokio_stream::once(header).chain(chunks))
        .await;
    bar.finish_and_clear();
    let response = result
        .map_err(|s| admin.failed(&format!("pushing {name}"), s))?
        .into_inner();
    let compiled = if response.compile_ms > 0.0 {
        format!("compiled in {} ms", millis(response.compile_ms))
    } else {
        "already compiled".to_string()
    };
    let signed = if signature.is_some() { ", signed" } else { "" };
    let active = response
        .module
        .as_ref()
        .is_some_and(|m| m.active == response.version);
    let state = if response.activated {
        "active".to_string()
    } else if active {
        "already active".to_string()
    } else {
        let current = response.module.as_ref().map_or("?", |m| short(&m.active));
        format!("staged (active: {current})")
    };
    println!(
        "pushed {name} {} ({size} bytes, {compiled}{signed}) — {state}",
        short(&response.version)
    );
    Ok(())
}

/// The signature line to send: `--signature`, else `<FILE>.sig` when it
/// exists, else none. Checked here against the bytes so a stale `.sig`
/// fails before the upload, with the file named.
fn read_signature(
    file: &Path,
    given: Option<&Path>,
    bytes: &[u8],
) -> anyhow::Result<Option<String>> {
    let path: PathBuf = match given {
        Some(path) => path.to_path_buf(),
        None => {
            let path = with_suffix(file, ".sig");
            if !path.exists() {
                return Ok(None);
            }
            path
        }
    };
    let line = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the signature {}", path.display()))?;
    let line = line.trim().to_string();
    // No trusted keys here: only that it is well formed and matches; the
    // server decides whether the key is trusted.
    crate::signing::verify(bytes, &line, &[]).map_err(|e| {
        anyhow::anyhow!(
            "the signature {} does not fit {}: {e} (sign it again with `postern module sign`)",
            path.display(),
            file.display()
        )
    })?;
    Ok(Some(line))
}

pub async fn list(admin: &mut Admin) -> anyhow::Result<()> {
    let mut modules = admin
        .client
        .list_modules(ListModulesRequest {})
        .await
        .map_err(|s| admin.failed("listing modules", s))?
        .into_inner()
        .modules;
    if modules.is_empty() {
        println!("(no modules)");
        return Ok(());
    }
    modules.sort_by(|a, b| a.name.cmp(&b.name));
    let mut table = Table::new(&[
        ("NAME", Align::Left),
        ("WORLD", Align::Left),
        ("ACTIVE", Align::Left),
        ("VERSIONS", Align::Right),
        ("CALLS", Align::Right),
        ("ERRORS", Align::Right),
        ("USED BY", Align::Left),
    ]);
    for module in &modules {
        table.row(vec![
            module.name.clone(),
            module.world.clone(),
            short(&module.active).to_string(),
            module.versions.len().to_string(),
            module.calls.to_string(),
            module.errors.to_string(),
            used_by(module),
        ]);
    }
    print!("{table}");
    Ok(())
}

pub async fn describe(admin: &mut Admin, name: &str) -> anyhow::Result<()> {
    let module = admin
        .client
        .describe_module(DescribeModuleRequest {
            name: name.to_string(),
        })
        .await
        .map_err(|s| admin.failed(&format!("describing {name}"), s))?
        .into_inner();
    println!("name:     {}", module.name);
    println!("world:    {}", module.world);
    // The full digest here, to copy; the table abbreviates.
    println!("active:   {}", module.active);
    println!("calls:    {} ({} errors)", module.calls, module.errors);
    println!("used by:  {}", used_by(&module));
    println!();
    let mut table = Table::new(&[
        ("", Align::Left),
        ("VERSION", Align::Left),
        ("SIZE", Align::Right),
        ("COMPILE MS", Align::Right),
        ("UPLOADED", Align::Left),
        ("SIGNED BY", Align::Left),
    ]);
    for version in &module.versions {
        let active = version.active || version.version == module.active;
        table.row(vec![
            if active { "*" } else { " " }.to_string(),
            short(&version.version).to_string(),
            version.size.to_string(),
            if version.compile_ms > 0.0 {
                millis(version.compile_ms)
            } else {
                "-".to_string()
            },
            uploaded(&version.uploaded_at),
            or_dash(&version.signed_by),
        ]);
    }
    print!("{table}");
    Ok(())
}

pub async fn activate(admin: &mut Admin, name: &str, version: &str) -> anyhow::Result<()> {
    let module = admin
        .client
        .activate_version(ActivateVersionRequest {
            name: name.to_string(),
            version: version.to_string(),
        })
        .await
        .map_err(|s| admin.failed(&format!("activating {name} {version}"), s))?
        .into_inner();
    println!("{name}: active version is now {}", short(&module.active));
    Ok(())
}

pub async fn rollback(admin: &mut Admin, name: &str, to: Option<&str>) -> anyhow::Result<()> {
    let module = admin
        .client
        .rollback(RollbackRequest {
            name: name.to_string(),
            version: to.unwrap_or_default().to_string(),
        })
        .await
        .map_err(|s| admin.failed(&format!("rolling back {name}"), s))?
        .into_inner();
    println!(
        "{name}: rolled back, active version is now {}",
        short(&module.active)
    );
    Ok(())
}

pub async fn rm(admin: &mut Admin, name: &str, version: Option<&str>) -> anyhow::Result<()> {
    let what = match version {
        Some(version) => format!("removing {name} {version}"),
        None => format!("removing module {name}"),
    };
    let module = admin
        .client
        .delete_version(DeleteVersionRequest {
            name: name.to_string(),
            // Empty: the whole module.
            version: version.unwrap_or_default().to_string(),
        })
        .await
        .map_err(|s| admin.failed(&what, s))?
        .into_inner();
    match version {
        Some(version) => println!(
            "{name}: removed version {}; active version is still {}",
            short(version),
            short(&module.active)
        ),
        None => println!("removed module {name} and all its versions"),
    }
    Ok(())
}

fn used_by(module: &Module) -> String {
    if module.used_by.is_empty() {
        "-".to_string()
    } else {
        module.used_by.join(", ")
    }
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text.to_string()
    }
}

/// Whole milliseconds, except below 10 where a decimal still says something.
fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// RFC 3339 shortened to the second, in UTC; the raw text if it does not
/// parse (a newer server's format is still worth showing).
fn uploaded(at: &str) -> String {
    if at.is_empty() {
        return "-".to_string();
    }
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(time) => time
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%SZ")
            .to_string(),
        Err(_) => at.to_string(),
    }
}
