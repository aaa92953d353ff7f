//! pyavd's change-control client methods (S28, S28b).

use crate::workflows::cvproxy::proto::arista::changecontrol::v1 as cc;
use cc::change_control_config_service_client::ChangeControlConfigServiceClient;
use cc::change_control_service_client::ChangeControlServiceClient;

use super::super::call::{CallSpec, with_deadline};
use super::super::client::{Client, DEFAULT_DEADLINE, MAX_DECODING_MESSAGE_SIZE, request};
use super::super::errors::{CallIds, CvError};

fn key(cc_id: &str) -> cc::ChangeControlKey {
    cc::ChangeControlKey {
        id: Some(cc_id.to_owned()),
    }
}

impl Client {
    /// S28 `ChangeControlService/GetOne`.
    pub(crate) async fn get_change_control(
        &self,
        cc_id: &str,
    ) -> Result<cc::ChangeControl, CvError> {
        let spec = CallSpec::write("get_change_control", CallIds::change_control(cc_id));
        self.handle(&spec, move || async move {
            let req = request(
                cc::ChangeControlRequest {
                    key: Some(key(cc_id)),
                    time: None,
                },
                DEFAULT_DEADLINE,
            );
            let response = with_deadline(DEFAULT_DEADLINE, async {
                let mut client = ChangeControlServiceClient::new(self.svc())
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE);
                Ok(client.get_one(req).await?.into_inner())
            })
            .await?;
            Ok(response.value.unwrap_or_default())
        })
        .await
    }

    /// S28b `ChangeControlConfigService/Set` of the name, with the notes
    /// sent exactly as read (absent stays absent).
    pub(crate) async fn set_change_control(
        &self,
        cc_id: &str,
        name: Option<&str>,
        notes: Option<&str>,
    ) -> Result<(), CvError> {
        let spec = CallSpec::write("set_change_control", CallIds::change_control(cc_id));
        self.handle(&spec, move || async move {
            let req = request(
                cc::ChangeControlConfigSetRequest {
                    value: Some(cc::ChangeControlConfig {
                        key: Some(key(cc_id)),
                        change: Some(cc::ChangeConfig {
                            name: name.map(str::to_owned),
                            root_stage_id: None,
                            notes: notes.map(str::to_owned),
                        }),
                    }),
                },
                DEFAULT_DEADLINE,
            );
            with_deadline(DEFAULT_DEADLINE, async {
                let mut client = ChangeControlConfigServiceClient::new(self.svc())
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE);
                client.set(req).await?;
                Ok(())
            })
            .await
        })
        .await
    }
}
