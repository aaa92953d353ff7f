//! `DeviceService/GetAll` (spec 13.3 "Inventory"): filters OR-ed, every
//! present field of a filter must match.

use tonic::{Request, Response, Status};

use inventory::device_service_server::DeviceService;
use postern::workflows::cvproxy::proto::arista::{
    inventory::v1 as inventory, subscriptions::Operation,
};

use super::state::{InventoryDevice, enum_matches, field_matches, now};
use super::{BoxStream, Handler, stream_of};

#[tonic::async_trait]
impl DeviceService for Handler {
    type GetAllStream = BoxStream<inventory::DeviceStreamResponse>;

    async fn get_all(
        &self,
        request: Request<inventory::DeviceStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let filters = request.into_inner().partial_eq_filter;
        let mut state = self.inner.state();
        let mut knobs = self.inner.knobs();
        // Issue #5875: an expired token sees an empty inventory.
        let hidden = knobs.expired_token_mode && !knobs.authorized(authorization.as_deref());
        let out: Vec<_> = state
            .mainline
            .devices
            .iter()
            .filter(|_| !hidden)
            .filter(|device| filters.is_empty() || filters.iter().any(|f| matches(f, device)))
            .map(|device| inventory::DeviceStreamResponse {
                value: Some(to_proto(device)),
                time: now(),
                r#type: Operation::Initial as i32,
            })
            .collect();
        for serial in std::mem::take(&mut knobs.deactivate_after_inventory) {
            for device in state
                .mainline
                .devices
                .iter_mut()
                .filter(|d| d.serial == serial)
            {
                device.active = false;
            }
        }
        Ok(Response::new(stream_of(out)))
    }
}

fn matches(filter: &inventory::Device, device: &InventoryDevice) -> bool {
    let device_id = filter.key.as_ref().and_then(|k| k.device_id.clone());
    field_matches(&device_id, &device.serial)
        && field_matches(&filter.hostname, &device.hostname)
        && field_matches(&filter.fqdn, &device.hostname)
        && field_matches(&filter.system_mac_address, &device.mac)
        && field_matches(&filter.model_name, &device.model)
        && field_matches(&filter.software_version, &device.software_version)
        && filter.hardware_revision.is_none()
        && filter.domain_name.is_none()
        && filter.boot_time.is_none()
        && enum_matches(filter.streaming_status, device.streaming_status() as i32)
}

fn to_proto(device: &InventoryDevice) -> inventory::Device {
    inventory::Device {
        key: Some(inventory::DeviceKey {
            device_id: Some(device.serial.clone()),
        }),
        software_version: Some(device.software_version.clone()),
        model_name: Some(device.model.clone()),
        hardware_revision: None,
        fqdn: Some(device.hostname.clone()),
        hostname: Some(device.hostname.clone()),
        domain_name: None,
        system_mac_address: Some(device.mac.clone()),
        boot_time: None,
        streaming_status: device.streaming_status() as i32,
    }
}
