//! `WorkspaceService`, `WorkspaceConfigService`, `WorkspaceBuildDetailsService`
//! (spec 13.3 "Workspaces"): creation, the asynchronous request outcomes
//! (build, submit, abandon, rebase) and the `Subscribe` streams that
//! announce them.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tonic::codegen::tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::{Request, Response, Status};

use postern::workflows::cvproxy::proto::arista::{
    configstatus::v1 as configstatus, subscriptions::Operation, workspace::v1 as ws,
};
use ws::workspace_build_details_service_server::WorkspaceBuildDetailsService;
use ws::workspace_config_service_server::WorkspaceConfigService;
use ws::workspace_service_server::WorkspaceService;

use super::knobs::{Knobs, OutcomeTiming};
use super::state::{
    ChangeControlRecord, State, Subscriber, WorkspaceEvent, WorkspaceRecord, changed_devices,
    effective_config, field_matches, merge_into_mainline, now,
};
use super::{BoxStream, FALLBACK_DELAY, Handler, Inner, stream_of};

pub const NO_CHANGE_CONTROL_MESSAGE: &str = "Submitted successfully. No change control was created because no config or software changes were created.";

#[tonic::async_trait]
impl WorkspaceService for Handler {
    async fn get_one(
        &self,
        request: Request<ws::WorkspaceRequest>,
    ) -> Result<Response<ws::WorkspaceResponse>, Status> {
        let id = request
            .into_inner()
            .key
            .and_then(|k| k.workspace_id)
            .unwrap_or_default();
        let state = self.inner.state();
        let workspace = state
            .workspaces
            .get(&id)
            .ok_or_else(|| Status::not_found("resource not found"))?;
        Ok(Response::new(ws::WorkspaceResponse {
            value: Some(workspace.to_proto()),
            time: now(),
        }))
    }

    type SubscribeStream = BoxStream<ws::WorkspaceStreamResponse>;

    async fn subscribe(
        &self,
        request: Request<ws::WorkspaceStreamRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let filters = request.into_inner().partial_eq_filter;
        // A filter without a workspace id (or no filter at all) wants every workspace.
        let filter = filters
            .iter()
            .map(|f| f.key.as_ref().and_then(|k| k.workspace_id.clone()))
            .collect::<Option<Vec<String>>>()
            .filter(|ids| !ids.is_empty());
        let (tx, rx) = mpsc::unbounded_channel();
        let subscriber = Subscriber { filter, tx };

        let mut state = self.inner.state();
        let mut knobs = self.inner.knobs();
        let mut wanted: Vec<&WorkspaceRecord> = state
            .workspaces
            .values()
            .filter(|w| subscriber.wants(&w.id))
            .collect();
        wanted.sort_by_key(|w| w.seq);
        let wanted_ids: Vec<String> = wanted.iter().map(|w| w.id.clone()).collect();
        for workspace in wanted {
            let _ = subscriber.tx.send(Ok(ws::WorkspaceStreamResponse {
                value: Some(workspace.to_proto()),
                time: now(),
                r#type: Operation::Initial as i32,
            }));
        }
        let _ = subscriber.tx.send(Ok(ws::WorkspaceStreamResponse {
            value: None,
            time: now(),
            r#type: Operation::InitialSyncComplete as i32,
        }));
        state.subscribers.push(subscriber);
        if knobs.timing == OutcomeTiming::OnSubscribe {
            for id in wanted_ids {
                drain(&mut state, &mut knobs, &id);
            }
        }
        Ok(Response::new(Box::pin(UnboundedReceiverStream::new(rx))))
    }
}

#[tonic::async_trait]
impl WorkspaceConfigService for Handler {
    async fn set(
        &self,
        request: Request<ws::WorkspaceConfigSetRequest>,
    ) -> Result<Response<ws::WorkspaceConfigSetResponse>, Status> {
        let value = request
            .into_inner()
            .value
            .ok_or_else(|| Status::invalid_argument("value is required"))?;
        let id = value
            .key
            .as_ref()
            .and_then(|k| k.workspace_id.clone())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Status::invalid_argument("workspace ID cannot be empty"))?;
        let request_id = if value.request == ws::Request::Unspecified as i32 {
            None
        } else {
            ws::Request::try_from(value.request).map_err(|_| {
                Status::invalid_argument(format!("unknown request {}", value.request))
            })?;
            Some(
                value
                    .request_params
                    .as_ref()
                    .and_then(|p| p.request_id.clone())
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| {
                        Status::invalid_argument("request_params.request_id is required")
                    })?,
            )
        };

        let mut state = self.inner.state();
        let mut knobs = self.inner.knobs();
        if !state.workspaces.contains_key(&id) {
            if request_id.is_some() {
                return Err(Status::not_found(format!("workspace does not exist: {id}")));
            }
            let seq = state.next_seq;
            state.next_seq += 1;
            state
                .workspaces
                .insert(id.clone(), WorkspaceRecord::new(&id, seq));
            enqueue(
                &self.inner,
                &mut state,
                &mut knobs,
                &id,
                WorkspaceEvent::Ready,
            );
        }
        if let Some(workspace) = state.workspaces.get_mut(&id) {
            if value.display_name.is_some() {
                workspace.display_name = value.display_name.clone();
            }
            if value.description.is_some() {
                workspace.description = value.description.clone();
            }
            workspace.last_modified_at = SystemTime::now();
            if let Some(request_id) = &request_id {
                // Accepted, not yet done: an intermediate response the client ignores.
                workspace.set_response(request_id, ws::Response::default());
            }
        }
        state.announce(&id);
        if let Some(request_id) = request_id {
            let event = WorkspaceEvent::Outcome {
                request_id,
                request: value.request,
            };
            enqueue(&self.inner, &mut state, &mut knobs, &id, event);
            // Nobody waits for an abandon; it takes effect at once unless held.
            if value.request == ws::Request::Abandon as i32 && knobs.timing != OutcomeTiming::Held {
                drain(&mut state, &mut knobs, &id);
            }
        }
        Ok(Response::new(ws::WorkspaceConfigSetResponse {
            value: Some(value),
            time: now(),
        }))
    }

    async fn delete(
        &self,
        request: Request<ws::WorkspaceConfigDeleteRequest>,
    ) -> Result<Response<ws::WorkspaceConfigDeleteResponse>, Status> {
        let key = request.into_inner().key.unwrap_or_default();
        let id = key.workspace_id.clone().unwrap_or_default();
        let mut state = self.inner.state();
        if state.workspaces.remove(&id).is_none() {
            return Err(Status::not_found("resource not found"));
        }
        let message = ws::WorkspaceStreamResponse {
            value: Some(ws::Workspace {
                key: Some(key.clone()),
                ..Default::default()
            }),
            time: now(),
            r#type: Operation::Deleted as i32,
        };
        state
            .subscribers
            .retain(|s| !s.wants(&id) || s.tx.send(Ok(message.clone())).is_ok());
        Ok(Response::new(ws::WorkspaceConfigDeleteResponse {
            key: Some(key),
            time: now(),
        }))
    }
}

#[tonic::async_trait]
impl WorkspaceBuildDetailsService for Handler {
    type GetAllStream = BoxStream<ws::WorkspaceBuildDetailsStreamResponse>;

    async fn get_all(
        &self,
        request: Request<ws::WorkspaceBuildDetailsStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let filters = request.into_inner().partial_eq_filter;
        let state = self.inner.state();
        let mut workspaces: Vec<&WorkspaceRecord> = state.workspaces.values().collect();
        workspaces.sort_by_key(|w| w.seq);
        let mut out = Vec::new();
        for workspace in workspaces {
            for details in workspace.builds.values().flatten() {
                let key = details.key.clone().unwrap_or_default();
                let wanted = filters.is_empty()
                    || filters.iter().any(|f| {
                        let filter = f.key.clone().unwrap_or_default();
                        field_matches(&filter.workspace_id, &workspace.id)
                            && field_matches(
                                &filter.build_id,
                                key.build_id.as_deref().unwrap_or_default(),
                            )
                            && field_matches(
                                &filter.device_id,
                                key.device_id.as_deref().unwrap_or_default(),
                            )
                    });
                if wanted {
                    out.push(ws::WorkspaceBuildDetailsStreamResponse {
                        value: Some(details.clone()),
                        time: now(),
                        r#type: Operation::Initial as i32,
                    });
                }
            }
        }
        Ok(Response::new(stream_of(out)))
    }
}

/// Queues an event for a workspace and applies it per the timing knob.
pub(super) fn enqueue(
    inner: &Arc<Inner>,
    state: &mut State,
    knobs: &mut Knobs,
    id: &str,
    event: WorkspaceEvent,
) {
    let Some(workspace) = state.workspaces.get_mut(id) else {
        return;
    };
    workspace.pending.push_back(event);
    match knobs.timing {
        OutcomeTiming::Immediate => drain(state, knobs, id),
        OutcomeTiming::Held => {}
        // Not on the streams already open: the client may be gone from them
        // without the server knowing yet. The next Subscribe applies it.
        OutcomeTiming::OnSubscribe => {
            let inner = Arc::clone(inner);
            let id = id.to_owned();
            tokio::spawn(async move {
                tokio::time::sleep(FALLBACK_DELAY).await;
                let mut state = inner.state();
                let mut knobs = inner.knobs();
                if knobs.timing == OutcomeTiming::OnSubscribe {
                    drain(&mut state, &mut knobs, &id);
                }
            });
        }
    }
}

/// Applies every queued event of a workspace, announcing each.
pub(super) fn drain(state: &mut State, knobs: &mut Knobs, id: &str) {
    while let Some(event) = state
        .workspaces
        .get_mut(id)
        .and_then(|w| w.pending.pop_front())
    {
        match event {
            WorkspaceEvent::Ready => {
                if let Some(workspace) = state.workspaces.get_mut(id)
                    && workspace.state == ws::WorkspaceState::Unspecified
                {
                    workspace.state = ws::WorkspaceState::Pending;
                    workspace.last_modified_at = SystemTime::now();
                }
            }
            WorkspaceEvent::Outcome {
                request_id,
                request,
            } => {
                let response = outcome(state, knobs, id, &request_id, request);
                if let Some(workspace) = state.workspaces.get_mut(id) {
                    workspace.set_response(&request_id, response);
                }
            }
        }
        state.announce(id);
    }
}

fn response(status: ws::ResponseStatus, message: String, code: i32) -> ws::Response {
    ws::Response {
        status: status as i32,
        message: Some(message),
        code,
    }
}

fn fail(message: String) -> ws::Response {
    response(ws::ResponseStatus::Fail, message, 0)
}

fn success(message: String) -> ws::Response {
    response(ws::ResponseStatus::Success, message, 0)
}

fn outcome(
    state: &mut State,
    knobs: &mut Knobs,
    id: &str,
    request_id: &str,
    request: i32,
) -> ws::Response {
    let Some(workspace) = state.workspaces.get(id) else {
        return fail(format!("workspace does not exist: {id}"));
    };
    if workspace.state != ws::WorkspaceState::Pending {
        return fail(format!("workspace {id} is not pending"));
    }
    match ws::Request::try_from(request) {
        Ok(ws::Request::StartBuild) => build(state, knobs, id, request_id),
        Ok(ws::Request::Submit) => submit(state, knobs, id, false),
        Ok(ws::Request::SubmitForce) => submit(state, knobs, id, true),
        Ok(ws::Request::Abandon) => {
            if let Some(workspace) = state.workspaces.get_mut(id) {
                workspace.state = ws::WorkspaceState::Abandoned;
            }
            success("Abandoned".to_owned())
        }
        Ok(ws::Request::Rebase) => match knobs.rebase_failures.pop_front() {
            Some(message) => fail(message),
            None => {
                if let Some(workspace) = state.workspaces.get_mut(id) {
                    workspace.needs_rebase = false;
                    workspace.built_ok = false;
                    workspace.last_rebased_at = Some(SystemTime::now());
                }
                success("Workspace rebased successfully".to_owned())
            }
        },
        Ok(ws::Request::CancelBuild) => success("Build cancelled".to_owned()),
        _ => fail(format!(
            "request {request} is not supported by the fake CloudVision"
        )),
    }
}

/// START_BUILD: build details for every device whose effective configuration
/// changed; a configlet line containing `INVALID-CLI` fails its device.
fn build(state: &mut State, knobs: &mut Knobs, id: &str, request_id: &str) -> ws::Response {
    let Some(workspace) = state.workspaces.get(id) else {
        return fail(format!("workspace does not exist: {id}"));
    };
    let mut details = Vec::new();
    let mut failed = false;
    for serial in changed_devices(&state.mainline, &workspace.overlay) {
        let config = effective_config(&state.mainline, Some(&workspace.overlay), &serial);
        let mut errors = invalid_lines(&config, |line| line.contains("INVALID-CLI"));
        if errors.is_empty() && knobs.failing_build_devices.contains(&serial) {
            // A device marked to fail rejects its first non-empty line.
            errors = invalid_lines(&config, |line| !line.trim().is_empty());
            errors.truncate(1);
            if errors.is_empty() {
                errors.push(config_error("% Invalid input".to_owned(), None, None));
            }
        }
        failed |= !errors.is_empty();
        details.push(ws::WorkspaceBuildDetails {
            key: Some(ws::WorkspaceBuildDetailsKey {
                workspace_id: Some(id.to_owned()),
                build_id: Some(request_id.to_owned()),
                device_id: Some(serial),
            }),
            state: if errors.is_empty() {
                ws::BuildState::Success
            } else {
                ws::BuildState::Fail
            } as i32,
            stage: ws::BuildStage::ConfigValidation as i32,
            config_validation_result: Some(ws::ConfigValidationResult {
                errors: Some(configstatus::ConfigErrors { values: errors }),
                warnings: Some(configstatus::ConfigErrors { values: Vec::new() }),
            }),
        });
    }
    let needs_rebase = knobs.rebase_builds > 0;
    knobs.rebase_builds = knobs.rebase_builds.saturating_sub(1);
    let Some(workspace) = state.workspaces.get_mut(id) else {
        return fail(format!("workspace does not exist: {id}"));
    };
    workspace.builds.insert(request_id.to_owned(), details);
    workspace.last_build_id = Some(request_id.to_owned());
    workspace.needs_rebase = needs_rebase;
    workspace.built_ok = !failed;
    if failed {
        fail(format!("Build {request_id} failed"))
    } else {
        success(format!("Build {request_id} finished successfully"))
    }
}

fn invalid_lines(
    config: &[(String, String)],
    rejects: impl Fn(&str) -> bool,
) -> Vec<configstatus::ConfigError> {
    let mut errors = Vec::new();
    for (configlet_id, body) in config {
        for (index, line) in body.lines().enumerate() {
            if rejects(line) {
                errors.push(config_error(
                    format!("> {} % Invalid input", line.trim()),
                    Some(i32::try_from(index + 1).unwrap_or(i32::MAX)),
                    Some(configlet_id.clone()),
                ));
            }
        }
    }
    errors
}

fn config_error(
    message: String,
    line_num: Option<i32>,
    configlet_name: Option<String>,
) -> configstatus::ConfigError {
    configstatus::ConfigError {
        error_code: configstatus::ErrorCode::DeviceError as i32,
        error_msg: Some(message),
        line_num,
        configlet_name,
    }
}

/// SUBMIT / SUBMIT_FORCE: merge into mainline; a change control when device
/// configuration changed, in the same update as the response.
fn submit(state: &mut State, knobs: &mut Knobs, id: &str, force: bool) -> ws::Response {
    if let Some((code, message)) = knobs.submit_failures.pop_front() {
        return response(ws::ResponseStatus::Fail, message, code);
    }
    let Some(workspace) = state.workspaces.get(id) else {
        return fail(format!("workspace does not exist: {id}"));
    };
    if workspace.needs_rebase {
        return response(
            ws::ResponseStatus::Fail,
            "workspace must be synchronized with mainline before submission".to_owned(),
            ws::ResponseCode::SynchronizationRequired as i32,
        );
    }
    if !workspace.built_ok {
        return fail("workspace must be built before submission".to_owned());
    }
    let changed = changed_devices(&state.mainline, &workspace.overlay);
    let inactive = changed.iter().any(|serial| {
        state
            .mainline
            .devices
            .iter()
            .any(|d| &d.serial == serial && !d.active)
    });
    if inactive && !force {
        return response(
            ws::ResponseStatus::Fail,
            "some devices are inactive".to_owned(),
            ws::ResponseCode::InactiveDevicesExist as i32,
        );
    }
    let overlay = workspace.overlay.clone();
    let display_name = workspace.display_name.clone();
    merge_into_mainline(&mut state.mainline, &overlay);

    let cc_id = (!changed.is_empty()).then(|| {
        let cc_id: String = uuid::Uuid::new_v4().simple().to_string()[..21].to_owned();
        state.change_controls.insert(
            cc_id.clone(),
            ChangeControlRecord {
                id: cc_id.clone(),
                name: Some(display_name.unwrap_or_else(|| format!("Change {cc_id}"))),
                notes: knobs.change_control_notes.clone(),
                device_ids: changed,
                workspace_id: id.to_owned(),
                time: SystemTime::now(),
            },
        );
        cc_id
    });
    let Some(workspace) = state.workspaces.get_mut(id) else {
        return fail(format!("workspace does not exist: {id}"));
    };
    workspace.state = ws::WorkspaceState::Submitted;
    match cc_id {
        Some(cc_id) => {
            workspace.cc_ids = vec![cc_id];
            success("Submitted successfully".to_owned())
        }
        None => success(NO_CHANGE_CONTROL_MESSAGE.to_owned()),
    }
}
