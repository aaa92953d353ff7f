//! `postern policy show|set`: a workflow's policy chain through the admin
//! API.

use anyhow::bail;

use super::client::Admin;
use crate::admin::proto::{GetPolicyChainRequest, PolicyChain, PolicyChainEntry};

pub async fn show(admin: &mut Admin, workflow: &str) -> anyhow::Result<()> {
    let chain = admin
        .client
        .get_policy_chain(GetPolicyChainRequest {
            workflow: workflow.to_string(),
        })
        .await
        .map_err(|s| admin.failed(&format!("reading the policy chain of {workflow}"), s))?
        .into_inner();
    print_chain(&chain);
    Ok(())
}

pub async fn set(
    admin: &mut Admin,
    workflow: &str,
    entries: Vec<PolicyChainEntry>,
) -> anyhow::Result<()> {
    let chain = admin
        .client
        .set_policy_chain(PolicyChain {
            workflow: workflow.to_string(),
            entries,
        })
        .await
        .map_err(|s| admin.failed(&format!("setting the policy chain of {workflow}"), s))?
        .into_inner();
    print_chain(&chain);
    Ok(())
}

/// `module`, `module:protect` or `module:monitor`; protect by default, as
/// in the config file (a policy that only logs must be asked for).
pub fn parse_entry(spec: &str) -> anyhow::Result<PolicyChainEntry> {
    let (module, mode) = match spec.rsplit_once(':') {
        Some((module, mode)) => (module, mode),
        None => (spec, "protect"),
    };
    if module.is_empty() {
        bail!("`{spec}`: no module name");
    }
    if !matches!(mode, "protect" | "monitor") {
        bail!("`{spec}`: the mode is `protect` or `monitor`, not `{mode}`");
    }
    Ok(PolicyChainEntry {
        module: module.to_string(),
        mode: mode.to_string(),
    })
}

fn print_chain(chain: &PolicyChain) {
    if chain.entries.is_empty() {
        println!("(no policies)");
    }
    for (i, entry) in chain.entries.iter().enumerate() {
        let mode = if entry.mode.is_empty() {
            "protect"
        } else {
            &entry.mode
        };
        println!("{}. {} ({mode})", i + 1, entry.module);
    }
}
