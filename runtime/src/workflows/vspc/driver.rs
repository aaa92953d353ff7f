//! The file driver: one YAML file per VM, `<directory>/<vm name>.yaml`,
//! read afresh for every request so edits apply at once (spec 8.1).

use std::io::Read;
use std::path::PathBuf;

/// Why no file content could be had; the `outcome` label of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRefusal {
    UnsafeName,
    NoFile,
    Unreadable,
    TooLarge,
}

impl FileRefusal {
    pub fn outcome(self) -> &'static str {
        match self {
            FileRefusal::UnsafeName => "unsafe_name",
            FileRefusal::NoFile => "no_file",
            FileRefusal::Unreadable => "unreadable",
            FileRefusal::TooLarge => "too_large",
        }
    }
}

pub struct FileDriver {
    directory: PathBuf,
    max_bytes: u64,
}

impl FileDriver {
    pub fn new(directory: PathBuf, max_bytes: u64) -> Self {
        Self {
            directory,
            max_bytes,
        }
    }

    pub fn path_for(&self, name: &str) -> PathBuf {
        self.directory.join(format!("{name}.yaml"))
    }

    /// Reads the file of VM `name`. Refuses names that could leave the
    /// directory or name a hidden file, non-regular files, and files over
    /// the size limit (checked again while reading, in case it grows).
    ///
    /// Blocking, deliberately: these are small local files in the page
    /// cache, and a read costs less than handing it to a blocking thread.
    pub fn read(&self, name: &[u8]) -> Result<(String, Vec<u8>), FileRefusal> {
        let name = safe_name(name).ok_or(FileRefusal::UnsafeName)?;
        let path = self.path_for(name);
        let mut file = std::fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FileRefusal::NoFile,
            _ => FileRefusal::Unreadable,
        })?;
        let metadata = file.metadata().map_err(|_| FileRefusal::Unreadable)?;
        if !metadata.is_file() {
            return Err(FileRefusal::Unreadable);
        }
        if metadata.len() > self.max_bytes {
            return Err(FileRefusal::TooLarge);
        }
        let mut content = Vec::with_capacity(metadata.len() as usize);
        (&mut file)
            .take(self.max_bytes + 1)
            .read_to_end(&mut content)
            .map_err(|_| FileRefusal::Unreadable)?;
        if content.len() as u64 > self.max_bytes {
            return Err(FileRefusal::TooLarge);
        }
        Ok((name.to_string(), content))
    }
}

/// A VM name usable as a file name: UTF-8, 1–255 bytes, no `/`, `\` or NUL,
/// not starting with `.` (spec 8.1, decision 9).
pub fn safe_name(name: &[u8]) -> Option<&str> {
    let name = std::str::from_utf8(name).ok()?;
    let ok = (1..=255).contains(&name.len())
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0']);
    ok.then_some(name)
}
