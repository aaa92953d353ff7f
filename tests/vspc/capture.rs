//! Replays the ESXi→vSPC bytes of VMware's four captured connections into
//! Postern's telnet decoder and checks the decoded events (spec 11.1 step 10).

use postern::listeners::telnet::{TelnetDecoder, TelnetEvent, cmd};

use crate::support;

fn streams() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(support::golden("vspc/esxi-capture.hex.txt")).unwrap();
    let mut streams = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "stream" {
            streams.push(support::hex_decode(lines.next().unwrap()));
        } else if let Some(hex) = line.strip_prefix("stream ") {
            streams.push(support::hex_decode(hex));
        }
    }
    streams
}

fn decode(bytes: &[u8]) -> Vec<TelnetEvent> {
    let mut decoder = TelnetDecoder::new(65536);
    let mut events = Vec::new();
    // Byte by byte, as ESXi's guest data arrives.
    for b in bytes {
        decoder.feed(std::slice::from_ref(b), &mut events).unwrap();
    }
    events
}

fn vmware_commands(events: &[TelnetEvent]) -> Vec<(u8, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            TelnetEvent::Subnegotiation {
                option: 0xE8,
                payload,
            } => Some((payload[0], payload[1..].to_vec())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_four_captured_esxi_connections_decode() {
    let streams = streams();
    assert_eq!(streams.len(), 4, "four connections in the capture");
    for events in streams.iter().map(|s| decode(s)) {
        assert_eq!(
            events[0],
            TelnetEvent::Negotiate {
                command: cmd::WILL,
                option: 0x25
            },
            "ESXi opens with WILL AUTH"
        );
        assert!(events.contains(&TelnetEvent::Negotiate {
            command: cmd::WILL,
            option: 0xE8
        }));
        let commands = vmware_commands(&events);
        assert_eq!(commands[0].0, 0x00, "KS1 first");
        assert_eq!(commands[0].1.len(), 22);
    }
    let source = vmware_commands(&decode(&streams[0]));
    assert!(
        source.contains(&(0x46, b"SvSPC.py".to_vec())),
        "DO-PROXY S vSPC.py"
    );
    assert!(source.contains(&(0x52, b"vm-00000".to_vec())));
    assert!(source.contains(&(0x28, vec![0x44, 0xDA, 0x87, 0xF1])));
    let data: Vec<u8> = decode(&streams[0])
        .into_iter()
        .filter_map(|e| {
            if let TelnetEvent::Data(d) = e {
                Some(d)
            } else {
                None
            }
        })
        .flatten()
        .collect();
    assert_eq!(
        data,
        (0x20..=0x38).collect::<Vec<u8>>(),
        "the guest's counter bytes"
    );
    let all: Vec<(u8, Vec<u8>)> = streams
        .iter()
        .flat_map(|s| vmware_commands(&decode(s)))
        .collect();
    assert!(
        all.contains(&(0x28, vec![0x76, 0x19, 0xFF, 0xE9])),
        "BEGIN with an escaped 0xFF"
    );
    assert!(all.contains(&(0x30, vec![])), "ABORT");
    assert!(
        all.iter().any(|(c, p)| *c == 0x2C && p.len() == 8),
        "a destination's PEER"
    );
}
