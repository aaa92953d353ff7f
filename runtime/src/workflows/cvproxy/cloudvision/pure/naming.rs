//! Identifiers and names pyavd generates (spec 6, 9.2).

use chrono::{NaiveDateTime, Timelike};

/// Configlet and container id prefix, root container, studio ids.
pub const ID_PREFIX: &str = "avd-";
pub const ROOT_CONTAINER_ID: &str = "avd-configlets";
pub const ROOT_CONTAINER_NAME: &str = "AVD Configurations";
pub const ROOT_CONTAINER_DESCRIPTION: &str = "Configurations created and uploaded by AVD";
pub const STATIC_CONFIG_STUDIO_ID: &str = "studio-static-configlet";
pub const TOPOLOGY_STUDIO_ID: &str = "TOPOLOGY";
pub const ROOTS_INPUT_PATH: &str = "configletAssignmentRoots";

/// `ws-<uuid4>`.
pub fn new_workspace_id() -> String {
    format!("ws-{}", uuid::Uuid::new_v4())
}

/// `req-<uuid4>`.
pub fn new_request_id() -> String {
    format!("req-{}", uuid::Uuid::new_v4())
}

/// Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff]`, the fraction
/// omitted when the microseconds are 0.
pub fn python_datetime_str(dt: &NaiveDateTime) -> String {
    // chrono puts a leap second into nanoseconds >= 1e9; Python has none.
    let micros = (dt.nanosecond() / 1000).min(999_999);
    let base = dt.format("%Y-%m-%d %H:%M:%S").to_string();
    if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    }
}

/// The workspace display name, `AVD <local datetime>`.
pub fn workspace_display_name(now: &NaiveDateTime) -> String {
    format!("AVD {}", python_datetime_str(now))
}

/// `avd-<serial>` (configlet and container id); `avd-None` without a serial,
/// as pyavd's f-string would print it.
pub fn avd_id(serial: Option<&str>) -> String {
    format!("{ID_PREFIX}{}", serial.unwrap_or("None"))
}

/// `AVD-<hostname>`, the configlet display name cvproxy passes.
pub fn configlet_display_name(hostname: &str) -> String {
    format!("AVD-{hostname}")
}

/// The configlet and container description.
pub fn avd_description(hostname: &str) -> String {
    format!("Configuration created and uploaded by AVD for {hostname}")
}

/// `device:<serial>`.
pub fn device_query(serial: Option<&str>) -> String {
    format!("device:{}", serial.unwrap_or("None"))
}
