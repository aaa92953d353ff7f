//! Shared pieces of the deploy tests: a fake CloudVision plus a Postern that
//! trusts it, request bodies built in document order, the expected reply
//! bytes, and readers of the recorded gRPC conversation.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::task::JoinHandle;

use postern::python::json::dump_str;
use postern::workflows::cvproxy::proto::arista::workspace::v1 as ws;

use super::fake::FakeCv;
use super::front_door::one_error;
use crate::support::{RawResponse, TestServer, post_json};

pub const S1: &str = "SSJ11111111";
pub const S2: &str = "SSJ22222222";
pub const H1: &str = "leaf-1a";
pub const H2: &str = "leaf-1b";

/// The `[cvproxy]` table every deploy test starts from: retries without
/// real sleeps.
const BASE_TABLE: &str = "[cvproxy]\nlisten = \"127.0.0.1:0\"\nretry_base_delay = \"1ms\"\n";

/// A fake CloudVision and a Postern pointed at it.
pub struct Harness {
    pub fake: FakeCv,
    pub server: TestServer,
    pub addr: SocketAddr,
}

impl Harness {
    /// Postern trusting the fake's CA (verification on).
    pub async fn start(fake: FakeCv) -> Harness {
        let ca = fake
            .ca_file()
            .expect("a CA-signed fake")
            .display()
            .to_string();
        Harness::start_with(fake, &format!("[cvproxy.tls]\nca_file = {ca:?}\n")).await
    }

    /// Postern with `extra` appended after the base `[cvproxy]` table (e.g. a
    /// `[cvproxy.tls]` table).
    pub async fn start_with(fake: FakeCv, extra: &str) -> Harness {
        crate::support::init_logging();
        let server = TestServer::start("", &format!("{BASE_TABLE}{extra}")).await;
        let addr = server.cvproxy.expect("cvproxy configured");
        Harness { fake, server, addr }
    }

    /// A request aimed at this fake (`127.0.0.1:<port>`, its token).
    pub fn request(&self) -> DeployRequest {
        DeployRequest::new(&self.fake.cv_server(), &self.fake.token())
    }

    /// POST the body and read the reply (bounded: a hang fails the test).
    pub async fn post(&self, request: &DeployRequest) -> RawResponse {
        self.post_raw(&request.body()).await
    }

    /// POST in the background, for tests that change the fake while the
    /// deployment runs; `finish` collects the reply.
    pub fn spawn_post(&self, request: &DeployRequest) -> JoinHandle<RawResponse> {
        let addr = self.addr;
        let body = request.body();
        tokio::spawn(async move { post_json(addr, &body).await })
    }

    pub async fn finish(&self, posted: JoinHandle<RawResponse>) -> RawResponse {
        tokio::time::timeout(Duration::from_secs(30), posted)
            .await
            .expect("Postern answers the deployment in time")
            .expect("the request task")
    }

    pub async fn post_raw(&self, body: &[u8]) -> RawResponse {
        tokio::time::timeout(Duration::from_secs(30), post_json(self.addr, body))
            .await
            .expect("Postern answers the deployment in time")
    }

    /// The workspace this deployment created (the id of the first S2).
    pub fn workspace_id(&self) -> String {
        workspace_ids(&self.fake)
            .into_iter()
            .next()
            .expect("a workspace was created")
    }

    /// The workspace requests (`Request` numbers) in the order sent.
    pub fn workspace_requests(&self) -> Vec<i32> {
        self.fake
            .requests::<ws::WorkspaceConfigSetRequest>("WorkspaceConfigService/Set")
            .into_iter()
            .filter_map(|r| r.value)
            .map(|v| v.request)
            .collect()
    }

    /// Waits (bounded) until `count` calls of `method` have arrived.
    pub async fn wait_for_calls(&self, method: &str, count: usize) {
        tokio::time::timeout(
            Duration::from_secs(10),
            self.fake.wait_for_calls(method, count),
        )
        .await
        .unwrap_or_else(|_| panic!("{count} call(s) of {method} in time"));
    }
}

/// Ids of the workspaces created (S2 requests without a `request`), in order.
pub fn workspace_ids(fake: &FakeCv) -> Vec<String> {
    fake.requests::<ws::WorkspaceConfigSetRequest>("WorkspaceConfigService/Set")
        .into_iter()
        .filter_map(|r| r.value)
        .filter(|v| v.request == ws::Request::Unspecified as i32)
        .filter_map(|v| v.key.and_then(|k| k.workspace_id))
        .collect()
}

/// One device of a request body.
#[derive(Clone, Debug)]
pub struct Device {
    pub hostname: String,
    pub serial: Option<String>,
    /// The configlet text (base64-encoded into the body).
    pub config: String,
    /// `None` = no `tags` member.
    pub tags: Option<Vec<(String, String)>>,
}

/// A cvproxy request body, members in the order they are added.
#[derive(Clone, Debug)]
pub struct DeployRequest {
    pub cv_server: String,
    pub cv_token: String,
    pub devices: Vec<Device>,
    /// Further top-level members: (key, raw JSON value).
    pub extra: Vec<(String, String)>,
}

impl DeployRequest {
    pub fn new(cv_server: &str, cv_token: &str) -> Self {
        DeployRequest {
            cv_server: cv_server.to_owned(),
            cv_token: cv_token.to_owned(),
            devices: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// A device with a serial (or none) and no tags.
    pub fn device(mut self, hostname: &str, serial: Option<&str>, config: &str) -> Self {
        self.devices.push(Device {
            hostname: hostname.to_owned(),
            serial: serial.map(str::to_owned),
            config: config.to_owned(),
            tags: None,
        });
        self
    }

    /// A device with tags, in the given order.
    pub fn tagged(
        mut self,
        hostname: &str,
        serial: Option<&str>,
        config: &str,
        tags: &[(&str, &str)],
    ) -> Self {
        self.devices.push(Device {
            hostname: hostname.to_owned(),
            serial: serial.map(str::to_owned),
            config: config.to_owned(),
            tags: Some(
                tags.iter()
                    .map(|(l, v)| (l.to_string(), v.to_string()))
                    .collect(),
            ),
        });
        self
    }

    pub fn change_control_name(self, name: &str) -> Self {
        self.with("cv_change_control_name", &json_string(name))
    }

    pub fn strict_tags(self, strict: bool) -> Self {
        self.with("cv_strict_tags", if strict { "true" } else { "false" })
    }

    pub fn delete_workspace(self, delete: bool) -> Self {
        self.with("cv_delete_workspace", if delete { "true" } else { "false" })
    }

    pub fn with(mut self, key: &str, raw_json: &str) -> Self {
        self.extra.push((key.to_owned(), raw_json.to_owned()));
        self
    }

    pub fn body(&self) -> Vec<u8> {
        let mut devices = Vec::new();
        for d in &self.devices {
            let mut members = Vec::new();
            if let Some(serial) = &d.serial {
                members.push(format!("\"serial_number\": {}", json_string(serial)));
            }
            members.push(format!(
                "\"configlet\": \"{}\"",
                STANDARD.encode(d.config.as_bytes())
            ));
            if let Some(tags) = &d.tags {
                let tags: Vec<String> = tags
                    .iter()
                    .map(|(l, v)| format!("{}: {}", json_string(l), json_string(v)))
                    .collect();
                members.push(format!("\"tags\": {{{}}}", tags.join(", ")));
            }
            devices.push(format!(
                "{}: {{{}}}",
                json_string(&d.hostname),
                members.join(", ")
            ));
        }
        let mut members = vec![
            format!("\"devices\": {{{}}}", devices.join(", ")),
            format!("\"cv_server\": {}", json_string(&self.cv_server)),
            format!("\"cv_token\": {}", json_string(&self.cv_token)),
        ];
        for (key, value) in &self.extra {
            members.push(format!("{}: {value}", json_string(key)));
        }
        format!("{{{}}}", members.join(", ")).into_bytes()
    }
}

pub fn json_string(text: &str) -> String {
    let mut out = String::new();
    dump_str(text, &mut out);
    out
}

/// `{"status": "ok"}` as cvproxy writes it.
pub fn ok_reply() -> String {
    "{\n  \"status\": \"ok\"\n}".to_owned()
}

/// `{"status": "ok", "change_control": "<name>"}` as cvproxy writes it.
pub fn ok_with_change_control(name: &str) -> String {
    format!(
        "{{\n  \"status\": \"ok\",\n  \"change_control\": {}\n}}",
        json_string(name)
    )
}

/// `{"status": "error", "errors": [...]}` as cvproxy writes it.
pub fn error_reply(errors: &[&str]) -> String {
    match errors {
        [one] => one_error(one),
        _ => {
            let items: Vec<String> = errors
                .iter()
                .map(|e| format!("    {}", json_string(e)))
                .collect();
            format!(
                "{{\n  \"status\": \"error\",\n  \"errors\": [\n{}\n  ]\n}}",
                items.join(",\n")
            )
        }
    }
}

/// Asserts a 200 JSON reply with exactly these bytes.
#[track_caller]
pub fn assert_reply(response: &RawResponse, expected: &str) {
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.text(), expected);
}

/// The text of the single error of an error reply.
#[track_caller]
pub fn single_error(response: &RawResponse) -> String {
    assert_eq!(response.status, 200, "{response:?}");
    let value: serde_json::Value = serde_json::from_slice(&response.body).expect("a JSON reply");
    assert_eq!(value["status"], "error", "{}", response.text());
    let errors = value["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{}", response.text());
    errors[0].as_str().expect("a string").to_owned()
}

/// `[S]` → the `Set` of `WorkspaceConfigService` for the ABANDON request.
pub const ABANDON: i32 = ws::Request::Abandon as i32;
pub const START_BUILD: i32 = ws::Request::StartBuild as i32;
pub const SUBMIT: i32 = ws::Request::Submit as i32;
pub const REBASE: i32 = ws::Request::Rebase as i32;
pub const CREATE: i32 = ws::Request::Unspecified as i32;

/// Short method names, for comparing call sequences.
pub mod m {
    pub const WS_GET: &str = "WorkspaceService/GetOne";
    pub const WS_SET: &str = "WorkspaceConfigService/Set";
    pub const WS_DELETE: &str = "WorkspaceConfigService/Delete";
    pub const WS_SUB: &str = "WorkspaceService/Subscribe";
    pub const BUILD_DETAILS: &str = "WorkspaceBuildDetailsService/GetAll";
    pub const DEVICES: &str = "DeviceService/GetAll";
    pub const INPUTS_ALL: &str = "InputsService/GetAll";
    pub const INPUTS_ONE: &str = "InputsService/GetOne";
    pub const INPUTS_CFG_ALL: &str = "InputsConfigService/GetAll";
    pub const INPUTS_CFG_SET: &str = "InputsConfigService/Set";
    pub const INPUTS_CFG_SET_SOME: &str = "InputsConfigService/SetSome";
    pub const TAGS: &str = "TagService/GetAll";
    pub const TAG_CFG: &str = "TagConfigService/GetAll";
    pub const TAG_SET: &str = "TagConfigService/SetSome";
    pub const ASSIGN: &str = "TagAssignmentService/GetAll";
    pub const ASSIGN_CFG: &str = "TagAssignmentConfigService/GetAll";
    pub const ASSIGN_SET: &str = "TagAssignmentConfigService/SetSome";
    pub const CONFIGLET_SET_SOME: &str = "ConfigletConfigService/SetSome";
    pub const CONFIGLET_SET: &str = "ConfigletConfigService/Set";
    pub const CONTAINERS: &str = "ConfigletAssignmentService/GetAll";
    pub const CONTAINER_SET: &str = "ConfigletAssignmentConfigService/Set";
    pub const CONTAINER_SET_SOME: &str = "ConfigletAssignmentConfigService/SetSome";
    pub const CC_GET: &str = "ChangeControlService/GetOne";
    pub const CC_SET: &str = "ChangeControlConfigService/Set";

    /// S1–S3.
    pub const CREATE: [&str; 3] = [WS_GET, WS_SET, WS_SUB];
    /// S4–S7 when the topology studio already lists every device.
    pub const DEVICES_OK: [&str; 4] = [DEVICES, INPUTS_ALL, INPUTS_CFG_ALL, INPUTS_ALL];
    /// S8, S9 and S11, S12.
    pub const GET_TAGS: [&str; 2] = [TAGS, TAG_CFG];
    pub const GET_ASSIGNMENTS: [&str; 2] = [ASSIGN, ASSIGN_CFG];
    /// S17–S19 when the roots were not changed in the workspace.
    pub const ROOTS: [&str; 3] = [INPUTS_ONE, INPUTS_CFG_ALL, INPUTS_ONE];
    /// S23–S25.
    pub const BUILD: [&str; 3] = [WS_SET, WS_SUB, BUILD_DETAILS];
    /// S26, S27.
    pub const SUBMIT: [&str; 2] = [WS_SET, WS_SUB];
}

/// Concatenates call-sequence pieces.
pub fn seq(parts: &[&[&str]]) -> Vec<String> {
    parts
        .iter()
        .flat_map(|p| p.iter().map(|s| s.to_string()))
        .collect()
}

/// Seeds the devices as CloudVision knows them: inventory and topology
/// studio (hostname and MAC as the inventory has them).
pub fn seed_devices(fake: &FakeCv, devices: &[(&str, &str)]) {
    for (serial, hostname) in devices {
        let device = super::fake::InventoryDevice::new(serial, hostname);
        fake.add_topology_device(serial, hostname, &device.mac);
        fake.add_device(device);
    }
}
