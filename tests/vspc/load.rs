use super::esxi::*;

/// 1,000 concurrent connections, each completing the handshake and three requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections() {
    let shared = super::shared_with_minimal("vm-crowd");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        tasks.spawn(async move {
            let mut esxi = Esxi::source(shared.vspc, "postern", "vm-crowd").await;
            let mut replies = Vec::new();
            for code in [
                "REQUEST_METADATA",
                "REQUEST_NETWORKDATA",
                "REQUEST_USERDATA",
            ] {
                replies.push(esxi.request(code).await);
            }
            replies
        });
    }
    let mut first: Option<Vec<Vec<u8>>> = None;
    let mut completed = 0;
    while let Some(replies) = tasks.join_next().await {
        let replies = replies.expect("connection task");
        match &first {
            None => first = Some(replies),
            Some(first) => assert_eq!(&replies, first),
        }
        completed += 1;
    }
    assert_eq!(completed, 1000);
}
