//! The `cvproxy` guest: the input stage of a deploy request, from the raw body to a deploy plan
//! (specs/cloudvision.md, 2.2–2.6, 14.1, 14.3, 14.10, 15 item 2).
//!
//! [`plan`] runs the steps in Postern's input-stage order, each reporting its first error as
//! the whole reply text and stopping there:
//!
//! 1. UTF-8 ([`utf8`]): `UnicodeDecodeError: ...` with CPython's wording;
//! 2. JSON ([`json`]): `json.loads` semantics and `JSONDecodeError: ...` texts;
//! 3. the schema of cvproxy 1.6.4 ([`schema`]): python-jsonschema's best match and wording;
//! 4. the object shapes of spec 14.1;
//! 5. the `cv_server` form ([`server`]);
//! 6. per device, in document order: strict base64 ([`base64`]), then UTF-8 of the result.
//!
//! It is plain Rust so that it can run natively too (tests, the benchmark baseline); the
//! component export at the bottom only converts to the WIT types.

pub mod base64;
pub mod json;
pub mod pyrepr;
pub mod regex;
pub mod schema;
pub mod server;
mod unicode;
pub mod utf8;

use json::{Member, Value};

/// One device of the request (WIT `device`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The key of the `devices` entry.
    pub hostname: String,
    pub serial_number: Option<String>,
    /// The configlet, base64-decoded and checked to be UTF-8.
    pub configlet: String,
    /// `(label, value)` in document order; empty without `tags`.
    pub tags: Vec<(String, String)>,
}

/// What to deploy (WIT `deploy-plan`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployPlan {
    /// In document order.
    pub devices: Vec<Device>,
    /// As given; its form has been checked.
    pub cv_server: String,
    pub cv_token: String,
    pub change_control_name: Option<String>,
    /// `cv_strict_tags`, false when absent.
    pub strict_tags: bool,
    /// `cv_delete_workspace`, false when absent.
    pub delete_workspace: bool,
}

/// Validates a request body (exactly as received) and turns it into a deploy plan. The error
/// is the single input-stage error text of the reply, e.g.
/// `ValidationError: 'cv_token' is a required property`.
pub fn plan(body: &[u8]) -> Result<DeployPlan, String> {
    let text = utf8::decode(body).map_err(|message| format!("UnicodeDecodeError: {message}"))?;
    let document = json::parse(text)?;
    let schema = schema::Schema::cvproxy().map_err(|error| format!("SchemaError: {error}"))?;
    schema.validate(&document)?;
    check_shapes(&document)?;
    let Value::Object(root) = document else {
        return Err(not_an_object(&document));
    };
    build(root)
}

fn not_an_object(value: &Value) -> String {
    format!(
        "ValidationError: {} is not of type 'object'",
        pyrepr::repr(value)
    )
}

/// Spec 14.1: the top level, `devices`, every device entry, then every `tags` value must be
/// objects, in that order; the first that is not is reported as a `type` error would be.
fn check_shapes(document: &Value) -> Result<(), String> {
    let root = document
        .as_object()
        .ok_or_else(|| not_an_object(document))?;
    let Some(devices) = json::member(root, "devices") else {
        return Ok(());
    };
    let entries = devices.as_object().ok_or_else(|| not_an_object(devices))?;
    for (_, entry) in entries {
        if entry.as_object().is_none() {
            return Err(not_an_object(entry));
        }
    }
    for (_, entry) in entries {
        let tags = entry
            .as_object()
            .and_then(|members| json::member(members, "tags"));
        if let Some(tags) = tags.filter(|tags| tags.as_object().is_none()) {
            return Err(not_an_object(tags));
        }
    }
    Ok(())
}

/// Removes `name` from the members and returns its value.
fn take<'a>(members: &mut Vec<Member<'a>>, name: &str) -> Option<Value<'a>> {
    let position = members.iter().position(|(key, _)| key == name)?;
    Some(members.swap_remove(position).1)
}

fn take_string(members: &mut Vec<Member>, name: &str) -> Option<String> {
    match take(members, name)? {
        Value::Str(text) => Some(text.into_owned()),
        _ => None,
    }
}

fn take_bool(members: &mut Vec<Member>, name: &str) -> bool {
    matches!(take(members, name), Some(Value::Bool(true)))
}

/// Steps 5 and 6 on a document that passed the schema and the shape checks, which guarantee
/// every member read here (a missing one reads as its default rather than panicking).
fn build(mut root: Vec<Member>) -> Result<DeployPlan, String> {
    let cv_server = take_string(&mut root, "cv_server").unwrap_or_default();
    server::check(&cv_server)?;
    let entries = match take(&mut root, "devices") {
        Some(Value::Object(entries)) => entries,
        _ => Vec::new(),
    };
    let mut devices = Vec::with_capacity(entries.len());
    for (hostname, entry) in entries {
        let Value::Object(mut fields) = entry else {
            continue;
        };
        let decoded = match take(&mut fields, "configlet") {
            Some(Value::Str(encoded)) => base64::b64decode_validate(&encoded)?,
            _ => Vec::new(),
        };
        let configlet = utf8::into_string(decoded)
            .map_err(|message| format!("UnicodeDecodeError: {message}"))?;
        let tags = match take(&mut fields, "tags") {
            Some(Value::Object(tags)) => tags
                .into_iter()
                .filter_map(|(label, value)| match value {
                    Value::Str(value) => Some((label.into_owned(), value.into_owned())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        devices.push(Device {
            hostname: hostname.into_owned(),
            serial_number: take_string(&mut fields, "serial_number"),
            configlet,
            tags,
        });
    }
    Ok(DeployPlan {
        devices,
        cv_server,
        cv_token: take_string(&mut root, "cv_token").unwrap_or_default(),
        change_control_name: take_string(&mut root, "cv_change_control_name"),
        strict_tags: take_bool(&mut root, "cv_strict_tags"),
        delete_workspace: take_bool(&mut root, "cv_delete_workspace"),
    })
}

mod component {
    use postern_guest_sdk::cvproxy::postern::guest::cvproxy_types as wit;

    struct CvproxyGuest;

    impl postern_guest_sdk::cvproxy::Guest for CvproxyGuest {
        fn plan(body: Vec<u8>) -> Result<wit::DeployPlan, String> {
            let plan = super::plan(&body)?;
            drop(body);
            Ok(wit::DeployPlan {
                devices: plan
                    .devices
                    .into_iter()
                    .map(|device| wit::Device {
                        hostname: device.hostname,
                        serial_number: device.serial_number,
                        configlet: device.configlet,
                        tags: device.tags,
                    })
                    .collect(),
                cv_server: plan.cv_server,
                cv_token: plan.cv_token,
                change_control_name: plan.change_control_name,
                strict_tags: plan.strict_tags,
                delete_workspace: plan.delete_workspace,
            })
        }
    }

    postern_guest_sdk::cvproxy::export!(CvproxyGuest);
}

#[cfg(test)]
mod tests;
