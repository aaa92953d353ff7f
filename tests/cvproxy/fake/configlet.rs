//! `ConfigletConfigService`, `ConfigletAssignmentService` and
//! `ConfigletAssignmentConfigService` (spec 13.3 "Configlets and
//! containers"): upserts with only the present fields changing, per-item
//! errors, and the merged container view stamped with the workspace id.

use tonic::{Request, Response, Status};

use configlet::configlet_assignment_config_service_server::ConfigletAssignmentConfigService;
use configlet::configlet_assignment_service_server::ConfigletAssignmentService;
use configlet::configlet_config_service_server::ConfigletConfigService;
use postern::workflows::cvproxy::proto::arista::{
    configlet::v1 as configlet, subscriptions::Operation,
};

use super::knobs::Knobs;
use super::state::{
    ConfigletRecord, ContainerRecord, State, WriteRefusal, containers_view, enum_matches,
    field_matches, fmp_strings, now,
};
use super::{BoxStream, Handler, stream_of};

#[tonic::async_trait]
impl ConfigletConfigService for Handler {
    async fn set(
        &self,
        request: Request<configlet::ConfigletConfigSetRequest>,
    ) -> Result<Response<configlet::ConfigletConfigSetResponse>, Status> {
        let value = request
            .into_inner()
            .value
            .ok_or_else(|| Status::invalid_argument("value is required"))?;
        let mut state = self.inner.state();
        let knobs = self.inner.knobs();
        write_configlet(&mut state, &knobs, &value).map_err(Refusal::status)?;
        Ok(Response::new(configlet::ConfigletConfigSetResponse {
            value: Some(value),
            time: now(),
        }))
    }

    type SetSomeStream = BoxStream<configlet::ConfigletConfigSetSomeResponse>;

    async fn set_some(
        &self,
        request: Request<configlet::ConfigletConfigSetSomeRequest>,
    ) -> Result<Response<Self::SetSomeStream>, Status> {
        let mut state = self.inner.state();
        let knobs = self.inner.knobs();
        let mut out = Vec::new();
        for value in request.into_inner().values {
            if let Err(refusal) = write_configlet(&mut state, &knobs, &value) {
                out.push(configlet::ConfigletConfigSetSomeResponse {
                    key: value.key.clone(),
                    error: refusal.message(),
                });
            }
        }
        Ok(Response::new(stream_of(out)))
    }
}

#[tonic::async_trait]
impl ConfigletAssignmentService for Handler {
    type GetAllStream = BoxStream<configlet::ConfigletAssignmentStreamResponse>;

    async fn get_all(
        &self,
        request: Request<configlet::ConfigletAssignmentStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let mut filters = request.into_inner().partial_eq_filter;
        if filters.is_empty() {
            filters.push(configlet::ConfigletAssignment::default());
        }
        let state = self.inner.state();
        let mut out: Vec<configlet::ConfigletAssignment> = Vec::new();
        for filter in &filters {
            let key = filter.key.clone().unwrap_or_default();
            let workspace_id = key.workspace_id.clone().unwrap_or_default();
            let Ok(overlay) = state.overlay_of(Some(&workspace_id)) else {
                continue;
            };
            for (id, container) in containers_view(&state.mainline, overlay) {
                let wanted = field_matches(&key.configlet_assignment_id, &id)
                    && field_matches(
                        &filter.display_name,
                        container.display_name.as_deref().unwrap_or_default(),
                    )
                    && field_matches(
                        &filter.query,
                        container.query.as_deref().unwrap_or_default(),
                    )
                    && enum_matches(filter.match_policy, container.match_policy);
                let item = to_proto(&workspace_id, &id, &container);
                if wanted && !out.iter().any(|o| o.key == item.key) {
                    out.push(item);
                }
            }
        }
        let out = out
            .into_iter()
            .map(|value| configlet::ConfigletAssignmentStreamResponse {
                value: Some(value),
                time: now(),
                r#type: Operation::Initial as i32,
            })
            .collect();
        Ok(Response::new(stream_of(out)))
    }
}

#[tonic::async_trait]
impl ConfigletAssignmentConfigService for Handler {
    async fn set(
        &self,
        request: Request<configlet::ConfigletAssignmentConfigSetRequest>,
    ) -> Result<Response<configlet::ConfigletAssignmentConfigSetResponse>, Status> {
        let value = request
            .into_inner()
            .value
            .ok_or_else(|| Status::invalid_argument("value is required"))?;
        let mut state = self.inner.state();
        write_container(&mut state, &value).map_err(Refusal::status)?;
        Ok(Response::new(
            configlet::ConfigletAssignmentConfigSetResponse {
                value: Some(value),
                time: now(),
            },
        ))
    }

    type SetSomeStream = BoxStream<configlet::ConfigletAssignmentConfigSetSomeResponse>;

    async fn set_some(
        &self,
        request: Request<configlet::ConfigletAssignmentConfigSetSomeRequest>,
    ) -> Result<Response<Self::SetSomeStream>, Status> {
        let mut state = self.inner.state();
        let mut out = Vec::new();
        for value in request.into_inner().values {
            if let Err(refusal) = write_container(&mut state, &value) {
                out.push(configlet::ConfigletAssignmentConfigSetSomeResponse {
                    key: value.key.clone(),
                    error: refusal.message(),
                });
            }
        }
        Ok(Response::new(stream_of(out)))
    }
}

enum Refusal {
    Write(WriteRefusal),
    Invalid(String),
}

impl Refusal {
    fn message(&self) -> String {
        match self {
            Refusal::Write(w) => w.message(),
            Refusal::Invalid(message) => message.clone(),
        }
    }

    fn status(self) -> Status {
        match self {
            Refusal::Write(w) => w.status(),
            Refusal::Invalid(message) => Status::invalid_argument(message),
        }
    }
}

/// Upsert (present fields overwrite) or remove one configlet in a workspace.
fn write_configlet(
    state: &mut State,
    knobs: &Knobs,
    config: &configlet::ConfigletConfig,
) -> Result<(), Refusal> {
    let key = config.key.clone().unwrap_or_default();
    let id = key
        .configlet_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Refusal::Invalid("static configlet ID cannot be empty".to_owned()))?;
    let in_mainline = state.mainline.configlets.get(&id).cloned();
    let workspace = state
        .writable(key.workspace_id.as_deref())
        .map_err(Refusal::Write)?;
    if let Some(error) = knobs.configlet_item_errors.get(&id) {
        return Err(Refusal::Invalid(error.clone()));
    }
    let record = if config.remove == Some(true) {
        None
    } else {
        let mut record = match workspace.overlay.configlets.get(&id) {
            Some(existing) => existing.clone().unwrap_or_default(),
            None => in_mainline.unwrap_or_default(),
        };
        let ConfigletRecord {
            display_name,
            description,
            body,
            migrated_from,
        } = &mut record;
        overwrite(display_name, &config.display_name);
        overwrite(description, &config.description);
        overwrite(body, &config.body);
        overwrite(migrated_from, &config.migrated_from);
        Some(record)
    };
    workspace.overlay.configlets.insert(id, record);
    workspace.touched();
    Ok(())
}

/// Partial update of one container: present wrapper fields overwrite, a
/// present list (even empty) replaces, absent fields and `match_policy` 0
/// keep the stored value; `remove: true` deletes.
fn write_container(
    state: &mut State,
    config: &configlet::ConfigletAssignmentConfig,
) -> Result<(), Refusal> {
    let key = config.key.clone().unwrap_or_default();
    let id = key
        .configlet_assignment_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Refusal::Invalid("configlet assignment ID cannot be empty".to_owned()))?;
    let in_mainline = state.mainline.containers.get(&id).cloned();
    let workspace = state
        .writable(key.workspace_id.as_deref())
        .map_err(Refusal::Write)?;
    let record = if config.remove == Some(true) {
        None
    } else {
        let mut record = match workspace.overlay.containers.get(&id) {
            Some(existing) => existing.clone().unwrap_or_default(),
            None => in_mainline.unwrap_or_default(),
        };
        overwrite(&mut record.display_name, &config.display_name);
        overwrite(&mut record.description, &config.description);
        overwrite(&mut record.query, &config.query);
        if let Some(ids) = &config.configlet_ids {
            record.configlet_ids = ids.values.clone();
        }
        if let Some(ids) = &config.child_assignment_ids {
            record.child_assignment_ids = ids.values.clone();
        }
        if config.match_policy != 0 {
            record.match_policy = config.match_policy;
        }
        Some(record)
    };
    workspace.overlay.containers.insert(id, record);
    workspace.touched();
    Ok(())
}

fn overwrite(stored: &mut Option<String>, sent: &Option<String>) {
    if sent.is_some() {
        stored.clone_from(sent);
    }
}

fn to_proto(
    workspace_id: &str,
    id: &str,
    container: &ContainerRecord,
) -> configlet::ConfigletAssignment {
    configlet::ConfigletAssignment {
        key: Some(configlet::ConfigletAssignmentKey {
            workspace_id: Some(workspace_id.to_owned()),
            configlet_assignment_id: Some(id.to_owned()),
        }),
        display_name: container.display_name.clone(),
        description: container.description.clone(),
        configlet_ids: Some(fmp_strings(&container.configlet_ids)),
        query: container.query.clone(),
        match_policy: container.match_policy,
        child_assignment_ids: Some(fmp_strings(&container.child_assignment_ids)),
        created_at: now(),
        created_by: Some("fake-cloudvision".to_owned()),
        last_modified_at: now(),
        last_modified_by: Some("fake-cloudvision".to_owned()),
    }
}
