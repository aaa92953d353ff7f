//! A directory tree reached only through directory handles: every component
//! is opened relative to its parent with `O_NOFOLLOW`, so nothing written or
//! read through a [`Confined`] can resolve outside its root, whatever links
//! or renames happen around it (spec 13.7, step 4).

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{AtFlags, CWD, Mode, OFlags};

pub struct Confined {
    root: OwnedFd,
    /// The parent directory used last (bundles list files directory by
    /// directory), so most files cost one `openat` instead of one per
    /// component.
    last_parent: RefCell<Option<(String, OwnedFd)>>,
}

const DIR_FLAGS: OFlags = OFlags::DIRECTORY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::RDONLY)
    .union(OFlags::CLOEXEC);

impl Confined {
    /// Opens an existing directory (itself not through a symlink).
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(Self {
            root: rustix::fs::openat(CWD, path, DIR_FLAGS, Mode::empty())?,
            last_parent: RefCell::new(None),
        })
    }

    /// The directory at `components` below the root; with `create_mode`,
    /// missing ones are created with that mode.
    pub fn dir(&self, components: &[&str], create_mode: Option<u32>) -> io::Result<OwnedFd> {
        let mut current = rustix::fs::openat(&self.root, ".", DIR_FLAGS, Mode::empty())?;
        for component in components {
            check_component(component)?;
            current = match rustix::fs::openat(&current, *component, DIR_FLAGS, Mode::empty()) {
                Ok(next) => next,
                Err(rustix::io::Errno::NOENT) if create_mode.is_some() => {
                    let mode = create_mode.unwrap_or(0o755);
                    match rustix::fs::mkdirat(&current, *component, Mode::from_raw_mode(mode)) {
                        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    let next = rustix::fs::openat(&current, *component, DIR_FLAGS, Mode::empty())?;
                    // mkdir's mode passes through the umask; the plan's does not.
                    rustix::fs::fchmod(&next, Mode::from_raw_mode(mode))?;
                    next
                }
                Err(e) => return Err(e.into()),
            };
        }
        Ok(current)
    }

    /// Creates the directory `name` (and missing parents, mode 0755) and
    /// sets its mode, also when it already existed.
    pub fn create_dir(&self, name: &str, mode: u32) -> io::Result<()> {
        let components: Vec<&str> = name.split('/').collect();
        let (last, parents) = components.split_last().expect("split yields one item");
        let parent = self.dir(parents, Some(0o755))?;
        check_component(last)?;
        match rustix::fs::mkdirat(&parent, *last, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
        let dir = rustix::fs::openat(&parent, *last, DIR_FLAGS, Mode::empty())?;
        rustix::fs::fchmod(&dir, Mode::from_raw_mode(mode))?;
        Ok(())
    }

    /// A new regular file `name` (never an existing one), mode 0600 until
    /// the caller sets the final mode; missing parents are created 0755.
    pub fn create_file(&self, name: &str) -> io::Result<File> {
        let (parent_name, last) = name.rsplit_once('/').unwrap_or(("", name));
        check_component(last)?;
        let mut cached = self.last_parent.borrow_mut();
        if cached
            .as_ref()
            .is_none_or(|(cached_name, _)| cached_name != parent_name)
        {
            let components: Vec<&str> = if parent_name.is_empty() {
                Vec::new()
            } else {
                parent_name.split('/').collect()
            };
            let parent = self.dir(&components, Some(0o755))?;
            *cached = Some((parent_name.to_string(), parent));
        }
        let (_, parent) = cached.as_ref().expect("just cached");
        let fd = rustix::fs::openat(
            parent,
            last,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        Ok(File::from(fd))
    }

    /// An existing entry `name` opened read-only without following links:
    /// a regular file, or a directory.
    pub fn open_existing(&self, name: &str) -> io::Result<File> {
        let components: Vec<&str> = name.split('/').collect();
        let (last, parents) = components.split_last().expect("split yields one item");
        let parent = self.dir(parents, None)?;
        check_component(last)?;
        let fd = rustix::fs::openat(
            &parent,
            *last,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        )?;
        Ok(File::from(fd))
    }

    /// Whether `name` exists directly in the root (without following it).
    pub fn exists(&self, name: &str) -> io::Result<bool> {
        check_component(name)?;
        match rustix::fs::statat(&self.root, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => Ok(true),
            Err(rustix::io::Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub fn set_root_mode(&self, mode: u32) -> io::Result<()> {
        rustix::fs::fchmod(&self.root, Mode::from_raw_mode(mode))?;
        Ok(())
    }
}

/// One plain component: never empty, `.`, `..` or containing `/` or NUL.
/// The guest's plan is checked again here, because a replaced guest must
/// not be able to steer the host's writes.
fn check_component(component: &str) -> io::Result<()> {
    if component.is_empty()
        || component == "."
        || component == ".."
        || component.contains(['/', '\0'])
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{component:?} is not a plain path component"),
        ));
    }
    Ok(())
}
