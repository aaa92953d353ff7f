//! `postern module …` and `postern policy …`, the real binary against a
//! server's gRPC admin API: keygen, sign, push (with its .sig), list,
//! describe, activate, rollback, rm, and the chain commands.

use std::path::Path;
use std::process::{Command, Output};

use super::harness::*;
use crate::support::guests;

const POSTERN: &str = env!("CARGO_BIN_EXE_postern");

/// Runs the CLI off the async runtime's threads; fails unless it succeeded.
async fn cli(server: &ModulesServer, args: &[&str]) -> String {
    let output = run(server, args).await;
    assert!(
        output.status.success(),
        "postern {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn run(server: &ModulesServer, args: &[&str]) -> Output {
    let mut command = Command::new(POSTERN);
    command
        .args(args)
        .env("POSTERN_ADMIN", format!("http://{}", server.admin))
        .env("POSTERN_ADMIN_TOKEN", &server.token);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn offline(args: &[&str]) -> String {
    let output = Command::new(POSTERN).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "postern {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_sign_push_and_deny_as_the_readme_shows() {
    let work = tempfile::tempdir().unwrap();
    let key = work.path().join("policy.key");
    let public = offline(&["module", "keygen", "--out", path(&key)]);
    let public = public.lines().next().unwrap().to_string();
    assert!(public.starts_with("ed25519:"), "{public}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    let data = tempfile::tempdir().unwrap();
    let registry = format!("trusted_keys = [{public:?}]\n");
    let server = ModulesServer::start(
        data.path(),
        Setup {
            registry: &registry,
            tables: "[modules.forbid-line.settings]\nforbidden_line = \"username admin secret 0 admin\"\n",
            ..Setup::default()
        },
    )
    .await;

    // Unsigned: refused, nothing changes.
    let policy = work.path().join("forbid-line.wasm");
    std::fs::copy(guests::FORBID_LINE_POLICY, &policy).unwrap();
    let refused = run(&server, &["module", "push", "forbid-line", path(&policy)]).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not signed"), "{stderr}");

    // Signed: `<file>.sig` travels with the upload.
    offline(&["module", "sign", path(&policy), "--key", path(&key)]);
    assert!(work.path().join("forbid-line.wasm.sig").exists());
    let pushed = cli(&server, &["module", "push", "forbid-line", path(&policy)]).await;
    assert!(pushed.starts_with("pushed forbid-line "), "{pushed}");
    assert!(pushed.trim_end().ends_with("— active"), "{pushed}");

    let set = cli(
        &server,
        &["policy", "set", "cvproxy", "forbid-line:protect"],
    )
    .await;
    assert!(set.contains("1. forbid-line (protect)"), "{set}");
    let reply = server
        .cvproxy_reply(&deploy_body(
            "127.0.0.1:9",
            "username admin secret 0 admin\n",
        ))
        .await;
    assert!(
        reply.contains("PolicyDenied: forbid-line: device leaf1"),
        "{reply}"
    );

    let list = cli(&server, &["module", "list"]).await;
    let header = list.lines().next().unwrap();
    for column in [
        "NAME", "WORLD", "ACTIVE", "VERSIONS", "CALLS", "ERRORS", "USED BY",
    ] {
        assert!(header.contains(column), "{list}");
    }
    let row = list
        .lines()
        .find(|l| l.starts_with("forbid-line"))
        .expect(&list);
    assert!(row.contains("policy") && row.contains("cvproxy"), "{row}");
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_activate_rollback_and_rm_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(data.path(), Setup::default()).await;
    let pushed = cli(
        &server,
        &["module", "push", "cvproxy", guests::CVPROXY_ALT, "--stage"],
    )
    .await;
    assert!(pushed.contains("staged (active: builtin)"), "{pushed}");
    assert_eq!(
        server.cvproxy_reply(INVALID_BODY).await,
        builtin_answer_to_invalid()
    );
    let alt = server.module("cvproxy").await["versions"][1]["version"]
        .as_str()
        .unwrap()
        .to_string();

    let activated = cli(&server, &["module", "activate", "cvproxy", &alt[..12]]).await;
    assert!(activated.contains(&alt[..12]), "{activated}");
    assert_eq!(server.cvproxy_reply(INVALID_BODY).await, alt_answer());

    let described = cli(&server, &["module", "describe", "cvproxy"]).await;
    assert!(described.contains("world:    cvproxy"), "{described}");
    assert!(described.contains(&alt[..12]), "{described}");

    let rolled = cli(&server, &["module", "rollback", "cvproxy"]).await;
    assert!(rolled.contains("active version is now builtin"), "{rolled}");
    assert_eq!(
        server.cvproxy_reply(INVALID_BODY).await,
        builtin_answer_to_invalid()
    );

    let removed = cli(&server, &["module", "rm", "cvproxy", &alt]).await;
    assert!(removed.contains("removed version"), "{removed}");
    assert_eq!(
        server.module("cvproxy").await["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Errors are one line in the protocol's terms, and the exit status says so.
    let missing = run(
        &server,
        &["module", "activate", "cvproxy", "deadbeefdeadbeef"],
    )
    .await;
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.starts_with("postern: ") && stderr.contains("no version"),
        "{stderr}"
    );
    let mut wrong_token = Command::new(POSTERN);
    wrong_token
        .args(["module", "list"])
        .env("POSTERN_ADMIN", format!("http://{}", server.admin))
        .env("POSTERN_ADMIN_TOKEN", "not-the-token");
    let output = tokio::task::spawn_blocking(move || wrong_token.output().unwrap())
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("token"));
    server.shut_down().await;
}
