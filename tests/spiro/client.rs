//! The real, unmodified client: spiro-deploy 0.4 against Postern (spec 11),
//! over plain HTTP and over TLS, and the ways it fails.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::harness::*;

/// spec 9.3 F1: the input…
const SPIROTOP_F1: &str = "prod:
  'web*':
    - webserver
  'G@os:Debian':
    - match: compound
    - common
staging:
  '*':
    - base
";

/// …and the `top.sls` it becomes for project `foo`, deployment `prod`.
const TOP_F1: &str = "foo/prod:
  G@os:Debian:
  - {match: compound}
  - common
  web*: [webserver]
";

/// spec 11.5, project `foo`, deployment `prod`.
const TRANSCRIPT_HIGHSTATE: &str = "Collecting files for foo (prod)
Uploading to server
Deploying bundle
Calculating minions to highstate
No minions to highstate
Highstate complete
0 minions reported of 0
";

const TRANSCRIPT_NO_HIGHSTATE: &str = "Collecting files for foo (prod)
Uploading to server
Deploying bundle
0 minions reported of 0
";

/// Over 100 bytes: a pax `path` record in the client's tar.
const LONG_NAME_IN_SALT: &str = "_salt/files/a-file-name-long-enough-that-the-ustar-name-field-cannot-hold-it-so-python-writes-a-pax-header.txt";

/// A working tree as a user has it: a `_salt` tree with states, a nested
/// directory, an executable and a `_salt/.git` the client skips; a build
/// output directory; sources with a symlink; all committed to git.
fn repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    write_files(
        root,
        &[
            ("_salt/spirotop.sls", SPIROTOP_F1.as_bytes()),
            ("_salt/webserver/init.sls", b"nginx:\n  pkg.installed: []\n"),
            (
                "_salt/webserver/files/nginx.conf",
                b"server { listen 80; }\n",
            ),
            ("_salt/common.sls", b"vim:\n  pkg.installed: []\n"),
            ("_salt/bin/run.sh", b"#!/bin/sh\nexit 0\n"),
            ("build/app.bin", b"\x7fELF\x00\x01binary"),
            ("build/sub/notes.txt", b"built\n"),
            ("src/app.py", b"print('hello')\n"),
            ("README.md", b"# the project\n"),
            // Names Python's tarfile writes with pax headers.
            ("_salt/caf\u{e9}.sls", b"caf\xc3\xa9: ok\n"),
            (LONG_NAME_IN_SALT, b"long\n"),
        ],
    );
    std::fs::set_permissions(
        root.join("_salt/bin/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("../README.md", root.join("src/readme-link")).unwrap();
    git(root, &["init", "-q"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "initial"]);
    // Not committed, and skipped by the client anyway (its name is .git).
    write_files(root, &[("_salt/.git/HEAD", b"ref: refs/heads/main\n")]);
    repo
}

/// `git rev-parse HEAD` `\n` `git describe --all`, as the client bundles it.
fn gitcommit(repo: &Path) -> Vec<u8> {
    format!(
        "{}\n{}",
        git(repo, &["rev-parse", "HEAD"]),
        git(repo, &["describe", "--all"])
    )
    .into_bytes()
}

/// The deployed files for `repo` with the artifact `build` (when asked) and
/// the source included (git and fs give the same files here).
fn expected_files(repo: &Path, artifact: bool) -> BTreeMap<String, Vec<u8>> {
    let mut files: BTreeMap<String, Vec<u8>> = [
        (".gitcommit", gitcommit(repo)),
        ("spirotop.sls", SPIROTOP_F1.as_bytes().to_vec()),
        ("top.sls", TOP_F1.as_bytes().to_vec()),
        (
            "webserver/init.sls",
            b"nginx:\n  pkg.installed: []\n".to_vec(),
        ),
        (
            "webserver/files/nginx.conf",
            b"server { listen 80; }\n".to_vec(),
        ),
        ("common.sls", b"vim:\n  pkg.installed: []\n".to_vec()),
        ("bin/run.sh", b"#!/bin/sh\nexit 0\n".to_vec()),
        ("caf\u{e9}.sls", b"caf\xc3\xa9: ok\n".to_vec()),
        (&LONG_NAME_IN_SALT["_salt/".len()..], b"long\n".to_vec()),
        ("_source/README.md", b"# the project\n".to_vec()),
        ("_source/src/app.py", b"print('hello')\n".to_vec()),
        // A symlink becomes a regular file with its target's content.
        ("_source/src/readme-link", b"# the project\n".to_vec()),
        ("_source/build/app.bin", b"\x7fELF\x00\x01binary".to_vec()),
        ("_source/build/sub/notes.txt", b"built\n".to_vec()),
    ]
    .into_iter()
    .map(|(path, data)| (path.to_string(), data))
    .collect();
    if artifact {
        files.insert(
            "_artifacts/build/app.bin".into(),
            b"\x7fELF\x00\x01binary".to_vec(),
        );
        files.insert("_artifacts/build/sub/notes.txt".into(), b"built\n".to_vec());
    }
    files
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[track_caller]
fn assert_success(run: &ClientRun, transcript: &str) {
    assert_eq!(run.code, Some(0), "exit code; stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, transcript, "stdout; stderr:\n{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_artifacts_and_git_source_then_fs_source_without_highstate() {
    spiro_deploy();
    let server = SpiroServer::start().await;
    let url = format!("http://{}/", server.addr);
    let token = server.token(&["foo"]);
    let repo = repo();
    let live = server.deployment("foo", "prod");

    let run = run_client(
        repo.path(),
        &url,
        &token,
        &[
            "--artifact",
            "build",
            "--include-source",
            "git",
            "foo",
            "prod",
        ],
    )
    .await;
    assert_success(&run, TRANSCRIPT_HIGHSTATE);
    assert_eq!(files(&live), expected_files(repo.path(), true));
    let tree = tree(&live);
    // Directory members of _salt and of the artifact, and the parents the
    // server had to make; nothing else (no symlink, no _salt/.git).
    let dirs: Vec<&str> = tree
        .iter()
        .filter(|(_, node)| matches!(node, Node::Dir { .. }))
        .map(|(path, _)| path.as_str())
        .collect();
    assert_eq!(
        dirs,
        [
            "_artifacts",
            "_artifacts/build",
            "_artifacts/build/sub",
            "_source",
            "_source/build",
            "_source/build/sub",
            "_source/src",
            "bin",
            "files",
            "webserver",
            "webserver/files"
        ]
    );
    assert_eq!(
        mode(&live.join("bin/run.sh")),
        0o755,
        "permission bits kept"
    );
    assert_eq!(mode(&live.join("common.sls")), 0o644);
    assert_eq!(
        mode(&live),
        0o755,
        "the deployment's top directory (spec 14)"
    );
    assert_eq!(server.staging_leftovers(), Vec::<String>::new());

    // The same deployment again: `_source/./…` normalized, no artifact, no
    // highstate; the new tree replaces the old one entirely.
    let run = run_client(
        repo.path(),
        &url,
        &token,
        &["--include-source", "fs", "--no-highstate", "foo", "prod"],
    )
    .await;
    assert_success(&run, TRANSCRIPT_NO_HIGHSTATE);
    assert_eq!(files(&live), expected_files(repo.path(), false));
    assert!(!live.join("_artifacts").exists());
    assert_eq!(server.staging_leftovers(), Vec::<String>::new());

    // Served read-only over the same port.
    let listing = get(
        server.addr,
        "/deployments/foo/prod/",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(listing.status, 200, "{}", listing.text());
    let listing: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    let listed: BTreeMap<String, u64> = listing["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["size"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: BTreeMap<String, u64> = expected_files(repo.path(), false)
        .into_iter()
        .map(|(path, data)| (path, data.len() as u64))
        .collect();
    assert_eq!(listed, expected);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_over_tls_verifying_the_servers_certificate() {
    spiro_deploy();
    let certs = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert = certs.path().join("cert.pem");
    let key = certs.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let server = SpiroServer::start_with(&format!(
        "tls_cert = {:?}\ntls_key = {:?}\n",
        cert.display().to_string(),
        key.display().to_string()
    ))
    .await;
    let url = format!("https://localhost:{}/", server.addr.port());
    let token = server.token(&["foo"]);
    let repo = repo();
    let cert_arg = cert.display().to_string();

    let run = run_client(
        repo.path(),
        &url,
        &token,
        &[
            "--ssl-cert",
            &cert_arg,
            "--include-source",
            "git",
            "foo",
            "prod",
        ],
    )
    .await;
    assert_success(&run, TRANSCRIPT_HIGHSTATE);
    assert_eq!(
        files(&server.deployment("foo", "prod")),
        expected_files(repo.path(), false)
    );

    // Without the certificate the client's own CA bundle does not trust it.
    let run = run_client(repo.path(), &url, &token, &["foo", "other"]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("SSLError"), "{}", run.stderr);
    assert!(!server.deployment("foo", "other").exists());
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_project_is_forbidden_and_deploys_nothing() {
    spiro_deploy();
    let server = SpiroServer::start().await;
    let url = format!("http://{}/", server.addr);
    let repo = repo();
    // A body far larger than socket buffers: the 403 is answered while the
    // client still uploads, and it must see the 403, not a reset (13.2).
    let big = vec![0x5a_u8; 24 << 20];
    write_files(repo.path(), &[("big/blob.bin", &big)]);
    let run = run_client(
        repo.path(),
        &url,
        &server.token(&["bar"]),
        &["--artifact", "big", "foo", "prod"],
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("403 Client Error: Forbidden for url: {url}")),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stdout,
        "Collecting files for foo (prod)\nUploading to server\n"
    );
    assert!(!server.deploy_root().join("foo").exists());
    assert_eq!(server.staging_leftovers(), Vec::<String>::new());
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_in_salt_is_refused_with_400() {
    spiro_deploy();
    let server = SpiroServer::start().await;
    let url = format!("http://{}/", server.addr);
    let repo = repo();
    std::os::unix::fs::symlink("/etc/passwd", repo.path().join("_salt/passwd.sls")).unwrap();
    let run = run_client(repo.path(), &url, &server.token(&["foo"]), &["foo", "prod"]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("400 Client Error: Bad Request for url: {url}")),
        "{}",
        run.stderr
    );
    assert!(!server.deploy_root().join("foo").exists());
    assert_eq!(server.staging_leftovers(), Vec::<String>::new());
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spirotop_that_is_a_list_fails_on_the_server_and_keeps_the_old_tree() {
    spiro_deploy();
    let server = SpiroServer::start().await;
    let url = format!("http://{}/", server.addr);
    let token = server.token(&["foo"]);
    let repo = repo();
    let live = server.deployment("foo", "prod");
    let run = run_client(
        repo.path(),
        &url,
        &token,
        &["--no-highstate", "foo", "prod"],
    )
    .await;
    assert_success(&run, TRANSCRIPT_NO_HIGHSTATE);
    let before = tree(&live);
    assert!(before.contains_key("top.sls"));

    // spec 9.3 F8.
    std::fs::write(repo.path().join("_salt/spirotop.sls"), "- a\n").unwrap();
    let run = run_client(repo.path(), &url, &token, &["foo", "prod"]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let stdout = &run.stdout;
    assert!(
        stdout.starts_with("Collecting files for foo (prod)\nUploading to server\nDeploying bundle\nError occurred on server: TopfileError: "),
        "{stdout}"
    );
    // The message ends with a newline (7.3), printed as a blank line.
    assert!(
        stdout.ends_with("\n\n0 minions reported of 0\n"),
        "{stdout}"
    );
    assert_eq!(tree(&live), before, "the previous deployment is untouched");

    // A message with non-ASCII text reaches the client intact: the stream
    // is ASCII (7.2), or the client's Latin-1 splitlines would break it.
    std::fs::write(
        repo.path().join("_salt/spirotop.sls"),
        "prod:\n  \u{c5}sa: [a]\n  \u{c5}sa: [b]\n",
    )
    .unwrap();
    let run = run_client(repo.path(), &url, &token, &["foo", "prod"]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("\nError occurred on server: TopfileError: "),
        "{run:?}"
    );
    assert!(
        run.stdout.ends_with("\n\n0 minions reported of 0\n"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("Traceback"), "{}", run.stderr);
    assert_eq!(tree(&live), before, "the previous deployment is untouched");
    assert_eq!(server.staging_leftovers(), Vec::<String>::new());
    server.shut_down().await;
}
