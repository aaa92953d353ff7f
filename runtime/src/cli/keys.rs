//! `postern module keygen` and `postern module sign`: offline, no server.
//! The formats are `crate::signing`'s one-line texts, so what is written
//! here is what `push` sends and `[registry] trusted_keys` lists.

use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::signing::SecretKey;

/// `path` with `suffix` appended to its file name (`key` → `key.pub`,
/// `m.wasm` → `m.wasm.sig`), not replacing an extension.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

pub fn keygen(out: &Path, force: bool) -> anyhow::Result<()> {
    let public_path = with_suffix(out, ".pub");
    if !force {
        // Checked up front for both files: losing a secret key to a typo
        // cannot be undone, and a half-written pair is worse than none.
        for path in [out, public_path.as_path()] {
            if path.exists() {
                bail!(
                    "{} already exists; pass --force to replace it",
                    path.display()
                );
            }
        }
    }
    let key = SecretKey::generate().map_err(anyhow::Error::msg)?;
    write_secret(out, &key.to_text(), force)
        .with_context(|| format!("writing the secret key {}", out.display()))?;
    let public = key.public().to_string();
    std::fs::write(&public_path, format!("{public}\n"))
        .with_context(|| format!("writing the public key {}", public_path.display()))?;
    println!("{public}");
    println!(
        "wrote the secret key to {} (mode 0600, keep it private) and the public key to {}",
        out.display(),
        public_path.display()
    );
    println!(
        "to accept only modules signed with it, add the public key to `[registry] trusted_keys` \
         in the server's config"
    );
    Ok(())
}

/// The secret key file is created 0600 from the start (never briefly
/// readable by others), and tightened when `--force` reuses a file.
fn write_secret(path: &Path, line: &str, force: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if force {
        options.create(true).truncate(true);
    } else {
        // create_new: a file appearing since the check above is not clobbered.
        options.create_new(true);
    }
    let mut file = options.open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_all()
}

pub fn sign(file: &Path, key_path: &Path, out: Option<&Path>) -> anyhow::Result<()> {
    let key_text = std::fs::read_to_string(key_path)
        .with_context(|| format!("reading the secret key {}", key_path.display()))?;
    let key = SecretKey::parse(&key_text).map_err(|e| {
        if key_text.trim_start().starts_with("ed25519:") {
            anyhow::anyhow!(
                "{} is a public key; sign with the secret key (the file without `.pub`)",
                key_path.display()
            )
        } else {
            anyhow::anyhow!("reading the secret key {}: {e}", key_path.display())
        }
    })?;
    let component = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| with_suffix(file, ".sig"));
    std::fs::write(&out, format!("{}\n", key.sign(&component)))
        .with_context(|| format!("writing the signature {}", out.display()))?;
    println!(
        "wrote the signature of {} to {} (key {})",
        file.display(),
        out.display(),
        key.public()
    );
    Ok(())
}
