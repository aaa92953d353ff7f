//! Signed modules: with trusted keys configured, only uploads signed by one
//! of them are accepted.

use postern::signing::SecretKey;

use super::harness::*;
use crate::support::guests;

#[tokio::test]
async fn only_modules_signed_by_a_trusted_key_are_accepted() {
    let trusted = SecretKey::generate().unwrap();
    let stranger = SecretKey::generate().unwrap();
    let data = tempfile::tempdir().unwrap();
    let registry = format!("trusted_keys = [{:?}]\n", trusted.public().to_string());
    let server = ModulesServer::start(
        data.path(),
        Setup {
            registry: &registry,
            ..Setup::default()
        },
    )
    .await;
    let alt = guest(guests::CVPROXY_ALT);
    let other = guest(guests::POLICY_FIXED);
    let cases = [
        ("unsigned", String::new(), "not signed"),
        ("untrusted key", stranger.sign(&alt), "not a trusted key"),
        ("other bytes", trusted.sign(&other), "does not match"),
        (
            "garbage",
            "ed25519:nonsense".to_string(),
            "malformed signature",
        ),
    ];
    for (what, signature, text) in cases {
        let mut headers = vec![("Authorization", format!("Bearer {}", server.token))];
        if !signature.is_empty() {
            headers.push(("Postern-Signature", signature));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = server
            .admin_with("POST", "/admin/v1/modules/cvproxy", &headers, &alt)
            .await;
        assert_eq!(response.status, 403, "{what}: {}", response.text());
        assert!(
            response.text().contains(text),
            "{what}: {}",
            response.text()
        );
        assert_eq!(server.active("cvproxy").await, "builtin", "{what}");
    }
    let signature = trusted.sign(&alt);
    let response = server
        .admin_with(
            "POST",
            "/admin/v1/modules/cvproxy",
            &[
                ("Authorization", &format!("Bearer {}", server.token)),
                ("Postern-Signature", &signature),
            ],
            &alt,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let module = server.module("cvproxy").await;
    assert_eq!(
        module["versions"][1]["signed_by"],
        trusted.public().to_string()
    );
    assert_eq!(server.cvproxy_reply(INVALID_BODY).await, alt_answer());
    server.shut_down().await;
}
