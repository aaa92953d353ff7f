//! Persistence behind one small trait. Keys are `/`-separated paths of plain
//! names (`modules/<name>/<digest>.wasm`); the embedded default keeps each
//! key as a file under the data directory.

mod dir;

pub use dir::DirStore;

use std::io;

/// Durable key → bytes storage.
pub trait BlobStore: Send + Sync {
    /// The bytes under `key`, or `None` when there are none.
    fn read(&self, key: &str) -> io::Result<Option<Vec<u8>>>;
    /// Stores `bytes` under `key` atomically: a reader (or a crash) sees the
    /// old bytes or the new ones, never a mix.
    fn write(&self, key: &str, bytes: &[u8]) -> io::Result<()>;
    /// Removes `key`; removing a missing key is not an error.
    fn remove(&self, key: &str) -> io::Result<()>;
    /// The names directly under `prefix` (a key with a trailing `/`), sorted.
    fn list(&self, prefix: &str) -> io::Result<Vec<String>>;
}

/// Whether `segment` may be one part of a key: letters, digits, `.`, `_`,
/// `-`, not starting with `.` (no `..`, no hidden temporary files).
pub fn is_plain_name(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 128
        && !segment.starts_with('.')
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
