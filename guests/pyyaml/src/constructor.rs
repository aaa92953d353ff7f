//! Node graph → [`Value`]: PyYAML's `SafeConstructor` with the changes of
//! Salt's `SaltYamlSafeLoader`:
//! * a key that occurs twice in one mapping is an error ("found
//!   conflicting ID"), compared with Python equality (`1`, `1.0` and
//!   `true` are the same key);
//! * timestamps stay the strings they were written as;
//! * an integer with leading zeros is decimal (`010` is 10), except after a
//!   sign (`-010` is still octal, -8, as in Salt);
//! * merge keys (`<<`) follow Salt's `flatten_mapping`: merged entries come
//!   first, and are dropped when the mapping itself has a key *written* the
//!   same way.
//!
//! A node reached twice (through an alias) is built once and shared.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::error::LoadError;
use super::parser::{Content, MAP_TAG, Node, SEQ_TAG, STR_TAG};
use super::value::{Number, Value};

const TAG_PREFIX: &str = "tag:yaml.org,2002:";
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";
const VALUE_TAG: &str = "tag:yaml.org,2002:value";

/// How many merged entries one document may produce in total. Each merge
/// copies the entries of the merged mapping, so chains of merges grow
/// quadratically with the input; this keeps hostile input bounded.
const MAX_MERGED_ENTRIES: usize = 100_000;

type Result<T> = std::result::Result<T, LoadError>;
type Pairs = Rc<Vec<(Rc<Node>, Rc<Node>)>>;

pub(crate) fn construct_document(root: &Rc<Node>) -> Result<Value> {
    Constructor::default().construct(root)
}

#[derive(Default)]
struct Constructor {
    built: HashMap<*const Node, Value>,
    flattened: HashMap<*const Node, Pairs>,
    merged_entries: usize,
}

impl Constructor {
    /// Recursion depth is bounded by the parser's height check.
    fn construct(&mut self, node: &Rc<Node>) -> Result<Value> {
        let identity = Rc::as_ptr(node);
        if let Some(value) = self.built.get(&identity) {
            return Ok(value.clone());
        }
        let value = match &node.content {
            Content::Scalar(text) => construct_scalar(node, &node.tag, text)?,
            Content::Sequence(items) => {
                if node.tag != SEQ_TAG {
                    return Err(self.wrong_tag(node, "sequence"));
                }
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.construct(item)?);
                }
                Value::seq(values)
            }
            Content::Mapping(_) => {
                if node.tag != MAP_TAG {
                    return Err(self.wrong_tag(node, "mapping"));
                }
                self.construct_mapping(node)?
            }
        };
        self.built.insert(identity, value.clone());
        Ok(value)
    }

    fn wrong_tag(&self, node: &Node, kind: &str) -> LoadError {
        LoadError::at(node.start, unsupported_tag_message(&node.tag, kind))
    }

    fn construct_mapping(&mut self, node: &Rc<Node>) -> Result<Value> {
        let pairs = self.flatten(node)?;
        let mut entries: Vec<(Value, Value)> = Vec::with_capacity(pairs.len());
        let mut seen: HashSet<String> = HashSet::new();
        for (key_node, value_node) in pairs.iter() {
            let key = if key_node.tag == VALUE_TAG {
                // Salt (and PyYAML) turn a `=` key into the string "=".
                match &key_node.content {
                    Content::Scalar(text) => Value::Str(text.clone()),
                    _ => self.construct(key_node)?,
                }
            } else {
                self.construct(key_node)?
            };
            if matches!(key, Value::Seq(_) | Value::Map(_)) {
                return Err(LoadError::at(
                    key_node.start,
                    format!(
                        "found unacceptable key (a {} cannot be a mapping key)",
                        key.kind_name()
                    ),
                ));
            }
            let value = self.construct(value_node)?;
            if let Some(hash) = equality_class(&key)
                && !seen.insert(hash)
            {
                return Err(LoadError::at(
                    key_node.start,
                    format!("found conflicting ID '{}'", key.python_str()),
                ));
            }
            entries.push((key, value));
        }
        Ok(Value::map(entries))
    }

    /// Salt's `flatten_mapping`, without mutating the shared nodes.
    fn flatten(&mut self, node: &Rc<Node>) -> Result<Pairs> {
        let identity = Rc::as_ptr(node);
        if let Some(pairs) = self.flattened.get(&identity) {
            return Ok(Rc::clone(pairs));
        }
        let Content::Mapping(pairs) = &node.content else {
            return Err(LoadError::at(
                node.start,
                "expected a mapping for merging, but found another kind of node",
            ));
        };
        let mut merged: Vec<(Rc<Node>, Rc<Node>)> = Vec::new();
        let mut own: Vec<(Rc<Node>, Rc<Node>)> = Vec::new();
        for (key, value) in pairs {
            if key.tag != MERGE_TAG {
                own.push((Rc::clone(key), Rc::clone(value)));
                continue;
            }
            match &value.content {
                Content::Mapping(_) => merged.extend(self.flatten(value)?.iter().cloned()),
                Content::Sequence(items) => {
                    let mut parts = Vec::with_capacity(items.len());
                    for item in items {
                        if !matches!(item.content, Content::Mapping(_)) {
                            return Err(LoadError::at(
                                item.start,
                                format!(
                                    "expected a mapping for merging, but found {}",
                                    node_kind(item)
                                ),
                            ));
                        }
                        parts.push(self.flatten(item)?);
                    }
                    // Later mappings in the list come first, as in Salt.
                    for part in parts.iter().rev() {
                        merged.extend(part.iter().cloned());
                    }
                }
                Content::Scalar(_) => {
                    return Err(LoadError::at(
                        value.start,
                        "expected a mapping or list of mappings for merging, but found scalar",
                    ));
                }
            }
        }
        let result = if merged.is_empty() {
            own
        } else {
            let written: Vec<&str> = own.iter().filter_map(|(key, _)| raw_scalar(key)).collect();
            let mut result: Vec<(Rc<Node>, Rc<Node>)> = merged
                .into_iter()
                .filter(|(key, _)| raw_scalar(key).is_none_or(|raw| !written.contains(&raw)))
                .collect();
            self.merged_entries += result.len();
            if self.merged_entries > MAX_MERGED_ENTRIES {
                return Err(LoadError::at(
                    node.start,
                    format!("merge keys produce more than {MAX_MERGED_ENTRIES} entries"),
                ));
            }
            result.extend(own);
            result
        };
        let result = Rc::new(result);
        self.flattened.insert(identity, Rc::clone(&result));
        Ok(result)
    }
}

fn raw_scalar(node: &Node) -> Option<&str> {
    match &node.content {
        Content::Scalar(text) => Some(text),
        _ => None,
    }
}

fn node_kind(node: &Node) -> &'static str {
    match node.content {
        Content::Scalar(_) => "scalar",
        Content::Sequence(_) => "sequence",
        Content::Mapping(_) => "mapping",
    }
}

fn unsupported_tag_message(tag: &str, kind: &str) -> String {
    let short = tag.strip_prefix(TAG_PREFIX);
    match short {
        Some("binary" | "set" | "omap" | "pairs") => {
            format!("the tag '!!{}' is not supported here", short.unwrap_or(tag))
        }
        Some("seq" | "map" | "str" | "int" | "float" | "bool" | "null" | "timestamp") => {
            format!("the tag '!!{}' does not fit a {kind}", short.unwrap_or(tag))
        }
        _ => format!("could not determine a constructor for the tag '{tag}'"),
    }
}

/// A string that is equal for keys Python considers equal (`True`, `1`,
/// `1.0`); `None` for NaN, which equals nothing.
fn equality_class(key: &Value) -> Option<String> {
    match key {
        Value::Null => Some("null".into()),
        Value::Str(text) => Some(format!("s:{text}")),
        _ => match Number::of(key)? {
            Number::Int(i) => Some(format!("i:{i}")),
            Number::Float(f) if f.is_nan() => None,
            Number::Float(f) => {
                if f.is_finite() && f.fract() == 0.0 && f.abs() < 1.7e38 {
                    Some(format!("i:{}", f as i128))
                } else {
                    Some(format!("f:{}", f.to_bits()))
                }
            }
        },
    }
}

fn construct_scalar(node: &Node, tag: &str, text: &str) -> Result<Value> {
    let fail =
        |what: &str| LoadError::at(node.start, format!("cannot construct {what} from {text:?}"));
    match tag.strip_prefix(TAG_PREFIX) {
        Some("null") => Ok(Value::Null),
        Some("bool") => match text.to_lowercase().as_str() {
            "yes" | "true" | "on" => Ok(Value::Bool(true)),
            "no" | "false" | "off" => Ok(Value::Bool(false)),
            _ => Err(fail("a boolean")),
        },
        Some("int") => construct_int(text).map(Value::Int).map_err(|why| {
            LoadError::at(
                node.start,
                format!("cannot construct an integer from {text:?}: {why}"),
            )
        }),
        Some("float") => construct_float(text)
            .map(Value::Float)
            .ok_or_else(|| fail("a float")),
        // Salt keeps timestamps as the text that was written.
        Some("str" | "timestamp" | "python/unicode") => Ok(Value::Str(text.to_string())),
        _ if tag == STR_TAG => Ok(Value::Str(text.to_string())),
        _ => Err(LoadError::at(
            node.start,
            unsupported_tag_message(tag, "scalar"),
        )),
    }
}

/// Salt's `construct_scalar` fix-up (leading zeros dropped unless the text
/// is `0b…`/`0x…`), then PyYAML's `construct_yaml_int`.
fn construct_int(text: &str) -> std::result::Result<i128, &'static str> {
    let mut value = text;
    if value != "0"
        && value.starts_with('0')
        && !value.starts_with("0b")
        && !value.starts_with("0x")
    {
        value = value.trim_start_matches('0');
        if value.is_empty() {
            value = "0";
        }
    }
    let value: String = value.chars().filter(|c| *c != '_').collect();
    let (negative, digits) = match value.as_bytes().first() {
        None => return Err("no digits"),
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        Some(_) => (false, value.as_str()),
    };
    let magnitude: i128 = if digits == "0" {
        0
    } else if let Some(rest) = digits.strip_prefix("0b") {
        parse_radix(rest, 2)?
    } else if let Some(rest) = digits.strip_prefix("0x") {
        parse_radix(rest, 16)?
    } else if digits.starts_with('0') {
        parse_radix(digits, 8)?
    } else if digits.contains(':') {
        let mut total: i128 = 0;
        let mut base: i128 = 1;
        for part in digits.split(':').rev() {
            let digit = parse_radix(part, 10)?;
            total = digit
                .checked_mul(base)
                .and_then(|scaled| total.checked_add(scaled))
                .ok_or(OUT_OF_RANGE)?;
            base = base.saturating_mul(60);
        }
        total
    } else {
        parse_radix(digits, 10)?
    };
    Ok(if negative { -magnitude } else { magnitude })
}

const OUT_OF_RANGE: &str = "outside the supported range of 128-bit integers";

fn parse_radix(digits: &str, radix: u32) -> std::result::Result<i128, &'static str> {
    use std::num::IntErrorKind;
    if digits.is_empty() {
        return Err("no digits");
    }
    i128::from_str_radix(digits, radix).map_err(|error| match error.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => OUT_OF_RANGE,
        _ => "not a valid integer",
    })
}

/// PyYAML's `construct_yaml_float`.
fn construct_float(text: &str) -> Option<f64> {
    let value: String = text
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, body) = match value.as_bytes().first()? {
        b'-' => (-1.0, &value[1..]),
        b'+' => (1.0, &value[1..]),
        _ => (1.0, value.as_str()),
    };
    if body == ".inf" {
        return Some(sign * f64::INFINITY);
    }
    if body == ".nan" {
        return Some(f64::NAN);
    }
    if body.contains(':') {
        let mut total = 0.0;
        let mut base = 1.0;
        for part in body.split(':').rev() {
            total += python_float(part)? * base;
            base *= 60.0;
        }
        return Some(sign * total);
    }
    Some(sign * python_float(body)?)
}

/// Python's `float(text)` for the texts the resolver lets through.
fn python_float(text: &str) -> Option<f64> {
    if text.is_empty() || text == "." {
        return None;
    }
    text.parse().ok()
}
