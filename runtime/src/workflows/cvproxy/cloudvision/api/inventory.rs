//! pyavd's `get_inventory_devices` (S4).

use crate::workflows::cvproxy::proto::arista::inventory::v1 as inv;
use crate::workflows::cvproxy::proto::arista::time::TimeBounds;
use inv::device_service_client::DeviceServiceClient;

use super::super::call::{CallSpec, collect, with_deadline};
use super::super::client::{Client, DEFAULT_DEADLINE, MAX_DECODING_MESSAGE_SIZE, request};
use super::super::errors::{CallIds, CvError};
use super::super::pure::devices::{InventoryDevice, InventoryFilter};

impl Client {
    /// S4 `DeviceService/GetAll`: one filter per device (serial, else a
    /// present-empty key and the hostname), `time` present-empty.
    pub(crate) async fn get_inventory_devices(
        &self,
        filters: &[InventoryFilter],
    ) -> Result<Vec<InventoryDevice>, CvError> {
        let spec = CallSpec::read_retry("get_inventory_devices", CallIds::none());
        let message = inv::DeviceStreamRequest {
            partial_eq_filter: filters
                .iter()
                .map(|f| match f {
                    InventoryFilter::Serial(serial) => inv::Device {
                        key: Some(inv::DeviceKey {
                            device_id: Some(serial.clone()),
                        }),
                        ..Default::default()
                    },
                    InventoryFilter::Hostname(hostname) => inv::Device {
                        key: Some(inv::DeviceKey::default()),
                        hostname: Some(hostname.clone()),
                        ..Default::default()
                    },
                })
                .collect(),
            time: Some(TimeBounds::default()),
        };
        let message = &message;
        self.handle(&spec, move || async move {
            let req = request(message.clone(), DEFAULT_DEADLINE);
            let responses = with_deadline(DEFAULT_DEADLINE, async {
                let mut client = DeviceServiceClient::new(self.svc())
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE);
                collect(client.get_all(req).await?.into_inner()).await
            })
            .await?;
            Ok(responses
                .into_iter()
                .map(|r| {
                    let device = r.value.unwrap_or_default();
                    InventoryDevice {
                        device_id: device.key.and_then(|k| k.device_id),
                        hostname: device.hostname,
                        system_mac_address: device.system_mac_address,
                        active: device.streaming_status == inv::StreamingStatus::Active as i32,
                    }
                })
                .collect())
        })
        .await
    }
}
