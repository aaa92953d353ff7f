//! Deployments that fail on CloudVision's side: unknown and duplicated
//! devices, build and submit failures, rebases, per-item errors and gRPC
//! errors on single steps, each with its reply text (spec 11.2) and the
//! abandon rule of spec 8.

use tonic::Code;

use postern::workflows::cvproxy::proto::arista::{configlet::v1 as cfg, workspace::v1 as ws};

use super::fake::FakeCv;
use super::harness::{
    ABANDON, CREATE, H1, H2, Harness, REBASE, S1, S2, START_BUILD, SUBMIT, assert_reply,
    error_reply, m, ok_with_change_control, seed_devices, seq,
};

/// The request id of the `n`-th workspace request of kind `request`.
fn request_id(h: &Harness, request: i32, n: usize) -> String {
    h.fake
        .requests::<ws::WorkspaceConfigSetRequest>(m::WS_SET)
        .into_iter()
        .filter_map(|r| r.value)
        .filter(|v| v.request == request)
        .nth(n)
        .and_then(|v| v.request_params)
        .and_then(|p| p.request_id)
        .unwrap_or_else(|| panic!("request {request} #{n} was sent"))
}

/// The workspace was abandoned with an ABANDON request of its own id.
fn assert_abandoned(h: &Harness, w: &str) {
    let abandon = h
        .fake
        .requests::<ws::WorkspaceConfigSetRequest>(m::WS_SET)
        .into_iter()
        .filter_map(|r| r.value)
        .find(|v| v.request == ABANDON)
        .expect("an ABANDON request");
    assert_eq!(abandon.key.and_then(|k| k.workspace_id).as_deref(), Some(w));
    let id = abandon.request_params.unwrap().request_id.unwrap();
    assert!(id.starts_with("req-"), "{id}");
    let workspace = h.fake.workspace(w).unwrap();
    assert_eq!(workspace.state, ws::WorkspaceState::Abandoned);
    assert_eq!(
        workspace.response(&id).map(|r| r.status),
        Some(ws::ResponseStatus::Success as i32)
    );
}

/// Nothing was abandoned and the workspace is still pending.
fn assert_pending(h: &Harness, w: &str) {
    assert!(
        !h.workspace_requests().contains(&ABANDON),
        "{:?}",
        h.workspace_requests()
    );
    h.fake.settle();
    assert_eq!(
        h.fake.workspace(w).map(|w| w.state),
        Some(ws::WorkspaceState::Pending)
    );
}

fn see_details(h: &Harness, w: &str) -> String {
    format!(
        "See details: https://{}/cv/provisioning/workspaces?ws={w}",
        h.fake.cv_server()
    )
}

async fn harness_with(devices: &[(&str, &str)]) -> Harness {
    let fake = FakeCv::start().await;
    seed_devices(&fake, devices);
    Harness::start(fake).await
}

#[tokio::test]
async fn unknown_devices_are_listed_and_the_workspace_is_abandoned() {
    let h = harness_with(&[(S1, H1)]).await;
    let request = h
        .request()
        .device("leaf-9z", None, "hostname leaf-9z\n")
        .device("leaf-8z", Some("ABC12345678"), "hostname leaf-8z\n");
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[
            "('Missing devices on CloudVision', AvdDevice(hostname='leaf-9z', serial_number=None, system_mac_address=None), AvdDevice(hostname='leaf-8z', serial_number='ABC12345678', system_mac_address=None))",
        ]),
    );
    assert_eq!(
        h.fake.methods(),
        seq(&[&m::CREATE, &[m::DEVICES, m::WS_SET]])
    );
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
    assert_abandoned(&h, &h.workspace_id());
}

/// Only the missing one of two devices is reported.
#[tokio::test]
async fn a_known_and_an_unknown_device() {
    let h = harness_with(&[(S1, H1)]).await;
    let request = h.request().device(H1, None, "hostname leaf-1a\n").device(
        H2,
        Some(S2),
        "hostname leaf-1b\n",
    );
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[
            "('Missing devices on CloudVision', AvdDevice(hostname='leaf-1b', serial_number='SSJ22222222', system_mac_address=None))",
        ]),
    );
    assert_abandoned(&h, &h.workspace_id());
}

#[tokio::test]
async fn duplicate_serials_fail_after_three_calls_without_abandon() {
    let h = harness_with(&[(S1, H1)]).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S1), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    let device = |host: &str| {
        format!(
            "CVDevice(avd_device=AvdDevice(hostname='{host}', serial_number='{S1}', system_mac_address=None), serial_number='{S1}', system_mac_address=None, exists_on_cv=None, streaming=None)"
        )
    };
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "('Duplicated devices found in inventory', {{'{S1}': [{}, {}]}})",
            device(H1),
            device(H2)
        )]),
    );
    assert_eq!(h.fake.methods(), m::CREATE);
    assert_pending(&h, &h.workspace_id());
}

/// A configlet line CloudVision rejects: D13 with the Response repr and the
/// link; no submit, no abandon; 16 calls when the containers exist.
#[tokio::test]
async fn a_build_failure_reports_the_response_and_keeps_the_workspace() {
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    fake.seed_avd_device(S1, H1, "hostname leaf-1a\n");
    let h = Harness::start(fake).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\nINVALID-CLI foo\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let build = request_id(&h, START_BUILD, 0);
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Failed to build workspace {w}: Response(status=ResponseStatus.FAIL, message='Build {build} failed'). {}",
            see_details(&h, &w)
        )]),
    );
    let expected = seq(&[
        &m::CREATE,
        &m::DEVICES_OK,
        &[m::CONFIGLET_SET_SOME, m::CONTAINERS],
        &m::ROOTS,
        &[m::CONTAINERS],
        &m::BUILD,
    ]);
    assert_eq!(h.fake.methods(), expected);
    assert_eq!(expected.len(), 16);
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD]);
    assert_pending(&h, &w);
    let details = h.fake.build_details(&w, &build);
    let errors = &details[0]
        .config_validation_result
        .as_ref()
        .unwrap()
        .errors
        .as_ref()
        .unwrap()
        .values;
    assert_eq!(errors[0].line_num, Some(2));
    assert_eq!(errors[0].configlet_name.as_deref(), Some("avd-SSJ11111111"));
}

/// `fail_build_on_device` fails a build whatever the configlet says.
#[tokio::test]
async fn a_device_whose_build_fails() {
    let h = harness_with(&[(S1, H1), (S2, H2)]).await;
    h.fake.fail_build_on_device(S2);
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S2), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let build = request_id(&h, START_BUILD, 0);
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Failed to build workspace {w}: Response(status=ResponseStatus.FAIL, message='Build {build} failed'). {}",
            see_details(&h, &w)
        )]),
    );
    assert_pending(&h, &w);
}

const FORCE_HINT: &str = "Use `cv_submit_workspace_force: true` (if using role `cv_deploy`) or `workspace['force']: true` (if using action plugin `cv_workflow`) to override.";

#[tokio::test]
async fn a_submit_refused_for_an_inactive_device_lists_it() {
    let h = harness_with(&[(S1, H1), (S2, H2)]).await;
    h.fake.set_device_active(S2, false);
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S2), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Failed to submit CloudVision Workspace due to the presence of inactive devices: ['leaf-1b (SSJ22222222)']. {FORCE_HINT}"
        )]),
    );
    let w = h.workspace_id();
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD, SUBMIT]);
    let methods = h.fake.methods();
    assert_eq!(&methods[methods.len() - 2..], m::SUBMIT);
    let submit = request_id(&h, SUBMIT, 0);
    let answer = h
        .fake
        .workspace(&w)
        .unwrap()
        .response(&submit)
        .cloned()
        .unwrap();
    assert_eq!(answer.code, ws::ResponseCode::InactiveDevicesExist as i32);
    assert_pending(&h, &w);
    assert!(h.fake.mainline_configlets().is_empty());
}

#[tokio::test]
async fn a_device_going_inactive_after_the_inventory_read_gives_the_short_text() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.deactivate_after_inventory_read(S1);
    let request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Failed to submit CloudVision Workspace due to the presence of inactive devices. {FORCE_HINT}"
        )]),
    );
    assert_pending(&h, &h.workspace_id());
}

#[tokio::test]
async fn another_submit_failure_shows_the_response() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.fail_submits(
        1,
        ws::ResponseCode::DecommissionDevicesIncomplete,
        "decommission pending",
    );
    let request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Failed to submit workspace {w}: Response(status=ResponseStatus.FAIL, message='decommission pending', code=ResponseCode.DECOMMISSION_DEVICES_INCOMPLETE)"
        )]),
    );
    assert_pending(&h, &w);
}

/// A build that asks for a rebase: REBASE, then the attempt again on the
/// same workspace; 40 calls for one device with tags (spec 6.3).
#[tokio::test]
async fn a_rebase_asked_by_the_build_repeats_the_attempt() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.needs_rebase_on_builds(1);
    let request = h
        .request()
        .tagged(H1, Some(S1), "hostname leaf-1a\n", &[("role", "leaf")]);
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    let expected = seq(&[
        &m::CREATE,
        &m::DEVICES_OK,
        // First attempt: everything is new.
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
        &[m::WS_SET, m::WS_SUB],
        // The rebase.
        &[m::WS_SET, m::WS_SUB],
        // Second attempt: the workspace already holds the changes.
        &m::GET_TAGS,
        &m::GET_ASSIGNMENTS,
        &[
            m::CONFIGLET_SET_SOME,
            m::CONTAINERS,
            m::INPUTS_ONE,
            m::CONTAINERS,
        ],
        &m::BUILD,
        &m::SUBMIT,
        &[m::CC_GET],
    ]);
    assert_eq!(h.fake.methods(), expected);
    assert_eq!(expected.len(), 40);
    assert_eq!(
        h.workspace_requests(),
        [CREATE, START_BUILD, REBASE, START_BUILD, SUBMIT]
    );
    let workspace = h.fake.workspace(&w).unwrap();
    assert_eq!(workspace.state, ws::WorkspaceState::Submitted);
    assert_eq!(h.fake.call_count(m::WS_GET), 1, "S1–S7 are not repeated");
}

#[tokio::test]
async fn a_submit_asking_for_synchronization_rebases_and_submits_again() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.require_sync_on_submits(1);
    let request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    assert_eq!(
        h.workspace_requests(),
        [CREATE, START_BUILD, SUBMIT, REBASE, START_BUILD, SUBMIT]
    );
    assert_eq!(h.fake.call_count(m::CONFIGLET_SET_SOME), 2);
    assert_eq!(
        h.fake.workspace(&w).unwrap().state,
        ws::WorkspaceState::Submitted
    );
}

#[tokio::test]
async fn a_failed_rebase_is_reported_without_abandon() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.needs_rebase_on_builds(1);
    h.fake.fail_rebases(1, "rebase conflict on 'x'");
    let request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Failed to synchronize/rebase workspace {name} ({w}): Response(status=ResponseStatus.FAIL, message=\"rebase conflict on 'x'\"). {}",
            see_details(&h, &w)
        )]),
    );
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD, REBASE]);
    assert_pending(&h, &w);
}

#[tokio::test]
async fn five_rebases_are_the_most() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.needs_rebase_on_builds(usize::MAX);
    let request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Maximum number of Workspace synchronization attempts (5) have been made for Workspace {name} (id: {w}) but Workspace synchronization is still required."
        )]),
    );
    let sent = h.workspace_requests();
    assert_eq!(sent.iter().filter(|r| **r == REBASE).count(), 5);
    assert_eq!(sent.iter().filter(|r| **r == START_BUILD).count(), 6);
    assert!(!sent.contains(&SUBMIT));
    assert_pending(&h, &w);
}

#[tokio::test]
async fn a_rebase_on_cloudvision_2025_1_is_unsupported() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.set_preflight_version("2025.1.0");
    h.fake.needs_rebase_on_builds(1);
    let request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&["LookupError: Unsupported version of CloudVision: '2025.1.0'."]),
    );
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD]);
    assert_pending(&h, &h.workspace_id());
}

/// Items CloudVision refuses in S14: D12 with their count, then abandon.
#[tokio::test]
async fn per_item_configlet_errors_abandon_the_workspace() {
    let h = harness_with(&[(S1, H1), (S2, H2)]).await;
    h.fake
        .configlet_item_error(&format!("avd-{S1}"), "static configlet ID cannot be empty");
    h.fake
        .configlet_item_error(&format!("avd-{S2}"), "configlet body is too long");
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S2), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[
            "2 server-side error(s) was returned from the 'set_configlets_from_files' bulk API call. Please check logs for the failed items and error messages.",
        ]),
    );
    let methods = h.fake.methods();
    assert_eq!(
        &methods[methods.len() - 2..],
        [m::CONFIGLET_SET_SOME, m::WS_SET]
    );
    assert_abandoned(&h, &h.workspace_id());
    assert!(h.fake.mainline_configlets().is_empty());
}

/// One gRPC status on one step: the D4 text, with the abandon of spec 8
/// for S4–S22 only.
async fn fail_step(method: &str, message: &str) -> (Harness, String) {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.fail_next(method, 1, Code::PermissionDenied, message);
    let request = h
        .request()
        .tagged(H1, Some(S1), "hostname leaf-1a\n", &[("role", "leaf")]);
    let response = h.post(&request).await;
    let text = super::harness::single_error(&response);
    (h, text)
}

#[tokio::test]
async fn a_grpc_error_on_s1_stops_before_any_workspace() {
    let (h, text) = fail_step(m::WS_GET, "permission denied").await;
    let w = h
        .fake
        .requests::<ws::WorkspaceRequest>(m::WS_GET)
        .remove(0)
        .key
        .unwrap()
        .workspace_id
        .unwrap();
    assert_eq!(
        text,
        format!(
            "(<Status.PERMISSION_DENIED: 7>, 'permission denied', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
        )
    );
    assert_eq!(h.fake.methods(), [m::WS_GET]);
    assert!(h.fake.workspaces().is_empty());
}

#[tokio::test]
async fn a_grpc_error_on_s2_abandons_nothing() {
    let (h, text) = fail_step(m::WS_SET, "no workspaces for you").await;
    assert!(text.starts_with("(<Status.PERMISSION_DENIED: 7>, 'no workspaces for you', None, (<CVClient>,), {'workspace_id': 'ws-"), "{text}");
    assert_eq!(h.fake.methods(), [m::WS_GET, m::WS_SET]);
    assert!(h.fake.workspaces().is_empty());
}

#[tokio::test]
async fn a_grpc_error_on_the_inventory_abandons_with_empty_ids() {
    let (h, text) = fail_step(m::DEVICES, "no inventory").await;
    assert_eq!(
        text,
        "(<Status.PERMISSION_DENIED: 7>, 'no inventory', None, (<CVClient>,), {})"
    );
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
    assert_abandoned(&h, &h.workspace_id());
}

#[tokio::test]
async fn grpc_errors_on_tags_configlets_and_studio_writes_abandon() {
    for method in [
        m::TAGS,
        m::ASSIGN_SET,
        m::CONFIGLET_SET_SOME,
        m::INPUTS_CFG_SET,
        m::CONTAINER_SET_SOME,
    ] {
        let (h, text) = fail_step(method, "denied").await;
        let w = h.workspace_id();
        assert_eq!(
            text,
            format!(
                "(<Status.PERMISSION_DENIED: 7>, 'denied', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
            ),
            "{method}"
        );
        let methods = h.fake.methods();
        assert_eq!(
            &methods[methods.len() - 2..],
            [method, m::WS_SET],
            "{method}"
        );
        assert_abandoned(&h, &w);
    }
}

#[tokio::test]
async fn a_grpc_error_on_the_build_details_abandons_nothing() {
    let (h, text) = fail_step(m::BUILD_DETAILS, "denied").await;
    let w = h.workspace_id();
    assert_eq!(
        text,
        format!(
            "(<Status.PERMISSION_DENIED: 7>, 'denied', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
        )
    );
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD]);
    assert_pending(&h, &w);
}

/// Steps whose method was already used earlier (S23 after S2, S24 after
/// S3) are scripted while S3 waits on a workspace held not-ready.
async fn fail_later_call(method: &str, code: Code, message: &str) -> (Harness, String) {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.hold_outcomes();
    let posted = h.spawn_post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"));
    h.wait_for_calls(m::WS_SUB, 1).await;
    h.fake.fail_next(method, 1, code, message);
    h.fake.release_outcomes();
    let response = h.finish(posted).await;
    let text = super::harness::single_error(&response);
    (h, text)
}

#[tokio::test]
async fn a_grpc_error_on_the_build_request_abandons_nothing() {
    let (h, text) = fail_later_call(m::WS_SET, Code::FailedPrecondition, "busy").await;
    let w = h.workspace_id();
    assert_eq!(
        text,
        format!(
            "(<Status.FAILED_PRECONDITION: 9>, 'busy', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
        )
    );
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD]);
    assert_pending(&h, &w);
}

#[tokio::test]
async fn a_grpc_error_on_the_build_wait_names_the_request() {
    let (h, text) = fail_later_call(m::WS_SUB, Code::Internal, "stream broke").await;
    let w = h.workspace_id();
    let build = request_id(&h, START_BUILD, 0);
    assert_eq!(
        text,
        format!(
            "(<Status.INTERNAL: 13>, 'stream broke', None, (<CVClient>,), {{'workspace_id': '{w}', 'request_id': '{build}'}})"
        )
    );
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD]);
    assert_pending(&h, &w);
}

/// The abandon itself fails: both errors, in order.
#[tokio::test]
async fn a_failed_abandon_is_reported_after_the_original_error() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake
        .fail_always(m::DEVICES, Code::Internal, "inventory down");
    h.fake.hold_outcomes();
    let posted = h.spawn_post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"));
    h.wait_for_calls(m::WS_SUB, 1).await;
    h.fake
        .fail_next(m::WS_SET, 1, Code::PermissionDenied, "cannot abandon");
    h.fake.release_outcomes();
    let response = h.finish(posted).await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &error_reply(&[
            "(<Status.INTERNAL: 13>, 'inventory down', None, (<CVClient>,), {})",
            &format!(
                "(<Status.PERMISSION_DENIED: 7>, 'cannot abandon', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
            ),
        ]),
    );
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
    assert_eq!(
        h.fake.workspace(&w).unwrap().state,
        ws::WorkspaceState::Pending
    );
}

/// S28 fails after a successful submit: the error is reported, nothing is
/// abandoned, and `cv_delete_workspace` still deletes (the state is
/// submitted).
#[tokio::test]
async fn a_change_control_error_after_the_submit_still_deletes_the_workspace() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake
        .fail_next(m::CC_GET, 1, Code::PermissionDenied, "no cc for you");
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .delete_workspace(true);
    let response = h.post(&request).await;
    let cc = h.fake.change_controls();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "(<Status.PERMISSION_DENIED: 7>, 'no cc for you', None, (<CVClient>,), {{'change_control_id': '{}'}})",
            cc[0].id
        )]),
    );
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD, SUBMIT]);
    let methods = h.fake.methods();
    assert_eq!(&methods[methods.len() - 2..], [m::CC_GET, m::WS_DELETE]);
    assert_eq!(h.fake.preflights().len(), 2);
    assert!(h.fake.workspaces().is_empty());
}

/// The deletion itself fails: the escaping `<Class>: <text>` form replaces
/// the success reply although the change control exists.
#[tokio::test]
async fn a_failed_deletion_replaces_the_reply() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake
        .fail_next(m::WS_DELETE, 1, Code::PermissionDenied, "permission denied");
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .delete_workspace(true);
    let response = h.post(&request).await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "CVGRPCError: (<Status.PERMISSION_DENIED: 7>, 'permission denied', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
        )]),
    );
    assert_eq!(h.fake.change_controls().len(), 1);
    assert_eq!(
        h.fake.workspace(&w).unwrap().state,
        ws::WorkspaceState::Submitted
    );
}

/// A new workspace is not ready at once (writes would fail per item):
/// Postern waits for PENDING on S3 before it touches anything.
#[tokio::test]
async fn the_deployment_waits_until_the_workspace_is_pending() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.hold_outcomes();
    let posted = h.spawn_post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"));
    h.wait_for_calls(m::WS_SUB, 1).await;
    let w = h.workspace_id();
    // Postern is still waiting on S3: nothing after it was called.
    assert_eq!(h.fake.methods(), m::CREATE);
    // Writing now would fail: the workspace is not ready yet.
    assert_eq!(
        h.fake.workspace(&w).unwrap().state,
        ws::WorkspaceState::Unspecified
    );
    let channel = h.fake.channel().await;
    let mut configlets =
        cfg::configlet_config_service_client::ConfigletConfigServiceClient::new(channel);
    let early = cfg::ConfigletConfigSetRequest {
        value: Some(cfg::ConfigletConfig {
            key: Some(cfg::ConfigletKey {
                workspace_id: Some(w.clone()),
                configlet_id: Some("probe".into()),
            }),
            body: Some("x".into()),
            ..Default::default()
        }),
    };
    let refused = configlets.set(h.fake.request(early)).await.unwrap_err();
    assert!(
        refused
            .message()
            .contains("workspace status is not available"),
        "{refused:?}"
    );
    assert_eq!(h.fake.call_count(m::DEVICES), 0);
    h.fake.release_outcomes();
    let response = h.finish(posted).await;
    let name = h.fake.workspace(&w).unwrap().display_name.unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
}

/// Duplicates are looked for among the serials the request gives; a device
/// given by hostname only is not part of that check.
#[tokio::test]
async fn duplicate_check_ignores_devices_without_serial() {
    let h = harness_with(&[(S1, H1), (S2, H2)]).await;
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, None, "hostname leaf-1b\n");
    let response = h.post(&request).await;
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
}

/// The second pre-flight of `cv_delete_workspace` fails: the escaping form
/// of its error is the whole reply and the workspace stays submitted. The
/// fake holds every workspace event so the pre-flight answer can be
/// changed while Postern waits for the submit.
#[tokio::test]
async fn a_failed_second_preflight_keeps_the_workspace() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.hold_outcomes();
    let posted = h.spawn_post(
        &h.request()
            .device(H1, Some(S1), "hostname leaf-1a\n")
            .delete_workspace(true),
    );
    for waits in 1..=3 {
        h.wait_for_calls(m::WS_SUB, waits).await;
        if waits == 3 {
            h.fake.set_preflight_raw(500, "down");
        }
        h.fake.settle();
    }
    let response = h.finish(posted).await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "CVClientException: Unable to get version from CloudVision server due to the following error: ('500 Server Error: Internal Server Error for url: https://{}/cvpservice/cvpInfo/getCvpInfo.do',).",
            h.fake.cv_server()
        )]),
    );
    assert_eq!(h.fake.preflights().len(), 2);
    assert_eq!(h.fake.call_count(m::WS_DELETE), 0);
    assert_eq!(
        h.fake.workspace(&w).unwrap().state,
        ws::WorkspaceState::Submitted
    );
}

/// A reset of the wait for the build's response: the wait subscribes again
/// and finds the response in the new stream's first message.
#[tokio::test]
async fn a_reset_wait_finds_the_response_when_it_subscribes_again() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.hold_outcomes();
    let posted = h.spawn_post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"));
    h.wait_for_calls(m::WS_SUB, 1).await;
    // The next Subscribe is S24.
    h.fake.reset_next(m::WS_SUB, 1);
    h.fake.settle();
    h.wait_for_calls(m::WS_SUB, 2).await;
    // The build's outcome is recorded while S24 backs off.
    h.fake.settle();
    h.fake.release_outcomes();
    let response = h.finish(posted).await;
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    // S3, S24 (reset), S24 again, S27.
    assert_eq!(h.fake.call_count(m::WS_SUB), 4);
}

/// Every device S4 found inactive is listed, in request order, with the
/// serial CloudVision knows when the request gave none.
#[tokio::test]
async fn all_inactive_devices_are_listed_in_request_order() {
    let h = harness_with(&[(S1, H1), (S2, H2), ("SSJ33333333", "leaf-2a")]).await;
    h.fake.set_device_active(S2, false);
    h.fake.set_device_active(S1, false);
    let request = h
        .request()
        .device(H2, Some(S2), "hostname leaf-1b\n")
        .device("leaf-2a", None, "hostname leaf-2a\n")
        .device(H1, None, "hostname leaf-1a\n");
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Failed to submit CloudVision Workspace due to the presence of inactive devices: ['leaf-1b (SSJ22222222)', 'leaf-1a (SSJ11111111)']. {FORCE_HINT}"
        )]),
    );
}

/// With strict tags, a rebase replays this workspace's removals: the second
/// attempt writes no tag assignment at all.
#[tokio::test]
async fn a_rebase_does_not_repeat_tag_writes() {
    use super::fake::{TagAssignmentRecord, TagRecord};
    use postern::workflows::cvproxy::proto::arista::tag::v2::CreatorType;
    let h = harness_with(&[(S1, H1)]).await;
    h.fake
        .add_tag(TagRecord::device("rack", "r9", CreatorType::User));
    h.fake.add_tag_assignment(TagAssignmentRecord::device(
        "rack",
        "r9",
        S1,
        CreatorType::User,
    ));
    h.fake.needs_rebase_on_builds(1);
    let request = h
        .request()
        .tagged(H1, Some(S1), "hostname leaf-1a\n", &[("role", "leaf")])
        .strict_tags(true);
    let response = h.post(&request).await;
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(&response, &ok_with_change_control(&name));
    // S10, S13 and S13b once, in the first attempt only.
    assert_eq!(h.fake.call_count(m::TAG_SET), 1);
    assert_eq!(h.fake.call_count(m::ASSIGN_SET), 2);
    assert_eq!(h.fake.call_count(m::ASSIGN), 2);
    assert_eq!(
        h.fake.mainline_tag_assignments(),
        vec![TagAssignmentRecord::device(
            "role",
            "leaf",
            S1,
            CreatorType::User
        )]
    );
}

/// UNAVAILABLE on every attempt of S1: D6 names `get_workspace`; nothing to
/// abandon.
#[tokio::test]
async fn unavailable_on_s1_gives_up_without_a_workspace() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.unavailable_next(m::WS_GET, 6);
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    let text = super::harness::single_error(&response);
    assert!(
        text.starts_with(&format!(
            "(\"GRPCRequestHandler: Attempt 6/6 to execute call 'get_workspace' failed.\", <Status.UNAVAILABLE: 14>, '{}', None, (<CVClient>,), {{'workspace_id': 'ws-",
            super::fake::UNAVAILABLE_MESSAGE
        )),
        "{text}"
    );
    assert_eq!(h.fake.methods(), vec![m::WS_GET; 6]);
    assert!(h.fake.workspaces().is_empty());
}

/// UNAVAILABLE on every attempt of the build wait: D6 names the wait and
/// its request; the workspace stays pending.
#[tokio::test]
async fn unavailable_on_the_build_wait_names_the_request() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.hold_outcomes();
    let posted = h.spawn_post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"));
    h.wait_for_calls(m::WS_SUB, 1).await;
    h.fake.unavailable_next(m::WS_SUB, 6);
    h.fake.release_outcomes();
    let response = h.finish(posted).await;
    let w = h.workspace_id();
    let build = request_id(&h, START_BUILD, 0);
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "(\"GRPCRequestHandler: Attempt 6/6 to execute call 'wait_for_workspace_response' failed.\", <Status.UNAVAILABLE: 14>, '{}', None, (<CVClient>,), {{'workspace_id': '{w}', 'request_id': '{build}'}})",
            super::fake::UNAVAILABLE_MESSAGE
        )]),
    );
    assert_eq!(h.fake.call_count(m::WS_SUB), 7);
    assert_pending(&h, &w);
}

/// Errors of cvproxy's own deletion escape with pyavd's class names.
#[tokio::test]
async fn deletion_errors_carry_pyavd_class_names() {
    enum Fault {
        Status(Code, &'static str),
        Unavailable,
        Reset,
    }
    let cases = [
        (
            Fault::Status(Code::NotFound, "resource not found"),
            "CVResourceNotFound: (<Status.NOT_FOUND: 5>, 'resource not found', None, (<CVClient>,), {'workspace_id': 'W'})",
        ),
        (
            Fault::Status(Code::Cancelled, "cancelled"),
            "CVTimeoutError: (<Status.CANCELLED: 1>, 'cancelled', None, (<CVClient>,), {'workspace_id': 'W'})",
        ),
        (
            Fault::Status(Code::Unknown, "what"),
            "CVGRPCError: (<Status.UNKNOWN: 2>, 'what', None, (<CVClient>,), {'workspace_id': 'W'})",
        ),
        (
            Fault::Unavailable,
            "CVGRPCStatusUnavailable: (\"GRPCRequestHandler: Attempt 6/6 to execute call 'delete_workspace' failed.\", <Status.UNAVAILABLE: 14>, 'fake CloudVision: service unavailable', None, (<CVClient>,), {'workspace_id': 'W'})",
        ),
        (
            Fault::Reset,
            "CVClientException: ('Stream reset by remote party, error_code: 2', (<CVClient>,), {'workspace_id': 'W'})",
        ),
    ];
    for (fault, expected) in cases {
        let h = harness_with(&[(S1, H1)]).await;
        match fault {
            Fault::Status(code, message) => h.fake.fail_next(m::WS_DELETE, 1, code, message),
            Fault::Unavailable => h.fake.unavailable_next(m::WS_DELETE, 6),
            Fault::Reset => h.fake.reset_next(m::WS_DELETE, 1),
        }
        let request = h
            .request()
            .device(H1, Some(S1), "hostname leaf-1a\n")
            .delete_workspace(true);
        let response = h.post(&request).await;
        let w = h.workspace_id();
        assert_reply(
            &response,
            &error_reply(&[&expected.replace("'W'", &format!("'{w}'"))]),
        );
        assert_eq!(
            h.fake.workspace(&w).unwrap().state,
            ws::WorkspaceState::Submitted
        );
    }
}
