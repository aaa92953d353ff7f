//! vMotion (spec 5.2): stored secret, validated PEER, PEER-OK with the
//! sequence only, NOTNOW while one runs, ABORT keeps the connection, replies
//! queued during the migration go to the destination.

use super::esxi::*;

/// Reads a GOAHEAD frame (`IAC SB E8 29 <seq> <secret> IAC SE`, 0xFF
/// doubled) and returns its unescaped payload, `sequence ‖ secret`.
async fn goahead(esxi: &mut Esxi, sequence: &[u8]) -> Vec<u8> {
    esxi.expect(&[IAC, SB, 0xE8, 0x29]).await;
    let mut payload = Vec::new();
    loop {
        let byte = esxi.next_bytes(1).await[0];
        if byte != IAC {
            payload.push(byte);
            continue;
        }
        match esxi.next_bytes(1).await[0] {
            IAC => payload.push(IAC),
            SE => break,
            other => panic!("IAC {other:02X} inside GOAHEAD"),
        }
    }
    assert_eq!(
        payload.len(),
        8,
        "sequence and a 4-byte secret: {}",
        hex(&payload)
    );
    assert_eq!(&payload[..4], sequence);
    payload
}

#[tokio::test]
async fn migration_hands_queued_replies_to_the_destination() {
    let shared = super::shared_with_minimal("vm-vmotion");
    let mut source = Esxi::source(shared.vspc, "postern", "vm-vmotion").await;
    let sequence = [0x76, 0x19, 0xFF, 0xE9];
    source.send(&vmware(0x28, &sequence)).await;
    let key = goahead(&mut source, &sequence).await;

    // Requests on the source during the migration are queued, not answered.
    source.send(b"!!REQUEST_USERDATA#\n").await;
    source.expect_nothing_before_barrier().await;
    // A second BEGIN while one is in progress: NOTNOW with its sequence.
    source.send(&vmware(0x28, &[1, 2, 3, 4])).await;
    source.expect(&vmware(0x2B, &[1, 2, 3, 4])).await;

    let mut destination = Esxi::connect(shared.vspc).await;
    destination.negotiate().await;
    let mut segment = vmware(0x00, &ESXI_KS1);
    segment.extend(vmware(0x2C, &key));
    segment.extend([0xFF, 0xFB, 0x2C]);
    destination.send(&segment).await;
    destination.expect(KS2_AND_GET_NAME).await;
    destination.expect(&vmware(0x2D, &sequence)).await;
    destination.expect(&[0xFF, 0xFE, 0x2C]).await;
    destination.identify(b"vm-vmotion").await;
    destination.send(&vmware(0x2E, &sequence)).await;
    let queued = destination.reply_line().await;
    assert!(
        queued.starts_with(b"!!RESPONSE_USERDATA#"),
        "{}",
        hex(&queued)
    );
    // The destination is an ordinary identified connection afterwards.
    assert!(
        destination
            .request("REQUEST_METADATA")
            .await
            .starts_with(b"!!RESPONSE_METADATA#")
    );
}

#[tokio::test]
async fn abort_keeps_the_connection_and_flushes_the_queue() {
    let shared = super::shared_with_minimal("vm-abort");
    let mut source = Esxi::source(shared.vspc, "postern", "vm-abort").await;
    source.send(&vmware(0x28, &[0x61, 0xED, 0x26, 0xA2])).await;
    goahead(&mut source, &[0x61, 0xED, 0x26, 0xA2]).await;
    source.send(b"!!REQUEST_METADATA#\n").await;
    source.expect_nothing_before_barrier().await;
    source.send(&vmware(0x30, &[])).await;
    assert!(
        source
            .reply_line()
            .await
            .starts_with(b"!!RESPONSE_METADATA#")
    );
    // A new BEGIN after the abort gets a fresh GOAHEAD.
    source.send(&vmware(0x28, &[9, 9, 9, 9])).await;
    goahead(&mut source, &[9, 9, 9, 9]).await;
}

#[tokio::test]
async fn peer_with_a_wrong_secret_is_ignored() {
    let shared = super::shared_with_minimal("vm-badpeer");
    let mut source = Esxi::source(shared.vspc, "postern", "vm-badpeer").await;
    source.send(&vmware(0x28, &[0xFF, 0xFF, 0xFF, 0xFF])).await;
    let key = goahead(&mut source, &[0xFF, 0xFF, 0xFF, 0xFF]).await;
    let mut wrong = key.clone();
    wrong[7] ^= 0x01;
    let mut destination = Esxi::connect(shared.vspc).await;
    destination.negotiate().await;
    destination.send(&vmware(0x2C, &wrong)).await;
    destination.expect_nothing_before_barrier().await;
    // COMPLETE without a successful PEER changes nothing.
    destination
        .send(&vmware(0x2E, &[0xFF, 0xFF, 0xFF, 0xFF]))
        .await;
    destination.expect_nothing_before_barrier().await;
    // The right key still works.
    destination.send(&vmware(0x2C, &key)).await;
    destination
        .expect(&vmware(0x2D, &[0xFF, 0xFF, 0xFF, 0xFF]))
        .await;
}
