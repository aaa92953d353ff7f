//! The fake's data (spec 13.2): the mainline, the workspaces with their
//! overlays, change controls and the open `Subscribe` streams, plus the
//! merged views and the "effective configuration" a build compares.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::SystemTime;

use serde_json::Value;
use tokio::sync::mpsc;
use tonic::Status;

use postern::workflows::cvproxy::proto::arista::{
    configlet::v1 as configlet, inventory::v1 as inventory, studio::v1 as studio, tag::v2 as tag,
    workspace::v1 as workspace,
};

use super::studio::{get_at_path, remove_at_path, set_at_path};

pub const TOPOLOGY_STUDIO: &str = "TOPOLOGY";
pub const STATIC_CONFIGLET_STUDIO: &str = "studio-static-configlet";
pub const ASSIGNMENT_ROOTS_KEY: &str = "configletAssignmentRoots";

/// A device of the inventory (`DeviceService`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryDevice {
    pub serial: String,
    pub hostname: String,
    /// `xx:xx:xx:xx:xx:xx`.
    pub mac: String,
    /// `STREAMING_STATUS_ACTIVE` when true, else `INACTIVE`.
    pub active: bool,
    pub model: String,
    pub software_version: String,
}

impl InventoryDevice {
    /// An active device with a MAC derived from the serial.
    pub fn new(serial: &str, hostname: &str) -> Self {
        let hash = serial.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let [_, a, b, c] = hash.to_be_bytes();
        InventoryDevice {
            serial: serial.to_owned(),
            hostname: hostname.to_owned(),
            mac: format!("50:00:00:{a:02x}:{b:02x}:{c:02x}"),
            active: true,
            model: "cEOSLab".to_owned(),
            software_version: "4.32.2F".to_owned(),
        }
    }

    pub fn mac(mut self, mac: &str) -> Self {
        self.mac = mac.to_owned();
        self
    }

    pub fn inactive(mut self) -> Self {
        self.active = false;
        self
    }

    pub(super) fn streaming_status(&self) -> inventory::StreamingStatus {
        if self.active {
            inventory::StreamingStatus::Active
        } else {
            inventory::StreamingStatus::Inactive
        }
    }
}

/// A static configlet. Fields are `None` when never set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigletRecord {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
    pub migrated_from: Option<String>,
}

impl ConfigletRecord {
    pub fn new(display_name: &str, body: &str) -> Self {
        ConfigletRecord {
            display_name: Some(display_name.to_owned()),
            body: Some(body.to_owned()),
            ..Default::default()
        }
    }
}

/// A configlet assignment (a container of the Static Configuration Studio).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerRecord {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub configlet_ids: Vec<String>,
    pub query: Option<String>,
    /// `configlet::v1::MatchPolicy` as its number.
    pub match_policy: i32,
    pub child_assignment_ids: Vec<String>,
}

/// A tag `(element type, label, value)` with its creator.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TagRecord {
    pub element_type: i32,
    pub label: String,
    pub value: String,
    pub creator: i32,
}

impl TagRecord {
    pub fn device(label: &str, value: &str, creator: tag::CreatorType) -> Self {
        TagRecord {
            element_type: tag::ElementType::Device as i32,
            label: label.to_owned(),
            value: value.to_owned(),
            creator: creator as i32,
        }
    }
}

/// A tag assignment `(element type, label, value, device, interface)` with
/// the creator of its tag.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TagAssignmentRecord {
    pub element_type: i32,
    pub label: String,
    pub value: String,
    pub device_id: String,
    pub interface_id: String,
    pub creator: i32,
}

impl TagAssignmentRecord {
    pub fn device(label: &str, value: &str, serial: &str, creator: tag::CreatorType) -> Self {
        TagAssignmentRecord {
            element_type: tag::ElementType::Device as i32,
            label: label.to_owned(),
            value: value.to_owned(),
            device_id: serial.to_owned(),
            interface_id: String::new(),
            creator: creator as i32,
        }
    }
}

pub(super) type TagIdent = (i32, String, String);
pub(super) type TagAssignmentIdent = (i32, String, String, String, String);

pub(super) fn tag_ident(key: &tag::TagKey) -> TagIdent {
    (
        key.element_type,
        key.label.clone().unwrap_or_default(),
        key.value.clone().unwrap_or_default(),
    )
}

pub(super) fn tag_assignment_ident(key: &tag::TagAssignmentKey) -> TagAssignmentIdent {
    (
        key.element_type,
        key.label.clone().unwrap_or_default(),
        key.value.clone().unwrap_or_default(),
        key.device_id.clone().unwrap_or_default(),
        key.interface_id.clone().unwrap_or_default(),
    )
}

#[derive(Clone, Debug, Default)]
pub(super) struct Mainline {
    pub devices: Vec<InventoryDevice>,
    pub studios: BTreeMap<String, Value>,
    pub configlets: BTreeMap<String, ConfigletRecord>,
    pub containers: BTreeMap<String, ContainerRecord>,
    pub tags: BTreeMap<TagIdent, i32>,
    pub tag_assignments: BTreeMap<TagAssignmentIdent, i32>,
}

/// A studio's inputs as changed in one workspace.
#[derive(Clone, Debug, Default)]
pub(super) struct StudioChange {
    /// The workspace's whole tree (a copy of mainline at the first change).
    pub tree: Value,
    /// Every path written or removed, in order.
    pub changed_paths: Vec<Vec<String>>,
    /// The `InputsConfig` records as written (for `InputsConfigService/GetAll`).
    pub records: Vec<studio::InputsConfig>,
}

/// A workspace's changes; `None` entries are removals.
#[derive(Clone, Debug, Default)]
pub(super) struct Overlay {
    pub configlets: BTreeMap<String, Option<ConfigletRecord>>,
    pub containers: BTreeMap<String, Option<ContainerRecord>>,
    pub studios: BTreeMap<String, StudioChange>,
    /// Records as written (key carries the workspace id), one per identity.
    pub tags: Vec<tag::TagConfig>,
    pub tag_assignments: Vec<tag::TagAssignmentConfig>,
}

/// Something that happens to a workspace after the call that caused it.
#[derive(Clone, Debug)]
pub(super) enum WorkspaceEvent {
    /// The new workspace becomes PENDING.
    Ready,
    /// The outcome of a request (`Request` as its number).
    Outcome { request_id: String, request: i32 },
}

#[derive(Debug)]
pub(super) struct WorkspaceRecord {
    pub id: String,
    /// Creation order.
    pub seq: u64,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub state: workspace::WorkspaceState,
    /// In arrival order of the requests.
    pub responses: Vec<(String, workspace::Response)>,
    pub cc_ids: Vec<String>,
    pub last_build_id: Option<String>,
    pub needs_rebase: bool,
    /// The last build succeeded and nothing changed since.
    pub built_ok: bool,
    pub created_at: SystemTime,
    pub last_modified_at: SystemTime,
    pub last_rebased_at: Option<SystemTime>,
    pub overlay: Overlay,
    pub builds: BTreeMap<String, Vec<workspace::WorkspaceBuildDetails>>,
    pub pending: VecDeque<WorkspaceEvent>,
}

impl WorkspaceRecord {
    pub fn new(id: &str, seq: u64) -> Self {
        let now = SystemTime::now();
        WorkspaceRecord {
            id: id.to_owned(),
            seq,
            display_name: None,
            description: None,
            state: workspace::WorkspaceState::Unspecified,
            responses: Vec::new(),
            cc_ids: Vec::new(),
            last_build_id: None,
            needs_rebase: false,
            built_ok: false,
            created_at: now,
            last_modified_at: now,
            last_rebased_at: None,
            overlay: Overlay::default(),
            builds: BTreeMap::new(),
            pending: VecDeque::new(),
        }
    }

    pub fn set_response(&mut self, request_id: &str, response: workspace::Response) {
        match self.responses.iter_mut().find(|(id, _)| id == request_id) {
            Some((_, existing)) => *existing = response,
            None => self.responses.push((request_id.to_owned(), response)),
        }
        self.last_modified_at = SystemTime::now();
    }

    /// A write changed the workspace: the last build no longer counts.
    pub fn touched(&mut self) {
        self.built_ok = false;
        self.last_modified_at = SystemTime::now();
    }

    /// The full `Workspace` message, as GetOne and Subscribe send it.
    pub fn to_proto(&self) -> workspace::Workspace {
        workspace::Workspace {
            key: Some(workspace::WorkspaceKey {
                workspace_id: Some(self.id.clone()),
            }),
            created_at: Some(self.created_at.into()),
            created_by: Some("fake-cloudvision".to_owned()),
            last_modified_at: Some(self.last_modified_at.into()),
            last_modified_by: Some("fake-cloudvision".to_owned()),
            state: self.state as i32,
            last_build_id: self.last_build_id.clone(),
            responses: Some(workspace::Responses {
                values: self.responses.iter().cloned().collect(),
            }),
            cc_ids: (!self.cc_ids.is_empty()).then(|| fmp_strings(&self.cc_ids)),
            needs_build: Some(!self.built_ok),
            last_rebased_at: self.last_rebased_at.map(Into::into),
            needs_rebase: Some(self.needs_rebase),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct ChangeControlRecord {
    pub id: String,
    pub name: Option<String>,
    pub notes: Option<String>,
    pub device_ids: Vec<String>,
    pub workspace_id: String,
    pub time: SystemTime,
}

/// An open `WorkspaceService/Subscribe` stream.
pub(super) struct Subscriber {
    /// Workspace ids it wants; `None` = every workspace.
    pub filter: Option<Vec<String>>,
    pub tx: mpsc::UnboundedSender<Result<workspace::WorkspaceStreamResponse, Status>>,
}

impl Subscriber {
    pub fn wants(&self, workspace_id: &str) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == workspace_id))
    }
}

/// Why a write into a workspace is refused.
pub(super) enum WriteRefusal {
    Missing(String),
    NotAvailable(String),
}

impl WriteRefusal {
    /// The per-item error text of the `SetSome` methods.
    pub fn message(&self) -> String {
        match self {
            WriteRefusal::Missing(id) => format!("workspace does not exist: {id}"),
            WriteRefusal::NotAvailable(id) => format!("workspace status is not available: {id}"),
        }
    }

    /// The error of the unary `Set` methods.
    pub fn status(&self) -> Status {
        match self {
            WriteRefusal::Missing(_) => Status::not_found(self.message()),
            WriteRefusal::NotAvailable(_) => Status::failed_precondition(self.message()),
        }
    }
}

#[derive(Default)]
pub(super) struct State {
    pub mainline: Mainline,
    pub workspaces: BTreeMap<String, WorkspaceRecord>,
    pub next_seq: u64,
    pub change_controls: BTreeMap<String, ChangeControlRecord>,
    pub subscribers: Vec<Subscriber>,
}

impl State {
    /// The workspace a write goes to; it must exist and be PENDING.
    pub fn writable(
        &mut self,
        workspace_id: Option<&str>,
    ) -> Result<&mut WorkspaceRecord, WriteRefusal> {
        let id = workspace_id.unwrap_or_default();
        match self.workspaces.get_mut(id) {
            None => Err(WriteRefusal::Missing(id.to_owned())),
            Some(ws) if ws.state != workspace::WorkspaceState::Pending => {
                Err(WriteRefusal::NotAvailable(id.to_owned()))
            }
            Some(ws) => Ok(ws),
        }
    }

    /// The overlay of a workspace id: `None` for mainline (`""` or absent);
    /// `Err(())` for an unknown workspace.
    pub fn overlay_of(&self, workspace_id: Option<&str>) -> Result<Option<&Overlay>, ()> {
        match workspace_id.unwrap_or_default() {
            "" => Ok(None),
            id => self
                .workspaces
                .get(id)
                .map(|ws| Some(&ws.overlay))
                .ok_or(()),
        }
    }

    /// Sends the workspace's current state to every subscriber that wants it,
    /// dropping the streams the client has gone from.
    pub fn announce(&mut self, workspace_id: &str) {
        let Some(ws) = self.workspaces.get(workspace_id) else {
            return;
        };
        let message = workspace::WorkspaceStreamResponse {
            value: Some(ws.to_proto()),
            time: Some(SystemTime::now().into()),
            r#type: postern::workflows::cvproxy::proto::arista::subscriptions::Operation::Updated
                as i32,
        };
        self.subscribers
            .retain(|s| !s.wants(workspace_id) || s.tx.send(Ok(message.clone())).is_ok());
    }
}

// ---------------------------------------------------------------------------
// Merged views (mainline with a workspace's overlay on top).

pub(super) fn configlets_view(
    main: &Mainline,
    overlay: Option<&Overlay>,
) -> BTreeMap<String, ConfigletRecord> {
    let mut view = main.configlets.clone();
    if let Some(overlay) = overlay {
        for (id, change) in &overlay.configlets {
            match change {
                Some(record) => view.insert(id.clone(), record.clone()),
                None => view.remove(id),
            };
        }
    }
    view
}

pub(super) fn containers_view(
    main: &Mainline,
    overlay: Option<&Overlay>,
) -> BTreeMap<String, ContainerRecord> {
    let mut view = main.containers.clone();
    if let Some(overlay) = overlay {
        for (id, change) in &overlay.containers {
            match change {
                Some(record) => view.insert(id.clone(), record.clone()),
                None => view.remove(id),
            };
        }
    }
    view
}

pub(super) fn studio_view<'a>(
    main: &'a Mainline,
    overlay: Option<&'a Overlay>,
    studio_id: &str,
) -> Option<&'a Value> {
    match overlay.and_then(|o| o.studios.get(studio_id)) {
        Some(change) => Some(&change.tree),
        None => main.studios.get(studio_id),
    }
}

pub(super) fn tags_view(main: &Mainline, overlay: Option<&Overlay>) -> BTreeMap<TagIdent, i32> {
    let mut view = main.tags.clone();
    for record in overlay.map(|o| o.tags.as_slice()).unwrap_or_default() {
        let ident = tag_ident(record.key.as_ref().unwrap_or(&Default::default()));
        if record.remove == Some(true) {
            view.remove(&ident);
        } else {
            view.entry(ident).or_insert(tag::CreatorType::User as i32);
        }
    }
    view
}

pub(super) fn tag_assignments_view(
    main: &Mainline,
    overlay: Option<&Overlay>,
) -> BTreeMap<TagAssignmentIdent, i32> {
    let tags = tags_view(main, overlay);
    let mut view = main.tag_assignments.clone();
    for record in overlay
        .map(|o| o.tag_assignments.as_slice())
        .unwrap_or_default()
    {
        let ident = tag_assignment_ident(record.key.as_ref().unwrap_or(&Default::default()));
        if record.remove == Some(true) {
            view.remove(&ident);
        } else {
            let creator = tags
                .get(&(ident.0, ident.1.clone(), ident.2.clone()))
                .copied()
                .unwrap_or(tag::CreatorType::User as i32);
            view.entry(ident).or_insert(creator);
        }
    }
    view
}

// ---------------------------------------------------------------------------
// Effective configuration of a device.

/// The configlets `(id, body)` that apply to device `serial`: walk the
/// containers from the roots listed in the Static Configuration Studio's
/// `configletAssignmentRoots`, into every container whose query matches the
/// device (`device:*` or `device:<serial>`).
pub(super) fn effective_config(
    main: &Mainline,
    overlay: Option<&Overlay>,
    serial: &str,
) -> Vec<(String, String)> {
    let containers = containers_view(main, overlay);
    let configlets = configlets_view(main, overlay);
    let roots: Vec<String> = studio_view(main, overlay, STATIC_CONFIGLET_STUDIO)
        .and_then(|tree| tree.get(ASSIGNMENT_ROOTS_KEY))
        .and_then(Value::as_array)
        .map(|roots| {
            roots
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();

    struct Walk<'a> {
        containers: &'a BTreeMap<String, ContainerRecord>,
        configlets: &'a BTreeMap<String, ConfigletRecord>,
        serial: &'a str,
        visited: BTreeSet<String>,
        out: Vec<(String, String)>,
    }
    impl Walk<'_> {
        /// True when the container matched the device.
        fn container(&mut self, id: &str) -> bool {
            if !self.visited.insert(id.to_owned()) {
                return false;
            }
            let Some(container) = self.containers.get(id) else {
                return false;
            };
            if !query_matches(container.query.as_deref(), self.serial) {
                return false;
            }
            for configlet_id in &container.configlet_ids {
                if let Some(configlet) = self.configlets.get(configlet_id) {
                    self.out.push((
                        configlet_id.clone(),
                        configlet.body.clone().unwrap_or_default(),
                    ));
                }
            }
            for child in &container.child_assignment_ids {
                if self.container(child)
                    && container.match_policy == configlet::MatchPolicy::MatchFirst as i32
                {
                    break;
                }
            }
            true
        }
    }
    let mut walk = Walk {
        containers: &containers,
        configlets: &configlets,
        serial,
        visited: BTreeSet::new(),
        out: Vec::new(),
    };
    for root in &roots {
        walk.container(root);
    }
    walk.out
}

fn query_matches(query: Option<&str>, serial: &str) -> bool {
    match query.and_then(|q| q.trim().strip_prefix("device:")) {
        Some("*") => true,
        Some(device) => device == serial,
        None => false,
    }
}

/// Serials whose effective configuration in the workspace differs from
/// mainline: inventory order first, then devices known only from queries.
pub(super) fn changed_devices(main: &Mainline, overlay: &Overlay) -> Vec<String> {
    let mut candidates: Vec<String> = main.devices.iter().map(|d| d.serial.clone()).collect();
    for view in [
        containers_view(main, None),
        containers_view(main, Some(overlay)),
    ] {
        for container in view.values() {
            if let Some(serial) = container
                .query
                .as_deref()
                .and_then(|q| q.trim().strip_prefix("device:"))
                && serial != "*"
                && !candidates.iter().any(|c| c == serial)
            {
                candidates.push(serial.to_owned());
            }
        }
    }
    candidates
        .into_iter()
        .filter(|serial| {
            effective_config(main, Some(overlay), serial) != effective_config(main, None, serial)
        })
        .collect()
}

/// Applies a submitted workspace's overlay to mainline.
pub(super) fn merge_into_mainline(main: &mut Mainline, overlay: &Overlay) {
    let tag_assignments = tag_assignments_view(main, Some(overlay));
    main.tags = tags_view(main, Some(overlay));
    main.tag_assignments = tag_assignments;
    main.configlets = configlets_view(main, Some(overlay));
    main.containers = containers_view(main, Some(overlay));
    for (studio_id, change) in &overlay.studios {
        let tree = main
            .studios
            .entry(studio_id.clone())
            .or_insert_with(|| Value::Object(Default::default()));
        for path in &change.changed_paths {
            match get_at_path(&change.tree, path) {
                // The paths come from writes the fake accepted, so they fit.
                Some(value) => {
                    let _ = set_at_path(tree, path, value.clone());
                }
                None => remove_at_path(tree, path),
            }
        }
    }
}

pub(super) fn fmp_strings(
    values: &[String],
) -> postern::workflows::cvproxy::proto::fmp::RepeatedString {
    postern::workflows::cvproxy::proto::fmp::RepeatedString {
        values: values.to_vec(),
    }
}

/// Whether an optional filter field accepts `value` (absent = any).
pub(super) fn field_matches(filter: &Option<String>, value: &str) -> bool {
    filter.as_deref().is_none_or(|f| f == value)
}

/// Whether an enum filter field accepts `value` (0 = any).
pub(super) fn enum_matches(filter: i32, value: i32) -> bool {
    filter == 0 || filter == value
}

pub(super) fn now() -> Option<prost_types::Timestamp> {
    Some(SystemTime::now().into())
}
