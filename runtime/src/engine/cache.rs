use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::metrics::EngineMetrics;

/// Compiled artifacts under `<cache dir>/<engine hash>/<sha256>.cwasm`.
///
/// The engine hash covers wasmtime's version and every setting that affects
/// code generation, so an upgrade or a config change starts a fresh
/// directory instead of loading incompatible code. Only this host writes
/// there (atomically, via a temporary file and rename), and an artifact is
/// looked up by the sha256 of the source the host itself just hashed: the
/// host never loads precompiled code it did not produce.
pub struct AotCache {
    dir: PathBuf,
}

impl AotCache {
    pub fn open(engine: &Engine, cache_dir: &Path) -> anyhow::Result<Self> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = cache_dir.join(format!("{:016x}", hasher.finish()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("creating the AOT cache {}: {e}", dir.display()))?;
        Ok(Self { dir })
    }

    /// Returns the component and, when it had to be compiled, how long that took.
    /// Blocking: call it from a blocking thread.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        digest: &str,
        metrics: &EngineMetrics,
    ) -> anyhow::Result<(Component, Option<Duration>)> {
        let artifact = self.dir.join(format!("{digest}.cwasm"));
        if artifact.is_file() {
            // SAFETY: the file is in this host's private cache directory, was
            // written by `store` below from wasmtime's own `precompile_component`
            // output for the same engine configuration, and is named by the
            // digest of the source we were asked to load.
            match unsafe { Component::deserialize_file(engine, &artifact) } {
                Ok(component) => {
                    metrics.aot_cache_hits.inc();
                    return Ok((component, None));
                }
                Err(e) => {
                    tracing::warn!(artifact = %artifact.display(), error = %format!("{e:#}"), "discarding unusable AOT artifact")
                }
            }
        }
        let started = Instant::now();
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let compile_time = started.elapsed();
        metrics.compiles.inc();
        // SAFETY: `compiled` was produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &compiled) }
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        if let Err(e) = self.store(&artifact, &compiled) {
            tracing::warn!(artifact = %artifact.display(), error = %e, "could not write AOT artifact; it will be compiled again next start");
        }
        Ok((component, Some(compile_time)))
    }

    fn store(&self, artifact: &Path, compiled: &[u8]) -> std::io::Result<()> {
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(compiled)?;
        tmp.1.sync_all()?;
        std::fs::rename(&tmp.0, artifact)
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    let path = dir.join(format!(".tmp-{}", super::hex(&nonce)));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}
