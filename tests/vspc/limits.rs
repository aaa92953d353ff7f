//! Guest limits with the test guest `misbehave` (built by the same pipeline):
//! a loop hits its deadline, unbounded allocation its memory cap, a trap
//! fails cleanly; each fails only its own call and is counted in /metrics.

use super::esxi::*;
use crate::support::{self, TestServer};

#[tokio::test]
async fn runaway_guests_fail_only_their_own_call() {
    let tables = format!(
        "[modules.vspc]\npath = {:?}\ndeadline = \"300ms\"\nmemory_mib = 16\n",
        support::guests::MISBEHAVE
    );
    let server = TestServer::start("", &tables).await;
    for (name, first_line) in [
        ("looper", "loop"),
        ("hoarder", "alloc"),
        ("trapper", "trap"),
        ("good", "fine"),
    ] {
        server.write_vm(name, first_line);
    }
    let mut good = Esxi::source(server.vspc, "postern", "good").await;
    let mut bad = Vec::new();
    for name in ["looper", "hoarder", "trapper"] {
        let mut esxi = Esxi::source(server.vspc, "postern", name).await;
        esxi.send(b"!!REQUEST_METADATA#\n").await;
        bad.push(esxi);
    }
    // While the looper spins, other connections are answered.
    assert_eq!(good.request("REQUEST_METADATA").await, reply("ok good"));
    for esxi in &mut bad {
        esxi.expect_nothing_before_barrier().await;
    }
    // Each failed connection is still usable, and so is the good one.
    assert_eq!(
        good.request("REQUEST_USERDATA").await,
        b"!!RESPONSE_USERDATA#b2sgZ29vZA==\n\r".to_vec()
    );
    server.write_vm("looper", "fine");
    assert_eq!(bad[0].request("REQUEST_METADATA").await, reply("ok looper"));

    let metrics = server.metrics().await;
    for kind in ["timeout", "memory_cap", "trap"] {
        let sample = format!(
            "postern_guest_errors_total{{workflow=\"vspc\",module=\"vspc\",kind=\"{kind}\"}}"
        );
        assert_eq!(
            support::metric_value(&metrics, &sample),
            1.0,
            "{kind} in:\n{metrics}"
        );
    }
    let failed = "postern_vspc_requests_total{code=\"REQUEST_METADATA\",outcome=\"guest_failed\"}";
    assert_eq!(support::metric_value(&metrics, failed), 3.0);
    assert!(server.shut_down().await);
}

fn reply(body: &str) -> Vec<u8> {
    use base64::Engine;
    format!(
        "!!RESPONSE_METADATA#{}\n\r",
        base64::engine::general_purpose::STANDARD.encode(body)
    )
    .into_bytes()
}
