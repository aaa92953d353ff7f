//! pyavd's configlet client methods (S14–S16, S20b–S22).

use std::future::Future;

use tokio::task::JoinSet;

use crate::workflows::cvproxy::proto::arista::configlet::v1 as cfg;
use crate::workflows::cvproxy::proto::arista::time::TimeBounds;
use crate::workflows::cvproxy::proto::fmp::RepeatedString;
use cfg::configlet_assignment_config_service_client::ConfigletAssignmentConfigServiceClient;
use cfg::configlet_assignment_service_client::ConfigletAssignmentServiceClient;
use cfg::configlet_config_service_client::ConfigletConfigServiceClient;

use super::super::call::{AttemptError, BoxFut, CallSpec, collect, with_deadline, with_splitting};
use super::super::client::{Client, DEFAULT_DEADLINE, MAX_DECODING_MESSAGE_SIZE, Svc, request};
use super::super::errors::{CallIds, CvError};
use super::super::pure::chunking::into_chunks;
use super::super::pure::containers::WantedContainer;
use super::super::pure::pyrepr::PyVal;

/// Per-item `Set` calls run this many at a time (CloudVision 2024.1.x).
const PARALLEL_CALLS: usize = 20;

/// One configlet of S14.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfigletUpload {
    pub configlet_id: String,
    pub display_name: String,
    pub description: String,
    pub body: String,
}

/// What a failed item of S14 reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfigletItemError {
    pub key: String,
    pub error: String,
}

/// Send one message per item, `PARALLEL_CALLS` at a time; the first failure
/// fails the whole call.
async fn per_item<M, F, Fut>(messages: Vec<M>, send: F) -> Result<(), AttemptError>
where
    F: Fn(M) -> Fut,
    Fut: Future<Output = Result<(), AttemptError>> + Send + 'static,
{
    for batch in into_chunks(messages, PARALLEL_CALLS) {
        let mut tasks = JoinSet::new();
        for message in batch {
            tasks.spawn(send(message));
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(e) => return Err(AttemptError::Described(e.to_string())),
            }
        }
    }
    Ok(())
}

/// `ConfigletKey(workspace_id='…', configlet_id='…')`, for the log line.
fn key_repr(key: cfg::ConfigletKey) -> String {
    format!(
        "ConfigletKey(workspace_id={}, configlet_id={})",
        PyVal::opt_str(key.workspace_id.as_deref()).repr(),
        PyVal::opt_str(key.configlet_id.as_deref()).repr()
    )
}

fn container_config(workspace_id: &str, c: &WantedContainer) -> cfg::ConfigletAssignmentConfig {
    cfg::ConfigletAssignmentConfig {
        key: Some(cfg::ConfigletAssignmentKey {
            workspace_id: Some(workspace_id.to_owned()),
            configlet_assignment_id: Some(c.id.clone()),
        }),
        display_name: Some(c.display_name.clone()),
        description: Some(c.description.clone()),
        configlet_ids: Some(RepeatedString {
            values: c.configlet_ids.clone(),
        }),
        query: Some(c.query.clone()),
        remove: None,
        match_policy: cfg::MatchPolicy::MatchAll as i32,
        child_assignment_ids: Some(RepeatedString::default()),
    }
}

impl Client {
    fn configlet_configs(&self) -> ConfigletConfigServiceClient<Svc> {
        ConfigletConfigServiceClient::new(self.svc())
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    fn container_configs(&self) -> ConfigletAssignmentConfigServiceClient<Svc> {
        ConfigletAssignmentConfigServiceClient::new(self.svc())
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// S14 `set_configlets_from_files`: every configlet in one `SetSome`
    /// (split on "message too large"), or per-item `Set` on 2024.1.x.
    /// Returns what CloudVision streamed back (each one a failed item).
    pub(crate) async fn set_configlets<'a>(
        &'a self,
        workspace_id: &'a str,
        configlets: Vec<ConfigletUpload>,
    ) -> Result<Vec<ConfigletItemError>, CvError> {
        let per_item_set = self.version.uses_per_item_set();
        let call = move |chunk: Vec<ConfigletUpload>| -> BoxFut<'a, Result<Vec<ConfigletItemError>, CvError>> {
            Box::pin(async move {
                let spec = CallSpec::write("set_configlets_from_files", CallIds::workspace(workspace_id));
                let chunk = &chunk;
                self.handle(&spec, move || async move {
                    let values: Vec<cfg::ConfigletConfig> = chunk
                        .iter()
                        .map(|c| cfg::ConfigletConfig {
                            key: Some(cfg::ConfigletKey {
                                workspace_id: Some(workspace_id.to_owned()),
                                configlet_id: Some(c.configlet_id.clone()),
                            }),
                            remove: None,
                            display_name: Some(c.display_name.clone()),
                            description: Some(c.description.clone()),
                            migrated_from: None,
                            body: Some(c.body.clone()),
                        })
                        .collect();
                    if per_item_set {
                        let client = self.configlet_configs();
                        per_item(values, move |value| {
                            let mut client = client.clone();
                            async move {
                                let req = request(cfg::ConfigletConfigSetRequest { value: Some(value) }, DEFAULT_DEADLINE);
                                with_deadline(DEFAULT_DEADLINE, async {
                                    client.set(req).await?;
                                    Ok(())
                                })
                                .await
                            }
                        })
                        .await?;
                        return Ok(Vec::new());
                    }
                    let req = request(cfg::ConfigletConfigSetSomeRequest { values }, DEFAULT_DEADLINE);
                    let streamed = with_deadline(DEFAULT_DEADLINE, async {
                        collect(self.configlet_configs().set_some(req).await?.into_inner()).await
                    })
                    .await?;
                    Ok(streamed
                        .into_iter()
                        .map(|r| ConfigletItemError {
                            key: key_repr(r.key.unwrap_or_default()),
                            error: r.error,
                        })
                        .collect())
                })
                .await
            })
        };
        with_splitting(configlets, &call).await
    }

    /// S15 and S20b `get_configlet_containers`: one filter per id, `time`
    /// present-empty.
    pub(crate) async fn get_configlet_containers(
        &self,
        workspace_id: &str,
        container_ids: &[String],
    ) -> Result<Vec<cfg::ConfigletAssignment>, CvError> {
        let spec =
            CallSpec::read_retry("get_configlet_containers", CallIds::workspace(workspace_id));
        let message = cfg::ConfigletAssignmentStreamRequest {
            partial_eq_filter: container_ids
                .iter()
                .map(|id| cfg::ConfigletAssignment {
                    key: Some(cfg::ConfigletAssignmentKey {
                        workspace_id: Some(workspace_id.to_owned()),
                        configlet_assignment_id: Some(id.clone()),
                    }),
                    ..Default::default()
                })
                .collect(),
            time: Some(TimeBounds::default()),
        };
        let message = &message;
        self.handle(&spec, move || async move {
            let req = request(message.clone(), DEFAULT_DEADLINE);
            let streamed = with_deadline(DEFAULT_DEADLINE, async {
                let mut client = ConfigletAssignmentServiceClient::new(self.svc())
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE);
                collect(client.get_all(req).await?.into_inner()).await
            })
            .await?;
            Ok(streamed.into_iter().filter_map(|r| r.value).collect())
        })
        .await
    }

    /// S16 and S22 `set_configlet_container`: one `Set`.
    pub(crate) async fn set_configlet_container(
        &self,
        workspace_id: &str,
        value: cfg::ConfigletAssignmentConfig,
    ) -> Result<(), CvError> {
        let spec = CallSpec::write("set_configlet_container", CallIds::workspace(workspace_id));
        let value = &value;
        self.handle(&spec, move || async move {
            let req = request(
                cfg::ConfigletAssignmentConfigSetRequest {
                    value: Some(value.clone()),
                },
                DEFAULT_DEADLINE,
            );
            with_deadline(DEFAULT_DEADLINE, async {
                self.container_configs().set(req).await?;
                Ok(())
            })
            .await
        })
        .await
    }

    /// S21 `set_configlet_containers`: one `SetSome` (split on "message too
    /// large"), or per-item `Set` on 2024.1.x.
    pub(crate) async fn set_configlet_containers<'a>(
        &'a self,
        workspace_id: &'a str,
        containers: Vec<WantedContainer>,
    ) -> Result<(), CvError> {
        let per_item_set = self.version.uses_per_item_set();
        let call = move |chunk: Vec<WantedContainer>| -> BoxFut<'a, Result<Vec<()>, CvError>> {
            Box::pin(async move {
                let spec =
                    CallSpec::write("set_configlet_containers", CallIds::workspace(workspace_id));
                let chunk = &chunk;
                self.handle(&spec, move || async move {
                    let values: Vec<cfg::ConfigletAssignmentConfig> = chunk
                        .iter()
                        .map(|c| container_config(workspace_id, c))
                        .collect();
                    if per_item_set {
                        let client = self.container_configs();
                        per_item(values, move |value| {
                            let mut client = client.clone();
                            async move {
                                let req = request(
                                    cfg::ConfigletAssignmentConfigSetRequest { value: Some(value) },
                                    DEFAULT_DEADLINE,
                                );
                                with_deadline(DEFAULT_DEADLINE, async {
                                    client.set(req).await?;
                                    Ok(())
                                })
                                .await
                            }
                        })
                        .await?;
                        return Ok(Vec::new());
                    }
                    let req = request(
                        cfg::ConfigletAssignmentConfigSetSomeRequest { values },
                        DEFAULT_DEADLINE,
                    );
                    with_deadline(DEFAULT_DEADLINE, async {
                        collect(self.container_configs().set_some(req).await?.into_inner()).await?;
                        Ok(Vec::new())
                    })
                    .await
                })
                .await
            })
        };
        with_splitting(containers, &call).await.map(drop)
    }
}
