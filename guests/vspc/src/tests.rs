//! End-to-end tests of [`respond`] against the shared golden data and the spec's rules.

use super::*;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/vspc")
}

/// Checks the three reply lines of `<name>.expected` byte for byte, the base64 included.
fn check_golden(name: &str) {
    let dir = golden_dir();
    let file = std::fs::read(dir.join(format!("{name}.yaml"))).expect("golden yaml");
    let expected =
        std::fs::read_to_string(dir.join(format!("{name}.expected"))).expect("golden replies");
    let lines: Vec<&str> = expected.lines().collect();
    assert_eq!(lines.len(), 3);
    let requests = [
        (Request::Metadata, "RESPONSE_METADATA"),
        (Request::NetworkData, "RESPONSE_NETWORKDATA"),
        (Request::UserData, "RESPONSE_USERDATA"),
    ];
    for ((request, code), line) in requests.into_iter().zip(lines) {
        let body = respond(request, &file).unwrap_or_else(|refusal| panic!("{name}: {refusal:?}"));
        let (prefix, payload) = line.split_once('#').unwrap();
        assert_eq!(prefix, format!("!!{code}"));
        let expected_body =
            String::from_utf8(base64::decode_strict(payload.as_bytes()).unwrap()).unwrap();
        assert_eq!(body, expected_body, "{name} {code}");
        assert_eq!(
            format!("!!{code}#{}", base64::encode(body.as_bytes())),
            line,
            "{name} {code} line"
        );
    }
}

#[test]
fn golden_readme_fixed() {
    check_golden("readme-fixed");
}

#[test]
fn golden_minimal() {
    check_golden("minimal");
}

/// The seed opened files in text mode, so CRLF line ends changed nothing; here the parser
/// normalises line breaks inside scalars the same way.
#[test]
fn crlf_files_give_the_same_bodies() {
    for name in ["minimal", "readme-fixed"] {
        let file = std::fs::read_to_string(golden_dir().join(format!("{name}.yaml"))).unwrap();
        let crlf = file.replace('\n', "\r\n");
        for request in [Request::Metadata, Request::NetworkData, Request::UserData] {
            assert_eq!(
                respond(request, crlf.as_bytes()),
                respond(request, file.as_bytes()),
                "{name} {request:?}"
            );
        }
    }
}

fn minimal_file() -> String {
    std::fs::read_to_string(golden_dir().join("minimal.yaml")).unwrap()
}

fn all_bodies(file: &str) -> [Result<String, Refusal>; 3] {
    [Request::Metadata, Request::NetworkData, Request::UserData]
        .map(|request| respond(request, file.as_bytes()))
}

#[test]
fn any_problem_refuses_all_three_requests() {
    let invalid_data = minimal_file().replace("10.0.0.2", "127.0.0.1");
    for result in all_bodies(&invalid_data) {
        assert_eq!(
            result,
            Err(Refusal {
                kind: RefusalKind::InvalidData,
                messages: vec![
                    "network.nameservers.0: Cannot use a loopback (RFC 3330) IPv4 Address".into()
                ],
            })
        );
    }
    let invalid_yaml = format!(
        "{}  region: again\n",
        minimal_file().replace("network:\n", "network:\n  x: [\n")
    );
    for result in all_bodies(&invalid_yaml) {
        assert_eq!(result.unwrap_err().kind, RefusalKind::InvalidYaml);
    }
    let duplicate = minimal_file().replace("  region: r\n", "  region: r\n  region: s\n");
    for result in all_bodies(&duplicate) {
        let refusal = result.unwrap_err();
        assert_eq!(refusal.kind, RefusalKind::InvalidYaml);
        assert!(
            refusal.messages[0].starts_with("duplicate key 'region'"),
            "{refusal:?}"
        );
    }
}

#[test]
fn bodies_of_a_richer_file() {
    let file = "metadata:
  ami-id: img
  instance-id: i-1
  region: 42
  availability-zone: az
  hostname: hôst
  tags: {z: '1', a: 2}
network:
  address: 10.0.0.05
  netmask: 255.255.255.0
  gateway: 10.0.0.1
  nameservers: [10.0.0.2, 10.0.0.3]
  search: [example.com, 'yes', \"ex\\xE4mple.com\"]
userdata: \"\\u3000 #cloud-config\\nhostname: h\\u00f4st\\n\\x1c\"
";
    let [metadata, network, userdata] = all_bodies(file).map(Result::unwrap);
    assert_eq!(
        metadata,
        r#"{"ami-id": "img", "instance-id": "i-1", "region": "42", "availability-zone": "az", "tags": {"z": "1", "a": "2"}, "public-keys": [], "hostname": "h\u00f4st", "local-hostname": "h\u00f4st"}"#
    );
    assert_eq!(
        network,
        "config:
- name: eth0
  subnets:
  - address: 10.0.0.5
    dns_nameservers:
    - 10.0.0.2
    - 10.0.0.3
    dns_search:
    - example.com
    - 'yes'
    - \"ex\\xE4mple.com\"
    gateway: 10.0.0.1
    netmask: 255.255.255.0
    type: static
  type: physical
version: 1
"
    );
    assert_eq!(userdata, "#cloud-config\nhostname: hôst");
}

#[test]
fn userdata_bodies() {
    let with_userdata = |value: &str| format!("{}userdata: {value}\n", minimal_file());
    let body = |value: &str| respond(Request::UserData, with_userdata(value).as_bytes()).unwrap();
    assert_eq!(body("123"), "123");
    assert_eq!(body("''"), "");
    assert_eq!(body("\"  \\t\\n\""), "");
    assert_eq!(body("~"), "#cloud-config\n{}");
    assert_eq!(
        body("|\n  #cloud-config\n  a: 1\n\n"),
        "#cloud-config\na: 1"
    );
    assert_eq!(
        respond(Request::UserData, minimal_file().as_bytes()).unwrap(),
        "#cloud-config\n{}"
    );
}

#[test]
fn billion_laughs_is_invalid_yaml() {
    let mut file =
        String::from("metadata: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (index, name) in ["b", "c", "d", "e", "f", "g", "h", "i", "j"]
        .iter()
        .enumerate()
    {
        let previous = if index == 0 {
            "a".to_string()
        } else {
            ["b", "c", "d", "e", "f", "g", "h", "i"][index - 1].to_string()
        };
        file.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{previous}"); 10].join(", ")
        ));
    }
    let refusal = respond(Request::Metadata, file.as_bytes()).unwrap_err();
    assert_eq!(refusal.kind, RefusalKind::InvalidYaml);
}

/// A small deterministic generator, so the mutation test needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

/// No input makes the guest panic (in the component a panic is a trap): mutate the golden files
/// byte by byte and check that every request still gets an answer or a refusal.
/// `VSPC_MUTATION_ROUNDS` runs more rounds than the default.
#[test]
fn mutated_files_never_panic() {
    let rounds = std::env::var("VSPC_MUTATION_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4000);
    let seeds = [
        minimal_file(),
        std::fs::read_to_string(golden_dir().join("readme-fixed.yaml")).unwrap(),
    ];
    let alphabet = b"-:[]{}&*!|>'\"%@`#,?<=~ \t\n\r\\01789aeflnstxyz.";
    let mut random = Lcg(42);
    for round in 0..rounds {
        let mut bytes = seeds[round % 2].clone().into_bytes();
        for _ in 0..1 + random.next(4) {
            let at = random.next(bytes.len());
            match random.next(4) {
                0 => bytes[at] = alphabet[random.next(alphabet.len())],
                1 => bytes.insert(at, alphabet[random.next(alphabet.len())]),
                2 => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
            if bytes.is_empty() {
                break;
            }
        }
        for request in [Request::Metadata, Request::NetworkData, Request::UserData] {
            let _ = respond(request, &bytes);
        }
    }
}
