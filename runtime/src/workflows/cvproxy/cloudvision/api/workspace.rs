//! pyavd's workspace client methods (S1–S3, S23–S27, rebase, SA, S29).

use crate::workflows::cvproxy::proto::arista::workspace::v1 as ws;
use ws::workspace_build_details_service_client::WorkspaceBuildDetailsServiceClient;
use ws::workspace_config_service_client::WorkspaceConfigServiceClient;
use ws::workspace_service_client::WorkspaceServiceClient;

use super::super::call::{AttemptError, CallSpec, collect, find_in_stream, with_deadline};
use super::super::client::{
    Client, DEFAULT_DEADLINE, MAX_DECODING_MESSAGE_SIZE, RESPONSE_WAIT_DEADLINE, Svc, request,
};
use super::super::errors::{CV_RESOURCE_NOT_FOUND, CV_WORKSPACE_FAILED, CallIds, CvError};
use super::super::pure::naming::new_request_id;

fn key(workspace_id: &str) -> ws::WorkspaceKey {
    ws::WorkspaceKey {
        workspace_id: Some(workspace_id.to_owned()),
    }
}

/// `Subscribe` filter for one workspace (`time` absent).
fn subscription(workspace_id: &str) -> ws::WorkspaceStreamRequest {
    ws::WorkspaceStreamRequest {
        partial_eq_filter: vec![ws::Workspace {
            key: Some(key(workspace_id)),
            ..Default::default()
        }],
        time: None,
    }
}

/// The workspace requests sent with `WorkspaceConfigService/Set`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WorkspaceRequest {
    StartBuild,
    Submit,
    Rebase,
    Abandon,
}

impl WorkspaceRequest {
    fn method(self) -> &'static str {
        match self {
            Self::StartBuild => "build_workspace",
            Self::Submit => "submit_workspace",
            Self::Rebase => "rebase_workspace",
            Self::Abandon => "abandon_workspace",
        }
    }

    fn proto(self) -> ws::Request {
        match self {
            Self::StartBuild => ws::Request::StartBuild,
            Self::Submit => ws::Request::Submit,
            Self::Rebase => ws::Request::Rebase,
            Self::Abandon => ws::Request::Abandon,
        }
    }
}

impl Client {
    fn workspaces(&self) -> WorkspaceServiceClient<Svc> {
        WorkspaceServiceClient::new(self.svc()).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    fn workspace_configs(&self) -> WorkspaceConfigServiceClient<Svc> {
        WorkspaceConfigServiceClient::new(self.svc())
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// S1 `WorkspaceService/GetOne`.
    pub(crate) async fn get_workspace(&self, workspace_id: &str) -> Result<ws::Workspace, CvError> {
        let spec = CallSpec::write("get_workspace", CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let req = request(
                ws::WorkspaceRequest {
                    key: Some(key(workspace_id)),
                    time: None,
                },
                DEFAULT_DEADLINE,
            );
            let response = with_deadline(DEFAULT_DEADLINE, async {
                Ok(self.workspaces().get_one(req).await?.into_inner())
            })
            .await?;
            Ok(response.value.unwrap_or_default())
        })
        .await
    }

    /// S2 `WorkspaceConfigService/Set` creating the workspace.
    pub(crate) async fn create_workspace(
        &self,
        workspace_id: &str,
        display_name: &str,
    ) -> Result<(), CvError> {
        let spec = CallSpec::write("create_workspace", CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let req = request(
                ws::WorkspaceConfigSetRequest {
                    value: Some(ws::WorkspaceConfig {
                        key: Some(key(workspace_id)),
                        display_name: Some(display_name.to_owned()),
                        ..Default::default()
                    }),
                },
                DEFAULT_DEADLINE,
            );
            with_deadline(DEFAULT_DEADLINE, async {
                self.workspace_configs().set(req).await?;
                Ok(())
            })
            .await
        })
        .await
    }

    /// S23, S26, rebase, SA: a workspace request with a fresh request id.
    /// Returns the request id to wait for: the one the answer echoes (pyavd
    /// reads it from there), or the one sent when the answer has none.
    pub(crate) async fn request_workspace(
        &self,
        workspace_id: &str,
        what: WorkspaceRequest,
    ) -> Result<String, CvError> {
        let spec = CallSpec::write(what.method(), CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let request_id = new_request_id();
            let req = request(
                ws::WorkspaceConfigSetRequest {
                    value: Some(ws::WorkspaceConfig {
                        key: Some(key(workspace_id)),
                        request: what.proto() as i32,
                        request_params: Some(ws::RequestParams {
                            request_id: Some(request_id.clone()),
                        }),
                        ..Default::default()
                    }),
                },
                DEFAULT_DEADLINE,
            );
            let response = with_deadline(DEFAULT_DEADLINE, async {
                Ok(self.workspace_configs().set(req).await?.into_inner())
            })
            .await?;
            let echoed = response
                .value
                .and_then(|v| v.request_params)
                .and_then(|p| p.request_id);
            Ok(echoed.unwrap_or(request_id))
        })
        .await
    }

    /// S3: wait until the workspace is PENDING (600 s).
    pub(crate) async fn wait_for_workspace_pending(
        &self,
        workspace_id: &str,
    ) -> Result<ws::Workspace, CvError> {
        let spec =
            CallSpec::read_retry("wait_for_workspace_state", CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let req = request(subscription(workspace_id), DEFAULT_DEADLINE);
            let found = with_deadline(DEFAULT_DEADLINE, async {
                let stream = self.workspaces().subscribe(req).await?.into_inner();
                find_in_stream(stream, |message: ws::WorkspaceStreamResponse| {
                    message
                        .value
                        .filter(|w| w.state == ws::WorkspaceState::Pending as i32)
                })
                .await
            })
            .await?;
            found.ok_or_else(|| {
                AttemptError::Final(CvError::client(
                    CV_WORKSPACE_FAILED,
                    format!("Workspace '{workspace_id}' has not reached desired state 'pending'."),
                ))
            })
        })
        .await
    }

    /// S24, S27, rebase: wait for a terminal response to `request_id`
    /// (3600 s). Returns it with the whole Workspace of the same message.
    pub(crate) async fn wait_for_workspace_response(
        &self,
        workspace_id: &str,
        request_id: &str,
    ) -> Result<(ws::Response, ws::Workspace), CvError> {
        let spec = CallSpec::read_retry(
            "wait_for_workspace_response",
            CallIds::workspace(workspace_id).with_request(request_id),
        );
        self.handle(&spec, move || async move {
            let req = request(subscription(workspace_id), RESPONSE_WAIT_DEADLINE);
            let found = with_deadline(RESPONSE_WAIT_DEADLINE, async {
                let stream = self.workspaces().subscribe(req).await?.into_inner();
                find_in_stream(stream, |message: ws::WorkspaceStreamResponse| {
                    let workspace = message.value?;
                    let response = workspace.responses.as_ref()?.values.get(request_id)?.clone();
                    let terminal = response.status == ws::ResponseStatus::Success as i32
                        || response.status == ws::ResponseStatus::Fail as i32;
                    if !terminal {
                        tracing::debug!(request_id, status = response.status, "cvproxy: intermediate workspace response");
                        return None;
                    }
                    Some((response, workspace))
                })
                .await
            })
            .await?;
            found.ok_or_else(|| {
                AttemptError::Final(CvError::client(
                    CV_RESOURCE_NOT_FOUND,
                    format!(
                        "Failed to get a response for request '{request_id}' of the Workspace '{workspace_id}'."
                    ),
                ))
            })
        })
        .await
    }

    /// S25 `WorkspaceBuildDetailsService/GetAll`.
    pub(crate) async fn get_workspace_build_details(
        &self,
        workspace_id: &str,
        build_id: &str,
    ) -> Result<Vec<ws::WorkspaceBuildDetails>, CvError> {
        let spec = CallSpec::read_retry(
            "get_workspace_build_details",
            CallIds::workspace(workspace_id),
        );
        self.handle(&spec, move || async move {
            let req = request(
                ws::WorkspaceBuildDetailsStreamRequest {
                    partial_eq_filter: vec![ws::WorkspaceBuildDetails {
                        key: Some(ws::WorkspaceBuildDetailsKey {
                            workspace_id: Some(workspace_id.to_owned()),
                            build_id: Some(build_id.to_owned()),
                            device_id: None,
                        }),
                        ..Default::default()
                    }],
                    time: None,
                },
                DEFAULT_DEADLINE,
            );
            let messages = with_deadline(DEFAULT_DEADLINE, async {
                let client = WorkspaceBuildDetailsServiceClient::new(self.svc())
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE);
                collect(client.clone().get_all(req).await?.into_inner()).await
            })
            .await?;
            Ok(messages.into_iter().filter_map(|m| m.value).collect())
        })
        .await
    }

    /// S29 `WorkspaceConfigService/Delete`.
    pub(crate) async fn delete_workspace(&self, workspace_id: &str) -> Result<(), CvError> {
        let spec = CallSpec::write("delete_workspace", CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let req = request(
                ws::WorkspaceConfigDeleteRequest {
                    key: Some(key(workspace_id)),
                },
                DEFAULT_DEADLINE,
            );
            with_deadline(DEFAULT_DEADLINE, async {
                self.workspace_configs().delete(req).await?;
                Ok(())
            })
            .await
        })
        .await
    }
}
