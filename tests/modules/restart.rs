//! A restart activates the same versions and chains without compiling.

use super::harness::*;
use crate::support::guests;

const COMPILES: &str = "postern_module_compiles_total";

#[tokio::test]
async fn restart_keeps_active_versions_and_chains_without_recompiling() {
    let data = tempfile::tempdir().unwrap();
    let setup = || Setup {
        tables: "[modules.gate.settings]\nverdict = \"deny\"\nreasons = \"gate says no\"\n",
        own_cache: true,
        ..Setup::default()
    };
    let first = ModulesServer::start(data.path(), setup()).await;
    let compiled_at_start = first.metric(COMPILES).await;
    assert!(
        compiled_at_start >= 2.0,
        "a fresh cache compiles the built-ins"
    );
    let alt = first.upload("cvproxy", &guest(guests::CVPROXY_ALT)).await;
    first.upload("gate", &guest(guests::POLICY_FIXED)).await;
    first.set_chain("vspc", &[("gate", "monitor")]).await;
    assert_eq!(first.metric(COMPILES).await, compiled_at_start + 2.0);
    let token = first.token.clone();
    first.shut_down().await;

    let second = ModulesServer::start(data.path(), setup()).await;
    assert_eq!(
        second.metric(COMPILES).await,
        0.0,
        "everything came from the AOT cache"
    );
    assert!(second.metric("postern_module_aot_cache_hits_total").await >= 3.0);
    assert_eq!(second.token, token, "the generated token is kept");
    assert_eq!(second.active("cvproxy").await, alt);
    assert_eq!(second.cvproxy_reply(INVALID_BODY).await, alt_answer());
    let (status, chain) = second
        .admin_json("GET", "/admin/v1/policies/vspc", b"")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        chain["entries"],
        serde_json::json!([{"module": "gate", "mode": "monitor"}])
    );
    // Rollback history survives too.
    let (status, json) = second
        .admin_json("POST", "/admin/v1/modules/cvproxy/rollback", b"{}")
        .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["active"], "builtin");
    second.shut_down().await;
}
