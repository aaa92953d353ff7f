//! An in-process fake CloudVision (spec 13) for the `cvproxy` tests: one TLS
//! port on 127.0.0.1 serving the REST pre-flight and the gRPC services of
//! spec 12.1, behaving like the real service in every way the client can
//! observe.
//!
//! Depends only on crates and `postern::workflows::cvproxy::proto` (a
//! benchmark includes these files with `#[path]`).
//!
//! # Starting
//! ```ignore
//! let fake = FakeCv::start().await;            // CA-signed certificate
//! fake.add_device(InventoryDevice::new("SSJ11111111", "leaf-1a"));
//! // Postern: cv_server = fake.cv_server(), cv_token = fake.token(),
//! //          cvproxy.tls.ca_file = fake.ca_file()
//! ```
//! `FakeCv::start_self_signed()` serves a self-signed certificate instead
//! (verification fails unless `insecure`). The server stops when the handle
//! is dropped.
//!
//! # Mainline (before or during a test)
//! `add_device`, `set_device_active`, `set_studio_inputs`,
//! `add_topology_device`, `set_configlet`, `set_container`,
//! `set_assignment_roots`, `seed_avd_device` (configlet + container + root as
//! a deployment leaves them), `add_tag`, `add_tag_assignment`.
//!
//! # Knobs (spec 13.5)
//! * token and pre-flight: `set_token`, `set_preflight_version`,
//!   `set_preflight_raw`, `set_expired_token_mode`;
//! * timing of the asynchronous workspace events: `set_outcome_timing`
//!   ([`OutcomeTiming`]), `hold_outcomes`, `release_outcomes`, `settle`;
//! * workspace requests: `needs_rebase_on_builds`, `fail_submits`,
//!   `require_sync_on_submits`, `fail_rebases`, `fail_build_on_device`,
//!   `deactivate_after_inventory_read`, `set_change_control_notes`;
//! * any method (short `WorkspaceService/GetOne` or full path):
//!   `set_receive_limit`, `fail_next`, `unavailable_next`, `reset_next`
//!   (HTTP/2 RST_STREAM code 2), `fail_always`, `clear_failures`;
//! * `configlet_item_error` (per-item `{key, error}` of
//!   `ConfigletConfigService/SetSome`).
//!
//! A workspace is not PENDING right after its creation; until it is, writes
//! into it fail per item with `workspace status is not available: <W>`.
//!
//! # Recorder
//! `calls`, `methods`, `requests::<M>(method)`, `call_count`,
//! `wait_for_calls`, `preflights`, `clear_recording`.
//!
//! # Assertions
//! `mainline_configlets`, `mainline_containers`, `mainline_studio`,
//! `mainline_tags`, `mainline_tag_assignments`, `devices`, `workspaces`,
//! `workspace`, `workspace_configlets`, `change_controls`, `build_details`.

#![allow(dead_code)]

mod change_control;
mod configlet;
mod inventory;
mod knobs;
mod recorder;
mod rest;
mod state;
mod studio;
mod tag;
mod tls;
mod transport;
mod workspace;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::codegen::tokio_stream::{self, Stream};
use tonic::service::Routes;
use tonic::transport::{Channel, Endpoint};

use postern::workflows::cvproxy::proto::arista::{
    changecontrol::v1 as cc_pb, configlet::v1 as configlet_pb, inventory::v1 as inventory_pb,
    studio::v1 as studio_pb, tag::v2 as tag_pb, workspace::v1 as ws,
};

#[allow(unused_imports)]
pub use knobs::{DEFAULT_TOKEN, OutcomeTiming, Preflight};
#[allow(unused_imports)]
pub use recorder::{PreflightRequest, RecordedCall};
#[allow(unused_imports)]
pub use state::{
    ConfigletRecord, ContainerRecord, InventoryDevice, TagAssignmentRecord, TagRecord,
};
#[allow(unused_imports)]
pub use tls::TlsMode;
#[allow(unused_imports)]
pub use workspace::NO_CHANGE_CONTROL_MESSAGE;

use knobs::{Knobs, Scripted, short_method};
use recorder::Recorder;
use state::{ASSIGNMENT_ROOTS_KEY, STATIC_CONFIGLET_STUDIO, State, TOPOLOGY_STUDIO};

/// How long a workspace event waits for a new `Subscribe` stream (timing
/// `OnSubscribe`) before it takes effect anyway (for clients that subscribe
/// before they send the request; Postern subscribes after).
pub const FALLBACK_DELAY: Duration = Duration::from_secs(2);

/// The message of `unavailable_next`.
pub const UNAVAILABLE_MESSAGE: &str = "fake CloudVision: service unavailable";

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, tonic::Status>> + Send + 'static>>;

fn stream_of<T: Send + 'static>(items: Vec<T>) -> BoxStream<T> {
    Box::pin(tokio_stream::iter(items.into_iter().map(Ok)))
}

/// State shared by the transport and every service.
struct Inner {
    state: Mutex<State>,
    knobs: Mutex<Knobs>,
    recorder: Recorder,
}

impl Inner {
    /// Lock order: `state` before `knobs`, never the other way.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn knobs(&self) -> MutexGuard<'_, Knobs> {
        self.knobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies every queued workspace event now.
    fn drain_all(&self) {
        let mut state = self.state();
        let mut knobs = self.knobs();
        let ids: Vec<String> = state.workspaces.keys().cloned().collect();
        for id in ids {
            workspace::drain(&mut state, &mut knobs, &id);
        }
    }
}

/// Implements every service of spec 12.1 over the shared state.
#[derive(Clone)]
struct Handler {
    inner: Arc<Inner>,
}

/// A snapshot of a workspace for assertions.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkspaceSnapshot {
    pub id: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub state: ws::WorkspaceState,
    /// `(request id, response)` in request order.
    pub responses: Vec<(String, ws::Response)>,
    pub cc_ids: Vec<String>,
    pub last_build_id: Option<String>,
    pub needs_rebase: bool,
    /// Events (readiness, request outcomes) not yet applied.
    pub pending_events: usize,
}

impl WorkspaceSnapshot {
    pub fn response(&self, request_id: &str) -> Option<&ws::Response> {
        self.responses
            .iter()
            .find(|(id, _)| id == request_id)
            .map(|(_, r)| r)
    }
}

/// A change control for assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeControlSnapshot {
    pub id: String,
    pub name: Option<String>,
    pub notes: Option<String>,
    pub device_ids: Vec<String>,
    /// The workspace whose submit created it.
    pub workspace_id: String,
}

/// The running fake; dropping it stops the server.
pub struct FakeCv {
    inner: Arc<Inner>,
    addr: SocketAddr,
    certs: tls::Certificates,
    ca_file: Option<PathBuf>,
    cert_file: PathBuf,
    server: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for FakeCv {
    fn drop(&mut self) {
        self.server.abort();
        // Ends the Subscribe streams still open.
        self.inner.state().subscribers.clear();
    }
}

impl FakeCv {
    /// A fake with a certificate signed by a CA generated for this test.
    pub async fn start() -> FakeCv {
        FakeCv::start_with(TlsMode::CaSigned).await
    }

    /// A fake with a self-signed certificate and no CA.
    pub async fn start_self_signed() -> FakeCv {
        FakeCv::start_with(TlsMode::SelfSigned).await
    }

    pub async fn start_with(mode: TlsMode) -> FakeCv {
        let certs = tls::generate(mode);
        let dir = tempfile::tempdir().expect("temp dir for the fake's certificates");
        let ca_file = certs.ca_pem.as_ref().map(|pem| {
            let path = dir.path().join("fake-cv-ca.pem");
            std::fs::write(&path, pem).expect("write the CA file");
            path
        });
        let cert_file = dir.path().join("fake-cv-server.pem");
        std::fs::write(&cert_file, &certs.server_pem).expect("write the certificate file");

        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            knobs: Mutex::new(Knobs::default()),
            recorder: Recorder::new(),
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake CloudVision");
        let addr = listener.local_addr().expect("local address");
        let acceptor = tokio_rustls::TlsAcceptor::from(tls::server_config(&certs));
        let routes = routes(Handler {
            inner: Arc::clone(&inner),
        });
        let server = tokio::spawn(transport::serve(
            listener,
            acceptor,
            Arc::clone(&inner),
            routes,
        ));
        FakeCv {
            inner,
            addr,
            certs,
            ca_file,
            cert_file,
            server,
            _dir: dir,
        }
    }

    // ---- addressing and TLS ------------------------------------------------

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `127.0.0.1:<port>`, a `cv_server` value.
    pub fn cv_server(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// `localhost:<port>`, a `cv_server` value.
    pub fn cv_server_localhost(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    /// The CA's PEM file (CA-signed mode), for `cvproxy.tls.ca_file`.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    pub fn ca_pem(&self) -> Option<&str> {
        self.certs.ca_pem.as_deref()
    }

    /// The server certificate's PEM file (either mode).
    pub fn cert_file(&self) -> &Path {
        &self.cert_file
    }

    /// A rustls client configuration that trusts this fake, with the given
    /// ALPN protocols.
    pub fn client_tls_config(&self, alpn: &[&[u8]]) -> rustls::ClientConfig {
        tls::client_config(&self.certs, alpn)
    }

    /// A TLS connection to the fake for host name `localhost`.
    pub async fn connect_tls(
        &self,
        alpn: &[&[u8]],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        connect_tls(self.addr, Arc::new(self.client_tls_config(alpn))).await
    }

    /// A tonic channel to the fake over TLS (h2), for tests that talk to it
    /// directly. Calls still need [`FakeCv::request`]'s authorization.
    pub async fn channel(&self) -> Channel {
        let addr = self.addr;
        let config = Arc::new(self.client_tls_config(&[b"h2"]));
        let connector = tower::service_fn(move |_uri: tonic::transport::Uri| {
            let config = Arc::clone(&config);
            async move {
                connect_tls(addr, config)
                    .await
                    .map(hyper_util::rt::TokioIo::new)
            }
        });
        // The scheme is http because the connector already speaks TLS.
        Endpoint::from_static("http://localhost")
            .connect_with_connector(connector)
            .await
            .expect("connect a gRPC channel to the fake")
    }

    /// A gRPC request carrying `authorization: Bearer <token>`.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let value = format!("Bearer {}", self.token())
            .parse()
            .expect("the token is valid metadata");
        request.metadata_mut().insert("authorization", value);
        request
    }

    // ---- token and pre-flight ----------------------------------------------

    pub fn token(&self) -> String {
        self.inner.knobs().token.clone()
    }

    pub fn set_token(&self, token: &str) {
        self.inner.knobs().token = token.to_owned();
    }

    /// The pre-flight answers 200 `{"version": "<version>"}` (default `CVaaS`).
    pub fn set_preflight_version(&self, version: &str) {
        self.inner.knobs().preflight = Preflight::Version(version.to_owned());
    }

    /// The pre-flight answers this status and body verbatim.
    pub fn set_preflight_raw(&self, status: u16, body: &str) {
        self.inner.knobs().preflight = Preflight::Raw {
            status,
            body: body.to_owned(),
        };
    }

    /// Issue #5875: any token is accepted (pre-flight and gRPC), but a
    /// wrong one sees an empty inventory.
    pub fn set_expired_token_mode(&self, on: bool) {
        self.inner.knobs().expired_token_mode = on;
    }

    // ---- timing of workspace events ------------------------------------------

    pub fn set_outcome_timing(&self, timing: OutcomeTiming) {
        self.inner.knobs().timing = timing;
        if timing == OutcomeTiming::Immediate {
            self.inner.drain_all();
        }
    }

    /// New workspaces stay not-ready and request outcomes stay unannounced
    /// until `release_outcomes` or `settle`.
    pub fn hold_outcomes(&self) {
        self.inner.knobs().timing = OutcomeTiming::Held;
    }

    /// Back to `OnSubscribe`, applying (and announcing) everything held.
    pub fn release_outcomes(&self) {
        self.inner.knobs().timing = OutcomeTiming::OnSubscribe;
        self.inner.drain_all();
    }

    /// Applies every pending workspace event now, whatever the timing.
    pub fn settle(&self) {
        self.inner.drain_all();
    }

    // ---- workspace request scripts -------------------------------------------

    /// The next `n` builds answer `needs_rebase = true`.
    pub fn needs_rebase_on_builds(&self, n: usize) {
        self.inner.knobs().rebase_builds = n;
    }

    /// The next `n` submits FAIL with this code and message.
    pub fn fail_submits(&self, n: usize, code: ws::ResponseCode, message: &str) {
        let mut knobs = self.inner.knobs();
        for _ in 0..n {
            knobs
                .submit_failures
                .push_back((code as i32, message.to_owned()));
        }
    }

    /// The next `n` submits FAIL with `RESPONSE_CODE_SYNCHRONIZATION_REQUIRED`.
    pub fn require_sync_on_submits(&self, n: usize) {
        self.fail_submits(
            n,
            ws::ResponseCode::SynchronizationRequired,
            "workspace must be synchronized with mainline before submission",
        );
    }

    /// The next `n` rebases FAIL with this message.
    pub fn fail_rebases(&self, n: usize, message: &str) {
        let mut knobs = self.inner.knobs();
        for _ in 0..n {
            knobs.rebase_failures.push_back(message.to_owned());
        }
    }

    /// Builds that include this device fail (its first line is rejected).
    pub fn fail_build_on_device(&self, serial: &str) {
        self.inner
            .knobs()
            .failing_build_devices
            .insert(serial.to_owned());
    }

    /// The device turns INACTIVE right after the next `DeviceService/GetAll`.
    pub fn deactivate_after_inventory_read(&self, serial: &str) {
        self.inner
            .knobs()
            .deactivate_after_inventory
            .push(serial.to_owned());
    }

    /// `change.notes` of the change controls created from now on (default
    /// `Some("")`; `None` = absent).
    pub fn set_change_control_notes(&self, notes: Option<&str>) {
        self.inner.knobs().change_control_notes = notes.map(str::to_owned);
    }

    // ---- per-method failures ---------------------------------------------------

    /// Requests of `method` (`*` = any) bigger than `bytes` fail with
    /// RESOURCE_EXHAUSTED `grpc: received message larger than max (<size> vs. <bytes>)`.
    pub fn set_receive_limit(&self, method: &str, bytes: usize) {
        self.inner
            .knobs()
            .receive_limits
            .insert(method_key(method), bytes);
    }

    /// The next `k` calls of `method` fail with this status and message.
    pub fn fail_next(&self, method: &str, k: usize, code: Code, message: &str) {
        self.script(method, k, Scripted::Status(code, message.to_owned()));
    }

    /// The next `k` calls of `method` fail with UNAVAILABLE.
    pub fn unavailable_next(&self, method: &str, k: usize) {
        self.fail_next(method, k, Code::Unavailable, UNAVAILABLE_MESSAGE);
    }

    /// The next `k` calls of `method` are reset with HTTP/2 RST_STREAM
    /// INTERNAL_ERROR (code 2) without an answer.
    pub fn reset_next(&self, method: &str, k: usize) {
        self.script(method, k, Scripted::Reset);
    }

    /// Every call of `method` fails with this status (after the one-shot scripts).
    pub fn fail_always(&self, method: &str, code: Code, message: &str) {
        self.inner.knobs().standing.insert(
            method_key(method),
            Scripted::Status(code, message.to_owned()),
        );
    }

    /// Drops the scripts, the standing failure and the limit of `method`.
    pub fn clear_failures(&self, method: &str) {
        let key = method_key(method);
        let mut knobs = self.inner.knobs();
        knobs.scripted.remove(&key);
        knobs.standing.remove(&key);
        knobs.receive_limits.remove(&key);
    }

    fn script(&self, method: &str, k: usize, action: Scripted) {
        let mut knobs = self.inner.knobs();
        let queue = knobs.scripted.entry(method_key(method)).or_default();
        queue.extend(std::iter::repeat_n(action, k));
    }

    /// `ConfigletConfigService/SetSome` (and `/Set`) answer this error for
    /// the configlet id instead of storing it.
    pub fn configlet_item_error(&self, configlet_id: &str, error: &str) {
        self.inner
            .knobs()
            .configlet_item_errors
            .insert(configlet_id.to_owned(), error.to_owned());
    }

    // ---- mainline --------------------------------------------------------------

    pub fn add_device(&self, device: InventoryDevice) {
        let mut state = self.inner.state();
        state.mainline.devices.retain(|d| d.serial != device.serial);
        state.mainline.devices.push(device);
    }

    /// Switches a device between ACTIVE and INACTIVE.
    pub fn set_device_active(&self, serial: &str, active: bool) {
        let mut state = self.inner.state();
        for device in state
            .mainline
            .devices
            .iter_mut()
            .filter(|d| d.serial == serial)
        {
            device.active = active;
        }
    }

    /// The mainline inputs tree of a studio.
    pub fn set_studio_inputs(&self, studio_id: &str, tree: Value) {
        self.inner
            .state()
            .mainline
            .studios
            .insert(studio_id.to_owned(), tree);
    }

    /// Appends a device to the mainline `TOPOLOGY` studio in its usual shape.
    pub fn add_topology_device(&self, serial: &str, hostname: &str, mac: &str) {
        let mut state = self.inner.state();
        let tree = state
            .mainline
            .studios
            .entry(TOPOLOGY_STUDIO.to_owned())
            .or_insert_with(|| json!({ "devices": [] }));
        let entry = json!({
            "inputs": { "device": {
                "hostname": hostname, "macAddress": mac, "modelName": "", "interfaces": []
            } },
            "tags": { "query": format!("device:{serial}") }
        });
        if let Some(devices) = tree.get_mut("devices").and_then(Value::as_array_mut) {
            devices.push(entry);
        } else if let Some(map) = tree.as_object_mut() {
            map.insert("devices".to_owned(), json!([entry]));
        }
    }

    pub fn set_configlet(&self, id: &str, record: ConfigletRecord) {
        self.inner
            .state()
            .mainline
            .configlets
            .insert(id.to_owned(), record);
    }

    pub fn set_container(&self, id: &str, record: ContainerRecord) {
        self.inner
            .state()
            .mainline
            .containers
            .insert(id.to_owned(), record);
    }

    /// `configletAssignmentRoots` of the Static Configuration Studio.
    pub fn set_assignment_roots(&self, roots: &[&str]) {
        let mut state = self.inner.state();
        let tree = state
            .mainline
            .studios
            .entry(STATIC_CONFIGLET_STUDIO.to_owned())
            .or_insert_with(|| json!({}));
        match tree.as_object_mut() {
            Some(map) => {
                map.insert(ASSIGNMENT_ROOTS_KEY.to_owned(), json!(roots));
            }
            None => *tree = json!({ ASSIGNMENT_ROOTS_KEY: roots }),
        }
    }

    /// Mainline as a deployment of `hostname` leaves it: configlet and
    /// container `avd-<serial>` under the root `avd-configlets`, which is
    /// registered among the assignment roots.
    pub fn seed_avd_device(&self, serial: &str, hostname: &str, body: &str) {
        let id = format!("avd-{serial}");
        let description = format!("Configuration created and uploaded by AVD for {hostname}");
        self.set_configlet(
            &id,
            ConfigletRecord {
                display_name: Some(format!("AVD-{hostname}")),
                description: Some(description.clone()),
                body: Some(body.to_owned()),
                migrated_from: None,
            },
        );
        self.set_container(
            &id,
            ContainerRecord {
                display_name: Some(hostname.to_owned()),
                description: Some(description),
                configlet_ids: vec![id.clone()],
                query: Some(format!("device:{serial}")),
                match_policy: configlet_pb::MatchPolicy::MatchAll as i32,
                child_assignment_ids: Vec::new(),
            },
        );
        let mut state = self.inner.state();
        let root = state
            .mainline
            .containers
            .entry("avd-configlets".to_owned())
            .or_insert_with(|| ContainerRecord {
                display_name: Some("AVD Configurations".to_owned()),
                description: Some("Configurations created and uploaded by AVD".to_owned()),
                configlet_ids: Vec::new(),
                query: Some("device:*".to_owned()),
                match_policy: configlet_pb::MatchPolicy::MatchAll as i32,
                child_assignment_ids: Vec::new(),
            });
        if !root.child_assignment_ids.contains(&id) {
            root.child_assignment_ids.push(id);
        }
        let tree = state
            .mainline
            .studios
            .entry(STATIC_CONFIGLET_STUDIO.to_owned())
            .or_insert_with(|| json!({}));
        if let Some(map) = tree.as_object_mut() {
            let roots = map
                .entry(ASSIGNMENT_ROOTS_KEY.to_owned())
                .or_insert_with(|| json!([]));
            if let Some(list) = roots.as_array_mut()
                && !list.iter().any(|r| r == "avd-configlets")
            {
                list.insert(0, json!("avd-configlets"));
            }
        }
    }

    pub fn add_tag(&self, record: TagRecord) {
        self.inner.state().mainline.tags.insert(
            (record.element_type, record.label, record.value),
            record.creator,
        );
    }

    pub fn add_tag_assignment(&self, record: TagAssignmentRecord) {
        self.inner.state().mainline.tag_assignments.insert(
            (
                record.element_type,
                record.label,
                record.value,
                record.device_id,
                record.interface_id,
            ),
            record.creator,
        );
    }

    // ---- recorder --------------------------------------------------------------

    /// Every gRPC call in arrival order (failed and reset ones included).
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.inner.recorder.calls()
    }

    /// The short method names (`WorkspaceService/GetOne`) in arrival order.
    pub fn methods(&self) -> Vec<String> {
        self.calls().iter().map(RecordedCall::method).collect()
    }

    /// The requests of one method, decoded.
    pub fn requests<M: prost::Message + Default>(&self, method: &str) -> Vec<M> {
        let method = short_method(method);
        self.calls()
            .iter()
            .filter(|c| c.method() == method)
            .map(|c| {
                c.decode::<M>()
                    .unwrap_or_else(|e| panic!("a recorded {method} request does not decode: {e}"))
            })
            .collect()
    }

    pub fn call_count(&self, method: &str) -> usize {
        self.inner.recorder.count(method)
    }

    /// Resolves once `count` calls of `method` have arrived (wrap it in a
    /// timeout in tests).
    pub async fn wait_for_calls(&self, method: &str, count: usize) {
        self.inner.recorder.wait_for(method, count).await;
    }

    /// Every REST pre-flight request, in arrival order.
    pub fn preflights(&self) -> Vec<PreflightRequest> {
        self.inner.recorder.preflights()
    }

    pub fn clear_recording(&self) {
        self.inner.recorder.clear();
    }

    // ---- assertions ------------------------------------------------------------

    pub fn mainline_configlets(&self) -> BTreeMap<String, ConfigletRecord> {
        self.inner.state().mainline.configlets.clone()
    }

    pub fn mainline_containers(&self) -> BTreeMap<String, ContainerRecord> {
        self.inner.state().mainline.containers.clone()
    }

    pub fn mainline_studio(&self, studio_id: &str) -> Option<Value> {
        self.inner.state().mainline.studios.get(studio_id).cloned()
    }

    pub fn mainline_tags(&self) -> Vec<TagRecord> {
        self.inner
            .state()
            .mainline
            .tags
            .iter()
            .map(|((element_type, label, value), creator)| TagRecord {
                element_type: *element_type,
                label: label.clone(),
                value: value.clone(),
                creator: *creator,
            })
            .collect()
    }

    pub fn mainline_tag_assignments(&self) -> Vec<TagAssignmentRecord> {
        self.inner
            .state()
            .mainline
            .tag_assignments
            .iter()
            .map(
                |((element_type, label, value, device_id, interface_id), creator)| {
                    TagAssignmentRecord {
                        element_type: *element_type,
                        label: label.clone(),
                        value: value.clone(),
                        device_id: device_id.clone(),
                        interface_id: interface_id.clone(),
                        creator: *creator,
                    }
                },
            )
            .collect()
    }

    pub fn devices(&self) -> Vec<InventoryDevice> {
        self.inner.state().mainline.devices.clone()
    }

    /// Every workspace (deleted ones excepted), in creation order.
    pub fn workspaces(&self) -> Vec<WorkspaceSnapshot> {
        let state = self.inner.state();
        let mut records: Vec<_> = state.workspaces.values().collect();
        records.sort_by_key(|w| w.seq);
        records
            .into_iter()
            .map(|w| WorkspaceSnapshot {
                id: w.id.clone(),
                display_name: w.display_name.clone(),
                description: w.description.clone(),
                state: w.state,
                responses: w.responses.clone(),
                cc_ids: w.cc_ids.clone(),
                last_build_id: w.last_build_id.clone(),
                needs_rebase: w.needs_rebase,
                pending_events: w.pending.len(),
            })
            .collect()
    }

    pub fn workspace(&self, id: &str) -> Option<WorkspaceSnapshot> {
        self.workspaces().into_iter().find(|w| w.id == id)
    }

    /// A workspace's configlet changes (`None` = removed there).
    pub fn workspace_configlets(&self, id: &str) -> BTreeMap<String, Option<ConfigletRecord>> {
        self.inner
            .state()
            .workspaces
            .get(id)
            .map(|w| w.overlay.configlets.clone())
            .unwrap_or_default()
    }

    pub fn change_controls(&self) -> Vec<ChangeControlSnapshot> {
        self.inner
            .state()
            .change_controls
            .values()
            .map(|c| ChangeControlSnapshot {
                id: c.id.clone(),
                name: c.name.clone(),
                notes: c.notes.clone(),
                device_ids: c.device_ids.clone(),
                workspace_id: c.workspace_id.clone(),
            })
            .collect()
    }

    pub fn build_details(
        &self,
        workspace_id: &str,
        build_id: &str,
    ) -> Vec<ws::WorkspaceBuildDetails> {
        self.inner
            .state()
            .workspaces
            .get(workspace_id)
            .and_then(|w| w.builds.get(build_id).cloned())
            .unwrap_or_default()
    }
}

/// Knob keys are short method names; `*` stays `*`.
fn method_key(method: &str) -> String {
    if method == "*" {
        method.to_owned()
    } else {
        short_method(method)
    }
}

async fn connect_tls(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name =
        rustls::pki_types::ServerName::try_from("localhost").map_err(std::io::Error::other)?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
}

/// All services of spec 12.1 behind one router; tonic answers any other
/// path with UNIMPLEMENTED.
fn routes(handler: Handler) -> Routes {
    // The transport enforces the scripted limits; tonic's own 4 MiB default
    // would answer with different wording.
    let max = usize::MAX;
    let h = || handler.clone();
    Routes::new(ws::workspace_service_server::WorkspaceServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(ws::workspace_config_service_server::WorkspaceConfigServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(ws::workspace_build_details_service_server::WorkspaceBuildDetailsServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(inventory_pb::device_service_server::DeviceServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(studio_pb::inputs_service_server::InputsServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(studio_pb::inputs_config_service_server::InputsConfigServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(configlet_pb::configlet_config_service_server::ConfigletConfigServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(configlet_pb::configlet_assignment_service_server::ConfigletAssignmentServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(configlet_pb::configlet_assignment_config_service_server::ConfigletAssignmentConfigServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(tag_pb::tag_service_server::TagServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(tag_pb::tag_config_service_server::TagConfigServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(tag_pb::tag_assignment_service_server::TagAssignmentServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(tag_pb::tag_assignment_config_service_server::TagAssignmentConfigServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(cc_pb::change_control_service_server::ChangeControlServiceServer::new(h()).max_decoding_message_size(max))
        .add_service(cc_pb::change_control_config_service_server::ChangeControlConfigServiceServer::new(h()).max_decoding_message_size(max))
        .prepare()
}
