//! `TagService`, `TagConfigService`, `TagAssignmentService`,
//! `TagAssignmentConfigService` (spec 13.3 "Tags"): mainline items for
//! workspace `""`, the workspace's own records for a workspace id.

use tonic::{Request, Response, Status};

use postern::workflows::cvproxy::proto::arista::{subscriptions::Operation, tag::v2 as tag};
use tag::tag_assignment_config_service_server::TagAssignmentConfigService;
use tag::tag_assignment_service_server::TagAssignmentService;
use tag::tag_config_service_server::TagConfigService;
use tag::tag_service_server::TagService;

use super::state::{
    State, WorkspaceRecord, enum_matches, field_matches, now, tag_assignment_ident,
    tag_assignments_view, tag_ident, tags_view,
};
use super::{BoxStream, Handler, stream_of};

#[tonic::async_trait]
impl TagService for Handler {
    type GetAllStream = BoxStream<tag::TagStreamResponse>;

    async fn get_all(
        &self,
        request: Request<tag::TagStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let mut filters = request.into_inner().partial_eq_filter;
        if filters.is_empty() {
            filters.push(tag::Tag::default());
        }
        let state = self.inner.state();
        let mut out: Vec<tag::Tag> = Vec::new();
        for filter in &filters {
            let key = filter.key.clone().unwrap_or_default();
            let workspace_id = key.workspace_id.clone().unwrap_or_default();
            let Ok(overlay) = state.overlay_of(Some(&workspace_id)) else {
                continue;
            };
            for ((element_type, label, value), creator) in tags_view(&state.mainline, overlay) {
                let wanted = enum_matches(key.element_type, element_type)
                    && field_matches(&key.label, &label)
                    && field_matches(&key.value, &value)
                    && enum_matches(filter.creator_type, creator);
                let item = tag::Tag {
                    key: Some(tag::TagKey {
                        workspace_id: Some(workspace_id.clone()),
                        element_type,
                        label: Some(label),
                        value: Some(value),
                        element_sub_type: 0,
                    }),
                    creator_type: creator,
                };
                if wanted && !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        let out = out
            .into_iter()
            .map(|value| tag::TagStreamResponse {
                value: Some(value),
                time: now(),
                r#type: Operation::Initial as i32,
            })
            .collect();
        Ok(Response::new(stream_of(out)))
    }
}

#[tonic::async_trait]
impl TagAssignmentService for Handler {
    type GetAllStream = BoxStream<tag::TagAssignmentStreamResponse>;

    async fn get_all(
        &self,
        request: Request<tag::TagAssignmentStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let mut filters = request.into_inner().partial_eq_filter;
        if filters.is_empty() {
            filters.push(tag::TagAssignment::default());
        }
        let state = self.inner.state();
        let mut out: Vec<tag::TagAssignment> = Vec::new();
        for filter in &filters {
            let key = filter.key.clone().unwrap_or_default();
            let workspace_id = key.workspace_id.clone().unwrap_or_default();
            let Ok(overlay) = state.overlay_of(Some(&workspace_id)) else {
                continue;
            };
            for ((element_type, label, value, device_id, interface_id), creator) in
                tag_assignments_view(&state.mainline, overlay)
            {
                let wanted = enum_matches(key.element_type, element_type)
                    && field_matches(&key.label, &label)
                    && field_matches(&key.value, &value)
                    && field_matches(&key.device_id, &device_id)
                    && field_matches(&key.interface_id, &interface_id)
                    && enum_matches(filter.tag_creator_type, creator);
                let item = tag::TagAssignment {
                    key: Some(tag::TagAssignmentKey {
                        workspace_id: Some(workspace_id.clone()),
                        element_type,
                        label: Some(label),
                        value: Some(value),
                        device_id: Some(device_id),
                        interface_id: Some(interface_id),
                        element_sub_type: 0,
                    }),
                    tag_creator_type: creator,
                };
                if wanted && !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        let out = out
            .into_iter()
            .map(|value| tag::TagAssignmentStreamResponse {
                value: Some(value),
                time: now(),
                r#type: Operation::Initial as i32,
            })
            .collect();
        Ok(Response::new(stream_of(out)))
    }
}

#[tonic::async_trait]
impl TagConfigService for Handler {
    type GetAllStream = BoxStream<tag::TagConfigStreamResponse>;

    async fn get_all(
        &self,
        request: Request<tag::TagConfigStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let filters = request.into_inner().partial_eq_filter;
        let state = self.inner.state();
        let mut out: Vec<tag::TagConfig> = Vec::new();
        for filter in &filters {
            let key = filter.key.clone().unwrap_or_default();
            let Some(workspace) = workspace_of(&state, key.workspace_id.as_deref()) else {
                continue;
            };
            for record in &workspace.overlay.tags {
                let (element_type, label, value) =
                    tag_ident(record.key.as_ref().unwrap_or(&Default::default()));
                let wanted = enum_matches(key.element_type, element_type)
                    && field_matches(&key.label, &label)
                    && field_matches(&key.value, &value)
                    && filter
                        .remove
                        .is_none_or(|r| record.remove.unwrap_or(false) == r);
                if wanted && !out.contains(record) {
                    out.push(record.clone());
                }
            }
        }
        let out = out
            .into_iter()
            .map(|value| tag::TagConfigStreamResponse {
                value: Some(value),
                time: now(),
                r#type: Operation::Initial as i32,
            })
            .collect();
        Ok(Response::new(stream_of(out)))
    }

    type SetSomeStream = BoxStream<tag::TagConfigSetSomeResponse>;

    async fn set_some(
        &self,
        request: Request<tag::TagConfigSetSomeRequest>,
    ) -> Result<Response<Self::SetSomeStream>, Status> {
        let mut state = self.inner.state();
        let mut out = Vec::new();
        for value in request.into_inner().values {
            let key = value.key.clone().unwrap_or_default();
            match state.writable(key.workspace_id.as_deref()) {
                Ok(workspace) => {
                    let ident = tag_ident(&key);
                    let records = &mut workspace.overlay.tags;
                    records.retain(|r| {
                        tag_ident(r.key.as_ref().unwrap_or(&Default::default())) != ident
                    });
                    records.push(value);
                    workspace.touched();
                }
                Err(refusal) => out.push(tag::TagConfigSetSomeResponse {
                    key: value.key,
                    error: refusal.message(),
                }),
            }
        }
        Ok(Response::new(stream_of(out)))
    }
}

#[tonic::async_trait]
impl TagAssignmentConfigService for Handler {
    type GetAllStream = BoxStream<tag::TagAssignmentConfigStreamResponse>;

    async fn get_all(
        &self,
        request: Request<tag::TagAssignmentConfigStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let filters = request.into_inner().partial_eq_filter;
        let state = self.inner.state();
        let mut out: Vec<tag::TagAssignmentConfig> = Vec::new();
        for filter in &filters {
            let key = filter.key.clone().unwrap_or_default();
            let Some(workspace) = workspace_of(&state, key.workspace_id.as_deref()) else {
                continue;
            };
            for record in &workspace.overlay.tag_assignments {
                let (element_type, label, value, device_id, interface_id) =
                    tag_assignment_ident(record.key.as_ref().unwrap_or(&Default::default()));
                let wanted = enum_matches(key.element_type, element_type)
                    && field_matches(&key.label, &label)
                    && field_matches(&key.value, &value)
                    && field_matches(&key.device_id, &device_id)
                    && field_matches(&key.interface_id, &interface_id)
                    && filter
                        .remove
                        .is_none_or(|r| record.remove.unwrap_or(false) == r);
                if wanted && !out.contains(record) {
                    out.push(record.clone());
                }
            }
        }
        let out = out
            .into_iter()
            .map(|value| tag::TagAssignmentConfigStreamResponse {
                value: Some(value),
                time: now(),
                r#type: Operation::Initial as i32,
            })
            .collect();
        Ok(Response::new(stream_of(out)))
    }

    type SetSomeStream = BoxStream<tag::TagAssignmentConfigSetSomeResponse>;

    async fn set_some(
        &self,
        request: Request<tag::TagAssignmentConfigSetSomeRequest>,
    ) -> Result<Response<Self::SetSomeStream>, Status> {
        let mut state = self.inner.state();
        let mut out = Vec::new();
        for value in request.into_inner().values {
            let key = value.key.clone().unwrap_or_default();
            match state.writable(key.workspace_id.as_deref()) {
                Ok(workspace) => {
                    let ident = tag_assignment_ident(&key);
                    let records = &mut workspace.overlay.tag_assignments;
                    records.retain(|r| {
                        tag_assignment_ident(r.key.as_ref().unwrap_or(&Default::default())) != ident
                    });
                    records.push(value);
                    workspace.touched();
                }
                Err(refusal) => out.push(tag::TagAssignmentConfigSetSomeResponse {
                    key: value.key,
                    error: refusal.message(),
                }),
            }
        }
        Ok(Response::new(stream_of(out)))
    }
}

/// The workspace a config read names; mainline (`""`) has no records.
fn workspace_of<'a>(state: &'a State, workspace_id: Option<&str>) -> Option<&'a WorkspaceRecord> {
    workspace_id
        .filter(|id| !id.is_empty())
        .and_then(|id| state.workspaces.get(id))
}
