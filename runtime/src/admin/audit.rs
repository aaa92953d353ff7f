//! The audit trail of the admin API: one log line per change or refused
//! change, the same on both protocols, saying who asked for what and how it
//! ended.

use std::fmt::Display;
use std::net::SocketAddr;

/// One change asked through the admin API.
pub struct Audit<'a> {
    pub protocol: &'static str,
    pub peer: Option<SocketAddr>,
    /// The operation, named as the gRPC method is (the same on HTTP).
    pub action: &'static str,
    pub module: Option<&'a str>,
    pub workflow: Option<&'a str>,
}

impl<'a> Audit<'a> {
    pub fn module(
        protocol: &'static str,
        peer: Option<SocketAddr>,
        action: &'static str,
        module: &'a str,
    ) -> Self {
        Self {
            protocol,
            peer,
            action,
            module: Some(module),
            workflow: None,
        }
    }

    pub fn workflow(
        protocol: &'static str,
        peer: Option<SocketAddr>,
        action: &'static str,
        workflow: &'a str,
    ) -> Self {
        Self {
            protocol,
            peer,
            action,
            module: None,
            workflow: Some(workflow),
        }
    }

    /// Logs the outcome; `version` is the one asked for or the one made.
    pub fn record<T, E: Display>(&self, version: Option<&str>, result: &Result<T, E>) {
        let peer = self.peer.map(|p| p.to_string());
        match result {
            Ok(_) => tracing::info!(
                protocol = self.protocol,
                peer,
                action = self.action,
                module = self.module,
                workflow = self.workflow,
                version,
                outcome = "done",
                "admin: change"
            ),
            Err(error) => tracing::info!(
                protocol = self.protocol,
                peer,
                action = self.action,
                module = self.module,
                workflow = self.workflow,
                version,
                outcome = "refused",
                %error,
                "admin: change"
            ),
        }
    }
}

/// A request without the right token (someone on the host guessing, or a
/// client with a stale token).
pub fn unauthenticated(protocol: &'static str, peer: Option<SocketAddr>, target: &str) {
    let peer = peer.map(|p| p.to_string());
    tracing::warn!(
        protocol,
        peer,
        target,
        "admin: refused a request without a valid bearer token"
    );
}
