//! Every validation rule of spec 8: a refused file gets no reply (and a
//! counted reason); the connection stays usable.

use super::MINIMAL;
use super::esxi::*;

fn with_network(network: &str) -> String {
    format!(
        "metadata:\n  ami_id: img\n  availability_zone: az\n  hostname: h\n  instance_id: i-1\n  region: r\nnetwork:\n{network}"
    )
}

fn net(address: &str, netmask: &str, gateway: &str, nameserver: &str) -> String {
    with_network(&format!(
        "  address: {address}\n  netmask: {netmask}\n  gateway: {gateway}\n  nameservers:\n  - {nameserver}\n"
    ))
}

fn with_metadata(extra: &str) -> String {
    format!("{MINIMAL}{extra}")
}

fn meta(extra_metadata: &str) -> String {
    MINIMAL.replacen("metadata:\n", &format!("metadata:\n{extra_metadata}"), 1)
}

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test";

/// (why, file, answered?)
fn cases() -> Vec<(&'static str, String, bool)> {
    vec![
        ("minimal", MINIMAL.to_string(), true),
        ("hyphenated aliases", MINIMAL.replace("ami_id", "ami-id").replace("instance_id", "instance-id"), true),
        ("both spellings", meta("  ami-id: x\n"), false),
        ("rogue top-level key", with_metadata("extra: 1\n"), false),
        ("rogue metadata key", meta("  extra: x\n"), false),
        ("missing hostname", MINIMAL.replace("  hostname: h\n", ""), false),
        ("null required field", MINIMAL.replace("hostname: h", "hostname:"), false),
        ("integer string field", MINIMAL.replace("hostname: h", "hostname: 010"), true),
        ("bool string field", MINIMAL.replace("hostname: h", "hostname: yes"), false),
        ("float string field", MINIMAL.replace("hostname: h", "hostname: 1.5"), false),
        ("timestamp string field", MINIMAL.replace("hostname: h", "hostname: 2020-01-01"), false),
        ("quoted yes is a string", MINIMAL.replace("hostname: h", "hostname: 'yes'"), true),
        ("tags mapping", meta("  tags:\n    a: b\n    1: c\n"), true),
        ("tags list", meta("  tags:\n  - a\n"), false),
        ("tags null", meta("  tags:\n"), true),
        ("tag value bool", meta("  tags:\n    a: true\n"), false),
        ("public_keys null", meta("  public_keys:\n"), true),
        ("public key ed25519", meta(&format!("  public_keys:\n  - {ED25519}\n")), true),
        ("public key garbage", meta("  public_keys:\n  - ssh-rsa AAAA\n"), false),
        ("public key bad type", meta("  public_keys:\n  - ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"), false),
        ("public key options prefix", meta(&format!("  public_keys:\n  - no-pty {ED25519}\n")), false),
        ("search list", with_metadata("").replace("network:\n", "network:\n  search:\n  - example.com\n"), true),
        ("search string", with_metadata("").replace("network:\n", "network:\n  search: example.com\n"), false),
        ("search null", with_metadata("").replace("network:\n", "network:\n  search:\n"), true),
        ("userdata null", with_metadata("userdata:\n"), true),
        ("userdata int", with_metadata("userdata: 123\n"), true),
        ("userdata list", with_metadata("userdata: [a]\n"), false),
        ("no nameservers", MINIMAL.replace("  nameservers:\n  - 10.0.0.2\n", "  nameservers: []\n"), false),
        ("loopback address", net("127.0.0.1", "255.255.255.0", "10.0.0.1", "10.0.0.2"), false),
        ("multicast gateway", net("10.0.0.5", "255.255.255.0", "224.0.0.1", "10.0.0.2"), false),
        ("unspecified address", net("0.0.0.0", "255.255.255.0", "10.0.0.1", "10.0.0.2"), false),
        ("reserved nameserver", net("10.0.0.5", "255.255.255.0", "10.0.0.1", "240.0.0.1"), false),
        ("broadcast address", net("255.255.255.255", "255.255.255.0", "10.0.0.1", "10.0.0.2"), false),
        ("link-local address", net("169.254.1.1", "255.255.255.0", "10.0.0.1", "10.0.0.2"), false),
        ("all-ones netmask", net("10.0.0.5", "255.255.255.255", "10.0.0.1", "10.0.0.2"), true),
        ("non-contiguous netmask", net("10.0.0.5", "255.0.255.0", "10.0.0.1", "10.0.0.2"), true),
        ("zero netmask", net("10.0.0.5", "0.0.0.0", "10.0.0.1", "10.0.0.2"), false),
        ("integer address", net("167772165", "255.255.255.0", "10.0.0.1", "10.0.0.2"), false),
        ("three octets", net("10.0.5", "255.255.255.0", "10.0.0.1", "10.0.0.2"), false),
        ("octet over 255", net("10.0.0.256", "255.255.255.0", "10.0.0.1", "10.0.0.2"), false),
        ("ambiguous octal octet", net("10.0.0.010", "255.255.255.0", "10.0.0.1", "10.0.0.2"), false),
        ("small leading-zero octet", net("10.0.0.05", "255.255.255.0", "10.0.0.1", "10.0.0.2"), true),
        ("top-level list", "- a\n- b\n".to_string(), false),
        ("empty file", String::new(), false),
        ("duplicate keys", with_metadata("userdata: a\nuserdata: b\n"), false),
        ("unknown tag", MINIMAL.replace("hostname: h", "hostname: !!python/name:os.system h"), false),
        ("set tag", with_metadata("userdata: !!set {a}\n"), false),
        ("syntax error", "metadata: [unclosed\n".to_string(), false),
        ("two documents", format!("{MINIMAL}---\n{MINIMAL}"), false),
        ("anchors, aliases and merge keys", "base: &b\n  ami_id: img\n  availability_zone: az\n  hostname: h\n  instance_id: i-1\nmetadata:\n  <<: *b\n  region: r\n".to_string(), false),
        (
            "billion laughs",
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n".to_string(),
            false,
        ),
    ]
}

#[tokio::test]
async fn each_validation_rule_decides_reply_or_silence() {
    let shared = super::shared_with_minimal("vm-rules");
    let mut esxi = Esxi::source(shared.vspc, "postern", "vm-rules").await;
    let mut failures = Vec::new();
    for (why, file, answered) in cases() {
        shared.write_vm("vm-rules", &file);
        esxi.send(b"!!REQUEST_METADATA#\n").await;
        esxi.expect_nothing_before_barrier_or_reply(answered, why, &mut failures)
            .await;
    }
    assert!(
        failures.is_empty(),
        "rules decided wrongly:\n{}",
        failures.join("\n")
    );
}

impl Esxi {
    /// After a request: either a reply line must come, or nothing before the barrier.
    async fn expect_nothing_before_barrier_or_reply(
        &mut self,
        answered: bool,
        why: &str,
        failures: &mut Vec<String>,
    ) {
        self.send(&vmware(0x99, &[])).await;
        let barrier = vmware(0x03, &[0x99]);
        let reply = self.reply_line_or_barrier(&barrier).await;
        match (answered, reply) {
            (true, Some(_)) | (false, None) => {}
            (true, None) => failures.push(format!("  {why}: expected a reply, got none")),
            (false, Some(line)) => failures.push(format!(
                "  {why}: expected no reply, got {}",
                String::from_utf8_lossy(&line)
            )),
        }
    }
}

#[tokio::test]
async fn missing_file_gets_no_reply_and_is_counted() {
    let shared = crate::support::shared();
    let before = shared
        .metric("postern_vspc_requests_total{code=\"REQUEST_NETWORKDATA\",outcome=\"no_file\"}")
        .await;
    let mut esxi = Esxi::source(shared.vspc, "postern", "vm-no-such-file").await;
    esxi.send(b"!!REQUEST_NETWORKDATA#\n").await;
    esxi.expect_nothing_before_barrier().await;
    let after = shared
        .metric("postern_vspc_requests_total{code=\"REQUEST_NETWORKDATA\",outcome=\"no_file\"}")
        .await;
    assert!(after >= before + 1.0);
}
