//! Reading a spiro bundle: a tar (plain, gzip, bzip2 or xz, told apart by
//! magic bytes) read as a stream, twice. [`scan`] lists the members, in the
//! `spiro` world's own types, for the guest's decision under hard bounds, so a hostile archive cannot make the
//! list (or the decompression) unbounded; [`extract`] then writes exactly
//! what the guest's plan lists, through a [`Confined`] staging directory
//! (spec 13.1, 13.7).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;

use tar::EntryType;

use super::confined::Confined;
use super::guest::{Member, MemberKind, Planned};

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

/// The xz decoder's memory limit: enough for `xz -9` (64 MiB dictionary),
/// not for a stream that asks for gigabytes.
const XZ_MEMORY_LIMIT_KIB: u32 = 128 << 10;

/// Why a bundle could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The client's: a 400 before the stream.
    #[error("the bundle exceeds spiro.limits.{limit} ({detail})")]
    Limit { limit: &'static str, detail: String },
    /// The client's: a 400 before the stream.
    #[error("the bundle is not a readable tar archive: {0}")]
    Corrupt(String),
    /// The archive changed between scan and extraction, or the plan does
    /// not match it (a guest's fault).
    #[error("{0}")]
    Mismatch(String),
    /// The server's own failure to write.
    #[error("writing the bundle: {0}")]
    Io(#[source] io::Error),
}

/// The WIT member kind of a tar header's type flag.
fn kind_of(kind: EntryType) -> MemberKind {
    match kind {
        EntryType::Regular | EntryType::Continuous => MemberKind::Regular,
        EntryType::Directory => MemberKind::Directory,
        EntryType::Symlink => MemberKind::Symlink,
        EntryType::Link => MemberKind::HardLink,
        EntryType::Char => MemberKind::CharacterDevice,
        EntryType::Block => MemberKind::BlockDevice,
        EntryType::Fifo => MemberKind::Fifo,
        EntryType::GNUSparse => MemberKind::GnuSparse,
        _ => MemberKind::Other,
    }
}

/// What was extracted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub directories: u64,
    pub files: u64,
    pub bytes: u64,
}

/// Lists every member of the bundle in archive order. Blocking. The limits
/// are hard bounds here: the count, each member's declared size, the sum
/// of the declared sizes (members of every type, so that no data is
/// decompressed beyond `max_total_bytes`) and the raw name length.
pub fn scan(source: impl Read, limits: &BundleLimits) -> Result<Vec<Member>, BundleError> {
    let mut members = Vec::new();
    let mut total: u64 = 0;
    for_each_member(source, limits, |name, entry| {
        let header = entry.header();
        let kind = kind_of(header.entry_type());
        let size = header.size().map_err(corrupt)?;
        let mode = header.mode().map_err(corrupt)?;
        // The tar reader would skip a directory's "data" by reading it.
        if kind == MemberKind::Directory && size != 0 {
            return Err(BundleError::Corrupt(format!(
                "directory {:?} declares a size",
                String::from_utf8_lossy(&name)
            )));
        }
        if members.len() as u64 >= limits.max_members {
            return Err(BundleError::Limit {
                limit: "max_members",
                detail: format!("more than {} members", limits.max_members),
            });
        }
        if size > limits.max_file_bytes {
            return Err(BundleError::Limit {
                limit: "max_file_bytes",
                detail: format!("{:?} is {size} bytes", String::from_utf8_lossy(&name)),
            });
        }
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(BundleError::Limit {
                limit: "max_total_bytes",
                detail: format!("more than {} bytes of files", limits.max_total_bytes),
            });
        }
        members.push(Member {
            name,
            kind,
            size,
            mode,
        });
        Ok(())
    })?;
    Ok(members)
}

/// Writes the planned members (in archive order) into `staging`. Blocking.
/// Each planned member must be in the archive at its index with the planned
/// kind and size; files are created new (never through an existing entry)
/// and get exactly the plan's mode.
pub fn extract(
    source: impl Read,
    staging: &Confined,
    plan: &[Planned],
    limits: &BundleLimits,
) -> Result<Extracted, BundleError> {
    let mut extracted = Extracted::default();
    let mut next = plan.iter().peekable();
    let mut index: u32 = 0;
    let mut buffer = vec![0u8; 64 << 10];
    for_each_member(source, limits, |_, entry| {
        let this = index;
        index += 1;
        let Some(planned) = next.next_if(|p| p.index == this) else {
            return Ok(());
        };
        let header = entry.header();
        let kind = kind_of(header.entry_type());
        let size = header.size().map_err(corrupt)?;
        let directory = planned.kind == MemberKind::Directory;
        if kind != planned.kind || (!directory && size != planned.size) {
            return Err(BundleError::Mismatch(format!(
                "member {} ({:?}) is not what the plan says",
                this, planned.name
            )));
        }
        if directory {
            staging
                .create_dir(&planned.name, planned.mode)
                .map_err(BundleError::Io)?;
            extracted.directories += 1;
        } else {
            let mut file = staging
                .create_file(&planned.name)
                .map_err(BundleError::Io)?;
            copy_exactly(entry, &mut file, size, &planned.name, &mut buffer)?;
            file.set_permissions(std::fs::Permissions::from_mode(planned.mode))
                .map_err(BundleError::Io)?;
            extracted.files += 1;
            extracted.bytes += size;
        }
        Ok(())
    })?;
    if let Some(missing) = next.next() {
        return Err(BundleError::Mismatch(format!(
            "the plan lists member {} ({:?}), which the archive does not have",
            missing.index, missing.name
        )));
    }
    Ok(extracted)
}

/// Runs `visit` on every member (not on pax / long-name metadata), with its
/// raw name. Entries are read raw: the tar crate would read a long-name or
/// pax entry of any declared size into memory; here each is bounded.
fn for_each_member<R: Read>(
    source: R,
    limits: &BundleLimits,
    mut visit: impl FnMut(Vec<u8>, &mut tar::Entry<'_, Box<dyn Read + '_>>) -> Result<(), BundleError>,
) -> Result<(), BundleError> {
    let reader = decompressed(BufReader::new(source)).map_err(corrupt)?;
    let mut archive = tar::Archive::new(reader);
    // A raw name may carry redundant `./` and `//` the guest normalizes away.
    let max_raw_name = limits.max_path_bytes.saturating_mul(2).saturating_add(256);
    let mut extension = Extension::default();
    for entry in archive.entries().map_err(corrupt)?.raw(true) {
        let mut entry = entry.map_err(corrupt)?;
        match entry.header().entry_type() {
            EntryType::GNULongName => {
                let mut name = read_extension(&mut entry, max_raw_name)?;
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
            _ => {}
        }
        let pending = std::mem::take(&mut extension);
        let size = entry.header().size().map_err(corrupt)?;
        if pending.size.is_some_and(|pax| pax != size) {
            return Err(BundleError::Corrupt(
                "a pax size other than the header's is not supported".into(),
            ));
        }
        let name = pending
            .name
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        if name.len() > max_raw_name {
            return Err(BundleError::Limit {
                limit: "max_path_bytes",
                detail: format!("a name of {} bytes", name.len()),
            });
        }
        visit(name, &mut entry)?;
    }
    if extension.name.is_some() || extension.size.is_some() {
        return Err(BundleError::Corrupt(
            "a long-name or pax header with no member after it".into(),
        ));
    }
    Ok(())
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

fn corrupt(error: io::Error) -> BundleError {
    BundleError::Corrupt(error.to_string())
}

/// Copies exactly `size` bytes of the member into `file`, telling read
/// errors (the bundle's) from write errors (ours).
fn copy_exactly(
    entry: &mut impl Read,
    file: &mut std::fs::File,
    size: u64,
    name: &str,
    buffer: &mut [u8],
) -> Result<(), BundleError> {
    let mut remaining = size;
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
    Ok(())
}
