//! The Static Configuration Studio on a CloudVision that already holds
//! AVD's containers (spec 6.2 S15–S22, 9.2): the root is put back among the
//! assignment roots, changed device containers are rewritten, the root's
//! child list keeps what exists and drops what does not.

use postern::workflows::cvproxy::proto::arista::{configlet::v1 as cfg, studio::v1 as studio};
use postern::workflows::cvproxy::proto::fmp::RepeatedString;

use super::fake::{ContainerRecord, FakeCv};
use super::harness::{
    H1, H2, Harness, S1, S2, assert_reply, m, ok_with_change_control, seed_devices, seq,
};

async fn deploy(h: &Harness, request: &super::harness::DeployRequest) {
    let response = h.post(request).await;
    let w = h.workspace_id();
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
}

fn root_children(h: &Harness) -> Vec<String> {
    h.fake.mainline_containers()["avd-configlets"]
        .child_assignment_ids
        .clone()
}

/// Someone removed AVD's root from `configletAssignmentRoots`: S20 puts it
/// back first, keeping the other roots.
#[tokio::test]
async fn a_removed_assignment_root_is_put_back_first() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    fake.seed_avd_device(S1, H1, "hostname leaf-1a\n");
    fake.set_assignment_roots(&["campus-root", "dc-root"]);
    let h = Harness::start(fake).await;
    deploy(
        &h,
        &h.request()
            .device(H1, Some(S1), "hostname leaf-1a\nip routing\n"),
    )
    .await;
    let sets = h
        .fake
        .requests::<studio::InputsConfigSetRequest>(m::INPUTS_CFG_SET);
    assert_eq!(sets.len(), 1);
    assert_eq!(
        sets[0].value.as_ref().unwrap().inputs.as_deref(),
        Some("[\"avd-configlets\", \"campus-root\", \"dc-root\"]")
    );
    assert_eq!(
        h.fake.mainline_studio("studio-static-configlet").unwrap()["configletAssignmentRoots"],
        serde_json::json!(["avd-configlets", "campus-root", "dc-root"])
    );
    // The root and the device container exist and match: no S16, S21, S22.
    assert_eq!(h.fake.call_count(m::CONTAINER_SET), 0);
    assert_eq!(h.fake.call_count(m::CONTAINER_SET_SOME), 0);
}

/// A new device on an existing root: only its container is written, and
/// S22 lists the existing children (in the root's order) then the new one;
/// a child the root lists but that no longer exists is dropped.
#[tokio::test]
async fn a_new_device_joins_the_existing_children() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, H2)]);
    fake.seed_avd_device(S1, H1, "hostname leaf-1a\n");
    fake.seed_avd_device("SSJ77777777", "leaf-7", "hostname leaf-7\n");
    let mut root = fake.mainline_containers()["avd-configlets"].clone();
    root.child_assignment_ids = vec![
        "avd-SSJ77777777".into(),
        "avd-GONE0000000".into(),
        format!("avd-{S1}"),
    ];
    fake.set_container("avd-configlets", root);
    let h = Harness::start(fake).await;
    deploy(
        &h,
        &h.request()
            .device(H1, Some(S1), "hostname leaf-1a\n")
            .device(H2, Some(S2), "hostname leaf-1b\n"),
    )
    .await;
    let w = h.workspace_id();
    assert_eq!(
        h.fake.methods()[7..],
        seq(&[
            &[m::CONFIGLET_SET_SOME, m::CONTAINERS],
            &m::ROOTS,
            &[m::CONTAINERS, m::CONTAINER_SET_SOME, m::CONTAINER_SET],
            &m::BUILD,
            &m::SUBMIT,
            &[m::CC_GET],
        ])[..]
    );
    // S20b asks for every listed child.
    let reads = h
        .fake
        .requests::<cfg::ConfigletAssignmentStreamRequest>(m::CONTAINERS);
    let asked: Vec<String> = reads[1]
        .partial_eq_filter
        .iter()
        .map(|f| f.key.clone().unwrap().configlet_assignment_id.unwrap())
        .collect();
    assert_eq!(
        asked,
        ["avd-SSJ77777777", "avd-GONE0000000", &format!("avd-{S1}")]
    );
    // S21: only the new device.
    let written = h
        .fake
        .requests::<cfg::ConfigletAssignmentConfigSetSomeRequest>(m::CONTAINER_SET_SOME);
    let ids: Vec<String> = written[0]
        .values
        .iter()
        .map(|v| v.key.clone().unwrap().configlet_assignment_id.unwrap())
        .collect();
    assert_eq!(ids, [format!("avd-{S2}")]);
    // S22: found children in the root's order, then the new one.
    let s22 = h
        .fake
        .requests::<cfg::ConfigletAssignmentConfigSetRequest>(m::CONTAINER_SET);
    let expected = vec![
        "avd-SSJ77777777".to_owned(),
        format!("avd-{S1}"),
        format!("avd-{S2}"),
    ];
    assert_eq!(
        s22[0].value.as_ref().unwrap().child_assignment_ids,
        Some(RepeatedString {
            values: expected.clone()
        })
    );
    assert_eq!(
        s22[0].value.as_ref().unwrap().key,
        Some(cfg::ConfigletAssignmentKey {
            workspace_id: Some(w),
            configlet_assignment_id: Some("avd-configlets".into()),
        })
    );
    assert_eq!(root_children(&h), expected);
    // The root kept its name and query (S22 is a partial update).
    let root = &h.fake.mainline_containers()["avd-configlets"];
    assert_eq!(root.display_name.as_deref(), Some("AVD Configurations"));
    assert_eq!(root.query.as_deref(), Some("device:*"));
}

/// A renamed device: its container differs (display name, description) and
/// is rewritten; it is a child already, so there is no S22.
#[tokio::test]
async fn a_changed_device_container_is_rewritten_without_touching_the_root() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, "leaf-new")]);
    fake.seed_avd_device(S1, H1, "hostname leaf-1a\n");
    // Someone added a configlet to the device's container.
    let mut container = fake.mainline_containers()[&format!("avd-{S1}")].clone();
    container.configlet_ids.push("extra".into());
    fake.set_container(&format!("avd-{S1}"), container);
    let h = Harness::start(fake).await;
    deploy(
        &h,
        &h.request()
            .device("leaf-new", Some(S1), "hostname leaf-new\n"),
    )
    .await;
    assert_eq!(h.fake.call_count(m::CONTAINER_SET), 0);
    assert_eq!(h.fake.call_count(m::CONTAINER_SET_SOME), 1);
    assert_eq!(
        h.fake.mainline_containers()[&format!("avd-{S1}")],
        ContainerRecord {
            display_name: Some("leaf-new".into()),
            description: Some("Configuration created and uploaded by AVD for leaf-new".into()),
            configlet_ids: vec![format!("avd-{S1}")],
            query: Some(format!("device:{S1}")),
            match_policy: cfg::MatchPolicy::MatchAll as i32,
            child_assignment_ids: Vec::new(),
        }
    );
    assert_eq!(
        h.fake.mainline_configlets()[&format!("avd-{S1}")]
            .display_name
            .as_deref(),
        Some("AVD-leaf-new")
    );
    assert_eq!(root_children(&h), [format!("avd-{S1}")]);
}
