//! The ESXi-like handshake of spec 4.6. Postern is a passive server: it only
//! answers, so each step is sent after the previous step's answer arrived,
//! and the answers are compared byte for byte.

use anyhow::{Context, Result};

use super::session::Session;

const IAC: u8 = 0xFF;
const SB: u8 = 0xFA;
const SE: u8 = 0xF0;
/// VMWARE-TELNET-EXT.
const EXT: u8 = 0xE8;

const STEP1_SEND: &[u8] = &[0xFF, 0xFB, 0x25]; // WILL AUTHENTICATION
const STEP1_ANSWER: &[u8] = &[0xFF, 0xFE, 0x25]; // DONT AUTHENTICATION

// WILL BINARY, WILL SGA, DO BINARY, DO SGA, WILL VMWARE-TELNET-EXT
const STEP2_SEND: &[u8] = &[
    0xFF, 0xFB, 0x00, 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0xE8,
];
const STEP2_ANSWER: &[u8] = &[
    0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0x00, 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0xE8,
];

/// KNOWN-SUBOPTIONS-1 as a real ESXi sends it (spec 2.2).
const KS1: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x28, 0x29, 0x2B, 0x2C, 0x2D, 0x2E, 0x30, 0x46, 0x47, 0x49, 0x50, 0x51,
    0x54, 0x55, 0x56, 0x57, 0x52, 0x53,
];
/// KS2 + GET-VM-NAME (spec 4.2), then WILL-PROXY for the DO-PROXY.
const STEP3_ANSWER: &[u8] = &[
    0xFF, 0xFA, 0xE8, 0x01, 0x00, 0x01, 0x28, 0x29, 0x2B, 0x2C, 0x2D, 0x2E, 0x30, 0x50, 0x51, 0x52,
    0x54, 0x55, 0x53, 0x46, 0x47, 0x49, 0xFF, 0xF0, 0xFF, 0xFA, 0xE8, 0x53, 0xFF, 0xF0, 0xFF, 0xFA,
    0xE8, 0x47, 0xFF, 0xF0,
];

const BIOS_UUID: &[u8] = b"42 1b 41 87 bc b4 3d c1-e7 d7 c9 49 6d 3f dc a9";
const VC_UUID: &[u8] = b"50 1b 8b de 95 da 47 2a-4d 2d 9d 97 ea 39 4b bc";
const GET_BIOS_UUID: &[u8] = &[0xFF, 0xFA, 0xE8, 0x55, 0xFF, 0xF0];
const GET_VC_UUID: &[u8] = &[0xFF, 0xFA, 0xE8, 0x51, 0xFF, 0xF0];

/// `IAC SB E8 <cmd> <payload> IAC SE`, with 0xFF in the payload doubled
/// (RFC 855) as ESXi does.
fn subcommand(cmd: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, EXT, cmd];
    for &b in payload {
        out.push(b);
        if b == IAC {
            out.push(IAC);
        }
    }
    out.extend_from_slice(&[IAC, SE]);
    out
}

/// The bytes of every step, built once per run and shared by all connections.
pub struct Script {
    steps: Vec<(&'static str, Vec<u8>, &'static [u8])>,
}

impl Script {
    pub fn new(uri: &[u8], vm: &[u8]) -> Script {
        // KS1 and DO-PROXY go out in one write, as ESXi does.
        let mut step3 = subcommand(0x00, KS1);
        let mut proxy = vec![b'C'];
        proxy.extend_from_slice(uri);
        step3.extend(subcommand(0x46, &proxy));
        Script {
            steps: vec![
                ("1 (WILL AUTHENTICATION)", STEP1_SEND.to_vec(), STEP1_ANSWER),
                ("2 (option negotiation)", STEP2_SEND.to_vec(), STEP2_ANSWER),
                ("3 (KNOWN-SUBOPTIONS-1 + DO-PROXY)", step3, STEP3_ANSWER),
                ("4 (VM-NAME)", subcommand(0x52, vm), GET_BIOS_UUID),
                ("5 (VM-BIOS-UUID)", subcommand(0x54, BIOS_UUID), GET_VC_UUID),
                // The VC UUID ends the chain: the server answers nothing.
                ("6 (VM-VC-UUID)", subcommand(0x50, VC_UUID), &[]),
            ],
        }
    }

    /// What the client sends at each step and the answer it expects; for
    /// mock servers in tests.
    pub fn exchanges(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.steps
            .iter()
            .map(|(_, send, answer)| (&send[..], *answer))
    }

    /// Performs all six steps; on return the VM is identified and request
    /// lines will be answered.
    pub async fn run(&self, session: &mut Session) -> Result<()> {
        for (name, send, answer) in &self.steps {
            session
                .send(send)
                .await
                .with_context(|| format!("handshake step {name}"))?;
            if !answer.is_empty() {
                session
                    .expect(answer)
                    .await
                    .with_context(|| format!("handshake step {name}"))?;
            }
        }
        Ok(())
    }
}

/// Convenience for one-off handshakes (the probe).
pub async fn run(session: &mut Session, uri: &[u8], vm: &[u8]) -> Result<()> {
    Script::new(uri, vm).run(session).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_ff_is_doubled() {
        assert_eq!(
            subcommand(0x52, &[0x61, 0xFF]),
            vec![0xFF, 0xFA, 0xE8, 0x52, 0x61, 0xFF, 0xFF, 0xFF, 0xF0]
        );
    }

    #[test]
    fn step3_matches_the_spec_vector() {
        let s = Script::new(b"postern", b"vm");
        let mut want = vec![0xFF, 0xFA, 0xE8, 0x00];
        want.extend_from_slice(KS1);
        want.extend_from_slice(&[0xFF, 0xF0, 0xFF, 0xFA, 0xE8, 0x46, 0x43]);
        want.extend_from_slice(b"postern");
        want.extend_from_slice(&[0xFF, 0xF0]);
        assert_eq!(s.steps[2].1, want);
    }
}
