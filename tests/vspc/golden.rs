use super::esxi::*;
use crate::support;

const CODES: [&str; 3] = [
    "REQUEST_METADATA",
    "REQUEST_NETWORKDATA",
    "REQUEST_USERDATA",
];

async fn assert_golden(name: &str) {
    let shared = support::shared();
    let yaml = std::fs::read(support::golden(&format!("vspc/{name}.yaml"))).unwrap();
    let vm = format!("golden-{name}");
    shared.write_vm(&vm, yaml);
    let expected =
        std::fs::read_to_string(support::golden(&format!("vspc/{name}.expected.hex"))).unwrap();
    let expected: Vec<Vec<u8>> = expected.lines().map(support::hex_decode).collect();
    assert_eq!(expected.len(), 3);
    let mut esxi = Esxi::source(shared.vspc, "postern", &vm).await;
    // Any order, repeated: the same request always yields the same bytes.
    for index in [0, 1, 2, 2, 0, 1] {
        let reply = esxi.request(CODES[index]).await;
        assert_eq!(
            hex(&reply),
            hex(&expected[index]),
            "{name}: {}",
            CODES[index]
        );
    }
}

#[tokio::test]
async fn golden_minimal_byte_for_byte() {
    assert_golden("minimal").await;
}

#[tokio::test]
async fn golden_readme_fixed_byte_for_byte() {
    assert_golden("readme-fixed").await;
}

/// Several requests in one segment are answered in order; the same bytes
/// split at every point give the same replies.
#[tokio::test]
async fn segmentation_does_not_change_the_answers() {
    let shared = super::shared_with_minimal("vm-segments");
    let mut esxi = Esxi::source(shared.vspc, "postern", "vm-segments").await;
    let whole = b"!!REQUEST_METADATA#\n!!REQUEST_USERDATA#\r\n";
    esxi.send(whole).await;
    let first = esxi.reply_line().await;
    let second = esxi.reply_line().await;
    assert!(
        first.starts_with(b"!!RESPONSE_METADATA#") && second.starts_with(b"!!RESPONSE_USERDATA#")
    );
    for split in 1..whole.len() {
        esxi.send(&whole[..split]).await;
        esxi.send(&whole[split..]).await;
        assert_eq!(esxi.reply_line().await, first, "split at {split}");
        assert_eq!(esxi.reply_line().await, second, "split at {split}");
    }
    esxi.send_bytewise(b"!!REQUEST_\x00METADATA#\x11\n").await;
    assert_eq!(esxi.reply_line().await, first, "NUL and DC1 are line noise");
}

/// Files are re-read for every request: an edit applies at once.
#[tokio::test]
async fn edits_apply_to_the_next_request() {
    let shared = support::shared();
    shared.write_vm("vm-edits", "not: [valid");
    let mut esxi = Esxi::source(shared.vspc, "postern", "vm-edits").await;
    esxi.send(b"!!REQUEST_USERDATA#\n").await;
    esxi.expect_nothing_before_barrier().await;
    shared.write_vm("vm-edits", format!("{}userdata: hello\n", super::MINIMAL));
    assert_eq!(
        esxi.request("REQUEST_USERDATA").await,
        b"!!RESPONSE_USERDATA#aGVsbG8=\n\r"
    );
}
