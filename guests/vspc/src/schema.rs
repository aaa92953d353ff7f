//! The instance file's schema (spec 8.3): the seed's schematics models, strict, with the
//! hyphenated key aliases of decision 11. Validation collects every problem, each as
//! `<path>: <message>`, and yields a typed [`Instance`] only when there is none.

use crate::ipv4::{self, Ipv4, Role};
use crate::ssh_key;
use crate::yaml::{Mapping, Value};
use std::collections::BTreeMap;

/// User data when the file has none (or `userdata: null`).
pub const DEFAULT_USERDATA: &str = "#cloud-config\n{}";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub metadata: Metadata,
    pub network: Network,
    pub userdata: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub ami_id: String,
    pub instance_id: String,
    pub region: String,
    pub availability_zone: String,
    pub hostname: String,
    /// In file order, keys unique.
    pub tags: Vec<(String, String)>,
    /// As written in the file.
    pub public_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub address: Ipv4,
    pub netmask: Ipv4,
    pub gateway: Ipv4,
    pub search: Vec<String>,
    pub nameservers: Vec<Ipv4>,
}

/// Checks a loaded document; on failure, every problem found (up to a limit).
pub fn validate(document: &Value) -> Result<Instance, Vec<String>> {
    let mut problems = Problems::default();
    let no_keys = Mapping::default();
    let mapping = match document {
        Value::Map(mapping) => &**mapping,
        // An empty file: nothing is given, so the required sections are reported missing.
        Value::Null => &no_keys,
        other => {
            let message = format!(
                "The file must hold a mapping, not a {}.",
                other.python_type()
            );
            problems.add(&Path::ROOT, message);
            return Err(problems.into_messages());
        }
    };
    let mut fields = Fields::new(&Path::ROOT, mapping);
    let metadata = fields
        .required("metadata", None, &mut problems)
        .map(|(path, value)| metadata(&path, value, &mut problems));
    let network = fields
        .required("network", None, &mut problems)
        .map(|(path, value)| network(&path, value, &mut problems));
    let userdata = fields
        .optional("userdata", None, &mut problems)
        .map(|(path, value)| string_field(&path, value, &mut problems));
    fields.reject_the_rest(&mut problems);
    match (metadata.flatten(), network.flatten()) {
        (Some(metadata), Some(network)) if problems.is_empty() => Ok(Instance {
            metadata,
            network,
            userdata: userdata.unwrap_or_else(|| DEFAULT_USERDATA.to_string()),
        }),
        _ => Err(problems.into_messages()),
    }
}

fn metadata(path: &Path<'_>, value: &Value, problems: &mut Problems) -> Option<Metadata> {
    let mapping = model_mapping(path, value, "InstanceMetadata", problems)?;
    let mut fields = Fields::new(path, mapping);
    let mut required_string =
        |name: &'static str, alias: Option<&'static str>, problems: &mut Problems| {
            fields
                .required(name, alias, problems)
                .map(|(path, value)| string_field(&path, value, problems))
                .unwrap_or_default()
        };
    let ami_id = required_string("ami_id", Some("ami-id"), problems);
    let instance_id = required_string("instance_id", Some("instance-id"), problems);
    let region = required_string("region", None, problems);
    let availability_zone =
        required_string("availability_zone", Some("availability-zone"), problems);
    let hostname = required_string("hostname", None, problems);
    let tags = fields
        .optional("tags", None, problems)
        .map(|(path, value)| tags(&path, value, problems));
    let public_keys = fields
        .optional("public_keys", Some("public-keys"), problems)
        .map(|(path, value)| public_keys(&path, value, problems));
    fields.reject_the_rest(problems);
    Some(Metadata {
        ami_id,
        instance_id,
        region,
        availability_zone,
        hostname,
        tags: tags.unwrap_or_default(),
        public_keys: public_keys.unwrap_or_default(),
    })
}

fn network(path: &Path<'_>, value: &Value, problems: &mut Problems) -> Option<Network> {
    let mapping = model_mapping(path, value, "InstanceNetworkData", problems)?;
    let mut fields = Fields::new(path, mapping);
    let mut required_address = |name: &'static str, role: Role, problems: &mut Problems| {
        fields
            .required(name, None, problems)
            .and_then(|(path, value)| ipv4_field(&path, value, role, problems))
    };
    let address = required_address("address", Role::Host, problems);
    let netmask = required_address("netmask", Role::Netmask, problems);
    let gateway = required_address("gateway", Role::Host, problems);
    let search = fields
        .optional("search", None, problems)
        .map(|(path, value)| {
            list(&path, value, problems)
                .iter()
                .enumerate()
                .map(|(index, item)| string_field(&path.index(index), item, problems))
                .collect()
        });
    let nameservers = fields
        .required("nameservers", None, problems)
        .map(|(path, value)| {
            let items = list(&path, value, problems);
            if items.is_empty() && matches!(value, Value::Seq(_)) {
                problems.add(&path, "Please provide at least 1 item.");
            }
            items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    ipv4_field(&path.index(index), item, Role::Host, problems)
                })
                .collect()
        });
    fields.reject_the_rest(problems);
    Some(Network {
        address: address?,
        netmask: netmask?,
        gateway: gateway?,
        search: search.unwrap_or_default(),
        nameservers: nameservers?,
    })
}

/// `tags`: a mapping of string (or integer) keys to strings. Keys that become the same text
/// (`1` and `"1"`) end up as one key, like Python's dict built from them.
fn tags(path: &Path<'_>, value: &Value, problems: &mut Problems) -> Vec<(String, String)> {
    let Value::Map(mapping) = value else {
        problems.add(path, "Only mappings may be used in a DictType");
        return Vec::new();
    };
    let mut tags: Vec<(String, String)> = Vec::with_capacity(mapping.entries.len());
    let mut positions: BTreeMap<String, usize> = BTreeMap::new();
    for (key, item) in &mapping.entries {
        let name = match key {
            Value::Str(text) => text.to_string(),
            Value::Int(number) => number.to_string(),
            other => {
                let shown = other.python_str();
                problems.add(
                    &path.name(&shown),
                    format!("Couldn't interpret the key '{shown}' as string."),
                );
                continue;
            }
        };
        let text = string_field(&path.name(&name), item, problems);
        match positions.get(&name) {
            Some(&position) => tags[position].1 = text,
            None => {
                positions.insert(name.clone(), tags.len());
                tags.push((name, text));
            }
        }
    }
    tags
}

fn public_keys(path: &Path<'_>, value: &Value, problems: &mut Problems) -> Vec<String> {
    let mut keys = Vec::new();
    for (index, item) in list(path, value, problems).iter().enumerate() {
        let result = to_string(item).and_then(|line| match ssh_key::check(&line) {
            Ok(()) => Ok(line),
            Err(problem) => Err(problem.message().to_string()),
        });
        match result {
            Ok(line) => keys.push(line),
            Err(message) => problems.add(&path.index(index), message),
        }
    }
    keys
}

/// schematics' `StringType`: strings as they are, integers as decimal text, `!!binary` as
/// UTF-8 text; everything else is refused.
fn to_string(value: &Value) -> Result<String, String> {
    match value {
        Value::Str(text) => Ok(text.to_string()),
        Value::Int(number) => Ok(number.to_string()),
        Value::Binary(bytes) => {
            String::from_utf8(bytes.to_vec()).map_err(|_| "Invalid UTF-8 data.".to_string())
        }
        other => Err(format!(
            "Couldn't interpret '{}' as string.",
            other.python_str()
        )),
    }
}

fn string_field(path: &Path<'_>, value: &Value, problems: &mut Problems) -> String {
    to_string(value).unwrap_or_else(|message| {
        problems.add(path, message);
        String::new()
    })
}

/// Decision 13: dotted-quad strings only, then the seed's range rules.
fn ipv4_field(path: &Path<'_>, value: &Value, role: Role, problems: &mut Problems) -> Option<Ipv4> {
    let result = match value {
        Value::Str(text) => ipv4::parse_for(text, role),
        _ => Err("must be a dotted-quad string".to_string()),
    };
    result.map_err(|message| problems.add(path, message)).ok()
}

/// schematics' `ListType`: only a sequence will do (a bare string is not a list of one).
fn list<'v>(path: &Path<'_>, value: &'v Value, problems: &mut Problems) -> &'v [Value] {
    match value {
        Value::Seq(items) => items,
        _ => {
            problems.add(path, "Could not interpret the value as a list");
            &[]
        }
    }
}

/// schematics' `ModelType`: the section must be a mapping.
fn model_mapping<'v>(
    path: &Path<'_>,
    value: &'v Value,
    model: &str,
    problems: &mut Problems,
) -> Option<&'v Mapping> {
    match value {
        Value::Map(mapping) => Some(mapping),
        other => {
            let message = format!(
                "Please use a mapping for this field or {model} instance instead of {}.",
                other.python_type()
            );
            problems.add(path, message);
            None
        }
    }
}

/// Where a value sits in the file, e.g. `network.nameservers.0`. Built on the stack as the
/// validation descends and only written out when there is a problem to report.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root,
    Name(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        parent: None,
        segment: Segment::Root,
    };

    fn name(&'a self, name: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Name(name),
        }
    }

    fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }
}

impl core::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.parent {
            None => return f.write_str("(top level)"),
            Some(parent) if parent.parent.is_some() => write!(f, "{parent}.")?,
            Some(_) => {}
        }
        match self.segment {
            Segment::Root => Ok(()),
            Segment::Name(name) => f.write_str(name),
            Segment::Index(index) => write!(f, "{index}"),
        }
    }
}

/// The keys of one model's mapping, handed out field by field; what no field claims is a
/// rogue field.
struct Fields<'p, 'v> {
    path: &'p Path<'p>,
    entries: &'v [(Value, Value)],
    claimed: Vec<bool>,
}

impl<'p, 'v> Fields<'p, 'v> {
    fn new(path: &'p Path<'p>, mapping: &'v Mapping) -> Self {
        Fields {
            path,
            entries: &mapping.entries,
            claimed: vec![false; mapping.entries.len()],
        }
    }

    fn position(&self, spelling: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(key, _)| matches!(key, Value::Str(text) if &**text == spelling))
    }

    /// The field `name` (or its `alias`) with its path as written, null included; as `Err`, the
    /// path of an absent field. Both spellings at once is a problem; the snake_case one is then
    /// used.
    fn take(
        &mut self,
        name: &'static str,
        alias: Option<&'static str>,
        problems: &mut Problems,
    ) -> Result<(Path<'p>, &'v Value), Path<'p>> {
        let canonical = self.position(name);
        let alternative =
            alias.and_then(|alias| self.position(alias).map(|position| (alias, position)));
        for position in canonical
            .iter()
            .chain(alternative.iter().map(|(_, position)| position))
        {
            self.claimed[*position] = true;
        }
        match (canonical, alternative) {
            (Some(position), Some((alias, _))) => {
                problems.add(
                    &self.path.name(alias),
                    format!("Give only one of '{name}' and '{alias}'."),
                );
                Ok((self.path.name(name), &self.entries[position].1))
            }
            (Some(position), None) => Ok((self.path.name(name), &self.entries[position].1)),
            (None, Some((alias, position))) => {
                Ok((self.path.name(alias), &self.entries[position].1))
            }
            (None, None) => Err(self.path.name(name)),
        }
    }

    /// A required field: absent or null is "This field is required.".
    fn required(
        &mut self,
        name: &'static str,
        alias: Option<&'static str>,
        problems: &mut Problems,
    ) -> Option<(Path<'p>, &'v Value)> {
        match self.take(name, alias, problems) {
            Ok((path, Value::Null)) | Err(path) => {
                problems.add(&path, "This field is required.");
                None
            }
            Ok(field) => Some(field),
        }
    }

    /// An optional field: absent or null means its default.
    fn optional(
        &mut self,
        name: &'static str,
        alias: Option<&'static str>,
        problems: &mut Problems,
    ) -> Option<(Path<'p>, &'v Value)> {
        match self.take(name, alias, problems) {
            Ok((_, Value::Null)) | Err(_) => None,
            Ok(field) => Some(field),
        }
    }

    fn reject_the_rest(self, problems: &mut Problems) {
        for ((key, _), claimed) in self.entries.iter().zip(&self.claimed) {
            if !claimed {
                problems.add(&self.path.name(&key.python_str()), "Rogue field");
            }
        }
    }
}

/// Validation messages, capped so that a huge invalid file yields a readable log line.
#[derive(Default)]
struct Problems {
    messages: Vec<String>,
    omitted: usize,
}

const MAX_PROBLEMS: usize = 50;

impl Problems {
    fn add(&mut self, path: &Path<'_>, message: impl core::fmt::Display) {
        if self.messages.len() < MAX_PROBLEMS {
            self.messages.push(format!("{path}: {message}"));
        } else {
            self.omitted += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    fn into_messages(mut self) -> Vec<String> {
        if self.omitted > 0 {
            self.messages
                .push(format!("... and {} more problems", self.omitted));
        }
        self.messages
    }
}

#[cfg(test)]
mod tests;
