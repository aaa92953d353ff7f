//! `InputsService` and `InputsConfigService` (spec 13.3 "Studio inputs"):
//! studio inputs as JSON trees, per-workspace copies with the list of changed
//! paths, and the path arithmetic the writes use.

use serde_json::{Map, Value};
use tonic::{Request, Response, Status};

use postern::workflows::cvproxy::proto::arista::{studio::v1 as studio, subscriptions::Operation};
use studio::inputs_config_service_server::InputsConfigService;
use studio::inputs_service_server::InputsService;

use super::state::{State, StudioChange, WriteRefusal, field_matches, fmp_strings, now};
use super::{BoxStream, Handler, stream_of};

#[tonic::async_trait]
impl InputsService for Handler {
    async fn get_one(
        &self,
        request: Request<studio::InputsRequest>,
    ) -> Result<Response<studio::InputsResponse>, Status> {
        let not_found = || Status::not_found("resource not found");
        let key = request.into_inner().key.ok_or_else(not_found)?;
        let studio_id = key.studio_id.clone().unwrap_or_default();
        let path = key
            .path
            .as_ref()
            .map(|p| p.values.clone())
            .unwrap_or_default();
        let state = self.inner.state();
        let tree = match key.workspace_id.as_deref().unwrap_or_default() {
            "" => state.mainline.studios.get(&studio_id),
            id => {
                let workspace = state.workspaces.get(id).ok_or_else(not_found)?;
                let change = workspace
                    .overlay
                    .studios
                    .get(&studio_id)
                    .filter(|c| c.changed_paths.iter().any(|p| overlaps(p, &path)))
                    .ok_or_else(not_found)?;
                Some(&change.tree)
            }
        };
        let value = tree
            .and_then(|tree| get_at_path(tree, &path))
            .ok_or_else(not_found)?;
        Ok(Response::new(studio::InputsResponse {
            value: Some(studio::Inputs {
                key: Some(key),
                last_modified_at: now(),
                inputs: Some(value.to_string()),
                ..Default::default()
            }),
            time: now(),
        }))
    }

    type GetAllStream = BoxStream<studio::InputsStreamResponse>;

    async fn get_all(
        &self,
        request: Request<studio::InputsStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let mut filters: Vec<studio::InputsKey> = request
            .into_inner()
            .partial_eq_filter
            .into_iter()
            .map(|f| f.key.unwrap_or_default())
            .collect();
        if filters.is_empty() {
            filters.push(studio::InputsKey::default());
        }
        let state = self.inner.state();
        let mut out: Vec<studio::Inputs> = Vec::new();
        for filter in filters {
            let workspace_id = filter.workspace_id.clone().unwrap_or_default();
            // Mainline, or only the studios this workspace changed (merged trees).
            let trees: Vec<(&String, &Value)> = if workspace_id.is_empty() {
                state.mainline.studios.iter().collect()
            } else {
                match state.workspaces.get(&workspace_id) {
                    Some(ws) => ws
                        .overlay
                        .studios
                        .iter()
                        .map(|(id, c)| (id, &c.tree))
                        .collect(),
                    None => Vec::new(),
                }
            };
            let wanted_path = filter.path.as_ref().map(|p| p.values.clone());
            for (studio_id, tree) in trees {
                if !field_matches(&filter.studio_id, studio_id) {
                    continue;
                }
                let pieces = match &wanted_path {
                    Some(path) if !path.is_empty() => get_at_path(tree, path)
                        .map(|value| vec![(path.clone(), value.to_string())])
                        .unwrap_or_default(),
                    _ => split(tree),
                };
                for (path, inputs) in pieces {
                    let key = studio::InputsKey {
                        studio_id: Some(studio_id.clone()),
                        workspace_id: Some(workspace_id.clone()),
                        path: Some(fmp_strings(&path)),
                    };
                    if !out.iter().any(|i| i.key.as_ref() == Some(&key)) {
                        out.push(studio::Inputs {
                            key: Some(key),
                            last_modified_at: now(),
                            inputs: Some(inputs),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        let out = out
            .into_iter()
            .map(|value| studio::InputsStreamResponse {
                value: Some(value),
                time: now(),
                r#type: Operation::Initial as i32,
            })
            .collect();
        Ok(Response::new(stream_of(out)))
    }
}

#[tonic::async_trait]
impl InputsConfigService for Handler {
    async fn set(
        &self,
        request: Request<studio::InputsConfigSetRequest>,
    ) -> Result<Response<studio::InputsConfigSetResponse>, Status> {
        let value = request
            .into_inner()
            .value
            .ok_or_else(|| Status::invalid_argument("value is required"))?;
        let mut state = self.inner.state();
        write(&mut state, &value).map_err(|refusal| match refusal {
            Refusal::Write(w) => w.status(),
            Refusal::Invalid(message) => Status::invalid_argument(message),
        })?;
        Ok(Response::new(studio::InputsConfigSetResponse {
            value: Some(value),
            time: now(),
        }))
    }

    type SetSomeStream = BoxStream<studio::InputsConfigSetSomeResponse>;

    async fn set_some(
        &self,
        request: Request<studio::InputsConfigSetSomeRequest>,
    ) -> Result<Response<Self::SetSomeStream>, Status> {
        let mut state = self.inner.state();
        let mut out = Vec::new();
        for value in request.into_inner().values {
            if let Err(refusal) = write(&mut state, &value) {
                out.push(studio::InputsConfigSetSomeResponse {
                    key: value.key.clone(),
                    error: refusal.message(),
                });
            }
        }
        Ok(Response::new(stream_of(out)))
    }

    type GetAllStream = BoxStream<studio::InputsConfigStreamResponse>;

    async fn get_all(
        &self,
        request: Request<studio::InputsConfigStreamRequest>,
    ) -> Result<Response<Self::GetAllStream>, Status> {
        let filters = request.into_inner().partial_eq_filter;
        let state = self.inner.state();
        let mut out = Vec::new();
        for filter in &filters {
            let key = filter.key.clone().unwrap_or_default();
            let Some(workspace) = key
                .workspace_id
                .as_deref()
                .filter(|id| !id.is_empty())
                .and_then(|id| state.workspaces.get(id))
            else {
                continue;
            };
            for (studio_id, change) in &workspace.overlay.studios {
                if !field_matches(&key.studio_id, studio_id) {
                    continue;
                }
                for record in &change.records {
                    let record_path = record.key.as_ref().and_then(|k| k.path.as_ref());
                    let path_ok = key.path.is_none()
                        || key.path.as_ref().map(|p| &p.values) == record_path.map(|p| &p.values);
                    let remove_ok = filter
                        .remove
                        .is_none_or(|r| record.remove.unwrap_or(false) == r);
                    if path_ok && remove_ok && !out.contains(record) {
                        out.push(record.clone());
                    }
                }
            }
        }
        let out = out
            .into_iter()
            .map(|value| studio::InputsConfigStreamResponse {
                value: Some(value),
                time: now(),
                r#type: Operation::Initial as i32,
            })
            .collect();
        Ok(Response::new(stream_of(out)))
    }
}

enum Refusal {
    Write(WriteRefusal),
    Invalid(String),
}

impl Refusal {
    fn message(&self) -> String {
        match self {
            Refusal::Write(w) => w.message(),
            Refusal::Invalid(message) => message.clone(),
        }
    }
}

/// Sets (or removes) the value at the path in the workspace's copy of the
/// studio inputs and records the path.
fn write(state: &mut State, config: &studio::InputsConfig) -> Result<(), Refusal> {
    let key = config
        .key
        .as_ref()
        .ok_or_else(|| Refusal::Invalid("key is required".to_owned()))?;
    let studio_id = key
        .studio_id
        .clone()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Refusal::Invalid("studio ID cannot be empty".to_owned()))?;
    let path = key
        .path
        .as_ref()
        .map(|p| p.values.clone())
        .unwrap_or_default();
    let value = if config.remove == Some(true) {
        None
    } else {
        let text = config
            .inputs
            .as_deref()
            .ok_or_else(|| Refusal::Invalid("inputs are required".to_owned()))?;
        Some(
            serde_json::from_str::<Value>(text)
                .map_err(|e| Refusal::Invalid(format!("inputs are not valid JSON: {e}")))?,
        )
    };
    let mainline_tree = state.mainline.studios.get(&studio_id).cloned();
    let workspace = state
        .writable(key.workspace_id.as_deref())
        .map_err(Refusal::Write)?;
    let mut tree = match workspace.overlay.studios.get(&studio_id) {
        Some(change) => change.tree.clone(),
        None => mainline_tree.unwrap_or_else(|| Value::Object(Map::new())),
    };
    match value {
        Some(value) => set_at_path(&mut tree, &path, value).map_err(Refusal::Invalid)?,
        None => remove_at_path(&mut tree, &path),
    }
    let change = workspace
        .overlay
        .studios
        .entry(studio_id)
        .or_insert_with(StudioChange::default);
    change.tree = tree;
    change.changed_paths.push(path);
    change.records.push(config.clone());
    workspace.touched();
    Ok(())
}

/// One `(path, JSON)` piece per top-level key, as CloudVision streams a tree.
fn split(tree: &Value) -> Vec<(Vec<String>, String)> {
    match tree {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (vec![k.clone()], v.to_string()))
            .collect(),
        Value::Null => Vec::new(),
        other => vec![(Vec::new(), other.to_string())],
    }
}

/// One path is a prefix of the other.
fn overlaps(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

fn is_index(element: &str) -> bool {
    !element.is_empty() && element.bytes().all(|b| b.is_ascii_digit())
}

/// How far past its end a write may extend a list (a guard against a
/// client-sent index that would allocate without bound).
const MAX_LIST_EXTENSION: usize = 10_000;

pub(super) fn get_at_path<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(root, |node, element| match node {
        Value::Object(map) => map.get(element),
        Value::Array(list) if is_index(element) => {
            element.parse::<usize>().ok().and_then(|i| list.get(i))
        }
        _ => None,
    })
}

/// Sets `value` at `path`, creating missing object or list levels (digit
/// elements index lists, which are extended with nulls as needed).
pub(super) fn set_at_path(root: &mut Value, path: &[String], value: Value) -> Result<(), String> {
    let mut node = root;
    for element in path {
        node = child_mut(node, element)?;
    }
    *node = value;
    Ok(())
}

fn child_mut<'a>(node: &'a mut Value, element: &str) -> Result<&'a mut Value, String> {
    if node.is_null() {
        *node = if is_index(element) {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        };
    }
    match node {
        Value::Object(map) => Ok(map.entry(element.to_owned()).or_insert(Value::Null)),
        Value::Array(list) => {
            let index = element
                .parse::<usize>()
                .ok()
                .filter(|_| is_index(element))
                .ok_or_else(|| format!("path element {element:?} does not index a list"))?;
            if index >= list.len() {
                if index - list.len() > MAX_LIST_EXTENSION {
                    return Err(format!("list index {index} is out of range"));
                }
                list.resize(index + 1, Value::Null);
            }
            Ok(&mut list[index])
        }
        _ => Err(format!(
            "path element {element:?} is below a value that is not an object or a list"
        )),
    }
}

/// Removes the value at `path` (the whole tree for an empty path).
pub(super) fn remove_at_path(root: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        *root = Value::Object(Map::new());
        return;
    };
    let mut node = root;
    for element in parents {
        let next = match node {
            Value::Object(map) => map.get_mut(element),
            Value::Array(list) if is_index(element) => {
                element.parse::<usize>().ok().and_then(|i| list.get_mut(i))
            }
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return,
        }
    }
    match node {
        Value::Object(map) => {
            map.remove(last);
        }
        Value::Array(list) if is_index(last) => {
            if let Some(index) = last.parse::<usize>().ok().filter(|&i| i < list.len()) {
                list.remove(index);
            }
        }
        _ => {}
    }
}
