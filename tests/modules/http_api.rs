//! The registry over the HTTP admin API: upload, activate, rollback,
//! delete, and refused uploads that leave the active version alone.

use super::harness::*;
use crate::support::guests;

#[tokio::test]
async fn upload_activate_rollback_and_delete_switch_what_cvproxy_answers() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(data.path(), Setup::default()).await;
    assert_eq!(server.active("cvproxy").await, "builtin");
    assert_eq!(
        server.cvproxy_reply(INVALID_BODY).await,
        builtin_answer_to_invalid()
    );

    let alt = server.upload("cvproxy", &guest(guests::CVPROXY_ALT)).await;
    assert_eq!(alt.len(), 64);
    assert_eq!(server.active("cvproxy").await, alt);
    assert_eq!(server.cvproxy_reply(INVALID_BODY).await, alt_answer());

    // Back to the version before.
    let (status, json) = server
        .admin_json("POST", "/admin/v1/modules/cvproxy/rollback", b"{}")
        .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["active"], "builtin");
    assert_eq!(
        server.cvproxy_reply(INVALID_BODY).await,
        builtin_answer_to_invalid()
    );

    // Any stored version, by a unique prefix of its digest.
    let body = serde_json::json!({ "version": &alt[..12] }).to_string();
    let (status, json) = server
        .admin_json(
            "POST",
            "/admin/v1/modules/cvproxy/activate",
            body.as_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["active"], alt.as_str());
    assert_eq!(server.cvproxy_reply(INVALID_BODY).await, alt_answer());

    // The active version cannot be deleted; an inactive one can.
    let path = format!("/admin/v1/modules/cvproxy/versions/{alt}");
    let (status, json) = server.admin_json("DELETE", &path, b"").await;
    assert_eq!(status, 409, "{json}");
    let (status, _) = server
        .admin_json(
            "POST",
            "/admin/v1/modules/cvproxy/activate",
            br#"{"version": "builtin"}"#,
        )
        .await;
    assert_eq!(status, 200);
    let (status, json) = server.admin_json("DELETE", &path, b"").await;
    assert_eq!(status, 200, "{json}");
    let versions: Vec<&str> = json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["builtin"]);
    assert!(
        !data
            .path()
            .join(format!("modules/cvproxy/{alt}.wasm"))
            .exists()
    );
    let (status, _) = server.admin_json("DELETE", &path, b"").await;
    assert_eq!(status, 404);
    // The built-in version and a workflow's module stay.
    let (status, _) = server
        .admin_json("DELETE", "/admin/v1/modules/cvproxy/versions/builtin", b"")
        .await;
    assert_eq!(status, 409);
    let (status, _) = server
        .admin_json("DELETE", "/admin/v1/modules/cvproxy", b"")
        .await;
    assert_eq!(status, 409);
    server.shut_down().await;
}

#[tokio::test]
async fn describe_reports_world_digest_size_compile_time_and_calls() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(data.path(), Setup::default()).await;
    let bytes = guest(guests::POLICY_FIXED);
    let version = server.upload("gate", &bytes).await;
    server.set_chain("cvproxy", &[("gate", "protect")]).await;
    let _ = server
        .cvproxy_reply(&deploy_body("cv.example.com\u{1}", "hostname x\n"))
        .await;
    let module = server.module("gate").await;
    assert_eq!(module["world"], "policy");
    assert_eq!(module["active"], version.as_str());
    assert_eq!(module["versions"][0]["digest"], version.as_str());
    assert_eq!(module["versions"][0]["size"], bytes.len());
    assert_eq!(module["versions"][0]["active"], true);
    assert!(module["versions"][0]["uploaded_at"].is_string());
    assert_eq!(module["used_by"][0], "cvproxy");
    // A policy in a chain cannot be removed.
    let (status, json) = server
        .admin_json("DELETE", "/admin/v1/modules/gate", b"")
        .await;
    assert_eq!(status, 409, "{json}");
    server.set_chain("cvproxy", &[]).await;
    let (status, _) = server
        .admin_json("DELETE", "/admin/v1/modules/gate", b"")
        .await;
    assert_eq!(status, 204);
    let (status, _) = server
        .admin_json("GET", "/admin/v1/modules/gate", b"")
        .await;
    assert_eq!(status, 404);
    server.shut_down().await;
}

#[tokio::test]
async fn the_calls_of_the_active_version_are_counted() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(data.path(), Setup::default()).await;
    for _ in 0..3 {
        server.cvproxy_reply(INVALID_BODY).await;
    }
    let module = server.module("cvproxy").await;
    assert_eq!(module["calls"], 3);
    assert_eq!(module["errors"], 0);
    server.shut_down().await;
}

#[tokio::test]
async fn refused_uploads_leave_the_active_version_serving() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(
        data.path(),
        Setup {
            registry: "max_upload_mib = 1\n",
            ..Setup::default()
        },
    )
    .await;
    let alt = server.upload("cvproxy", &guest(guests::CVPROXY_ALT)).await;
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    let over_limit = vec![0u8; (1 << 20) + 1];
    let cases: [(&str, Vec<u8>, u16, &str); 5] = [
        (
            "not wasm",
            b"hello, world".to_vec(),
            422,
            "not a WebAssembly component",
        ),
        (
            "a core module",
            core_module,
            422,
            "not a WebAssembly component",
        ),
        (
            "the vspc world",
            postern::guests::builtin("vspc").unwrap().to_vec(),
            422,
            "`cvproxy` world",
        ),
        (
            "a policy",
            guest(guests::POLICY_FIXED),
            422,
            "`cvproxy` world",
        ),
        ("over the limit", over_limit, 413, "over the upload limit"),
    ];
    for (what, bytes, status, text) in cases {
        let response = server
            .admin("POST", "/admin/v1/modules/cvproxy", &bytes)
            .await;
        assert_eq!(response.status, status, "{what}: {}", response.text());
        if status != 413 || response.body.starts_with(b"{") {
            let json: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
            let error = json["error"].as_str().unwrap();
            assert!(error.contains(text), "{what}: {error}");
        }
        assert_eq!(server.active("cvproxy").await, alt, "{what}");
        assert_eq!(
            server.cvproxy_reply(INVALID_BODY).await,
            alt_answer(),
            "{what}"
        );
    }
    let module = server.module("cvproxy").await;
    assert_eq!(module["versions"].as_array().unwrap().len(), 2);
    // Nothing of the refused uploads was stored.
    let stored = std::fs::read_dir(data.path().join("modules/cvproxy"))
        .unwrap()
        .count();
    assert_eq!(stored, 2, "module.json and one .wasm");
    server.shut_down().await;
}

#[tokio::test]
async fn the_admin_api_needs_the_bearer_token() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(data.path(), Setup::default()).await;
    let token_file = data.path().join("admin.token");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&token_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap().trim(),
        server.token
    );

    let none = server
        .admin_with("GET", "/admin/v1/modules", &[], b"")
        .await;
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    let wrong = server
        .admin_with(
            "GET",
            "/admin/v1/modules",
            &[("Authorization", "Bearer nope")],
            b"",
        )
        .await;
    assert_eq!(wrong.status, 401);
    let upload = server
        .admin_with(
            "POST",
            "/admin/v1/modules/cvproxy",
            &[],
            &guest(guests::CVPROXY_ALT),
        )
        .await;
    assert_eq!(upload.status, 401);
    assert_eq!(server.active("cvproxy").await, "builtin");
    // The probes stay open.
    assert_eq!(
        crate::support::http_get(server.admin, "/healthz").await.0,
        200
    );
    let (status, json) = server.admin_json("GET", "/admin/v1/modules", b"").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = json["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cvproxy", "vspc"]);
    server.shut_down().await;
}

#[tokio::test]
async fn a_workflow_module_name_is_not_free_for_a_policy_where_the_workflow_is_not_served() {
    // vspc only: `cvproxy` still belongs to the cvproxy workflow.
    let server = crate::support::TestServer::start("", "").await;
    let token = std::fs::read_to_string(server.dir.path().join("admin.token")).unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.admin).await.unwrap();
    let bytes = guest(guests::POLICY_FIXED);
    let mut request = format!(
        "POST /admin/v1/modules/cvproxy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        token.trim(),
        bytes.len()
    )
    .into_bytes();
    request.extend_from_slice(&bytes);
    let response = crate::support::http_exchange(&mut stream, &request).await;
    assert_eq!(response.status, 409, "{}", response.text());
    assert!(response.text().contains("workflow that is not served"));
    assert!(!server.dir.path().join("modules/cvproxy").exists());
    server.shut_down().await;
}
