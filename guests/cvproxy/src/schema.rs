//! A small JSON Schema evaluator (draft 2020-12 semantics, python-jsonschema 4.26 behaviour)
//! for the keywords cvproxy's schema uses, and the selection and wording of the one error that
//! is reported (spec 2.3, 2.4).
//!
//! Why not the `jsonschema` crate: the guest gets a fresh instance for every request, so
//! building the validator is part of every call and must cost microseconds, not the
//! milliseconds of a general validator with its metaschema and resolver; the patterns need
//! Python `re` semantics (our [`crate::regex`]); and the reply quotes python-jsonschema's
//! messages, built from Python `repr()`s, for the error python-jsonschema's `best_match` picks.
//! Both follow from how python-jsonschema walks the schema, so we walk it the same way:
//! keywords in the schema's key order (it iterates the schema dict), properties in schema
//! order, every error collected.
//!
//! Supported keywords: `type`, `required`, `properties`, `patternProperties`,
//! `additionalProperties`, `unevaluatedProperties`, `minProperties`, `pattern`, plus the
//! annotations `title`, `description`, `$comment`, `default`, `examples`, `deprecated`,
//! `readOnly`, `writeOnly`, which change nothing. Any other keyword fails [`Schema::parse`]:
//! a schema we cannot evaluate faithfully is refused, not half-checked.

use crate::json::{self, Value};
use crate::pyrepr;
use crate::regex::Regex;
use std::borrow::Cow;
use std::rc::Rc;

/// The request schema of cvproxy 1.6.4 (spec 2.3), byte for byte.
pub const CVPROXY_SCHEMA: &str = include_str!("schema.json");

/// A compiled schema; its names and patterns borrow from the schema text.
#[derive(Debug)]
pub struct Schema<'a> {
    root: Node<'a>,
}

#[derive(Debug)]
enum Node<'a> {
    Bool(bool),
    Object(Box<SchemaObject<'a>>),
}

#[derive(Debug)]
struct SchemaObject<'a> {
    /// In the schema's key order, which is the evaluation order.
    keywords: Vec<Keyword<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JsonType {
    Array,
    Boolean,
    Integer,
    Null,
    Number,
    Object,
    String,
}

impl JsonType {
    fn from_name(name: &str) -> Option<JsonType> {
        Some(match name {
            "array" => JsonType::Array,
            "boolean" => JsonType::Boolean,
            "integer" => JsonType::Integer,
            "null" => JsonType::Null,
            "number" => JsonType::Number,
            "object" => JsonType::Object,
            "string" => JsonType::String,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            JsonType::Array => "array",
            JsonType::Boolean => "boolean",
            JsonType::Integer => "integer",
            JsonType::Null => "null",
            JsonType::Number => "number",
            JsonType::Object => "object",
            JsonType::String => "string",
        }
    }

    /// python-jsonschema's draft 2020-12 type checker.
    fn admits(self, value: &Value) -> bool {
        match (self, value) {
            (JsonType::Array, Value::Array(_))
            | (JsonType::Boolean, Value::Bool(_))
            | (JsonType::Null, Value::Null)
            | (JsonType::Object, Value::Object(_))
            | (JsonType::String, Value::Str(_))
            | (JsonType::Integer | JsonType::Number, Value::Int(_))
            | (JsonType::Number, Value::Float(_)) => true,
            // A float with an integral value is an integer since draft 6 (`1.0`).
            (JsonType::Integer, Value::Float(number)) => {
                number.is_finite() && number.fract() == 0.0
            }
            _ => false,
        }
    }
}

#[derive(Debug)]
enum Keyword<'a> {
    Type(Vec<JsonType>),
    Required(Vec<Cow<'a, str>>),
    Properties(Vec<(Cow<'a, str>, Node<'a>)>),
    PatternProperties(Vec<(Cow<'a, str>, Rc<Regex>, Node<'a>)>),
    AdditionalProperties(Node<'a>),
    UnevaluatedProperties(Node<'a>),
    MinProperties(u64),
    Pattern(Cow<'a, str>, Rc<Regex>),
}

#[cfg(test)]
impl Keyword<'_> {
    fn name(&self) -> &'static str {
        match self {
            Keyword::Type(_) => "type",
            Keyword::Required(_) => "required",
            Keyword::Properties(_) => "properties",
            Keyword::PatternProperties(_) => "patternProperties",
            Keyword::AdditionalProperties(_) => "additionalProperties",
            Keyword::UnevaluatedProperties(_) => "unevaluatedProperties",
            Keyword::MinProperties(_) => "minProperties",
            Keyword::Pattern(..) => "pattern",
        }
    }
}

const ANNOTATIONS: [&str; 8] = [
    "title",
    "description",
    "$comment",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

// ---------------------------------------------------------------------------------------------
// Loading

/// Where in the schema we are, as a chain of names; rendered only for an error message, so
/// loading allocates nothing for it.
struct Location<'p> {
    parent: Option<&'p Location<'p>>,
    name: &'p str,
}

impl Location<'_> {
    fn child<'p>(&'p self, name: &'p str) -> Location<'p> {
        Location {
            parent: Some(self),
            name,
        }
    }

    /// `#/properties/devices/...`: a problem at this place.
    fn error(&self, problem: impl std::fmt::Display) -> String {
        let mut names = Vec::new();
        let mut at = Some(self);
        while let Some(location) = at {
            names.push(location.name);
            at = location.parent;
        }
        names.reverse();
        format!("{}: {problem}", names.join("/"))
    }
}

/// Patterns compiled so far: cvproxy's schema uses `\S+` three times, compiled once.
type PatternCache = Vec<(String, Rc<Regex>)>;

/// Compiles a schema, taking the strings out of the parsed document (no copies).
fn compile_node<'a>(
    value: Value<'a>,
    at: &Location,
    cache: &mut PatternCache,
) -> Result<Node<'a>, String> {
    let members = match value {
        Value::Bool(accept) => return Ok(Node::Bool(accept)),
        Value::Object(members) => members,
        _ => return Err(at.error("a schema must be an object or a boolean")),
    };
    let mut keywords = Vec::with_capacity(members.len());
    for (name, argument) in members {
        let here = at.child(&name);
        let keyword = match &*name {
            "type" => Keyword::Type(compile_types(argument, &here)?),
            "required" => Keyword::Required(string_list(argument, &here)?),
            "properties" => Keyword::Properties(schema_map(argument, &here, cache)?),
            "patternProperties" => {
                let mut compiled = Vec::new();
                for (pattern, node) in schema_map(argument, &here, cache)? {
                    let regex = compile_pattern(&pattern, &here, cache)?;
                    compiled.push((pattern, regex, node));
                }
                Keyword::PatternProperties(compiled)
            }
            "additionalProperties" => {
                Keyword::AdditionalProperties(compile_node(argument, &here, cache)?)
            }
            "unevaluatedProperties" => {
                Keyword::UnevaluatedProperties(compile_node(argument, &here, cache)?)
            }
            "minProperties" => Keyword::MinProperties(count(argument, &here)?),
            "pattern" => {
                let Value::Str(pattern) = argument else {
                    return Err(here.error("must be a string"));
                };
                let regex = compile_pattern(&pattern, &here, cache)?;
                Keyword::Pattern(pattern, regex)
            }
            other if ANNOTATIONS.contains(&other) => continue,
            other => return Err(at.error(format_args!("unsupported keyword {other:?}"))),
        };
        keywords.push(keyword);
    }
    Ok(Node::Object(Box::new(SchemaObject { keywords })))
}

fn compile_pattern(
    pattern: &str,
    at: &Location,
    cache: &mut PatternCache,
) -> Result<Rc<Regex>, String> {
    if let Some((_, regex)) = cache.iter().find(|(source, _)| source == pattern) {
        return Ok(Rc::clone(regex));
    }
    let regex = Regex::new(pattern)
        .map_err(|error| at.error(format_args!("pattern {pattern:?}: {error}")))?;
    let regex = Rc::new(regex);
    cache.push((pattern.to_string(), Rc::clone(&regex)));
    Ok(regex)
}

fn compile_types(argument: Value, at: &Location) -> Result<Vec<JsonType>, String> {
    let names = match argument {
        Value::Str(name) => vec![name],
        _ => string_list(argument, at)?,
    };
    names
        .iter()
        .map(|name| {
            JsonType::from_name(name).ok_or_else(|| at.error(format_args!("unknown type {name:?}")))
        })
        .collect()
}

fn string_list<'a>(argument: Value<'a>, at: &Location) -> Result<Vec<Cow<'a, str>>, String> {
    let Value::Array(items) = argument else {
        return Err(at.error("must be an array of strings"));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Str(text) => Ok(text),
            _ => Err(at.error("must be an array of strings")),
        })
        .collect()
}

fn schema_map<'a>(
    argument: Value<'a>,
    at: &Location,
    cache: &mut PatternCache,
) -> Result<Vec<(Cow<'a, str>, Node<'a>)>, String> {
    let Value::Object(members) = argument else {
        return Err(at.error("must be an object of schemas"));
    };
    members
        .into_iter()
        .map(|(name, schema)| {
            let node = compile_node(schema, &at.child(&name), cache)?;
            Ok((name, node))
        })
        .collect()
}

fn count(argument: Value, at: &Location) -> Result<u64, String> {
    match argument {
        Value::Int(digits) => digits
            .parse()
            .map_err(|_| at.error("must be a non-negative integer")),
        _ => Err(at.error("must be a non-negative integer")),
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// One validation error, as python-jsonschema's `iter_errors` yields it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// The instance path (`error.path`).
    pub path: Vec<String>,
    /// The keyword (`error.validator`); `None` for a `false` schema.
    pub keyword: Option<&'static str>,
    pub message: String,
}

/// An error before its message is rendered (most are never shown).
struct Failure<'s, 'v> {
    path: Vec<&'v str>,
    instance: &'v Value<'v>,
    /// The schema object whose keyword failed; `None` for a `false` schema.
    schema: Option<&'s SchemaObject<'s>>,
    kind: Kind<'s, 'v>,
}

enum Kind<'s, 'v> {
    FalseSchema,
    Type(&'s [JsonType]),
    Required(&'s str),
    MinProperties(u64),
    Pattern(&'s str),
    /// `additionalProperties: false` without `patternProperties`; names sorted.
    AdditionalNotAllowed(Vec<&'v str>),
    /// `additionalProperties: false` with `patternProperties`; names and patterns sorted.
    AdditionalUnmatched(Vec<&'v str>, Vec<&'s str>),
    /// `unevaluatedProperties: false`; names sorted.
    UnevaluatedNotAllowed(Vec<&'v str>),
    /// `unevaluatedProperties` with a schema; names in instance order, once per error.
    UnevaluatedInvalid(Vec<&'v str>),
}

impl Failure<'_, '_> {
    fn keyword(&self) -> Option<&'static str> {
        Some(match self.kind {
            Kind::FalseSchema => return None,
            Kind::Type(_) => "type",
            Kind::Required(_) => "required",
            Kind::MinProperties(_) => "minProperties",
            Kind::Pattern(_) => "pattern",
            Kind::AdditionalNotAllowed(_) | Kind::AdditionalUnmatched(..) => "additionalProperties",
            Kind::UnevaluatedNotAllowed(_) | Kind::UnevaluatedInvalid(_) => "unevaluatedProperties",
        })
    }

    /// `error._matches_type()`: the instance has a type the failing schema's `type` allows.
    fn matches_type(&self) -> bool {
        let Some(schema) = self.schema else {
            return false;
        };
        schema.keywords.iter().any(|keyword| match keyword {
            Keyword::Type(types) => types.iter().any(|kind| kind.admits(self.instance)),
            _ => false,
        })
    }

    /// python-jsonschema 4.26's message.
    fn message(&self) -> String {
        let names = |names: &[&str]| {
            let joined = names
                .iter()
                .map(|name| pyrepr::repr_str(name))
                .collect::<Vec<_>>()
                .join(", ");
            let verb = if names.len() == 1 { "was" } else { "were" };
            (joined, verb)
        };
        let instance = || pyrepr::repr(self.instance);
        match &self.kind {
            Kind::FalseSchema => format!("False schema does not allow {}", instance()),
            Kind::Type(types) => {
                let expected = types
                    .iter()
                    .map(|kind| pyrepr::repr_str(kind.name()))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{} is not of type {expected}", instance())
            }
            Kind::Required(name) => format!("{} is a required property", pyrepr::repr_str(name)),
            Kind::MinProperties(1) => format!("{} should be non-empty", instance()),
            Kind::MinProperties(_) => format!("{} does not have enough properties", instance()),
            Kind::Pattern(pattern) => format!(
                "{} does not match {}",
                instance(),
                pyrepr::repr_str(pattern)
            ),
            Kind::AdditionalNotAllowed(extras) => {
                let (joined, verb) = names(extras);
                format!("Additional properties are not allowed ({joined} {verb} unexpected)")
            }
            Kind::AdditionalUnmatched(extras, patterns) => {
                let joined = names(extras).0;
                let verb = if extras.len() == 1 { "does" } else { "do" };
                let patterns = names(patterns).0;
                format!("{joined} {verb} not match any of the regexes: {patterns}")
            }
            Kind::UnevaluatedNotAllowed(extras) => {
                let (joined, verb) = names(extras);
                format!("Unevaluated properties are not allowed ({joined} {verb} unexpected)")
            }
            Kind::UnevaluatedInvalid(extras) => {
                let (joined, verb) = names(extras);
                format!(
                    "Unevaluated properties are not valid under the given schema \
                     ({joined} {verb} unevaluated and invalid)"
                )
            }
        }
    }

    fn render(&self) -> SchemaError {
        SchemaError {
            path: self.path.iter().map(|name| name.to_string()).collect(),
            keyword: self.keyword(),
            message: self.message(),
        }
    }
}

/// `error.json_path` of python-jsonschema, for the step-budget message.
fn json_path(path: &[&str]) -> String {
    let mut out = String::from("$");
    for name in path {
        let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            out.push('.');
            out.push_str(name);
        } else {
            out.push_str("['");
            out.push_str(&name.replace('\\', "\\\\").replace('\'', "\\'"));
            out.push_str("']");
        }
    }
    out
}

/// Walks an instance through the schema, collecting failures.
struct Walker<'s, 'v> {
    failures: Vec<Failure<'s, 'v>>,
    path: Vec<&'v str>,
}

/// A search ran out of steps: evaluation stops with this reply text.
type Abort = String;

fn search(
    regex: &Regex,
    pattern: &str,
    text: &str,
    path: &[&str],
    what: &str,
) -> Result<bool, Abort> {
    regex.is_match(text).map_err(|_| {
        format!(
            "ValidationError: {} could not be searched in the {what} at {} within the step \
             budget",
            pyrepr::repr_str(pattern),
            json_path(path)
        )
    })
}

impl<'s, 'v> Walker<'s, 'v> {
    fn new() -> Self {
        Walker {
            failures: Vec::new(),
            path: Vec::new(),
        }
    }

    fn fail(
        &mut self,
        instance: &'v Value<'v>,
        schema: Option<&'s SchemaObject<'s>>,
        kind: Kind<'s, 'v>,
    ) {
        self.failures.push(Failure {
            path: self.path.clone(),
            instance,
            schema,
            kind,
        });
    }

    /// `validator.descend(instance, schema, path=name)`.
    fn descend(
        &mut self,
        instance: &'v Value<'v>,
        node: &'s Node<'s>,
        name: &'v str,
    ) -> Result<(), Abort> {
        self.path.push(name);
        let result = self.evaluate(instance, node);
        self.path.pop();
        result
    }

    /// How many errors `node` yields for `instance` (python-jsonschema counts them, e.g.
    /// `is_valid(descend(...))` and the unevaluated names list).
    fn error_count(
        &self,
        instance: &'v Value<'v>,
        node: &'s Node<'s>,
        name: &'v str,
    ) -> Result<usize, Abort> {
        let mut scratch = Walker {
            failures: Vec::new(),
            path: self.path.clone(),
        };
        scratch.descend(instance, node, name)?;
        Ok(scratch.failures.len())
    }

    fn evaluate(&mut self, instance: &'v Value<'v>, node: &'s Node<'s>) -> Result<(), Abort> {
        let schema = match node {
            Node::Bool(true) => return Ok(()),
            Node::Bool(false) => {
                self.fail(instance, None, Kind::FalseSchema);
                return Ok(());
            }
            Node::Object(schema) => schema.as_ref(),
        };
        for keyword in &schema.keywords {
            self.keyword(instance, schema, keyword)?;
        }
        Ok(())
    }

    fn keyword(
        &mut self,
        instance: &'v Value<'v>,
        schema: &'s SchemaObject<'s>,
        keyword: &'s Keyword,
    ) -> Result<(), Abort> {
        let members = instance.as_object();
        match keyword {
            Keyword::Type(types) => {
                if !types.iter().any(|kind| kind.admits(instance)) {
                    self.fail(instance, Some(schema), Kind::Type(types));
                }
            }
            Keyword::Pattern(pattern, regex) => {
                if let Value::Str(text) = instance
                    && !search(regex, pattern, text, &self.path, "value")?
                {
                    self.fail(instance, Some(schema), Kind::Pattern(pattern));
                }
            }
            Keyword::Required(names) => {
                let Some(members) = members else {
                    return Ok(());
                };
                for name in names {
                    if json::member(members, name).is_none() {
                        self.fail(instance, Some(schema), Kind::Required(name));
                    }
                }
            }
            Keyword::MinProperties(minimum) => {
                let Some(members) = members else {
                    return Ok(());
                };
                if (members.len() as u64) < *minimum {
                    self.fail(instance, Some(schema), Kind::MinProperties(*minimum));
                }
            }
            Keyword::Properties(properties) => {
                let Some(members) = members else {
                    return Ok(());
                };
                for (name, node) in properties {
                    if let Some((key, value)) = members.iter().find(|(key, _)| key == name) {
                        self.descend(value, node, key)?;
                    }
                }
            }
            Keyword::PatternProperties(patterns) => {
                let Some(members) = members else {
                    return Ok(());
                };
                for (pattern, regex, node) in patterns {
                    for (key, value) in members {
                        if search(regex, pattern, key, &self.path, "property name")? {
                            self.descend(value, node, key)?;
                        }
                    }
                }
            }
            Keyword::AdditionalProperties(node) => {
                let Some(members) = members else {
                    return Ok(());
                };
                let mut extras = Vec::new();
                for (key, value) in members {
                    if !self.covered(schema, key)? {
                        extras.push((&**key, value));
                    }
                }
                match node {
                    Node::Object(_) => {
                        for (key, value) in extras {
                            self.descend(value, node, key)?;
                        }
                    }
                    Node::Bool(false) if !extras.is_empty() => {
                        let mut names: Vec<&str> = extras.iter().map(|(key, _)| *key).collect();
                        names.sort_unstable();
                        let patterns = schema.keywords.iter().find_map(|keyword| match keyword {
                            Keyword::PatternProperties(patterns) => Some(patterns),
                            _ => None,
                        });
                        let kind = match patterns {
                            Some(patterns) => {
                                let mut sources: Vec<&str> =
                                    patterns.iter().map(|(source, ..)| &**source).collect();
                                sources.sort_unstable();
                                Kind::AdditionalUnmatched(names, sources)
                            }
                            None => Kind::AdditionalNotAllowed(names),
                        };
                        self.fail(instance, Some(schema), kind);
                    }
                    Node::Bool(_) => {}
                }
            }
            Keyword::UnevaluatedProperties(node) => {
                let Some(members) = members else {
                    return Ok(());
                };
                let mut unevaluated = Vec::new();
                for (key, value) in members {
                    if self.evaluated(schema, key, value)? {
                        continue;
                    }
                    let errors = self.error_count(value, node, key)?;
                    unevaluated.extend(std::iter::repeat_n(&**key, errors));
                }
                if !unevaluated.is_empty() {
                    let kind = if matches!(node, Node::Bool(false)) {
                        unevaluated.sort_unstable();
                        Kind::UnevaluatedNotAllowed(unevaluated)
                    } else {
                        Kind::UnevaluatedInvalid(unevaluated)
                    };
                    self.fail(instance, Some(schema), kind);
                }
            }
        }
        Ok(())
    }

    /// Whether `properties` names `key` or a `patternProperties` pattern matches it
    /// (python-jsonschema's `find_additional_properties`).
    fn covered(&self, schema: &'s SchemaObject<'s>, key: &str) -> Result<bool, Abort> {
        for keyword in &schema.keywords {
            match keyword {
                Keyword::Properties(properties)
                    if properties.iter().any(|(name, _)| name == key) =>
                {
                    return Ok(true);
                }
                Keyword::PatternProperties(patterns) => {
                    for (pattern, regex, _) in patterns {
                        if search(regex, pattern, key, &self.path, "property name")? {
                            return Ok(true);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(false)
    }

    /// Whether a sibling keyword evaluated `key` (python-jsonschema's
    /// `find_evaluated_property_keys_by_schema`): named by `properties`, matched by a
    /// `patternProperties` pattern, or valid under `additionalProperties` or under
    /// `unevaluatedProperties` itself. Evaluated even when the value failed there.
    fn evaluated(
        &self,
        schema: &'s SchemaObject<'s>,
        key: &'v str,
        value: &'v Value<'v>,
    ) -> Result<bool, Abort> {
        if self.covered(schema, key)? {
            return Ok(true);
        }
        for keyword in &schema.keywords {
            if let Keyword::AdditionalProperties(node) | Keyword::UnevaluatedProperties(node) =
                keyword
                && self.error_count(value, node, key)? == 0
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// python-jsonschema's `best_match` with the default `relevance`: the shortest path, then the
/// greatest path (element by element, code point order), then an error whose instance does
/// not match its schema's `type`, then the first in evaluation order.
fn best<'a, 's, 'v>(failures: &'a [Failure<'s, 'v>]) -> Option<&'a Failure<'s, 'v>> {
    fn relevance<'f>(failure: &'f Failure) -> (std::cmp::Reverse<usize>, &'f [&'f str], bool) {
        (
            std::cmp::Reverse(failure.path.len()),
            &failure.path,
            !failure.matches_type(),
        )
    }
    let mut best: Option<&Failure> = None;
    for failure in failures {
        if best.is_none_or(|current| relevance(failure) > relevance(current)) {
            best = Some(failure);
        }
    }
    best
}

impl<'a> Schema<'a> {
    /// Loads a schema from its JSON text; fails on keywords this evaluator does not support.
    pub fn parse(text: &'a str) -> Result<Schema<'a>, String> {
        let document = json::parse(text)?;
        let root = Location {
            parent: None,
            name: "#",
        };
        Ok(Schema {
            root: compile_node(document, &root, &mut Vec::new())?,
        })
    }

    /// cvproxy's schema (spec 2.3).
    pub fn cvproxy() -> Result<Schema<'static>, String> {
        Schema::parse(CVPROXY_SCHEMA)
    }

    fn walk<'s, 'v>(&'s self, instance: &'v Value<'v>) -> Result<Vec<Failure<'s, 'v>>, Abort> {
        let mut walker = Walker::new();
        walker.evaluate(instance, &self.root)?;
        Ok(walker.failures)
    }

    /// Every error, in python-jsonschema's `iter_errors` order.
    pub fn errors(&self, instance: &Value) -> Result<Vec<SchemaError>, String> {
        Ok(self.walk(instance)?.iter().map(Failure::render).collect())
    }

    /// `jsonschema.validate`: Ok, or the reply text of the best-matching error,
    /// `ValidationError: <message>`.
    pub fn validate(&self, instance: &Value) -> Result<(), String> {
        let failures = self.walk(instance)?;
        match best(&failures) {
            None => Ok(()),
            Some(failure) => Err(format!("ValidationError: {}", failure.message())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: &str, instance: &str) -> Result<(), String> {
        let schema = Schema::parse(schema).unwrap_or_else(|error| panic!("{error}"));
        schema.validate(&json::parse(instance).unwrap())
    }

    fn all_errors(
        schema: &str,
        instance: &str,
    ) -> Vec<(Vec<String>, Option<&'static str>, String)> {
        let schema = Schema::parse(schema).unwrap();
        schema
            .errors(&json::parse(instance).unwrap())
            .unwrap()
            .into_iter()
            .map(|error| (error.path, error.keyword, error.message))
            .collect()
    }

    #[test]
    fn the_cvproxy_schema_loads() {
        let schema = Schema::cvproxy().unwrap();
        let Node::Object(root) = &schema.root else {
            panic!("object schema expected")
        };
        let names: Vec<_> = root.keywords.iter().map(Keyword::name).collect();
        assert_eq!(names, ["unevaluatedProperties", "required", "properties"]);
    }

    #[test]
    fn unsupported_keywords_are_refused() {
        for schema in [
            r#"{"allOf": []}"#,
            r##"{"$ref": "#"}"##,
            r#"{"properties": {"a": {"maxLength": 3}}}"#,
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema"}"#,
            r#"{"type": "thing"}"#,
            r#"{"pattern": "\\w+"}"#,
            r#"{"patternProperties": {"(": {}}}"#,
            r#"{"minProperties": -1}"#,
            r#"{"required": "a"}"#,
            "[]",
        ] {
            assert!(Schema::parse(schema).is_err(), "{schema}");
        }
        assert!(
            Schema::parse(r#"{"title": "x", "description": "y", "type": ["string", "null"]}"#)
                .is_ok()
        );
    }

    // Expected texts from python-jsonschema 4.26 (`best_match(Draft202012Validator(s).iter_errors(i)).message`).
    #[test]
    fn keyword_messages() {
        let cases = [
            (r#"{"type": "string"}"#, "5", "5 is not of type 'string'"),
            (
                r#"{"type": "string"}"#,
                "null",
                "None is not of type 'string'",
            ),
            (
                r#"{"type": "string"}"#,
                "true",
                "True is not of type 'string'",
            ),
            (
                r#"{"type": "boolean"}"#,
                "\"true\"",
                "'true' is not of type 'boolean'",
            ),
            (
                r#"{"type": "string"}"#,
                "{\"a\": [1, null]}",
                "{'a': [1, None]} is not of type 'string'",
            ),
            (
                r#"{"type": ["string", "null"]}"#,
                "1.5",
                "1.5 is not of type 'string', 'null'",
            ),
            (
                r#"{"type": "integer"}"#,
                "1.5",
                "1.5 is not of type 'integer'",
            ),
            (
                r#"{"type": "number"}"#,
                "false",
                "False is not of type 'number'",
            ),
            (
                r#"{"required": ["a", "b"]}"#,
                "{\"b\": 1}",
                "'a' is a required property",
            ),
            (r#"{"minProperties": 1}"#, "{}", "{} should be non-empty"),
            (
                r#"{"minProperties": 2}"#,
                "{\"a\": 1}",
                "{'a': 1} does not have enough properties",
            ),
            (
                r#"{"pattern": "\\S+"}"#,
                "\"\"",
                "'' does not match '\\\\S+'",
            ),
            (
                r#"{"pattern": "^a$"}"#,
                "\"it's\"",
                "\"it's\" does not match '^a$'",
            ),
            (
                r#"{"unevaluatedProperties": false}"#,
                "{\"zzz\": 1, \"aaa\": 2}",
                "Unevaluated properties are not allowed ('aaa', 'zzz' were unexpected)",
            ),
            (
                r#"{"unevaluatedProperties": false}"#,
                "{\"x\": 1}",
                "Unevaluated properties are not allowed ('x' was unexpected)",
            ),
            (
                r#"{"unevaluatedProperties": {"type": "string"}}"#,
                "{\"b\": 1, \"a\": 2, \"c\": \"ok\"}",
                "Unevaluated properties are not valid under the given schema ('b', 'a' were unevaluated and invalid)",
            ),
            (
                r#"{"additionalProperties": false, "properties": {"a": {}}}"#,
                "{\"a\": 1, \"c\": 1, \"b\": 2}",
                "Additional properties are not allowed ('b', 'c' were unexpected)",
            ),
            (
                r#"{"additionalProperties": false, "patternProperties": {"^x": {}, "^a": {}}}"#,
                "{\"b\": 1}",
                "'b' does not match any of the regexes: '^a', '^x'",
            ),
            (
                r#"{"properties": {"a": false}}"#,
                "{\"a\": [1]}",
                "False schema does not allow [1]",
            ),
            (r#"false"#, "1", "False schema does not allow 1"),
        ];
        for (schema, instance, expected) in cases {
            assert_eq!(
                check(schema, instance),
                Err(format!("ValidationError: {expected}")),
                "{schema} {instance}"
            );
        }
    }

    #[test]
    fn passes_when_nothing_fails() {
        assert_eq!(check(r#"{"type": "integer"}"#, "1.0"), Ok(()));
        assert_eq!(check(r#"{"required": ["a"]}"#, "[1]"), Ok(()));
        assert_eq!(check(r#"{"pattern": "x"}"#, "5"), Ok(()));
        assert_eq!(check(r#"{"minProperties": 1}"#, "[]"), Ok(()));
        assert_eq!(check("true", "{}"), Ok(()));
        // Evaluated by `additionalProperties` when valid under it.
        assert_eq!(
            check(
                r#"{"additionalProperties": {"type": "string"}, "unevaluatedProperties": false}"#,
                "{\"a\": \"x\"}"
            ),
            Ok(())
        );
    }

    #[test]
    fn errors_are_collected_in_schema_order_with_paths() {
        let errors = all_errors(
            CVPROXY_SCHEMA,
            r#"{"x": 1, "cv_token": 5, "devices": {"Bad": {}, "ok": {"tags": {}}}}"#,
        );
        let expected = [
            (
                vec![],
                Some("unevaluatedProperties"),
                "Unevaluated properties are not allowed ('x' was unexpected)",
            ),
            (
                vec![],
                Some("required"),
                "'cv_server' is a required property",
            ),
            (
                vec!["devices"],
                Some("unevaluatedProperties"),
                "Unevaluated properties are not allowed ('Bad' was unexpected)",
            ),
            (
                vec!["devices", "ok"],
                Some("required"),
                "'configlet' is a required property",
            ),
            (
                vec!["devices", "ok", "tags"],
                Some("minProperties"),
                "{} should be non-empty",
            ),
            (vec!["cv_token"], Some("type"), "5 is not of type 'string'"),
        ];
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(path, keyword, message)| {
                (
                    path.into_iter().map(String::from).collect::<Vec<_>>(),
                    keyword,
                    message.to_string(),
                )
            })
            .collect();
        assert_eq!(errors, expected);
    }

    #[test]
    fn best_match_prefers_short_then_greatest_paths() {
        let schema = CVPROXY_SCHEMA;
        let base = r#""devices": {"leaf": {"configlet": "aGVsbG8="}}"#;
        // cv_server and cv_token both invalid: cv_token wins (greater path).
        assert_eq!(
            check(
                schema,
                &format!(r#"{{{base}, "cv_server": "", "cv_token": 1}}"#)
            ),
            Err("ValidationError: 1 is not of type 'string'".into())
        );
        assert_eq!(
            check(
                schema,
                &format!(r#"{{{base}, "cv_server": 1, "cv_token": " "}}"#)
            ),
            Err("ValidationError: ' ' does not match '\\\\S+'".into())
        );
        // configlet and tags both invalid: tags wins.
        assert_eq!(
            check(
                schema,
                r#"{"devices": {"leaf": {"configlet": "x", "tags": {}}}, "cv_server": "s", "cv_token": "t"}"#
            ),
            Err("ValidationError: {} should be non-empty".into())
        );
        // At the root, unevaluatedProperties comes before required.
        assert_eq!(
            check(schema, r#"{"devices": {}, "extra": 1}"#),
            Err(
                "ValidationError: Unevaluated properties are not allowed ('extra' was unexpected)"
                    .into()
            )
        );
        // A shorter path wins over a greater one.
        assert_eq!(
            check(
                schema,
                r#"{"devices": {"leaf": {"configlet": 5}}, "cv_server": "s", "cv_token": "t", "zz": 1}"#
            ),
            Err(
                "ValidationError: Unevaluated properties are not allowed ('zz' was unexpected)"
                    .into()
            )
        );
        // Same length: "devices"/"leaf" (devices error) vs "cv_token": 'devices' > 'cv_token'.
        assert_eq!(
            check(
                schema,
                r#"{"devices": {"Leaf": {}}, "cv_server": "s", "cv_token": 1}"#
            ),
            Err(
                "ValidationError: Unevaluated properties are not allowed ('Leaf' was unexpected)"
                    .into()
            )
        );
    }

    #[test]
    fn best_match_prefers_errors_whose_instance_misses_the_type() {
        // Two errors at the same path from different schema objects: the one whose schema has
        // no `type` (python-jsonschema: "does not match the type") beats the typed one.
        let schema = r#"{"properties": {"a": {"type": "string", "pattern": "x"}},
                         "patternProperties": {"^a$": {"pattern": "z"}}}"#;
        assert_eq!(
            check(schema, "{\"a\": \"y\"}"),
            Err("ValidationError: 'y' does not match 'z'".into())
        );
        let schema = r#"{"properties": {"a": {"pattern": "x"}},
                         "patternProperties": {"^a$": {"type": "string", "pattern": "z"}}}"#;
        assert_eq!(
            check(schema, "{\"a\": \"y\"}"),
            Err("ValidationError: 'y' does not match 'x'".into())
        );
        // Otherwise the first in evaluation order.
        let schema = r#"{"properties": {"a": {"pattern": "x"}},
                         "patternProperties": {"^a$": {"pattern": "z"}}}"#;
        assert_eq!(
            check(schema, "{\"a\": \"y\"}"),
            Err("ValidationError: 'y' does not match 'x'".into())
        );
    }

    #[test]
    fn budget_exhaustion_stops_validation() {
        let schema = r#"{"properties": {"a": {"pattern": "^(x+x+)+y"}}}"#;
        let instance = format!("{{\"a\": \"{}\"}}", "x".repeat(64));
        assert_eq!(
            check(schema, &instance),
            Err("ValidationError: '^(x+x+)+y' could not be searched in the value at $.a within the step budget".into())
        );
    }
}
