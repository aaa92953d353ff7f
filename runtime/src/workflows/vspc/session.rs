//! One ESXi connection: telnet negotiation, the VMware extension, the
//! identification chain, vMotion, and the request lines (spec 4–7).

use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};

use super::Vspc;
use super::driver::FileRefusal;
use super::guest::{GuestAnswer, RefusalKind, VmIdentity};
use super::packet::{self, RequestCode};
use super::policy_subject;
use super::vmotion::{ConnectionId, VmotionKey};
use super::vmware::*;
use crate::listeners::tcp::{Accepted, BoxedIo};
use crate::listeners::telnet::{self, Negotiator, OptionPolicy, TelnetDecoder, TelnetEvent};
use crate::policy::ChainOutcome;
use crate::shutdown::Shutdown;

const BINARY: u8 = 0x00;
const SGA: u8 = 0x03;

/// We perform BINARY and SGA on request, and let ESXi enable BINARY, SGA and
/// the VMware extension; everything else (ECHO, AUTHENTICATION, COM-PORT, …)
/// is refused (spec 4.1, 4.5).
const POLICY: OptionPolicy = OptionPolicy {
    local: &[BINARY, SGA],
    remote: &[BINARY, SGA, VMWARE_EXT],
};

/// Why a connection ends; the `reason` label of `postern_vspc_closed_total`.
#[derive(Debug, Clone, Copy)]
enum Close {
    Peer,
    LineTooLong,
    IdentifyTimeout,
    ProxyRefused,
    SubnegotiationTooLong,
    Shutdown,
    Io,
}

impl Close {
    fn reason(self) -> &'static str {
        match self {
            Close::Peer => "peer",
            Close::LineTooLong => "line_too_long",
            Close::IdentifyTimeout => "identify_timeout",
            Close::ProxyRefused => "proxy_refused",
            Close::SubnegotiationTooLong => "sb_too_long",
            Close::Shutdown => "shutdown",
            Close::Io => "io_error",
        }
    }
}

type Flow = Result<(), Close>;

#[derive(Default)]
struct Identity {
    name: Option<Vec<u8>>,
    bios_uuid: Option<String>,
    vc_uuid: Option<String>,
    location_uuid: Option<String>,
}

pub(super) struct Session {
    vspc: Arc<Vspc>,
    id: ConnectionId,
    peer: std::net::SocketAddr,
    writer: WriteHalf<BoxedIo>,
    negotiator: Negotiator,
    line: Vec<u8>,
    identity: Identity,
    /// The migration this connection started as its source, while it runs.
    migrating: Option<VmotionKey>,
    /// The migration this connection joined as its destination.
    joined: Option<VmotionKey>,
}

pub(super) async fn serve(vspc: Arc<Vspc>, accepted: Accepted, shutdown: Shutdown) {
    let Accepted {
        io,
        peer,
        accepted_at,
    } = accepted;
    let (reader, writer) = tokio::io::split(io);
    let id = vspc.next_connection_id();
    vspc.metrics.connections.inc();
    let mut session = Session {
        vspc: Arc::clone(&vspc),
        id,
        peer,
        writer,
        negotiator: Negotiator::new(POLICY),
        line: Vec::new(),
        identity: Identity::default(),
        migrating: None,
        joined: None,
    };
    let close = session.run(reader, accepted_at, shutdown).await;
    tracing::debug!(reason = close.reason(), "connection closed");
    vspc.metrics.closed(close.reason());
    vspc.metrics.connections.dec();
    if session.identity.name.is_some() {
        vspc.metrics.identified.dec();
    }
    let _ = session.writer.shutdown().await;
}

impl Session {
    async fn run(
        &mut self,
        mut reader: ReadHalf<BoxedIo>,
        accepted_at: Instant,
        shutdown: Shutdown,
    ) -> Close {
        let identify_deadline =
            tokio::time::Instant::from_std(accepted_at + self.vspc.config.identify_timeout);
        let mut decoder = TelnetDecoder::new(self.vspc.config.max_line_bytes);
        let mut buffer = vec![0u8; 16 * 1024];
        let mut events = Vec::new();
        loop {
            let read = async {
                if self.identity.name.is_some() {
                    Ok(reader.read(&mut buffer).await)
                } else {
                    tokio::time::timeout_at(identify_deadline, reader.read(&mut buffer)).await
                }
            };
            let read = tokio::select! {
                _ = shutdown.requested() => return Close::Shutdown,
                read = read => read,
            };
            let count = match read {
                Err(_elapsed) => {
                    tracing::info!("VM did not identify itself in time; closing");
                    return Close::IdentifyTimeout;
                }
                Ok(Ok(0)) => return Close::Peer,
                Ok(Ok(count)) => count,
                Ok(Err(error)) => {
                    tracing::debug!(%error, "read failed");
                    return Close::Io;
                }
            };
            events.clear();
            let decoded = decoder.feed(&buffer[..count], &mut events);
            // Events decoded before an oversized subnegotiation still count.
            for event in events.drain(..) {
                if let Err(close) = self.handle(event).await {
                    return close;
                }
            }
            if let Err(error) = decoded {
                tracing::warn!(%error, "closing");
                return Close::SubnegotiationTooLong;
            }
        }
    }

    async fn handle(&mut self, event: TelnetEvent) -> Flow {
        match event {
            TelnetEvent::Data(bytes) => self.data(&bytes).await,
            TelnetEvent::Negotiate { command, option } => {
                match self.negotiator.answer(command, option) {
                    Some(answer) => self.write(&answer).await,
                    None => Ok(()),
                }
            }
            TelnetEvent::Subnegotiation {
                option: VMWARE_EXT,
                payload,
            } => self.vmware(&payload).await,
            TelnetEvent::Subnegotiation { option, .. } => {
                tracing::debug!(option, "subnegotiation of an unsupported option ignored");
                Ok(())
            }
            TelnetEvent::Command(command) => {
                tracing::trace!(command, "telnet command ignored");
                Ok(())
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Flow {
        self.writer.write_all(bytes).await.map_err(|_| Close::Io)?;
        self.writer.flush().await.map_err(|_| Close::Io)
    }

    async fn send_vmware(&mut self, command: u8, payload: &[u8]) -> Flow {
        let mut message = Vec::with_capacity(payload.len() + 1);
        message.push(command);
        message.extend_from_slice(payload);
        self.write(&telnet::subnegotiation(VMWARE_EXT, &message))
            .await
    }

    // ---- the VMware extension --------------------------------------------

    async fn vmware(&mut self, payload: &[u8]) -> Flow {
        let Some((&command, data)) = payload.split_first() else {
            tracing::debug!("empty VMware subnegotiation ignored");
            return Ok(());
        };
        match command {
            KNOWN_SUBOPTIONS_1 => {
                tracing::debug!(known = ?data, "VM's known suboptions");
                let mut answer = telnet::subnegotiation(
                    VMWARE_EXT,
                    &[&[KNOWN_SUBOPTIONS_2][..], &KNOWN_SUBOPTIONS_2_LIST].concat(),
                );
                answer.extend(telnet::subnegotiation(VMWARE_EXT, &[GET_VM_NAME]));
                self.write(&answer).await
            }
            UNKNOWN_SUBOPTION_RCVD_1 => {
                tracing::info!(code = ?data, "VM did not understand a suboption");
                Ok(())
            }
            DO_PROXY => self.do_proxy(data).await,
            VM_NAME => {
                if self.identity.name.is_none() {
                    self.vspc.metrics.identified.inc();
                }
                tracing::info!(vm = %String::from_utf8_lossy(data), "VM identified");
                self.identity.name = Some(data.to_vec());
                self.send_vmware(GET_VM_BIOS_UUID, &[]).await
            }
            VM_BIOS_UUID => {
                self.identity.bios_uuid = self.uuid("BIOS", data);
                self.send_vmware(GET_VM_VC_UUID, &[]).await
            }
            VM_VC_UUID => {
                self.identity.vc_uuid = self.uuid("VC", data);
                Ok(())
            }
            VM_LOCATION_UUID => {
                self.identity.location_uuid = self.uuid("location", data);
                Ok(())
            }
            VMOTION_BEGIN => self.vmotion_begin(data).await,
            VMOTION_PEER => self.vmotion_peer(data).await,
            VMOTION_COMPLETE => self.vmotion_complete(data).await,
            VMOTION_ABORT => self.vmotion_abort().await,
            unknown => {
                tracing::info!(code = unknown, "unknown VMware suboption");
                self.send_vmware(UNKNOWN_SUBOPTION_RCVD_2, &[unknown]).await
            }
        }
    }

    fn uuid(&self, which: &str, data: &[u8]) -> Option<String> {
        let uuid = parse_uuid(data);
        if uuid.is_none() {
            tracing::warn!(which, payload = %String::from_utf8_lossy(data), "malformed UUID ignored");
        }
        uuid
    }

    async fn do_proxy(&mut self, data: &[u8]) -> Flow {
        let config = &self.vspc.config;
        let accepted = data.split_first().is_some_and(|(direction, uri)| {
            config.proxy_directions.contains(direction) && uri == config.uri.as_bytes()
        });
        if accepted {
            return self.send_vmware(WILL_PROXY, &[]).await;
        }
        tracing::warn!(request = %String::from_utf8_lossy(data), "DO-PROXY refused (direction or service URI); closing");
        self.send_vmware(WONT_PROXY, &[]).await?;
        Err(Close::ProxyRefused)
    }

    // ---- vMotion -----------------------------------------------------------

    fn sweep_vmotions(&self) {
        for _ in 0..self.vspc.vmotions.sweep() {
            self.vspc.metrics.vmotion("expired");
        }
    }

    async fn vmotion_begin(&mut self, sequence: &[u8]) -> Flow {
        self.sweep_vmotions();
        self.vspc.metrics.vmotion("begin");
        if let Some(key) = &self.migrating
            && self.vspc.vmotions.is_active(key)
        {
            self.vspc.metrics.vmotion("notnow");
            tracing::info!("vMotion already in progress: NOTNOW");
            return self.send_vmware(VMOTION_NOTNOW, sequence).await;
        }
        let key = self.vspc.vmotions.begin(self.id, sequence);
        self.vspc.metrics.vmotion("goahead");
        tracing::info!("vMotion begins: GOAHEAD");
        self.send_vmware(VMOTION_GOAHEAD, &key).await?;
        self.migrating = Some(key);
        Ok(())
    }

    async fn vmotion_peer(&mut self, payload: &[u8]) -> Flow {
        self.sweep_vmotions();
        match self.vspc.vmotions.peer(self.id, payload) {
            Some(sequence) => {
                self.vspc.metrics.vmotion("peer_ok");
                tracing::info!("vMotion destination joined: PEER-OK");
                self.joined = Some(payload.to_vec());
                self.send_vmware(VMOTION_PEER_OK, &sequence).await
            }
            None => {
                // The VMware document defines no refusal; staying silent lets
                // the source time out, as VMware's own vSPC does.
                self.vspc.metrics.vmotion("peer_unknown");
                tracing::warn!("VMOTION-PEER with an unknown sequence or secret ignored");
                Ok(())
            }
        }
    }

    async fn vmotion_complete(&mut self, sequence: &[u8]) -> Flow {
        let completed = self
            .joined
            .as_ref()
            .and_then(|key| self.vspc.vmotions.complete(self.id, key, sequence));
        let Some(queued) = completed else {
            tracing::warn!("VMOTION-COMPLETE matching no migration ignored");
            return Ok(());
        };
        self.joined = None;
        self.vspc.metrics.vmotion("complete");
        tracing::info!(queued = queued.len(), "vMotion complete");
        for reply in queued {
            self.write(&reply).await?;
        }
        Ok(())
    }

    async fn vmotion_abort(&mut self) -> Flow {
        self.vspc.metrics.vmotion("abort");
        let queued = self
            .migrating
            .take()
            .and_then(|key| self.vspc.vmotions.abort(self.id, &key));
        tracing::info!(
            queued = queued.as_ref().map_or(0, Vec::len),
            "vMotion aborted; connection kept"
        );
        for reply in queued.unwrap_or_default() {
            self.write(&reply).await?;
        }
        Ok(())
    }

    // ---- request lines -----------------------------------------------------

    async fn data(&mut self, bytes: &[u8]) -> Flow {
        let mut rest = bytes;
        while let Some(newline) = rest.iter().position(|b| *b == b'\n') {
            self.extend_line(&rest[..newline])?;
            let line = std::mem::take(&mut self.line);
            self.request_line(&line).await?;
            self.line = line;
            self.line.clear();
            rest = &rest[newline + 1..];
        }
        self.extend_line(rest)
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Flow {
        if self.line.len() + bytes.len() > self.vspc.config.max_line_bytes {
            tracing::warn!(
                limit = self.vspc.config.max_line_bytes,
                "line too long; closing"
            );
            return Err(Close::LineTooLong);
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    async fn request_line(&mut self, line: &[u8]) -> Flow {
        let Some(name) = self.identity.name.clone() else {
            tracing::debug!("line before identification dropped");
            self.vspc.metrics.ignored("not_identified");
            return Ok(());
        };
        let code = match packet::parse_line(line) {
            Ok(code) => code,
            Err(ignored) => {
                tracing::debug!(reason = ignored.reason(), line = %String::from_utf8_lossy(line), "console line ignored");
                self.vspc.metrics.ignored(ignored.reason());
                return Ok(());
            }
        };
        let span = tracing::info_span!("request", code = code.label(), vm = %String::from_utf8_lossy(&name));
        let reply = tracing::Instrument::instrument(self.answer(code, &name), span).await;
        match reply {
            Some(reply) => self.deliver(reply).await,
            None => Ok(()),
        }
    }

    /// The reply line for `code`, or `None` (logged and counted) when the
    /// file is missing or refused or the guest failed.
    async fn answer(&self, code: RequestCode, name: &[u8]) -> Option<Vec<u8>> {
        let metrics = &self.vspc.metrics;
        let (name, file) = match self.vspc.driver.read(name) {
            Ok(found) => found,
            Err(refusal) => {
                match refusal {
                    FileRefusal::UnsafeName => {
                        tracing::warn!("VM name is not a safe file name; no reply")
                    }
                    _ => tracing::warn!(
                        outcome = refusal.outcome(),
                        "no usable metadata file; no reply"
                    ),
                }
                metrics.request(code.label(), refusal.outcome());
                return None;
            }
        };
        let vm = VmIdentity {
            name,
            bios_uuid: self.identity.bios_uuid.clone(),
            vc_uuid: self.identity.vc_uuid.clone(),
            location_uuid: self.identity.location_uuid.clone(),
        };
        let guest = self.vspc.guest.current();
        match guest.respond(code, vm.clone(), file).await {
            Ok(GuestAnswer::Body(body)) => {
                let body = self.apply_policies(code, &vm, body).await?;
                metrics.request(code.label(), "replied");
                Some(packet::reply_line(code, &body))
            }
            Ok(GuestAnswer::Refused(refusal)) => {
                let outcome = match refusal.kind {
                    RefusalKind::InvalidYaml => "invalid_yaml",
                    RefusalKind::InvalidData => "invalid_data",
                };
                tracing::warn!(
                    peer = %self.peer,
                    outcome,
                    reasons = %refusal.messages.join("; "),
                    "metadata file refused; no reply"
                );
                metrics.request(code.label(), outcome);
                None
            }
            Err(error) => {
                tracing::error!(%error, "guest call failed; no reply");
                metrics.request(code.label(), "guest_failed");
                None
            }
        }
    }

    /// The answer after the workflow's policy chain, or `None` (logged and
    /// counted) when a policy denied it or failed.
    async fn apply_policies(
        &self,
        code: RequestCode,
        vm: &VmIdentity,
        body: String,
    ) -> Option<String> {
        let policies = &self.vspc.policies;
        if policies.is_empty() {
            return Some(body);
        }
        let subject = policy_subject::subject(code, vm, &body);
        let outcome = match policies
            .evaluate(policy_subject::SUBJECT_KIND, subject)
            .await
        {
            ChainOutcome::Allowed { mutated: None } => return Some(body),
            ChainOutcome::Allowed {
                mutated: Some(json),
            } => match policy_subject::mutated_answer(&json) {
                Ok(answer) => return Some(answer),
                Err(reason) => {
                    tracing::error!(peer = %self.peer, %reason, "a policy mutated the answer into an invalid subject; no reply");
                    "policy_failed"
                }
            },
            ChainOutcome::Denied { module, reasons } => {
                tracing::warn!(peer = %self.peer, %module, reasons = %reasons.join("; "), "policy denied the answer; no reply");
                "policy_denied"
            }
            ChainOutcome::Failed { module, error } => {
                tracing::error!(peer = %self.peer, %module, %error, "policy failed; no reply");
                "policy_failed"
            }
        };
        self.vspc.metrics.request(code.label(), outcome);
        None
    }

    /// Writes a reply, or queues it while this connection's VM migrates.
    async fn deliver(&mut self, reply: Vec<u8>) -> Flow {
        let reply = match &self.migrating {
            Some(key) => match self.vspc.vmotions.queue(key, reply) {
                Ok(()) => return Ok(()),
                Err(reply) => {
                    self.migrating = None;
                    reply
                }
            },
            None => reply,
        };
        self.write(&reply).await
    }
}
