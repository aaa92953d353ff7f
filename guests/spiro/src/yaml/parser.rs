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
    fn parse_node(
        &mut self,
        block: bool,
        indentless_sequence: bool,
        depth: usize,
    ) -> Result<Rc<Node>> {
        let token = self.scanner.peek_token()?.clone();
        if let TokenKind::Alias(name) = &token.kind {
            self.next()?;
            if self.open_anchors.contains(name) {
                return Err(LoadError::at(
                    token.start,
                    format!(
                        "alias {name:?} refers to a collection that contains it; recursive structures are not supported"
                    ),
                ));
            }
            return self.anchors.get(name).cloned().ok_or_else(|| {
                LoadError::at(token.start, format!("found undefined alias {name:?}"))
            });
        }

        let start = token.start;
        let mut anchor: Option<String> = None;
        let mut tag: Option<(Option<String>, String, Mark)> = None;
        if let TokenKind::Anchor(name) = &token.kind {
            anchor = Some(name.clone());
            self.next()?;
            let next = self.scanner.peek_token()?.clone();
            if let TokenKind::Tag { handle, suffix } = next.kind {
                tag = Some((handle, suffix, next.start));
                self.next()?;
            }
        } else if let TokenKind::Tag { handle, suffix } = &token.kind {
            tag = Some((handle.clone(), suffix.clone(), token.start));
            self.next()?;
            let next = self.scanner.peek_token()?.clone();
            if let TokenKind::Anchor(name) = next.kind {
                anchor = Some(name);
                self.next()?;
            }
        }
        let tag: Option<String> = match tag {
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
        let explicit_tag = tag.filter(|t| t != "!");
        let has_properties = anchor.is_some() || bang || explicit_tag.is_some();

        let next = self.scanner.peek_token()?.clone();
        let node = match next.kind {
            TokenKind::BlockEntry if indentless_sequence => {
                self.open_collection(&anchor, depth, start)?;
                let items = self.parse_indentless_sequence(depth + 1)?;
                self.sequence_node(explicit_tag, items, start)
            }
            TokenKind::Scalar { value, plain } => {
                self.next()?;
                let resolved = match explicit_tag {
                    Some(tag) => tag,
                    None if plain || bang => resolve_plain(&value).tag().to_string(),
                    None => STR_TAG.to_string(),
                };
                Node {
                    tag: resolved,
                    content: Content::Scalar(value),
                    start,
                    height: 0,
                }
            }
            TokenKind::FlowSequenceStart => {
                self.open_collection(&anchor, depth, start)?;
                let items = self.parse_flow_sequence(depth + 1)?;
                self.sequence_node(explicit_tag, items, start)
            }
            TokenKind::FlowMappingStart => {
                self.open_collection(&anchor, depth, start)?;
                let pairs = self.parse_flow_mapping(depth + 1)?;
                self.mapping_node(explicit_tag, pairs, start)
            }
            TokenKind::BlockSequenceStart if block => {
                self.open_collection(&anchor, depth, start)?;
                let items = self.parse_block_sequence(depth + 1)?;
                self.sequence_node(explicit_tag, items, start)
            }
            TokenKind::BlockMappingStart if block => {
                self.open_collection(&anchor, depth, start)?;
                let pairs = self.parse_block_mapping(depth + 1)?;
                self.mapping_node(explicit_tag, pairs, start)
            }
            _ if has_properties => {
                // `&a` or `!!str` with no content: an empty scalar.
                let resolved = explicit_tag.unwrap_or_else(|| resolve_plain("").tag().to_string());
                Node {
                    tag: resolved,
                    content: Content::Scalar(String::new()),
                    start,
                    height: 0,
                }
            }
            _ => {
                let what = if block { "a block node" } else { "a flow node" };
                return Err(self.unexpected(what, "the node content"));
            }
        };
        let node = Rc::new(node);
        if node.height > MAX_DEPTH {
            return Err(LoadError::at(
                start,
                format!("data nested deeper than {MAX_DEPTH} levels (counting through aliases)"),
            ));
        }
        if let Some(name) = anchor {
            self.open_anchors.retain(|open| *open != name);
            self.anchors.insert(name, Rc::clone(&node));
        }
        Ok(node)
    }

    fn open_collection(
        &mut self,
        anchor: &Option<String>,
        depth: usize,
        start: Mark,
    ) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(LoadError::at(
                start,
                format!("collections nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        if let Some(name) = anchor {
            self.open_anchors.push(name.clone());
        }
        Ok(())
    }

    fn sequence_node(&self, tag: Option<String>, items: Vec<Rc<Node>>, start: Mark) -> Node {
        let height = 1 + items.iter().map(|item| item.height).max().unwrap_or(0);
        Node {
            tag: tag.unwrap_or_else(|| SEQ_TAG.to_string()),
            content: Content::Sequence(items),
            start,
            height,
        }
    }

    fn mapping_node(
        &self,
        tag: Option<String>,
        pairs: Vec<(Rc<Node>, Rc<Node>)>,
        start: Mark,
    ) -> Node {
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

    fn empty_here(&mut self) -> Result<Rc<Node>> {
        let mark = self.scanner.peek_token()?.start;
        Ok(empty_scalar(mark))
    }

    fn parse_block_sequence(&mut self, depth: usize) -> Result<Vec<Rc<Node>>> {
        self.next()?; // BLOCK-SEQUENCE-START
        let mut items = Vec::new();
        loop {
            match self.peek()? {
                TokenKind::BlockEntry => {
                    self.next()?;
                    if self.peek_is(&[is_block_entry, is_block_end])? {
                        items.push(self.empty_here()?);
                    } else {
                        items.push(self.parse_node(true, false, depth)?);
                    }
                }
                TokenKind::BlockEnd => {
                    self.next()?;
                    return Ok(items);
                }
                _ => return Err(self.unexpected("a block collection", "<block end>")),
            }
        }
    }

    fn parse_indentless_sequence(&mut self, depth: usize) -> Result<Vec<Rc<Node>>> {
        let mut items = Vec::new();
        while *self.peek()? == TokenKind::BlockEntry {
            self.next()?;
            if self.peek_is(&[is_block_entry, is_key, is_value, is_block_end])? {
                items.push(self.empty_here()?);
            } else {
                items.push(self.parse_node(true, false, depth)?);
            }
        }
        Ok(items)
    }

    fn parse_block_mapping(&mut self, depth: usize) -> Result<Vec<(Rc<Node>, Rc<Node>)>> {
        self.next()?; // BLOCK-MAPPING-START
        let mut pairs = Vec::new();
        loop {
            match self.peek()? {
                TokenKind::Key => {
                    self.next()?;
                    let key = if self.peek_is(&[is_key, is_value, is_block_end])? {
                        self.empty_here()?
                    } else {
                        self.parse_node(true, true, depth)?
                    };
                    let value = if *self.peek()? == TokenKind::Value {
                        self.next()?;
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
                    self.next()?;
                    return Ok(pairs);
                }
                _ => return Err(self.unexpected("a block mapping", "<block end>")),
            }
        }
    }

    fn parse_flow_sequence(&mut self, depth: usize) -> Result<Vec<Rc<Node>>> {
        self.next()?; // '['
        let mut items = Vec::new();
        let mut first = true;
        loop {
            if *self.peek()? == TokenKind::FlowSequenceEnd {
                self.next()?;
                return Ok(items);
            }
            if !first {
                if *self.peek()? == TokenKind::FlowEntry {
                    self.next()?;
                } else {
                    return Err(self.unexpected("a flow sequence", "',' or ']'"));
                }
            }
            first = false;
            match self.scanner.peek_token()?.clone() {
                Token {
                    kind: TokenKind::Key,
                    start,
                } => {
                    // `[a: b]` / `[? a : b]`: a one-pair mapping.
                    if depth >= MAX_DEPTH {
                        return Err(LoadError::at(
                            start,
                            format!("collections nested deeper than {MAX_DEPTH} levels"),
                        ));
                    }
                    self.next()?;
                    let key = if self.peek_is(&[is_value, is_flow_entry, is_flow_sequence_end])? {
                        self.empty_here()?
                    } else {
                        self.parse_node(false, false, depth + 1)?
                    };
                    let value = if *self.peek()? == TokenKind::Value {
                        self.next()?;
                        if self.peek_is(&[is_flow_entry, is_flow_sequence_end])? {
                            self.empty_here()?
                        } else {
                            self.parse_node(false, false, depth + 1)?
                        }
                    } else {
                        self.empty_here()?
                    };
                    let node = self.mapping_node(None, vec![(key, value)], start);
                    if node.height > MAX_DEPTH {
                        return Err(LoadError::at(
                            start,
                            format!(
                                "data nested deeper than {MAX_DEPTH} levels (counting through aliases)"
                            ),
                        ));
                    }
                    items.push(Rc::new(node));
                }
                Token {
                    kind: TokenKind::FlowSequenceEnd,
                    ..
                } => {}
                _ => items.push(self.parse_node(false, false, depth)?),
            }
        }
    }

    fn parse_flow_mapping(&mut self, depth: usize) -> Result<Vec<(Rc<Node>, Rc<Node>)>> {
        self.next()?; // '{'
        let mut pairs = Vec::new();
        let mut first = true;
        loop {
            if *self.peek()? == TokenKind::FlowMappingEnd {
                self.next()?;
                return Ok(pairs);
            }
            if !first {
                if *self.peek()? == TokenKind::FlowEntry {
                    self.next()?;
                } else {
                    return Err(self.unexpected("a flow mapping", "',' or '}'"));
                }
            }
            first = false;
            match self.peek()? {
                TokenKind::Key => {
                    self.next()?;
                    let key = if self.peek_is(&[is_value, is_flow_entry, is_flow_mapping_end])? {
                        self.empty_here()?
                    } else {
                        self.parse_node(false, false, depth)?
                    };
                    let value = if *self.peek()? == TokenKind::Value {
                        self.next()?;
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
                TokenKind::FlowMappingEnd => {}
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
