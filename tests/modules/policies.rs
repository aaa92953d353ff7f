//! Policy chains over the real workflows: cvproxy's PolicyDenied reply,
//! vspc's silent refusal, monitor mode, mutation, failing policies, and
//! the two sample policies.

use super::harness::*;
use crate::cvproxy::fake::FakeCv;
use crate::cvproxy::harness::seed_devices;
use crate::support::guests;
use crate::vspc::MINIMAL;
use crate::vspc::esxi::Esxi;

const CONFIGLET: &str = "hostname leaf1\nusername admin secret 0 admin\n";

#[tokio::test]
async fn protect_mode_denial_is_cvproxys_error_reply_with_every_reason() {
    let (_data, server) = ModulesServer::with_tables(
        "[modules.gate.settings]\nverdict = \"deny\"\nreasons = \"first reason|second reason\"\n",
    )
    .await;
    server.upload("gate", &guest(guests::POLICY_FIXED)).await;
    server.set_chain("cvproxy", &[("gate", "protect")]).await;
    // Nothing listens on port 9: a request that got past the chain would
    // get a connection error instead.
    let reply = server
        .cvproxy_reply(&deploy_body("127.0.0.1:9", CONFIGLET))
        .await;
    assert_eq!(
        reply,
        reply_of(&[
            "PolicyDenied: gate: first reason",
            "PolicyDenied: gate: second reason"
        ])
    );
    assert_eq!(
        server
            .metric("postern_policy_decisions_total{workflow=\"cvproxy\",module=\"gate\",mode=\"protect\",decision=\"deny\"}")
            .await,
        1.0
    );
    server.shut_down().await;
}

#[tokio::test]
async fn the_subject_is_the_deploy_plan_without_the_token() {
    let (_data, server) =
        ModulesServer::with_tables("[modules.echo.settings]\nverdict = \"echo-deny\"\n").await;
    server.upload("echo", &guest(guests::POLICY_FIXED)).await;
    server.set_chain("cvproxy", &[("echo", "protect")]).await;
    let reply = server
        .cvproxy_reply(&deploy_body("cv.example.com", "hostname leaf1\n"))
        .await;
    let subject = r#"{"devices":[{"hostname":"leaf1","serial_number":null,"configlet":"hostname leaf1\n","tags":[]}],"cv_server":"cv.example.com","change_control_name":null,"strict_tags":false,"delete_workspace":false}"#;
    assert_eq!(
        reply,
        reply_of(&[&format!("PolicyDenied: echo: {subject}")])
    );
    assert!(!reply.contains("secret-token"));
    server.shut_down().await;
}

#[tokio::test]
async fn monitor_mode_logs_the_denial_and_the_deployment_goes_ahead() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[("SSJ1", "leaf1")]);
    let ca = fake.ca_file().unwrap().display().to_string();
    let tables = format!(
        "retry_base_delay = \"1ms\"\n[cvproxy.tls]\nca_file = {ca:?}\n\
         [modules.gate.settings]\nverdict = \"deny\"\n"
    );
    let (_data, server) = ModulesServer::with_tables(&tables).await;
    server.upload("gate", &guest(guests::POLICY_FIXED)).await;
    server.set_chain("cvproxy", &[("gate", "monitor")]).await;
    let body = serde_json::json!({
        "cv_server": fake.cv_server(),
        "cv_token": fake.token(),
        "devices": {"leaf1": {"configlet": base64_of("hostname leaf1\n")}},
    })
    .to_string();
    let reply = server.cvproxy_reply(&body).await;
    assert!(reply.starts_with("{\n  \"status\": \"ok\""), "{reply}");
    assert!(!fake.calls().is_empty(), "CloudVision was contacted");
    assert_eq!(
        server
            .metric("postern_policy_decisions_total{workflow=\"cvproxy\",module=\"gate\",mode=\"monitor\",decision=\"deny\"}")
            .await,
        1.0
    );
    server.shut_down().await;
}

#[tokio::test]
async fn a_policy_that_traps_or_times_out_fails_its_request_cleanly() {
    let (_data, server) = ModulesServer::with_tables("[modules.crash.settings]\nverdict = \"trap\"\n\
                     [modules.spin]\ndeadline = \"100ms\"\n[modules.spin.settings]\nverdict = \"spin\"\n").await;
    let fixed = guest(guests::POLICY_FIXED);
    server.upload("crash", &fixed).await;
    server.upload("spin", &fixed).await;
    let body = deploy_body("127.0.0.1:9", CONFIGLET);

    server.set_chain("cvproxy", &[("crash", "protect")]).await;
    assert_eq!(
        server.cvproxy_reply(&body).await,
        reply_of(&["PolicyError: crash: the policy failed (trap)"])
    );
    server.set_chain("cvproxy", &[("spin", "protect")]).await;
    assert_eq!(
        server.cvproxy_reply(&body).await,
        reply_of(&["PolicyError: spin: the policy timed out"])
    );
    // The workflow and its guest are unharmed.
    server.set_chain("cvproxy", &[]).await;
    assert_eq!(
        server.cvproxy_reply(INVALID_BODY).await,
        builtin_answer_to_invalid()
    );
    // In monitor mode a failing policy is logged and the request goes on
    // to the deployment (which cannot reach port 9).
    server.set_chain("cvproxy", &[("crash", "monitor")]).await;
    let reply = server.cvproxy_reply(&body).await;
    assert!(!reply.contains("Policy"), "{reply}");
    assert!(reply.contains("\"status\": \"error\""), "{reply}");
    server.shut_down().await;
}

#[tokio::test]
async fn forbid_line_sample_denies_configlets_with_the_configured_line() {
    let (_data, server) = ModulesServer::with_tables(
        "[modules.forbid-line.settings]\nforbidden_line = \"username admin secret 0 admin\"\n",
    )
    .await;
    server
        .upload("forbid-line", &guest(guests::FORBID_LINE_POLICY))
        .await;
    server
        .set_chain("cvproxy", &[("forbid-line", "protect")])
        .await;
    assert_eq!(
        server
            .cvproxy_reply(&deploy_body("127.0.0.1:9", CONFIGLET))
            .await,
        reply_of(&[
            "PolicyDenied: forbid-line: device leaf1: configlet contains the forbidden line \"username admin secret 0 admin\""
        ])
    );
    // A clean configlet passes the chain (and then fails to reach port 9).
    let reply = server
        .cvproxy_reply(&deploy_body("127.0.0.1:9", "hostname leaf1\n"))
        .await;
    assert!(!reply.contains("PolicyDenied"), "{reply}");
    server.shut_down().await;
}

#[tokio::test]
async fn require_prefix_sample_silences_vspc_answers_with_a_foreign_instance_id() {
    let (_data, server) =
        ModulesServer::with_tables("[modules.require-prefix.settings]\nprefix = \"i-prod-\"\n")
            .await;
    server
        .upload("require-prefix", &guest(guests::REQUIRE_PREFIX_POLICY))
        .await;
    server
        .set_chain("vspc", &[("require-prefix", "protect")])
        .await;
    std::fs::write(
        server.vm_dir().join("good-vm.yaml"),
        MINIMAL.replace("instance_id: i-1", "instance_id: i-prod-1"),
    )
    .unwrap();
    std::fs::write(server.vm_dir().join("rogue-vm.yaml"), MINIMAL).unwrap();

    let mut good = Esxi::source(server.vspc, "postern", "good-vm").await;
    let answer = metadata_answer(&mut good).await;
    assert!(answer.contains("\"instance-id\": \"i-prod-1\""), "{answer}");

    let mut rogue = Esxi::source(server.vspc, "postern", "rogue-vm").await;
    rogue.send(b"!!REQUEST_METADATA#\n").await;
    rogue.expect_nothing_before_barrier().await;
    assert_eq!(
        server
            .metric(
                "postern_vspc_requests_total{code=\"REQUEST_METADATA\",outcome=\"policy_denied\"}"
            )
            .await,
        1.0
    );
    server.shut_down().await;
}

#[tokio::test]
async fn a_mutating_policy_changes_the_vspc_answer() {
    let mutated = r#"{"answer": "{\"instance-id\": \"rewritten\"}"}"#;
    let tables = format!(
        "[modules.rewrite.settings]\nverdict = \"mutate\"\nmutate = {}\n",
        toml_string(mutated)
    );
    let (_data, server) = ModulesServer::with_tables(&tables).await;
    server.upload("rewrite", &guest(guests::POLICY_FIXED)).await;
    server.set_chain("vspc", &[("rewrite", "protect")]).await;
    std::fs::write(server.vm_dir().join("vm-m.yaml"), MINIMAL).unwrap();
    let mut esxi = Esxi::source(server.vspc, "postern", "vm-m").await;
    assert_eq!(
        metadata_answer(&mut esxi).await,
        "{\"instance-id\": \"rewritten\"}"
    );
    server.shut_down().await;
}

/// The decoded body of the answer to REQUEST_METADATA.
async fn metadata_answer(esxi: &mut Esxi) -> String {
    use base64::Engine as _;
    let line = esxi.request("REQUEST_METADATA").await;
    let line = String::from_utf8(line).unwrap();
    let encoded = line
        .strip_prefix("!!RESPONSE_METADATA#")
        .and_then(|rest| rest.strip_suffix("\n\r"))
        .unwrap_or_else(|| panic!("not a metadata reply: {line:?}"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap()
}

fn reply_of(errors: &[&str]) -> String {
    reply(errors)
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn toml_string(text: &str) -> String {
    format!("'{text}'")
}

#[tokio::test]
async fn a_policy_file_and_its_chain_can_come_from_the_config_alone() {
    let tables = format!(
        "[modules.gate]\npath = {:?}\n[modules.gate.settings]\nverdict = \"deny\"\nreasons = \"configured\"\n\
         [policies]\ncvproxy = [{{ module = \"gate\", mode = \"protect\" }}]\n",
        guests::POLICY_FIXED
    );
    let (_data, server) = ModulesServer::with_tables(&tables).await;
    assert_eq!(
        server
            .cvproxy_reply(&deploy_body("127.0.0.1:9", CONFIGLET))
            .await,
        reply_of(&["PolicyDenied: gate: configured"])
    );
    let module = server.module("gate").await;
    assert_eq!(module["world"], "policy");
    assert_eq!(module["active"], "builtin");
    server.shut_down().await;
}

#[tokio::test]
async fn a_chain_naming_an_unknown_or_non_policy_module_is_refused() {
    let (_data, server) = ModulesServer::with_tables("").await;
    for (module, text) in [
        ("nope", "no policy module named `nope`"),
        ("vspc", "`vspc` world"),
    ] {
        let body = serde_json::json!({"entries": [{"module": module, "mode": "protect"}]});
        let (status, json) = server
            .admin_json(
                "PUT",
                "/admin/v1/policies/cvproxy",
                body.to_string().as_bytes(),
            )
            .await;
        assert_eq!(status, 422, "{json}");
        assert!(json["error"].as_str().unwrap().contains(text), "{json}");
    }
    let (status, _) = server
        .admin_json("PUT", "/admin/v1/policies/nowhere", br#"{"entries": []}"#)
        .await;
    assert_eq!(status, 404);
    server.shut_down().await;
}
