//! The form of `cv_server` (spec 15, item 2): `host`, `host:port`, `[ipv6]` or `[ipv6]:port`,
//! where `host` is a DNS name or an IPv4 literal and the port is 1–65535.
//!
//! The host builds `https://<cv_server>/...` and the gRPC authority from this text as given,
//! so anything a URL would read differently (a scheme, a path, user info, an unbracketed IPv6
//! address) is refused here, before any CloudVision call.

use crate::pyrepr;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Ok when `server` has one of the accepted forms; else the reply text.
pub fn check(server: &str) -> Result<(), String> {
    if is_valid(server) {
        Ok(())
    } else {
        Err(format!(
            "ValueError: Invalid cv_server {}: expected <host> or <host>:<port>",
            pyrepr::repr_str(server)
        ))
    }
}

fn is_valid(server: &str) -> bool {
    if let Some(bracketed) = server.strip_prefix('[') {
        let Some((address, rest)) = bracketed.split_once(']') else {
            return false;
        };
        let port_ok = rest.is_empty() || rest.strip_prefix(':').is_some_and(is_valid_port);
        return port_ok && address.parse::<Ipv6Addr>().is_ok();
    }
    match server.split_once(':') {
        Some((host, port)) => is_valid_host(host) && is_valid_port(port),
        None => is_valid_host(server),
    }
}

/// A DNS name (labels of ASCII letters, digits, `-` and `_`, none empty) or an IPv4 literal.
/// As in URL parsing, a name whose last label is numeric must be a dotted-quad address:
/// `10.0.0.300` or `host.123` would not be read as a name by an HTTP client.
fn is_valid_host(host: &str) -> bool {
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if !labels_ok {
        return false;
    }
    let last = host.rsplit('.').next().unwrap_or(host);
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return host.parse::<Ipv4Addr>().is_ok();
    }
    true
}

/// Decimal digits only, value 1–65535 (leading zeros allowed, as `int()` and URL parsers do).
fn is_valid_port(port: &str) -> bool {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let significant = port.trim_start_matches('0');
    significant.len() <= 5
        && significant
            .parse::<u32>()
            .is_ok_and(|value| (1..=65535).contains(&value))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepted_forms() {
        for server in [
            "cv.example.com",
            "www.cv-staging.corp.arista.io",
            "localhost",
            "my_host",
            "cv.example.com:443",
            "cv.example.com:8443",
            "cv.example.com:1",
            "cv.example.com:65535",
            "cv.example.com:0443",
            "192.0.2.10",
            "192.0.2.10:8443",
            "[::1]",
            "[2001:db8::10]:443",
            "[::ffff:192.0.2.1]",
            "a1.example.com",
            "x-1",
        ] {
            assert_eq!(check(server), Ok(()), "{server}");
        }
    }

    #[test]
    fn refused_forms() {
        for server in [
            "",
            "https://cv.example.com",
            "cv.example.com/path",
            "cv.example.com:",
            "cv.example.com:0",
            "cv.example.com:65536",
            "cv.example.com:99999999999",
            "cv.example.com:+443",
            "cv.example.com:44 3",
            ":443",
            "cv..example.com",
            ".cv.example.com",
            "cv.example.com.",
            "user@cv.example.com",
            "cv example.com",
            " cv.example.com",
            "2001:db8::1",
            "[2001:db8::1",
            "[2001:db8::1]x",
            "[2001:db8::1]:",
            "[2001:db8::1]:70000",
            "[fe80::1%eth0]",
            "[192.0.2.1]",
            "[]",
            "192.0.2.300",
            "192.0.2",
            "01.2.3.4",
            "host.123",
            "123",
            "cvé.example.com",
            "a:1:2",
        ] {
            assert!(check(server).is_err(), "{server:?}");
        }
    }

    #[test]
    fn message_quotes_the_value_like_python() {
        assert_eq!(
            check("https://cv"),
            Err(
                "ValueError: Invalid cv_server 'https://cv': expected <host> or <host>:<port>"
                    .into()
            )
        );
        assert_eq!(
            check("it's"),
            Err("ValueError: Invalid cv_server \"it's\": expected <host> or <host>:<port>".into())
        );
        assert_eq!(
            check("a\tb"),
            Err("ValueError: Invalid cv_server 'a\\tb': expected <host> or <host>:<port>".into())
        );
    }
}
