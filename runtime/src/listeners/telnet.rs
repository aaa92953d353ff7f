//! Telnet (RFC 854/855) byte-level decoding and encoding, and RFC 1143-style
//! option state. Protocol only: which options to accept and what a
//! subnegotiation means is the workflow's business.

/// Telnet command bytes.
pub mod cmd {
    pub const IAC: u8 = 0xFF;
    pub const DONT: u8 = 0xFE;
    pub const DO: u8 = 0xFD;
    pub const WONT: u8 = 0xFC;
    pub const WILL: u8 = 0xFB;
    pub const SB: u8 = 0xFA;
    pub const SE: u8 = 0xF0;
}

const NUL: u8 = 0x00;
const DC1: u8 = 0x11;

/// One decoded element of the incoming byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelnetEvent {
    /// A run of data bytes (`IAC IAC` unescaped; NUL and DC1 removed).
    Data(Vec<u8>),
    /// `IAC WILL|WONT|DO|DONT <option>`.
    Negotiate { command: u8, option: u8 },
    /// `IAC SB <option> <payload> IAC SE`, payload unescaped.
    Subnegotiation { option: u8, payload: Vec<u8> },
    /// Any other `IAC <command>` outside a subnegotiation (NOP, GA, AYT, ...).
    Command(u8),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("subnegotiation payload longer than {limit} bytes")]
    SubnegotiationTooLong { limit: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Negotiate(u8),
    SbOption,
    Sb,
    SbIac,
    /// Inside SB after `IAC WILL|WONT|DO|DONT`: the option byte is skipped.
    SbSkipOption,
}

/// Incremental decoder: bytes may arrive split at any point.
#[derive(Debug)]
pub struct TelnetDecoder {
    state: State,
    sb_option: u8,
    sb_payload: Vec<u8>,
    max_subnegotiation: usize,
}

impl TelnetDecoder {
    pub fn new(max_subnegotiation: usize) -> Self {
        Self {
            state: State::Data,
            sb_option: 0,
            sb_payload: Vec::new(),
            max_subnegotiation,
        }
    }

    /// Decodes `input`, appending events to `events`. Adjacent data bytes are
    /// merged into one `Data` event.
    pub fn feed(&mut self, input: &[u8], events: &mut Vec<TelnetEvent>) -> Result<(), DecodeError> {
        for &byte in input {
            match self.state {
                State::Data => match byte {
                    cmd::IAC => self.state = State::Iac,
                    // Like telnetlib (and so the seed), NUL and XON are line noise.
                    NUL | DC1 => {}
                    _ => push_data(events, byte),
                },
                State::Iac => {
                    self.state = State::Data;
                    match byte {
                        cmd::IAC => push_data(events, cmd::IAC),
                        cmd::WILL | cmd::WONT | cmd::DO | cmd::DONT => {
                            self.state = State::Negotiate(byte)
                        }
                        cmd::SB => self.state = State::SbOption,
                        // A stray SE outside a subnegotiation means nothing.
                        cmd::SE => {}
                        other => events.push(TelnetEvent::Command(other)),
                    }
                }
                State::Negotiate(command) => {
                    events.push(TelnetEvent::Negotiate {
                        command,
                        option: byte,
                    });
                    self.state = State::Data;
                }
                State::SbOption => {
                    self.sb_option = byte;
                    self.sb_payload.clear();
                    self.state = State::Sb;
                }
                State::Sb => {
                    if byte == cmd::IAC {
                        self.state = State::SbIac;
                    } else {
                        self.push_sb(byte)?;
                    }
                }
                State::SbIac => match byte {
                    cmd::IAC => {
                        self.push_sb(cmd::IAC)?;
                        self.state = State::Sb;
                    }
                    cmd::SE => {
                        events.push(TelnetEvent::Subnegotiation {
                            option: self.sb_option,
                            payload: std::mem::take(&mut self.sb_payload),
                        });
                        self.state = State::Data;
                    }
                    cmd::WILL | cmd::WONT | cmd::DO | cmd::DONT => self.state = State::SbSkipOption,
                    other => {
                        tracing::debug!(
                            command = other,
                            "telnet command inside a subnegotiation ignored"
                        );
                        self.state = State::Sb;
                    }
                },
                State::SbSkipOption => {
                    tracing::debug!(
                        option = byte,
                        "telnet negotiation inside a subnegotiation ignored"
                    );
                    self.state = State::Sb;
                }
            }
        }
        Ok(())
    }

    fn push_sb(&mut self, byte: u8) -> Result<(), DecodeError> {
        if self.sb_payload.len() >= self.max_subnegotiation {
            return Err(DecodeError::SubnegotiationTooLong {
                limit: self.max_subnegotiation,
            });
        }
        self.sb_payload.push(byte);
        Ok(())
    }
}

fn push_data(events: &mut Vec<TelnetEvent>, byte: u8) {
    if let Some(TelnetEvent::Data(run)) = events.last_mut() {
        run.push(byte);
    } else {
        events.push(TelnetEvent::Data(vec![byte]));
    }
}

/// `IAC <command> <option>`.
pub fn negotiation(command: u8, option: u8) -> [u8; 3] {
    [cmd::IAC, command, option]
}

/// `IAC SB <option> <payload> IAC SE` with every 0xFF in the payload doubled.
pub fn subnegotiation(option: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 5);
    out.extend_from_slice(&[cmd::IAC, cmd::SB, option]);
    append_escaped(&mut out, payload);
    out.extend_from_slice(&[cmd::IAC, cmd::SE]);
    out
}

/// Appends `bytes` with every 0xFF doubled (data and SB payloads alike).
pub fn append_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(b);
        if b == cmd::IAC {
            out.push(cmd::IAC);
        }
    }
}

/// Which options we enable on request; everything else is refused.
#[derive(Debug, Clone, Copy)]
pub struct OptionPolicy {
    /// Options we agree to perform ourselves (`DO x` is answered `WILL x`).
    pub local: &'static [u8],
    /// Options we let the peer perform (`WILL x` is answered `DO x`).
    pub remote: &'static [u8],
}

/// Per-connection option state, so that a request for an option already in
/// effect is not acknowledged again (no acknowledgement loops). Refusals are
/// sent every time, as they change no state.
#[derive(Debug)]
pub struct Negotiator {
    policy: OptionPolicy,
    local_on: [bool; 256],
    remote_on: [bool; 256],
}

impl Negotiator {
    pub fn new(policy: OptionPolicy) -> Self {
        Self {
            policy,
            local_on: [false; 256],
            remote_on: [false; 256],
        }
    }

    /// The answer to `IAC <command> <option>`, if any.
    pub fn answer(&mut self, command: u8, option: u8) -> Option<[u8; 3]> {
        let index = usize::from(option);
        match command {
            cmd::DO if self.policy.local.contains(&option) => {
                (!std::mem::replace(&mut self.local_on[index], true))
                    .then(|| negotiation(cmd::WILL, option))
            }
            cmd::DO => Some(negotiation(cmd::WONT, option)),
            cmd::WILL if self.policy.remote.contains(&option) => {
                (!std::mem::replace(&mut self.remote_on[index], true))
                    .then(|| negotiation(cmd::DO, option))
            }
            cmd::WILL => Some(negotiation(cmd::DONT, option)),
            cmd::DONT => {
                self.local_on[index] = false;
                None
            }
            cmd::WONT => {
                self.remote_on[index] = false;
                None
            }
            _ => None,
        }
    }
}
