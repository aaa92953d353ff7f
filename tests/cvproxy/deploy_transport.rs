//! The connection to CloudVision: the REST pre-flight and its failures
//! (spec 3), the version rules, TLS verification (spec 15.1), and pyavd's
//! request handler (spec 5): UNAVAILABLE retries, stream resets, and
//! splitting lists that are too large.

use tonic::Code;

use postern::workflows::cvproxy::proto::arista::configlet::v1 as cfg;

use super::fake::{FakeCv, InventoryDevice, UNAVAILABLE_MESSAGE};
use super::harness::{
    ABANDON, CREATE, H1, H2, Harness, S1, S2, START_BUILD, SUBMIT, assert_reply, error_reply, m,
    ok_with_change_control, seed_devices, single_error,
};

async fn harness_with(devices: &[(&str, &str)]) -> Harness {
    let fake = FakeCv::start().await;
    seed_devices(&fake, devices);
    Harness::start(fake).await
}

fn preflight_url(fake: &FakeCv) -> String {
    format!(
        "https://{}/cvpservice/cvpInfo/getCvpInfo.do",
        fake.cv_server()
    )
}

fn assert_success(h: &Harness, response: &crate::support::RawResponse) {
    let name = h.fake.workspaces()[0].display_name.clone().unwrap();
    assert_reply(response, &ok_with_change_control(&name));
}

// ---- pre-flight -----------------------------------------------------------

#[tokio::test]
async fn a_bad_token_fails_the_preflight_with_requests_wording() {
    let h = harness_with(&[(S1, H1)]).await;
    let mut request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    request.cv_token = "not-the-token".into();
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Unable to get version from CloudVision server due to the following error: ('401 Client Error: Unauthorized for url: {}',).",
            preflight_url(&h.fake)
        )]),
    );
    assert_eq!(
        h.fake.preflights()[0].header("authorization"),
        Some("Bearer not-the-token")
    );
    assert!(
        h.fake.calls().is_empty(),
        "no gRPC after a failed pre-flight"
    );
}

#[tokio::test]
async fn a_server_error_on_the_preflight() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.set_preflight_raw(503, "maintenance");
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Unable to get version from CloudVision server due to the following error: ('503 Server Error: Service Unavailable for url: {}',).",
            preflight_url(&h.fake)
        )]),
    );
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_is_connection_refused() {
    let h = harness_with(&[(S1, H1)]).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    request.cv_server = format!("127.0.0.1:{closed}");
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Unable to get version from CloudVision server due to the following error: ('Failed to connect to 127.0.0.1:{closed}: connection refused',)."
        )]),
    );
}

#[tokio::test]
async fn an_unusable_preflight_body_is_quoted() {
    let h = harness_with(&[(S1, H1)]).await;
    for body in ["2026.1.3", "{\"versions\": \"2026.1.3\"}"] {
        h.fake.set_preflight_raw(200, body);
        let response = h
            .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
            .await;
        assert_reply(
            &response,
            &error_reply(&[&format!(
                "Unable to get version from CloudVision server. Got {body}"
            )]),
        );
    }
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn an_invalid_version_escapes_as_value_error() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.set_preflight_version("2024.1");
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    assert_reply(
        &response,
        &error_reply(&[
            "ValueError: Invalid CV Version '2024.1'. The version must conform to the pattern '(\\d{4}\\.\\d{1,2}\\.\\d{1,2}|CVaaS)'",
        ]),
    );
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn cloudvision_older_than_2024_1_is_refused_before_any_grpc() {
    let h = harness_with(&[(S1, H1)]).await;
    for version in ["2023.3.1", "2023.12.9"] {
        h.fake.set_preflight_version(version);
        let response = h
            .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
            .await;
        assert_reply(
            &response,
            &error_reply(&[&format!(
                "LookupError: Unsupported version of CloudVision: '{version}'."
            )]),
        );
    }
    assert!(h.fake.calls().is_empty());
    assert!(h.fake.workspaces().is_empty());
}

/// CloudVision 2024.1.x: configlets and device containers are written one
/// `Set` per item; 2024.10.0 compares above 2024.2.0 and uses `SetSome`.
#[tokio::test]
async fn cloudvision_2024_1_uses_per_item_set_calls() {
    let h = harness_with(&[(S1, H1), (S2, H2)]).await;
    h.fake.set_preflight_version("2024.1.2");
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S2), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    assert_success(&h, &response);
    let fake = &h.fake;
    assert_eq!(fake.call_count(m::CONFIGLET_SET_SOME), 0);
    assert_eq!(fake.call_count(m::CONTAINER_SET_SOME), 0);
    let mut configlets: Vec<String> = fake
        .requests::<cfg::ConfigletConfigSetRequest>(m::CONFIGLET_SET)
        .into_iter()
        .map(|r| r.value.unwrap().key.unwrap().configlet_id.unwrap())
        .collect();
    configlets.sort();
    assert_eq!(configlets, [format!("avd-{S1}"), format!("avd-{S2}")]);
    // S16, two per-item S21, S22.
    let containers: Vec<String> = fake
        .requests::<cfg::ConfigletAssignmentConfigSetRequest>(m::CONTAINER_SET)
        .into_iter()
        .map(|r| {
            r.value
                .unwrap()
                .key
                .unwrap()
                .configlet_assignment_id
                .unwrap()
        })
        .collect();
    assert_eq!(containers.len(), 4);
    assert_eq!(containers[0], "avd-configlets");
    assert_eq!(containers[3], "avd-configlets");
    let mut middle = containers[1..3].to_vec();
    middle.sort();
    assert_eq!(middle, [format!("avd-{S1}"), format!("avd-{S2}")]);
    assert_eq!(fake.mainline_configlets().len(), 2);

    fake.clear_recording();
    fake.set_preflight_version("2024.10.0");
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\nip routing\n");
    let response = h.post(&request).await;
    assert_eq!(response.status, 200);
    assert!(response.text().contains("\"ok\""), "{}", response.text());
    assert_eq!(fake.call_count(m::CONFIGLET_SET_SOME), 1);
    assert_eq!(fake.call_count(m::CONFIGLET_SET), 0);
}

// ---- TLS --------------------------------------------------------------------

/// Verification is on: `localhost` is checked against the certificate's
/// DNS name as well.
#[tokio::test]
async fn the_fake_ca_is_trusted_for_localhost_too() {
    let h = harness_with(&[(S1, H1)]).await;
    let mut request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    request.cv_server = h.fake.cv_server_localhost();
    let response = h.post(&request).await;
    assert_success(&h, &response);
}

#[tokio::test]
async fn a_self_signed_certificate_fails_verification_by_default() {
    let fake = FakeCv::start_self_signed().await;
    seed_devices(&fake, &[(S1, H1)]);
    let h = Harness::start_with(fake, "").await;
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Unable to get version from CloudVision server due to the following error: ('Failed to connect to {}: TLS handshake failed: invalid peer certificate: UnknownIssuer',).",
            h.fake.cv_server()
        )]),
    );
    assert!(h.fake.preflights().is_empty());
}

/// A CA that did not sign the certificate does not help either.
#[tokio::test]
async fn another_ca_does_not_verify_the_fake() {
    let other = FakeCv::start().await;
    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    let ca = other.ca_file().unwrap().display().to_string();
    let h = Harness::start_with(fake, &format!("[cvproxy.tls]\nca_file = {ca:?}\n")).await;
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    let text = single_error(&response);
    assert!(
        text.contains("TLS handshake failed: invalid peer certificate: "),
        "{text}"
    );
    assert!(h.fake.preflights().is_empty());
}

#[tokio::test]
async fn insecure_accepts_a_self_signed_certificate() {
    let fake = FakeCv::start_self_signed().await;
    seed_devices(&fake, &[(S1, H1)]);
    let h = Harness::start_with(fake, "[cvproxy.tls]\ninsecure = true\n").await;
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    assert_success(&h, &response);
}

// ---- UNAVAILABLE and stream resets --------------------------------------------

#[tokio::test]
async fn unavailable_five_times_is_retried_to_success() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.unavailable_next(m::DEVICES, 5);
    h.fake.unavailable_next(m::CONFIGLET_SET_SOME, 2);
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    assert_success(&h, &response);
    assert_eq!(h.fake.call_count(m::DEVICES), 6);
    assert_eq!(h.fake.call_count(m::CONFIGLET_SET_SOME), 3);
    assert_eq!(h.workspace_requests(), [CREATE, START_BUILD, SUBMIT]);
}

#[tokio::test]
async fn unavailable_six_times_gives_up_with_attempt_6_of_6() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.unavailable_next(m::DEVICES, 6);
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "(\"GRPCRequestHandler: Attempt 6/6 to execute call 'get_inventory_devices' failed.\", <Status.UNAVAILABLE: 14>, '{UNAVAILABLE_MESSAGE}', None, (<CVClient>,), {{}})"
        )]),
    );
    assert_eq!(h.fake.call_count(m::DEVICES), 6);
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
}

#[tokio::test]
async fn unavailable_on_a_write_names_its_method_and_workspace() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.unavailable_next(m::CONFIGLET_SET_SOME, 6);
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "(\"GRPCRequestHandler: Attempt 6/6 to execute call 'set_configlets_from_files' failed.\", <Status.UNAVAILABLE: 14>, '{UNAVAILABLE_MESSAGE}', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
        )]),
    );
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
}

/// Resets with code 2 on the reads marked "retry" (a GetAll, the S3 wait,
/// a studio GetOne) are retried.
#[tokio::test]
async fn stream_resets_on_retried_reads_are_retried() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.reset_next(m::DEVICES, 2);
    h.fake.reset_next(m::WS_SUB, 1);
    h.fake.reset_next(m::INPUTS_ONE, 1);
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    assert_success(&h, &response);
    assert_eq!(h.fake.call_count(m::DEVICES), 3);
    // S3 twice, S24, S27.
    assert_eq!(h.fake.call_count(m::WS_SUB), 4);
    assert_eq!(h.fake.call_count(m::INPUTS_ONE), 3);
}

#[tokio::test]
async fn six_resets_on_a_read_give_up_with_the_reset_text() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.reset_next(m::DEVICES, 6);
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    assert_reply(
        &response,
        &error_reply(&[
            "(\"GRPCRequestHandler: Attempt 6/6 to execute call 'get_inventory_devices' failed.\", 'Stream reset by remote party, error_code: 2', (<CVClient>,), {})",
        ]),
    );
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
}

/// A reset of a write fails at once (D7) and abandons (S14 is in S8–S22).
#[tokio::test]
async fn a_stream_reset_on_a_write_fails_at_once() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.reset_next(m::CONFIGLET_SET_SOME, 1);
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "('Stream reset by remote party, error_code: 2', (<CVClient>,), {{'workspace_id': '{w}'}})"
        )]),
    );
    assert_eq!(h.fake.call_count(m::CONFIGLET_SET_SOME), 1);
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
}

/// S1 is a read without retry: a reset there fails at once, before any
/// workspace exists.
#[tokio::test]
async fn a_stream_reset_on_s1_is_not_retried() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.reset_next(m::WS_GET, 1);
    let response = h
        .post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"))
        .await;
    let text = single_error(&response);
    assert!(
        text.starts_with(
            "('Stream reset by remote party, error_code: 2', (<CVClient>,), {'workspace_id': 'ws-"
        ),
        "{text}"
    );
    assert_eq!(h.fake.methods(), [m::WS_GET]);
}

// ---- message too large ------------------------------------------------------------

/// The configlet `SetSome` over the receive limit is split into
/// `max(2, ceil(size/max))`-ratio chunks, sent in order, recursing when a
/// chunk is still too large; every configlet arrives.
#[tokio::test]
async fn too_large_configlet_lists_are_split_in_order() {
    let devices: Vec<(String, String)> = (1..=4)
        .map(|i| (format!("SSJ000000{i}X"), format!("leaf-{i}")))
        .collect();
    let seeded: Vec<(&str, &str)> = devices
        .iter()
        .map(|(s, h)| (s.as_str(), h.as_str()))
        .collect();
    let h = harness_with(&seeded).await;
    // Three small configlets and a big one: the second half is still too
    // large after the first split.
    let bodies = [
        "a".repeat(100),
        "b".repeat(100),
        "c".repeat(100),
        "d".repeat(600),
    ];
    let mut request = h.request();
    for ((serial, host), body) in devices.iter().zip(&bodies) {
        request = request.device(host, Some(serial), body);
    }
    let limit = 800;
    h.fake.set_receive_limit(m::CONFIGLET_SET_SOME, limit);
    let response = h.post(&request).await;
    assert_success(&h, &response);

    let calls: Vec<_> = h
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.method() == m::CONFIGLET_SET_SOME)
        .collect();
    let ids = |c: &super::fake::RecordedCall| -> Vec<String> {
        c.decode::<cfg::ConfigletConfigSetSomeRequest>()
            .unwrap()
            .values
            .into_iter()
            .map(|v| v.key.unwrap().configlet_id.unwrap())
            .collect()
    };
    let id = |i: usize| format!("avd-{}", devices[i].0);
    let sent: Vec<Vec<String>> = calls.iter().map(ids).collect();
    assert_eq!(
        sent,
        vec![
            vec![id(0), id(1), id(2), id(3)],
            vec![id(0), id(1)],
            vec![id(2), id(3)],
            vec![id(2)],
            vec![id(3)],
        ]
    );
    let sizes: Vec<usize> = calls.iter().map(|c| c.message.len()).collect();
    assert!(sizes[0] > limit && sizes[2] > limit, "{sizes:?}");
    assert!([1, 3, 4].iter().all(|i| sizes[*i] <= limit), "{sizes:?}");
    let mainline = h.fake.mainline_configlets();
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(mainline[&id(i)].body.as_deref(), Some(body.as_str()));
    }
}

/// A single configlet that is still too large: D8, then abandon.
#[tokio::test]
async fn a_single_configlet_over_the_limit_fails_with_d8() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.set_receive_limit(m::CONFIGLET_SET_SOME, 300);
    let response = h
        .post(&h.request().device(H1, Some(S1), &"x".repeat(400)))
        .await;
    let size = h
        .fake
        .calls()
        .iter()
        .find(|c| c.method() == m::CONFIGLET_SET_SOME)
        .unwrap()
        .message
        .len();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "(<Status.RESOURCE_EXHAUSTED: 8>, 'grpc: received message larger than max ({size} vs. 300)', None)"
        )]),
    );
    assert_eq!(h.fake.call_count(m::CONFIGLET_SET_SOME), 1);
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
}

/// RESOURCE_EXHAUSTED with another message is an ordinary gRPC error
/// (spec 14.5), not split and not retried.
#[tokio::test]
async fn other_resource_exhausted_errors_are_plain_grpc_errors() {
    let h = harness_with(&[(S1, H1), (S2, H2)]).await;
    h.fake.fail_next(
        m::CONFIGLET_SET_SOME,
        1,
        Code::ResourceExhausted,
        "quota exceeded",
    );
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S2), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "(<Status.RESOURCE_EXHAUSTED: 8>, 'quota exceeded', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
        )]),
    );
    assert_eq!(h.fake.call_count(m::CONFIGLET_SET_SOME), 1);
}

/// Tag and container lists are split the same way.
#[tokio::test]
async fn too_large_tag_and_container_lists_are_split() {
    let h = harness_with(&[(S1, H1), (S2, H2)]).await;
    h.fake.set_receive_limit(m::ASSIGN_SET, 150);
    h.fake.set_receive_limit(m::TAG_SET, 100);
    h.fake.set_receive_limit(m::CONTAINER_SET_SOME, 200);
    let request = h
        .request()
        .tagged(H1, Some(S1), "hostname leaf-1a\n", &[("role", "leaf")])
        .tagged(H2, Some(S2), "hostname leaf-1b\n", &[("rack", "r2")]);
    let response = h.post(&request).await;
    assert_success(&h, &response);
    assert_eq!(h.fake.call_count(m::TAG_SET), 3);
    assert_eq!(h.fake.call_count(m::ASSIGN_SET), 3);
    assert_eq!(h.fake.call_count(m::CONTAINER_SET_SOME), 3);
    assert_eq!(h.fake.mainline_tag_assignments().len(), 2);
    assert_eq!(h.fake.mainline_containers().len(), 3);
}

/// The expired-token look of issue #5875: the inventory is empty, so the
/// devices are "missing".
#[tokio::test]
async fn an_expired_token_looks_like_missing_devices() {
    let fake = FakeCv::start().await;
    fake.add_device(InventoryDevice::new(S1, H1));
    fake.set_expired_token_mode(true);
    let h = Harness::start(fake).await;
    let mut request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    request.cv_token = "expired".into();
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[
            "('Missing devices on CloudVision', AvdDevice(hostname='leaf-1a', serial_number='SSJ11111111', system_mac_address=None))",
        ]),
    );
}

/// `cv_server` is used as given: the host name is matched against the
/// certificate case-insensitively, requests lower-cases it in its error
/// URL, and the "See details" link keeps it verbatim.
#[tokio::test]
async fn cv_server_is_used_as_given() {
    let h = harness_with(&[(S1, H1)]).await;
    let given = format!("LocalHost:{}", h.fake.port());
    let mut request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\nINVALID-CLI\n");
    request.cv_server = given.clone();
    request.cv_token = "wrong".into();
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Unable to get version from CloudVision server due to the following error: ('401 Client Error: Unauthorized for url: https://localhost:{}/cvpservice/cvpInfo/getCvpInfo.do',).",
            h.fake.port()
        )]),
    );
    let preflight = &h.fake.preflights()[0];
    assert_eq!(preflight.version, "HTTP/1.1");
    assert_eq!(preflight.header("host"), Some(given.as_str()));
    assert!(
        preflight
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("postern/")),
        "{preflight:?}"
    );

    request.cv_token = h.fake.token();
    let response = h.post(&request).await;
    let w = h.workspace_id();
    let text = single_error(&response);
    assert!(
        text.ends_with(&format!(
            ". See details: https://{given}/cv/provisioning/workspaces?ws={w}"
        )),
        "{text}"
    );
}

/// gRPC UNKNOWN on a CVaaS host name gets pyavd's hint (spec 4.3). The
/// CVaaS names are pointed at the fake by the client's host overrides,
/// which only the library API offers, so this drives the deployment below
/// the HTTP front door.
#[tokio::test]
async fn unknown_on_cvaas_host_names_gives_the_hints() {
    use postern::workflows::cvproxy::cloudvision::{ClientSettings, CloudVision};
    use postern::workflows::cvproxy::{DeployPlan, DeviceSpec};

    let fake = FakeCv::start().await;
    seed_devices(&fake, &[(S1, H1)]);
    let localhost = std::net::IpAddr::from([127, 0, 0, 1]);
    let hosts = [
        "cv-prod-uk-1.arista.io",
        "apiserver.cv-prod-uk-1.arista.io",
        "www.cv-prod-uk-1.arista.io",
        "cv.example.arista.io",
    ];
    let mut cloudvision = CloudVision::new(ClientSettings {
        insecure: true,
        retry_base_delay: std::time::Duration::from_millis(1),
        ..ClientSettings::default()
    })
    .unwrap();
    for host in hosts {
        cloudvision = cloudvision.with_host_override(host, localhost);
    }
    let plan = |host: &str| DeployPlan {
        devices: vec![DeviceSpec {
            hostname: H1.into(),
            serial_number: Some(S1.into()),
            configlet: "hostname leaf-1a\n".into(),
            tags: Vec::new(),
        }],
        cv_server: format!("{host}:{}", fake.port()),
        cv_token: fake.token(),
        change_control_name: None,
        strict_tags: false,
        delete_workspace: false,
    };
    let run = async |host: &str| {
        fake.clear_recording();
        fake.fail_next(m::WS_GET, 1, Code::Unknown, "unknown service");
        let report = cloudvision.deploy(&plan(host)).await;
        assert_eq!(fake.methods(), [m::WS_GET], "{host}");
        report.errors
    };
    assert_eq!(
        run("cv-prod-uk-1.arista.io").await,
        [
            "CVaaS FQDN 'cv-prod-uk-1.arista.io' is missing the required 'www.' prefix. Please use 'www.cv-prod-uk-1.arista.io' instead."
        ]
    );
    assert_eq!(
        run("apiserver.cv-prod-uk-1.arista.io").await,
        [
            "CVaaS FQDN 'apiserver.cv-prod-uk-1.arista.io' is pointing to the streaming endpoint. Please use API endpoint 'www.cv-prod-uk-1.arista.io' instead."
        ]
    );
    assert_eq!(
        run("cv.example.arista.io").await,
        [
            "Provided CVaaS FQDN 'cv.example.arista.io' may be incorrect. Please check 'https://www.arista.io/help' for the full list of supported CVaaS clusters."
        ]
    );
    let errors = run("www.cv-prod-uk-1.arista.io").await;
    assert!(
        errors[0].starts_with(
            "(<Status.UNKNOWN: 2>, 'unknown service', None, (<CVClient>,), {'workspace_id': 'ws-"
        ),
        "{errors:?}"
    );
    // Not CVaaS: no hint either.
    fake.set_preflight_version("2025.1.0");
    let errors = run("cv-prod-uk-1.arista.io").await;
    assert!(
        errors[0].starts_with("(<Status.UNKNOWN: 2>, "),
        "{errors:?}"
    );
}

/// CloudVision 2024.1.x with more devices than one batch of 20 parallel
/// `Set` calls: every configlet and container arrives.
#[tokio::test]
async fn per_item_set_calls_cover_more_than_one_batch() {
    let devices: Vec<(String, String)> = (0..25)
        .map(|i| (format!("SSJ{i:08}"), format!("leaf-{i}")))
        .collect();
    let seeded: Vec<(&str, &str)> = devices
        .iter()
        .map(|(s, h)| (s.as_str(), h.as_str()))
        .collect();
    let h = harness_with(&seeded).await;
    h.fake.set_preflight_version("2024.1.0");
    let mut request = h.request();
    for (serial, host) in &devices {
        request = request.device(host, Some(serial), &format!("hostname {host}\n"));
    }
    let response = h.post(&request).await;
    assert_success(&h, &response);
    assert_eq!(h.fake.call_count(m::CONFIGLET_SET), 25);
    // S16, 25 × S21, S22.
    assert_eq!(h.fake.call_count(m::CONTAINER_SET), 27);
    assert_eq!(h.fake.mainline_configlets().len(), 25);
    assert_eq!(h.fake.mainline_containers().len(), 26);
    assert_eq!(
        h.fake.mainline_containers()["avd-configlets"]
            .child_assignment_ids
            .len(),
        25
    );
}

/// On 2024.1.x a refused item fails its `Set` call: D4, then abandon.
#[tokio::test]
async fn a_refused_per_item_set_abandons() {
    let h = harness_with(&[(S1, H1), (S2, H2)]).await;
    h.fake.set_preflight_version("2024.1.1");
    h.fake
        .configlet_item_error(&format!("avd-{S2}"), "configlet body is invalid");
    let request = h
        .request()
        .device(H1, Some(S1), "hostname leaf-1a\n")
        .device(H2, Some(S2), "hostname leaf-1b\n");
    let response = h.post(&request).await;
    let w = h.workspace_id();
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "(<Status.INVALID_ARGUMENT: 3>, 'configlet body is invalid', None, (<CVClient>,), {{'workspace_id': '{w}'}})"
        )]),
    );
    assert_eq!(h.workspace_requests(), [CREATE, ABANDON]);
}

/// A server that accepts the connection and never answers: the pre-flight
/// gives up after `cvproxy.preflight_timeout`.
#[tokio::test]
async fn a_silent_server_times_out_the_preflight() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let fake = FakeCv::start().await;
    let h = Harness::start_with(fake, "preflight_timeout = \"200ms\"\n").await;
    let mut request = h.request().device(H1, Some(S1), "hostname leaf-1a\n");
    request.cv_server = format!("127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let response = h.post(&request).await;
    assert_reply(
        &response,
        &error_reply(&[&format!(
            "Unable to get version from CloudVision server due to the following error: ('Failed to connect to 127.0.0.1:{port}: timed out',)."
        )]),
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    held.abort();
}

/// CloudVision goes away while Postern waits on S3: the broken connection
/// is a client error with the workspace's id, and there is nothing to
/// abandon at that step.
#[tokio::test]
async fn a_connection_lost_during_the_wait() {
    let h = harness_with(&[(S1, H1)]).await;
    h.fake.hold_outcomes();
    let posted = h.spawn_post(&h.request().device(H1, Some(S1), "hostname leaf-1a\n"));
    h.wait_for_calls(m::WS_SUB, 1).await;
    let w = h.workspace_id();
    let Harness { fake, server, addr } = h;
    drop(fake);
    let response = tokio::time::timeout(std::time::Duration::from_secs(30), posted)
        .await
        .expect("a reply in time")
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        single_error(&response),
        format!("('Connection lost', (<CVClient>,), {{'workspace_id': '{w}'}})")
    );
    drop((server, addr));
}
