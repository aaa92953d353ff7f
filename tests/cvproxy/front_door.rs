//! cvproxy's HTTP contract without CloudVision: methods, Content-Length,
//! Content-Type, the body bound, and the input-stage replies as bytes.

use crate::support::{RawResponse, TestServer, http_exchange, post_json, read_response, shared};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// `{"status": "error", "errors": [<one>]}` exactly as `json.dumps(indent=2)`.
pub fn one_error(text: &str) -> String {
    let mut quoted = String::new();
    postern::python::json::dump_str(text, &mut quoted);
    format!("{{\n  \"status\": \"error\",\n  \"errors\": [\n    {quoted}\n  ]\n}}")
}

fn assert_text(response: &RawResponse, status: u16, text: &str) {
    assert_eq!(response.status, status, "{response:?}");
    assert_eq!(response.text(), text);
    assert_eq!(response.header("content-type"), Some("text/plain"));
}

fn assert_json(response: &RawResponse, expected: &str) {
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.text(), expected);
}

#[tokio::test]
async fn methods_other_than_post_get_501() {
    let addr = shared().cvproxy;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let request = format!("{method} /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
        let response = http_exchange(&mut stream, request.as_bytes()).await;
        assert_text(&response, 501, "501 Not Implemented");
    }
}

#[tokio::test]
async fn a_body_without_content_length_is_400() {
    let addr = shared().cvproxy;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    let response = http_exchange(&mut stream, request).await;
    assert_text(&response, 400, "400 Bad Request");
    // Without any body framing at all.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let response = http_exchange(
        &mut stream,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n\r\n",
    )
    .await;
    assert_text(&response, 400, "400 Bad Request");
}

#[tokio::test]
async fn a_non_numeric_content_length_is_400() {
    let mut stream = TcpStream::connect(shared().cvproxy).await.unwrap();
    let response = http_exchange(
        &mut stream,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 1x\r\n\r\n",
    )
    .await;
    assert_eq!(response.status, 400);
}

#[tokio::test]
async fn content_type_must_be_exactly_application_json() {
    let addr = shared().cvproxy;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    for content_type in [
        Some("application/json; charset=utf-8"),
        Some("Application/JSON"),
        Some("text/plain"),
        None,
    ] {
        let header = content_type
            .map(|v| format!("Content-Type: {v}\r\n"))
            .unwrap_or_default();
        let request =
            format!("POST / HTTP/1.1\r\nHost: h\r\n{header}Content-Length: 2\r\n\r\n{{}}");
        let response = http_exchange(&mut stream, request.as_bytes()).await;
        assert_text(&response, 415, "415 Unsupported Media Type");
    }
}

#[tokio::test]
async fn an_announced_body_over_the_limit_is_413_without_reading_it() {
    let server = TestServer::start(
        "",
        "[cvproxy]\nlisten = \"127.0.0.1:0\"\nmax_body_bytes = 1024\n",
    )
    .await;
    let addr = server.cvproxy.unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // Nothing of the body is sent: the answer must not wait for it.
    let response = http_exchange(
        &mut stream,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 1025\r\n\r\n",
    )
    .await;
    assert_text(&response, 413, "413 Content Too Large");
    // At the limit the body is read and judged.
    let body = format!("{{\"x\": \"{}\"}}", "a".repeat(1024 - 9));
    assert_eq!(body.len(), 1024);
    let response = post_json(addr, body.as_bytes()).await;
    assert_eq!(response.status, 200);
    assert!(server.shut_down().await);
}

#[tokio::test]
async fn the_default_limit_is_64_mib() {
    let mut stream = TcpStream::connect(shared().cvproxy).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        (64u64 << 20) + 1
    );
    let response = http_exchange(&mut stream, request.as_bytes()).await;
    assert_eq!(response.status, 413);
}

#[tokio::test]
async fn a_body_that_never_arrives_times_out_and_closes() {
    let server = TestServer::start(
        "",
        "[cvproxy]\nlisten = \"127.0.0.1:0\"\nbody_timeout = \"200ms\"\n",
    )
    .await;
    let mut stream = TcpStream::connect(server.cvproxy.unwrap()).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"a\"")
        .await
        .unwrap();
    let response = read_response(&mut stream).await;
    assert_eq!(response.status, 408);
    assert_eq!(response.header("connection"), Some("close"));
    assert!(server.shut_down().await);
}

#[tokio::test]
async fn the_path_is_ignored_and_connections_are_kept_alive() {
    let mut stream = TcpStream::connect(shared().cvproxy).await.unwrap();
    let expected = one_error("JSONDecodeError: Expecting value: line 1 column 1 (char 0)");
    for path in ["/", "/anything?x=1", "/deploy/now"] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n"
        );
        let response = http_exchange(&mut stream, request.as_bytes()).await;
        assert_json(&response, &expected);
    }
}

#[tokio::test]
async fn input_stage_errors_are_200_json_in_python_layout() {
    let addr = shared().cvproxy;
    let cases: &[(&[u8], &str)] = &[
        (b"", "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"),
        (b"{\"a\" 1}", "JSONDecodeError: Expecting ':' delimiter: line 1 column 6 (char 5)"),
        (b"{}", "ValidationError: 'devices' is a required property"),
        (
            b"{\"devices\": {}, \"cv_server\": \"cv\", \"cv_token\": \"t\"}",
            "ValidationError: {} should be non-empty",
        ),
        (
            b"{\"devices\": {\"leaf\": {\"configlet\": \"aGVsbG8=\"}}, \"cv_server\": \"\", \"cv_token\": \"\"}",
            "ValidationError: '' does not match '\\\\S+'",
        ),
        (
            b"{\"devices\": {\"leaf\": {\"configlet\": \"aGVsbG8=\"}}, \"cv_server\": \"cv\", \"cv_token\": \"t\", \"zzz\": 1, \"aaa\": 2}",
            "ValidationError: Unevaluated properties are not allowed ('aaa', 'zzz' were unexpected)",
        ),
        (b"[]", "ValidationError: [] is not of type 'object'"),
        (b"\xff", "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
        (
            b"{\"devices\": {\"leaf\": {\"configlet\": \"aGVs-G8=\"}}, \"cv_server\": \"cv\", \"cv_token\": \"t\"}",
            "Error: Only base64 data is allowed",
        ),
        (
            b"{\"devices\": {\"leaf\": {\"configlet\": \"aGVsbG8=\"}}, \"cv_server\": \"https://cv\", \"cv_token\": \"t\"}",
            "ValueError: Invalid cv_server 'https://cv': expected <host> or <host>:<port>",
        ),
        (
            "{\"devices\": {\"leaf\": {\"configlet\": \"aGVsbG8=\"}}, \"cv_server\": \"cv\", \"cv_token\": 5, \"cv_change_control_name\": \"é\"}".as_bytes(),
            "ValidationError: 5 is not of type 'string'",
        ),
    ];
    for (body, error) in cases {
        let response = post_json(addr, body).await;
        assert_json(&response, &one_error(error));
    }
}

#[tokio::test]
async fn replies_escape_non_ascii_like_python() {
    // The repr keeps 'é'; json.dumps(ensure_ascii=True) escapes it.
    let response = post_json(
        shared().cvproxy,
        "{\"devices\": {\"leaf\": {\"configlet\": \"aGVsbG8=\"}}, \"cv_server\": \"cv\", \"cv_token\": \"t\", \"é\": 1}".as_bytes(),
    )
    .await;
    assert_json(
        &response,
        "{\n  \"status\": \"error\",\n  \"errors\": [\n    \"ValidationError: Unevaluated properties are not allowed ('\\u00e9' was unexpected)\"\n  ]\n}",
    );
}

#[tokio::test]
async fn h2c_gets_the_same_replies() {
    use http_body_util::{BodyExt, Full};
    let stream = TcpStream::connect(shared().cvproxy).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .expect("h2c handshake");
    tokio::spawn(connection);
    let request = hyper::Request::post("http://localhost/")
        .header("content-type", "application/json")
        .header("content-length", "2")
        .body(Full::new(bytes::Bytes::from_static(b"{}")))
        .unwrap();
    let response = sender.send_request(request).await.expect("h2 response");
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        String::from_utf8_lossy(&body),
        one_error("ValidationError: 'devices' is a required property")
    );
}
