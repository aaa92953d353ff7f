use super::*;

const LIMITS: Limits = Limits {
    max_members: 10,
    max_file_bytes: 100,
    max_total_bytes: 150,
    max_path_bytes: 40,
};

fn file(name: &str, size: u64, mode: u32) -> Member {
    Member {
        name: name.as_bytes().to_vec(),
        kind: Kind::Regular,
        size,
        mode,
    }
}

fn dir(name: &str, mode: u32) -> Member {
    Member {
        name: name.as_bytes().to_vec(),
        kind: Kind::Directory,
        size: 0,
        mode,
    }
}

fn of(kind: Kind, name: &str) -> Member {
    Member {
        name: name.as_bytes().to_vec(),
        kind,
        size: 0,
        mode: 0o777,
    }
}

fn reason(members: &[Member]) -> Rejection {
    check_bundle(&LIMITS, "p", "d", members).expect_err("the bundle must be refused")
}

#[test]
fn a_client_bundle_is_planned_with_normalized_names_and_permission_bits_only() {
    let plan = check_bundle(
        &LIMITS,
        "p",
        "d",
        &[
            dir("states/", 0o40755),
            file("states/init.sls", 12, 0o104755),
            file("_source/./src//app.py", 3, 0o2644),
            dir("states", 0o1700),
            dir("locked", 0o000),
        ],
    )
    .unwrap();
    let summary: Vec<_> = plan
        .iter()
        .map(|p| (p.index, p.name.as_str(), p.directory, p.mode, p.size))
        .collect();
    assert_eq!(
        summary,
        [
            (0, "states", true, 0o755, 0),
            (1, "states/init.sls", false, 0o755, 12),
            (2, "_source/src/app.py", false, 0o644, 3),
            (3, "states", true, 0o700, 0),
            (4, "locked", true, 0o700, 0),
        ]
    );
}

#[test]
fn every_kind_but_files_and_directories_is_refused_naming_the_member() {
    for (kind, what) in [
        (Kind::Symlink, "a symbolic link"),
        (Kind::HardLink, "a hard link"),
        (Kind::CharacterDevice, "a character device"),
        (Kind::BlockDevice, "a block device"),
        (Kind::Fifo, "a FIFO"),
        (Kind::GnuSparse, "a GNU sparse file"),
        (Kind::Other, "a member of an unsupported type"),
    ] {
        let rejection = reason(&[file("ok", 1, 0o644), of(kind, "bad/one")]);
        assert_eq!(rejection.index, Some(1));
        assert_eq!(rejection.name.as_deref(), Some("bad/one"));
        assert_eq!(
            rejection.reason,
            format!(
                "member \"bad/one\" is {what}; a bundle may contain only regular files and directories"
            )
        );
    }
}

#[test]
fn names_that_could_leave_the_tree_are_refused() {
    for (name, why) in [
        ("/etc/passwd", "the name is absolute"),
        ("a/../../x", "the name contains a `..` component"),
        ("..", "the name contains a `..` component"),
        ("./", "the name is empty"),
        ("a\0b", "the name contains a NUL byte"),
    ] {
        let rejection = reason(&[file(name, 1, 0o644)]);
        assert_eq!(rejection.reason, format!("member {name:?}: {why}"));
    }
    let rejection = reason(&[Member {
        name: vec![b'a', 0xff],
        kind: Kind::Regular,
        size: 0,
        mode: 0o644,
    }]);
    assert_eq!(
        rejection.reason,
        "member \"a\u{fffd}\": the name is not UTF-8"
    );
}

#[test]
fn duplicates_and_file_directory_conflicts_are_refused() {
    assert_eq!(
        reason(&[file("a", 1, 0o644), file("./a", 1, 0o644)]).reason,
        "member \"./a\": the name appears twice"
    );
    assert_eq!(
        reason(&[dir("a", 0o755), file("a", 1, 0o644)]).reason,
        "member \"a\": the name is used both as a file and as a directory"
    );
    assert_eq!(
        reason(&[file("a", 1, 0o644), file("a/b", 1, 0o644)]).reason,
        "member \"a/b\": \"a\" is a regular file, so nothing can lie below it"
    );
    assert_eq!(
        reason(&[file("a/b", 1, 0o644), file("a", 1, 0o644)]).reason,
        "member \"a\": the name is used both as a file and as a directory"
    );
}

#[test]
fn each_limit_is_named() {
    let many: Vec<_> = (0..11).map(|i| file(&format!("f{i}"), 0, 0o644)).collect();
    let rejection = reason(&many);
    assert_eq!(rejection.index, None);
    assert!(
        rejection.reason.contains("spiro.limits.max_members"),
        "{rejection:?}"
    );
    assert!(
        reason(&[file("big", 101, 0o644)])
            .reason
            .contains("spiro.limits.max_file_bytes")
    );
    assert!(
        reason(&[file("a", 100, 0o644), file("b", 51, 0o644)])
            .reason
            .contains("spiro.limits.max_total_bytes")
    );
    assert!(
        reason(&[file(&"x".repeat(41), 1, 0o644)])
            .reason
            .contains("spiro.limits.max_path_bytes")
    );
    let long_component = format!("a/{}", "y".repeat(256));
    let limits = Limits {
        max_path_bytes: 1024,
        ..LIMITS
    };
    let rejection =
        check_bundle(&limits, "p", "d", &[file(&long_component, 1, 0o644)]).unwrap_err();
    assert!(
        rejection.reason.contains("a component is 256 bytes"),
        "{rejection:?}"
    );
}
