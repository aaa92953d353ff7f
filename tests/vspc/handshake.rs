use super::esxi::*;
use crate::support;

/// Spec 4.6: the seed's (and Postern's) exact answers to an ESXi handshake.
#[tokio::test]
async fn handshake_bytes_are_exactly_the_seeds() {
    let shared = support::shared();
    let mut esxi = Esxi::connect(shared.vspc).await;
    esxi.send(&[0xFF, 0xFB, 0x25]).await;
    esxi.expect(&[0xFF, 0xFE, 0x25]).await;
    esxi.send(&[
        0xFF, 0xFB, 0x00, 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0xE8,
    ])
    .await;
    esxi.expect(&[
        0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0x00, 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0xE8,
    ])
    .await;
    esxi.proxy(b'C', b"postern").await;
    esxi.expect(KS2_AND_GET_NAME).await;
    esxi.expect(&[0xFF, 0xFA, 0xE8, 0x47, 0xFF, 0xF0]).await;
    esxi.send(&vmware(0x52, b"vm-handshake")).await;
    esxi.expect(&[0xFF, 0xFA, 0xE8, 0x55, 0xFF, 0xF0]).await;
    esxi.send(&vmware(0x54, BIOS_UUID)).await;
    esxi.expect(&[0xFF, 0xFA, 0xE8, 0x51, 0xFF, 0xF0]).await;
    esxi.send(&vmware(0x50, VC_UUID)).await;
    esxi.send(&[0xFF, 0xFB, 0x2C]).await;
    // VC-UUID is not answered: the next bytes are the COM-PORT refusal.
    esxi.expect(&[0xFF, 0xFE, 0x2C]).await;
}

/// Repeated requests for an option already in effect are not acknowledged
/// again; refusals are repeated; ECHO is refused.
#[tokio::test]
async fn options_are_acknowledged_once() {
    let shared = support::shared();
    let mut esxi = Esxi::connect(shared.vspc).await;
    esxi.send(&[
        0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0x01, 0xFF, 0xFD, 0x01, 0xFF, 0xFB, 0x25,
    ])
    .await;
    esxi.expect(&[
        0xFF, 0xFB, 0x00, 0xFF, 0xFC, 0x01, 0xFF, 0xFC, 0x01, 0xFF, 0xFE, 0x25,
    ])
    .await;
}

#[tokio::test]
async fn wrong_uri_or_direction_gets_wont_proxy_and_close() {
    let shared = support::shared();
    for (direction, uri) in [
        (b'C', &b"other"[..]),
        (b'S', &b"postern"[..]),
        (b'C', &b""[..]),
    ] {
        let mut esxi = Esxi::connect(shared.vspc).await;
        esxi.negotiate().await;
        esxi.proxy(direction, uri).await;
        esxi.expect(KS2_AND_GET_NAME).await;
        esxi.expect(&[0xFF, 0xFA, 0xE8, 0x49, 0xFF, 0xF0]).await;
        esxi.expect_closed().await;
    }
}

#[tokio::test]
async fn unknown_suboptions_are_answered_and_the_connection_stays() {
    let shared = super::shared_with_minimal("vm-unknown-sub");
    let mut esxi = Esxi::source(shared.vspc, "postern", "vm-unknown-sub").await;
    for code in [0x56u8, 0x01, 0xFF, 0x51] {
        esxi.send(&vmware(code, if code == 0x56 { BIOS_UUID } else { &[] }))
            .await;
        if code != 0x56 {
            esxi.expect(&vmware(0x03, &[code])).await;
        }
    }
    // UNKNOWN-SUBOPTION-RCVD-1 is only logged; an empty SB E8 is ignored.
    esxi.send(&vmware(0x02, &[0x77])).await;
    esxi.send(&[0xFF, 0xFA, 0xE8, 0xFF, 0xF0]).await;
    esxi.expect_nothing_before_barrier().await;
    assert!(
        esxi.request("REQUEST_USERDATA")
            .await
            .starts_with(b"!!RESPONSE_USERDATA#")
    );
}

/// Malformed UUIDs and a name that is not UTF-8 do not stop the chain.
#[tokio::test]
async fn malformed_identity_payloads_keep_the_chain_going() {
    let shared = support::shared();
    let mut esxi = Esxi::connect(shared.vspc).await;
    esxi.negotiate().await;
    esxi.send(&vmware(0x52, b"bad\xff\xfename")).await;
    esxi.expect(&vmware(0x55, &[])).await;
    esxi.send(&vmware(0x54, b"")).await;
    esxi.expect(&vmware(0x51, &[])).await;
    esxi.send(&vmware(0x50, b"zz")).await;
    // Not a safe file name: no reply, connection stays.
    esxi.send(b"!!REQUEST_METADATA#\n").await;
    esxi.expect_nothing_before_barrier().await;
}

#[tokio::test]
async fn identification_deadline_closes_silent_connections() {
    let server = support::TestServer::start("identify_timeout = \"300ms\"", "").await;
    let mut esxi = Esxi::connect(server.vspc).await;
    esxi.negotiate().await;
    // Lines before identification are dropped, not answered.
    esxi.send(b"!!REQUEST_METADATA#\n").await;
    esxi.expect_closed().await;
    assert!(esxi.take_pending().is_empty());
    assert_eq!(
        server
            .metric("postern_vspc_closed_total{reason=\"identify_timeout\"}")
            .await,
        1.0
    );
    assert_eq!(
        server
            .metric("postern_vspc_lines_ignored_total{reason=\"not_identified\"}")
            .await,
        1.0
    );
}

#[tokio::test]
async fn server_direction_is_accepted_when_configured() {
    let server =
        support::TestServer::start("proxy_directions = [\"C\", \"S\"]\nuri = \"vSPC.py\"", "")
            .await;
    let mut esxi = Esxi::connect(server.vspc).await;
    esxi.negotiate().await;
    esxi.proxy(b'S', b"vSPC.py").await;
    esxi.expect(KS2_AND_GET_NAME).await;
    esxi.expect(&vmware(0x47, &[])).await;
}
