//! The Inventory & Topology Studio (`TOPOLOGY`) checks of spec 6.2 S5–S7d:
//! which devices the studio lists, which need an update, and the `SetSome`
//! values that add or update them. Errors are the Python exception
//! messages pyavd would raise on odd input shapes (they become D20 texts).

use crate::python::json::{self as pyjson, Json};

/// A device entry of the topology studio, as pyavd reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct TopologyEntry {
    pub device_id: String,
    /// `inputs.device.hostname` (`None` when missing).
    pub hostname: Option<Json>,
    /// `inputs.device.macAddress` (`None` when missing).
    pub mac_address: Option<Json>,
}

/// A device found in the inventory: what the studio should hold for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedTopology {
    pub serial: Option<String>,
    pub hostname: String,
    pub mac_address: Option<String>,
}

/// `value.get(key, <default>)` where `value` may be any JSON: `Ok(None)` for
/// a missing key, the Python `AttributeError` message for a non-dict.
fn py_get<'a>(value: &'a Json, key: &str) -> Result<Option<&'a Json>, String> {
    match value {
        Json::Object(_) => Ok(value.get(key)),
        other => Err(format!(
            "'{}' object has no attribute 'get'",
            other.py_type_name()
        )),
    }
}

/// `value.get(key, {})`: the default is an empty dict.
fn get_or_empty_dict(value: &Json, key: &str) -> Result<Json, String> {
    Ok(py_get(value, key)?
        .cloned()
        .unwrap_or(Json::Object(Vec::new())))
}

/// Python iteration: a list yields its items; a dict or string yields
/// strings (never device entries); anything else is not iterable.
enum Items<'a> {
    List(&'a [Json]),
    Strings,
}

fn py_iter(value: &Json) -> Result<Items<'_>, String> {
    match value {
        Json::Array(items) => Ok(Items::List(items)),
        Json::Object(_) | Json::Str(_) => Ok(Items::Strings),
        other => Err(format!("'{}' object is not iterable", other.py_type_name())),
    }
}

/// `str(entry.get("tags", {}).get("query", "")).removeprefix("device:")`.
fn entry_device_id(entry: &Json) -> Result<String, String> {
    let tags = get_or_empty_dict(entry, "tags")?;
    let query = py_get(&tags, "query")?.map_or_else(String::new, Json::py_str);
    Ok(query.strip_prefix("device:").unwrap_or(&query).to_owned())
}

/// `studio_inputs.get("devices", [])`.
fn devices_of(tree: &Json) -> Json {
    tree.get("devices")
        .cloned()
        .unwrap_or(Json::Array(Vec::new()))
}

/// pyavd `get_topology_studio_inputs`: the studio's devices whose id is one
/// of `device_ids`, in studio order.
pub fn topology_entries(
    tree: &Json,
    device_ids: &[Option<String>],
) -> Result<Vec<TopologyEntry>, String> {
    let devices = devices_of(tree);
    let Items::List(items) = py_iter(&devices)? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in items {
        if !matches!(entry, Json::Object(_)) {
            continue;
        }
        let device_id = entry_device_id(entry)?;
        if !device_ids.is_empty()
            && !device_ids
                .iter()
                .any(|id| id.as_deref() == Some(device_id.as_str()))
        {
            continue;
        }
        let inputs = get_or_empty_dict(entry, "inputs")?;
        let device_info = get_or_empty_dict(&inputs, "device")?;
        let interfaces = py_get(&device_info, "interfaces")?
            .cloned()
            .unwrap_or(Json::Array(Vec::new()));
        // pyavd reads every interface too; only its failures matter here.
        if let Items::List(list) = py_iter(&interfaces)? {
            for interface in list {
                let tags = get_or_empty_dict(interface, "tags")?;
                py_get(&tags, "query")?;
                let inputs = get_or_empty_dict(interface, "inputs")?;
                let inner = get_or_empty_dict(&inputs, "interface")?;
                py_get(&inner, "neighborDeviceId")?;
                py_get(&inner, "neighborInterfaceName")?;
            }
        } else {
            // Iterating a dict or string yields strings: `.get` fails on them.
            if interfaces.py_len().unwrap_or(0) > 0 {
                return Err("'str' object has no attribute 'get'".to_owned());
            }
        }
        found.push(TopologyEntry {
            device_id,
            hostname: py_get(&device_info, "hostname")?.cloned(),
            mac_address: py_get(&device_info, "macAddress")?.cloned(),
        });
    }
    Ok(found)
}

/// Python equality of an optional string with an optional JSON value
/// (`None` and JSON `null` are both `None`).
fn same(ours: Option<&str>, theirs: Option<&Json>) -> bool {
    match (ours, theirs) {
        (None, None | Some(Json::Null)) => true,
        (Some(a), Some(Json::Str(b))) => a == b,
        _ => false,
    }
}

/// The devices whose studio entry is missing or differs in hostname or MAC
/// (the last entry per device id counts). Input and output in request order,
/// duplicates removed.
pub fn devices_needing_update(
    wanted: &[WantedTopology],
    entries: &[TopologyEntry],
) -> Vec<WantedTopology> {
    let mut out: Vec<WantedTopology> = Vec::new();
    for device in wanted {
        if out.contains(device) {
            continue;
        }
        let entry = device
            .serial
            .as_deref()
            .and_then(|serial| entries.iter().rev().find(|e| e.device_id == serial));
        let up_to_date = entry.is_some_and(|e| {
            same(Some(&device.hostname), e.hostname.as_ref())
                && same(device.mac_address.as_deref(), e.mac_address.as_ref())
        });
        if !up_to_date {
            out.push(device.clone());
        }
    }
    out
}

/// One `InputsConfig` of S7d: the path and the JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologySetValue {
    pub path: Vec<String>,
    pub inputs: String,
}

/// pyavd `set_topology_studio_inputs`: update listed devices in place
/// (`["devices", "<i>", "inputs", "device"]`), then append the others
/// (`["devices", "<len+k>"]`).
pub fn topology_set_values(
    tree: &Json,
    updates: &[WantedTopology],
) -> Result<Vec<TopologySetValue>, String> {
    // device id -> (hostname, mac); later duplicates of an id replace earlier ones.
    let mut by_id: Vec<(Option<String>, String, Option<String>)> = Vec::new();
    for u in updates {
        match by_id.iter_mut().find(|(id, _, _)| *id == u.serial) {
            Some(slot) => {
                slot.1 = u.hostname.clone();
                slot.2 = u.mac_address.clone();
            }
            None => by_id.push((u.serial.clone(), u.hostname.clone(), u.mac_address.clone())),
        }
    }
    let mac_json =
        |mac: &Option<String>| mac.as_ref().map_or(Json::Null, |m| Json::str(m.as_str()));
    let devices = devices_of(tree);
    let mut values = Vec::new();
    if let Items::List(items) = py_iter(&devices)? {
        for (index, entry) in items.iter().enumerate() {
            if !matches!(entry, Json::Object(_)) {
                continue;
            }
            let device_id = entry_device_id(entry)?;
            let Some(pos) = by_id
                .iter()
                .position(|(id, _, _)| id.as_deref() == Some(device_id.as_str()))
            else {
                continue;
            };
            let inputs = get_or_empty_dict(entry, "inputs")?;
            let mut device_info = get_or_empty_dict(&inputs, "device")?;
            if !matches!(device_info, Json::Object(_)) {
                return Err(format!(
                    "'{}' object has no attribute 'update'",
                    device_info.py_type_name()
                ));
            }
            let (_, hostname, mac) = by_id.remove(pos);
            device_info.set("hostname", Json::str(hostname));
            device_info.set("macAddress", mac_json(&mac));
            values.push(TopologySetValue {
                path: vec![
                    "devices".into(),
                    index.to_string(),
                    "inputs".into(),
                    "device".into(),
                ],
                inputs: pyjson::dumps(&device_info),
            });
        }
    }
    let offset = devices
        .py_len()
        .ok_or_else(|| format!("object of type '{}' has no len()", devices.py_type_name()))?;
    for (k, (id, hostname, mac)) in by_id.into_iter().enumerate() {
        let entry = Json::Object(vec![
            (
                "inputs".into(),
                Json::Object(vec![(
                    "device".into(),
                    Json::Object(vec![
                        ("hostname".into(), Json::str(hostname)),
                        ("macAddress".into(), mac_json(&mac)),
                        ("modelName".into(), Json::str("")),
                        ("interfaces".into(), Json::Array(Vec::new())),
                    ]),
                )]),
            ),
            (
                "tags".into(),
                Json::Object(vec![(
                    "query".into(),
                    Json::str(super::naming::device_query(id.as_deref())),
                )]),
            ),
        ]);
        values.push(TopologySetValue {
            path: vec!["devices".into(), (offset + k).to_string()],
            inputs: pyjson::dumps(&entry),
        });
    }
    Ok(values)
}
