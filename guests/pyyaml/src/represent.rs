//! What PyYAML's `SafeRepresenter` decides before anything is written: the
//! text and tag of each scalar, the order of mapping entries, and the
//! anchors of collections that occur more than once.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use super::resolver::{Implicit, resolve_plain};
use super::value::{Number, Value, python_float_repr};

/// A scalar as the emitter sees it.
pub(crate) struct ScalarRepr {
    pub text: String,
    /// Whether the text, written plain, would load back with this tag
    /// (PyYAML's `implicit[0]`); otherwise it must be quoted.
    pub plain_resolves: bool,
    /// The length of the short tag (`!!str`), which counts towards the
    /// 128-character limit of simple keys.
    pub tag_length: usize,
}

pub(crate) fn scalar_repr(value: &Value) -> Option<ScalarRepr> {
    let (text, tag_length) = match value {
        Value::Null => ("null".to_string(), "!!null".len()),
        Value::Bool(b) => (
            (if *b { "true" } else { "false" }).to_string(),
            "!!bool".len(),
        ),
        Value::Int(i) => (i.to_string(), "!!int".len()),
        Value::Float(f) => (represent_float(*f), "!!float".len()),
        Value::Str(s) => {
            return Some(ScalarRepr {
                plain_resolves: resolve_plain(s) == Implicit::Str,
                text: s.clone(),
                tag_length: "!!str".len(),
            });
        }
        Value::Seq(_) | Value::Map(_) => return None,
    };
    Some(ScalarRepr {
        text,
        plain_resolves: true,
        tag_length,
    })
}

/// `SafeRepresenter.represent_float`: `repr()` lowercased, with `.0`
/// inserted before a bare exponent so that it still reads as a float.
pub(crate) fn represent_float(value: f64) -> String {
    if value.is_nan() {
        return ".nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let repr = python_float_repr(value).to_lowercase();
    if !repr.contains('.') && repr.contains('e') {
        repr.replacen('e', ".0e", 1)
    } else {
        repr
    }
}

/// The identity of a shared collection.
pub(crate) fn identity(value: &Value) -> Option<usize> {
    match value {
        Value::Seq(items) => Some(Rc::as_ptr(items) as *const () as usize),
        Value::Map(entries) => Some(Rc::as_ptr(entries) as *const () as usize),
        _ => None,
    }
}

/// The order in which a mapping's entries are written: `sorted()` of the
/// items, or the original order when Python's `sorted()` would raise
/// `TypeError` (keys of types that do not compare, like `True` next to
/// `'a'`, or `None` next to anything).
pub(crate) fn entry_order(entries: &[(Value, Value)], sort_keys: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    if !sort_keys || entries.len() < 2 {
        return order;
    }
    let keys: Vec<&Value> = entries.iter().map(|(key, _)| key).collect();
    if keys.iter().all(|key| matches!(key, Value::Str(_))) {
        order.sort_by(|&a, &b| match (keys[a], keys[b]) {
            // UTF-8 byte order is code point order.
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            _ => Ordering::Equal,
        });
    } else if keys.iter().all(|key| Number::of(key).is_some()) {
        order.sort_by(|&a, &b| match (Number::of(keys[a]), Number::of(keys[b])) {
            (Some(a), Some(b)) => total_number_order(a, b),
            _ => Ordering::Equal,
        });
    }
    order
}

/// Python answers `False` to `nan < x` and `x < nan`, which makes the
/// result of `sorted()` depend on the algorithm; here NaN sorts last so
/// that the comparison stays a total order.
fn total_number_order(a: Number, b: Number) -> Ordering {
    let is_nan = |n: Number| matches!(n, Number::Float(f) if f.is_nan());
    match (is_nan(a), is_nan(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Anchor names for the collections reached more than once, numbered in
/// the order in which the second occurrence is met (PyYAML's
/// `Serializer.anchor_node`, walking entries in written order).
pub(crate) struct Anchors {
    names: HashMap<usize, Option<String>>,
    orders: HashMap<usize, Rc<Vec<usize>>>,
    last_id: usize,
    sort_keys: bool,
}

impl Anchors {
    pub(crate) fn discover(root: &Value, sort_keys: bool) -> Anchors {
        let mut anchors = Anchors {
            names: HashMap::new(),
            orders: HashMap::new(),
            last_id: 0,
            sort_keys,
        };
        anchors.visit(root);
        anchors
    }

    fn visit(&mut self, value: &Value) {
        let Some(id) = identity(value) else {
            return;
        };
        if let Some(name) = self.names.get_mut(&id) {
            if name.is_none() {
                self.last_id += 1;
                *name = Some(format!("id{:03}", self.last_id));
            }
            return;
        }
        self.names.insert(id, None);
        match value {
            Value::Seq(items) => {
                for item in items.iter() {
                    self.visit(item);
                }
            }
            Value::Map(entries) => {
                let order = self.order(entries);
                for &index in order.iter() {
                    let (key, value) = &entries[index];
                    self.visit(key);
                    self.visit(value);
                }
            }
            _ => {}
        }
    }

    /// The written order of a mapping's entries, computed once per mapping.
    pub(crate) fn order(&mut self, entries: &Rc<Vec<(Value, Value)>>) -> Rc<Vec<usize>> {
        let id = Rc::as_ptr(entries) as *const () as usize;
        let sort_keys = self.sort_keys;
        Rc::clone(
            self.orders
                .entry(id)
                .or_insert_with(|| Rc::new(entry_order(entries, sort_keys))),
        )
    }

    pub(crate) fn name(&self, id: usize) -> Option<&str> {
        self.names.get(&id).and_then(|name| name.as_deref())
    }
}
