//! Static Configuration Studio containers (spec 6.2 S20b–S22, 9.2): which
//! device containers to write and the root container's new child list.

/// A container as CloudVision returned it (S20b).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExistingContainer {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub query: Option<String>,
    pub configlet_ids: Vec<String>,
}

/// The container a device should have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedContainer {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub query: String,
    pub configlet_ids: Vec<String>,
}

/// The existing containers by id, the last one streamed per id winning,
/// in order of first appearance.
fn by_id(existing: &[ExistingContainer]) -> Vec<(&str, &ExistingContainer)> {
    let mut out: Vec<(&str, &ExistingContainer)> = Vec::new();
    for c in existing {
        let Some(id) = c.id.as_deref() else { continue };
        match out.iter_mut().find(|(i, _)| *i == id) {
            Some(slot) => slot.1 = c,
            None => out.push((id, c)),
        }
    }
    out
}

/// S21: the wanted containers that are missing or differ in display name,
/// description, query or configlet ids (request order, one per id).
pub fn containers_to_write(
    wanted: &[WantedContainer],
    existing: &[ExistingContainer],
) -> Vec<WantedContainer> {
    let existing = by_id(existing);
    let mut out: Vec<WantedContainer> = Vec::new();
    for w in wanted {
        let current = existing.iter().find(|(id, _)| *id == w.id).map(|(_, c)| *c);
        let same = current.is_some_and(|c| {
            c.display_name.as_deref() == Some(w.display_name.as_str())
                && c.description.as_deref() == Some(w.description.as_str())
                && c.query.as_deref() == Some(w.query.as_str())
                && c.configlet_ids == w.configlet_ids
        });
        if !same && !out.iter().any(|o| o.id == w.id) {
            out.push(w.clone());
        }
    }
    out
}

/// S22: `None` when every written id is already a child found by S20b;
/// otherwise the root's new children: the found children in the root's
/// order, then any other found container, then the new ids in request
/// order. Children listed on the root that S20b did not return are dropped.
pub fn root_children_update(
    written_ids: &[String],
    root_children: &[String],
    existing: &[ExistingContainer],
) -> Option<Vec<String>> {
    let found: Vec<&str> = by_id(existing).into_iter().map(|(id, _)| id).collect();
    if written_ids.iter().all(|id| found.contains(&id.as_str())) {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut push = |id: &str| {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    };
    for child in root_children {
        if found.contains(&child.as_str()) {
            push(child);
        }
    }
    for id in &found {
        push(id);
    }
    for id in written_ids {
        push(id);
    }
    Some(out)
}
