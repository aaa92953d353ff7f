//! Tokens → a node graph: PyYAML's `Parser` and `Composer` in one
//! recursive-descent pass. Aliases become shared `Rc<Node>`s (never
//! copies), anchors may not be redefined, an alias may not point into the
//! collection that is still being built (Python would build a recursive
//! object; the dumper here cannot write one), and nesting — counted
//! through aliases too — is bounded by [`MAX_DEPTH`].

use std::collections::HashMap;
use std::rc::Rc;

use super::MAX_DEPTH;
use super::error::{LoadError, Mark};
use super::resolver::resolve_plain;
use super::scanner::{Scanner, Token, TokenKind};

pub(crate) const STR_TAG: &str = "tag:yaml.org,2002:str";
pub(crate) const SEQ_TAG: &str = "tag:yaml.org,2002:seq";
pub(crate) const MAP_TAG: &str = "tag:yaml.org,2002:map";

#[derive(Debug)]
pub(crate) struct Node {
    /// The resolved tag, e.g. `tag:yaml.org,2002:int`.
    pub tag: String,
    pub content: Content,
    pub start: Mark,
    /// Collections below this node, counting through aliases: what
    /// recursion over the loaded value will meet.
    pub height: usize,
}

#[derive(Debug)]
pub(crate) enum Content {
    Scalar(String),
    Sequence(Vec<Rc<Node>>),
    Mapping(Vec<(Rc<Node>, Rc<Node>)>),
}

type Result<T> = std::result::Result<T, LoadError>;

/// Parses a stream that must hold at most one document; `None` when it
/// holds none.
pub(crate) fn parse_single_document(text: &str) -> Result<Option<Rc<Node>>> {
    let mut parser = Parser {
        scanner: Scanner::new(text)?,
        tag_handles: default_tag_handles(),
        anchors: HashMap::new(),
        open_anchors: Vec::new(),
    };
    parser.expect_stream_start()?;
    let document = parser.parse_document(true)?;
    if document.is_some() && parser.parse_document(false)?.is_some() {
        return Err(LoadError::at(
            document.map(|node| node.start).unwrap_or_default(),
            "expected a single document in the stream, but found another document",
        ));
    }
    Ok(document)
}

fn default_tag_handles() -> HashMap<String, String> {
    HashMap::from([
        ("!".to_string(), "!".to_string()),
        ("!!".to_string(), "tag:yaml.org,2002:".to_string()),
    ])
}

struct Parser {
    scanner: Scanner,
    tag_handles: HashMap<String, String>,
    anchors: HashMap<String, Rc<Node>>,
    /// Anchors of collections still being built.
    open_anchors: Vec<String>,
}

impl Parser {
    fn peek(&mut self) -> Result<&TokenKind> {
        Ok(&self.scanner.peek_token()?.kind)
    }

    fn peek_is(&mut self, kinds: &[fn(&TokenKind) -> bool]) -> Result<bool> {
        let kind = self.peek()?;
        Ok(kinds.iter().any(|matches| matches(kind)))
    }

    fn next(&mut self) -> Result<Token> {
        self.scanner.next_token()
    }

    fn unexpected(&mut self, context: &str, expected: &str) -> LoadError {
        match self.scanner.peek_token() {
            Ok(token) => LoadError::at(
                token.start,
                format!(
                    "expected {expected}, but found {} (while parsing {context})",
                    token.kind.describe()
                ),
            ),
            Err(error) => error,
        }
    }

    fn expect_stream_start(&mut self) -> Result<()> {
        let token = self.next()?;
        debug_assert_eq!(token.kind, TokenKind::StreamStart);
        Ok(())
    }

    /// One document; `None` at the stream end. Only the first document of
    /// a stream may omit `---`.
    fn parse_document(&mut self, first: bool) -> Result<Option<Rc<Node>>> {
        self.anchors.clear();
        let implicit = first
            && !matches!(
                self.peek()?,
                TokenKind::YamlDirective(..)
                    | TokenKind::TagDirective(..)
                    | TokenKind::OtherDirective
                    | TokenKind::DocumentStart
                    | TokenKind::DocumentEnd
                    | TokenKind::StreamEnd
            );
        let root = if implicit {
            self.tag_handles = default_tag_handles();
            self.parse_node(true, false, 0)?
        } else {
            while *self.peek()? == TokenKind::DocumentEnd {
                self.next()?;
            }
            if *self.peek()? == TokenKind::StreamEnd {
                return Ok(None);
            }
            self.process_directives()?;
            if *self.peek()? != TokenKind::DocumentStart {
                return Err(self.unexpected("a document", "'<document start>'"));
            }
            let start = self.next()?;
            if matches!(
                self.peek()?,
                TokenKind::YamlDirective(..)
                    | TokenKind::TagDirective(..)
                    | TokenKind::OtherDirective
                    | TokenKind::DocumentStart
                    | TokenKind::DocumentEnd
                    | TokenKind::StreamEnd
            ) {
                empty_scalar(start.start)
            } else {
                self.parse_node(true, false, 0)?
            }
        };
        // Document end: an explicit `...` is optional.
        if *self.peek()? == TokenKind::DocumentEnd {
            self.next()?;
        }
        Ok(Some(root))
    }

    fn process_directives(&mut self) -> Result<()> {
        let mut version_seen = false;
        let mut handles: HashMap<String, String> = HashMap::new();
        loop {
            let token = self.scanner.peek_token()?.clone();
            match token.kind {
                TokenKind::YamlDirective(major, _) => {
                    if version_seen {
                        return Err(LoadError::at(token.start, "found duplicate YAML directive"));
                    }
                    if major != 1 {
                        return Err(LoadError::at(
                            token.start,
                            "found incompatible YAML document (version 1.* is required)",
                        ));
                    }
                    version_seen = true;
                }
                TokenKind::TagDirective(handle, prefix) => {
                    if handles.contains_key(&handle) {
                        return Err(LoadError::at(
                            token.start,
                            format!("duplicate tag handle {handle:?}"),
                        ));
                    }
                    handles.insert(handle, prefix);
                }
                TokenKind::OtherDirective => {}
                _ => break,
            }
            self.next()?;
        }
        for (handle, prefix) in default_tag_handles() {
            handles.entry(handle).or_insert(prefix);
        }
        self.tag_handles = handles;
        Ok(())
    }

    /// PyYAML's `parse_node` plus `compose_node`.
    ///
    /// This and the collection parsers are the recursive path, once per
    /// nesting level: they keep few locals and leave everything else
    /// (properties, scalars, errors) to helpers that are not inlined, so
    /// that [`MAX_DEPTH`] levels fit the guest's 1 MiB stack with room to
    /// spare.
    fn parse_node(
        &mut self,
        block: bool,
        indentless_sequence: bool,
        depth: usize,
    ) -> Result<Rc<Node>> {
        if let Some(aliased) = self.parse_alias()? {
            return Ok(aliased);
        }
        let properties = self.parse_properties()?;
        let start = properties.start;
        let node = match NextNode::of(self.peek()?, block, indentless_sequence) {
            NextNode::Scalar => self.parse_scalar(&properties)?,
            NextNode::IndentlessSequence => {
                self.open_collection(&properties, depth)?;
                let items = self.parse_indentless_sequence(depth + 1)?;
                sequence_node(properties.tag.clone(), items, start)
            }
            NextNode::FlowSequence => {
                self.open_collection(&properties, depth)?;
                let items = self.parse_flow_sequence(depth + 1)?;
                sequence_node(properties.tag.clone(), items, start)
            }
            NextNode::FlowMapping => {
                self.open_collection(&properties, depth)?;
                let pairs = self.parse_flow_mapping(depth + 1)?;
                mapping_node(properties.tag.clone(), pairs, start)
            }
            NextNode::BlockSequence => {
                self.open_collection(&properties, depth)?;
                let items = self.parse_block_sequence(depth + 1)?;
                sequence_node(properties.tag.clone(), items, start)
            }
            NextNode::BlockMapping => {
                self.open_collection(&properties, depth)?;
                let pairs = self.parse_block_mapping(depth + 1)?;
                mapping_node(properties.tag.clone(), pairs, start)
            }
            NextNode::Other if properties.present => empty_tagged_scalar(&properties),
            NextNode::Other => return Err(self.missing_node(block)),
        };
        self.finish_node(node, properties)
    }

    /// An alias: the anchored node itself, shared.
    #[inline(never)]
    fn parse_alias(&mut self) -> Result<Option<Rc<Node>>> {
        if !matches!(self.peek()?, TokenKind::Alias(_)) {
            return Ok(None);
        }
        let token = self.next()?;
        let TokenKind::Alias(name) = token.kind else {
            return Ok(None);
        };
        if self.open_anchors.contains(&name) {
            return Err(LoadError::at(
                token.start,
                format!(
                    "alias {name:?} refers to a collection that contains it; recursive structures are not supported"
                ),
            ));
        }
        match self.anchors.get(&name) {
            Some(node) => Ok(Some(Rc::clone(node))),
            None => Err(LoadError::at(
                token.start,
                format!("found undefined alias {name:?}"),
            )),
        }
    }

    /// An anchor and a tag, in either order, each optional.
    #[inline(never)]
    fn parse_properties(&mut self) -> Result<Properties> {
        let start = self.scanner.peek_token()?.start;
        let mut anchor = None;
        let mut raw_tag = None;
        for _ in 0..2 {
            let token = self.scanner.peek_token()?;
            match &token.kind {
                TokenKind::Anchor(name) if anchor.is_none() => anchor = Some(name.clone()),
                TokenKind::Tag { handle, suffix } if raw_tag.is_none() => {
                    raw_tag = Some((handle.clone(), suffix.clone(), token.start))
                }
                _ => break,
            }
            self.next()?;
        }
        let tag = match raw_tag {
            None => None,
            Some((None, suffix, _)) => Some(suffix),
            Some((Some(handle), suffix, mark)) => match self.tag_handles.get(&handle) {
                Some(prefix) => Some(format!("{prefix}{suffix}")),
                None => {
                    return Err(LoadError::at(
                        mark,
                        format!("found undefined tag handle {handle:?} (while parsing a node)"),
                    ));
                }
            },
        };
        if let Some(name) = &anchor
            && self.anchors.contains_key(name)
        {
            return Err(LoadError::at(
                start,
                format!("found duplicate anchor {name:?}"),
            ));
        }
        // A non-specific tag (none, or `!`) is resolved from the content;
        // PyYAML resolves `! x` like a plain scalar.
        let bang = tag.as_deref() == Some("!");
        let present = anchor.is_some() || tag.is_some();
        Ok(Properties {
            start,
            anchor,
            tag: tag.filter(|t| t != "!"),
            bang,
            present,
        })
    }

    #[inline(never)]
    fn parse_scalar(&mut self, properties: &Properties) -> Result<Node> {
        let token = self.next()?;
        let TokenKind::Scalar { value, plain } = token.kind else {
            return Err(LoadError::at(token.start, "expected a scalar"));
        };
        let tag = match &properties.tag {
            Some(tag) => tag.clone(),
            None if plain || properties.bang => resolve_plain(&value).tag().to_string(),
            None => STR_TAG.to_string(),
        };
        Ok(Node {
            tag,
            content: Content::Scalar(value),
            start: properties.start,
            height: 0,
        })
    }

    #[cold]
    #[inline(never)]
    fn missing_node(&mut self, block: bool) -> LoadError {
        let what = if block { "a block node" } else { "a flow node" };
        self.unexpected(what, "the node content")
    }

    #[inline(never)]
    fn open_collection(&mut self, properties: &Properties, depth: usize) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(LoadError::at(
                properties.start,
                format!("collections nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        if let Some(name) = &properties.anchor {
            self.open_anchors.push(name.clone());
        }
        Ok(())
    }

    /// Checks the height through aliases and registers the anchor.
    #[inline(never)]
    fn finish_node(&mut self, node: Node, properties: Properties) -> Result<Rc<Node>> {
        if node.height > MAX_DEPTH {
            return Err(LoadError::at(
                properties.start,
                format!("data nested deeper than {MAX_DEPTH} levels (counting through aliases)"),
            ));
        }
        let node = Rc::new(node);
        if let Some(name) = properties.anchor {
            self.open_anchors.retain(|open| *open != name);
            self.anchors.insert(name, Rc::clone(&node));
        }
        Ok(node)
    }

    #[inline(never)]
    fn empty_here(&mut self) -> Result<Rc<Node>> {
        let mark = self.scanner.peek_token()?.start;
        Ok(empty_scalar(mark))
    }

    /// Consumes the token, which the caller has peeked.
    #[inline(never)]
    fn skip(&mut self) -> Result<()> {
        self.next().map(drop)
    }

    fn parse_block_sequence(&mut self, depth: usize) -> Result<Vec<Rc<Node>>> {
        self.skip()?; // BLOCK-SEQUENCE-START
        let mut items = Vec::new();
        loop {
            match self.peek()? {
                TokenKind::BlockEntry => {
                    self.skip()?;
                    let item = if self.peek_is(&[is_block_entry, is_block_end])? {
                        self.empty_here()?
                    } else {
                        self.parse_node(true, false, depth)?
                    };
                    items.push(item);
                }
                TokenKind::BlockEnd => {
                    self.skip()?;
                    return Ok(items);
                }
                _ => return Err(self.unexpected("a block collection", "<block end>")),
            }
        }
    }

    fn parse_indentless_sequence(&mut self, depth: usize) -> Result<Vec<Rc<Node>>> {
        let mut items = Vec::new();
        while *self.peek()? == TokenKind::BlockEntry {
            self.skip()?;
            let item = if self.peek_is(&[is_block_entry, is_key, is_value, is_block_end])? {
                self.empty_here()?
            } else {
                self.parse_node(true, false, depth)?
            };
            items.push(item);
        }
        Ok(items)
    }

    fn parse_block_mapping(&mut self, depth: usize) -> Result<Vec<(Rc<Node>, Rc<Node>)>> {
        self.skip()?; // BLOCK-MAPPING-START
        let mut pairs = Vec::new();
        loop {
            match self.peek()? {
                TokenKind::Key => {
                    self.skip()?;
                    let key = if self.peek_is(&[is_key, is_value, is_block_end])? {
                        self.empty_here()?
                    } else {
                        self.parse_node(true, true, depth)?
                    };
                    let value = if *self.peek()? == TokenKind::Value {
                        self.skip()?;
                        if self.peek_is(&[is_key, is_value, is_block_end])? {
                            self.empty_here()?
                        } else {
                            self.parse_node(true, true, depth)?
                        }
                    } else {
                        self.empty_here()?
                    };
                    pairs.push((key, value));
                }
                TokenKind::BlockEnd => {
                    self.skip()?;
                    return Ok(pairs);
                }
                _ => return Err(self.unexpected("a block mapping", "<block end>")),
            }
        }
    }

    fn parse_flow_sequence(&mut self, depth: usize) -> Result<Vec<Rc<Node>>> {
        self.skip()?; // '['
        let mut items = Vec::new();
        loop {
            if *self.peek()? == TokenKind::FlowSequenceEnd {
                self.skip()?;
                return Ok(items);
            }
            if !items.is_empty() {
                if *self.peek()? != TokenKind::FlowEntry {
                    return Err(self.unexpected("a flow sequence", "',' or ']'"));
                }
                self.skip()?;
            }
            match self.peek()? {
                TokenKind::Key => {
                    let pair = self.parse_flow_pair(depth)?;
                    items.push(pair);
                }
                TokenKind::FlowSequenceEnd => {
                    // `[a, ]`: a trailing comma.
                    self.skip()?;
                    return Ok(items);
                }
                _ => {
                    let item = self.parse_node(false, false, depth)?;
                    items.push(item);
                }
            }
        }
    }

    /// `[a: b]` / `[? a : b]` inside a flow sequence: a one-pair mapping.
    #[inline(never)]
    fn parse_flow_pair(&mut self, depth: usize) -> Result<Rc<Node>> {
        let start = self.scanner.peek_token()?.start;
        if depth >= MAX_DEPTH {
            return Err(LoadError::at(
                start,
                format!("collections nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.skip()?; // '?' (explicit, or inserted for a simple key)
        let key = if self.peek_is(&[is_value, is_flow_entry, is_flow_sequence_end])? {
            self.empty_here()?
        } else {
            self.parse_node(false, false, depth + 1)?
        };
        let value = if *self.peek()? == TokenKind::Value {
            self.skip()?;
            if self.peek_is(&[is_flow_entry, is_flow_sequence_end])? {
                self.empty_here()?
            } else {
                self.parse_node(false, false, depth + 1)?
            }
        } else {
            self.empty_here()?
        };
        let properties = Properties {
            start,
            anchor: None,
            tag: None,
            bang: false,
            present: false,
        };
        self.finish_node(mapping_node(None, vec![(key, value)], start), properties)
    }

    fn parse_flow_mapping(&mut self, depth: usize) -> Result<Vec<(Rc<Node>, Rc<Node>)>> {
        self.skip()?; // '{'
        let mut pairs = Vec::new();
        loop {
            if *self.peek()? == TokenKind::FlowMappingEnd {
                self.skip()?;
                return Ok(pairs);
            }
            if !pairs.is_empty() {
                if *self.peek()? != TokenKind::FlowEntry {
                    return Err(self.unexpected("a flow mapping", "',' or '}'"));
                }
                self.skip()?;
            }
            match self.peek()? {
                TokenKind::Key => {
                    self.skip()?;
                    let key = if self.peek_is(&[is_value, is_flow_entry, is_flow_mapping_end])? {
                        self.empty_here()?
                    } else {
                        self.parse_node(false, false, depth)?
                    };
                    let value = if *self.peek()? == TokenKind::Value {
                        self.skip()?;
                        if self.peek_is(&[is_flow_entry, is_flow_mapping_end])? {
                            self.empty_here()?
                        } else {
                            self.parse_node(false, false, depth)?
                        }
                    } else {
                        self.empty_here()?
                    };
                    pairs.push((key, value));
                }
                TokenKind::FlowMappingEnd => {
                    // `{a: b, }`: a trailing comma.
                    self.skip()?;
                    return Ok(pairs);
                }
                _ => {
                    // `{a, b}`: keys with empty values.
                    let key = self.parse_node(false, false, depth)?;
                    let value = self.empty_here()?;
                    pairs.push((key, value));
                }
            }
        }
    }
}

/// The properties in front of a node.
struct Properties {
    start: Mark,
    anchor: Option<String>,
    /// The resolved tag, `None` when absent or non-specific.
    tag: Option<String>,
    /// The tag was the non-specific `!`.
    bang: bool,
    /// An anchor or a tag was given (so an empty node is a scalar).
    present: bool,
}

/// What the next token starts.
#[derive(Debug, Clone, Copy)]
enum NextNode {
    Scalar,
    IndentlessSequence,
    FlowSequence,
    FlowMapping,
    BlockSequence,
    BlockMapping,
    Other,
}

impl NextNode {
    fn of(kind: &TokenKind, block: bool, indentless_sequence: bool) -> NextNode {
        match kind {
            TokenKind::BlockEntry if indentless_sequence => NextNode::IndentlessSequence,
            TokenKind::Scalar { .. } => NextNode::Scalar,
            TokenKind::FlowSequenceStart => NextNode::FlowSequence,
            TokenKind::FlowMappingStart => NextNode::FlowMapping,
            TokenKind::BlockSequenceStart if block => NextNode::BlockSequence,
            TokenKind::BlockMappingStart if block => NextNode::BlockMapping,
            _ => NextNode::Other,
        }
    }
}

#[inline(never)]
fn sequence_node(tag: Option<String>, items: Vec<Rc<Node>>, start: Mark) -> Node {
    let height = 1 + items.iter().map(|item| item.height).max().unwrap_or(0);
    Node {
        tag: tag.unwrap_or_else(|| SEQ_TAG.to_string()),
        content: Content::Sequence(items),
        start,
        height,
    }
}

#[inline(never)]
fn mapping_node(tag: Option<String>, pairs: Vec<(Rc<Node>, Rc<Node>)>, start: Mark) -> Node {
    let height = 1 + pairs
        .iter()
        .map(|(key, value)| key.height.max(value.height))
        .max()
        .unwrap_or(0);
    Node {
        tag: tag.unwrap_or_else(|| MAP_TAG.to_string()),
        content: Content::Mapping(pairs),
        start,
        height,
    }
}

/// `&a` or `!!str` with no content: an empty scalar.
fn empty_tagged_scalar(properties: &Properties) -> Node {
    Node {
        tag: properties
            .tag
            .clone()
            .unwrap_or_else(|| resolve_plain("").tag().to_string()),
        content: Content::Scalar(String::new()),
        start: properties.start,
        height: 0,
    }
}

fn empty_scalar(mark: Mark) -> Rc<Node> {
    Rc::new(Node {
        tag: resolve_plain("").tag().to_string(),
        content: Content::Scalar(String::new()),
        start: mark,
        height: 0,
    })
}

fn is_block_entry(kind: &TokenKind) -> bool {
    *kind == TokenKind::BlockEntry
}
fn is_block_end(kind: &TokenKind) -> bool {
    *kind == TokenKind::BlockEnd
}
fn is_key(kind: &TokenKind) -> bool {
    *kind == TokenKind::Key
}
fn is_value(kind: &TokenKind) -> bool {
    *kind == TokenKind::Value
}
fn is_flow_entry(kind: &TokenKind) -> bool {
    *kind == TokenKind::FlowEntry
}
fn is_flow_sequence_end(kind: &TokenKind) -> bool {
    *kind == TokenKind::FlowSequenceEnd
}
fn is_flow_mapping_end(kind: &TokenKind) -> bool {
    *kind == TokenKind::FlowMappingEnd
}
