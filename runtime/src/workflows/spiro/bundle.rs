//! Safe extraction of a spiro bundle: a tar (plain, gzip, bzip2 or xz,
//! told apart by magic bytes) read as a stream into a fresh directory.
//! Only regular files and directories; names normalized and confined;
//! every limit checked before the bytes it guards are written (spec 13.1).

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use tar::EntryType;

/// The limits of one bundle (`spiro.limits.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// Tar members, directories included.
    pub max_members: u64,
    /// Size of one regular file.
    pub max_file_bytes: u64,
    /// Sum of the regular files' sizes, uncompressed.
    pub max_total_bytes: u64,
    /// A normalized name's length in UTF-8 bytes.
    pub max_path_bytes: usize,
}

impl Default for BundleLimits {
    fn default() -> Self {
        Self {
            max_members: 100_000,
            max_file_bytes: 1 << 30,
            max_total_bytes: 2 << 30,
            max_path_bytes: 1024,
        }
    }
}

/// A component of a normalized name is at most this long.
const MAX_COMPONENT_BYTES: usize = 255;
/// The xz decoder's memory limit: enough for `xz -9` (64 MiB dictionary),
/// not for a stream that asks for gigabytes.
const XZ_MEMORY_LIMIT_KIB: u32 = 128 << 10;

/// Why a bundle was refused. Every variant but [`BundleError::Io`] is the
/// client's (400); `Io` is the server's own failure to write.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle exceeds spiro.limits.{limit} ({detail})")]
    Limit { limit: &'static str, detail: String },
    #[error("member {name:?} is a {kind}; a bundle may contain only regular files and directories")]
    MemberType { name: String, kind: &'static str },
    #[error("member {name:?}: {reason}")]
    BadName { name: String, reason: &'static str },
    #[error("member {name:?} appears twice")]
    Duplicate { name: String },
    #[error("member {name:?} is both a file and a directory (or lies below a file)")]
    Conflict { name: String },
    #[error("the bundle is not a readable tar archive: {0}")]
    Corrupt(String),
    #[error("writing the bundle: {0}")]
    Io(#[source] io::Error),
}

/// What was extracted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub members: u64,
    pub files: u64,
    pub bytes: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

/// Extracts the bundle read from `source` into `dest`, an existing empty
/// directory. Blocking: run it on a blocking thread. On error, `dest` holds
/// a partial tree the caller discards.
pub fn extract(
    source: impl Read,
    dest: &Path,
    limits: &BundleLimits,
) -> Result<Extracted, BundleError> {
    let reader = decompressed(BufReader::new(source)).map_err(corrupt)?;
    let mut archive = tar::Archive::new(reader);
    let mut seen: HashMap<String, Kind> = HashMap::new();
    let mut extracted = Extracted::default();
    // Raw entries: the tar crate would read a long-name or pax entry of any
    // declared size into memory; here each is read under a small bound.
    let mut extension = Extension::default();
    for entry in archive.entries().map_err(corrupt)?.raw(true) {
        let mut entry = entry.map_err(corrupt)?;
        let kind = match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => Kind::File,
            EntryType::Directory => Kind::Dir,
            EntryType::GNULongName => {
                let mut name = read_extension(&mut entry, limits.max_path_bytes + 1)?;
                while name.last() == Some(&0) {
                    name.pop();
                }
                extension.name = Some(name);
                continue;
            }
            EntryType::XHeader => {
                let records = read_extension(&mut entry, MAX_PAX_BYTES)?;
                extension.apply_pax(&records)?;
                continue;
            }
            // Metadata: a link's long target (links are refused anyway) and
            // pax headers for the whole archive.
            EntryType::GNULongLink | EntryType::XGlobalHeader => {
                read_extension(&mut entry, MAX_PAX_BYTES)?;
                continue;
            }
            other => {
                let name = std::mem::take(&mut extension)
                    .name
                    .unwrap_or_else(|| entry.path_bytes().into_owned());
                return Err(BundleError::MemberType {
                    name: String::from_utf8_lossy(&name).into_owned(),
                    kind: type_name(other),
                });
            }
        };
        let pending = std::mem::take(&mut extension);
        extracted.members += 1;
        if extracted.members > limits.max_members {
            return Err(BundleError::Limit {
                limit: "max_members",
                detail: format!("more than {} members", limits.max_members),
            });
        }
        let raw_name = pending
            .name
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        let name = normalize(&raw_name, limits)?;
        claim(&mut seen, &name, kind)?;
        let mode = entry.header().mode().map_err(corrupt)? & 0o777;
        let path = dest.join(&name);
        match kind {
            Kind::Dir => {
                // The tar reader would skip a directory's "data" by reading it.
                if entry.header().size().map_err(corrupt)? != 0 {
                    return Err(BundleError::Corrupt(format!(
                        "directory {name:?} declares a size"
                    )));
                }
                fs::create_dir_all(&path).map_err(BundleError::Io)?;
                fs::set_permissions(&path, fs::Permissions::from_mode(mode | 0o700))
                    .map_err(BundleError::Io)?;
            }
            Kind::File => {
                let size = entry.header().size().map_err(corrupt)?;
                if pending.size.is_some_and(|pax| pax != size) {
                    return Err(BundleError::Corrupt(format!(
                        "member {name:?}: a pax size other than the header's is not supported"
                    )));
                }
                if size > limits.max_file_bytes {
                    return Err(BundleError::Limit {
                        limit: "max_file_bytes",
                        detail: format!("{name:?} is {size} bytes"),
                    });
                }
                extracted.bytes = extracted.bytes.saturating_add(size);
                if extracted.bytes > limits.max_total_bytes {
                    return Err(BundleError::Limit {
                        limit: "max_total_bytes",
                        detail: format!("more than {} bytes of files", limits.max_total_bytes),
                    });
                }
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(BundleError::Io)?;
                }
                write_file(&mut entry, &path, &name, size, mode)?;
                extracted.files += 1;
            }
        }
    }
    if extension.name.is_some() || extension.size.is_some() {
        return Err(BundleError::Corrupt(
            "a long-name or pax header with no member after it".into(),
        ));
    }
    Ok(extracted)
}

/// Largest pax (or long-link) extension entry read; real ones are a few
/// hundred bytes.
const MAX_PAX_BYTES: usize = 64 << 10;

/// What extension headers said about the next member.
#[derive(Default)]
struct Extension {
    name: Option<Vec<u8>>,
    size: Option<u64>,
}

impl Extension {
    /// pax records: `<length> <key>=<value>\n`; `path` names the member,
    /// `size` is checked against the header's; the rest (times, owners)
    /// does not matter here.
    fn apply_pax(&mut self, mut records: &[u8]) -> Result<(), BundleError> {
        let bad = || BundleError::Corrupt("a malformed pax header".into());
        while !records.is_empty() {
            let space = records.iter().position(|&b| b == b' ').ok_or_else(bad)?;
            let length: usize = std::str::from_utf8(&records[..space])
                .ok()
                .and_then(|l| l.parse().ok())
                .filter(|&l| l > space + 1 && l <= records.len())
                .ok_or_else(bad)?;
            let record = &records[space + 1..length];
            let record = record.strip_suffix(b"\n").ok_or_else(bad)?;
            let equals = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
            let (key, value) = (&record[..equals], &record[equals + 1..]);
            match key {
                b"path" => self.name = Some(value.to_vec()),
                b"size" => {
                    self.size = Some(
                        std::str::from_utf8(value)
                            .ok()
                            .and_then(|v| v.parse().ok())
                            .ok_or_else(bad)?,
                    )
                }
                _ => {}
            }
            records = &records[length..];
        }
        Ok(())
    }
}

/// The data of an extension entry, refused when it declares more than `max`.
fn read_extension(entry: &mut impl Read, max: usize) -> Result<Vec<u8>, BundleError> {
    let mut data = Vec::new();
    entry
        .take(max as u64 + 1)
        .read_to_end(&mut data)
        .map_err(corrupt)?;
    if data.len() > max {
        return Err(BundleError::Limit {
            limit: "max_path_bytes",
            detail: format!("an extension header of more than {max} bytes"),
        });
    }
    Ok(data)
}

/// The decompressing reader the magic bytes call for.
fn decompressed<'a, R: BufRead + 'a>(mut source: R) -> io::Result<Box<dyn Read + 'a>> {
    let magic = source.fill_buf()?;
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(source))
    } else if magic.starts_with(b"BZh") {
        Box::new(bzip2::bufread::MultiBzDecoder::new(source))
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Box::new(lzma_rust2::XzReader::new_mem_limit(
            source,
            true,
            XZ_MEMORY_LIMIT_KIB,
        ))
    } else {
        Box::new(source)
    })
}

/// `_source/./a//b/` → `_source/a/b`; refuses what could leave `dest`.
fn normalize(raw: &[u8], limits: &BundleLimits) -> Result<String, BundleError> {
    let lossy = || String::from_utf8_lossy(raw).into_owned();
    let bad = |reason| BundleError::BadName {
        name: lossy(),
        reason,
    };
    let text = std::str::from_utf8(raw).map_err(|_| bad("the name is not UTF-8"))?;
    if text.contains('\0') {
        return Err(bad("the name contains a NUL byte"));
    }
    if text.starts_with('/') {
        return Err(bad("the name is absolute"));
    }
    let mut components = Vec::new();
    for component in text.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err(bad("the name contains `..`")),
            _ if component.len() > MAX_COMPONENT_BYTES => {
                return Err(BundleError::Limit {
                    limit: "max_path_bytes",
                    detail: format!("a component of {:?} is over 255 bytes", lossy()),
                });
            }
            _ => components.push(component),
        }
    }
    if components.is_empty() {
        return Err(bad("the name is empty"));
    }
    let name = components.join("/");
    if name.len() > limits.max_path_bytes {
        return Err(BundleError::Limit {
            limit: "max_path_bytes",
            detail: format!("{name:?} is {} bytes", name.len()),
        });
    }
    Ok(name)
}

/// Records `name` as `kind`, and its ancestors as directories: a name
/// appears once (a directory may repeat), and nothing lies below a file.
fn claim(seen: &mut HashMap<String, Kind>, name: &str, kind: Kind) -> Result<(), BundleError> {
    let mut ancestor_end = 0;
    while let Some(slash) = name[ancestor_end..].find('/') {
        ancestor_end += slash;
        match seen
            .entry(name[..ancestor_end].to_string())
            .or_insert(Kind::Dir)
        {
            Kind::Dir => {}
            Kind::File => {
                return Err(BundleError::Conflict {
                    name: name.to_string(),
                });
            }
        }
        ancestor_end += 1;
    }
    match (seen.get(name), kind) {
        (None, _) => {
            seen.insert(name.to_string(), kind);
            Ok(())
        }
        (Some(Kind::Dir), Kind::Dir) => Ok(()),
        (Some(Kind::File), Kind::File) => Err(BundleError::Duplicate {
            name: name.to_string(),
        }),
        (Some(_), _) => Err(BundleError::Conflict {
            name: name.to_string(),
        }),
    }
}

/// Copies exactly `size` bytes of the member into a new file (never an
/// existing one: `create_new`), telling read errors (the bundle's) from
/// write errors (ours).
fn write_file(
    entry: &mut impl Read,
    path: &Path,
    name: &str,
    size: u64,
    mode: u32,
) -> Result<(), BundleError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(BundleError::Io)?;
    let mut remaining = size;
    let mut buffer = vec![0u8; 64 << 10];
    while remaining > 0 {
        let want = buffer
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let read = entry.read(&mut buffer[..want]).map_err(corrupt)?;
        if read == 0 {
            return Err(BundleError::Corrupt(format!(
                "member {name:?} ends before its {size} bytes"
            )));
        }
        file.write_all(&buffer[..read]).map_err(BundleError::Io)?;
        remaining -= read as u64;
    }
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(BundleError::Io)?;
    Ok(())
}

fn type_name(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Symlink => "symbolic link",
        EntryType::Link => "hard link",
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "FIFO",
        EntryType::GNUSparse => "GNU sparse file",
        _ => "member of an unsupported type",
    }
}

fn corrupt(error: io::Error) -> BundleError {
    BundleError::Corrupt(error.to_string())
}
