//! The fake CloudVision proves its key behaviours to a real tonic (and raw
//! h2 / hyper) client over TLS that trusts only the generated CA.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use serde_json::json;
use tonic::Code;
use tonic::codegen::tokio_stream::StreamExt;

use postern::workflows::cvproxy::proto::arista::{
    changecontrol::v1 as cc, configlet::v1 as configlet, inventory::v1 as inventory,
    studio::v1 as studio, subscriptions::Operation, workspace::v1 as ws,
};
use postern::workflows::cvproxy::proto::fmp::RepeatedString;

use super::fake::{FakeCv, InventoryDevice, NO_CHANGE_CONTROL_MESSAGE, UNAVAILABLE_MESSAGE};

const W: &str = "ws-3f9c1c9e-0d1e-4f6b-9c55-2d1b7f0a1e21";
const S1: &str = "SSJ11111111";

/// Guards every await on the fake; never used to wait for something to happen.
async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("the fake answers in time")
}

fn ws_key(id: &str) -> Option<ws::WorkspaceKey> {
    Some(ws::WorkspaceKey {
        workspace_id: Some(id.to_owned()),
    })
}

fn strings(values: &[&str]) -> Option<RepeatedString> {
    Some(RepeatedString {
        values: values.iter().map(|v| v.to_string()).collect(),
    })
}

/// The REST pre-flight over HTTP/1.1 or h2: (status, body).
async fn preflight(fake: &FakeCv, alpn: &[u8], token: Option<&str>) -> (u16, String) {
    let io = TokioIo::new(fake.connect_tls(&[alpn]).await.expect("TLS to the fake"));
    let h2 = alpn == b"h2";
    let uri = if h2 {
        format!(
            "https://localhost:{}/cvpservice/cvpInfo/getCvpInfo.do",
            fake.port()
        )
    } else {
        "/cvpservice/cvpInfo/getCvpInfo.do".to_owned()
    };
    let mut request = hyper::Request::get(uri).header(CONTENT_TYPE, "application/json");
    if !h2 {
        request = request.header(HOST, format!("localhost:{}", fake.port()));
    }
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request.body(Full::new(Bytes::from_static(b"{}"))).unwrap();
    let response = if h2 {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
        tokio::spawn(connection);
        sender.send_request(request).await.unwrap()
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        sender.send_request(request).await.unwrap()
    };
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn preflight_answers_per_token_and_knob() {
    let fake = FakeCv::start().await;
    let token = fake.token();
    assert_eq!(
        preflight(&fake, b"http/1.1", Some(&token)).await,
        (200, r#"{"version":"CVaaS"}"#.into())
    );
    assert_eq!(preflight(&fake, b"h2", Some(&token)).await.0, 200);
    assert_eq!(preflight(&fake, b"http/1.1", Some("wrong")).await.0, 401);
    assert_eq!(preflight(&fake, b"h2", None).await.0, 401);

    fake.set_preflight_version("2024.1.0");
    assert_eq!(
        preflight(&fake, b"h2", Some(&token)).await,
        (200, r#"{"version":"2024.1.0"}"#.into())
    );
    fake.set_preflight_raw(200, "2026.1.3");
    assert_eq!(
        preflight(&fake, b"http/1.1", Some(&token)).await,
        (200, "2026.1.3".into())
    );

    let seen = fake.preflights();
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].version, "HTTP/1.1");
    assert_eq!(seen[1].version, "HTTP/2.0");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(seen[0].body, b"{}");
    assert_eq!(seen[3].header("authorization"), None);
}

#[tokio::test]
async fn grpc_needs_the_bearer_token() {
    let fake = FakeCv::start().await;
    fake.add_device(InventoryDevice::new(S1, "leaf-1a"));
    let mut devices =
        inventory::device_service_client::DeviceServiceClient::new(fake.channel().await);

    let status = within(devices.get_all(inventory::DeviceStreamRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::Unauthenticated, "invalid token")
    );
    let mut wrong = tonic::Request::new(inventory::DeviceStreamRequest::default());
    wrong
        .metadata_mut()
        .insert("authorization", "Bearer nope".parse().unwrap());
    let status = within(devices.get_all(wrong)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let all = read_devices(&mut devices, fake.request(Default::default())).await;
    assert_eq!(all.len(), 1);
    assert_eq!(
        fake.calls()[2].authorization,
        Some(format!("Bearer {}", fake.token()))
    );

    // Issue #5875: an expired token is let in but sees no devices.
    fake.set_expired_token_mode(true);
    let mut wrong = tonic::Request::new(inventory::DeviceStreamRequest::default());
    wrong
        .metadata_mut()
        .insert("authorization", "Bearer expired".parse().unwrap());
    assert!(read_devices(&mut devices, wrong).await.is_empty());
    assert_eq!(
        read_devices(&mut devices, fake.request(Default::default()))
            .await
            .len(),
        1
    );
}

async fn read_devices(
    client: &mut inventory::device_service_client::DeviceServiceClient<tonic::transport::Channel>,
    request: tonic::Request<inventory::DeviceStreamRequest>,
) -> Vec<inventory::Device> {
    let mut stream = within(client.get_all(request)).await.unwrap().into_inner();
    let mut out = Vec::new();
    while let Some(message) = within(stream.message()).await.unwrap() {
        out.push(message.value.unwrap());
    }
    out
}

/// The whole happy path of one device: create, wait for PENDING, upload,
/// containers, build (with details), submit (with a change control), rename.
#[tokio::test]
async fn workspace_build_and_submit_are_announced_on_subscribe() {
    let fake = FakeCv::start().await;
    fake.add_device(InventoryDevice::new(S1, "leaf-1a"));
    let channel = fake.channel().await;
    let mut workspaces = ws::workspace_service_client::WorkspaceServiceClient::new(channel.clone());
    let mut config =
        ws::workspace_config_service_client::WorkspaceConfigServiceClient::new(channel.clone());
    let mut configlets =
        configlet::configlet_config_service_client::ConfigletConfigServiceClient::new(
            channel.clone(),
        );
    let mut containers = configlet::configlet_assignment_config_service_client::ConfigletAssignmentConfigServiceClient::new(channel.clone());
    let mut assignments =
        configlet::configlet_assignment_service_client::ConfigletAssignmentServiceClient::new(
            channel.clone(),
        );
    let mut inputs =
        studio::inputs_config_service_client::InputsConfigServiceClient::new(channel.clone());
    let mut details =
        ws::workspace_build_details_service_client::WorkspaceBuildDetailsServiceClient::new(
            channel.clone(),
        );
    let mut change_controls =
        cc::change_control_service_client::ChangeControlServiceClient::new(channel.clone());
    let mut cc_config =
        cc::change_control_config_service_client::ChangeControlConfigServiceClient::new(channel);

    // S1 / S2: unknown, then created.
    let status = within(workspaces.get_one(fake.request(ws::WorkspaceRequest {
        key: ws_key(W),
        time: None,
    })))
    .await
    .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::NotFound, "resource not found")
    );
    let create = ws::WorkspaceConfig {
        key: ws_key(W),
        display_name: Some("AVD 2026-11-22 00:30:07.476798".into()),
        ..Default::default()
    };
    let echoed = within(config.set(fake.request(ws::WorkspaceConfigSetRequest {
        value: Some(create.clone()),
    })))
    .await
    .unwrap()
    .into_inner();
    assert_eq!(echoed.value, Some(create));
    assert!(echoed.time.is_some());

    // S3: INITIAL (not yet pending), INITIAL_SYNC_COMPLETE without value, UPDATED pending.
    let mut subscription = subscribe(&fake, &mut workspaces).await;
    let initial = next(&mut subscription).await;
    assert_eq!(initial.r#type, Operation::Initial as i32);
    assert_eq!(
        initial.value.unwrap().state,
        ws::WorkspaceState::Unspecified as i32
    );
    let sync = next(&mut subscription).await;
    assert_eq!(
        (sync.r#type, sync.value),
        (Operation::InitialSyncComplete as i32, None)
    );
    let updated = next(&mut subscription).await;
    assert_eq!(updated.r#type, Operation::Updated as i32);
    assert_eq!(
        updated.value.unwrap().state,
        ws::WorkspaceState::Pending as i32
    );
    drop(subscription);

    // S14, S16, S20, S21, S22 as a deployment sends them.
    let body = "hostname leaf-1a\n";
    let upload = configlet::ConfigletConfig {
        key: Some(configlet::ConfigletKey {
            workspace_id: Some(W.into()),
            configlet_id: Some(format!("avd-{S1}")),
        }),
        display_name: Some("AVD-leaf-1a".into()),
        description: Some("Configuration created and uploaded by AVD for leaf-1a".into()),
        body: Some(body.into()),
        ..Default::default()
    };
    let mut replies = within(configlets.set_some(fake.request(
        configlet::ConfigletConfigSetSomeRequest {
            values: vec![upload],
        },
    )))
    .await
    .unwrap()
    .into_inner();
    assert!(
        within(replies.message()).await.unwrap().is_none(),
        "success streams nothing"
    );
    let assignment_key = |id: &str| {
        Some(configlet::ConfigletAssignmentKey {
            workspace_id: Some(W.into()),
            configlet_assignment_id: Some(id.into()),
        })
    };
    within(containers.set(
        fake.request(configlet::ConfigletAssignmentConfigSetRequest {
            value: Some(configlet::ConfigletAssignmentConfig {
                key: assignment_key("avd-configlets"),
                display_name: Some("AVD Configurations".into()),
                description: Some("Configurations created and uploaded by AVD".into()),
                configlet_ids: strings(&[]),
                query: Some("device:*".into()),
                match_policy: configlet::MatchPolicy::MatchAll as i32,
                child_assignment_ids: strings(&[]),
                remove: None,
            }),
        }),
    ))
    .await
    .unwrap();
    within(inputs.set(fake.request(studio::InputsConfigSetRequest {
        value: Some(studio::InputsConfig {
            key: Some(studio::InputsKey {
                studio_id: Some("studio-static-configlet".into()),
                workspace_id: Some(W.into()),
                path: strings(&["configletAssignmentRoots"]),
            }),
            remove: None,
            inputs: Some(r#"["avd-configlets"]"#.into()),
        }),
    })))
    .await
    .unwrap();
    let device_container = configlet::ConfigletAssignmentConfig {
        key: assignment_key(&format!("avd-{S1}")),
        display_name: Some("leaf-1a".into()),
        description: Some("Configuration created and uploaded by AVD for leaf-1a".into()),
        configlet_ids: strings(&[&format!("avd-{S1}")]),
        query: Some(format!("device:{S1}")),
        match_policy: configlet::MatchPolicy::MatchAll as i32,
        child_assignment_ids: strings(&[]),
        remove: None,
    };
    let mut replies = within(containers.set_some(fake.request(
        configlet::ConfigletAssignmentConfigSetSomeRequest {
            values: vec![device_container],
        },
    )))
    .await
    .unwrap()
    .into_inner();
    assert!(within(replies.message()).await.unwrap().is_none());
    // S22: a partial update; display name, description and query stay.
    within(containers.set(
        fake.request(configlet::ConfigletAssignmentConfigSetRequest {
            value: Some(configlet::ConfigletAssignmentConfig {
                key: assignment_key("avd-configlets"),
                configlet_ids: strings(&[]),
                match_policy: configlet::MatchPolicy::MatchAll as i32,
                child_assignment_ids: strings(&[&format!("avd-{S1}")]),
                ..Default::default()
            }),
        }),
    ))
    .await
    .unwrap();
    let mut root = within(assignments.get_all(fake.request(
        configlet::ConfigletAssignmentStreamRequest {
            partial_eq_filter: vec![configlet::ConfigletAssignment {
                key: assignment_key("avd-configlets"),
                ..Default::default()
            }],
            time: Some(Default::default()),
        },
    )))
    .await
    .unwrap()
    .into_inner();
    let root = within(root.message())
        .await
        .unwrap()
        .unwrap()
        .value
        .unwrap();
    assert_eq!(
        root.key,
        assignment_key("avd-configlets"),
        "stamped with the workspace id"
    );
    assert_eq!(root.display_name.as_deref(), Some("AVD Configurations"));
    assert_eq!(root.query.as_deref(), Some("device:*"));
    assert_eq!(root.child_assignment_ids, strings(&[&format!("avd-{S1}")]));

    // S23 / S24: the build response arrives as an update on a fresh subscription.
    let build_id = "req-d22731ce-adea-4f02-8b01-739cc45f598a";
    let (response, workspace) = request_and_wait(
        &fake,
        &mut config,
        &mut workspaces,
        ws::Request::StartBuild,
        build_id,
    )
    .await;
    assert_eq!(response.status, ws::ResponseStatus::Success as i32);
    assert_eq!(
        response.message,
        Some(format!("Build {build_id} finished successfully"))
    );
    assert_eq!(workspace.last_build_id.as_deref(), Some(build_id));
    assert_eq!(workspace.needs_rebase, Some(false));

    // S25: one device built.
    let mut stream = within(details.get_all(fake.request(
        ws::WorkspaceBuildDetailsStreamRequest {
            partial_eq_filter: vec![ws::WorkspaceBuildDetails {
                key: Some(ws::WorkspaceBuildDetailsKey {
                    workspace_id: Some(W.into()),
                    build_id: Some(build_id.into()),
                    device_id: None,
                }),
                ..Default::default()
            }],
            time: None,
        },
    )))
    .await
    .unwrap()
    .into_inner();
    let built = within(stream.message())
        .await
        .unwrap()
        .unwrap()
        .value
        .unwrap();
    assert_eq!(built.key.unwrap().device_id.as_deref(), Some(S1));
    assert_eq!(built.state, ws::BuildState::Success as i32);
    assert!(within(stream.message()).await.unwrap().is_none());

    // S26 / S27: submitted with a change control in the same update.
    let (response, workspace) = request_and_wait(
        &fake,
        &mut config,
        &mut workspaces,
        ws::Request::Submit,
        "req-submit-1",
    )
    .await;
    assert_eq!(response.status, ws::ResponseStatus::Success as i32);
    assert_eq!(response.message.as_deref(), Some("Submitted successfully"));
    assert_eq!(workspace.state, ws::WorkspaceState::Submitted as i32);
    let cc_id = workspace.cc_ids.unwrap().values[0].clone();
    assert_eq!(
        fake.mainline_configlets()[&format!("avd-{S1}")]
            .body
            .as_deref(),
        Some(body)
    );

    // S28 / S28b.
    let get = cc::ChangeControlRequest {
        key: Some(cc::ChangeControlKey {
            id: Some(cc_id.clone()),
        }),
        time: None,
    };
    let change = within(change_controls.get_one(fake.request(get.clone())))
        .await
        .unwrap()
        .into_inner()
        .value
        .unwrap();
    assert_eq!(change.status, cc::ChangeControlStatus::NotStarted as i32);
    assert_eq!(change.error, None);
    let change = change.change.unwrap();
    assert_eq!(
        change.name.as_deref(),
        Some("AVD 2026-11-22 00:30:07.476798")
    );
    assert_eq!(change.notes.as_deref(), Some(""));
    within(
        cc_config.set(fake.request(cc::ChangeControlConfigSetRequest {
            value: Some(cc::ChangeControlConfig {
                key: Some(cc::ChangeControlKey {
                    id: Some(cc_id.clone()),
                }),
                change: Some(cc::ChangeConfig {
                    name: Some("My CC".into()),
                    notes: Some(String::new()),
                    root_stage_id: None,
                }),
            }),
        })),
    )
    .await
    .unwrap();
    let renamed = within(change_controls.get_one(fake.request(get)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        renamed.value.unwrap().change.unwrap().name.as_deref(),
        Some("My CC")
    );
    assert_eq!(fake.change_controls()[0].workspace_id, W);

    // The recorder keeps the payload as sent: spec 6.4's S23 sample.
    let sets: Vec<ws::WorkspaceConfigSetRequest> = fake.requests("WorkspaceConfigService/Set");
    assert_eq!(
        sets.iter()
            .map(|s| s.value.as_ref().unwrap().request)
            .collect::<Vec<_>>(),
        [0, 1, 3]
    );
    let start_build = fake
        .calls()
        .into_iter()
        .filter(|c| c.path == "/arista.workspace.v1.WorkspaceConfigService/Set")
        .nth(1)
        .unwrap();
    let mut expected = hex("0a5d0a2b0a290a27");
    expected.extend_from_slice(W.as_bytes());
    expected.extend(hex("20012a2c0a2a0a28"));
    expected.extend_from_slice(build_id.as_bytes());
    assert_eq!(start_build.message, expected);
}

/// Sends a workspace request and waits on a new Subscribe for its final response.
async fn request_and_wait(
    fake: &FakeCv,
    config: &mut ws::workspace_config_service_client::WorkspaceConfigServiceClient<
        tonic::transport::Channel,
    >,
    workspaces: &mut ws::workspace_service_client::WorkspaceServiceClient<
        tonic::transport::Channel,
    >,
    request: ws::Request,
    request_id: &str,
) -> (ws::Response, ws::Workspace) {
    let value = ws::WorkspaceConfig {
        key: ws_key(W),
        request: request as i32,
        request_params: Some(ws::RequestParams {
            request_id: Some(request_id.into()),
        }),
        ..Default::default()
    };
    let echoed = within(config.set(fake.request(ws::WorkspaceConfigSetRequest {
        value: Some(value.clone()),
    })))
    .await
    .unwrap()
    .into_inner();
    assert_eq!(
        echoed.value,
        Some(value),
        "the request is echoed with its request_params"
    );
    let mut subscription = subscribe(fake, workspaces).await;
    let mut saw_intermediate = false;
    loop {
        let message = next(&mut subscription).await;
        let Some(workspace) = message.value else {
            continue;
        };
        let response = workspace
            .responses
            .as_ref()
            .and_then(|r| r.values.get(request_id))
            .cloned();
        match response {
            Some(r) if r.status == ws::ResponseStatus::Unspecified as i32 => {
                saw_intermediate = true
            }
            Some(r) => {
                assert!(
                    saw_intermediate,
                    "the INITIAL message shows the request in progress"
                );
                assert_eq!(message.r#type, Operation::Updated as i32);
                return (r, workspace);
            }
            None => {}
        }
    }
}

async fn subscribe(
    fake: &FakeCv,
    workspaces: &mut ws::workspace_service_client::WorkspaceServiceClient<
        tonic::transport::Channel,
    >,
) -> tonic::Streaming<ws::WorkspaceStreamResponse> {
    let request = ws::WorkspaceStreamRequest {
        partial_eq_filter: vec![ws::Workspace {
            key: ws_key(W),
            ..Default::default()
        }],
        time: None,
    };
    within(workspaces.subscribe(fake.request(request)))
        .await
        .unwrap()
        .into_inner()
}

async fn next(
    stream: &mut tonic::Streaming<ws::WorkspaceStreamResponse>,
) -> ws::WorkspaceStreamResponse {
    within(stream.message())
        .await
        .expect("no stream error")
        .expect("the Subscribe stream stays open")
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn not_found_and_unimplemented() {
    let fake = FakeCv::start().await;
    let channel = fake.channel().await;
    let mut config =
        ws::workspace_config_service_client::WorkspaceConfigServiceClient::new(channel.clone());
    let mut inputs = studio::inputs_service_client::InputsServiceClient::new(channel.clone());
    let mut change_controls =
        cc::change_control_service_client::ChangeControlServiceClient::new(channel.clone());
    let mut workspaces = ws::workspace_service_client::WorkspaceServiceClient::new(channel.clone());

    let build = ws::WorkspaceConfig {
        key: ws_key(W),
        request: ws::Request::StartBuild as i32,
        request_params: Some(ws::RequestParams {
            request_id: Some("req-1".into()),
        }),
        ..Default::default()
    };
    let status =
        within(config.set(fake.request(ws::WorkspaceConfigSetRequest { value: Some(build) })))
            .await
            .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (
            Code::NotFound,
            format!("workspace does not exist: {W}").as_str()
        )
    );
    let status =
        within(config.delete(fake.request(ws::WorkspaceConfigDeleteRequest { key: ws_key(W) })))
            .await
            .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = within(
        change_controls.get_one(fake.request(cc::ChangeControlRequest {
            key: Some(cc::ChangeControlKey {
                id: Some("qyUnE6mfxhuDHibRgrr6S".into()),
            }),
            time: None,
        })),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // S19 on an empty mainline; then mainline has it.
    let roots_key = |workspace: &str| studio::InputsRequest {
        key: Some(studio::InputsKey {
            studio_id: Some("studio-static-configlet".into()),
            workspace_id: Some(workspace.into()),
            path: strings(&["configletAssignmentRoots"]),
        }),
        time: None,
    };
    let status = within(inputs.get_one(fake.request(roots_key(""))))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    fake.set_assignment_roots(&["avd-configlets"]);
    let found = within(inputs.get_one(fake.request(roots_key(""))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        found.value.unwrap().inputs.as_deref(),
        Some(r#"["avd-configlets"]"#)
    );

    // S17: a workspace that did not change the path → NOT_FOUND; S5 → empty stream.
    fake.set_outcome_timing(super::fake::OutcomeTiming::Immediate);
    within(config.set(fake.request(ws::WorkspaceConfigSetRequest {
        value: Some(ws::WorkspaceConfig {
            key: ws_key(W),
            ..Default::default()
        }),
    })))
    .await
    .unwrap();
    assert_eq!(
        fake.workspace(W).unwrap().state,
        ws::WorkspaceState::Pending
    );
    let status = within(inputs.get_one(fake.request(roots_key(W))))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::NotFound, "resource not found")
    );
    fake.set_studio_inputs("TOPOLOGY", json!({"devices": []}));
    let topology = |workspace: &str| studio::InputsStreamRequest {
        partial_eq_filter: vec![studio::Inputs {
            key: Some(studio::InputsKey {
                studio_id: Some("TOPOLOGY".into()),
                workspace_id: Some(workspace.into()),
                path: None,
            }),
            ..Default::default()
        }],
        time: None,
    };
    let mut stream = within(inputs.get_all(fake.request(topology(W))))
        .await
        .unwrap()
        .into_inner();
    assert!(within(stream.message()).await.unwrap().is_none());
    let mut stream = within(inputs.get_all(fake.request(topology(""))))
        .await
        .unwrap()
        .into_inner();
    let piece = within(stream.message())
        .await
        .unwrap()
        .unwrap()
        .value
        .unwrap();
    assert_eq!(piece.key.unwrap().path, strings(&["devices"]));
    assert_eq!(piece.inputs.as_deref(), Some("[]"));

    // Unknown workspace on Subscribe: only INITIAL_SYNC_COMPLETE, stream stays open.
    let mut subscription = within(
        workspaces.subscribe(fake.request(ws::WorkspaceStreamRequest {
            partial_eq_filter: vec![ws::Workspace {
                key: ws_key("ws-unknown"),
                ..Default::default()
            }],
            time: None,
        })),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(
        next(&mut subscription).await.r#type,
        Operation::InitialSyncComplete as i32
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), subscription.message())
            .await
            .is_err(),
        "nothing more, and the stream does not end"
    );

    // A method outside spec 12.1.
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/arista.workspace.v1.WorkspaceService/Delete",
    );
    let status = within(grpc.unary::<_, ws::WorkspaceRequest, _>(
        fake.request(ws::WorkspaceRequest::default()),
        path,
        tonic_prost::ProstCodec::default(),
    ))
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

#[tokio::test]
async fn configlet_set_some_reports_failed_items_only() {
    let fake = FakeCv::start().await;
    fake.hold_outcomes();
    let channel = fake.channel().await;
    let mut config =
        ws::workspace_config_service_client::WorkspaceConfigServiceClient::new(channel.clone());
    let configlets =
        configlet::configlet_config_service_client::ConfigletConfigServiceClient::new(channel);
    within(config.set(fake.request(ws::WorkspaceConfigSetRequest {
        value: Some(ws::WorkspaceConfig {
            key: ws_key(W),
            ..Default::default()
        }),
    })))
    .await
    .unwrap();
    let item = |workspace: &str, id: &str| configlet::ConfigletConfig {
        key: Some(configlet::ConfigletKey {
            workspace_id: Some(workspace.into()),
            configlet_id: Some(id.into()),
        }),
        body: Some("hostname x\n".into()),
        ..Default::default()
    };
    let errors = |values: Vec<configlet::ConfigletConfig>| {
        let mut configlets = configlets.clone();
        let request = fake.request(configlet::ConfigletConfigSetSomeRequest { values });
        async move {
            let stream = within(configlets.set_some(request))
                .await
                .unwrap()
                .into_inner();
            let replies: Vec<_> = within(stream.collect::<Vec<_>>()).await;
            replies
                .into_iter()
                .map(|r| r.unwrap().error)
                .collect::<Vec<String>>()
        }
    };

    // Not PENDING yet.
    assert_eq!(
        errors(vec![item(W, "avd-A")]).await,
        [format!("workspace status is not available: {W}")]
    );
    fake.release_outcomes();
    assert_eq!(
        fake.workspace(W).unwrap().state,
        ws::WorkspaceState::Pending
    );
    fake.configlet_item_error("avd-C", "scripted failure");
    assert_eq!(
        errors(vec![
            item(W, "avd-A"),
            item(W, ""),
            item("ws-nope", "avd-B"),
            item(W, "avd-C")
        ])
        .await,
        [
            "static configlet ID cannot be empty".to_owned(),
            "workspace does not exist: ws-nope".to_owned(),
            "scripted failure".to_owned(),
        ]
    );
    assert!(errors(vec![item(W, "avd-D")]).await.is_empty());
    let stored = fake.workspace_configlets(W);
    assert_eq!(stored.keys().collect::<Vec<_>>(), ["avd-A", "avd-D"]);
}

#[tokio::test]
async fn scripted_transport_failures() {
    let fake = FakeCv::start().await;
    let channel = fake.channel().await;
    let mut workspaces = ws::workspace_service_client::WorkspaceServiceClient::new(channel.clone());
    let mut configlets =
        configlet::configlet_config_service_client::ConfigletConfigServiceClient::new(channel);
    let get_one = || {
        fake.request(ws::WorkspaceRequest {
            key: ws_key(W),
            time: None,
        })
    };

    // UNAVAILABLE twice, then the real answer.
    fake.unavailable_next("WorkspaceService/GetOne", 2);
    for _ in 0..2 {
        let status = within(workspaces.get_one(get_one())).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::Unavailable, UNAVAILABLE_MESSAGE)
        );
    }
    assert_eq!(
        within(workspaces.get_one(get_one()))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );

    // A standing error with its message.
    fake.fail_always(
        "/arista.workspace.v1.WorkspaceService/GetOne",
        Code::PermissionDenied,
        "permission denied",
    );
    let status = within(workspaces.get_one(get_one())).await.unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::PermissionDenied, "permission denied")
    );
    fake.clear_failures("WorkspaceService/GetOne");

    // grpc-go's size message, with the encoded request size.
    fake.set_receive_limit("ConfigletConfigService/SetSome", 100);
    let big = configlet::ConfigletConfigSetSomeRequest {
        values: vec![configlet::ConfigletConfig {
            body: Some("x".repeat(200)),
            ..Default::default()
        }],
    };
    let size = big.encoded_len();
    let status = within(configlets.set_some(fake.request(big)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(
        status.message(),
        format!("grpc: received message larger than max ({size} vs. 100)")
    );

    // A reset, seen by tonic ...
    fake.reset_next("WorkspaceService/GetOne", 2);
    let status = within(workspaces.get_one(get_one())).await.unwrap_err();
    let reason = std::error::Error::source(&status)
        .and_then(|e| find_h2(e))
        .and_then(h2::Error::reason);
    assert_eq!(reason, Some(h2::Reason::INTERNAL_ERROR), "{status:?}");
    // ... and by a raw h2 client: RST_STREAM with error code 2.
    let io = fake.connect_tls(&[b"h2"]).await.unwrap();
    let (mut client, connection) = within(h2::client::handshake(io)).await.unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::post(format!(
        "https://localhost:{}/arista.workspace.v1.WorkspaceService/GetOne",
        fake.port()
    ))
    .header(CONTENT_TYPE, "application/grpc")
    .header("te", "trailers")
    .header(AUTHORIZATION, format!("Bearer {}", fake.token()))
    .body(())
    .unwrap();
    let (response, mut body) = client.send_request(request, false).unwrap();
    body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true)
        .unwrap();
    let error = within(response).await.unwrap_err();
    assert!(error.is_reset() && error.is_remote(), "{error:?}");
    assert_eq!(error.reason(), Some(h2::Reason::INTERNAL_ERROR));
    assert_eq!(u32::from(h2::Reason::INTERNAL_ERROR), 2);

    // Every attempt was recorded.
    assert_eq!(fake.call_count("WorkspaceService/GetOne"), 6);
    assert_eq!(
        fake.methods().last().map(String::as_str),
        Some("WorkspaceService/GetOne")
    );
}

fn find_h2<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a h2::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return Some(h2);
        }
        current = e.source();
    }
    None
}

#[tokio::test]
async fn invalid_cli_fails_the_build_and_no_change_submits_without_cc() {
    let fake = FakeCv::start().await;
    fake.set_outcome_timing(super::fake::OutcomeTiming::Immediate);
    fake.add_device(InventoryDevice::new(S1, "leaf-1a"));
    fake.seed_avd_device(S1, "leaf-1a", "hostname leaf-1a\n");
    let channel = fake.channel().await;
    let mut config =
        ws::workspace_config_service_client::WorkspaceConfigServiceClient::new(channel.clone());
    let mut configlets =
        configlet::configlet_config_service_client::ConfigletConfigServiceClient::new(channel);
    let set = |value: ws::WorkspaceConfig| {
        fake.request(ws::WorkspaceConfigSetRequest { value: Some(value) })
    };
    let request = |kind: ws::Request, id: &str| ws::WorkspaceConfig {
        key: ws_key(W),
        request: kind as i32,
        request_params: Some(ws::RequestParams {
            request_id: Some(id.into()),
        }),
        ..Default::default()
    };
    within(config.set(set(ws::WorkspaceConfig {
        key: ws_key(W),
        ..Default::default()
    })))
    .await
    .unwrap();
    let upload = |body: &str| {
        fake.request(configlet::ConfigletConfigSetSomeRequest {
            values: vec![configlet::ConfigletConfig {
                key: Some(configlet::ConfigletKey {
                    workspace_id: Some(W.into()),
                    configlet_id: Some(format!("avd-{S1}")),
                }),
                body: Some(body.into()),
                ..Default::default()
            }],
        })
    };

    within(configlets.set_some(upload("hostname leaf-1a\n  INVALID-CLI here\n")))
        .await
        .unwrap();
    within(config.set(set(request(ws::Request::StartBuild, "req-b1"))))
        .await
        .unwrap();
    let snapshot = fake.workspace(W).unwrap();
    let response = snapshot.response("req-b1").unwrap();
    assert_eq!(
        (response.status, response.message.as_deref()),
        (ws::ResponseStatus::Fail as i32, Some("Build req-b1 failed"))
    );
    let details = fake.build_details(W, "req-b1");
    let errors = details[0]
        .config_validation_result
        .clone()
        .unwrap()
        .errors
        .unwrap()
        .values;
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].error_msg.as_deref(),
        Some("> INVALID-CLI here % Invalid input")
    );
    assert_eq!(errors[0].line_num, Some(2));
    assert_eq!(errors[0].configlet_name.as_deref(), Some("avd-SSJ11111111"));
    within(config.set(set(request(ws::Request::Submit, "req-s0"))))
        .await
        .unwrap();
    assert_eq!(
        fake.workspace(W)
            .unwrap()
            .response("req-s0")
            .unwrap()
            .message
            .as_deref(),
        Some("workspace must be built before submission")
    );

    // Back to the mainline body: nothing changed, no change control.
    within(configlets.set_some(upload("hostname leaf-1a\n")))
        .await
        .unwrap();
    within(config.set(set(request(ws::Request::StartBuild, "req-b2"))))
        .await
        .unwrap();
    assert!(fake.build_details(W, "req-b2").is_empty());
    within(config.set(set(request(ws::Request::Submit, "req-s1"))))
        .await
        .unwrap();
    let snapshot = fake.workspace(W).unwrap();
    assert_eq!(snapshot.state, ws::WorkspaceState::Submitted);
    assert_eq!(
        snapshot.response("req-s1").unwrap().message.as_deref(),
        Some(NO_CHANGE_CONTROL_MESSAGE)
    );
    assert!(snapshot.cc_ids.is_empty() && fake.change_controls().is_empty());
}

#[tokio::test]
async fn tls_modes() {
    let fake = FakeCv::start().await;
    let pem = std::fs::read_to_string(fake.ca_file().unwrap()).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let tls = fake.connect_tls(&[b"h2"]).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));

    let self_signed = FakeCv::start_self_signed().await;
    assert!(self_signed.ca_file().is_none());
    // Trusting the generated CA of another fake does not help...
    let config = std::sync::Arc::new(fake.client_tls_config(&[b"h2"]));
    let tcp = tokio::net::TcpStream::connect(self_signed.addr())
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let error = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("UnknownIssuer"), "{error}");
    // ... trusting the certificate itself does.
    assert!(self_signed.connect_tls(&[b"http/1.1"]).await.is_ok());
}

/// Sends a workspace request; with `OutcomeTiming::Immediate` its outcome is
/// in the fake's state when the call returns.
async fn request_now(fake: &FakeCv, request: ws::Request, request_id: &str) -> ws::Response {
    let mut config = ws::workspace_config_service_client::WorkspaceConfigServiceClient::new(
        fake.channel().await,
    );
    let value = ws::WorkspaceConfig {
        key: ws_key(W),
        request: request as i32,
        request_params: Some(ws::RequestParams {
            request_id: Some(request_id.into()),
        }),
        ..Default::default()
    };
    within(config.set(fake.request(ws::WorkspaceConfigSetRequest { value: Some(value) })))
        .await
        .unwrap();
    fake.workspace(W)
        .unwrap()
        .response(request_id)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn scripted_rebase_submit_and_inactive_outcomes() {
    let fake = FakeCv::start().await;
    fake.set_outcome_timing(super::fake::OutcomeTiming::Immediate);
    fake.add_device(InventoryDevice::new(S1, "leaf-1a"));
    fake.seed_avd_device(S1, "leaf-1a", "hostname leaf-1a\n");
    let channel = fake.channel().await;
    let mut config =
        ws::workspace_config_service_client::WorkspaceConfigServiceClient::new(channel.clone());
    let mut configlets =
        configlet::configlet_config_service_client::ConfigletConfigServiceClient::new(
            channel.clone(),
        );
    let mut devices = inventory::device_service_client::DeviceServiceClient::new(channel);
    within(config.set(fake.request(ws::WorkspaceConfigSetRequest {
        value: Some(ws::WorkspaceConfig {
            key: ws_key(W),
            ..Default::default()
        }),
    })))
    .await
    .unwrap();
    within(
        configlets.set_some(fake.request(configlet::ConfigletConfigSetSomeRequest {
            values: vec![configlet::ConfigletConfig {
                key: Some(configlet::ConfigletKey {
                    workspace_id: Some(W.into()),
                    configlet_id: Some(format!("avd-{S1}")),
                }),
                body: Some("hostname leaf-1a-renamed\n".into()),
                ..Default::default()
            }],
        })),
    )
    .await
    .unwrap();
    let outcome = |r: &ws::Response| (r.status, r.code, r.message.clone().unwrap_or_default());
    let fail = ws::ResponseStatus::Fail as i32;
    let sync = ws::ResponseCode::SynchronizationRequired as i32;

    fake.needs_rebase_on_builds(1);
    let built = request_now(&fake, ws::Request::StartBuild, "req-b1").await;
    assert_eq!(built.status, ws::ResponseStatus::Success as i32);
    assert!(fake.workspace(W).unwrap().needs_rebase);
    assert_eq!(
        outcome(&request_now(&fake, ws::Request::Submit, "req-s1").await).1,
        sync
    );
    fake.fail_rebases(1, "rebase conflict");
    let rebase = request_now(&fake, ws::Request::Rebase, "req-r1").await;
    assert_eq!(outcome(&rebase), (fail, 0, "rebase conflict".into()));
    let rebase = request_now(&fake, ws::Request::Rebase, "req-r2").await;
    assert_eq!(rebase.status, ws::ResponseStatus::Success as i32);
    assert!(!fake.workspace(W).unwrap().needs_rebase);
    let submit = request_now(&fake, ws::Request::Submit, "req-s2").await;
    assert_eq!(
        submit.message.as_deref(),
        Some("workspace must be built before submission")
    );
    request_now(&fake, ws::Request::StartBuild, "req-b2").await;

    // The device goes inactive right after the inventory read.
    fake.deactivate_after_inventory_read(S1);
    let read = read_devices(&mut devices, fake.request(Default::default())).await;
    assert_eq!(
        read[0].streaming_status,
        inventory::StreamingStatus::Active as i32
    );
    assert!(!fake.devices()[0].active);
    let submit = request_now(&fake, ws::Request::Submit, "req-s3").await;
    let inactive = ws::ResponseCode::InactiveDevicesExist as i32;
    assert_eq!(
        outcome(&submit),
        (fail, inactive, "some devices are inactive".into())
    );
    fake.set_device_active(S1, true);

    fake.require_sync_on_submits(1);
    fake.fail_submits(1, ws::ResponseCode::Unspecified, "some other reason");
    assert_eq!(
        outcome(&request_now(&fake, ws::Request::Submit, "req-s4").await).1,
        sync
    );
    let submit = request_now(&fake, ws::Request::Submit, "req-s5").await;
    assert_eq!(outcome(&submit), (fail, 0, "some other reason".into()));
    assert_eq!(
        fake.workspace(W).unwrap().state,
        ws::WorkspaceState::Pending
    );
    assert_eq!(
        fake.mainline_configlets()[&format!("avd-{S1}")]
            .body
            .as_deref(),
        Some("hostname leaf-1a\n"),
        "nothing merged before a successful submit"
    );

    let submit = request_now(&fake, ws::Request::Submit, "req-s6").await;
    assert_eq!(submit.message.as_deref(), Some("Submitted successfully"));
    let snapshot = fake.workspace(W).unwrap();
    assert_eq!(snapshot.state, ws::WorkspaceState::Submitted);
    assert_eq!(snapshot.cc_ids.len(), 1);
    assert_eq!(fake.change_controls()[0].device_ids, [S1]);
    assert_eq!(
        fake.mainline_configlets()[&format!("avd-{S1}")]
            .body
            .as_deref(),
        Some("hostname leaf-1a-renamed\n")
    );
}

#[tokio::test]
async fn tags_read_mainline_and_workspace_records() {
    use super::fake::{TagAssignmentRecord, TagRecord};
    use postern::workflows::cvproxy::proto::arista::tag::v2 as tag;

    let fake = FakeCv::start().await;
    fake.set_outcome_timing(super::fake::OutcomeTiming::Immediate);
    fake.add_tag(TagRecord::device("role", "leaf", tag::CreatorType::User));
    fake.add_tag(TagRecord::device("model", "cEOS", tag::CreatorType::System));
    fake.add_tag_assignment(TagAssignmentRecord::device(
        "role",
        "leaf",
        S1,
        tag::CreatorType::User,
    ));
    let channel = fake.channel().await;
    let mut config =
        ws::workspace_config_service_client::WorkspaceConfigServiceClient::new(channel.clone());
    let mut tags = tag::tag_service_client::TagServiceClient::new(channel.clone());
    let mut assignment_configs =
        tag::tag_assignment_config_service_client::TagAssignmentConfigServiceClient::new(channel);

    // S8: mainline USER device tags only.
    let filter = tag::Tag {
        key: Some(tag::TagKey {
            workspace_id: Some(String::new()),
            element_type: tag::ElementType::Device as i32,
            ..Default::default()
        }),
        creator_type: tag::CreatorType::User as i32,
    };
    let request = tag::TagStreamRequest {
        partial_eq_filter: vec![filter],
        time: Some(Default::default()),
    };
    let stream = within(tags.get_all(fake.request(request)))
        .await
        .unwrap()
        .into_inner();
    let read: Vec<_> = within(stream.collect::<Vec<_>>()).await;
    let read: Vec<_> = read
        .into_iter()
        .map(|r| r.unwrap().value.unwrap())
        .collect();
    assert_eq!(read.len(), 1);
    let key = read[0].key.clone().unwrap();
    assert_eq!(
        (key.workspace_id.as_deref(), key.label.as_deref()),
        (Some(""), Some("role"))
    );

    // S12 before and after S13b: the workspace's own records.
    within(config.set(fake.request(ws::WorkspaceConfigSetRequest {
        value: Some(ws::WorkspaceConfig {
            key: ws_key(W),
            ..Default::default()
        }),
    })))
    .await
    .unwrap();
    let assignment_key = tag::TagAssignmentKey {
        workspace_id: Some(W.into()),
        element_type: tag::ElementType::Device as i32,
        label: Some("role".into()),
        value: Some("leaf".into()),
        device_id: Some(S1.into()),
        ..Default::default()
    };
    let records = |mut client: tag::tag_assignment_config_service_client::TagAssignmentConfigServiceClient<tonic::transport::Channel>| {
        let request = fake.request(tag::TagAssignmentConfigStreamRequest {
            partial_eq_filter: vec![tag::TagAssignmentConfig {
                key: Some(tag::TagAssignmentKey {
                    workspace_id: Some(W.into()),
                    element_type: tag::ElementType::Device as i32,
                    ..Default::default()
                }),
                remove: None,
            }],
            time: Some(Default::default()),
        });
        async move {
            let stream = within(client.get_all(request)).await.unwrap().into_inner();
            let read: Vec<_> = within(stream.collect::<Vec<_>>()).await;
            read.into_iter().map(|r| r.unwrap().value.unwrap()).collect::<Vec<_>>()
        }
    };
    assert!(records(assignment_configs.clone()).await.is_empty());
    let removal = tag::TagAssignmentConfig {
        key: Some(assignment_key),
        remove: Some(true),
    };
    let mut replies = within(assignment_configs.set_some(fake.request(
        tag::TagAssignmentConfigSetSomeRequest {
            values: vec![removal.clone()],
        },
    )))
    .await
    .unwrap()
    .into_inner();
    assert!(within(replies.message()).await.unwrap().is_none());
    assert_eq!(records(assignment_configs.clone()).await, [removal]);

    // A submit without device changes still merges the tag records.
    fake.settle();
    request_now(&fake, ws::Request::StartBuild, "req-b").await;
    request_now(&fake, ws::Request::Submit, "req-s").await;
    assert!(fake.mainline_tag_assignments().is_empty());
    assert_eq!(fake.mainline_tags().len(), 2);
}
