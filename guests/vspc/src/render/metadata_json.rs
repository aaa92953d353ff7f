//! RESPONSE_METADATA (spec 9.1): Python's `json.dumps(d)` with its defaults.

use crate::schema::Metadata;
use core::fmt::Write;

/// The eight keys in the seed's order; `hostname` fills both host name keys.
pub fn metadata_json(metadata: &Metadata) -> String {
    let mut out = String::with_capacity(256);
    out.push('{');
    let scalars = [
        ("ami-id", &metadata.ami_id),
        ("instance-id", &metadata.instance_id),
        ("region", &metadata.region),
        ("availability-zone", &metadata.availability_zone),
    ];
    for (key, value) in scalars {
        write_member(&mut out, key);
        write_string(&mut out, value);
        out.push_str(", ");
    }
    write_member(&mut out, "tags");
    out.push('{');
    for (index, (key, value)) in metadata.tags.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_member(&mut out, key);
        write_string(&mut out, value);
    }
    out.push_str("}, ");
    write_member(&mut out, "public-keys");
    out.push('[');
    for (index, key) in metadata.public_keys.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_string(&mut out, key);
    }
    out.push_str("], ");
    write_member(&mut out, "hostname");
    write_string(&mut out, &metadata.hostname);
    out.push_str(", ");
    write_member(&mut out, "local-hostname");
    write_string(&mut out, &metadata.hostname);
    out.push('}');
    out
}

/// `"key": ` with json's default separator.
fn write_member(out: &mut String, key: &str) {
    write_string(out, key);
    out.push_str(": ");
}

/// A JSON string with `ensure_ascii`: printable ASCII as is, the short escapes json knows, and
/// everything else as lower-case `\uXXXX` (UTF-16 surrogate pairs above U+FFFF).
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            _ => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_string(text: &str) -> String {
        let mut out = String::new();
        write_string(&mut out, text);
        out
    }

    #[test]
    fn escapes_like_python_json_dumps() {
        assert_eq!(json_string("hôst"), r#""h\u00f4st""#);
        assert_eq!(json_string("😀"), r#""\ud83d\ude00""#);
        assert_eq!(json_string("€"), r#""\u20ac""#);
        assert_eq!(json_string("a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(json_string("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(
            json_string("\u{0}\u{1f}\u{7f}\u{80}\u{a0}"),
            r#""\u0000\u001f\u007f\u0080\u00a0""#
        );
        assert_eq!(json_string("~ !"), r#""~ !""#);
        assert_eq!(json_string(""), r#""""#);
    }

    #[test]
    fn key_order_tags_in_file_order_and_empty_collections() {
        let mut metadata = Metadata {
            ami_id: "img".into(),
            instance_id: "i-1".into(),
            region: "r".into(),
            availability_zone: "az".into(),
            hostname: "hôst".into(),
            tags: vec![],
            public_keys: vec![],
        };
        assert_eq!(
            metadata_json(&metadata),
            r#"{"ami-id": "img", "instance-id": "i-1", "region": "r", "availability-zone": "az", "tags": {}, "public-keys": [], "hostname": "h\u00f4st", "local-hostname": "h\u00f4st"}"#
        );
        metadata.tags = vec![
            ("z".into(), "1".into()),
            ("a".into(), "2".into()),
            ("m".into(), "3".into()),
        ];
        metadata.public_keys = vec!["k1".into(), "k2".into()];
        let json = metadata_json(&metadata);
        assert!(
            json.contains(
                r#""tags": {"z": "1", "a": "2", "m": "3"}, "public-keys": ["k1", "k2"], "#
            ),
            "{json}"
        );
    }
}
