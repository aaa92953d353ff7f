//! End-to-end tests of [`plan`]: the input-stage order and every reply text it can produce.
//!
//! Expected texts were produced by CPython 3.11 running cvproxy's input stage (`bytes.decode`,
//! `json.loads`, python-jsonschema 4.26 `best_match`, `base64.b64decode(validate=True)`) plus
//! Postern's own steps (spec 14.1, 15 item 2); they are written out here so that the tests do
//! not need Python.

use super::*;
use std::time::{Duration, Instant};

/// (name, body, expected reply text)
type Case = (&'static str, &'static [u8], &'static str);

fn check_cases(cases: &[Case]) {
    for (name, body, expected) in cases {
        assert_eq!(
            plan(body).as_ref().map_err(String::as_str),
            Err(*expected),
            "{name}"
        );
    }
}

fn plan_ok(body: &str) -> DeployPlan {
    plan(body.as_bytes()).unwrap_or_else(|error| panic!("{body}: {error}"))
}

fn device(hostname: &str, serial: Option<&str>, configlet: &str, tags: &[(&str, &str)]) -> Device {
    Device {
        hostname: hostname.into(),
        serial_number: serial.map(Into::into),
        configlet: configlet.into(),
        tags: tags
            .iter()
            .map(|(label, value)| (label.to_string(), value.to_string()))
            .collect(),
    }
}

#[test]
fn happy_path_two_devices_with_tags() {
    let body = r#"{
      "cv_server": "www.cv-staging.corp.arista.io:8443",
      "cv_token": "eyJhbGciOi.token",
      "cv_change_control_name": "Change 42",
      "cv_strict_tags": true,
      "cv_delete_workspace": true,
      "devices": {
        "spine1": {
          "serial_number": "SSJ12345678",
          "configlet": "aG9zdG5hbWUgc3BpbmUxCg==",
          "tags": {"Role": "spine", "DC": "dc1", "Empty": ""}
        },
        "leaf-1.a": {
          "configlet": "aG9zdG5hbWUgbGVhZi0xLmEKIWNhZsOp"
        }
      }
    }"#;
    assert_eq!(
        plan_ok(body),
        DeployPlan {
            devices: vec![
                device(
                    "spine1",
                    Some("SSJ12345678"),
                    "hostname spine1\n",
                    &[("Role", "spine"), ("DC", "dc1"), ("Empty", "")],
                ),
                device("leaf-1.a", None, "hostname leaf-1.a\n!café", &[]),
            ],
            cv_server: "www.cv-staging.corp.arista.io:8443".into(),
            cv_token: "eyJhbGciOi.token".into(),
            change_control_name: Some("Change 42".into()),
            strict_tags: true,
            delete_workspace: true,
        }
    );
}

#[test]
fn absent_options_take_their_defaults() {
    let plan = plan_ok(
        r#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv", "cv_token": "t"}"#,
    );
    assert_eq!(
        plan,
        DeployPlan {
            devices: vec![device("leaf1", None, "hello", &[])],
            cv_server: "cv".into(),
            cv_token: "t".into(),
            change_control_name: None,
            strict_tags: false,
            delete_workspace: false,
        }
    );
    let plan = plan_ok(
        r#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv", "cv_token": "t",
            "cv_strict_tags": false, "cv_delete_workspace": false}"#,
    );
    assert!(!plan.strict_tags && !plan.delete_workspace);
}

#[test]
fn devices_and_tags_keep_document_order() {
    let plan = plan_ok(
        r#"{"devices": {"zeta": {"configlet": "QQ==", "tags": {"z": "1", "a": "2", "m": "3"}},
                         "alpha": {"configlet": "Qg=="}, "mid": {"configlet": "Qw=="}},
            "cv_server": "cv", "cv_token": "t"}"#,
    );
    let names: Vec<_> = plan
        .devices
        .iter()
        .map(|device| device.hostname.as_str())
        .collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
    let labels: Vec<_> = plan.devices[0]
        .tags
        .iter()
        .map(|(label, _)| label.as_str())
        .collect();
    assert_eq!(labels, ["z", "a", "m"]);
}

#[test]
fn python_quirks_that_are_accepted() {
    // `$` matches before a final newline: device names and serials may end in `\n`.
    let plan = plan_ok(
        r#"{"devices": {"leaf1\n": {"configlet": "aGVsbG8=", "serial_number": "ABC12345678\n"}},
            "cv_server": "cv", "cv_token": "t"}"#,
    );
    assert_eq!(plan.devices[0].hostname, "leaf1\n");
    assert_eq!(
        plan.devices[0].serial_number.as_deref(),
        Some("ABC12345678\n")
    );
    // Non-canonical trailing bits decode like Python: QR== is "A".
    let plan =
        plan_ok(r#"{"devices": {"a": {"configlet": "QR=="}}, "cv_server": "cv", "cv_token": "t"}"#);
    assert_eq!(plan.devices[0].configlet, "A");
    // Duplicate keys: the last value wins, in the first key's position.
    let plan = plan_ok(
        r#"{"cv_token": 1, "devices": {"a": {"configlet": "QQ==", "tags": {"k": "1", "j": "2", "k": "3"}}},
            "cv_server": "cv", "cv_token": "t"}"#,
    );
    assert_eq!(plan.cv_token, "t");
    assert_eq!(
        plan.devices[0].tags,
        [
            ("k".to_string(), "3".to_string()),
            ("j".to_string(), "2".to_string())
        ]
    );
    // `\S+` is searched: surrounding blanks are fine; any string is a tag value since 1.0.4.
    let plan = plan_ok(
        r#"{"devices": {"a": {"configlet": "QQ==", "tags": {"t": " "}}}, "cv_server": "cv", "cv_token": " t "}"#,
    );
    assert_eq!(plan.cv_token, " t ");
    // U+200B is not a space for Python either.
    plan_ok(
        r#"{"devices": {"a": {"configlet": "QQ=="}}, "cv_server": "cv", "cv_token": "\u200b"}"#,
    );
}

#[test]
fn every_cv_server_form_is_accepted() {
    for server in [
        "cv.example.com",
        "cv.example.com:443",
        "cv-1_a.example.com:8443",
        "192.0.2.1",
        "192.0.2.1:65535",
        "[2001:db8::1]",
        "[2001:db8::1]:443",
        "[::1]:1",
        "localhost",
    ] {
        let body = format!(
            r#"{{"devices": {{"a": {{"configlet": "QQ=="}}}}, "cv_server": "{server}", "cv_token": "t"}}"#
        );
        assert_eq!(plan_ok(&body).cv_server, server);
    }
}

#[test]
fn utf8_errors() {
    check_cases(&[
        (
            "utf8_invalid_start",
            b"{\"cv_token\": \"\xff\"}",
            r#"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 14: invalid start byte"#,
        ),
        (
            "utf8_truncated",
            b"{\"cv_token\": \"\xe2\x82",
            r#"UnicodeDecodeError: 'utf-8' codec can't decode bytes in position 14-15: unexpected end of data"#,
        ),
        (
            "utf8_truncated_single",
            b"{\"a\": 1}\xf0",
            r#"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xf0 in position 8: unexpected end of data"#,
        ),
        (
            "utf8_bad_continuation",
            b"{\"x\": \"\xe2\x82A\"}",
            r#"UnicodeDecodeError: 'utf-8' codec can't decode bytes in position 7-8: invalid continuation byte"#,
        ),
        (
            "utf8_surrogate",
            b"\"\xed\xa0\x80\"",
            r#"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xed in position 1: invalid continuation byte"#,
        ),
        (
            "utf8_overlong",
            b"\"\xc0\xaf\"",
            r#"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xc0 in position 1: invalid start byte"#,
        ),
    ]);
}

#[test]
fn json_errors() {
    check_cases(&[
        (
            "json_empty",
            br#""#,
            r#"JSONDecodeError: Expecting value: line 1 column 1 (char 0)"#,
        ),
        (
            "json_not_json",
            br#"hello"#,
            r#"JSONDecodeError: Expecting value: line 1 column 1 (char 0)"#,
        ),
        (
            "json_bom",
            b"\xef\xbb\xbf{}",
            r#"JSONDecodeError: Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"#,
        ),
        (
            "json_trailing_comma",
            br#"{"devices": {},}"#,
            r#"JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 16 (char 15)"#,
        ),
        (
            "json_single_quotes",
            br#"{'devices': {}}"#,
            r#"JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"#,
        ),
        (
            "json_missing_colon",
            br#"{"devices" {}}"#,
            r#"JSONDecodeError: Expecting ':' delimiter: line 1 column 12 (char 11)"#,
        ),
        (
            "json_missing_comma",
            br#"{"devices": {} "cv_token": "t"}"#,
            r#"JSONDecodeError: Expecting ',' delimiter: line 1 column 16 (char 15)"#,
        ),
        (
            "json_extra_data",
            br#"{} {}"#,
            r#"JSONDecodeError: Extra data: line 1 column 4 (char 3)"#,
        ),
        (
            "json_unterminated",
            br#"{"cv_token": "abc"#,
            r#"JSONDecodeError: Unterminated string starting at: line 1 column 14 (char 13)"#,
        ),
        (
            "json_control_char",
            b"{\"cv_token\": \"a\tb\"}",
            r#"JSONDecodeError: Invalid control character at: line 1 column 16 (char 15)"#,
        ),
        (
            "json_bad_escape",
            br#"{"cv_token": "\x41"}"#,
            r#"JSONDecodeError: Invalid \escape: line 1 column 15 (char 14)"#,
        ),
        (
            "json_bad_unicode_escape",
            br#"{"cv_token": "\u00G1"}"#,
            r#"JSONDecodeError: Invalid \uXXXX escape: line 1 column 16 (char 15)"#,
        ),
        (
            "json_multiline_position",
            b"{\n  \"devices\": {\n    \"leaf1\": {\"configlet\": \"x\" \"y\"}\n  }\n}",
            r#"JSONDecodeError: Expecting ',' delimiter: line 3 column 32 (char 48)"#,
        ),
        (
            "json_position_in_characters",
            b"{\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\": [1 2]}",
            r#"JSONDecodeError: Expecting ',' delimiter: line 1 column 12 (char 11)"#,
        ),
    ]);
}

#[test]
fn nan_and_infinity_are_not_json() {
    // Spec 14.10: Python would accept them; Postern reports `Expecting value` at their position.
    check_cases(&[
        (
            "nan",
            br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": NaN}"#,
            "JSONDecodeError: Expecting value: line 1 column 94 (char 93)",
        ),
        ("infinity", b"[Infinity]", "JSONDecodeError: Expecting value: line 1 column 2 (char 1)"),
        (
            "minus_infinity",
            b"{\n  \"cv_token\": \"t\",\n  \"cv_strict_tags\": -Infinity\n}",
            "JSONDecodeError: Expecting value: line 3 column 21 (char 41)",
        ),
    ]);
}

#[test]
fn integers_longer_than_python_allows() {
    let body = format!(r#"{{"cv_token": {}}}"#, "1".repeat(4301));
    assert_eq!(
        plan(body.as_bytes()),
        Err(
            "ValueError: Exceeds the limit (4300 digits) for integer string conversion: value has \
             4301 digits; use sys.set_int_max_str_digits() to increase the limit"
                .into()
        )
    );
    // At the limit they are exact, and their repr is the digits.
    let body = format!(r#"{{"cv_token": -{}}}"#, "7".repeat(4300));
    assert_eq!(
        plan(body.as_bytes()),
        Err("ValidationError: 'devices' is a required property".to_string())
    );
    let body = format!(
        r#"{{"devices": {{"a": {{"configlet": "QQ=="}}}}, "cv_server": "cv", "cv_token": -{}}}"#,
        "7".repeat(4300)
    );
    assert_eq!(
        plan(body.as_bytes()),
        Err(format!(
            "ValidationError: -{} is not of type 'string'",
            "7".repeat(4300)
        ))
    );
}

#[test]
fn lone_surrogates_and_deep_nesting_are_refused() {
    assert_eq!(
        plan(br#"{"cv_token": "\ud800"}"#),
        Err("JSONDecodeError: Lone surrogate in \\uXXXX escape: line 1 column 15 (char 14)".into())
    );
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    assert_eq!(
        plan(deep.as_bytes()),
        Err("JSONDecodeError: Nesting deeper than 256 levels: line 1 column 257 (char 256)".into())
    );
}

#[test]
fn schema_errors() {
    check_cases(&[
        ("schema_missing_token", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com"}"#, r#"ValidationError: 'cv_token' is a required property"#),
        ("schema_missing_all", br#"{}"#, r#"ValidationError: 'devices' is a required property"#),
        ("schema_server_and_token_invalid", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "", "cv_token": 5}"#, r#"ValidationError: 5 is not of type 'string'"#),
        ("schema_server_invalid_token_blank", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": 5, "cv_token": "  "}"#, r#"ValidationError: '  ' does not match '\\S+'"#),
        ("schema_configlet_and_tags_invalid", br#"{"devices": {"leaf1": {"configlet": "abc", "tags": {}}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: {} should be non-empty"#),
        ("schema_unevaluated_before_required", br#"{"zzz": 1, "aaa": 2}"#, r#"ValidationError: Unevaluated properties are not allowed ('aaa', 'zzz' were unexpected)"#),
        ("schema_unevaluated_single", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": "tok", "cv_tokens": "x"}"#, r#"ValidationError: Unevaluated properties are not allowed ('cv_tokens' was unexpected)"#),
        ("schema_devices_empty", br#"{"devices": {}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: {} should be non-empty"#),
        ("schema_device_name_uppercase", br#"{"devices": {"Leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: Unevaluated properties are not allowed ('Leaf1' was unexpected)"#),
        ("schema_configlet_missing", br#"{"devices": {"leaf1": {}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: 'configlet' is a required property"#),
        ("schema_device_unevaluated", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8=", "mac": "x"}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: Unevaluated properties are not allowed ('mac' was unexpected)"#),
        ("schema_configlet_pattern", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8"}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: 'aGVsbG8' does not match '^(?=(.{4})+$)[A-Za-z0-9+/-]+={0,2}$'"#),
        ("schema_configlet_type", br#"{"devices": {"leaf1": {"configlet": null}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: None is not of type 'string'"#),
        ("schema_serial_pattern", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8=", "serial_number": "abc"}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: 'abc' does not match '^[A-Z][A-Z0-9]{10}$'"#),
        ("schema_tag_value_type", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8=", "tags": {"a": "x", "b": 1, "c": [true]}}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: [True] is not of type 'string'"#),
        ("schema_token_fs_is_space", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": "\u001c"}"#, r#"ValidationError: '\x1c' does not match '\\S+'"#),
        ("schema_token_unicode_spaces", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": "\u00a0\u3000\u2028"}"#, r#"ValidationError: '\xa0\u3000\u2028' does not match '\\S+'"#),
        ("schema_change_control_blank", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": "tok", "cv_change_control_name": ""}"#, r#"ValidationError: '' does not match '\\S+'"#),
        ("schema_boolean_type", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": "tok", "cv_strict_tags": "true"}"#, r#"ValidationError: 'true' is not of type 'boolean'"#),
        ("schema_delete_workspace_type", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": "tok", "cv_delete_workspace": 1}"#, r#"ValidationError: 1 is not of type 'boolean'"#),
        ("schema_type_repr_nested", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": {"a": [1, null, 1.5, 1e16, 1e-05, true, "it's"]}}"#, r#"ValidationError: {'a': [1, None, 1.5, 1e+16, 1e-05, True, "it's"]} is not of type 'string'"#),
        ("schema_type_repr_float", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": 100000.0}"#, r#"ValidationError: 100000.0 is not of type 'string'"#),
        ("schema_repr_nonprintable", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": ["\u0000\u007f\u0085\u00e9\ud83d\ude00\u200b\\", "\"it's\""]}"#, "ValidationError: ['\\x00\\x7f\\x85é😀\\u200b\\\\', '\"it\\'s\"'] is not of type 'string'"),
        ("schema_duplicate_key_last_wins", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": "ok", "cv_token": 7}"#, r#"ValidationError: 7 is not of type 'string'"#),
        ("schema_token_pattern_repr", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com", "cv_token": ""}"#, r#"ValidationError: '' does not match '\\S+'"#),
    ]);
}

#[test]
fn shape_errors() {
    check_cases(&[
        ("shape_top_array", br#"[]"#, r#"ValidationError: [] is not of type 'object'"#),
        ("shape_top_string", br#""x""#, r#"ValidationError: 'x' is not of type 'object'"#),
        ("shape_top_number", br#"1"#, r#"ValidationError: 1 is not of type 'object'"#),
        ("shape_top_null", br#"null"#, r#"ValidationError: None is not of type 'object'"#),
        ("shape_devices_array", br#"{"devices": [], "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: [] is not of type 'object'"#),
        ("shape_devices_string", br#"{"devices": "leaf1", "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: 'leaf1' is not of type 'object'"#),
        ("shape_device_null", br#"{"devices": {"leaf1": null}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: None is not of type 'object'"#),
        ("shape_tags_array", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8=", "tags": ["a"]}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: ['a'] is not of type 'object'"#),
        ("shape_entries_before_tags", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8=", "tags": ["a"]}, "leaf2": 5}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"ValidationError: 5 is not of type 'object'"#),
        ("shape_before_cv_server", br#"{"devices": {"leaf1": []}, "cv_server": "https://x", "cv_token": "tok"}"#, r#"ValidationError: [] is not of type 'object'"#),
    ]);
}

#[test]
fn cv_server_errors() {
    check_cases(&[
        ("server_nonprintable", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv\u0085\u00e9.example\ud83d\ude00", "cv_token": "tok"}"#, "ValueError: Invalid cv_server 'cv\\x85é.example😀': expected <host> or <host>:<port>"),
        ("server_scheme", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "https://cv.example.com", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server 'https://cv.example.com': expected <host> or <host>:<port>"#),
        ("server_path", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com/cvp", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server 'cv.example.com/cvp': expected <host> or <host>:<port>"#),
        ("server_bad_port", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com:0", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server 'cv.example.com:0': expected <host> or <host>:<port>"#),
        ("server_port_too_big", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com:65536", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server 'cv.example.com:65536': expected <host> or <host>:<port>"#),
        ("server_empty_port", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv.example.com:", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server 'cv.example.com:': expected <host> or <host>:<port>"#),
        ("server_bare_ipv6", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "2001:db8::1", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server '2001:db8::1': expected <host> or <host>:<port>"#),
        ("server_empty_label", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "cv..example.com", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server 'cv..example.com': expected <host> or <host>:<port>"#),
        ("server_space", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": " cv.example.com", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server ' cv.example.com': expected <host> or <host>:<port>"#),
        ("server_quote", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}}, "cv_server": "it's", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server "it's": expected <host> or <host>:<port>"#),
        ("server_before_base64", br#"{"devices": {"leaf1": {"configlet": "aGV-bG8="}}, "cv_server": "a b", "cv_token": "tok"}"#, r#"ValueError: Invalid cv_server 'a b': expected <host> or <host>:<port>"#),
    ]);
}

#[test]
fn base64_errors() {
    check_cases(&[
        ("base64_dash", br#"{"devices": {"leaf1": {"configlet": "aGV-bG8="}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"Error: Only base64 data is allowed"#),
        ("base64_newline_after_padding", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8=\n"}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"Error: Excess data after padding"#),
        ("base64_newline_without_padding", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8h\n"}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"Error: Only base64 data is allowed"#),
        ("base64_second_device", br#"{"devices": {"leaf1": {"configlet": "aGVsbG8="}, "leaf2": {"configlet": "aGVsbG8h\n"}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"Error: Only base64 data is allowed"#),
    ]);
}

#[test]
fn configlet_utf8_errors() {
    check_cases(&[
        ("configlet_utf8_invalid_start", br#"{"devices": {"leaf1": {"configlet": "aGVs/w=="}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 3: invalid start byte"#),
        ("configlet_utf8_truncated", br#"{"devices": {"leaf1": {"configlet": "aOKC"}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"UnicodeDecodeError: 'utf-8' codec can't decode bytes in position 1-2: unexpected end of data"#),
        ("configlet_utf8_bad_continuation", br#"{"devices": {"leaf1": {"configlet": "4oJB"}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"UnicodeDecodeError: 'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"#),
        ("configlet_order_base64_then_utf8", br#"{"devices": {"leaf1": {"configlet": "/w=="}, "leaf2": {"configlet": "a-=="}}, "cv_server": "cv.example.com", "cv_token": "tok"}"#, r#"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"#),
    ]);
}

/// A configlet of `size` bytes of text, base64-encoded.
fn big_configlet(size: usize) -> (String, String) {
    let line = "interface Ethernet1\n   description é uplink\n";
    let mut text = line.repeat(size / line.len() + 1);
    while !text.len().is_multiple_of(3) || text.len() < size {
        text.push('!');
    }
    (text.clone(), encode_base64(text.as_bytes()))
}

fn encode_base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() / 3 * 4 + 4);
    for chunk in bytes.chunks(3) {
        let value = chunk
            .iter()
            .fold(0u32, |sum, &byte| (sum << 8) | u32::from(byte))
            << (8 * (3 - chunk.len()));
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(char::from(TABLE[(value >> (18 - 6 * index)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn five_megabyte_configlet_is_fast_and_shallow() {
    let (text, encoded) = big_configlet(5 * 1024 * 1024);
    let body = format!(
        r#"{{"devices": {{"leaf1": {{"configlet": "{encoded}"}}}}, "cv_server": "cv", "cv_token": "t"}}"#
    );
    // Run on a small stack to show that nothing recurses per character.
    let started = Instant::now();
    let handle = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || plan(body.as_bytes()))
        .unwrap();
    let deployed = handle.join().unwrap().unwrap();
    assert_eq!(deployed.devices[0].configlet, text);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    // The failing variants take the backtracking paths through the whole text.
    let invalid_tail = format!(
        r#"{{"devices": {{"leaf1": {{"configlet": "{encoded}!"}}}}, "cv_server": "cv", "cv_token": "t"}}"#
    );
    let error = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || plan(invalid_tail.as_bytes()))
        .unwrap()
        .join()
        .unwrap()
        .unwrap_err();
    assert!(error.starts_with("ValidationError: '"), "{}", &error[..80]);
    assert!(error.ends_with("!' does not match '^(?=(.{4})+$)[A-Za-z0-9+/-]+={0,2}$'"));
}

/// xorshift64*: deterministic pseudo-random bytes without a dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut random = Random(0x5eed_1234_abcd_0001);
    let alphabet = b"{}[]:,\"\\ \n\tabcdefnrtuSZ0129.-+eE=/\x1c\x00\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\xed";
    for _ in 0..20_000 {
        let length = random.below(64);
        let body: Vec<u8> = (0..length)
            .map(|_| {
                if random.below(4) == 0 {
                    random.next() as u8
                } else {
                    alphabet[random.below(alphabet.len())]
                }
            })
            .collect();
        let _ = plan(&body);
    }
}

#[test]
fn mutated_requests_never_panic() {
    let valid = br#"{"devices": {"leaf1": {"serial_number": "ABC12345678", "configlet": "aGVsbG8=", "tags": {"a": "b"}}}, "cv_server": "[::1]:443", "cv_token": "t", "cv_strict_tags": true}"#;
    assert!(plan(valid).is_ok());
    let inserts = b"{}[]:,\"\\ 0-e\n\xff\xc3";
    let mut random = Random(42);
    for _ in 0..20_000 {
        let mut body = valid.to_vec();
        for _ in 0..1 + random.below(3) {
            let at = random.below(body.len() + 1);
            match random.below(3) {
                0 if at < body.len() => {
                    body.remove(at);
                }
                1 if at < body.len() => body[at] = inserts[random.below(inserts.len())],
                _ => body.insert(at, inserts[random.below(inserts.len())]),
            }
        }
        let _ = plan(&body);
    }
}
