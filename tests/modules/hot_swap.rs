//! Hot swap under load: clients hammering cvproxy while its module flips
//! between two versions see only the old or the new answer, never an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::harness::*;
use crate::support::{self, guests};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_see_only_old_or_new_answers_while_versions_flip() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(data.path(), Setup::default()).await;
    let alt = server.upload("cvproxy", &guest(guests::CVPROXY_ALT)).await;
    let (old, new) = (builtin_answer_to_invalid(), alt_answer());

    let flipping = Arc::new(AtomicBool::new(true));
    let mut clients = Vec::new();
    for _ in 0..8 {
        let addr = server.cvproxy;
        let flipping = Arc::clone(&flipping);
        let (old, new) = (old.clone(), new.clone());
        clients.push(tokio::spawn(async move {
            let (mut saw_old, mut saw_new) = (0, 0);
            // Keep-alive connection, as a busy client would use.
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{INVALID_BODY}",
                INVALID_BODY.len()
            );
            while flipping.load(Ordering::SeqCst) || saw_old + saw_new == 0 {
                let response = support::http_exchange(&mut stream, request.as_bytes()).await;
                assert_eq!(response.status, 200);
                let text = response.text();
                if text == old {
                    saw_old += 1;
                } else if text == new {
                    saw_new += 1;
                } else {
                    panic!("an answer that is neither version's: {text}");
                }
            }
            (saw_old, saw_new)
        }));
    }
    for round in 0..20 {
        let version = if round % 2 == 0 {
            "builtin"
        } else {
            alt.as_str()
        };
        let body = serde_json::json!({ "version": version }).to_string();
        let (status, json) = server
            .admin_json(
                "POST",
                "/admin/v1/modules/cvproxy/activate",
                body.as_bytes(),
            )
            .await;
        assert_eq!(status, 200, "{json}");
        // Let requests run on this version before the next flip.
        let calls = server.module("cvproxy").await["calls"].as_u64().unwrap();
        while server.module("cvproxy").await["calls"].as_u64().unwrap() < calls + 8 {
            tokio::task::yield_now().await;
        }
    }
    flipping.store(false, Ordering::SeqCst);
    let (mut total_old, mut total_new) = (0, 0);
    for client in clients {
        let (saw_old, saw_new) = client.await.unwrap();
        total_old += saw_old;
        total_new += saw_new;
    }
    assert!(
        total_old > 0 && total_new > 0,
        "old {total_old}, new {total_new}"
    );
    assert_eq!(
        server
            .metric("postern_cvproxy_requests_total{outcome=\"module_error\"}")
            .await,
        0.0
    );
    server.shut_down().await;
}
