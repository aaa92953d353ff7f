//! The deploy server over raw HTTP/1.1 (spec 2–7, 13): authentication,
//! methods and paths, the pre-stream refusals, bundle policy on disk, the
//! event stream byte for byte, serialized swaps, and read-only serving.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use tar::EntryType;

use super::harness::*;

/// Polls until nothing but `.lock` is under the staging root (the spool
/// file goes when the request ends, which may be just after the reply).
async fn assert_staging_empty(server: &SpiroServer, case: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = server.staging_leftovers();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{case}: left under staging_root: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_nothing_deployed(server: &SpiroServer, case: &str) {
    let root = server.deploy_root();
    if root.exists() {
        assert_eq!(tree(&root), BTreeMap::new(), "{case}: under deploy_root");
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// One v1 packet: 4 hex digits of length, key, space, value, LF.
fn packet(key: &str, value: &[u8]) -> Vec<u8> {
    let mut out = format!("{:04x}{key} ", 4 + key.len() + 1 + value.len() + 1).into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

fn raw_token(packets: &[Vec<u8>]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packets.concat())
}

fn small_bundle() -> Vec<u8> {
    tar_files(&[("init.sls", b"base: {}\n")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_says_auth_ok_to_every_spelling_of_bearer_and_any_valid_token() {
    let server = SpiroServer::start().await;
    let project_token = server.token(&["web"]);
    let root_token = server.root_token();
    for (case, authorization) in [
        ("Bearer", format!("Bearer {project_token}")),
        ("bearer", format!("bearer {project_token}")),
        ("BEARER", format!("BEARER {project_token}")),
        (
            "spaces around the token",
            format!("bearer   {project_token}"),
        ),
        ("root token", format!("Bearer {root_token}")),
    ] {
        for path in ["/", "/?project=x"] {
            let reply = get(server.addr, path, Some(&authorization)).await;
            assert_eq!(reply.status, 200, "{case} {path}: {}", reply.text());
            assert_eq!(reply.body, b"Auth OK", "{case}");
            assert!(
                reply
                    .header("content-type")
                    .is_some_and(|t| t.starts_with("text/plain")),
                "{case}: {:?}",
                reply.headers
            );
        }
    }
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_authorization_is_401_with_www_authenticate_bearer() {
    let server = SpiroServer::start().await;
    let key = server.key();
    let t = now();
    let good = server.token(&["web"]);
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("wrong scheme", Some(format!("Basic {good}"))),
        ("scheme only", Some("Bearer".into())),
        ("tab separator", Some(format!("Bearer\t{good}"))),
        ("empty token", Some("Bearer ".into())),
        ("blank token", Some("Bearer    ".into())),
        (
            "bad signature",
            Some(format!(
                "Bearer {}",
                minted(
                    b"not the key",
                    &[&format!("{{\"not_before\": {}}}", t - 10.0)]
                )
            )),
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                minted(
                    &key,
                    &[&format!(
                        "{{\"not_before\": {}, \"not_after\": {}}}",
                        t - 7200.0,
                        t - 3600.0
                    )]
                )
            )),
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                minted(&key, &[&format!("{{\"not_before\": {}}}", t + 3600.0)])
            )),
        ),
        (
            "unknown predicate",
            Some(format!(
                "Bearer {}",
                minted(
                    &key,
                    &[&format!("{{\"not_before\": {}, \"foo\": 1}}", t - 10.0)]
                )
            )),
        ),
        ("MDAw", Some("Bearer MDAw".into())),
        ("!!!!", Some("Bearer !!!!".into())),
        ("abc", Some("Bearer abc".into())),
        (
            "non-JSON caveat",
            Some(format!("Bearer {}", minted(&key, &["not json"]))),
        ),
        (
            "[1,2] caveat",
            Some(format!("Bearer {}", minted(&key, &["[1,2]"]))),
        ),
        (
            "non-UTF-8 caveat",
            Some(format!("Bearer {}", {
                postern::workflows::spiro::macaroon::Macaroon::mint(
                    &key,
                    b"",
                    b"postern-test-tokenid",
                    &[b"{\"x\xff\": 1}"],
                )
                .unwrap()
                .serialize()
            })),
        ),
        (
            "string time bound",
            Some(format!(
                "Bearer {}",
                minted(&key, &["{\"not_before\": \"0\"}"])
            )),
        ),
        (
            "boolean time bound",
            Some(format!(
                "Bearer {}",
                minted(&key, &["{\"not_after\": true}"])
            )),
        ),
        (
            "project list not an array",
            Some(format!(
                "Bearer {}",
                minted(&key, &["{\"project_allow\": 5}"])
            )),
        ),
        (
            "token with garbage appended",
            Some(format!("Bearer {good}AAAA")),
        ),
        (
            "vid before any cid",
            Some(format!(
                "Bearer {}",
                raw_token(&[
                    packet("location", b""),
                    packet("identifier", b"id"),
                    packet("vid", b"x"),
                    packet("signature", &[0; 32]),
                ])
            )),
        ),
        (
            "cl packet",
            Some(format!(
                "Bearer {}",
                raw_token(&[
                    packet("location", b""),
                    packet("identifier", b"id"),
                    packet("cl", b"http://x/"),
                    packet("signature", &[0; 32]),
                ])
            )),
        ),
        (
            "v2 token",
            Some(format!("Bearer {}", raw_token(&[vec![0x02, 0x01, 0x00]]))),
        ),
        (
            "packet length beyond the buffer",
            Some(format!(
                "Bearer {}",
                raw_token(&[b"ffffkey value\n".to_vec()])
            )),
        ),
    ];
    for (case, authorization) in &cases {
        let reply = get(server.addr, "/", authorization.as_deref()).await;
        reply.assert_unauthorized(&format!("GET, {case}"));
        let form = Form::new()
            .field("project", "web")
            .field("deployment", "prod")
            .file("bundle", "bundle", &small_bundle());
        let reply = post_form(server.addr, authorization.as_deref(), form).await;
        reply.assert_unauthorized(&format!("POST, {case}"));
    }
    assert_nothing_deployed(&server, "401s");
    assert_staging_empty(&server, "401s").await;
    // A zero-caveat token stays valid (13.4), and the good one is good.
    for token in [minted(&key, &[]), good] {
        let reply = get(server.addr, "/", Some(&format!("bearer {token}"))).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_with_the_cli_is_refused_without_a_restart() {
    let server = SpiroServer::start().await;
    let revoked = server.token(&["web"]);
    let kept = server.token(&["web"]);
    for token in [&revoked, &kept] {
        let reply = get(server.addr, "/", Some(&format!("bearer {token}"))).await;
        assert_eq!(reply.status, 200);
    }
    let output = std::process::Command::new(POSTERN)
        .args(["spiro", "--config"])
        .arg(server.config_path())
        .args(["revoke-token", &revoked])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "postern spiro revoke-token: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listed = std::fs::read_to_string(server.data_dir().join("spiro/revoked-identifiers"))
        .expect("the revoked file is written");
    let identifier = postern::workflows::spiro::macaroon::Macaroon::parse(&revoked)
        .unwrap()
        .identifier;
    assert!(
        listed.lines().any(|l| l.as_bytes() == identifier),
        "{listed:?}"
    );
    get(server.addr, "/", Some(&format!("bearer {revoked}")))
        .await
        .assert_unauthorized("revoked, GET");
    let reply = server
        .deploy(&revoked, "web", "prod", false, &small_bundle())
        .await;
    reply.assert_unauthorized("revoked, POST");
    assert_nothing_deployed(&server, "revoked");
    let reply = get(server.addr, "/", Some(&format!("bearer {kept}"))).await;
    assert_eq!(
        reply.status, 200,
        "another token of the same project still works"
    );
    let reply = server
        .deploy(&kept, "web", "prod", false, &small_bundle())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_and_paths() {
    let server = SpiroServer::start().await;
    let authorization = format!("Bearer {}", server.root_token());
    // Unknown methods: 405 before authentication.
    for auth in [None, Some("Bearer MDAw"), Some(authorization.as_str())] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let reply = request(server.addr, "TRACE", "/", &headers, b"").await;
        assert_eq!(reply.status, 405, "TRACE with {auth:?}");
        assert_eq!(reply.header("allow"), None);
        assert_eq!(reply.header("www-authenticate"), None);
    }
    // Known but unimplemented: authentication first.
    for method in ["HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let reply = request(server.addr, method, "/", &[], b"").await;
        reply.assert_unauthorized(method);
        let reply = request(
            server.addr,
            method,
            "/",
            &[("Authorization", authorization.as_str())],
            b"",
        )
        .await;
        assert_eq!(reply.status, 405, "{method} with a valid token");
        assert_eq!(reply.header("allow"), None, "{method}");
    }
    // One route: any other path is 404, token or not.
    for path in ["/other", "/index.html", "//", "/deployments"] {
        for auth in [None, Some(authorization.as_str())] {
            let reply = get(server.addr, path, auth).await;
            assert_eq!(reply.status, 404, "GET {path} with {auth:?}");
        }
    }
    let (content_type, body) = Form::new()
        .field("project", "web")
        .field("deployment", "prod")
        .file("bundle", "bundle", &small_bundle())
        .finish();
    let reply = request(
        server.addr,
        "POST",
        "/deploy",
        &[
            ("Authorization", authorization.as_str()),
            ("Content-Type", content_type.as_str()),
        ],
        &body,
    )
    .await;
    assert_eq!(reply.status, 404);
    assert_nothing_deployed(&server, "404");
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_not_for_the_project_is_403_and_deploys_nothing() {
    let server = SpiroServer::start().await;
    let other = server.token(&["other"]);
    let reply = server
        .deploy(&other, "web", "prod", true, &small_bundle())
        .await;
    reply.assert_refused(403, "project_allow without web");
    // Holder-attenuated: a root token that denies `secret`.
    let t = now();
    let deny = server.token_with(&[
        &format!("{{\"not_before\": {}}}", t - 1.0),
        "{\"project_deny\": [\"secret\"]}",
    ]);
    let reply = server
        .deploy(&deny, "secret", "prod", true, &small_bundle())
        .await;
    reply.assert_refused(403, "project_deny");
    // Both tokens are fine in general (GET is project-less).
    for token in [&other, &deny] {
        assert_eq!(
            get(server.addr, "/", Some(&format!("bearer {token}")))
                .await
                .status,
            200
        );
    }
    assert_nothing_deployed(&server, "403");
    assert_staging_empty(&server, "403").await;
    // The denying token deploys elsewhere.
    let reply = server
        .deploy(&deny, "public", "prod", false, &small_bundle())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);
    assert!(
        server
            .deployment("public", "prod")
            .join("init.sls")
            .is_file()
    );
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_invalid_fields_and_bundle_parts_are_400() {
    let server = SpiroServer::start().await;
    let root = format!("Bearer {}", server.root_token());
    let bundle = small_bundle();
    let form = |project: Option<&str>, deployment: Option<&str>| {
        let mut form = Form::new();
        if let Some(project) = project {
            form = form.field("project", project);
        }
        if let Some(deployment) = deployment {
            form = form.field("deployment", deployment);
        }
        form
    };
    let mut cases: Vec<(String, Form)> = vec![
        (
            "no project".into(),
            form(None, Some("prod")).file("bundle", "bundle", &bundle),
        ),
        (
            "no deployment".into(),
            form(Some("web"), None).file("bundle", "bundle", &bundle),
        ),
        ("no bundle".into(), form(Some("web"), Some("prod"))),
        (
            "bundle without a filename (a form field)".into(),
            form(Some("web"), Some("prod")).field("bundle", "not a file"),
        ),
        (
            "two bundle parts".into(),
            form(Some("web"), Some("prod"))
                .file("bundle", "bundle", &bundle)
                .file("bundle", "bundle", &bundle),
        ),
        (
            "not a tar".into(),
            form(Some("web"), Some("prod")).file(
                "bundle",
                "bundle",
                b"this is not a tar archive at all",
            ),
        ),
    ];
    for bad in [
        "..",
        ".",
        "",
        "a/b",
        "-x",
        ".hidden",
        "a b",
        "caf\u{e9}",
        "../../etc",
    ] {
        cases.push((
            format!("project {bad:?}"),
            form(Some(bad), Some("prod")).file("bundle", "bundle", &bundle),
        ));
        cases.push((
            format!("deployment {bad:?}"),
            form(Some("web"), Some(bad)).file("bundle", "bundle", &bundle),
        ));
    }
    for (case, form) in cases {
        let reply = post_form(server.addr, Some(&root), form).await;
        reply.assert_refused(400, &case);
    }
    // The name rule comes before the project check.
    let reply = server
        .deploy(&server.token(&["web"]), "../web", "prod", false, &bundle)
        .await;
    reply.assert_refused(400, "invalid name, project token");
    assert_nothing_deployed(&server, "400s");
    // `../../etc` made nothing outside the deploy root either.
    let mut beside: Vec<String> = std::fs::read_dir(server.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["data", "postern.toml"]);
    assert!(!server.data_dir().join("etc").exists());
    assert!(!server.data_dir().join("spiro/etc").exists());
    assert_staging_empty(&server, "400s").await;
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_members_are_refused_by_name_and_nothing_is_written() {
    let server = SpiroServer::start().await;
    let token = server.token(&["web"]);
    let good = || vec![dir("states/"), file("states/init.sls", b"a: b\n")];
    let cases: Vec<(&str, Member)> = vec![
        ("../escape.sls", file("../escape.sls", b"x")),
        (
            "states/../../escape.sls",
            file("states/../../escape.sls", b"x"),
        ),
        ("/etc/cron.d/evil", file("/etc/cron.d/evil", b"x")),
        (
            "link-to-etc",
            special("link-to-etc", EntryType::Symlink, Some("/etc")),
        ),
        (
            "hard-link",
            special("hard-link", EntryType::Link, Some("states/init.sls")),
        ),
        ("char-device", special("char-device", EntryType::Char, None)),
        (
            "block-device",
            special("block-device", EntryType::Block, None),
        ),
        ("a-fifo", special("a-fifo", EntryType::Fifo, None)),
    ];
    for (name, member) in cases {
        let mut members = good();
        members.push(member);
        members.push(file("after.sls", b"c: d\n"));
        let reply = server
            .deploy(&token, "web", "prod", true, &tar_of(&members))
            .await;
        reply.assert_refused(400, name);
        assert!(
            reply.text().contains(name),
            "the reason names the member {name:?}: {}",
            reply.text()
        );
        assert_nothing_deployed(&server, name);
        assert_staging_empty(&server, name).await;
    }
    assert!(!server.data_dir().join("spiro/escape.sls").exists());
    assert!(!server.data_dir().join("escape.sls").exists());
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modes_keep_permission_bits_only_and_directories_stay_traversable() {
    let server = SpiroServer::start().await;
    let token = server.token(&["web"]);
    let bundle = tar_of(&[
        dir("bin").mode(0o500),
        file("bin/setuid", b"#!/bin/sh\n").mode(0o4755),
        file("bin/setgid", b"#!/bin/sh\n").mode(0o2750),
        file("bin/private", b"secret\n").mode(0o600),
        dir("shared").mode(0o1777),
        dir("locked").mode(0o000),
        file("locked/inner.sls", b"x: y\n").mode(0o444),
        file("implied/parent/file.sls", b"z\n"),
    ]);
    let reply = server.deploy(&token, "web", "prod", false, &bundle).await;
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);
    let live = server.deployment("web", "prod");
    assert_eq!(mode(&live.join("bin")), 0o700);
    assert_eq!(mode(&live.join("bin/setuid")), 0o755);
    assert_eq!(mode(&live.join("bin/setgid")), 0o750);
    assert_eq!(mode(&live.join("bin/private")), 0o600);
    assert_eq!(mode(&live.join("shared")), 0o777);
    assert_eq!(mode(&live.join("locked")), 0o700);
    assert_eq!(mode(&live.join("locked/inner.sls")), 0o444);
    for (path, node) in tree(&live) {
        match node {
            Node::Dir { mode } => assert_eq!(mode & 0o700, 0o700, "{path}"),
            Node::File { mode, .. } => assert_eq!(mode & 0o7000, 0, "{path}"),
            Node::Other { kind } => panic!("{path} is a {kind}"),
        }
    }
    assert_eq!(
        mode(&live),
        0o755,
        "the deployment's top directory (spec 14)"
    );
    server.shut_down().await;
}

/// A gzip-compressed tar of `members` (name, size) of zeros, compressed
/// as it is generated: the uncompressed bytes are never held.
fn zeros_bomb(members: &[(String, u64)]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    for (name, size) in members {
        let mut header = tar::Header::new_gnu();
        header.set_path(name).unwrap();
        header.set_size(*size);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append(&header, std::io::repeat(0).take(*size))
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_400s_that_name_the_limit() {
    const MIB: u64 = 1 << 20;
    let server = SpiroServer::start_with(
        "[spiro.limits]\nmax_members = 40\nmax_file_bytes = 1048576\nmax_total_bytes = 4194304\n\
         max_path_bytes = 64\nmax_body_bytes = 16777216\n",
    )
    .await;
    let token = server.token(&["web"]);
    let file_bomb = zeros_bomb(&[("bomb.bin".into(), 1 << 30)]);
    let total_bomb = zeros_bomb(
        &(0..32)
            .map(|i| (format!("part{i}.bin"), MIB))
            .collect::<Vec<_>>(),
    );
    let many: Vec<(String, Vec<u8>)> = (0..41).map(|i| (format!("m{i}"), vec![b'x'])).collect();
    let long = format!("{}/{}", "d".repeat(40), "f".repeat(40));
    for (limit, bundle) in [
        ("max_file_bytes", file_bomb),
        ("max_total_bytes", total_bomb),
        ("max_members", tar_owned(&many)),
        ("max_path_bytes", tar_files(&[(long.as_str(), b"x")])),
    ] {
        assert!(
            (bundle.len() as u64) < 16 * MIB,
            "{limit}: the body itself is within bounds"
        );
        let started = Instant::now();
        let reply = server.deploy(&token, "web", "prod", false, &bundle).await;
        reply.assert_refused(400, limit);
        assert!(reply.text().contains(limit), "{limit}: {}", reply.text());
        eprintln!("{limit}: refused in {:?}", started.elapsed());
        assert_nothing_deployed(&server, limit);
        assert_staging_empty(&server, limit).await;
    }
    // Exactly at the limits is fine.
    let at_limits: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| (format!("part{i}.bin"), vec![0u8; MIB as usize]))
        .collect();
    let reply = server
        .deploy(&token, "web", "prod", false, &tar_owned(&at_limits))
        .await;
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);
    assert_eq!(
        files(&server.deployment("web", "prod")),
        file_map(&at_limits)
    );
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_max_body_bytes_is_413() {
    let server = SpiroServer::start_with("[spiro.limits]\nmax_body_bytes = 65536\n").await;
    let token = server.token(&["web"]);
    let files: Vec<(String, Vec<u8>)> = (0..70)
        .map(|i| (format!("f{i}"), vec![b'a'; 1000]))
        .collect();
    let bundle = tar_owned(&files);
    assert!(bundle.len() > 65536 && bundle.len() < 2 * 65536);
    let reply = server.deploy(&token, "web", "prod", false, &bundle).await;
    reply.assert_refused(413, "max_body_bytes");
    assert_nothing_deployed(&server, "413");
    assert_staging_empty(&server, "413").await;
    // A body within the limit still deploys.
    let reply = server
        .deploy(&token, "web", "prod", false, &tar_owned(&files[..20]))
        .await;
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bzip2_and_xz_bundles_deploy_the_same_tree() {
    let server = SpiroServer::start().await;
    let token = server.token(&["web"]);
    let members = vec![
        dir("states/"),
        file("states/init.sls", b"nginx:\n  pkg.installed: []\n"),
        file("./_source/./src//app.py", b"print(1)\n"),
        file("top.sls", b"base:\n  '*': [states]\n"),
    ];
    let plain = tar_of(&members);
    let expected: BTreeMap<String, Vec<u8>> = [
        ("states/init.sls", &b"nginx:\n  pkg.installed: []\n"[..]),
        ("_source/src/app.py", b"print(1)\n"),
        ("top.sls", b"base:\n  '*': [states]\n"),
    ]
    .into_iter()
    .map(|(p, d)| (p.to_string(), d.to_vec()))
    .collect();
    for (format, bundle) in [
        ("plain", plain.clone()),
        ("gzip", gzip(&plain)),
        ("bzip2", bzip2(&plain)),
        ("xz", xz(&plain)),
    ] {
        let reply = server.deploy(&token, "web", format, false, &bundle).await;
        assert_eq!(reply.status, 200, "{format}: {}", reply.text());
        assert_eq!(reply.text(), STREAM_DEPLOY_ONLY, "{format}");
        assert_eq!(
            files(&server.deployment("web", format)),
            expected,
            "{format}"
        );
    }
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_is_byte_exact_and_any_highstate_value_means_yes() {
    let server = SpiroServer::start().await;
    let token = server.token(&["web"]);
    let bundle = small_bundle();
    for (case, highstate, expected) in [
        ("highstate True", Some("True"), STREAM_HIGHSTATE_NO_TARGETS),
        (
            "highstate false",
            Some("false"),
            STREAM_HIGHSTATE_NO_TARGETS,
        ),
        ("highstate 0", Some("0"), STREAM_HIGHSTATE_NO_TARGETS),
        ("no highstate field", None, STREAM_DEPLOY_ONLY),
        ("empty highstate field", Some(""), STREAM_DEPLOY_ONLY),
    ] {
        let mut form = Form::new()
            .field("project", "web")
            .field("deployment", "prod");
        if let Some(value) = highstate {
            form = form.field("highstate", value);
        }
        let form = form.file("bundle", "bundle", &bundle);
        let reply = post_form(server.addr, Some(&format!("bearer {token}")), form).await;
        assert_eq!(reply.status, 200, "{case}: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("text/event-stream"),
            "{case}"
        );
        assert_eq!(reply.header("cache-control"), Some("no-cache"), "{case}");
        assert_eq!(reply.header("content-length"), None, "{case}");
        assert!(reply.chunked, "{case}: chunked");
        assert_eq!(reply.text(), expected, "{case}");
        assert!(!events(&reply.text()).is_empty());
        assert_eq!(
            files(&server.deployment("web", "prod")),
            file_map(&[("init.sls".into(), b"base: {}\n".to_vec())])
        );
    }
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deploys_of_one_deployment_are_serialized_and_never_mixed() {
    const FILES: usize = 1500;
    let server = SpiroServer::start().await;
    let token = server.token(&["web"]);
    let live = server.deployment("web", "prod");
    let first = tagged_files("X", FILES);
    let reply = server
        .deploy(&token, "web", "prod", false, &tar_owned(&first))
        .await;
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);

    let (a, b) = (tagged_files("A", FILES), tagged_files("B", FILES));
    let trees = [file_map(&first), file_map(&a), file_map(&b)];
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (live, done, trees) = (live.clone(), done.clone(), trees.clone());
        std::thread::spawn(move || {
            let mut seen = [0usize; 3];
            let mut swapped_while_reading = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                match snapshot(&live) {
                    Err(missing) => return Err(missing),
                    Ok(None) => swapped_while_reading += 1,
                    Ok(Some(found)) => match trees.iter().position(|t| *t == found) {
                        Some(i) => seen[i] += 1,
                        None => {
                            return Err(format!(
                                "a tree that is none of the bundles: {} files, e.g. {:?}",
                                found.len(),
                                found.iter().take(3).collect::<Vec<_>>()
                            ));
                        }
                    },
                }
            }
            Ok((seen, swapped_while_reading))
        })
    };
    let (bundle_a, bundle_b) = (tar_owned(&a), tar_owned(&b));
    let (reply_a, reply_b) = tokio::join!(
        server.deploy(&token, "web", "prod", false, &bundle_a),
        server.deploy(&token, "web", "prod", false, &bundle_b),
    );
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let observed = reader.join().unwrap();
    assert_eq!(reply_a.text(), STREAM_DEPLOY_ONLY, "deploy A");
    assert_eq!(reply_b.text(), STREAM_DEPLOY_ONLY, "deploy B");
    let (seen, swapped) = observed.unwrap_or_else(|e| panic!("the concurrent reader saw: {e}"));
    eprintln!(
        "reader: X {} A {} B {} snapshots, {swapped} raced a swap",
        seen[0], seen[1], seen[2]
    );
    assert!(
        seen.iter().sum::<usize>() > 0,
        "the reader saw the deployment"
    );
    let last = files(&live);
    assert!(
        last == trees[1] || last == trees[2],
        "the final tree is exactly A or exactly B"
    );
    assert_staging_empty(&server, "after both").await;
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployed_content_is_served_read_only_to_tokens_of_its_project() {
    let server = SpiroServer::start().await;
    let web = format!("Bearer {}", server.token(&["web"]));
    let root = format!("Bearer {}", server.root_token());
    let bundle = tar_of(&[
        file("top.sls", b"base: {}\n"),
        dir("a/"),
        file("a/b.sls", b"hello: world\n"),
        dir("empty/"),
        file("x/y/z.txt", b"zzz"),
        file("a/a.sls", b""),
    ]);
    let reply = server
        .deploy(&server.token(&["web"]), "web", "prod", false, &bundle)
        .await;
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);
    let secret = tar_files(&[("secret.txt", b"other project's secret")]);
    let reply = server
        .deploy(&server.token(&["other"]), "other", "prod", false, &secret)
        .await;
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);

    let listing = get(server.addr, "/deployments/web/prod/", Some(&web)).await;
    assert_eq!(listing.status, 200, "{}", listing.text());
    assert!(
        listing
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        listing.headers
    );
    let json: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "project": "web",
            "deployment": "prod",
            "files": [
                {"path": "a/a.sls", "size": 0},
                {"path": "a/b.sls", "size": 13},
                {"path": "top.sls", "size": 9},
                {"path": "x/y/z.txt", "size": 3},
            ]
        })
    );
    let content = get(server.addr, "/deployments/web/prod/a/b.sls", Some(&web)).await;
    assert_eq!(content.status, 200);
    assert_eq!(content.body, b"hello: world\n");
    assert_eq!(
        content.header("content-type"),
        Some("application/octet-stream")
    );
    let content = get(
        server.addr,
        "/deployments/other/prod/secret.txt",
        Some(&root),
    )
    .await;
    assert_eq!(content.body, b"other project's secret");

    get(server.addr, "/deployments/web/prod/", None)
        .await
        .assert_unauthorized("listing without a token");
    get(
        server.addr,
        "/deployments/web/prod/a/b.sls",
        Some("Bearer MDAw"),
    )
    .await
    .assert_unauthorized("file with a bad token");
    for path in [
        "/deployments/other/prod/",
        "/deployments/other/prod/secret.txt",
    ] {
        let reply = get(server.addr, path, Some(&web)).await;
        assert_eq!(reply.status, 403, "{path}");
        assert!(!reply.text().contains("other project's secret"), "{path}");
    }
    for path in [
        "/deployments/web/nope/",
        "/deployments/web/prod/missing.sls",
        "/deployments/nope/prod/top.sls",
        "/deployments/web/prod/a/b.sls/more",
    ] {
        assert_eq!(
            get(server.addr, path, Some(&root)).await.status,
            404,
            "{path}"
        );
    }
    for path in [
        "/deployments/web/prod/../../other/prod/secret.txt",
        "/deployments/web/prod/%2e%2e/%2e%2e/other/prod/secret.txt",
        "/deployments/web/prod/..%2f..%2fother%2fprod%2fsecret.txt",
        "/deployments/web/prod/a/../../../../../../etc/passwd",
        "/deployments/web/prod/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/deployments/../deployments/other/prod/secret.txt",
        "/deployments/web/../other/prod/secret.txt",
        "/deployments/web/prod//etc/passwd",
        "/deployments/web/prod/%2fetc%2fpasswd",
        "/deployments/web/prod/a%00/b.sls",
    ] {
        for auth in [&web, &root] {
            let reply = get(server.addr, path, Some(auth)).await;
            assert!(
                reply.status == 400 || reply.status == 404,
                "{path}: {} {}",
                reply.status,
                reply.text()
            );
            assert!(
                !reply.text().contains("other project's secret") && !reply.text().contains("root:"),
                "{path}: {}",
                reply.text()
            );
        }
    }
    // Read-only: nothing but GET.
    for method in ["PUT", "DELETE", "POST"] {
        let reply = request(
            server.addr,
            method,
            "/deployments/web/prod/a/b.sls",
            &[("Authorization", root.as_str())],
            b"",
        )
        .await;
        assert!(
            reply.status == 404 || reply.status == 405,
            "{method}: {}",
            reply.status
        );
    }
    assert_eq!(
        std::fs::read(server.deployment("web", "prod").join("a/b.sls")).unwrap(),
        b"hello: world\n"
    );
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_topfile_streams_one_ascii_exception_and_keeps_the_old_tree() {
    let server = SpiroServer::start().await;
    let token = server.token(&["web"]);
    let good = tar_files(&[
        ("spirotop.sls", b"prod:\n  '*': [base]\n"),
        ("base.sls", b"a: b\n"),
    ]);
    let reply = server.deploy(&token, "web", "prod", false, &good).await;
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);
    let live = server.deployment("web", "prod");
    assert_eq!(
        std::fs::read_to_string(live.join("top.sls")).unwrap(),
        "web/prod:\n  '*': [base]\n"
    );
    let before = tree(&live);
    for (case, spirotop) in [
        ("a list (F8)", "- a\n"),
        ("a string (F8)", "abc\n"),
        ("an integer (F8)", "5\n"),
        (
            "a duplicate non-ASCII key",
            "prod:\n  \u{c5}sa: [a]\n  \u{c5}sa: [b]\n",
        ),
        (
            "a YAML syntax error after non-ASCII text",
            "prod:\n  '\u{c5}\u{2028}': [a\n",
        ),
    ] {
        let bundle = tar_files(&[("spirotop.sls", spirotop.as_bytes()), ("new.sls", b"x\n")]);
        // Highstate requested: the exception replaces the rest of the stream.
        let reply = server.deploy(&token, "web", "prod", true, &bundle).await;
        assert_eq!(reply.status, 200, "{case}");
        assert!(reply.is_event_stream(), "{case}");
        let text = reply.text();
        let events = events(&text);
        assert_eq!(events.len(), 2, "{case}: {text}");
        assert_eq!(events[0].0, "deploy-bundle", "{case}");
        assert_eq!(events[1].0, "exception", "{case}: {text}");
        let message = events[1].1["msg"].as_str().unwrap();
        assert!(message.starts_with("TopfileError: "), "{case}: {message:?}");
        assert!(message.ends_with('\n'), "{case}: {message:?}");
        assert_eq!(
            events[1].1.as_object().unwrap().len(),
            1,
            "{case}: only msg"
        );
        assert_eq!(tree(&live), before, "{case}: the old tree is untouched");
        assert_staging_empty(&server, case).await;
    }
    server.shut_down().await;
}
