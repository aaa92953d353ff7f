//! The registry's and the chains' views in the admin API's two shapes: JSON
//! (absent values are `null`) and protobuf (absent values are zero, as
//! proto3 has no presence for scalars).

use serde::Serialize;

use super::proto;
use crate::engine::registry::{ModuleInfo, UploadOutcome, VersionInfo};
use crate::policy::{ChainError, ChainSpec, Mode};

#[derive(Serialize)]
pub struct ModulesJson<'a> {
    modules: Vec<ModuleJson<'a>>,
}

pub fn modules_json(modules: &[ModuleInfo]) -> ModulesJson<'_> {
    ModulesJson {
        modules: modules.iter().map(module_json).collect(),
    }
}

#[derive(Serialize)]
pub struct ModuleJson<'a> {
    name: &'a str,
    world: &'a str,
    active: &'a str,
    versions: Vec<VersionJson<'a>>,
    calls: u64,
    errors: u64,
    used_by: &'a [String],
}

#[derive(Serialize)]
struct VersionJson<'a> {
    version: &'a str,
    digest: &'a str,
    size: u64,
    compile_ms: Option<f64>,
    uploaded_at: Option<&'a str>,
    signed_by: Option<&'a str>,
    active: bool,
}

pub fn module_json(module: &ModuleInfo) -> ModuleJson<'_> {
    ModuleJson {
        name: &module.name,
        world: &module.world,
        active: &module.active,
        versions: module.versions.iter().map(version_json).collect(),
        calls: module.calls,
        errors: module.errors,
        used_by: &module.used_by,
    }
}

fn version_json(version: &VersionInfo) -> VersionJson<'_> {
    VersionJson {
        version: &version.version,
        digest: &version.digest,
        size: version.size,
        compile_ms: version.compile_ms,
        uploaded_at: version.uploaded_at.as_deref(),
        signed_by: version.signed_by.as_deref(),
        active: version.active,
    }
}

#[derive(Serialize)]
pub struct UploadJson<'a> {
    module: ModuleJson<'a>,
    version: &'a str,
    activated: bool,
    compile_ms: Option<f64>,
}

pub fn upload_json(outcome: &UploadOutcome) -> UploadJson<'_> {
    UploadJson {
        module: module_json(&outcome.module),
        version: &outcome.version,
        activated: outcome.activated,
        compile_ms: outcome.compile_ms,
    }
}

#[derive(Serialize)]
pub struct ChainJson<'a> {
    workflow: &'a str,
    entries: Vec<EntryJson<'a>>,
}

#[derive(Serialize)]
struct EntryJson<'a> {
    module: &'a str,
    mode: &'static str,
}

pub fn chain_json<'a>(workflow: &'a str, specs: &'a [ChainSpec]) -> ChainJson<'a> {
    ChainJson {
        workflow,
        entries: specs
            .iter()
            .map(|spec| EntryJson {
                module: &spec.module,
                mode: spec.mode.as_str(),
            })
            .collect(),
    }
}

pub fn module_proto(module: ModuleInfo) -> proto::Module {
    proto::Module {
        name: module.name,
        world: module.world,
        active: module.active,
        versions: module.versions.into_iter().map(version_proto).collect(),
        calls: module.calls,
        errors: module.errors,
        used_by: module.used_by,
    }
}

fn version_proto(version: VersionInfo) -> proto::ModuleVersion {
    proto::ModuleVersion {
        version: version.version,
        digest: version.digest,
        size: version.size,
        compile_ms: version.compile_ms.unwrap_or(0.0),
        uploaded_at: version.uploaded_at.unwrap_or_default(),
        signed_by: version.signed_by.unwrap_or_default(),
        active: version.active,
    }
}

pub fn upload_proto(outcome: UploadOutcome) -> proto::UploadModuleResponse {
    proto::UploadModuleResponse {
        module: Some(module_proto(outcome.module)),
        version: outcome.version,
        activated: outcome.activated,
        compile_ms: outcome.compile_ms.unwrap_or(0.0),
    }
}

pub fn chain_proto(workflow: &str, specs: Vec<ChainSpec>) -> proto::PolicyChain {
    proto::PolicyChain {
        workflow: workflow.to_string(),
        entries: specs
            .into_iter()
            .map(|spec| proto::PolicyChainEntry {
                module: spec.module,
                mode: spec.mode.as_str().to_string(),
            })
            .collect(),
    }
}

/// A chain as asked for: `(module, mode)` pairs, an empty mode meaning
/// `protect`.
pub fn chain_specs(
    entries: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<ChainSpec>, ChainError> {
    entries
        .into_iter()
        .map(|(module, mode)| {
            Ok(ChainSpec {
                module,
                mode: Mode::parse(&mode)?,
            })
        })
        .collect()
}
