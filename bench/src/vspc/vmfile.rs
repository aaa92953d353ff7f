//! Writes the VM's instance file so the server has something to answer with.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// A minimal valid instance file (the spec's golden `minimal.yaml`).
pub const MINIMAL_YAML: &str = "\
metadata:
  ami_id: img
  availability_zone: az
  hostname: h
  instance_id: i-1
  region: r
network:
  address: 10.0.0.5
  gateway: 10.0.0.1
  nameservers:
  - 10.0.0.2
  netmask: 255.255.255.0
";

/// Writes `dir/<vm>.yaml`, creating `dir` if needed; returns the path.
pub fn write(dir: &Path, vm: &str) -> Result<PathBuf> {
    // The server only serves names that are safe file names (spec 8.1);
    // refusing others here also keeps us from writing outside `dir`.
    if vm.starts_with('.') || vm.contains(['/', '\\', '\0']) || vm.len() > 250 {
        bail!("--vm '{vm}' is not a safe file name; cannot write it with --vm-dir");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let path = dir.join(format!("{vm}.yaml"));
    std::fs::write(&path, MINIMAL_YAML).with_context(|| format!("write {}", path.display()))?;
    Ok(path)
}
