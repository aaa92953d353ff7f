//! pyavd's tag client methods (S8–S13b).

use crate::workflows::cvproxy::proto::arista::tag::v2 as tag;
use crate::workflows::cvproxy::proto::arista::time::TimeBounds;
use tag::tag_assignment_config_service_client::TagAssignmentConfigServiceClient;
use tag::tag_assignment_service_client::TagAssignmentServiceClient;
use tag::tag_config_service_client::TagConfigServiceClient;
use tag::tag_service_client::TagServiceClient;

use super::super::call::{BoxFut, CallSpec, collect, with_deadline, with_splitting};
use super::super::client::{
    Client, DEFAULT_DEADLINE, MAX_DECODING_MESSAGE_SIZE, Svc, per_value_deadline, request,
};
use super::super::errors::{CallIds, CvError};
use super::super::pure::tags::{AssignmentRecord, ELEMENT_TYPE_DEVICE, TagRecord, replay};

fn tag_record(key: Option<tag::TagKey>) -> TagRecord {
    let key = key.unwrap_or_default();
    TagRecord {
        element_type: key.element_type,
        label: key.label,
        value: key.value,
    }
}

fn assignment_record(key: Option<tag::TagAssignmentKey>) -> AssignmentRecord {
    let key = key.unwrap_or_default();
    AssignmentRecord {
        element_type: key.element_type,
        label: key.label,
        value: key.value,
        device_id: key.device_id,
        interface_id: key.interface_id,
    }
}

/// The S13/S13b key of an assignment.
fn assignment_key(workspace_id: &str, a: &AssignmentRecord) -> tag::TagAssignmentKey {
    tag::TagAssignmentKey {
        workspace_id: Some(workspace_id.to_owned()),
        element_type: a.element_type,
        label: a.label.clone(),
        value: a.value.clone(),
        device_id: a.device_id.clone(),
        interface_id: a.interface_id.clone(),
        element_sub_type: 0,
    }
}

impl Client {
    fn tag_configs(&self) -> TagConfigServiceClient<Svc> {
        TagConfigServiceClient::new(self.svc()).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    fn assignment_configs(&self) -> TagAssignmentConfigServiceClient<Svc> {
        TagAssignmentConfigServiceClient::new(self.svc())
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// S8 + S9 `get_tags`: mainline USER device tags with the workspace's
    /// records replayed.
    pub(crate) async fn get_tags(&self, workspace_id: &str) -> Result<Vec<TagRecord>, CvError> {
        let spec = CallSpec::read_retry("get_tags", CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let mainline_req = request(
                tag::TagStreamRequest {
                    partial_eq_filter: vec![tag::Tag {
                        key: Some(tag::TagKey {
                            workspace_id: Some(String::new()),
                            element_type: ELEMENT_TYPE_DEVICE,
                            ..Default::default()
                        }),
                        creator_type: tag::CreatorType::User as i32,
                    }],
                    time: Some(TimeBounds::default()),
                },
                DEFAULT_DEADLINE,
            );
            let mainline = with_deadline(DEFAULT_DEADLINE, async {
                let mut client = TagServiceClient::new(self.svc())
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE);
                collect(client.get_all(mainline_req).await?.into_inner()).await
            })
            .await?;
            let workspace_req = request(
                tag::TagConfigStreamRequest {
                    partial_eq_filter: vec![tag::TagConfig {
                        key: Some(tag::TagKey {
                            workspace_id: Some(workspace_id.to_owned()),
                            element_type: ELEMENT_TYPE_DEVICE,
                            ..Default::default()
                        }),
                        remove: None,
                    }],
                    time: Some(TimeBounds::default()),
                },
                DEFAULT_DEADLINE,
            );
            let records = with_deadline(DEFAULT_DEADLINE, async {
                collect(
                    self.tag_configs()
                        .get_all(workspace_req)
                        .await?
                        .into_inner(),
                )
                .await
            })
            .await?;
            Ok(replay(
                mainline
                    .into_iter()
                    .map(|m| tag_record(m.value.and_then(|t| t.key)))
                    .collect(),
                records
                    .into_iter()
                    .map(|m| {
                        let config = m.value.unwrap_or_default();
                        (tag_record(config.key), config.remove.unwrap_or(false))
                    })
                    .collect(),
            ))
        })
        .await
    }

    /// S10 `set_tags`: create device tags (split on "message too large").
    pub(crate) async fn set_tags<'a>(
        &'a self,
        workspace_id: &'a str,
        tags: Vec<(String, String)>,
    ) -> Result<(), CvError> {
        let call = move |chunk: Vec<(String, String)>| -> BoxFut<'a, Result<Vec<()>, CvError>> {
            Box::pin(async move {
                let spec = CallSpec::write("set_tags", CallIds::workspace(workspace_id));
                let chunk = &chunk;
                self.handle(&spec, move || async move {
                    let values: Vec<tag::TagConfig> = chunk
                        .iter()
                        .map(|(label, value)| tag::TagConfig {
                            key: Some(tag::TagKey {
                                workspace_id: Some(workspace_id.to_owned()),
                                element_type: ELEMENT_TYPE_DEVICE,
                                label: Some(label.clone()),
                                value: Some(value.clone()),
                                element_sub_type: 0,
                            }),
                            remove: None,
                        })
                        .collect();
                    let deadline = per_value_deadline(values.len());
                    let req = request(tag::TagConfigSetSomeRequest { values }, deadline);
                    with_deadline(deadline, async {
                        collect(self.tag_configs().set_some(req).await?.into_inner()).await?;
                        Ok(Vec::<()>::new())
                    })
                    .await
                })
                .await
            })
        };
        with_splitting(tags, &call).await.map(drop)
    }

    /// S11 + S12 `get_tag_assignments`: mainline USER device tag assignments
    /// with the workspace's records replayed.
    pub(crate) async fn get_tag_assignments(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<AssignmentRecord>, CvError> {
        let spec = CallSpec::read_retry("get_tag_assignments", CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let mainline_req = request(
                tag::TagAssignmentStreamRequest {
                    partial_eq_filter: vec![tag::TagAssignment {
                        key: Some(tag::TagAssignmentKey {
                            workspace_id: Some(String::new()),
                            element_type: ELEMENT_TYPE_DEVICE,
                            ..Default::default()
                        }),
                        tag_creator_type: tag::CreatorType::User as i32,
                    }],
                    time: Some(TimeBounds::default()),
                },
                DEFAULT_DEADLINE,
            );
            let mainline = with_deadline(DEFAULT_DEADLINE, async {
                let mut client = TagAssignmentServiceClient::new(self.svc())
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE);
                collect(client.get_all(mainline_req).await?.into_inner()).await
            })
            .await?;
            let workspace_req = request(
                tag::TagAssignmentConfigStreamRequest {
                    partial_eq_filter: vec![tag::TagAssignmentConfig {
                        key: Some(tag::TagAssignmentKey {
                            workspace_id: Some(workspace_id.to_owned()),
                            element_type: ELEMENT_TYPE_DEVICE,
                            ..Default::default()
                        }),
                        remove: None,
                    }],
                    time: Some(TimeBounds::default()),
                },
                DEFAULT_DEADLINE,
            );
            let records = with_deadline(DEFAULT_DEADLINE, async {
                collect(
                    self.assignment_configs()
                        .get_all(workspace_req)
                        .await?
                        .into_inner(),
                )
                .await
            })
            .await?;
            // Replayed by identity: mainline may carry a present-empty
            // interface id where the workspace record (as Postern wrote it)
            // has none, and a removal must still cancel its assignment.
            Ok(replay(
                mainline
                    .into_iter()
                    .map(|m| assignment_record(m.value.and_then(|t| t.key)).identity())
                    .collect(),
                records
                    .into_iter()
                    .map(|m| {
                        let config = m.value.unwrap_or_default();
                        (
                            assignment_record(config.key).identity(),
                            config.remove.unwrap_or(false),
                        )
                    })
                    .collect(),
            ))
        })
        .await
    }

    /// S13 `set_tag_assignments` (`remove` false) and S13b
    /// `delete_tag_assignments` (`remove: true`), split on "message too large".
    pub(crate) async fn set_tag_assignments<'a>(
        &'a self,
        workspace_id: &'a str,
        assignments: Vec<AssignmentRecord>,
        remove: bool,
    ) -> Result<(), CvError> {
        let method = if remove {
            "delete_tag_assignments"
        } else {
            "set_tag_assignments"
        };
        let call = move |chunk: Vec<AssignmentRecord>| -> BoxFut<'a, Result<Vec<()>, CvError>> {
            Box::pin(async move {
                let spec = CallSpec::write(method, CallIds::workspace(workspace_id));
                let chunk = &chunk;
                self.handle(&spec, move || async move {
                    let values: Vec<tag::TagAssignmentConfig> = chunk
                        .iter()
                        .map(|a| tag::TagAssignmentConfig {
                            key: Some(assignment_key(workspace_id, a)),
                            remove: remove.then_some(true),
                        })
                        .collect();
                    let deadline = per_value_deadline(values.len());
                    let req = request(tag::TagAssignmentConfigSetSomeRequest { values }, deadline);
                    with_deadline(deadline, async {
                        collect(self.assignment_configs().set_some(req).await?.into_inner())
                            .await?;
                        Ok(Vec::<()>::new())
                    })
                    .await
                })
                .await
            })
        };
        with_splitting(assignments, &call).await.map(drop)
    }
}
