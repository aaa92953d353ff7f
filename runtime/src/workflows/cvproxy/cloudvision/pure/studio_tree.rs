//! Rebuilding studio inputs from streamed path pieces (pyavd
//! `_set_value_from_path`, spec 6.2 S5) and the `configletAssignmentRoots`
//! update (S20).

use crate::python::json::{INT_KEY_MARK, Json};

/// A path element after pyavd's conversion: digits become list positions.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Elem {
    Index(String),
    Key(String),
}

impl Elem {
    fn parse(s: &str) -> Self {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            let trimmed = s.trim_start_matches('0');
            Self::Index(if trimmed.is_empty() {
                "0".into()
            } else {
                trimmed.into()
            })
        } else {
            Self::Key(s.to_owned())
        }
    }

    fn repr(&self) -> String {
        match self {
            Self::Index(i) => i.clone(),
            Self::Key(k) => crate::python::repr::repr_str(k),
        }
    }

    /// The dict key Python would use (an int key is marked, see `crate::python::json`).
    fn dict_key(&self) -> String {
        match self {
            Self::Index(i) => format!("{INT_KEY_MARK}{i}"),
            Self::Key(k) => k.clone(),
        }
    }
}

fn path_repr(path: &[Elem]) -> String {
    let inner: Vec<String> = path.iter().map(Elem::repr).collect();
    format!("[{}]", inner.join(", "))
}

/// Set `value` at `path` inside `data`, creating levels as pyavd does:
/// an empty path merges an object into an object; a last element on a list
/// appends (the index is ignored); lists are padded with `null` up to an
/// index. The error is the Python exception's message (it becomes a D20).
pub fn set_value_from_path(path: &[String], data: &mut Json, value: Json) -> Result<(), String> {
    if path.is_empty() {
        return match (data, value) {
            (Json::Object(entries), Json::Object(new)) => {
                for (k, v) in new {
                    match entries.iter_mut().find(|(ek, _)| *ek == k) {
                        Some(e) => e.1 = v,
                        None => entries.push((k, v)),
                    }
                }
                Ok(())
            }
            (data, value) => Err(format!(
                "Path '[]', value type '{}' cannot be set on data type '{}'",
                value.py_type_repr(),
                data.py_type_repr()
            )),
        };
    }
    if path.len() > MAX_PATH_LEN {
        // Python's recursion limit stops pyavd's recursive walk there too.
        return Err("maximum recursion depth exceeded".to_owned());
    }
    let elems: Vec<Elem> = path.iter().map(|s| Elem::parse(s)).collect();
    set_elems(&elems, data, value)
}

fn set_elems(path: &[Elem], data: &mut Json, value: Json) -> Result<(), String> {
    if let [last] = path {
        return match (data, last) {
            (data @ Json::Object(_), elem) => {
                data.set(&elem.dict_key(), value);
                Ok(())
            }
            (Json::Array(items), Elem::Index(_)) => {
                items.push(value);
                Ok(())
            }
            (data, _) => Err(format!(
                "Path '{}' cannot be set on data of type '{}'",
                path_repr(path),
                data.py_type_repr()
            )),
        };
    }
    let child_is_list = matches!(path[1], Elem::Index(_));
    match (data, &path[0]) {
        (Json::Object(entries), elem) => {
            let key = elem.dict_key();
            let pos = match entries.iter().position(|(k, _)| *k == key) {
                Some(pos) => pos,
                None => {
                    let empty = if child_is_list {
                        Json::Array(Vec::new())
                    } else {
                        Json::Object(Vec::new())
                    };
                    entries.push((key, empty));
                    entries.len() - 1
                }
            };
            set_elems(&path[1..], &mut entries[pos].1, value)
        }
        (Json::Array(items), Elem::Index(index)) => {
            let index: usize = match index.parse() {
                Ok(i) if i <= MAX_LIST_INDEX => i,
                _ => {
                    return Err(format!(
                        "Path element '{index}' is too large a list position"
                    ));
                }
            };
            if items.len() < index + 1 {
                items.resize(index + 1, Json::Null);
            }
            let slot = &mut items[index];
            if child_is_list {
                if !matches!(slot, Json::Array(_)) {
                    *slot = Json::Array(Vec::new());
                }
            } else if !matches!(slot, Json::Object(_)) {
                *slot = Json::Object(Vec::new());
            }
            set_elems(&path[1..], slot, value)
        }
        (data, _) => Err(format!(
            "Path '{}', value type '{}' cannot be set on data of type '{}'",
            path_repr(path),
            value.py_type_repr(),
            data.py_type_repr()
        )),
    }
}

/// Longer paths are refused (the walk recurses once per element).
const MAX_PATH_LEN: usize = 256;

/// A list position beyond this is refused instead of padding a huge list.
const MAX_LIST_INDEX: usize = 1_000_000;

/// Why S20's root list update failed in pyavd: an exception that escapes
/// the deployment (`class`, message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscapingError {
    pub class: &'static str,
    pub message: String,
}

/// S20: `None` when `avd-configlets` is already among the roots; otherwise
/// the new roots value with `avd-configlets` inserted first. Non-list roots
/// behave as in Python (`in` on a dict or string, then `.insert` fails).
pub fn roots_with_avd_container(
    roots: &Json,
    root_id: &str,
) -> Result<Option<Json>, EscapingError> {
    let present = match roots {
        Json::Array(items) => items
            .iter()
            .any(|v| matches!(v, Json::Str(s) if s == root_id)),
        Json::Object(entries) => entries.iter().any(|(k, _)| k == root_id),
        Json::Str(s) => s.contains(root_id),
        other => {
            return Err(EscapingError {
                class: "TypeError",
                message: format!(
                    "argument of type '{}' is not iterable",
                    other.py_type_name()
                ),
            });
        }
    };
    if present {
        return Ok(None);
    }
    match roots {
        Json::Array(items) => {
            let mut new = Vec::with_capacity(items.len() + 1);
            new.push(Json::str(root_id));
            new.extend(items.iter().cloned());
            Ok(Some(Json::Array(new)))
        }
        other => Err(EscapingError {
            class: "AttributeError",
            message: format!(
                "'{}' object has no attribute 'insert'",
                other.py_type_name()
            ),
        }),
    }
}
