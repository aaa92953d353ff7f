//! Minting as `spiro.issue_token` does, and `postern spiro …` against the
//! key file a server would use.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use postern::workflows::spiro::macaroon::{Macaroon, TokenError};
use postern::workflows::spiro::tokens::{self, ALPHABET};

const POSTERN: &str = env!("CARGO_BIN_EXE_postern");

#[test]
fn the_caveat_is_pythons_json_dumps_of_the_runners_dict() {
    let projects = ["myproj".to_string()];
    assert_eq!(
        tokens::caveat(1600000000.0, Some(3600), Some(&projects)),
        r#"{"not_before": 1600000000.0, "not_after": 1600003600.0, "project_allow": ["myproj"]}"#
    );
    assert_eq!(
        tokens::caveat(1600000000.0, None, None),
        r#"{"not_before": 1600000000.0}"#
    );
    assert_eq!(
        postern::python::json::float_repr(1763791234.5678902),
        "1763791234.5678902"
    );
    assert_eq!(postern::python::json::float_repr(0.1), "0.1");
    // Minted under the vectors' key and identifier, T1's caveat gives T1's signature.
    let t1 = Macaroon::mint(
        &[b'k'; 64],
        b"",
        b"ABCDEFGHIJKLMNOPQRST",
        &[tokens::caveat(1600000000.0, Some(3600), Some(&projects)).as_bytes()],
    )
    .unwrap();
    assert!(t1.serialize().ends_with("Z_dEfVRCCg"));
}

#[test]
fn the_key_file_is_64_symbols_mode_0600_created_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spiro/macaroon-key");
    let key = tokens::load_or_create_key(&path).unwrap();
    assert_eq!(key.len(), 64);
    assert!(key.iter().all(|b| ALPHABET.contains(b)));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(tokens::load_or_create_key(&path).unwrap(), key);
    // An existing key is used as exact bytes, a trailing newline included.
    std::fs::write(&path, b"copied from SpiroFS\n").unwrap();
    assert_eq!(
        tokens::load_or_create_key(&path).unwrap(),
        b"copied from SpiroFS\n"
    );
}

#[test]
fn issued_tokens_verify_for_their_projects_only() {
    let key = b"root key".to_vec();
    let projects = ["web".to_string(), "db".to_string()];
    let token = tokens::issue(&key, 1000.0, Some(60), Some(&projects)).unwrap();
    assert_eq!(token.identifier.len(), 20);
    assert!(token.location.is_empty());
    let parsed = Macaroon::parse(&token.serialize()).unwrap();
    assert_eq!(parsed.verify(&key, 1000.5, Some("db")), Ok(()));
    assert_eq!(
        parsed.verify(&key, 1000.5, Some("mail")),
        Err(TokenError::Project)
    );
    assert_eq!(
        parsed.verify(&key, 1060.0, Some("db")),
        Err(TokenError::Caveat)
    );
    let root = tokens::issue(&key, 1000.0, None, None).unwrap();
    assert_eq!(root.verify(&key, 5e9, Some("anything")), Ok(()));
}

fn spiro(key: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(POSTERN)
        .arg("spiro")
        .arg("--key-file")
        .arg(key)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_cli_issues_checks_and_inspects_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("macaroon-key");
    let issued = spiro(
        &key,
        &["issue-token", "--projects", "web,db", "--lifespan", "600"],
    );
    assert!(
        issued.status.success(),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let token = String::from_utf8(issued.stdout).unwrap().trim().to_string();
    assert!(key.exists());

    let ok = spiro(&key, &["check-token", &token, "--project", "db"]);
    assert!(ok.status.success());
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "accepted");
    let forbidden = spiro(&key, &["check-token", &token, "--project", "mail"]);
    assert!(!forbidden.status.success());
    assert!(String::from_utf8_lossy(&forbidden.stderr).contains("403"));
    let garbage = spiro(&key, &["check-token", "MDAw"]);
    assert!(String::from_utf8_lossy(&garbage.stderr).contains("401"));

    let inspected = spiro(&key, &["inspect-token", &token]);
    let text = String::from_utf8_lossy(&inspected.stdout);
    assert!(text.contains(r#""project_allow": ["web", "db"]"#), "{text}");

    let root = spiro(&key, &["issue-root-token"]);
    let root = String::from_utf8(root.stdout).unwrap().trim().to_string();
    assert!(
        spiro(&key, &["check-token", &root, "--project", "mail"])
            .status
            .success()
    );

    let refused = spiro(&key, &["issue-token", "--projects", "web,../etc"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a valid project name"));
}
