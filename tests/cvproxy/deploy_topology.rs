//! The Inventory & Topology Studio (spec 6.2 S5–S7d): devices missing from
//! `TOPOLOGY`, renamed, or with another MAC are written with the paths and
//! the Python `json.dumps` text of the spec.

use serde_json::json;

use postern::workflows::cvproxy::proto::arista::studio::v1 as studio;
use postern::workflows::cvproxy::proto::fmp::RepeatedString;

use super::fake::{FakeCv, InventoryDevice};
use super::harness::{H1, H2, Harness, S1, S2, assert_reply, m, ok_with_change_control, seq};

/// S4, then S5–S7, S7a–S7c and S7d.
fn topology_update_calls() -> Vec<String> {
    seq(&[
        &m::CREATE,
        &[m::DEVICES],
        &[m::INPUTS_ALL, m::INPUTS_CFG_ALL, m::INPUTS_ALL],
        &[m::INPUTS_ALL, m::INPUTS_CFG_ALL, m::INPUTS_ALL],
        &[m::INPUTS_CFG_SET_SOME],
    ])
}

fn value(w: &str, path: &[&str], inputs: &str) -> studio::InputsConfig {
    studio::InputsConfig {
        key: Some(studio::InputsKey {
            studio_id: Some("TOPOLOGY".to_owned()),
            workspace_id: Some(w.to_owned()),
            path: Some(RepeatedString {
                values: path.iter().map(|p| p.to_string()).collect(),
            }),
        }),
        remove: None,
        inputs: Some(inputs.to_owned()),
    }
}

fn new_entry(hostname: &str, mac: &str, serial: &str) -> String {
    format!(
        "{{\"inputs\": {{\"device\": {{\"hostname\": \"{hostname}\", \"macAddress\": \"{mac}\", \"modelName\": \"\", \"interfaces\": []}}}}, \"tags\": {{\"query\": \"device:{serial}\"}}}}"
    )
}

async fn deploy(h: &Harness) -> String {
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, None, "hostname leaf-1b\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    w
}

#[tokio::test]
async fn devices_missing_from_the_topology_studio_are_appended() {
    let fake = FakeCv::start().await;
    let d1 = InventoryDevice::new(S1, H1);
    let d2 = InventoryDevice::new(S2, H2);
    let (mac1, mac2) = (d1.mac.clone(), d2.mac.clone());
    fake.add_device(d1);
    fake.add_device(d2);
    let h = Harness::start(fake).await;
    let w = deploy(&h).await;

    let methods = h.fake.methods();
    assert_eq!(methods[..11], topology_update_calls()[..]);
    assert_eq!(methods[11], m::CONFIGLET_SET_SOME);
    // S7a reads the workspace again (which did not change the studio yet).
    let reads = h
        .fake
        .requests::<studio::InputsStreamRequest>(m::INPUTS_ALL);
    assert_eq!(reads.len(), 4);
    assert_eq!((&reads[2], &reads[3]), (&reads[0], &reads[1]));
    assert_eq!(
        reads[0].partial_eq_filter[0]
            .key
            .as_ref()
            .unwrap()
            .workspace_id
            .as_deref(),
        Some(w.as_str())
    );
    assert_eq!(
        h.fake
            .requests::<studio::InputsConfigSetSomeRequest>(m::INPUTS_CFG_SET_SOME),
        vec![studio::InputsConfigSetSomeRequest {
            values: vec![
                value(&w, &["devices", "0"], &new_entry(H1, &mac1, S1)),
                value(&w, &["devices", "1"], &new_entry(H2, &mac2, S2)),
            ]
        }]
    );
    let topology = h.fake.mainline_studio("TOPOLOGY").unwrap();
    assert_eq!(
        topology["devices"][1],
        json!({
            "inputs": {"device": {"hostname": H2, "macAddress": mac2, "modelName": "", "interfaces": []}},
            "tags": {"query": format!("device:{S2}")}
        })
    );
}

/// A listed device with another hostname is updated in place; one with
/// another MAC too; the update keeps the entry's other keys, and a missing
/// device is appended after the existing entries.
#[tokio::test]
async fn renamed_and_changed_devices_are_updated_in_place() {
    let fake = FakeCv::start().await;
    let d1 = InventoryDevice::new(S1, H1);
    let d2 = InventoryDevice::new(S2, H2).mac("50:00:00:d7:ee:0b");
    let mac1 = d1.mac.clone();
    // Index 0: someone else's device; 1: leaf-1a under its old name;
    // 2: leaf-1b with a stale MAC.
    fake.add_topology_device("SSJ99999999", "spine-1", "50:00:00:00:00:99");
    fake.add_topology_device(S1, "old-name", &mac1);
    fake.add_topology_device(S2, H2, "50:00:00:00:00:01");
    fake.add_device(d1);
    fake.add_device(d2);
    let h = Harness::start(fake).await;
    let w = deploy(&h).await;
    assert_eq!(h.fake.methods()[..11], topology_update_calls()[..]);
    let device = |hostname: &str, mac: &str| {
        format!(
            "{{\"hostname\": \"{hostname}\", \"interfaces\": [], \"macAddress\": \"{mac}\", \"modelName\": \"\"}}"
        )
    };
    assert_eq!(
        h.fake
            .requests::<studio::InputsConfigSetSomeRequest>(m::INPUTS_CFG_SET_SOME),
        vec![studio::InputsConfigSetSomeRequest {
            values: vec![
                value(
                    &w,
                    &["devices", "1", "inputs", "device"],
                    &device(H1, &mac1)
                ),
                value(
                    &w,
                    &["devices", "2", "inputs", "device"],
                    &device(H2, "50:00:00:d7:ee:0b")
                ),
            ]
        }]
    );
    let topology = h.fake.mainline_studio("TOPOLOGY").unwrap();
    assert_eq!(
        topology["devices"][0]["inputs"]["device"]["hostname"],
        "spine-1"
    );
    assert_eq!(topology["devices"][1]["inputs"]["device"]["hostname"], H1);
    assert_eq!(
        topology["devices"][2]["inputs"]["device"]["macAddress"],
        "50:00:00:d7:ee:0b"
    );
}

/// Listed correctly: no S7a–S7d.
#[tokio::test]
async fn up_to_date_devices_need_no_topology_write() {
    let fake = FakeCv::start().await;
    super::harness::seed_devices(&fake, &[(S1, H1), (S2, H2)]);
    let h = Harness::start(fake).await;
    deploy(&h).await;
    assert_eq!(h.fake.call_count(m::INPUTS_CFG_SET_SOME), 0);
    assert_eq!(
        h.fake.methods()[..7],
        seq(&[&m::CREATE, &m::DEVICES_OK])[..]
    );
}

/// Studio inputs of an odd shape: inside the topology client method the
/// Python exception becomes a D20 tuple and the workspace is abandoned.
#[tokio::test]
async fn an_odd_topology_tree_is_a_client_error_and_abandons() {
    let fake = FakeCv::start().await;
    super::harness::seed_devices(&fake, &[(S1, H1)]);
    fake.set_studio_inputs("TOPOLOGY", json!({ "devices": 5 }));
    let h = Harness::start(fake).await;
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &super::harness::error_reply(&[&format!(
            "(\"'int' object is not iterable\", (<CVClient>,), {{'workspace_id': '{w}'}})"
        )]),
    );
    let methods = h.fake.methods();
    assert_eq!(methods.last().map(String::as_str), Some(m::WS_SET));
    assert_eq!(
        h.fake.workspace(&w).unwrap().state,
        postern::workflows::cvproxy::proto::arista::workspace::v1::WorkspaceState::Abandoned
    );
}

/// Assignment roots that are not a list: the workflow's own Python code
/// fails, the exception escapes cvproxy's deploy() with its class name, and
/// nothing is abandoned.
#[tokio::test]
async fn odd_assignment_roots_escape_without_abandon() {
    for (roots, error) in [
        (
            json!("abc"),
            "AttributeError: 'str' object has no attribute 'insert'",
        ),
        (
            json!(5),
            "TypeError: argument of type 'int' is not iterable",
        ),
    ] {
        let fake = FakeCv::start().await;
        super::harness::seed_devices(&fake, &[(S1, H1)]);
        fake.set_studio_inputs(
            "studio-static-configlet",
            json!({ "configletAssignmentRoots": roots }),
        );
        let h = Harness::start(fake).await;
        let response = h
            .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
            .await;
        assert_reply(&response, &super::harness::error_reply(&[error]));
        let methods = h.fake.methods();
        assert_eq!(methods.last().map(String::as_str), Some(m::INPUTS_ONE));
        h.fake.settle();
        let w = h.workspace_id();
        assert_eq!(
            h.fake.workspace(&w).unwrap().state,
            postern::workflows::cvproxy::proto::arista::workspace::v1::WorkspaceState::Pending
        );
    }
}
