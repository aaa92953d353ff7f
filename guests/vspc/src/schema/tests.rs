//! Each rule and message of spec 8.3, 8.5 and 8.6 as seen through a whole file.

use super::*;
use crate::yaml::load;

const RSA_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDB9FH324syhZ88B3TiMkYIMrI2/yvCF+tiWk+eOQKnmxA4zXSeVot1z52fk6P2xdZU9jzni2Qm5PihVKclzQmvIijpXV7MBXQS2/G100FyfZL76LK/ZLGITE3MU2+iBVH59gq+sJywQXkXYLngZiChVbokFidND39kNuQXQZCb2lnKXwM6KLMn4v9nFBTYQmjImqm+2BMsKgdupaYm+qzr+Gr8lLitb+VKJtsrnRaW0NerTLNr3fXtw0sgeQkcQtqaKOvPRocUoa7qnzI0TP8Mx02klTiWwHvPzc9e0HztXOQwYZB6/dcB9CoglLYnzcTf2cEVGHO9NGb9GLqn3Oph";

/// An instance file built from sections of `key: <flow YAML>` lines, starting valid.
#[derive(Clone)]
struct File {
    sections: Vec<(&'static str, Vec<(&'static str, String)>)>,
}

impl File {
    fn valid() -> Self {
        let metadata = [
            ("ami_id", "img"),
            ("instance_id", "i-1"),
            ("region", "r"),
            ("availability_zone", "az"),
            ("hostname", "h"),
        ];
        let network = [
            ("address", "10.0.0.5"),
            ("netmask", "255.255.255.0"),
            ("gateway", "10.0.0.1"),
            ("nameservers", "[10.0.0.2]"),
        ];
        let owned = |pairs: &[(&'static str, &str)]| {
            pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
        };
        File {
            sections: vec![("metadata", owned(&metadata)), ("network", owned(&network))],
        }
    }

    /// Sets `key` of `section` (`""` for a top-level scalar key) to the flow YAML `value`.
    fn set(mut self, section: &'static str, key: &'static str, value: &str) -> Self {
        let pairs = match self
            .sections
            .iter_mut()
            .position(|(name, _)| *name == section)
        {
            Some(index) => &mut self.sections[index].1,
            None => {
                self.sections.push((section, Vec::new()));
                &mut self.sections.last_mut().unwrap().1
            }
        };
        match pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value.to_string(),
            None => pairs.push((key, value.to_string())),
        }
        self
    }

    fn without(mut self, section: &str, key: &str) -> Self {
        for (name, pairs) in &mut self.sections {
            if *name == section {
                pairs.retain(|(k, _)| *k != key);
            }
        }
        self
    }

    fn text(&self) -> String {
        let mut text = String::new();
        for (section, pairs) in &self.sections {
            if section.is_empty() {
                for (key, value) in pairs {
                    text.push_str(&format!("{key}: {value}\n"));
                }
            } else {
                text.push_str(&format!("{section}:\n"));
                for (key, value) in pairs {
                    text.push_str(&format!("  {key}: {value}\n"));
                }
            }
        }
        text
    }

    fn check(&self) -> Result<Instance, Vec<String>> {
        let document =
            load(self.text().as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", self.text()));
        validate(&document)
    }

    fn instance(&self) -> Instance {
        self.check()
            .unwrap_or_else(|problems| panic!("{}: {problems:?}", self.text()))
    }

    /// The problems, which must be exactly `expected`.
    fn problems(&self, expected: &[&str]) {
        let problems = self
            .check()
            .err()
            .unwrap_or_else(|| panic!("{} was accepted", self.text()));
        assert_eq!(problems, expected, "{}", self.text());
    }
}

fn ip(text: &str) -> Ipv4 {
    ipv4::parse(text).unwrap()
}

#[test]
fn minimal_file_gets_the_defaults() {
    let instance = File::valid().instance();
    assert_eq!(instance.metadata.ami_id, "img");
    assert_eq!(instance.metadata.hostname, "h");
    assert!(instance.metadata.tags.is_empty());
    assert!(instance.metadata.public_keys.is_empty());
    assert!(instance.network.search.is_empty());
    assert_eq!(instance.network.nameservers, vec![ip("10.0.0.2")]);
    assert_eq!(instance.userdata, "#cloud-config\n{}");
}

#[test]
fn optional_nulls_mean_defaults() {
    let file = File::valid()
        .set("metadata", "tags", "~")
        .set("metadata", "public_keys", "null")
        .set("network", "search", "")
        .set("", "userdata", "~");
    let instance = file.instance();
    assert!(instance.metadata.tags.is_empty());
    assert!(instance.metadata.public_keys.is_empty());
    assert!(instance.network.search.is_empty());
    assert_eq!(instance.userdata, DEFAULT_USERDATA);
}

#[test]
fn hyphenated_aliases() {
    let file = File::valid()
        .without("metadata", "ami_id")
        .without("metadata", "instance_id")
        .without("metadata", "availability_zone")
        .set("metadata", "ami-id", "a")
        .set("metadata", "instance-id", "i")
        .set("metadata", "availability-zone", "z")
        .set("metadata", "public-keys", &format!("['{RSA_KEY}']"));
    let metadata = file.instance().metadata;
    assert_eq!(
        (
            metadata.ami_id.as_str(),
            metadata.instance_id.as_str(),
            metadata.availability_zone.as_str()
        ),
        ("a", "i", "z")
    );
    assert_eq!(metadata.public_keys, vec![RSA_KEY.to_string()]);

    File::valid()
        .set("metadata", "ami-id", "other")
        .problems(&["metadata.ami-id: Give only one of 'ami_id' and 'ami-id'."]);
    File::valid()
        .set("metadata", "public_keys", "[]")
        .set("metadata", "public-keys", "[]")
        .problems(&["metadata.public-keys: Give only one of 'public_keys' and 'public-keys'."]);
    // Only those four have aliases.
    File::valid()
        .set("network", "name-servers", "[]")
        .problems(&["network.name-servers: Rogue field"]);
    File::valid()
        .set("metadata", "host-name", "x")
        .problems(&["metadata.host-name: Rogue field"]);
}

#[test]
fn rogue_fields() {
    File::valid()
        .set("metadata", "extra", "1")
        .problems(&["metadata.extra: Rogue field"]);
    File::valid()
        .set("network", "mac", "x")
        .problems(&["network.mac: Rogue field"]);
    File::valid()
        .set("", "vendordata", "x")
        .problems(&["vendordata: Rogue field"]);
    File::valid()
        .set("metadata", "7", "x")
        .problems(&["metadata.7: Rogue field"]);
}

#[test]
fn required_fields() {
    File::valid()
        .without("metadata", "hostname")
        .problems(&["metadata.hostname: This field is required."]);
    File::valid()
        .set("metadata", "hostname", "~")
        .problems(&["metadata.hostname: This field is required."]);
    File::valid()
        .set("network", "gateway", "null")
        .problems(&["network.gateway: This field is required."]);
    File::valid()
        .set("network", "nameservers", "~")
        .problems(&["network.nameservers: This field is required."]);
    let no_network = File {
        sections: File::valid()
            .sections
            .into_iter()
            .filter(|(name, _)| *name != "network")
            .collect(),
    };
    no_network.problems(&["network: This field is required."]);
    assert_eq!(
        validate(&load(b"").unwrap()).unwrap_err(),
        vec![
            "metadata: This field is required.",
            "network: This field is required."
        ]
    );
    assert_eq!(
        validate(&load(b"metadata: ~\nnetwork:\n").unwrap())
            .unwrap_err()
            .len(),
        2
    );
}

#[test]
fn sections_must_be_mappings() {
    assert_eq!(
        validate(&load(b"[1, 2]").unwrap()).unwrap_err(),
        vec!["(top level): The file must hold a mapping, not a list."]
    );
    assert_eq!(
        validate(&load(b"just text").unwrap()).unwrap_err(),
        vec!["(top level): The file must hold a mapping, not a str."]
    );
    let text = File::valid()
        .text()
        .replacen("metadata:\n", "metadata: [1]\nold_metadata:\n", 1);
    let problems = validate(&load(text.as_bytes()).unwrap()).unwrap_err();
    assert_eq!(
        problems[0],
        "metadata: Please use a mapping for this field or InstanceMetadata instance instead of list."
    );
    let text = File::valid()
        .text()
        .replacen("network:\n", "network: x\nold_network:\n", 1);
    let problems = validate(&load(text.as_bytes()).unwrap()).unwrap_err();
    assert_eq!(
        problems[0],
        "network: Please use a mapping for this field or InstanceNetworkData instance instead of str."
    );
}

#[test]
fn string_coercion() {
    let region = |value: &str| File::valid().set("metadata", "region", value);
    assert_eq!(region("42").instance().metadata.region, "42");
    assert_eq!(region("010").instance().metadata.region, "8");
    assert_eq!(region("-42").instance().metadata.region, "-42");
    assert_eq!(region("0x10").instance().metadata.region, "16");
    assert_eq!(region("''").instance().metadata.region, "");
    assert_eq!(
        region("!!binary aMO0c3Q=").instance().metadata.region,
        "hôst"
    );
    assert_eq!(region("\"h\\xf4st\"").instance().metadata.region, "hôst");
    region("true").problems(&["metadata.region: Couldn't interpret 'True' as string."]);
    region("1.5").problems(&["metadata.region: Couldn't interpret '1.5' as string."]);
    region("1e3").instance();
    region("2020-01-01").problems(&["metadata.region: Couldn't interpret '2020-01-01' as string."]);
    region("{x: 1}").problems(&["metadata.region: Couldn't interpret '{'x': 1}' as string."]);
    region("[a, 1]").problems(&["metadata.region: Couldn't interpret '['a', 1]' as string."]);
    region("!!binary /w==").problems(&["metadata.region: Invalid UTF-8 data."]);
}

#[test]
fn tags() {
    let tags = |value: &str| File::valid().set("metadata", "tags", value);
    assert_eq!(
        tags("{z: '1', a: 2, m: x}").instance().metadata.tags,
        vec![
            ("z".into(), "1".into()),
            ("a".into(), "2".into()),
            ("m".into(), "x".into())
        ]
    );
    assert_eq!(
        tags("{1: a, 010: b}").instance().metadata.tags,
        vec![("1".into(), "a".into()), ("8".into(), "b".into())]
    );
    assert_eq!(
        tags("{1: a, '1': b, c: d}").instance().metadata.tags,
        vec![("1".into(), "b".into()), ("c".into(), "d".into())],
        "keys that become the same text are one key, like a Python dict"
    );
    assert_eq!(tags("{}").instance().metadata.tags, vec![]);
    tags("[a, b]").problems(&["metadata.tags: Only mappings may be used in a DictType"]);
    tags("a").problems(&["metadata.tags: Only mappings may be used in a DictType"]);
    tags("{a: true, b: ~}").problems(&[
        "metadata.tags.a: Couldn't interpret 'True' as string.",
        "metadata.tags.b: Couldn't interpret 'None' as string.",
    ]);
    tags("{true: a}")
        .problems(&["metadata.tags.True: Couldn't interpret the key 'True' as string."]);
    tags("{1.5: a}").problems(&["metadata.tags.1.5: Couldn't interpret the key '1.5' as string."]);
}

#[test]
fn lists() {
    let search = |value: &str| File::valid().set("network", "search", value);
    assert_eq!(
        search("[example.com, 1, '']").instance().network.search,
        vec!["example.com", "1", ""]
    );
    search("example.com").problems(&["network.search: Could not interpret the value as a list"]);
    search("{a: b}").problems(&["network.search: Could not interpret the value as a list"]);
    search("[a, [b], ~]").problems(&[
        "network.search.1: Couldn't interpret '['b']' as string.",
        "network.search.2: Couldn't interpret 'None' as string.",
    ]);
    let nameservers = |value: &str| File::valid().set("network", "nameservers", value);
    nameservers("[]").problems(&["network.nameservers: Please provide at least 1 item."]);
    nameservers("10.0.0.2")
        .problems(&["network.nameservers: Could not interpret the value as a list"]);
    nameservers("[127.0.0.1, 8.8.8.8, 224.0.0.1]").problems(&[
        "network.nameservers.0: Cannot use a loopback (RFC 3330) IPv4 Address",
        "network.nameservers.2: Cannot use a multicast (RFC 3171) IPv4 Address",
    ]);
    assert_eq!(
        nameservers("[8.8.8.8, 8.8.4.4]")
            .instance()
            .network
            .nameservers,
        vec![ip("8.8.8.8"), ip("8.8.4.4")]
    );
}

#[test]
fn addresses() {
    let network = |key: &'static str, value: &str| File::valid().set("network", key, value);
    assert_eq!(
        network("address", "10.0.0.05").instance().network.address,
        ip("10.0.0.5")
    );
    assert_eq!(
        network("address", "'10.0.0.6'").instance().network.address,
        ip("10.0.0.6")
    );
    network("address", "167772165").problems(&["network.address: must be a dotted-quad string"]);
    network("netmask", "24").problems(&["network.netmask: must be a dotted-quad string"]);
    network("gateway", "1.5").problems(&["network.gateway: must be a dotted-quad string"]);
    network("address", "[10.0.0.5]").problems(&["network.address: must be a dotted-quad string"]);
    network("address", "127.0.0.1")
        .problems(&["network.address: Cannot use a loopback (RFC 3330) IPv4 Address"]);
    network("gateway", "255.255.255.255")
        .problems(&["network.gateway: Cannot use a reserved (IETF reserved) IPv4 Address"]);
    network("address", "10.0.0").problems(&["network.address: Expected 4 octets in '10.0.0'"]);
    assert_eq!(
        network("netmask", "255.255.255.255")
            .instance()
            .network
            .netmask,
        ip("255.255.255.255")
    );
    assert_eq!(
        network("netmask", "255.0.255.0").instance().network.netmask,
        ip("255.0.255.0")
    );
    network("netmask", "0.0.0.0")
        .problems(&["network.netmask: Cannot use an unspecified (RFC 5735) IPv4 Address"]);
}

#[test]
fn public_keys() {
    let keys = |value: &str| File::valid().set("metadata", "public_keys", value);
    let folded = format!("{RSA_KEY}\n    comment");
    let text = File::valid().text().replace(
        "  hostname: h\n",
        &format!("  hostname: h\n  public_keys:\n  - {folded}\n"),
    );
    let instance = validate(&load(text.as_bytes()).unwrap()).unwrap();
    assert_eq!(
        instance.metadata.public_keys,
        vec![format!("{RSA_KEY} comment")],
        "a folded plain scalar is one line"
    );
    keys(&format!("['{RSA_KEY}', ssh...., 'no-pty {RSA_KEY}', 7]")).problems(&[
        "metadata.public_keys.1: public_key could not be decoded or is not in the proper format",
        "metadata.public_keys.2: public_key serialization type is not supported",
        "metadata.public_keys.3: public_key could not be decoded or is not in the proper format",
    ]);
    keys("ssh-rsa AAAA")
        .problems(&["metadata.public_keys: Could not interpret the value as a list"]);
}

#[test]
fn userdata() {
    let userdata = |value: &str| File::valid().set("", "userdata", value);
    assert_eq!(userdata("123").instance().userdata, "123");
    assert_eq!(userdata("''").instance().userdata, "");
    assert_eq!(
        userdata("\"#cloud-config\\nx: 1\\n\"").instance().userdata,
        "#cloud-config\nx: 1\n"
    );
    userdata("yes").problems(&["userdata: Couldn't interpret 'True' as string."]);
}

#[test]
fn every_problem_is_reported() {
    let file = File::valid()
        .without("metadata", "region")
        .set("metadata", "tags", "[a]")
        .set("network", "address", "127.0.0.1")
        .set("network", "search", "x")
        .set("", "extra", "1");
    file.problems(&[
        "metadata.region: This field is required.",
        "metadata.tags: Only mappings may be used in a DictType",
        "network.address: Cannot use a loopback (RFC 3330) IPv4 Address",
        "network.search: Could not interpret the value as a list",
        "extra: Rogue field",
    ]);
}

#[test]
fn problems_are_capped() {
    let many: Vec<String> = (0..80).map(|i| format!("k{i}: true")).collect();
    let problems = File::valid()
        .set("metadata", "tags", &format!("{{{}}}", many.join(", ")))
        .check()
        .unwrap_err();
    assert_eq!(problems.len(), MAX_PROBLEMS + 1);
    assert_eq!(problems.last().unwrap(), "... and 30 more problems");
}

/// The seed README's example, literally (spec 8.4): the aliases fix the keys, the rest fails.
#[test]
fn seed_readme_example_is_refused() {
    let text = "---
metadata:
  ami-id: my-image
  instance-id: my-instance
  region: us-east1
  availability-zone: us-east1-a
  tags:
    - a
    - b
  public-keys:
    - ssh....
  hostname: myhostnamehere
network:
  address: 192.168.1.1
  netmask: 255.255.255.0
  gateway: 192.168.1.254
  search: 'example.com'
  nameservers:
    - 8.8.8.8
    - 8.8.4.4
userdata: |
  #cloud-config
  growpart:
    mode: auto
    devices: ['/']
    ignore_growroot_disabled: false
";
    assert_eq!(
        validate(&load(text.as_bytes()).unwrap()).unwrap_err(),
        vec![
            "metadata.tags: Only mappings may be used in a DictType",
            "metadata.public-keys.0: public_key could not be decoded or is not in the proper format",
            "network.search: Could not interpret the value as a list",
        ]
    );
}
