use super::esxi::*;

/// Decision 5: bad lines are logged and ignored; the connection stays.
#[tokio::test]
async fn garbage_lines_are_ignored_and_the_connection_stays() {
    let shared = super::shared_with_minimal("vm-garbage");
    let mut esxi = Esxi::source(shared.vspc, "postern", "vm-garbage").await;
    let garbage: [&[u8]; 12] = [
        b"\n",
        b"\r\n",
        b"console noise\n",
        b" !!REQUEST_METADATA#\n",
        b"!!REQUEST_METADATA\n",
        b"!!REQUEST_METADATA##\n",
        b"!!REQUEST_METADATA#a#b\n",
        b"!!REQUEST_METADATA#abc\n",
        b"!!REQUEST_METADATA#ab$=\n",
        b"!!REQUEST_METADAT\xc3\xa4#\n",
        b"!!request_metadata#\n",
        b"!!RESPONSE_METADATA#\n",
    ];
    for line in garbage {
        esxi.send(line).await;
        esxi.expect_nothing_before_barrier().await;
    }
    // IAC IAC in data is a 0xFF byte: non-ASCII, ignored.
    esxi.send(b"!!REQUEST_METADATA#\xff\xff\n").await;
    esxi.expect_nothing_before_barrier().await;
    // A valid payload and a trailing CR are fine.
    esxi.send(b"!!REQUEST_USERDATA#aGVsbG8=\r\n").await;
    let reply = esxi.reply_line().await;
    assert!(
        reply.starts_with(b"!!RESPONSE_USERDATA#"),
        "{}",
        hex(&reply)
    );
}

/// Decision 7: a line over 64 KiB closes the connection; exactly 64 KiB does not.
#[tokio::test]
async fn overlong_lines_close_the_connection() {
    let shared = super::shared_with_minimal("vm-long");
    let mut esxi = Esxi::source(shared.vspc, "postern", "vm-long").await;
    esxi.send(&vec![b'x'; 65536]).await;
    esxi.send(b"\n").await;
    esxi.expect_nothing_before_barrier().await;
    esxi.send(&vec![b'x'; 65537]).await;
    esxi.expect_closed().await;
}

/// Decision 9: names that could leave the directory are refused.
#[tokio::test]
async fn unsafe_vm_names_get_no_reply() {
    let shared = support_with_outside_file();
    for name in ["../outside", ".hidden", "a/b", "a\\b", ""] {
        let mut esxi = Esxi::connect(shared.vspc).await;
        esxi.negotiate().await;
        esxi.identify(name.as_bytes()).await;
        esxi.send(b"!!REQUEST_METADATA#\n").await;
        esxi.expect_nothing_before_barrier().await;
    }
}

fn support_with_outside_file() -> &'static crate::support::Shared {
    let shared = crate::support::shared();
    // A valid file just outside the VM directory: `../outside` must not reach it.
    std::fs::write(shared.vm_dir.join("../outside.yaml"), super::MINIMAL).unwrap();
    std::fs::write(shared.vm_dir.join(".hidden.yaml"), super::MINIMAL).unwrap();
    shared
}
