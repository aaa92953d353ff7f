//! Builds the document from saphyr-parser's events: anchors and aliases, merge keys,
//! duplicate keys, collection tags, and the bounds that keep untrusted input cheap.
//!
//! PyYAML composes a node graph first and constructs values afterwards; here values are built
//! bottom-up as each node ends, which gives the same result because an alias can only refer to
//! a node that is already complete (a node that refers to itself is refused).

use super::LoadError;
use super::scalar::{self, CORE_TAG_PREFIX, Item, NON_SPECIFIC_TAG};
use super::value::{KeyIdentity, Mapping, Value};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Tag};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Most nodes a document may have with every alias expanded. Aliases share data, so this
/// bounds the work of validating and showing values and refuses "billion laughs" documents up
/// front; it also bounds parsing time, since the document is refused as soon as the count is
/// passed. An instance file has a few dozen nodes.
pub const MAX_EXPANDED_NODES: u64 = 100_000;

/// Deepest nesting of collections, aliases included. Instance files nest three levels; the
/// bound keeps every later recursive walk shallow.
pub const MAX_DEPTH: usize = 64;

/// A finished node: a value, or one of the keys that only mean something inside a mapping.
#[derive(Clone)]
struct Node {
    item: Item,
    /// Nodes in this node's tree with aliases expanded (an upper bound once merges dedupe).
    size: u64,
    /// Nesting depth of collections below and including this node.
    depth: usize,
}

enum Frame {
    Sequence {
        anchor: usize,
        items: Vec<Value>,
        size: u64,
        depth: usize,
    },
    Mapping {
        anchor: usize,
        /// Keys as constructed (`<<` and `=` included) with their values.
        pairs: Vec<(Item, Value)>,
        pending_key: Option<Item>,
        size: u64,
        depth: usize,
    },
}

struct Composer {
    stack: Vec<Frame>,
    /// By anchor id (saphyr numbers anchors from 1 in order); `None` while the anchored
    /// collection is still open.
    anchors: Vec<Option<Option<Node>>>,
    root: Option<Value>,
    documents: usize,
    budget: u64,
    nan_serial: usize,
}

pub fn compose(text: &str) -> Result<Value, LoadError> {
    let mut composer = Composer {
        stack: Vec::new(),
        anchors: Vec::new(),
        root: None,
        documents: 0,
        budget: MAX_EXPANDED_NODES,
        nan_serial: 0,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| LoadError::at(e.info(), e.marker()))?;
        match composer.handle(event) {
            Ok(true) => break,
            Ok(false) => {}
            Err(message) => return Err(LoadError::at(&message, &span.start)),
        }
    }
    // An empty stream, or one with only comments, is the null document.
    Ok(composer.root.unwrap_or(Value::Null))
}

/// The full name of a tag (`tag:yaml.org,2002:str` for `!!str`, `!` for the non-specific tag).
fn tag_name(tag: Option<&Tag>) -> Option<String> {
    tag.map(|tag| format!("{}{}", tag.handle, tag.suffix))
}

fn check_collection_tag(tag: Option<&Tag>, expected: &str) -> Result<(), String> {
    let Some(name) = tag_name(tag) else {
        return Ok(());
    };
    let node_kind = if expected == "map" {
        "mapping"
    } else {
        "sequence"
    };
    match name.strip_prefix(CORE_TAG_PREFIX) {
        _ if name == NON_SPECIFIC_TAG => Ok(()),
        Some(core) if core == expected => Ok(()),
        Some("str" | "int" | "float" | "bool" | "null" | "binary" | "timestamp") => {
            Err(format!("expected a scalar node, but found {node_kind}"))
        }
        Some(core @ ("map" | "seq")) => {
            let wanted = if core == "map" { "mapping" } else { "sequence" };
            Err(format!("expected a {wanted} node, but found {node_kind}"))
        }
        _ => Err(scalar::no_constructor(&name)),
    }
}

impl Composer {
    /// Handles one event; `Ok(true)` at the end of the stream.
    fn handle(&mut self, event: Event<'_>) -> Result<bool, String> {
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => return Ok(true),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(
                        "expected a single document in the stream, but found another document"
                            .into(),
                    );
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(1)?;
                let tag = tag_name(tag.as_deref());
                let item = scalar::construct(&text, style == ScalarStyle::Plain, tag.as_deref())?;
                let node = Node {
                    item,
                    size: 1,
                    depth: 0,
                };
                if anchor != 0 {
                    self.set_anchor(anchor, Some(node.clone()));
                }
                self.add(node)?;
            }
            Event::Alias(anchor) => {
                let node =
                    match self.anchors.get(anchor) {
                        Some(Some(Some(node))) => node.clone(),
                        Some(Some(None)) => return Err(
                            "found an alias inside its own anchored node (a recursive structure)"
                                .into(),
                        ),
                        _ => return Err("found undefined alias".into()),
                    };
                self.charge(node.size)?;
                if node.depth + self.stack.len() > MAX_DEPTH {
                    return Err(format!("nesting deeper than {MAX_DEPTH} levels"));
                }
                self.add(node)?;
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq")?;
                self.open(Frame::Sequence {
                    anchor,
                    items: Vec::new(),
                    size: 1,
                    depth: 1,
                })?;
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map")?;
                self.open(Frame::Mapping {
                    anchor,
                    pairs: Vec::new(),
                    pending_key: None,
                    size: 1,
                    depth: 1,
                })?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().ok_or("unbalanced end of a collection")?;
                let (anchor, node) = match frame {
                    Frame::Sequence {
                        anchor,
                        items,
                        size,
                        depth,
                    } => (
                        anchor,
                        Node {
                            item: Item::Value(Value::Seq(items.into())),
                            size,
                            depth,
                        },
                    ),
                    Frame::Mapping {
                        anchor,
                        pairs,
                        size,
                        depth,
                        ..
                    } => {
                        let mapping = self.flatten_mapping(pairs)?;
                        (
                            anchor,
                            Node {
                                item: Item::Value(Value::Map(Rc::new(mapping))),
                                size,
                                depth,
                            },
                        )
                    }
                };
                if anchor != 0 {
                    self.set_anchor(anchor, Some(node.clone()));
                }
                self.add(node)?;
            }
        }
        Ok(false)
    }

    fn set_anchor(&mut self, anchor: usize, node: Option<Node>) {
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        self.anchors[anchor] = Some(node);
    }

    fn charge(&mut self, nodes: u64) -> Result<(), String> {
        self.budget = self.budget.checked_sub(nodes).ok_or_else(|| {
            format!("the document has more than {MAX_EXPANDED_NODES} nodes once its aliases are expanded")
        })?;
        Ok(())
    }

    fn open(&mut self, frame: Frame) -> Result<(), String> {
        self.charge(1)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        let anchor = match &frame {
            Frame::Sequence { anchor, .. } | Frame::Mapping { anchor, .. } => *anchor,
        };
        if anchor != 0 {
            self.set_anchor(anchor, None);
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Puts a finished node into the collection being built, or makes it the document.
    fn add(&mut self, node: Node) -> Result<(), String> {
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(into_value(node.item)?);
            return Ok(());
        };
        match parent {
            Frame::Sequence {
                items, size, depth, ..
            } => {
                *size += node.size;
                *depth = (*depth).max(node.depth + 1);
                items.push(into_value(node.item)?);
            }
            Frame::Mapping {
                pairs,
                pending_key,
                size,
                depth,
                ..
            } => {
                *size += node.size;
                *depth = (*depth).max(node.depth + 1);
                match pending_key.take() {
                    None => *pending_key = Some(node.item),
                    // `<<` and `=` are only keys; as a value PyYAML cannot construct them.
                    Some(key) => pairs.push((key, into_value(node.item)?)),
                }
            }
        }
        Ok(())
    }

    /// PyYAML's `flatten_mapping` + `construct_mapping`: the pairs of merged mappings come first
    /// (from a list of mappings, the earlier mapping wins), explicit keys override them, and the
    /// result keeps Python `dict` order (first insertion) with the last value. Postern refuses an
    /// explicit key given twice.
    fn flatten_mapping(&mut self, pairs: Vec<(Item, Value)>) -> Result<Mapping, String> {
        let mut merged: Vec<(Value, Value)> = Vec::new();
        let mut explicit: Vec<(Value, Value)> = Vec::with_capacity(pairs.len());
        let mut has_merge_key = false;
        for (key, value) in pairs {
            match key {
                Item::MergeKey => {
                    if has_merge_key {
                        return Err("duplicate key '<<'".into());
                    }
                    has_merge_key = true;
                    merged = merge_sources(&value)?;
                }
                Item::ValueKey => explicit.push((Value::Str("=".into()), value)),
                Item::Value(key) => explicit.push((key, value)),
            }
        }
        let mut mapping = Mapping {
            entries: Vec::with_capacity(merged.len() + explicit.len()),
        };
        let mut index = KeyIndex::with_capacity(mapping.entries.capacity());
        for (is_explicit, (key, value)) in merged
            .into_iter()
            .map(|pair| (false, pair))
            .chain(explicit.into_iter().map(|pair| (true, pair)))
        {
            let identity = key
                .key_identity(&mut self.nan_serial)
                .ok_or("found unhashable key")?;
            match index.get_mut(&identity) {
                Some((_, true)) if is_explicit => {
                    return Err(format!("duplicate key '{}'", key.python_str()));
                }
                Some((position, seen_explicitly)) => {
                    mapping.entries[*position].1 = value;
                    *seen_explicitly |= is_explicit;
                }
                None => {
                    index.insert(identity, (mapping.entries.len(), is_explicit));
                    mapping.entries.push((key, value));
                }
            }
        }
        Ok(mapping)
    }
}

/// For each key of a mapping being built: its position, and whether it was written explicitly
/// (not merged). Instance files have small mappings, where a scan beats a tree.
enum KeyIndex {
    Small(Vec<(KeyIdentity, (usize, bool))>),
    Large(BTreeMap<KeyIdentity, (usize, bool)>),
}

const SMALL_MAPPING: usize = 16;

impl KeyIndex {
    fn with_capacity(keys: usize) -> Self {
        if keys <= SMALL_MAPPING {
            KeyIndex::Small(Vec::with_capacity(keys))
        } else {
            KeyIndex::Large(BTreeMap::new())
        }
    }

    fn get_mut(&mut self, identity: &KeyIdentity) -> Option<&mut (usize, bool)> {
        match self {
            KeyIndex::Small(keys) => keys
                .iter_mut()
                .find(|(key, _)| key == identity)
                .map(|(_, entry)| entry),
            KeyIndex::Large(keys) => keys.get_mut(identity),
        }
    }

    fn insert(&mut self, identity: KeyIdentity, entry: (usize, bool)) {
        match self {
            KeyIndex::Small(keys) => keys.push((identity, entry)),
            KeyIndex::Large(keys) => {
                keys.insert(identity, entry);
            }
        }
    }
}

/// The pairs a `<<` value contributes, in PyYAML's order.
fn merge_sources(value: &Value) -> Result<Vec<(Value, Value)>, String> {
    match value {
        Value::Map(mapping) => Ok(mapping.entries.clone()),
        Value::Seq(items) => {
            let mut pairs = Vec::new();
            for item in items.iter().rev() {
                match item {
                    Value::Map(mapping) => pairs.extend(mapping.entries.iter().cloned()),
                    other => {
                        let kind = if matches!(other, Value::Seq(_)) {
                            "sequence"
                        } else {
                            "scalar"
                        };
                        return Err(format!("expected a mapping for merging, but found {kind}"));
                    }
                }
            }
            Ok(pairs)
        }
        _ => Err("expected a mapping or list of mappings for merging, but found scalar".into()),
    }
}

fn into_value(item: Item) -> Result<Value, String> {
    match item {
        Item::Value(value) => Ok(value),
        Item::MergeKey => Err(scalar::no_constructor(&format!("{CORE_TAG_PREFIX}merge"))),
        Item::ValueKey => Err(scalar::no_constructor(&format!("{CORE_TAG_PREFIX}value"))),
    }
}

impl LoadError {
    fn at(message: &str, marker: &Marker) -> Self {
        LoadError {
            message: format!(
                "{message} (line {}, column {})",
                marker.line(),
                marker.col() + 1
            ),
        }
    }
}
