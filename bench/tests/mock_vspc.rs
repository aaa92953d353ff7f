//! Runs the load modes against a tiny mock vSPC that answers in the worst
//! legal way: one byte per write, so every answer arrives split.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use postern_bench::vspc::args::{Args, Mode};
use postern_bench::vspc::handshake::Script;
use postern_bench::vspc::{self, modes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes the mock answers at step 1 instead of the right ones, if any.
type Twist = Option<&'static [u8]>;

async fn mock(twist: Twist) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script = Arc::new(Script::new(b"postern", b"vm"));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(serve(stream, Arc::clone(&script), twist));
        }
    });
    addr
}

async fn serve(mut s: TcpStream, script: Arc<Script>, twist: Twist) -> std::io::Result<()> {
    for (i, (sent, answer)) in script.exchanges().enumerate() {
        let mut got = vec![0; sent.len()];
        s.read_exact(&mut got).await?;
        assert_eq!(got, sent);
        let answer = match (i, twist) {
            (0, Some(wrong)) => wrong,
            _ => answer,
        };
        for b in answer {
            s.write_all(&[*b]).await?;
        }
    }
    // Requests: answer each line, the terminator split between two writes.
    let mut line = Vec::new();
    let mut byte = [0u8];
    loop {
        s.read_exact(&mut byte).await?;
        if byte[0] != b'\n' {
            line.push(byte[0]);
            continue;
        }
        let code = std::str::from_utf8(&line).unwrap();
        let reply = code.replace("!!REQUEST_", "!!RESPONSE_") + "b2sgdm0=\n";
        s.write_all(reply.as_bytes()).await?;
        s.write_all(b"\r").await?;
        line.clear();
    }
}

fn args(mode: Mode, addr: SocketAddr) -> Args {
    let mut a = Args::parse(
        [
            mode.name(),
            "--vm",
            "vm",
            "--warmup",
            "0.1",
            "--duration",
            "0.3",
        ]
        .iter()
        .map(|s| s.to_string()),
    )
    .unwrap()
    .unwrap();
    a.addr = addr;
    a.connections = 4;
    a.concurrency = 2;
    a.hold = Duration::ZERO;
    a
}

fn field(report: &vspc::report::Report, key: &str) -> String {
    let json = report.json.render();
    let at = json.find(&format!("\"{key}\":")).expect(key) + key.len() + 3;
    json[at..].split([',', '}']).next().unwrap().to_string()
}

#[tokio::test]
async fn all_modes_work_against_split_answers() {
    let addr = mock(None).await;
    let r = vspc::run(&args(Mode::Requests, addr)).await.unwrap();
    assert!(!r.failed, "{:?}", r.lines);
    assert!(field(&r, "responses").parse::<u64>().unwrap() > 0);

    let r = vspc::run(&args(Mode::Handshakes, addr)).await.unwrap();
    assert!(!r.failed, "{:?}", r.lines);
    assert!(field(&r, "handshakes").parse::<u64>().unwrap() > 0);

    let r = modes::hold::run(&args(Mode::Hold, addr)).await.unwrap();
    assert!(!r.failed, "{:?}", r.lines);
    assert_eq!(field(&r, "answered"), "4");
}

#[tokio::test]
async fn a_wrong_answer_is_shown_in_hex() {
    let addr = mock(Some(&[0xFF, 0xFD, 0x25])).await;
    let e = vspc::run(&args(Mode::Requests, addr)).await.unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("expected: FF FE 25"), "{msg}");
    assert!(msg.contains("received: FF FD"), "{msg}");
}

#[tokio::test]
async fn an_absent_server_is_named() {
    // Bind and drop to get a port nobody listens on.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let e = vspc::run(&args(Mode::Handshakes, addr)).await.unwrap_err();
    assert!(format!("{e:#}").contains("cannot reach the vSPC"), "{e:#}");
}
