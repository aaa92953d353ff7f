//! Which members of a deploy bundle may be written, and how (specs/spiro.md
//! 13.1): only regular files and directories; names normalized and
//! confined to the deployment; the configured limits; permission bits only.
//! The first offending member refuses the whole bundle.

use std::collections::HashMap;

/// A tar member's type as its header gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Directory,
    Symlink,
    HardLink,
    CharacterDevice,
    BlockDevice,
    Fifo,
    GnuSparse,
    Other,
}

impl Kind {
    fn refused_as(self) -> Option<&'static str> {
        match self {
            Kind::Regular | Kind::Directory => None,
            Kind::Symlink => Some("a symbolic link"),
            Kind::HardLink => Some("a hard link"),
            Kind::CharacterDevice => Some("a character device"),
            Kind::BlockDevice => Some("a block device"),
            Kind::Fifo => Some("a FIFO"),
            Kind::GnuSparse => Some("a GNU sparse file"),
            Kind::Other => Some("a member of an unsupported type"),
        }
    }
}

/// One tar member as the host read its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: Vec<u8>,
    pub kind: Kind,
    pub size: u64,
    pub mode: u32,
}

/// `spiro.limits.*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_members: u64,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    pub max_path_bytes: usize,
}

/// One member to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub index: u32,
    pub name: String,
    pub directory: bool,
    pub mode: u32,
    pub size: u64,
}

/// Why the bundle is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub index: Option<u32>,
    pub name: Option<String>,
    pub reason: String,
}

/// A component of a normalized name is at most this long (NAME_MAX).
const MAX_COMPONENT_BYTES: usize = 255;

/// The plan for `members`, in archive order, or the first reason to refuse.
pub fn check_bundle(
    limits: &Limits,
    _project: &str,
    _deployment: &str,
    members: &[Member],
) -> Result<Vec<Planned>, Rejection> {
    if members.len() as u64 > limits.max_members {
        return Err(Rejection {
            index: None,
            name: None,
            reason: format!(
                "the bundle exceeds spiro.limits.max_members ({} members, at most {})",
                members.len(),
                limits.max_members
            ),
        });
    }
    let mut seen: HashMap<String, bool> = HashMap::new();
    let mut total: u64 = 0;
    let mut plan = Vec::with_capacity(members.len());
    for (index, member) in members.iter().enumerate() {
        let index = index as u32;
        let lossy = String::from_utf8_lossy(&member.name).into_owned();
        let refuse = |reason: String| Rejection {
            index: Some(index),
            name: Some(lossy.clone()),
            reason,
        };
        if let Some(what) = member.kind.refused_as() {
            return Err(refuse(format!(
                "member {lossy:?} is {what}; a bundle may contain only regular files and directories"
            )));
        }
        let name = normalize(&member.name, limits)
            .map_err(|why| refuse(format!("member {lossy:?}: {why}")))?;
        let directory = member.kind == Kind::Directory;
        claim(&mut seen, &name, directory)
            .map_err(|why| refuse(format!("member {lossy:?}: {why}")))?;
        let (mode, size) = if directory {
            ((member.mode & 0o777) | 0o700, 0)
        } else {
            if member.size > limits.max_file_bytes {
                return Err(refuse(format!(
                    "the bundle exceeds spiro.limits.max_file_bytes ({lossy:?} is {} bytes, at most {})",
                    member.size, limits.max_file_bytes
                )));
            }
            total = total.saturating_add(member.size);
            if total > limits.max_total_bytes {
                return Err(refuse(format!(
                    "the bundle exceeds spiro.limits.max_total_bytes (more than {} bytes of files)",
                    limits.max_total_bytes
                )));
            }
            (member.mode & 0o777, member.size)
        };
        plan.push(Planned {
            index,
            name,
            directory,
            mode,
            size,
        });
    }
    Ok(plan)
}

/// `_source/./a//b/` → `_source/a/b`; refuses what could leave the tree.
fn normalize(raw: &[u8], limits: &Limits) -> Result<String, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the name is not UTF-8".to_string())?;
    if text.contains('\0') {
        return Err("the name contains a NUL byte".into());
    }
    if text.starts_with('/') {
        return Err("the name is absolute".into());
    }
    let mut components = Vec::new();
    for component in text.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err("the name contains a `..` component".into()),
            _ if component.len() > MAX_COMPONENT_BYTES => {
                return Err(format!(
                    "the bundle exceeds spiro.limits.max_path_bytes (a component is {} bytes, at most {MAX_COMPONENT_BYTES})",
                    component.len()
                ));
            }
            _ => components.push(component),
        }
    }
    if components.is_empty() {
        return Err("the name is empty".into());
    }
    let name = components.join("/");
    if name.len() > limits.max_path_bytes {
        return Err(format!(
            "the bundle exceeds spiro.limits.max_path_bytes ({} bytes, at most {})",
            name.len(),
            limits.max_path_bytes
        ));
    }
    Ok(name)
}

/// Records `name` (and its ancestors as directories): a name appears once,
/// except that a directory may repeat, and nothing lies below a file.
fn claim(seen: &mut HashMap<String, bool>, name: &str, directory: bool) -> Result<(), String> {
    for (slash, _) in name.match_indices('/') {
        let is_directory = *seen.entry(name[..slash].to_string()).or_insert(true);
        if !is_directory {
            return Err(format!(
                "{:?} is a regular file, so nothing can lie below it",
                &name[..slash]
            ));
        }
    }
    match seen.get(name) {
        None => {
            seen.insert(name.to_string(), directory);
            Ok(())
        }
        Some(true) if directory => Ok(()),
        Some(false) if !directory => Err("the name appears twice".into()),
        Some(_) => Err("the name is used both as a file and as a directory".into()),
    }
}

#[cfg(test)]
mod tests;
