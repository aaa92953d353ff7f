//! `ChangeControlService/GetOne` and `ChangeControlConfigService/Set`
//! (spec 13.3 "Change controls"). `error` is never set: pyavd crashes on
//! `error` together with NOT_STARTED.

use std::time::SystemTime;

use tonic::{Request, Response, Status};

use cc::change_control_config_service_server::ChangeControlConfigService;
use cc::change_control_service_server::ChangeControlService;
use postern::workflows::cvproxy::proto::arista::changecontrol::v1 as cc;

use super::Handler;
use super::state::{ChangeControlRecord, fmp_strings, now};

#[tonic::async_trait]
impl ChangeControlService for Handler {
    async fn get_one(
        &self,
        request: Request<cc::ChangeControlRequest>,
    ) -> Result<Response<cc::ChangeControlResponse>, Status> {
        let id = request
            .into_inner()
            .key
            .and_then(|k| k.id)
            .unwrap_or_default();
        let state = self.inner.state();
        let record = state
            .change_controls
            .get(&id)
            .ok_or_else(|| Status::not_found("resource not found"))?;
        Ok(Response::new(cc::ChangeControlResponse {
            value: Some(to_proto(record)),
            time: now(),
        }))
    }
}

#[tonic::async_trait]
impl ChangeControlConfigService for Handler {
    async fn set(
        &self,
        request: Request<cc::ChangeControlConfigSetRequest>,
    ) -> Result<Response<cc::ChangeControlConfigSetResponse>, Status> {
        let value = request
            .into_inner()
            .value
            .ok_or_else(|| Status::invalid_argument("value is required"))?;
        let id = value
            .key
            .as_ref()
            .and_then(|k| k.id.clone())
            .unwrap_or_default();
        let mut state = self.inner.state();
        let record = state
            .change_controls
            .get_mut(&id)
            .ok_or_else(|| Status::not_found("resource not found"))?;
        if let Some(change) = &value.change {
            if change.name.is_some() {
                record.name.clone_from(&change.name);
            }
            if change.notes.is_some() {
                record.notes.clone_from(&change.notes);
            }
        }
        record.time = SystemTime::now();
        Ok(Response::new(cc::ChangeControlConfigSetResponse {
            value: Some(value),
            time: now(),
        }))
    }
}

fn to_proto(record: &ChangeControlRecord) -> cc::ChangeControl {
    cc::ChangeControl {
        key: Some(cc::ChangeControlKey {
            id: Some(record.id.clone()),
        }),
        change: Some(cc::Change {
            name: record.name.clone(),
            root_stage_id: Some(format!("root-{}", record.id)),
            notes: record.notes.clone(),
            time: Some(record.time.into()),
            user: Some("fake-cloudvision".to_owned()),
        }),
        approve: Some(cc::Flag {
            value: Some(false),
            ..Default::default()
        }),
        start: None,
        status: cc::ChangeControlStatus::NotStarted as i32,
        error: None,
        device_ids: Some(fmp_strings(&record.device_ids)),
    }
}
