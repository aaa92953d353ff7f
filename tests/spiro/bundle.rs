//! Safe bundle extraction (spec 13.1, 13.7): the host's scan (hard bounds,
//! compressed or not), the spiro guest's bundle policy (run natively here),
//! and the host's extraction of exactly the plan through directory handles.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use postern::workflows::spiro::bundle::{BundleError, BundleLimits, Extracted, extract, scan};
use postern::workflows::spiro::confined::Confined;
use postern::workflows::spiro::guest::{MemberKind, Planned};
use postern_guest_spiro as policy;

use super::harness::{bzip2, gzip, xz};
use tar::{EntryType, Header};

/// A tar member as raw as a hostile client could write it.
struct Member<'a> {
    name: &'a [u8],
    kind: EntryType,
    mode: u32,
    data: &'a [u8],
    /// The size the header claims (defaults to the data's).
    size: Option<u64>,
}

fn file<'a>(name: &'a str, data: &'a [u8]) -> Member<'a> {
    Member {
        name: name.as_bytes(),
        kind: EntryType::Regular,
        mode: 0o644,
        data,
        size: None,
    }
}

fn dir(name: &str) -> Member<'_> {
    Member {
        name: name.as_bytes(),
        kind: EntryType::Directory,
        mode: 0o755,
        data: b"",
        size: None,
    }
}

fn of_kind(name: &str, kind: EntryType) -> Member<'_> {
    Member {
        name: name.as_bytes(),
        kind,
        mode: 0o644,
        data: b"",
        size: None,
    }
}

/// The tar bytes, names written straight into the header (no sanitizing).
fn tar(members: &[Member]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for member in members {
        let mut header = Header::new_gnu();
        let name = &mut header.as_old_mut().name;
        assert!(
            member.name.len() <= name.len(),
            "test names fit the old header"
        );
        name[..member.name.len()].copy_from_slice(member.name);
        header.set_entry_type(member.kind);
        header.set_mode(member.mode);
        header.set_size(member.size.unwrap_or(member.data.len() as u64));
        if member.kind == EntryType::Symlink || member.kind == EntryType::Link {
            header.set_link_name("target").unwrap();
        }
        if member.kind == EntryType::GNUSparse {
            // A well-formed sparse header: real size 0, no sparse map.
            header.as_gnu_mut().unwrap().realsize = *b"00000000000\0";
        }
        header.set_cksum();
        builder.append(&header, member.data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Why [`unpack`] refused: the host's scan or extraction, or the policy.
#[derive(Debug)]
enum Refused {
    Host(BundleError),
    Policy(String),
}

impl Refused {
    fn text(&self) -> String {
        match self {
            Refused::Host(error) => error.to_string(),
            Refused::Policy(reason) => reason.clone(),
        }
    }
}

/// What the server does with a bundle: scan, the guest's plan, extract.
fn unpack(bytes: &[u8], limits: &BundleLimits) -> (tempfile::TempDir, Result<Extracted, Refused>) {
    let dest = tempfile::tempdir().unwrap();
    let result = unpack_into(bytes, dest.path(), limits);
    (dest, result)
}

fn unpack_into(bytes: &[u8], dest: &Path, limits: &BundleLimits) -> Result<Extracted, Refused> {
    let scanned = scan(bytes, limits).map_err(Refused::Host)?;
    let members: Vec<policy::Member> = scanned
        .into_iter()
        .map(|m| policy::Member {
            name: m.name,
            kind: policy_kind(m.kind),
            size: m.size,
            mode: m.mode,
        })
        .collect();
    let policy_limits = policy::Limits {
        max_members: limits.max_members,
        max_file_bytes: limits.max_file_bytes,
        max_total_bytes: limits.max_total_bytes,
        max_path_bytes: limits.max_path_bytes,
    };
    let plan: Vec<Planned> = policy::check_bundle(&policy_limits, "p", "d", &members)
        .map_err(|rejection| Refused::Policy(rejection.reason))?
        .into_iter()
        .map(|p| Planned {
            index: p.index,
            name: p.name,
            kind: if p.directory {
                MemberKind::Directory
            } else {
                MemberKind::Regular
            },
            mode: p.mode,
            size: p.size,
        })
        .collect();
    extract(bytes, &Confined::open(dest).unwrap(), &plan, limits).map_err(Refused::Host)
}

fn policy_kind(kind: MemberKind) -> policy::Kind {
    match kind {
        MemberKind::Regular => policy::Kind::Regular,
        MemberKind::Directory => policy::Kind::Directory,
        MemberKind::Symlink => policy::Kind::Symlink,
        MemberKind::HardLink => policy::Kind::HardLink,
        MemberKind::CharacterDevice => policy::Kind::CharacterDevice,
        MemberKind::BlockDevice => policy::Kind::BlockDevice,
        MemberKind::Fifo => policy::Kind::Fifo,
        MemberKind::GnuSparse => policy::Kind::GnuSparse,
        MemberKind::Other => policy::Kind::Other,
    }
}

fn is_limit(result: &Result<Extracted, Refused>, limit: &str) -> bool {
    match result {
        Err(Refused::Host(BundleError::Limit { limit: named, .. })) => *named == limit,
        Err(Refused::Policy(reason)) => reason.contains(&format!("spiro.limits.{limit}")),
        _ => false,
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn plain_gzip_bzip2_and_xz_bundles_extract_the_same_tree() {
    let bundle = tar(&[
        dir("_source/"),
        file("./_source/./states//top.sls", b"base:\n  '*': []\n"),
        Member {
            mode: 0o4755,
            ..file("_source/bin/run.sh", b"#!/bin/sh\n")
        },
        Member {
            mode: 0o500,
            ..dir("_salt")
        },
        file("_salt/init.sls", b""),
    ]);
    for (format, bytes) in [
        ("plain", bundle.clone()),
        ("gzip", gzip(&bundle)),
        ("bzip2", bzip2(&bundle)),
        ("xz", xz(&bundle)),
    ] {
        let (dest, result) = unpack(&bytes, &BundleLimits::default());
        let extracted = result.unwrap_or_else(|e| panic!("{format}: {e:?}"));
        assert_eq!(
            extracted,
            Extracted {
                directories: 2,
                files: 3,
                bytes: 26
            },
            "{format}"
        );
        let root = dest.path();
        assert_eq!(
            std::fs::read(root.join("_source/states/top.sls")).unwrap(),
            b"base:\n  '*': []\n"
        );
        // setuid cleared; directories always owner-writable.
        assert_eq!(mode(&root.join("_source/bin/run.sh")), 0o755, "{format}");
        assert_eq!(mode(&root.join("_salt")), 0o700, "{format}");
        assert_eq!(mode(&root.join("_salt/init.sls")), 0o644, "{format}");
    }
}

#[test]
fn links_devices_fifos_and_sparse_files_refuse_the_bundle_by_name() {
    for (kind, text) in [
        (EntryType::Symlink, "symbolic link"),
        (EntryType::Link, "hard link"),
        (EntryType::Char, "character device"),
        (EntryType::Block, "block device"),
        (EntryType::Fifo, "FIFO"),
        (EntryType::GNUSparse, "GNU sparse file"),
    ] {
        let bundle = tar(&[file("_source/ok", b"x"), of_kind("_source/odd", kind)]);
        let (dest, result) = unpack(&bundle, &BundleLimits::default());
        let error = result.unwrap_err();
        assert!(matches!(error, Refused::Policy(_)), "{kind:?}: {error:?}");
        let text_of = error.text();
        assert!(
            text_of.contains("_source/odd") && text_of.contains(text),
            "{text_of}"
        );
        assert!(std::fs::symlink_metadata(dest.path().join("_source/odd")).is_err());
    }
}

#[test]
fn names_that_could_leave_the_directory_are_refused() {
    let parent = tempfile::tempdir().unwrap();
    let dest = parent.path().join("staging");
    std::fs::create_dir(&dest).unwrap();
    for name in [
        &b"../evil"[..],
        b"a/../../evil",
        b"/etc/evil",
        b"a/\xff",
        b".",
        b"./",
    ] {
        let bundle = tar(&[Member {
            name,
            ..file("", b"bad")
        }]);
        let error = unpack_into(&bundle, &dest, &BundleLimits::default()).unwrap_err();
        assert!(
            matches!(error, Refused::Policy(_)),
            "{:?}: {error:?}",
            String::from_utf8_lossy(name)
        );
    }
    assert!(!parent.path().join("evil").exists());
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}

#[test]
fn a_name_appears_once_and_nothing_lies_below_a_file() {
    let cases: [(&str, Vec<Member>); 5] = [
        (
            "the same file twice",
            vec![file("a", b"1"), file("./a", b"2")],
        ),
        ("a file then a directory", vec![file("a", b"1"), dir("a/")]),
        ("a directory then a file", vec![dir("a"), file("a", b"1")]),
        (
            "a member below a file",
            vec![file("a", b"1"), file("a/b", b"2")],
        ),
        (
            "a file where a directory was implied",
            vec![file("a/b", b"1"), file("a", b"2")],
        ),
    ];
    for (what, members) in cases {
        let (_dest, result) = unpack(&tar(&members), &BundleLimits::default());
        assert!(
            matches!(result, Err(Refused::Policy(_))),
            "{what}: {result:?}"
        );
    }
    // A directory may repeat.
    let (_dest, result) = unpack(
        &tar(&[dir("a"), dir("a/"), file("a/b", b"1")]),
        &BundleLimits::default(),
    );
    assert_eq!(result.unwrap().files, 1);
}

#[test]
fn each_limit_refuses_the_bundle_by_name() {
    let small = BundleLimits {
        max_members: 3,
        max_file_bytes: 10,
        max_total_bytes: 15,
        max_path_bytes: 20,
    };
    let cases: [(&str, Vec<Member>); 4] = [
        (
            "max_members",
            vec![
                file("a", b""),
                file("b", b""),
                file("c", b""),
                file("d", b""),
            ],
        ),
        ("max_file_bytes", vec![file("big", b"01234567890")]),
        (
            "max_total_bytes",
            vec![file("a", b"0123456789"), file("b", b"012345")],
        ),
        (
            "max_path_bytes",
            vec![file("a/very/long/path/name.txt", b"")],
        ),
    ];
    for (limit, members) in cases {
        let (_dest, result) = unpack(&tar(&members), &small);
        assert!(is_limit(&result, limit), "{limit}: {result:?}");
    }
}

#[test]
fn a_component_over_255_bytes_is_refused_even_in_a_gnu_long_name() {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = Header::new_gnu();
    header.set_size(1);
    header.set_mode(0o644);
    let name = format!("dir/{}", "c".repeat(256));
    builder.append_data(&mut header, &name, &b"x"[..]).unwrap();
    let bundle = builder.into_inner().unwrap();
    let (_dest, result) = unpack(&bundle, &BundleLimits::default());
    assert!(is_limit(&result, "max_path_bytes"), "{result:?}");
}

#[test]
fn a_declared_size_over_the_limit_is_refused_before_any_byte_is_read() {
    // The header claims 5 GiB; the stream has none of it.
    let bundle = tar(&[Member {
        size: Some(5 << 30),
        ..file("huge", b"")
    }]);
    let bundle = &bundle[..1024];
    let (dest, result) = unpack(bundle, &BundleLimits::default());
    assert!(is_limit(&result, "max_file_bytes"), "{result:?}");
    assert!(!dest.path().join("huge").exists());
}

#[test]
fn a_decompression_bomb_stops_at_the_total_limit() {
    let zeros = vec![0u8; 32 << 20];
    let bomb = gzip(&tar(&[file("a", &zeros), file("b", &zeros)]));
    assert!(
        bomb.len() < 1 << 20,
        "the bomb compresses well: {}",
        bomb.len()
    );
    let limits = BundleLimits {
        max_total_bytes: 40 << 20,
        ..BundleLimits::default()
    };
    let (dest, result) = unpack(&bomb, &limits);
    assert!(is_limit(&result, "max_total_bytes"), "{result:?}");
    assert!(!dest.path().join("b").exists());
}

#[test]
fn corrupt_or_truncated_bundles_are_refused() {
    let (_dest, result) = unpack(
        b"this is not a tar archive, not at all, no",
        &BundleLimits::default(),
    );
    assert!(
        matches!(result, Err(Refused::Host(BundleError::Corrupt(_)))),
        "{result:?}"
    );
    let whole = tar(&[file("a", &[7u8; 4000])]);
    let (_dest, result) = unpack(&whole[..2048], &BundleLimits::default());
    assert!(
        matches!(result, Err(Refused::Host(BundleError::Corrupt(_)))),
        "{result:?}"
    );
    let (_dest, result) = unpack(&gzip(&whole)[..100], &BundleLimits::default());
    assert!(
        matches!(result, Err(Refused::Host(BundleError::Corrupt(_)))),
        "{result:?}"
    );
}

/// One extension entry (GNU long name `L`, pax `x`) with `data`, declaring
/// `size` bytes.
fn extension_header(kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(size);
    header.set_cksum();
    header
}

#[test]
fn pax_and_gnu_long_names_name_the_next_member() {
    let long = format!("_source/{}/file.txt", "d".repeat(150));
    let record = "path=_source/pax-named.txt\n";
    let record = format!("{} {record}", record.len() + 3);
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append(
            &extension_header(EntryType::XHeader, record.len() as u64),
            record.as_bytes(),
        )
        .unwrap();
    let mut plain = Header::new_ustar();
    plain.set_path("short-name").unwrap();
    plain.set_size(3);
    plain.set_mode(0o644);
    plain.set_cksum();
    builder.append(&plain, &b"pax"[..]).unwrap();
    let mut header = Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, &long, &b"long"[..])
        .unwrap();
    let (dest, result) = unpack(&builder.into_inner().unwrap(), &BundleLimits::default());
    assert_eq!(result.unwrap().files, 2);
    assert_eq!(
        std::fs::read(dest.path().join("_source/pax-named.txt")).unwrap(),
        b"pax"
    );
    assert!(!dest.path().join("short-name").exists());
    assert_eq!(std::fs::read(dest.path().join(&long)).unwrap(), b"long");
}

#[test]
fn an_oversized_long_name_is_refused_without_being_read_into_memory() {
    // Declares 1 GiB of name, backed by a gzip stream of zeros.
    let mut bytes = extension_header(EntryType::GNULongName, 1 << 30)
        .as_bytes()
        .to_vec();
    bytes.resize(bytes.len() + (4 << 20), 0);
    let (_dest, result) = unpack(&gzip(&bytes), &BundleLimits::default());
    assert!(is_limit(&result, "max_path_bytes"), "{result:?}");
}

#[test]
fn a_directory_that_declares_data_is_refused() {
    let bundle = tar(&[Member {
        size: Some(1 << 40),
        ..dir("d")
    }]);
    let (_dest, result) = unpack(&bundle[..1024], &BundleLimits::default());
    assert!(
        matches!(result, Err(Refused::Host(BundleError::Corrupt(_)))),
        "{result:?}"
    );
}

fn planned(index: u32, name: &str, size: u64) -> Planned {
    Planned {
        index,
        name: name.to_string(),
        kind: MemberKind::Regular,
        mode: 0o644,
        size,
    }
}

#[test]
fn extraction_writes_only_below_staging_whatever_the_plan_says() {
    // A replaced guest could plan anything; the host still stays inside.
    let bundle = tar(&[file("x", b"evil")]);
    let parent = tempfile::tempdir().unwrap();
    let staging = parent.path().join("staging");
    std::fs::create_dir(&staging).unwrap();
    let tree = Confined::open(&staging).unwrap();
    for name in ["../x", "/tmp/x", "a/../../x", "a//x", "./x", ""] {
        let error = extract(
            &bundle[..],
            &tree,
            &[planned(0, name, 4)],
            &BundleLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(error, BundleError::Io(_)), "{name:?}: {error}");
    }
    // A link already in the tree is never followed, for files or parents.
    let outside = parent.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, staging.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("f"), staging.join("flink")).unwrap();
    for name in ["link/x", "flink"] {
        let error = extract(
            &bundle[..],
            &tree,
            &[planned(0, name, 4)],
            &BundleLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(error, BundleError::Io(_)), "{name:?}: {error}");
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(!parent.path().join("x").exists());
}

#[test]
fn extraction_refuses_a_plan_that_does_not_match_the_archive() {
    let bundle = tar(&[dir("d"), file("d/f", b"1234")]);
    let dest = tempfile::tempdir().unwrap();
    let tree = Confined::open(dest.path()).unwrap();
    let cases = [
        (
            "a file planned where a directory is",
            vec![planned(0, "d", 0)],
        ),
        ("another size", vec![planned(1, "f", 3)]),
        ("a member the archive lacks", vec![planned(2, "g", 0)]),
    ];
    for (what, plan) in cases {
        let error = extract(&bundle[..], &tree, &plan, &BundleLimits::default()).unwrap_err();
        assert!(matches!(error, BundleError::Mismatch(_)), "{what}: {error}");
    }
}

#[test]
fn extraction_sets_exactly_the_planned_modes_and_skips_unplanned_members() {
    let bundle = tar(&[file("a", b"1"), file("b", b"2"), dir("c")]);
    let dest = tempfile::tempdir().unwrap();
    let tree = Confined::open(dest.path()).unwrap();
    let plan = [
        Planned {
            mode: 0o600,
            ..planned(0, "sub/a", 1)
        },
        Planned {
            kind: MemberKind::Directory,
            mode: 0o711,
            ..planned(2, "c", 0)
        },
    ];
    let extracted = extract(&bundle[..], &tree, &plan, &BundleLimits::default()).unwrap();
    assert_eq!(
        extracted,
        Extracted {
            directories: 1,
            files: 1,
            bytes: 1
        }
    );
    assert_eq!(mode(&dest.path().join("sub/a")), 0o600);
    assert_eq!(mode(&dest.path().join("sub")), 0o755);
    assert_eq!(mode(&dest.path().join("c")), 0o711);
    assert!(!dest.path().join("b").exists());
}
