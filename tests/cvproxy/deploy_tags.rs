//! Device tags (spec 6.2 S8–S13b, 9.3): which tags are created, which
//! assignments are added and removed with and without `cv_strict_tags`,
//! and that devices without `tags` are left alone.

use postern::workflows::cvproxy::proto::arista::tag::v2 as tag;
use tag::{CreatorType, ElementType};

use super::fake::{FakeCv, TagAssignmentRecord, TagRecord};
use super::harness::{
    H1, H2, Harness, S1, S2, assert_reply, m, ok_with_change_control, seed_devices, seq,
};

const H3: &str = "leaf-2a";
const S3: &str = "SSJ33333333";

fn user(label: &str, value: &str, serial: &str) -> TagAssignmentRecord {
    TagAssignmentRecord::device(label, value, serial, CreatorType::User)
}

/// Mainline before each run: every device carries some USER assignments,
/// plus one SYSTEM assignment that is never read.
fn seed_existing(fake: &FakeCv) {
    for (label, value) in [("type", "spine"), ("role", "x"), ("rack", "r2")] {
        fake.add_tag(TagRecord::device(label, value, CreatorType::User));
    }
    fake.add_tag_assignment(user("type", "spine", S1));
    fake.add_tag_assignment(user("role", "x", S1));
    fake.add_tag_assignment(user("type", "spine", S2));
    fake.add_tag_assignment(user("rack", "r2", S2));
    fake.add_tag_assignment(user("type", "spine", S3));
    fake.add_tag(TagRecord::device("type", "sys", CreatorType::System));
    fake.add_tag_assignment(TagAssignmentRecord::device(
        "type",
        "sys",
        S1,
        CreatorType::System,
    ));
}

/// Runs spec 9.3's example: A `{type: leaf}`, B `{rack: r1}`, C no tags.
/// Returns the harness and the workspace id.
async fn run_example(strict: Option<bool>) -> (Harness, String) {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1), (S2, H2), (S3, H3)]);
    seed_existing(&fake);
    let h = Harness::start(fake).await;
    let mut request = h
        .request()
        .tagged(H1, Some(S1), "hostname leaf-1a\n", &[("type", "leaf")])
        .tagged(H2, Some(S2), "hostname leaf-1b\n", &[("rack", "r1")])
        .device(H3, Some(S3), "hostname leaf-2a\n");
    if let Some(strict) = strict {
        request = request.strict_tags(strict);
    }
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    (h, w)
}

fn key(w: &str, label: &str, value: &str, serial: &str) -> tag::TagAssignmentKey {
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

/// (S13 values, S13b values sorted): the assignments set and removed.
fn assignment_writes(
    h: &Harness,
) -> (Vec<tag::TagAssignmentConfig>, Vec<tag::TagAssignmentConfig>) {
    let writes = h
        .fake
        .requests::<tag::TagAssignmentConfigSetSomeRequest>(m::ASSIGN_SET);
    assert_eq!(writes.len(), 2, "one S13 and one S13b");
    let mut removed = writes[1].values.clone();
    removed.sort_by_key(|c| {
        let k = c.key.clone().unwrap();
        (k.device_id, k.label, k.value)
    });
    (writes[0].values.clone(), removed)
}

fn sorted_mainline(h: &Harness) -> Vec<TagAssignmentRecord> {
    let mut all = h.fake.mainline_tag_assignments();
    all.sort();
    all
}

#[tokio::test]
async fn non_strict_removes_assignments_whose_label_is_wanted_anywhere() {
    for strict in [None, Some(false)] {
        let (h, w) = run_example(strict).await;
        assert_eq!(
            h.fake.methods(),
            seq(&[
                &m::CREATE,
                &m::DEVICES_OK,
                &m::GET_TAGS,
                &[m::TAG_SET],
                &m::GET_ASSIGNMENTS,
                &[m::ASSIGN_SET, m::ASSIGN_SET, m::CONFIGLET_SET_SOME],
                &[m::CONTAINERS, m::CONTAINER_SET],
                &m::ROOTS,
                &[m::INPUTS_CFG_SET, m::CONTAINER_SET_SOME, m::CONTAINER_SET],
                &m::BUILD,
                &m::SUBMIT,
                &[m::CC_GET],
            ])
        );
        // S10 creates only the missing tags.
        let created = h.fake.requests::<tag::TagConfigSetSomeRequest>(m::TAG_SET);
        let labels: Vec<(Option<String>, Option<String>)> = created[0]
            .values
            .iter()
            .map(|c| {
                let k = c.key.clone().unwrap();
                (k.label, k.value)
            })
            .collect();
        assert_eq!(
            labels,
            vec![
                (Some("type".into()), Some("leaf".into())),
                (Some("rack".into()), Some("r1".into()))
            ]
        );
        let (set, removed) = assignment_writes(&h);
        assert_eq!(
            set,
            vec![
                tag::TagAssignmentConfig {
                    key: Some(key(&w, "type", "leaf", S1)),
                    remove: None
                },
                tag::TagAssignmentConfig {
                    key: Some(key(&w, "rack", "r1", S2)),
                    remove: None
                },
            ]
        );
        // B's `type:spine` goes too (one global label set); A keeps
        // `role:x`; C (no tags) keeps everything.
        assert_eq!(
            removed,
            vec![
                tag::TagAssignmentConfig {
                    key: Some(key(&w, "type", "spine", S1)),
                    remove: Some(true)
                },
                tag::TagAssignmentConfig {
                    key: Some(key(&w, "rack", "r2", S2)),
                    remove: Some(true)
                },
                tag::TagAssignmentConfig {
                    key: Some(key(&w, "type", "spine", S2)),
                    remove: Some(true)
                },
            ]
        );
        let mut expected = vec![
            user("type", "leaf", S1),
            user("role", "x", S1),
            TagAssignmentRecord::device("type", "sys", S1, CreatorType::System),
            user("rack", "r1", S2),
            user("type", "spine", S3),
        ];
        expected.sort();
        assert_eq!(sorted_mainline(&h), expected, "strict = {strict:?}");
    }
}

#[tokio::test]
async fn strict_removes_every_other_user_assignment_of_targeted_devices() {
    let (h, w) = run_example(Some(true)).await;
    let (_, removed) = assignment_writes(&h);
    let removed: Vec<tag::TagAssignmentKey> = removed.into_iter().map(|c| c.key.unwrap()).collect();
    assert_eq!(
        removed,
        vec![
            key(&w, "role", "x", S1),
            key(&w, "type", "spine", S1),
            key(&w, "rack", "r2", S2),
            key(&w, "type", "spine", S2),
        ]
    );
    let mut expected = vec![
        user("type", "leaf", S1),
        TagAssignmentRecord::device("type", "sys", S1, CreatorType::System),
        user("rack", "r1", S2),
        user("type", "spine", S3),
    ];
    expected.sort();
    assert_eq!(sorted_mainline(&h), expected);
    // Tags themselves are never deleted.
    assert!(
        h.fake
            .mainline_tags()
            .contains(&TagRecord::device("role", "x", CreatorType::User))
    );
}

/// Existing tags are not created again; an existing assignment is not
/// written again; an empty tag value is a tag like any other.
#[tokio::test]
async fn existing_tags_and_assignments_are_not_written_again() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    fake.add_tag(TagRecord::device("role", "leaf", CreatorType::User));
    fake.add_tag_assignment(user("role", "leaf", S1));
    let h = Harness::start(fake).await;
    let request = h.request().tagged(
        H1,
        Some(S1),
        "hostname leaf-1a\n",
        &[("role", "leaf"), ("note", "")],
    );
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    let tags = h.fake.requests::<tag::TagConfigSetSomeRequest>(m::TAG_SET);
    assert_eq!(
        tags,
        vec![tag::TagConfigSetSomeRequest {
            values: vec![tag::TagConfig {
                key: Some(tag::TagKey {
                    workspace_id: Some(w.clone()),
                    element_type: ElementType::Device as i32,
                    label: Some("note".into()),
                    value: Some(String::new()),
                    element_sub_type: 0,
                }),
                remove: None,
            }]
        }]
    );
    let assignments = h
        .fake
        .requests::<tag::TagAssignmentConfigSetSomeRequest>(m::ASSIGN_SET);
    assert_eq!(
        assignments,
        vec![tag::TagAssignmentConfigSetSomeRequest {
            values: vec![tag::TagAssignmentConfig {
                key: Some(key(&w, "note", "", S1)),
                remove: None,
            }]
        }]
    );
    assert_eq!(
        sorted_mainline(&h),
        vec![user("note", "", S1), user("role", "leaf", S1)]
    );
}
