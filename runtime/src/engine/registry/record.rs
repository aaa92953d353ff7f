//! What the registry persists per module: `modules/<name>/module.json` next
//! to the component files `modules/<name>/<sha256>.wasm`.

use serde::{Deserialize, Serialize};

use super::BUILTIN;

/// How many earlier active versions `rollback` can walk back through.
const HISTORY: usize = 32;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ModuleRecord {
    /// The world the module was first stored for.
    pub world: String,
    /// A stored digest, or `builtin`.
    pub active: String,
    /// Versions active before, most recent last.
    #[serde(default)]
    pub previous: Vec<String>,
    /// Uploaded versions (the built-in one is not stored).
    #[serde(default)]
    pub versions: Vec<VersionRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct VersionRecord {
    pub digest: String,
    pub size: u64,
    /// Compile time when uploaded, in milliseconds.
    pub compile_ms: Option<f64>,
    /// RFC 3339, UTC.
    pub uploaded_at: String,
    /// `ed25519:<base64>` of the signing key, when signed.
    pub signed_by: Option<String>,
}

impl ModuleRecord {
    pub fn new(world: &str, active: &str) -> Self {
        Self {
            world: world.to_string(),
            active: active.to_string(),
            previous: Vec::new(),
            versions: Vec::new(),
        }
    }

    pub fn version(&self, digest: &str) -> Option<&VersionRecord> {
        self.versions.iter().find(|v| v.digest == digest)
    }

    /// Makes `version` active, remembering the one it replaces.
    pub fn activate(&mut self, version: &str) {
        if self.active == version {
            return;
        }
        let replaced = std::mem::replace(&mut self.active, version.to_string());
        self.previous.retain(|v| *v != replaced);
        self.previous.push(replaced);
        if self.previous.len() > HISTORY {
            self.previous.remove(0);
        }
    }

    /// The most recent earlier version that still exists.
    pub fn rollback_target(&self, has_builtin: bool) -> Option<String> {
        self.previous
            .iter()
            .rev()
            .find(|v| {
                **v != self.active
                    && ((v.as_str() == BUILTIN && has_builtin) || self.version(v).is_some())
            })
            .cloned()
    }

    /// Rolls back to `version`, dropping it (and anything after it) from the
    /// history so that a second rollback goes further back, not forth.
    pub fn roll_back_to(&mut self, version: &str) {
        if let Some(at) = self.previous.iter().rposition(|v| v == version) {
            self.previous.truncate(at);
        }
        self.active = version.to_string();
    }
}
