//! `cv_server` (spec 15 item 2) and the CVaaS host-name hints (spec 4.3).

use std::net::{Ipv4Addr, Ipv6Addr};

/// CVaaS clusters known to pyavd (`constants.py`).
pub const CVAAS_CLUSTERS: &[&str] = &[
    "arista.io",
    "cv-prod-us-central1-a.arista.io",
    "cv-prod-us-central1-b.arista.io",
    "cv-prod-us-central1-c.arista.io",
    "cv-prod-us-4.arista.io",
    "cv-prod-apnortheast-1.arista.io",
    "cv-prod-euwest-2.arista.io",
    "cv-prod-eu-3.arista.io",
    "cv-prod-ausoutheast-1.arista.io",
    "cv-prod-na-northeast1-b.arista.io",
    "cv-prod-uk-1.arista.io",
    "cv-prod-india-1.arista.io",
    "cv-staging.corp.arista.io",
    "cv-dev.corp.arista.io",
    "cv-play.corp.arista.io",
];

/// A parsed `cv_server`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CvServer {
    /// As given in the request (REST URL, "See details" links).
    pub given: String,
    /// Host name or IP literal, without brackets.
    pub host: String,
    pub port: u16,
    pub is_ipv6: bool,
}

impl CvServer {
    /// `host:port`, with brackets around an IPv6 literal (gRPC `:authority`).
    pub fn authority(&self) -> String {
        if self.is_ipv6 {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `https://<cv_server as given>/cvpservice/cvpInfo/getCvpInfo.do`.
    pub fn preflight_url(&self) -> String {
        format!("https://{}/cvpservice/cvpInfo/getCvpInfo.do", self.given)
    }

    /// `https://<cv_server as given>/cv/provisioning/workspaces?ws=<W>`.
    pub fn workspace_url(&self, workspace_id: &str) -> String {
        format!(
            "https://{}/cv/provisioning/workspaces?ws={workspace_id}",
            self.given
        )
    }
}

/// The input-stage error text for a malformed `cv_server`.
pub fn invalid_cv_server_message(value: &str) -> String {
    format!(
        "ValueError: Invalid cv_server {}: expected <host> or <host>:<port>",
        crate::python::repr::repr_str(value)
    )
}

/// Parse `host`, `host:port`, `[v6]` or `[v6]:port` (port 1–65535, default 443).
/// The error is the full input-stage text.
pub fn parse_cv_server(value: &str) -> Result<CvServer, String> {
    let bad = || invalid_cv_server_message(value);
    let parse_port = |p: &str| -> Result<u16, String> {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
            _ => Err(bad()),
        }
    };
    if let Some(rest) = value.strip_prefix('[') {
        let (inner, after) = rest.split_once(']').ok_or_else(bad)?;
        inner.parse::<Ipv6Addr>().map_err(|_| bad())?;
        let port = match after {
            "" => 443,
            p => parse_port(p.strip_prefix(':').ok_or_else(bad)?)?,
        };
        return Ok(CvServer {
            given: value.to_owned(),
            host: inner.to_owned(),
            port,
            is_ipv6: true,
        });
    }
    let (host, port) = match value.split_once(':') {
        Some((h, p)) => (h, parse_port(p)?),
        None => (value, 443),
    };
    if !is_host(host) {
        return Err(bad());
    }
    Ok(CvServer {
        given: value.to_owned(),
        host: host.to_owned(),
        port,
        is_ipv6: false,
    })
}

/// A DNS name (letters, digits, `-`, `_`, dots between non-empty labels) or
/// an IPv4 literal.
fn is_host(h: &str) -> bool {
    if h.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    let h = h.strip_suffix('.').unwrap_or(h);
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// pyavd's hint for a gRPC `UNKNOWN` on a CVaaS host (spec 4.3), given the
/// host part of `cv_server`. `None` when no hint applies (not an
/// `arista.io` host, or a correct `www.<cluster>` API endpoint). The caller
/// checks that the version is `CVaaS`.
pub fn cvaas_hint(host: &str) -> Option<String> {
    if !host.ends_with("arista.io") {
        return None;
    }
    if let Some(cluster) = host.strip_prefix("apiserver.")
        && CVAAS_CLUSTERS.contains(&cluster)
    {
        return Some(format!(
            "CVaaS FQDN '{host}' is pointing to the streaming endpoint. Please use API endpoint 'www.{cluster}' instead."
        ));
    }
    if CVAAS_CLUSTERS.contains(&host) {
        return Some(format!(
            "CVaaS FQDN '{host}' is missing the required 'www.' prefix. Please use 'www.{host}' instead."
        ));
    }
    if let Some(cluster) = host.strip_prefix("www.")
        && CVAAS_CLUSTERS.contains(&cluster)
    {
        return None;
    }
    Some(format!(
        "Provided CVaaS FQDN '{host}' may be incorrect. Please check 'https://www.arista.io/help' for the full list of supported CVaaS clusters."
    ))
}
