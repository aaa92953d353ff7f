//! Devices (spec 6.2 S4, 9.1): the duplicate-serial check, the inventory
//! filters, matching inventory answers and the related error texts.

use super::pyrepr::{PyVal, avd_device_repr, cv_device_repr, exception_str};

/// A device of the request: hostname and optional serial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestDevice {
    pub hostname: String,
    pub serial: Option<String>,
}

/// D10 when two or more request devices share a serial: one dict entry per
/// duplicated serial (order of first appearance), devices in request order.
pub fn duplicate_serials_error(devices: &[RequestDevice]) -> Option<String> {
    let mut groups: Vec<(&str, Vec<&RequestDevice>)> = Vec::new();
    for d in devices {
        let Some(serial) = d.serial.as_deref() else {
            continue;
        };
        match groups.iter_mut().find(|(s, _)| *s == serial) {
            Some((_, list)) => list.push(d),
            None => groups.push((serial, vec![d])),
        }
    }
    let dups: Vec<(String, PyVal)> = groups
        .into_iter()
        .filter(|(_, list)| list.len() > 1)
        .map(|(serial, list)| {
            let reprs = list
                .iter()
                .map(|d| PyVal::Raw(cv_device_repr(&d.hostname, d.serial.as_deref())))
                .collect();
            (serial.to_owned(), PyVal::List(reprs))
        })
        .collect();
    if dups.is_empty() {
        return None;
    }
    Some(exception_str(&[
        PyVal::str("Duplicated devices found in inventory"),
        PyVal::Dict(dups),
    ]))
}

/// One S4 filter: by serial when given, else by hostname.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InventoryFilter {
    Serial(String),
    Hostname(String),
}

/// The S4 filters, one per unique device, request order.
pub fn inventory_filters(devices: &[RequestDevice]) -> Vec<InventoryFilter> {
    let mut out: Vec<InventoryFilter> = Vec::new();
    for d in devices {
        let f = match &d.serial {
            Some(s) => InventoryFilter::Serial(s.clone()),
            None => InventoryFilter::Hostname(d.hostname.clone()),
        };
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// What S4 reads from a streamed `Device`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InventoryDevice {
    pub device_id: Option<String>,
    pub hostname: Option<String>,
    pub system_mac_address: Option<String>,
    /// `streaming_status == STREAMING_STATUS_ACTIVE`.
    pub active: bool,
}

/// A request device found on CloudVision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundDevice {
    pub serial: Option<String>,
    pub system_mac_address: Option<String>,
    pub active: bool,
}

/// Match each request device (serial when given, else hostname; exact
/// equality; the last inventory entry per key wins).
pub fn match_inventory(
    devices: &[RequestDevice],
    inventory: &[InventoryDevice],
) -> Vec<Option<FoundDevice>> {
    devices
        .iter()
        .map(|d| {
            let hit = match &d.serial {
                Some(serial) => inventory
                    .iter()
                    .rev()
                    .find(|i| i.device_id.as_deref() == Some(serial.as_str())),
                None => inventory
                    .iter()
                    .rev()
                    .find(|i| i.hostname.as_deref() == Some(d.hostname.as_str())),
            }?;
            Some(FoundDevice {
                serial: match &d.serial {
                    Some(s) => Some(s.clone()),
                    None => hit.device_id.clone(),
                },
                system_mac_address: hit.system_mac_address.clone(),
                active: hit.active,
            })
        })
        .collect()
}

/// D11 for the devices not found (unique, request order); `None` when all were found.
pub fn missing_devices_error(
    devices: &[RequestDevice],
    found: &[Option<FoundDevice>],
) -> Option<String> {
    let mut missing: Vec<&RequestDevice> = Vec::new();
    for (d, f) in devices.iter().zip(found) {
        if f.is_none() && !missing.contains(&d) {
            missing.push(d);
        }
    }
    if missing.is_empty() {
        return None;
    }
    let mut args = vec![PyVal::str("Missing devices on CloudVision")];
    args.extend(
        missing
            .iter()
            .map(|d| PyVal::Raw(avd_device_repr(&d.hostname, d.serial.as_deref()))),
    );
    Some(exception_str(&args))
}

/// `'H (S)'` for every device S4 found inactive, request order.
pub fn inactive_device_labels(
    devices: &[RequestDevice],
    found: &[Option<FoundDevice>],
) -> Vec<String> {
    devices
        .iter()
        .zip(found)
        .filter_map(|(d, f)| {
            let f = f.as_ref()?;
            (!f.active).then(|| {
                format!(
                    "{} ({})",
                    d.hostname,
                    super::pyrepr::py_str_opt(f.serial.as_deref())
                )
            })
        })
        .collect()
}
