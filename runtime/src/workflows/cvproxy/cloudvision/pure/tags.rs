//! Device tags (spec 6.2 S8–S13b, 9.3): replaying workspace records over
//! mainline, and which tags and assignments to create or remove.

/// Element types pyavd distinguishes (`device`, `interface`, else `unspecified`).
pub fn mapped_element_type(raw: i32) -> i32 {
    match raw {
        1 | 2 => raw,
        _ => 0,
    }
}

pub const ELEMENT_TYPE_DEVICE: i32 = 1;

/// A tag key as read from CloudVision (raw element type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRecord {
    pub element_type: i32,
    pub label: Option<String>,
    pub value: Option<String>,
}

/// A tag assignment key as read from CloudVision (raw fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentRecord {
    pub element_type: i32,
    pub label: Option<String>,
    pub value: Option<String>,
    pub device_id: Option<String>,
    pub interface_id: Option<String>,
}

impl AssignmentRecord {
    /// pyavd's `CVTagAssignment.from_api` identity: element type mapped,
    /// interface id cut at the last `@`. Postern also reads a present-empty
    /// interface id as none: a device assignment has no interface, and
    /// telling `""` from absent would remove the very assignment it re-adds.
    pub fn identity(&self) -> AssignmentRecord {
        AssignmentRecord {
            element_type: mapped_element_type(self.element_type),
            label: self.label.clone(),
            value: self.value.clone(),
            device_id: self.device_id.clone(),
            interface_id: self
                .interface_id
                .as_deref()
                .map(|i| i.rsplit_once('@').map_or(i, |(head, _)| head))
                .filter(|i| !i.is_empty())
                .map(str::to_owned),
        }
    }
}

/// Replay workspace records over mainline (`_upsert_item_in_list` /
/// `_remove_item_from_list`): a removal drops the first equal item, an
/// upsert replaces it or appends.
pub fn replay<T: PartialEq>(mut mainline: Vec<T>, records: Vec<(T, bool)>) -> Vec<T> {
    for (item, remove) in records {
        let pos = mainline.iter().position(|existing| *existing == item);
        match (pos, remove) {
            (Some(pos), true) => {
                mainline.remove(pos);
            }
            (None, true) => {}
            (Some(pos), false) => mainline[pos] = item,
            (None, false) => mainline.push(item),
        }
    }
    mainline
}

/// One device's wanted tags (serial as resolved on CloudVision).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceTags {
    pub serial: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// What S10, S13 and S13b send, each in request order without duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagPlan {
    /// `(label, value)` of device tags to create (S10).
    pub tags_to_create: Vec<(String, String)>,
    /// Assignments to create (S13).
    pub assignments_to_create: Vec<AssignmentRecord>,
    /// Assignments to remove (S13b), with the key fields to send.
    pub assignments_to_remove: Vec<AssignmentRecord>,
}

/// The wanted device tags `(label, value)`, request order, no duplicates.
pub fn wanted_tags(devices: &[DeviceTags]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (label, value) in devices.iter().flat_map(|d| d.tags.iter()) {
        if !out.iter().any(|(l, v)| l == label && v == value) {
            out.push((label.clone(), value.clone()));
        }
    }
    out
}

/// The wanted device tag assignments, request order, no duplicates.
pub fn wanted_assignments(devices: &[DeviceTags]) -> Vec<AssignmentRecord> {
    let mut out: Vec<AssignmentRecord> = Vec::new();
    for device in devices {
        for (label, value) in &device.tags {
            let a = AssignmentRecord {
                element_type: ELEMENT_TYPE_DEVICE,
                label: Some(label.clone()),
                value: Some(value.clone()),
                device_id: device.serial.clone(),
                interface_id: None,
            };
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// S10: wanted tags missing from the existing (replayed) tags.
pub fn tags_to_create(devices: &[DeviceTags], existing: &[TagRecord]) -> Vec<(String, String)> {
    wanted_tags(devices)
        .into_iter()
        .filter(|(label, value)| {
            !existing.iter().any(|t| {
                mapped_element_type(t.element_type) == ELEMENT_TYPE_DEVICE
                    && t.label.as_deref() == Some(label.as_str())
                    && t.value.as_deref() == Some(value.as_str())
            })
        })
        .collect()
}

/// S13 and S13b from the existing (replayed) assignments. Removal looks only
/// at devices with at least one tag in the request: with `strict` every
/// assignment there that is not wanted; otherwise those whose label is among
/// the labels of all wanted assignments (one global set) and not wanted.
pub fn assignment_changes(
    devices: &[DeviceTags],
    existing: &[AssignmentRecord],
    strict: bool,
) -> (Vec<AssignmentRecord>, Vec<AssignmentRecord>) {
    let wanted = wanted_assignments(devices);
    let existing: Vec<AssignmentRecord> = existing.iter().map(AssignmentRecord::identity).collect();
    let to_create: Vec<AssignmentRecord> = wanted
        .iter()
        .filter(|a| !existing.contains(a))
        .cloned()
        .collect();
    let targeted: Vec<&str> = devices
        .iter()
        .filter(|d| !d.tags.is_empty())
        .filter_map(|d| d.serial.as_deref())
        .collect();
    let wanted_labels: Vec<&str> = wanted.iter().filter_map(|a| a.label.as_deref()).collect();
    let mut to_remove: Vec<AssignmentRecord> = Vec::new();
    for a in &existing {
        let on_targeted = a
            .device_id
            .as_deref()
            .is_some_and(|d| targeted.contains(&d));
        if !on_targeted || wanted.contains(a) || to_remove.contains(a) {
            continue;
        }
        let label_matches = a
            .label
            .as_deref()
            .is_some_and(|l| wanted_labels.contains(&l));
        if strict || label_matches {
            to_remove.push(a.clone());
        }
    }
    (to_create, to_remove)
}

/// The whole plan for one attempt.
pub fn tag_plan(
    devices: &[DeviceTags],
    existing_tags: &[TagRecord],
    existing_assignments: &[AssignmentRecord],
    strict: bool,
) -> TagPlan {
    let (assignments_to_create, assignments_to_remove) =
        assignment_changes(devices, existing_assignments, strict);
    TagPlan {
        tags_to_create: tags_to_create(devices, existing_tags),
        assignments_to_create,
        assignments_to_remove,
    }
}
