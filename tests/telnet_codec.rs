//! The telnet codec in isolation: splitting, escaping, option state.

use postern::listeners::telnet::*;

fn decode_split(bytes: &[u8], split: usize) -> Vec<TelnetEvent> {
    let mut decoder = TelnetDecoder::new(64);
    let mut events = Vec::new();
    decoder.feed(&bytes[..split], &mut events).unwrap();
    decoder.feed(&bytes[split..], &mut events).unwrap();
    events
}

#[test]
fn every_split_point_decodes_the_same() {
    let stream =
        b"\xff\xfb\x25a\x00b\x11\xff\xffc\xff\xfa\xe8\x28\x76\x19\xff\xff\xe9\xff\xf0\xff\xf1\n";
    let whole = decode_split(stream, 0);
    assert_eq!(
        whole,
        vec![
            TelnetEvent::Negotiate {
                command: cmd::WILL,
                option: 0x25
            },
            TelnetEvent::Data(b"ab\xffc".to_vec()),
            TelnetEvent::Subnegotiation {
                option: 0xE8,
                payload: vec![0x28, 0x76, 0x19, 0xFF, 0xE9]
            },
            TelnetEvent::Command(0xF1),
            TelnetEvent::Data(b"\n".to_vec()),
        ]
    );
    for split in 1..stream.len() {
        let mut merged = decode_split(stream, split);
        // A split inside a data run yields two runs; merge for comparison.
        merged.dedup_by(|b, a| match (a, b) {
            (TelnetEvent::Data(a), TelnetEvent::Data(b)) => {
                a.extend_from_slice(b);
                true
            }
            _ => false,
        });
        assert_eq!(merged, whole, "split at {split}");
    }
}

#[test]
fn oversized_subnegotiation_is_an_error() {
    let mut decoder = TelnetDecoder::new(4);
    let mut events = Vec::new();
    assert_eq!(
        decoder.feed(b"\xff\xfa\xe8\x01\x02\x03\x04\x05", &mut events),
        Err(DecodeError::SubnegotiationTooLong { limit: 4 })
    );
}

#[test]
fn subnegotiation_payload_is_escaped() {
    assert_eq!(
        subnegotiation(0xE8, &[0x29, 0xFF, 0x01]),
        vec![0xFF, 0xFA, 0xE8, 0x29, 0xFF, 0xFF, 0x01, 0xFF, 0xF0]
    );
}

#[test]
fn negotiator_acknowledges_once_and_refuses_always() {
    let mut n = Negotiator::new(OptionPolicy {
        local: &[0, 3],
        remote: &[0, 3, 0xE8],
    });
    assert_eq!(n.answer(cmd::DO, 0), Some([0xFF, cmd::WILL, 0]));
    assert_eq!(n.answer(cmd::DO, 0), None);
    assert_eq!(n.answer(cmd::DO, 1), Some([0xFF, cmd::WONT, 1]));
    assert_eq!(n.answer(cmd::DO, 1), Some([0xFF, cmd::WONT, 1]));
    assert_eq!(n.answer(cmd::WILL, 0x25), Some([0xFF, cmd::DONT, 0x25]));
    assert_eq!(n.answer(cmd::WILL, 0xE8), Some([0xFF, cmd::DO, 0xE8]));
    assert_eq!(n.answer(cmd::WONT, 0xE8), None);
    assert_eq!(n.answer(cmd::WILL, 0xE8), Some([0xFF, cmd::DO, 0xE8]));
}
