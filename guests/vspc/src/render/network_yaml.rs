//! RESPONSE_NETWORKDATA (spec 9.2): the seed's fixed network-config v1 structure as PyYAML's
//! `safe_dump(d, default_flow_style=False)` writes it: keys sorted, block sequences not
//! indented under their key, an empty list as `[]`, a final line break.

use super::yaml_scalar::write_search_item;
use crate::schema::Network;
use core::fmt::Write;

pub fn network_config(network: &Network) -> String {
    let mut out = String::with_capacity(256);
    // Addresses are normalised dotted quads: always plain, never folded.
    let _ = write!(
        out,
        "config:\n- name: eth0\n  subnets:\n  - address: {}\n    dns_nameservers:\n",
        network.address
    );
    for nameserver in &network.nameservers {
        let _ = writeln!(out, "    - {nameserver}");
    }
    if network.search.is_empty() {
        out.push_str("    dns_search: []\n");
    } else {
        out.push_str("    dns_search:\n");
        for domain in &network.search {
            write_search_item(&mut out, domain);
            out.push('\n');
        }
    }
    let _ = write!(
        out,
        "    gateway: {}\n    netmask: {}\n    type: static\n  type: physical\nversion: 1\n",
        network.gateway, network.netmask
    );
    out
}
