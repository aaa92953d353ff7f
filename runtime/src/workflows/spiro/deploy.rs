//! Deployments on disk (specs/spiro.md 13.5): each is extracted into its
//! own staging tree outside the deploy root, then swapped in with one
//! `renameat2` under a per-deployment lock, so readers of
//! `<deploy_root>/<project>/<deployment>` see the old tree or the new one,
//! never neither and never a staging tree. Staging trees are removed on
//! failure, and at start (under an exclusive `flock`, so that a second
//! Postern on the same data cannot race on them).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{CWD, FlockOperation, RenameFlags};

use super::bundle::{self, BundleLimits, Extracted};
use super::config::SpiroPaths;
use super::confined::Confined;
use super::events::ErrorKind;
use super::guest::{Planned, SpiroGuest, Spirotop};

/// The file under the staging root whose `flock` marks it as in use.
const LOCK_FILE: &str = ".lock";
/// Where a deployment's topfile is rendered from.
const SPIROTOP: &str = "spirotop.sls";

/// A failure after the stream started: its `exception` type and message.
pub type DeployFailure = (ErrorKind, String);

/// One async lock per `(project, deployment)`.
type DeploymentLocks = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

pub struct Deployments {
    deploy_root: PathBuf,
    staging_root: PathBuf,
    state_top: String,
    limits: BundleLimits,
    locks: Mutex<DeploymentLocks>,
    /// Held (with its `flock`) for as long as the workflow runs.
    _lock_file: File,
}

impl Deployments {
    /// Creates both roots, takes the staging lock, checks that a swap
    /// works there, and clears the staging root of anything left over.
    pub fn open(paths: &SpiroPaths, state_top: &str, limits: BundleLimits) -> anyhow::Result<Self> {
        for root in [&paths.deploy_root, &paths.staging_root] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(root)
                .map_err(|e| anyhow::anyhow!("spiro: creating {}: {e}", root.display()))?;
        }
        let lock_path = paths.staging_root.join(LOCK_FILE);
        let lock_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| anyhow::anyhow!("spiro: opening {}: {e}", lock_path.display()))?;
        rustix::fs::flock(&lock_file, FlockOperation::NonBlockingLockExclusive).map_err(|_| {
            anyhow::anyhow!(
                "spiro: {} is locked by another process: another Postern serves this data directory",
                lock_path.display()
            )
        })?;
        let deploy_dev = std::fs::metadata(&paths.deploy_root)?.dev();
        let staging_dev = std::fs::metadata(&paths.staging_root)?.dev();
        if deploy_dev != staging_dev {
            anyhow::bail!(
                "spiro: deploy_root {} and staging_root {} are on different filesystems; a deployment could not be swapped in atomically",
                paths.deploy_root.display(),
                paths.staging_root.display()
            );
        }
        clear_staging(&paths.staging_root)?;
        probe_exchange(&paths.staging_root)?;
        Ok(Self {
            deploy_root: paths.deploy_root.clone(),
            staging_root: paths.staging_root.clone(),
            state_top: state_top.to_string(),
            limits,
            locks: Mutex::new(HashMap::new()),
            _lock_file: lock_file,
        })
    }

    pub fn deploy_root(&self) -> &Path {
        &self.deploy_root
    }

    pub fn staging_root(&self) -> &Path {
        &self.staging_root
    }

    /// A fresh, unused path under the staging root (`<prefix>-<random>`).
    pub fn staging_path(&self, prefix: &str) -> PathBuf {
        let unique = uuid::Uuid::new_v4().simple();
        self.staging_root.join(format!("{prefix}-{unique}"))
    }

    /// Extracts the spooled bundle as planned, renders the topfile and
    /// swaps the tree in, under the deployment's lock.
    pub async fn deploy(
        &self,
        project: &str,
        deployment: &str,
        spool: &Path,
        plan: Vec<Planned>,
        guest: &SpiroGuest,
    ) -> Result<Extracted, DeployFailure> {
        let lock = self.lock_for(project, deployment);
        let _held = lock.lock().await;
        let staging = self.staging_path("tree");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&staging)
            .map_err(|e| {
                (
                    ErrorKind::Internal,
                    format!("creating the staging tree: {e}"),
                )
            })?;
        let result = self
            .build_and_swap(project, deployment, spool, plan, guest, &staging)
            .await;
        // After a swap the old tree is at the staging path; after a failure
        // the new one is. Either way it goes, still under the lock.
        let doomed = staging.clone();
        let removed = tokio::task::spawn_blocking(move || remove_tree(&doomed)).await;
        if let Ok(Err(error)) | Err(error) = removed.map_err(std::io::Error::other) {
            tracing::warn!(path = %staging.display(), %error, "spiro: removing a staging tree failed");
        }
        drop(_held);
        self.forget_lock(project, deployment, lock);
        result
    }

    async fn build_and_swap(
        &self,
        project: &str,
        deployment: &str,
        spool: &Path,
        plan: Vec<Planned>,
        guest: &SpiroGuest,
        staging: &Path,
    ) -> Result<Extracted, DeployFailure> {
        let (spool, staging_owned, limits) =
            (spool.to_path_buf(), staging.to_path_buf(), self.limits);
        let state_top = self.state_top.clone();
        let (extracted, state_top_exists, spirotop) = tokio::task::spawn_blocking(move || {
            let tree = open_tree(&staging_owned)?;
            let source = File::open(&spool).map_err(|e| {
                (
                    ErrorKind::Internal,
                    format!("opening the spooled bundle: {e}"),
                )
            })?;
            let extracted = bundle::extract(source, &tree, &plan, &limits)
                .map_err(|e| (ErrorKind::Extract, e.to_string()))?;
            let state_top_exists = tree
                .exists(&state_top)
                .map_err(|e| (ErrorKind::Internal, e.to_string()))?;
            let spirotop = read_spirotop(&tree, limits.max_file_bytes)
                .map_err(|e| (ErrorKind::Topfile, format!("reading {SPIROTOP}: {e}")))?;
            Ok::<_, DeployFailure>((extracted, state_top_exists, spirotop))
        })
        .await
        .map_err(|e| (ErrorKind::Internal, e.to_string()))??;

        let rendered = guest
            .render_topfile(
                project.to_string(),
                deployment.to_string(),
                state_top_exists,
                spirotop,
            )
            .await
            .map_err(|e| (ErrorKind::Internal, format!("the spiro module failed: {e}")))?
            .map_err(|reason| (ErrorKind::Topfile, reason))?;

        let (staging_owned, state_top) = (staging.to_path_buf(), self.state_top.clone());
        let target_dir = self.deploy_root.join(project);
        let target = target_dir.join(deployment);
        tokio::task::spawn_blocking(move || {
            let tree = open_tree(&staging_owned)?;
            if let Some(text) = rendered {
                write_topfile(&tree, &state_top, text.as_bytes())
                    .map_err(|e| (ErrorKind::Topfile, format!("writing {state_top}: {e}")))?;
            }
            // Readable by a fileserver running as another user (spec 14).
            tree.set_root_mode(0o755)
                .map_err(|e| (ErrorKind::Internal, e.to_string()))?;
            swap(&staging_owned, &target_dir, &target).map_err(|e| (ErrorKind::Swap, e))
        })
        .await
        .map_err(|e| (ErrorKind::Internal, e.to_string()))??;
        Ok(extracted)
    }

    fn lock_for(&self, project: &str, deployment: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            locks
                .entry((project.to_string(), deployment.to_string()))
                .or_default(),
        )
    }

    /// Drops the map's entry when no one else waits on it.
    fn forget_lock(&self, project: &str, deployment: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        // Ours and the map's: nobody else holds or waits for it.
        if Arc::strong_count(&lock) == 2 {
            locks.remove(&(project.to_string(), deployment.to_string()));
        }
    }
}

/// Moves `staging` to `target` in one step: an exchange with the live
/// tree, or on first deployment a rename that never replaces.
fn swap(staging: &Path, target_dir: &Path, target: &Path) -> Result<(), String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(target_dir)
        .map_err(|e| format!("creating {}: {e}", target_dir.display()))?;
    let exchange = rustix::fs::renameat_with(CWD, staging, CWD, target, RenameFlags::EXCHANGE);
    match exchange {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::NOENT) => {
            rustix::fs::renameat_with(CWD, staging, CWD, target, RenameFlags::NOREPLACE)
                .map_err(|e| format!("moving the new tree into place: {e}"))
        }
        Err(e) => Err(format!("exchanging the new tree with the live one: {e}")),
    }
}

fn open_tree(staging: &Path) -> Result<Confined, DeployFailure> {
    Confined::open(staging).map_err(|e| {
        (
            ErrorKind::Internal,
            format!("opening the staging tree: {e}"),
        )
    })
}

fn read_spirotop(tree: &Confined, max_bytes: u64) -> std::io::Result<Spirotop> {
    let file = match tree.open_existing(SPIROTOP) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Spirotop::Absent),
        // A symlink cannot be there (never extracted), but say so if it is.
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            return Ok(Spirotop::NotAFile);
        }
        Err(e) => return Err(e),
    };
    if !file.metadata()?.is_file() {
        return Ok(Spirotop::NotAFile);
    }
    let mut bytes = Vec::new();
    file.take(max_bytes).read_to_end(&mut bytes)?;
    Ok(Spirotop::File(bytes))
}

fn write_topfile(tree: &Confined, name: &str, text: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let mut file = tree.create_file(name)?;
    file.write_all(text)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

/// Removes a tree; directories without write permission for us cannot
/// occur (every planned directory has 0700), so a plain recursive removal
/// does.
fn remove_tree(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}

/// Deletes everything under the staging root but the lock file.
fn clear_staging(root: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(root)
        .map_err(|e| anyhow::anyhow!("spiro: reading {}: {e}", root.display()))?;
    for entry in entries {
        let entry = entry?;
        if entry.file_name() == LOCK_FILE {
            continue;
        }
        let path = entry.path();
        remove_tree(&path)
            .map_err(|e| anyhow::anyhow!("spiro: removing leftover {}: {e}", path.display()))?;
        tracing::info!(path = %path.display(), "spiro: removed a leftover staging entry");
    }
    Ok(())
}

/// Checks that `renameat2(RENAME_EXCHANGE)` works on the staging
/// filesystem (some filesystems do not support it).
fn probe_exchange(root: &Path) -> anyhow::Result<()> {
    let (a, b) = (root.join("probe-a"), root.join("probe-b"));
    std::fs::create_dir(&a)?;
    std::fs::create_dir(&b)?;
    let result = rustix::fs::renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE);
    std::fs::remove_dir(&a)?;
    std::fs::remove_dir(&b)?;
    result.map_err(|e| {
        anyhow::anyhow!(
            "spiro: the filesystem of {} does not support renameat2(RENAME_EXCHANGE) ({e}); deployments could not be swapped atomically",
            root.display()
        )
    })
}
