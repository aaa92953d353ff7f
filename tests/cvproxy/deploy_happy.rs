//! Successful deployments over real HTTP into Postern and real gRPC into
//! the fake CloudVision: the call sequence of spec 6.1, the request fields
//! of 6.2 (presence included), the reply, and what CloudVision holds after.

use postern::workflows::cvproxy::proto::arista::{
    changecontrol::v1 as cc, configlet::v1 as cfg, inventory::v1 as inv, studio::v1 as studio,
    tag::v2 as tag, time::TimeBounds, workspace::v1 as ws,
};
use postern::workflows::cvproxy::proto::fmp::RepeatedString;
use tag::{CreatorType, ElementType};

use super::fake::{ContainerRecord, FakeCv, TagAssignmentRecord, TagRecord};
use super::harness::{
    CREATE, H1, H2, Harness, S1, S2, START_BUILD, SUBMIT, assert_reply, m, ok_reply,
    ok_with_change_control, seed_devices, seq,
};
use crate::support::hex_decode;

/// `AVD YYYY-MM-DD HH:MM:SS[.ffffff]` (Python's `str(datetime.now())`).
fn assert_display_name_form(name: &str) {
    let rest = name
        .strip_prefix("AVD ")
        .unwrap_or_else(|| panic!("{name:?}"));
    let (base, fraction) = match rest.split_once('.') {
        Some((base, fraction)) => (base, Some(fraction)),
        None => (rest, None),
    };
    let shape: String = base
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(shape, "dddd-dd-dd dd:dd:dd", "{name:?}");
    if let Some(fraction) = fraction {
        assert_eq!(fraction.len(), 6, "{name:?}");
        assert!(fraction.bytes().all(|b| b.is_ascii_digit()), "{name:?}");
        assert_ne!(
            fraction, "000000",
            "{name:?}: zero microseconds are omitted"
        );
    }
}

/// `<prefix><uuid4 lowercase hyphenated>`.
fn assert_uuid_id(id: &str, prefix: &str) {
    let uuid = id.strip_prefix(prefix).unwrap_or_else(|| panic!("{id:?}"));
    let parsed = uuid::Uuid::parse_str(uuid).unwrap_or_else(|e| panic!("{id:?}: {e}"));
    assert_eq!(parsed.get_version_num(), 4, "{id:?}");
    assert_eq!(parsed.hyphenated().to_string(), uuid, "{id:?}");
}

fn strings(values: &[&str]) -> Option<RepeatedString> {
    Some(RepeatedString {
        values: values.iter().map(|v| v.to_string()).collect(),
    })
}

fn ws_key(id: &str) -> Option<ws::WorkspaceKey> {
    Some(ws::WorkspaceKey {
        workspace_id: Some(id.to_owned()),
    })
}

fn subscription(id: &str) -> ws::WorkspaceStreamRequest {
    ws::WorkspaceStreamRequest {
        partial_eq_filter: vec![ws::Workspace {
            key: ws_key(id),
            ..Default::default()
        }],
        time: None,
    }
}

fn container_key(w: &str, id: &str) -> Option<cfg::ConfigletAssignmentKey> {
    Some(cfg::ConfigletAssignmentKey {
        workspace_id: Some(w.to_owned()),
        configlet_assignment_id: Some(id.to_owned()),
    })
}

fn device_container(w: &str, serial: &str, hostname: &str) -> cfg::ConfigletAssignmentConfig {
    cfg::ConfigletAssignmentConfig {
        key: container_key(w, &format!("avd-{serial}")),
        display_name: Some(hostname.to_owned()),
        description: Some(format!(
            "Configuration created and uploaded by AVD for {hostname}"
        )),
        configlet_ids: strings(&[&format!("avd-{serial}")]),
        query: Some(format!("device:{serial}")),
        remove: None,
        match_policy: cfg::MatchPolicy::MatchAll as i32,
        child_assignment_ids: Some(RepeatedString::default()),
    }
}

fn assignment_key(w: &str, label: &str, value: &str, serial: &str) -> tag::TagAssignmentKey {
    tag::TagAssignmentKey {
        workspace_id: Some(w.to_owned()),
        element_type: ElementType::Device as i32,
        label: Some(label.to_owned()),
        value: Some(value.to_owned()),
        device_id: Some(serial.to_owned()),
        interface_id: None,
        element_sub_type: 0,
    }
}

/// The full 28-call sequence of spec 6.1: two devices given by hostname,
/// tags, an empty CloudVision (only the inventory and topology know the
/// devices), no change-control name.
#[tokio::test]
async fn fresh_deploy_with_tags_makes_the_28_calls_of_spec_6_1() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, H2)]);
    let h = Harness::start(fake).await;
    let request = h
        .request()
        .tagged(
            H1,
            None,
            "hostname leaf-1a\n",
            &[("role", "leaf"), ("rack", "r1")],
        )
        .tagged(H2, None, "hostname leaf-1b\n", &[("role", "leaf")]);
    let response = h.post(&request).await;
    let fake = &h.fake;

    let expected = seq(&[
        &m::CREATE,
        &m::DEVICES_OK,
        &m::GET_TAGS,
        &[m::TAG_SET],
        &m::GET_ASSIGNMENTS,
        &[
            m::ASSIGN_SET,
            m::CONFIGLET_SET_SOME,
            m::CONTAINERS,
            m::CONTAINER_SET,
        ],
        &m::ROOTS,
        &[m::INPUTS_CFG_SET, m::CONTAINER_SET_SOME, m::CONTAINER_SET],
        &m::BUILD,
        &m::SUBMIT,
        &[m::CC_GET],
    ]);
    assert_eq!(fake.methods(), expected);
    assert_eq!(expected.len(), 28);

    // S2: the workspace and its display name; the reply names the change
    // control after it.
    let sets = fake.requests::<ws::WorkspaceConfigSetRequest>(m::WS_SET);
    let create = sets[0].value.clone().unwrap();
    let w = create.key.clone().unwrap().workspace_id.unwrap();
    assert_uuid_id(&w, "ws-");
    assert_eq!(w.len(), 39);
    let name = create.display_name.clone().unwrap();
    assert_display_name_form(&name);
    assert_eq!(
        create,
        ws::WorkspaceConfig {
            key: ws_key(&w),
            display_name: Some(name.clone()),
            ..Default::default()
        },
        "S2 sends no description, request or request_params"
    );
    assert_reply(&response, &ok_with_change_control(&name));
    assert!(response.header("date").is_some(), "{response:?}");
    assert_eq!(
        response.header("content-length"),
        Some(response.body.len().to_string().as_str())
    );

    // S1 and the waits.
    assert_eq!(
        fake.requests::<ws::WorkspaceRequest>(m::WS_GET),
        vec![ws::WorkspaceRequest {
            key: ws_key(&w),
            time: None
        }]
    );
    assert_eq!(
        fake.requests::<ws::WorkspaceStreamRequest>(m::WS_SUB),
        vec![subscription(&w); 3]
    );

    // S4 by hostname, request order, bytes as spec 6.4 (in request order).
    let s4 = &fake.calls()[3];
    assert_eq!(
        s4.message,
        hex_decode(&format!(
            "0a0d 0a00 5a09 0a07 {} 0a0d 0a00 5a09 0a07 {} 1a00",
            hex(H1),
            hex(H2)
        ))
    );
    let s4: inv::DeviceStreamRequest = s4.decode().unwrap();
    assert_eq!(s4.partial_eq_filter[0].key, Some(inv::DeviceKey::default()));
    assert_eq!(s4.time, Some(TimeBounds::default()));

    // S5–S7: the topology studio in the workspace, its removals, mainline.
    let topology_key = |workspace: &str| studio::InputsKey {
        studio_id: Some("TOPOLOGY".to_owned()),
        workspace_id: Some(workspace.to_owned()),
        path: None,
    };
    let inputs = fake.requests::<studio::InputsStreamRequest>(m::INPUTS_ALL);
    assert_eq!(inputs.len(), 2);
    assert_eq!(
        inputs[0].partial_eq_filter,
        vec![studio::Inputs {
            key: Some(topology_key(&w)),
            ..Default::default()
        }]
    );
    assert_eq!(
        inputs[1].partial_eq_filter[0].key,
        Some(topology_key("")),
        "S7 reads mainline with a present-empty workspace id"
    );
    assert_eq!(
        fake.calls()[6].message,
        hex_decode("0a10 0a0e 0a0a 0a08 544f504f4c4f4759 1200")
    );
    let removed = fake.requests::<studio::InputsConfigStreamRequest>(m::INPUTS_CFG_ALL);
    assert_eq!(
        removed[0].partial_eq_filter,
        vec![studio::InputsConfig {
            key: Some(topology_key(&w)),
            remove: Some(true),
            inputs: None
        }]
    );

    // S8: the wire bytes of spec 6.4; S9 on the workspace.
    assert_eq!(
        fake.calls()[7].message,
        hex_decode("0a08 0a04 0a00 1001 1002 1a00")
    );
    let s9 = fake.requests::<tag::TagConfigStreamRequest>(m::TAG_CFG);
    assert_eq!(
        s9[0].partial_eq_filter[0].key,
        Some(tag::TagKey {
            workspace_id: Some(w.clone()),
            element_type: ElementType::Device as i32,
            ..Default::default()
        })
    );
    assert_eq!(s9[0].time, Some(TimeBounds::default()));

    // S10: the missing tags in request order, no duplicates, no remove.
    let s10 = fake.requests::<tag::TagConfigSetSomeRequest>(m::TAG_SET);
    let tag_config = |label: &str, value: &str| tag::TagConfig {
        key: Some(tag::TagKey {
            workspace_id: Some(w.clone()),
            element_type: ElementType::Device as i32,
            label: Some(label.to_owned()),
            value: Some(value.to_owned()),
            element_sub_type: 0,
        }),
        remove: None,
    };
    assert_eq!(
        s10[0].values,
        vec![tag_config("role", "leaf"), tag_config("rack", "r1")]
    );

    // S11, S12, S13: assignments by the serial S4 found, request order.
    let s11 = fake.requests::<tag::TagAssignmentStreamRequest>(m::ASSIGN);
    assert_eq!(
        s11[0].partial_eq_filter,
        vec![tag::TagAssignment {
            key: Some(tag::TagAssignmentKey {
                workspace_id: Some(String::new()),
                element_type: ElementType::Device as i32,
                ..Default::default()
            }),
            tag_creator_type: CreatorType::User as i32,
        }]
    );
    let s13 = fake.requests::<tag::TagAssignmentConfigSetSomeRequest>(m::ASSIGN_SET);
    let assign = |label: &str, value: &str, serial: &str| tag::TagAssignmentConfig {
        key: Some(assignment_key(&w, label, value, serial)),
        remove: None,
    };
    assert_eq!(
        s13[0].values,
        vec![
            assign("role", "leaf", S1),
            assign("rack", "r1", S1),
            assign("role", "leaf", S2)
        ]
    );

    // S14: every field of ConfigletConfig; remove and migrated_from absent.
    let s14 = fake.requests::<cfg::ConfigletConfigSetSomeRequest>(m::CONFIGLET_SET_SOME);
    let configlet = |serial: &str, host: &str, body: &str| cfg::ConfigletConfig {
        key: Some(cfg::ConfigletKey {
            workspace_id: Some(w.clone()),
            configlet_id: Some(format!("avd-{serial}")),
        }),
        remove: None,
        display_name: Some(format!("AVD-{host}")),
        description: Some(format!(
            "Configuration created and uploaded by AVD for {host}"
        )),
        migrated_from: None,
        body: Some(body.to_owned()),
    };
    assert_eq!(
        s14,
        vec![cfg::ConfigletConfigSetSomeRequest {
            values: vec![
                configlet(S1, H1, "hostname leaf-1a\n"),
                configlet(S2, H2, "hostname leaf-1b\n")
            ]
        }]
    );

    // S15, then S16 (root missing) with present-empty lists.
    let s15 = fake.requests::<cfg::ConfigletAssignmentStreamRequest>(m::CONTAINERS);
    assert_eq!(
        s15[0],
        cfg::ConfigletAssignmentStreamRequest {
            partial_eq_filter: vec![cfg::ConfigletAssignment {
                key: container_key(&w, "avd-configlets"),
                ..Default::default()
            }],
            time: Some(TimeBounds::default()),
        }
    );
    let container_sets =
        fake.requests::<cfg::ConfigletAssignmentConfigSetRequest>(m::CONTAINER_SET);
    assert_eq!(
        container_sets[0].value,
        Some(cfg::ConfigletAssignmentConfig {
            key: container_key(&w, "avd-configlets"),
            display_name: Some("AVD Configurations".to_owned()),
            description: Some("Configurations created and uploaded by AVD".to_owned()),
            configlet_ids: Some(RepeatedString::default()),
            query: Some("device:*".to_owned()),
            remove: None,
            match_policy: cfg::MatchPolicy::MatchAll as i32,
            child_assignment_ids: Some(RepeatedString::default()),
        })
    );

    // S17–S19 and S20.
    let roots_key = |workspace: &str| studio::InputsKey {
        studio_id: Some("studio-static-configlet".to_owned()),
        workspace_id: Some(workspace.to_owned()),
        path: strings(&["configletAssignmentRoots"]),
    };
    let gets = fake.requests::<studio::InputsRequest>(m::INPUTS_ONE);
    assert_eq!(
        gets,
        vec![
            studio::InputsRequest {
                key: Some(roots_key(&w)),
                time: None
            },
            studio::InputsRequest {
                key: Some(roots_key("")),
                time: None
            }
        ]
    );
    assert_eq!(
        removed[1].partial_eq_filter,
        vec![studio::InputsConfig {
            key: Some(roots_key(&w)),
            remove: Some(true),
            inputs: None
        }]
    );
    assert_eq!(
        fake.requests::<studio::InputsConfigSetRequest>(m::INPUTS_CFG_SET),
        vec![studio::InputsConfigSetRequest {
            value: Some(studio::InputsConfig {
                key: Some(roots_key(&w)),
                remove: None,
                inputs: Some("[\"avd-configlets\"]".to_owned()),
            })
        }]
    );

    // S21 per device; S22 only the root's children (a partial update).
    assert_eq!(
        fake.requests::<cfg::ConfigletAssignmentConfigSetSomeRequest>(m::CONTAINER_SET_SOME),
        vec![cfg::ConfigletAssignmentConfigSetSomeRequest {
            values: vec![device_container(&w, S1, H1), device_container(&w, S2, H2)]
        }]
    );
    assert_eq!(
        container_sets[1].value,
        Some(cfg::ConfigletAssignmentConfig {
            key: container_key(&w, "avd-configlets"),
            display_name: None,
            description: None,
            configlet_ids: Some(RepeatedString::default()),
            query: None,
            remove: None,
            match_policy: cfg::MatchPolicy::MatchAll as i32,
            child_assignment_ids: strings(&[&format!("avd-{S1}"), &format!("avd-{S2}")]),
        })
    );

    // S23 and S26: fresh request ids, echoed, answered; S25 by build id.
    let build = sets[1].value.clone().unwrap();
    let submit = sets[2].value.clone().unwrap();
    assert_eq!(
        [create.request, build.request, submit.request],
        [CREATE, START_BUILD, SUBMIT]
    );
    let build_id = build.request_params.unwrap().request_id.unwrap();
    let submit_id = submit.request_params.unwrap().request_id.unwrap();
    assert_uuid_id(&build_id, "req-");
    assert_uuid_id(&submit_id, "req-");
    assert_ne!(build_id, submit_id);
    assert_eq!((build.key, submit.key), (ws_key(&w), ws_key(&w)));
    let workspace = fake.workspace(&w).unwrap();
    assert_eq!(workspace.state, ws::WorkspaceState::Submitted);
    let answered: Vec<&str> = workspace
        .responses
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(answered, [build_id.as_str(), submit_id.as_str()]);
    assert_eq!(
        fake.requests::<ws::WorkspaceBuildDetailsStreamRequest>(m::BUILD_DETAILS),
        vec![ws::WorkspaceBuildDetailsStreamRequest {
            partial_eq_filter: vec![ws::WorkspaceBuildDetails {
                key: Some(ws::WorkspaceBuildDetailsKey {
                    workspace_id: Some(w.clone()),
                    build_id: Some(build_id.clone()),
                    device_id: None,
                }),
                ..Default::default()
            }],
            time: None,
        }]
    );

    // S28 reads the change control the submit created.
    let ccs = fake.change_controls();
    assert_eq!(ccs.len(), 1);
    assert_eq!(workspace.cc_ids, vec![ccs[0].id.clone()]);
    assert_eq!(ccs[0].name.as_deref(), Some(name.as_str()));
    assert_eq!(
        fake.requests::<cc::ChangeControlRequest>(m::CC_GET),
        vec![cc::ChangeControlRequest {
            key: Some(cc::ChangeControlKey {
                id: Some(ccs[0].id.clone())
            }),
            time: None
        }]
    );

    // Every call carried the token; one pre-flight.
    let bearer = format!("Bearer {}", fake.token());
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.authorization.as_deref() == Some(bearer.as_str()))
    );
    let preflights = fake.preflights();
    assert_eq!(preflights.len(), 1);
    assert_eq!(preflights[0].method, "GET");
    assert_eq!(preflights[0].target, "/cvpservice/cvpInfo/getCvpInfo.do");
    assert_eq!(preflights[0].header("authorization"), Some(bearer.as_str()));
    assert_eq!(
        preflights[0].header("content-type"),
        Some("application/json")
    );
    assert_eq!(preflights[0].body, b"{}");

    // Mainline after the submit.
    let configlets = fake.mainline_configlets();
    assert_eq!(
        configlets[&format!("avd-{S2}")].body.as_deref(),
        Some("hostname leaf-1b\n")
    );
    assert_eq!(
        configlets[&format!("avd-{S1}")].display_name.as_deref(),
        Some("AVD-leaf-1a")
    );
    let containers = fake.mainline_containers();
    assert_eq!(
        containers["avd-configlets"].child_assignment_ids,
        vec![format!("avd-{S1}"), format!("avd-{S2}")]
    );
    assert_eq!(
        containers[&format!("avd-{S1}")],
        ContainerRecord {
            display_name: Some(H1.to_owned()),
            description: Some("Configuration created and uploaded by AVD for leaf-1a".to_owned()),
            configlet_ids: vec![format!("avd-{S1}")],
            query: Some(format!("device:{S1}")),
            match_policy: cfg::MatchPolicy::MatchAll as i32,
            child_assignment_ids: Vec::new(),
        }
    );
    assert_eq!(
        fake.mainline_studio("studio-static-configlet").unwrap()["configletAssignmentRoots"],
        serde_json::json!(["avd-configlets"])
    );
    let mut tags = fake.mainline_tags();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            TagRecord::device("rack", "r1", CreatorType::User),
            TagRecord::device("role", "leaf", CreatorType::User)
        ]
    );
    let mut assignments = fake.mainline_tag_assignments();
    assignments.sort();
    assert_eq!(
        assignments,
        vec![
            TagAssignmentRecord::device("rack", "r1", S1, CreatorType::User),
            TagAssignmentRecord::device("role", "leaf", S1, CreatorType::User),
            TagAssignmentRecord::device("role", "leaf", S2, CreatorType::User),
        ]
    );
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Without tags S8–S13 are skipped; devices given by serial are looked up
/// by serial (and the hostname is not part of the filter).
#[tokio::test]
async fn deploy_without_tags_by_serial_skips_the_tag_steps() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, H2)]);
    let h = Harness::start(fake).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S2), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    let fake = &h.fake;
    let name = fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    assert_eq!(
        fake.methods(),
        seq(&[
            &m::CREATE,
            &m::DEVICES_OK,
            &[m::CONFIGLET_SET_SOME, m::CONTAINERS, m::CONTAINER_SET],
            &m::ROOTS,
            &[m::INPUTS_CFG_SET, m::CONTAINER_SET_SOME, m::CONTAINER_SET],
            &m::BUILD,
            &m::SUBMIT,
            &[m::CC_GET],
        ])
    );
    let s4 = fake.requests::<inv::DeviceStreamRequest>(m::DEVICES);
    let by_serial = |serial: &str| inv::Device {
        key: Some(inv::DeviceKey {
            device_id: Some(serial.to_owned()),
        }),
        ..Default::default()
    };
    assert_eq!(
        s4,
        vec![inv::DeviceStreamRequest {
            partial_eq_filter: vec![by_serial(S1), by_serial(S2)],
            time: Some(TimeBounds::default()),
        }]
    );
    assert!(fake.mainline_tag_assignments().is_empty());
    assert_eq!(fake.change_controls()[0].device_ids, vec![S1, S2]);
}

/// Spec 6.1's second run: the containers exist (S20b instead of S16, no
/// S20–S22), the tags exist (no S10, no S13), strict tags remove the
/// other USER assignments (S13b), and the given change-control name is
/// applied (S28b) and reported: 26 calls.
#[tokio::test]
async fn rerun_with_strict_tags_and_a_name_makes_the_26_calls_of_spec_6_1() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, H2)]);
    let h = Harness::start(fake).await;
    let first = h
        .request()
        .tagged(H1, None, "hostname leaf-1a\n", &[("role", "leaf")])
        .tagged(H2, None, "hostname leaf-1b\n", &[("role", "leaf")]);
    let response = h.post(&first).await;
    let first_name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&first_name));

    // Someone else tagged the devices meanwhile.
    let fake = &h.fake;
    fake.add_tag(TagRecord::device("rack", "r1", CreatorType::User));
    fake.add_tag_assignment(TagAssignmentRecord::device(
        "rack",
        "r1",
        S1,
        CreatorType::User,
    ));
    fake.add_tag(TagRecord::device("type", "spine", CreatorType::User));
    fake.add_tag_assignment(TagAssignmentRecord::device(
        "type",
        "spine",
        S2,
        CreatorType::User,
    ));
    fake.add_tag(TagRecord::device(
        "topology_type",
        "leaf",
        CreatorType::System,
    ));
    fake.add_tag_assignment(TagAssignmentRecord::device(
        "topology_type",
        "leaf",
        S1,
        CreatorType::System,
    ));
    fake.clear_recording();

    let second = h
        .request()
        .tagged(
            H1,
            None,
            "hostname leaf-1a\nip routing\n",
            &[("role", "leaf")],
        )
        .tagged(
            H2,
            None,
            "hostname leaf-1b\nip routing\n",
            &[("role", "leaf")],
        )
        .strict_tags(true)
        .change_control_name("My CC");
    let response = h.post(&second).await;
    assert_reply(&response, &ok_with_change_control("My CC"));
    let expected = seq(&[
        &m::CREATE,
        &m::DEVICES_OK,
        &m::GET_TAGS,
        &m::GET_ASSIGNMENTS,
        &[m::ASSIGN_SET, m::CONFIGLET_SET_SOME, m::CONTAINERS],
        &m::ROOTS,
        &[m::CONTAINERS],
        &m::BUILD,
        &m::SUBMIT,
        &[m::CC_GET, m::CC_SET, m::CC_GET],
    ]);
    assert_eq!(fake.methods(), expected);
    assert_eq!(expected.len(), 26);

    let w = fake.workspaces()[1].id.clone();
    // S13b removes the other USER assignments of the targeted devices;
    // SYSTEM ones are never read.
    assert_eq!(
        fake.requests::<tag::TagAssignmentConfigSetSomeRequest>(m::ASSIGN_SET),
        vec![tag::TagAssignmentConfigSetSomeRequest {
            values: vec![
                tag::TagAssignmentConfig {
                    key: Some(assignment_key(&w, "rack", "r1", S1)),
                    remove: Some(true),
                },
                tag::TagAssignmentConfig {
                    key: Some(assignment_key(&w, "type", "spine", S2)),
                    remove: Some(true),
                },
            ]
        }]
    );
    // S20b asks for the root's children.
    let reads = fake.requests::<cfg::ConfigletAssignmentStreamRequest>(m::CONTAINERS);
    assert_eq!(
        reads[1].partial_eq_filter,
        vec![
            cfg::ConfigletAssignment {
                key: container_key(&w, &format!("avd-{S1}")),
                ..Default::default()
            },
            cfg::ConfigletAssignment {
                key: container_key(&w, &format!("avd-{S2}")),
                ..Default::default()
            }
        ]
    );
    assert_eq!(reads[1].time, Some(TimeBounds::default()));

    // S28b: the name, with CloudVision's notes ("" present-empty) as read.
    let ccs = fake.change_controls();
    let created = ccs
        .iter()
        .find(|c| c.workspace_id == w)
        .expect("the second submit created a change control");
    assert_eq!(
        fake.requests::<cc::ChangeControlConfigSetRequest>(m::CC_SET),
        vec![cc::ChangeControlConfigSetRequest {
            value: Some(cc::ChangeControlConfig {
                key: Some(cc::ChangeControlKey {
                    id: Some(created.id.clone())
                }),
                change: Some(cc::ChangeConfig {
                    name: Some("My CC".to_owned()),
                    root_stage_id: None,
                    notes: Some(String::new()),
                }),
            })
        }]
    );
    assert_eq!(created.name.as_deref(), Some("My CC"));

    let mut assignments = fake.mainline_tag_assignments();
    assignments.sort();
    assert_eq!(
        assignments,
        vec![
            TagAssignmentRecord::device("role", "leaf", S1, CreatorType::User),
            TagAssignmentRecord::device("role", "leaf", S2, CreatorType::User),
            TagAssignmentRecord::device("topology_type", "leaf", S1, CreatorType::System),
        ]
    );
    assert_eq!(
        fake.mainline_configlets()[&format!("avd-{S2}")]
            .body
            .as_deref(),
        Some("hostname leaf-1b\nip routing\n")
    );
}

/// A given name on a fresh deployment renames CloudVision's change control;
/// notes absent on CloudVision stay absent in S28b.
#[tokio::test]
async fn a_custom_change_control_name_is_applied_and_reported() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    fake.set_change_control_notes(None);
    let h = Harness::start(fake).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .change_control_name("Rollout été 2026");
    let response = h.post(&request).await;
    assert_reply(&response, &ok_with_change_control("Rollout été 2026"));
    assert!(response.text().contains("\\u00e9t\\u00e9"));
    let fake = &h.fake;
    let methods = fake.methods();
    assert_eq!(
        &methods[methods.len() - 3..],
        [m::CC_GET, m::CC_SET, m::CC_GET]
    );
    let set = fake.requests::<cc::ChangeControlConfigSetRequest>(m::CC_SET);
    let change = set[0].value.clone().unwrap().change.unwrap();
    assert_eq!(change.name.as_deref(), Some("Rollout été 2026"));
    assert_eq!(change.notes, None);
    assert_eq!(
        fake.change_controls()[0].name.as_deref(),
        Some("Rollout été 2026")
    );
}

/// The same configlets twice: the second submit changes nothing, creates no
/// change control, and the reply is exactly `{"status": "ok"}`.
#[tokio::test]
async fn a_submit_without_changes_replies_plain_ok() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    let h = Harness::start(fake).await;
    let request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    let first = h.post(&request).await;
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&first, &ok_with_change_control(&name));
    h.fake.clear_recording();

    let second = h.post(&request.clone().change_control_name("unused")).await;
    assert_reply(&second, &ok_reply());
    let fake = &h.fake;
    let methods = fake.methods();
    assert_eq!(
        &methods[methods.len() - 2..],
        m::SUBMIT,
        "no S28 without a CC"
    );
    let workspaces = fake.workspaces();
    assert_eq!(workspaces[1].state, ws::WorkspaceState::Submitted);
    assert!(workspaces[1].cc_ids.is_empty());
    assert_eq!(fake.change_controls().len(), 1);
}

/// `cv_delete_workspace`: after the submit a second pre-flight, then
/// `WorkspaceConfigService/Delete`; the workspace is gone.
#[tokio::test]
async fn cv_delete_workspace_deletes_the_submitted_workspace() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    let h = Harness::start(fake).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .delete_workspace(true);
    let response = h.post(&request).await;
    let fake = &h.fake;
    let w = h.workspace_id();
    let cc = fake.change_controls();
    assert_eq!(cc[0].workspace_id, w);
    assert_reply(
        &response,
        &ok_with_change_control(cc[0].name.as_deref().unwrap()),
    );
    assert_eq!(fake.preflights().len(), 2);
    let methods = fake.methods();
    assert_eq!(methods.last().map(String::as_str), Some(m::WS_DELETE));
    assert_eq!(
        fake.requests::<ws::WorkspaceConfigDeleteRequest>(m::WS_DELETE),
        vec![ws::WorkspaceConfigDeleteRequest { key: ws_key(&w) }]
    );
    assert!(fake.workspace(&w).is_none());
    assert!(fake.workspaces().is_empty());
}

/// `cv_delete_workspace` with a failed build: nothing is deleted and no
/// second pre-flight is made.
#[tokio::test]
async fn cv_delete_workspace_keeps_a_failed_workspace() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    let h = Harness::start(fake).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\nINVALID-CLI\n")
        .delete_workspace(true);
    let response = h.post(&request).await;
    let fake = &h.fake;
    let w = h.workspace_id();
    let text = super::harness::single_error(&response);
    assert!(
        text.starts_with(&format!("Failed to build workspace {w}: ")),
        "{text}"
    );
    assert_eq!(fake.preflights().len(), 1);
    assert_eq!(fake.call_count(m::WS_DELETE), 0);
    assert_eq!(
        fake.workspace(&w).map(|w| w.state),
        Some(ws::WorkspaceState::Pending)
    );
}

/// A device given without a serial gets its configlet and container keyed
/// by the serial CloudVision knows; a device given with a serial may be
/// renamed (the hostname comes from the request).
#[tokio::test]
async fn serials_come_from_the_inventory_and_renames_follow_the_request() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, "old-name")]);
    let h = Harness::start(fake).await;
    let request = h.request().device(H1, None, "hostname leaf-1a\n").device(
        H2,
        Some(S2),
        "hostname leaf-1b\n",
    );
    let response = h.post(&request).await;
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    let containers = h.fake.mainline_containers();
    assert_eq!(
        containers[&format!("avd-{S1}")].query.as_deref(),
        Some("device:SSJ11111111")
    );
    assert_eq!(
        containers[&format!("avd-{S2}")].display_name.as_deref(),
        Some(H2)
    );
    // The topology studio now carries the new hostname.
    let topology = h.fake.mainline_studio("TOPOLOGY").unwrap();
    assert_eq!(topology["devices"][1]["inputs"]["device"]["hostname"], H2);
}

/// Two deployments at once against one CloudVision: each gets its own
/// workspace and change control.
#[tokio::test]
async fn concurrent_deployments_use_their_own_workspaces() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, H2)]);
    let h = Harness::start(fake).await;
    let first = h.spawn_post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"));
    let second = h.spawn_post(&h.request().device(H2, Some(S2), "hostname leaf-1b\n"));
    let (first, second) = (h.finish(first).await, h.finish(second).await);
    let workspaces = h.fake.workspaces();
    assert_eq!(workspaces.len(), 2);
    let ccs = h.fake.change_controls();
    assert_eq!(ccs.len(), 2);
    for response in [first, second] {
        let text = response.text();
        let cc = ccs
            .iter()
            .find(|cc| text == ok_with_change_control(cc.name.as_deref().unwrap()))
            .unwrap_or_else(|| panic!("{text}"));
        let workspace = h.fake.workspace(&cc.workspace_id).unwrap();
        assert_eq!(workspace.state, ws::WorkspaceState::Submitted);
        assert_eq!(workspace.cc_ids, vec![cc.id.clone()]);
    }
    assert_ne!(ccs[0].device_ids, ccs[1].device_ids);
}

/// Matching by hostname is exact (CloudVision's capitals never match) and
/// the last inventory entry with that hostname wins.
#[tokio::test]
async fn hostname_matching_is_exact_and_the_last_entry_wins() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, H1), ("SSJ33333333", "Leaf-1b")]);
    let h = Harness::start(fake).await;
    let response = h
        .post(&h.request().device(H1, None, "hostname leaf-1a\n"))
        .await;
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    let configlets = h.fake.mainline_configlets();
    assert_eq!(
        configlets.keys().collect::<Vec<_>>(),
        [&format!("avd-{S2}")]
    );

    let response = h
        .post(&h.request().device(H2, None, "hostname leaf-1b\n"))
        .await;
    assert_reply(
        &response,
        &super::harness::error_reply(&[
            "('Missing devices on CloudVision', AvdDevice(hostname='leaf-1b', serial_number=None, system_mac_address=None))",
        ]),
    );
}

/// The configlet body arrives byte for byte, non-ASCII and all.
#[tokio::test]
async fn configlet_bodies_arrive_unchanged() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    let h = Harness::start(fake).await;
    let body = "hostname leaf-1a\n! café ✓ 𝄞\ninterface Ethernet1\n   description \"uplink\" \\ tab\there\n";
    let response = h.post(&h.request().device(H1, Some(S1), body)).await;
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    assert_eq!(
        h.fake.mainline_configlets()[&format!("avd-{S1}")]
            .body
            .as_deref(),
        Some(body)
    );
}

/// A client that goes away during the deployment does not stop it
/// (spec 16): CloudVision is never left half-done.
#[tokio::test]
async fn a_deployment_continues_after_the_client_disconnects() {
    use tokio::io::AsyncWriteExt;
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    let h = Harness::start(fake).await;
    h.fake.hold_outcomes();
    let body = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .body();
    let mut stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    h.wait_for_calls(m::WS_SUB, 1).await;
    drop(stream);
    h.fake.release_outcomes();
    h.wait_for_calls(m::CC_GET, 1).await;
    let w = h.workspace_id();
    assert_eq!(
        h.fake.workspace(&w).unwrap().state,
        ws::WorkspaceState::Submitted
    );
    assert_eq!(h.fake.change_controls().len(), 1);
}

/// Deployments are counted by the workspace's end state and HTTP requests
/// by outcome.
#[tokio::test]
async fn deployments_are_counted_by_end_state() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    let h = Harness::start(fake).await;
    let ok = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    h.post(&ok).await;
    let missing = h.request().device(H2, Some(S2), "hostname leaf-1b\n");
    h.post(&missing).await;
    let metrics = h.server.metrics().await;
    let value = |prefix: &str| crate::support::metric_value(&metrics, prefix);
    assert_eq!(
        value("postern_cvproxy_deployments_total{workspace=\"submitted\"}"),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        value("postern_cvproxy_deployments_total{workspace=\"abandoned\"}"),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        value("postern_cvproxy_requests_total{outcome=\"deployed\"}"),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        value("postern_cvproxy_requests_total{outcome=\"deploy_error\"}"),
        1.0,
        "{metrics}"
    );
}

/// A submit without a change control is submitted too: it is deleted.
#[tokio::test]
async fn cv_delete_workspace_deletes_a_workspace_submitted_without_changes() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    fake.seed_avd_device(S1, H1, "hostname leaf-1a\n");
    let h = Harness::start(fake).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .delete_workspace(true);
    let response = h.post(&request).await;
    assert_reply(&response, &ok_reply());
    assert_eq!(h.fake.preflights().len(), 2);
    assert_eq!(h.fake.call_count(m::WS_DELETE), 1);
    assert!(h.fake.workspaces().is_empty());
    assert!(h.fake.change_controls().is_empty());
}

/// An inactive device whose configuration does not change does not stop
/// the submit: inactive devices are only a warning (spec 9.1).
#[tokio::test]
async fn an_unchanged_inactive_device_is_no_obstacle() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, H2)]);
    fake.seed_avd_device(S2, H2, "hostname leaf-1b\n");
    fake.set_device_active(S2, false);
    let h = Harness::start(fake).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S2), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    assert_eq!(h.fake.change_controls()[0].device_ids, vec![S1]);
}
