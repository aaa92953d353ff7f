//! pyavd's studio client methods: studio inputs (S5–S7, S17–S20) and the
//! topology studio update (S7a–S7d).

use crate::workflows::cvproxy::proto::arista::studio::v1 as studio;
use crate::workflows::cvproxy::proto::fmp::RepeatedString;
use studio::inputs_config_service_client::InputsConfigServiceClient;
use studio::inputs_service_client::InputsServiceClient;

use super::super::call::{
    AttemptError, CallSpec, Classified, MAX_STREAM_ITEMS, classify, collect, with_deadline,
};
use super::super::client::{
    Client, DEFAULT_DEADLINE, MAX_DECODING_MESSAGE_SIZE, Svc, per_value_deadline, request,
};
use super::super::errors::{CallIds, CvError, code};
use super::super::pure::naming::TOPOLOGY_STUDIO_ID;
use super::super::pure::studio_tree::set_value_from_path;
use super::super::pure::topology::{WantedTopology, topology_set_values};
use crate::python::json::{self as pyjson, Json};

fn inputs_key(studio_id: &str, workspace_id: &str, path: Option<&[String]>) -> studio::InputsKey {
    studio::InputsKey {
        studio_id: Some(studio_id.to_owned()),
        workspace_id: Some(workspace_id.to_owned()),
        path: path.map(|p| RepeatedString { values: p.to_vec() }),
    }
}

/// `json.loads` failing inside a client method (D20).
fn loads(text: &str) -> Result<Json, AttemptError> {
    pyjson::loads(text).map_err(|e| AttemptError::Described(e.text))
}

impl Client {
    fn inputs(&self) -> InputsServiceClient<Svc> {
        InputsServiceClient::new(self.svc()).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    fn inputs_configs(&self) -> InputsConfigServiceClient<Svc> {
        InputsConfigServiceClient::new(self.svc())
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// `InputsService/GetAll` for one studio and workspace, the pieces set
    /// into one tree as they stream in.
    async fn inputs_tree(&self, studio_id: &str, workspace_id: &str) -> Result<Json, AttemptError> {
        let req = request(
            studio::InputsStreamRequest {
                partial_eq_filter: vec![studio::Inputs {
                    key: Some(inputs_key(studio_id, workspace_id, None)),
                    ..Default::default()
                }],
                time: None,
            },
            DEFAULT_DEADLINE,
        );
        with_deadline(DEFAULT_DEADLINE, async {
            let mut stream = self.inputs().get_all(req).await?.into_inner();
            let mut tree = Json::Object(Vec::new());
            let mut count = 0usize;
            while let Some(message) = stream.message().await? {
                count += 1;
                if count > MAX_STREAM_ITEMS {
                    return Err(AttemptError::Described(format!(
                        "CloudVision streamed more than {MAX_STREAM_ITEMS} items"
                    )));
                }
                let Some(value) = message.value else { continue };
                let Some(text) = value.inputs else { continue };
                let path = value
                    .key
                    .and_then(|k| k.path)
                    .map(|p| p.values)
                    .unwrap_or_default();
                set_value_from_path(&path, &mut tree, loads(&text)?)
                    .map_err(AttemptError::Described)?;
            }
            Ok(tree)
        })
        .await
    }

    /// `InputsConfigService/GetAll` with a `remove: true` filter: whether
    /// anything streamed.
    async fn inputs_removed(&self, key: studio::InputsKey) -> Result<bool, AttemptError> {
        let req = request(
            studio::InputsConfigStreamRequest {
                partial_eq_filter: vec![studio::InputsConfig {
                    key: Some(key),
                    remove: Some(true),
                    inputs: None,
                }],
                time: None,
            },
            DEFAULT_DEADLINE,
        );
        with_deadline(DEFAULT_DEADLINE, async {
            let mut stream = self.inputs_configs().get_all(req).await?.into_inner();
            Ok(stream.message().await?.is_some())
        })
        .await
    }

    /// S5–S7 (and S7a–c) `get_studio_inputs`: the workspace's inputs, else
    /// `default` when they were removed there, else mainline's.
    pub(crate) async fn get_studio_inputs(
        &self,
        studio_id: &str,
        workspace_id: &str,
        default: &Json,
    ) -> Result<Json, CvError> {
        let spec = CallSpec::read_retry("get_studio_inputs", CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let tree = self.inputs_tree(studio_id, workspace_id).await?;
            if tree.py_len().unwrap_or(0) > 0 {
                return Ok(tree);
            }
            if self
                .inputs_removed(inputs_key(studio_id, workspace_id, None))
                .await?
            {
                return Ok(default.clone());
            }
            let tree = self.inputs_tree(studio_id, "").await?;
            Ok(if tree.py_len().unwrap_or(0) > 0 {
                tree
            } else {
                default.clone()
            })
        })
        .await
    }

    /// `InputsService/GetOne` at a path: `Ok(None)` for NOT_FOUND when
    /// `not_found_ok`, the JSON (or `default` without `inputs`) otherwise.
    async fn inputs_at_path(
        &self,
        key: studio::InputsKey,
        not_found_ok: bool,
        default: &Json,
    ) -> Result<Option<Json>, AttemptError> {
        let req = request(
            studio::InputsRequest {
                key: Some(key),
                time: None,
            },
            DEFAULT_DEADLINE,
        );
        let answer = with_deadline(DEFAULT_DEADLINE, async {
            match self.inputs().get_one(req).await {
                Ok(response) => Ok(Ok(response.into_inner())),
                Err(status) => Ok(Err(status)),
            }
        })
        .await?;
        match answer {
            Ok(response) => match response.value.and_then(|v| v.inputs) {
                Some(text) => Ok(Some(loads(&text)?)),
                None => Ok(Some(default.clone())),
            },
            Err(status) => {
                let not_found = matches!(classify(&status), Classified::Status { code, .. } if code == code::NOT_FOUND);
                if not_found && not_found_ok {
                    Ok(None)
                } else {
                    Err(AttemptError::Status(status))
                }
            }
        }
    }

    /// S17–S19 `get_studio_inputs_with_path`.
    pub(crate) async fn get_studio_inputs_with_path(
        &self,
        studio_id: &str,
        workspace_id: &str,
        path: &[String],
        default: &Json,
    ) -> Result<Json, CvError> {
        let spec = CallSpec::read_retry(
            "get_studio_inputs_with_path",
            CallIds::workspace(workspace_id),
        );
        self.handle(&spec, move || async move {
            let in_workspace = inputs_key(studio_id, workspace_id, Some(path));
            if let Some(value) = self
                .inputs_at_path(in_workspace.clone(), !workspace_id.is_empty(), default)
                .await?
            {
                return Ok(value);
            }
            if self.inputs_removed(in_workspace).await? {
                return Ok(default.clone());
            }
            let mainline = inputs_key(studio_id, "", Some(path));
            Ok(self
                .inputs_at_path(mainline, true, default)
                .await?
                .unwrap_or_else(|| default.clone()))
        })
        .await
    }

    /// S20 `InputsConfigService/Set` of JSON at a path.
    pub(crate) async fn set_studio_inputs(
        &self,
        studio_id: &str,
        workspace_id: &str,
        path: &[String],
        inputs_json: &str,
    ) -> Result<(), CvError> {
        let spec = CallSpec::write("set_studio_inputs", CallIds::workspace(workspace_id));
        self.handle(&spec, move || async move {
            let req = request(
                studio::InputsConfigSetRequest {
                    value: Some(studio::InputsConfig {
                        key: Some(inputs_key(studio_id, workspace_id, Some(path))),
                        remove: None,
                        inputs: Some(inputs_json.to_owned()),
                    }),
                },
                DEFAULT_DEADLINE,
            );
            with_deadline(DEFAULT_DEADLINE, async {
                self.inputs_configs().set(req).await?;
                Ok(())
            })
            .await
        })
        .await
    }

    /// S7a–S7d `set_topology_studio_inputs`: read the topology studio again
    /// (for the device positions), then one `SetSome` with every update.
    pub(crate) async fn set_topology_studio_inputs(
        &self,
        workspace_id: &str,
        updates: &[WantedTopology],
    ) -> Result<(), CvError> {
        let spec = CallSpec::write(
            "set_topology_studio_inputs",
            CallIds::workspace(workspace_id),
        );
        self.handle(&spec, move || async move {
            let empty = Json::Object(Vec::new());
            let tree = self
                .get_studio_inputs(TOPOLOGY_STUDIO_ID, workspace_id, &empty)
                .await
                .map_err(AttemptError::Final)?;
            let values: Vec<studio::InputsConfig> = topology_set_values(&tree, updates)
                .map_err(AttemptError::Described)?
                .into_iter()
                .map(|v| studio::InputsConfig {
                    key: Some(inputs_key(TOPOLOGY_STUDIO_ID, workspace_id, Some(&v.path))),
                    remove: None,
                    inputs: Some(v.inputs),
                })
                .collect();
            let deadline = per_value_deadline(values.len());
            let req = request(studio::InputsConfigSetSomeRequest { values }, deadline);
            with_deadline(deadline, async {
                collect(self.inputs_configs().set_some(req).await?.into_inner()).await?;
                Ok(())
            })
            .await
        })
        .await
    }
}
