//! IPv4 addresses as the seed checks them (spec 8.5): Python 3.6 `ipaddress.IPv4Address`
//! parsing of a dotted quad, then the seed's range rules.

use crate::yaml::python_str_repr;
use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4([u8; 4]);

/// The normalised dotted quad (`10.0.0.05` is written `10.0.0.5`).
impl fmt::Display for Ipv4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// What the address is for: a netmask may lie in the reserved range 240.0.0.0/4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Host,
    Netmask,
}

/// Parses and checks an address; the error is the message Python and the seed would give.
pub fn parse_for(text: &str, role: Role) -> Result<Ipv4, String> {
    let address = parse(text)?;
    check_range(address, role).map_err(str::to_string)?;
    Ok(address)
}

/// Python 3.6 `IPv4Address(str)`, messages included.
pub fn parse(text: &str) -> Result<Ipv4, String> {
    if text.contains('/') {
        return Err(format!("Unexpected '/' in {}", python_str_repr(text)));
    }
    if text.is_empty() {
        return Err("Address cannot be empty".into());
    }
    if text.split('.').count() != 4 {
        return Err(format!("Expected 4 octets in {}", python_str_repr(text)));
    }
    let mut octets = [0u8; 4];
    for (octet, part) in octets.iter_mut().zip(text.split('.')) {
        *octet = parse_octet(part)
            .map_err(|problem| format!("{problem} in {}", python_str_repr(text)))?;
    }
    Ok(Ipv4(octets))
}

fn parse_octet(part: &str) -> Result<u8, String> {
    if part.is_empty() {
        return Err("Empty octet not permitted".into());
    }
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "Only decimal digits permitted in {}",
            python_str_repr(part)
        ));
    }
    if part.len() > 3 {
        return Err(format!(
            "At most 3 characters permitted in {}",
            python_str_repr(part)
        ));
    }
    let value: u32 = part
        .bytes()
        .fold(0, |value, b| value * 10 + u32::from(b - b'0'));
    // Python refuses what reads differently in octal and decimal; `07` and `00` read the same.
    if value > 7 && part.starts_with('0') {
        return Err(format!(
            "Ambiguous (octal/decimal) value in {} not permitted",
            python_str_repr(part)
        ));
    }
    u8::try_from(value).map_err(|_| format!("Octet {value} (> 255) not permitted"))
}

/// The seed's checks, in its order; the first that matches is the message.
pub fn check_range(address: Ipv4, role: Role) -> Result<(), &'static str> {
    let [a, b, ..] = address.0;
    if (224..=239).contains(&a) {
        return Err("Cannot use a multicast (RFC 3171) IPv4 Address");
    }
    if address.0 == [0; 4] {
        return Err("Cannot use an unspecified (RFC 5735) IPv4 Address");
    }
    if role == Role::Host && a >= 240 {
        return Err("Cannot use a reserved (IETF reserved) IPv4 Address");
    }
    if a == 127 {
        return Err("Cannot use a loopback (RFC 3330) IPv4 Address");
    }
    if a == 169 && b == 254 {
        return Err("Cannot use a link local (RFC 3927) IPv4 Address");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(text: &str) -> Result<String, String> {
        parse_for(text, Role::Host).map(|a| a.to_string())
    }

    fn netmask(text: &str) -> Result<String, String> {
        parse_for(text, Role::Netmask).map(|a| a.to_string())
    }

    #[test]
    fn parsing_like_python_3_6() {
        assert_eq!(host("10.0.0.5"), Ok("10.0.0.5".into()));
        assert_eq!(host("10.0.0.05"), Ok("10.0.0.5".into()));
        assert_eq!(host("10.0.007.00"), Ok("10.0.7.0".into()));
        let refused = [
            ("", "Address cannot be empty"),
            ("10.0.0.0/8", "Unexpected '/' in '10.0.0.0/8'"),
            ("/", "Unexpected '/' in '/'"),
            ("10.0.0", "Expected 4 octets in '10.0.0'"),
            ("10.0.0.1.2", "Expected 4 octets in '10.0.0.1.2'"),
            ("10..0.1", "Empty octet not permitted in '10..0.1'"),
            (
                "10.0.0.a",
                "Only decimal digits permitted in 'a' in '10.0.0.a'",
            ),
            (
                "10.0.0. 1",
                "Only decimal digits permitted in ' 1' in '10.0.0. 1'",
            ),
            (
                "10.0.0.+1",
                "Only decimal digits permitted in '+1' in '10.0.0.+1'",
            ),
            (
                "10.0.0.١",
                "Only decimal digits permitted in '١' in '10.0.0.١'",
            ),
            (
                "10.0.0.0001",
                "At most 3 characters permitted in '0001' in '10.0.0.0001'",
            ),
            (
                "10.0.0.256",
                "Octet 256 (> 255) not permitted in '10.0.0.256'",
            ),
            (
                "10.0.0.010",
                "Ambiguous (octal/decimal) value in '010' not permitted in '10.0.0.010'",
            ),
            (
                "10.0.0.08",
                "Ambiguous (octal/decimal) value in '08' not permitted in '10.0.0.08'",
            ),
            (
                "it's.0.0.1",
                "Only decimal digits permitted in \"it's\" in \"it's.0.0.1\"",
            ),
        ];
        for (text, message) in refused {
            assert_eq!(host(text), Err(message.to_string()), "{text:?}");
        }
    }

    #[test]
    fn range_rules() {
        let multicast = "Cannot use a multicast (RFC 3171) IPv4 Address";
        let unspecified = "Cannot use an unspecified (RFC 5735) IPv4 Address";
        let reserved = "Cannot use a reserved (IETF reserved) IPv4 Address";
        let loopback = "Cannot use a loopback (RFC 3330) IPv4 Address";
        let link_local = "Cannot use a link local (RFC 3927) IPv4 Address";
        for (text, message) in [
            ("224.0.0.1", multicast),
            ("239.255.255.255", multicast),
            ("0.0.0.0", unspecified),
            ("240.0.0.1", reserved),
            ("255.255.255.255", reserved),
            ("127.0.0.1", loopback),
            ("127.255.0.1", loopback),
            ("169.254.1.1", link_local),
        ] {
            assert_eq!(host(text), Err(message.to_string()), "{text}");
        }
        for text in [
            "0.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.253.0.1",
            "223.255.255.255",
            "8.8.8.8",
        ] {
            assert!(host(text).is_ok(), "{text}");
        }
        for text in [
            "255.255.255.0",
            "255.0.255.0",
            "255.255.255.255",
            "240.0.0.0",
            "0.0.0.24",
        ] {
            assert!(netmask(text).is_ok(), "{text}");
        }
        assert_eq!(netmask("0.0.0.0"), Err(unspecified.to_string()));
        assert_eq!(netmask("224.0.0.0"), Err(multicast.to_string()));
        assert_eq!(netmask("127.0.0.1"), Err(loopback.to_string()));
    }
}
