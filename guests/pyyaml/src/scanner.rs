//! Characters → tokens, following PyYAML's `Scanner` (itself libyaml's
//! design) closely so that what loads, what fails and how scalars are
//! folded match the original: simple keys are found by remembering where a
//! key *could* start and inserting the KEY token when a `:` turns up;
//! indentation becomes BLOCK-SEQUENCE-START / BLOCK-MAPPING-START /
//! BLOCK-END tokens.
//!
//! Nothing here recurses; the nesting bound is enforced for flow
//! collections here and for everything in the parser.

use std::collections::{BTreeMap, VecDeque};

use super::MAX_DEPTH;
use super::error::{LoadError, Mark, describe_char};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    StreamStart,
    StreamEnd,
    /// `%YAML major.minor`
    YamlDirective(u32, u32),
    /// `%TAG handle prefix`
    TagDirective(String, String),
    /// Any other directive: ignored, like PyYAML does.
    OtherDirective,
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowMappingStart,
    FlowSequenceEnd,
    FlowMappingEnd,
    Key,
    Value,
    BlockEntry,
    FlowEntry,
    Alias(String),
    Anchor(String),
    /// `handle` is `None` for verbatim tags (`!<...>`) and for the lone `!`.
    Tag {
        handle: Option<String>,
        suffix: String,
    },
    Scalar {
        value: String,
        plain: bool,
    },
}

impl TokenKind {
    /// PyYAML's token ids, used in "expected X, but found Y" messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            TokenKind::StreamStart => "<stream start>",
            TokenKind::StreamEnd => "<stream end>",
            TokenKind::YamlDirective(..)
            | TokenKind::TagDirective(..)
            | TokenKind::OtherDirective => "<directive>",
            TokenKind::DocumentStart => "<document start>",
            TokenKind::DocumentEnd => "<document end>",
            TokenKind::BlockSequenceStart => "<block sequence start>",
            TokenKind::BlockMappingStart => "<block mapping start>",
            TokenKind::BlockEnd => "<block end>",
            TokenKind::FlowSequenceStart => "'['",
            TokenKind::FlowMappingStart => "'{'",
            TokenKind::FlowSequenceEnd => "']'",
            TokenKind::FlowMappingEnd => "'}'",
            TokenKind::Key => "'?'",
            TokenKind::Value => "':'",
            TokenKind::BlockEntry => "'-'",
            TokenKind::FlowEntry => "','",
            TokenKind::Alias(_) => "<alias>",
            TokenKind::Anchor(_) => "<anchor>",
            TokenKind::Tag { .. } => "<tag>",
            TokenKind::Scalar { .. } => "<scalar>",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: Mark,
}

/// Where a simple key could have started.
#[derive(Debug, Clone)]
struct SimpleKey {
    token_number: usize,
    required: bool,
    index: usize,
    line: usize,
    column: usize,
}

/// PyYAML gives up on a simple key that is longer than this many
/// characters.
const MAX_SIMPLE_KEY_LENGTH: usize = 1024;

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}
fn is_break_or_end(c: char) -> bool {
    c == '\0' || is_break(c)
}
fn is_blank_or_break_or_end(c: char) -> bool {
    c == ' ' || c == '\t' || is_break_or_end(c)
}
/// Characters that may appear in anchors, aliases, tag handles and
/// directive names.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}
fn is_uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-;/?:@&=+$,_.!~*'()[]%".contains(c)
}

/// PyYAML's `Reader` refuses these before scanning starts.
fn is_printable(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

type Result<T> = std::result::Result<T, LoadError>;

pub(crate) struct Scanner {
    chars: Vec<char>,
    index: usize,
    line: usize,
    column: usize,
    done: bool,
    flow_level: usize,
    tokens: VecDeque<Token>,
    tokens_taken: usize,
    indent: isize,
    indents: Vec<isize>,
    allow_simple_key: bool,
    /// By flow level.
    possible_simple_keys: BTreeMap<usize, SimpleKey>,
}

impl Scanner {
    pub(crate) fn new(text: &str) -> Result<Self> {
        let chars: Vec<char> = text.chars().collect();
        let mut line = 0;
        let mut column = 0;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) {
                return Err(LoadError::at(
                    Mark { line, column },
                    format!(
                        "unacceptable character #x{:04x}: special characters are not allowed",
                        c as u32
                    ),
                ));
            }
            if c == '\n' || (c == '\r' && chars.get(i + 1) != Some(&'\n')) {
                line += 1;
                column = 0;
            } else {
                column += 1;
            }
        }
        let mut scanner = Scanner {
            chars,
            index: 0,
            line: 0,
            column: 0,
            done: false,
            flow_level: 0,
            tokens: VecDeque::new(),
            tokens_taken: 0,
            indent: -1,
            indents: Vec::new(),
            allow_simple_key: true,
            possible_simple_keys: BTreeMap::new(),
        };
        let mark = scanner.mark();
        scanner.tokens.push_back(Token {
            kind: TokenKind::StreamStart,
            start: mark,
        });
        Ok(scanner)
    }

    // ----- the token queue, as the parser sees it -----

    pub(crate) fn peek_token(&mut self) -> Result<&Token> {
        self.fill()?;
        // `fill` leaves at least the stream end in the queue.
        Ok(self
            .tokens
            .front()
            .expect("token queue is never empty here"))
    }

    pub(crate) fn next_token(&mut self) -> Result<Token> {
        self.fill()?;
        self.tokens_taken += 1;
        Ok(self
            .tokens
            .pop_front()
            .expect("token queue is never empty here"))
    }

    fn fill(&mut self) -> Result<()> {
        while self.need_more_tokens()? {
            self.fetch_more_tokens()?;
        }
        if self.tokens.is_empty() {
            // Only after the stream end was taken; keep answering it.
            let mark = self.mark();
            self.tokens.push_back(Token {
                kind: TokenKind::StreamEnd,
                start: mark,
            });
        }
        Ok(())
    }

    fn need_more_tokens(&mut self) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        if self.tokens.is_empty() {
            return Ok(true);
        }
        self.stale_possible_simple_keys()?;
        Ok(self.next_possible_simple_key() == Some(self.tokens_taken))
    }

    // ----- reading characters -----

    fn peek(&self, offset: usize) -> char {
        self.chars.get(self.index + offset).copied().unwrap_or('\0')
    }

    fn prefix(&self, length: usize) -> String {
        let end = (self.index + length).min(self.chars.len());
        self.chars[self.index..end].iter().collect()
    }

    fn forward(&mut self, length: usize) {
        for _ in 0..length {
            let Some(&c) = self.chars.get(self.index) else {
                return;
            };
            self.index += 1;
            if matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
                || (c == '\r' && self.peek(0) != '\n')
            {
                self.line += 1;
                self.column = 0;
            } else if c != '\u{FEFF}' {
                self.column += 1;
            }
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            line: self.line,
            column: self.column,
        }
    }

    fn push(&mut self, kind: TokenKind, start: Mark) {
        self.tokens.push_back(Token { kind, start });
    }

    // ----- the main dispatch -----

    fn fetch_more_tokens(&mut self) -> Result<()> {
        self.scan_to_next_token();
        self.stale_possible_simple_keys()?;
        self.unwind_indent(self.column as isize);
        let ch = self.peek(0);
        let at_line_start = self.column == 0;
        let followed_by_blank = is_blank_or_break_or_end(self.peek(1));
        match ch {
            '\0' => return self.fetch_stream_end(),
            '%' if at_line_start => return self.fetch_directive(),
            '-' if at_line_start && self.document_indicator("---") => {
                return self.fetch_document_indicator(TokenKind::DocumentStart);
            }
            '.' if at_line_start && self.document_indicator("...") => {
                return self.fetch_document_indicator(TokenKind::DocumentEnd);
            }
            '[' => return self.fetch_flow_collection_start(TokenKind::FlowSequenceStart),
            '{' => return self.fetch_flow_collection_start(TokenKind::FlowMappingStart),
            ']' => return self.fetch_flow_collection_end(TokenKind::FlowSequenceEnd),
            '}' => return self.fetch_flow_collection_end(TokenKind::FlowMappingEnd),
            ',' => return self.fetch_flow_entry(),
            '-' if followed_by_blank => return self.fetch_block_entry(),
            '?' if self.flow_level > 0 || followed_by_blank => return self.fetch_key(),
            ':' if self.flow_level > 0 || followed_by_blank => return self.fetch_value(),
            '*' => return self.fetch_anchor_or_alias(true),
            '&' => return self.fetch_anchor_or_alias(false),
            '!' => return self.fetch_tag(),
            '|' if self.flow_level == 0 => return self.fetch_block_scalar(false),
            '>' if self.flow_level == 0 => return self.fetch_block_scalar(true),
            '\'' => return self.fetch_flow_scalar(false),
            '"' => return self.fetch_flow_scalar(true),
            _ => {}
        }
        if self.check_plain() {
            return self.fetch_plain();
        }
        Err(LoadError::at(
            self.mark(),
            format!(
                "found character {} that cannot start any token",
                describe_char(ch)
            ),
        ))
    }

    fn document_indicator(&self, indicator: &str) -> bool {
        self.prefix(3) == indicator && is_blank_or_break_or_end(self.peek(3))
    }

    // ----- simple keys -----

    fn next_possible_simple_key(&self) -> Option<usize> {
        self.possible_simple_keys
            .values()
            .map(|key| key.token_number)
            .min()
    }

    /// A simple key must fit on one line and within 1024 characters.
    fn stale_possible_simple_keys(&mut self) -> Result<()> {
        let mut stale = Vec::new();
        for (&level, key) in &self.possible_simple_keys {
            if key.line != self.line || self.index - key.index > MAX_SIMPLE_KEY_LENGTH {
                if key.required {
                    return Err(self.missing_colon(key));
                }
                stale.push(level);
            }
        }
        for level in stale {
            self.possible_simple_keys.remove(&level);
        }
        Ok(())
    }

    fn missing_colon(&self, key: &SimpleKey) -> LoadError {
        LoadError::at(
            self.mark(),
            format!(
                "could not find expected ':' (while scanning a simple key at line {}, column {})",
                key.line + 1,
                key.column + 1
            ),
        )
    }

    fn save_possible_simple_key(&mut self) -> Result<()> {
        let required = self.flow_level == 0 && self.indent == self.column as isize;
        if self.allow_simple_key {
            self.remove_possible_simple_key()?;
            let key = SimpleKey {
                token_number: self.tokens_taken + self.tokens.len(),
                required,
                index: self.index,
                line: self.line,
                column: self.column,
            };
            self.possible_simple_keys.insert(self.flow_level, key);
        }
        Ok(())
    }

    fn remove_possible_simple_key(&mut self) -> Result<()> {
        if let Some(key) = self.possible_simple_keys.remove(&self.flow_level)
            && key.required
        {
            return Err(self.missing_colon(&key));
        }
        Ok(())
    }

    // ----- indentation -----

    fn unwind_indent(&mut self, column: isize) {
        if self.flow_level > 0 {
            return;
        }
        while self.indent > column {
            let mark = self.mark();
            self.indent = self.indents.pop().unwrap_or(-1);
            self.push(TokenKind::BlockEnd, mark);
        }
    }

    fn add_indent(&mut self, column: usize) -> bool {
        let column = column as isize;
        if self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
            true
        } else {
            false
        }
    }

    // ----- fetchers -----

    fn fetch_stream_end(&mut self) -> Result<()> {
        self.unwind_indent(-1);
        self.remove_possible_simple_key()?;
        self.allow_simple_key = false;
        self.possible_simple_keys.clear();
        let mark = self.mark();
        self.push(TokenKind::StreamEnd, mark);
        self.done = true;
        Ok(())
    }

    fn fetch_directive(&mut self) -> Result<()> {
        self.unwind_indent(-1);
        self.remove_possible_simple_key()?;
        self.allow_simple_key = false;
        let start = self.mark();
        let kind = self.scan_directive()?;
        self.push(kind, start);
        Ok(())
    }

    fn fetch_document_indicator(&mut self, kind: TokenKind) -> Result<()> {
        self.unwind_indent(-1);
        self.remove_possible_simple_key()?;
        self.allow_simple_key = false;
        let start = self.mark();
        self.forward(3);
        self.push(kind, start);
        Ok(())
    }

    fn fetch_flow_collection_start(&mut self, kind: TokenKind) -> Result<()> {
        if self.flow_level >= MAX_DEPTH {
            return Err(LoadError::at(
                self.mark(),
                format!("flow collections nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.save_possible_simple_key()?;
        self.flow_level += 1;
        self.allow_simple_key = true;
        let start = self.mark();
        self.forward(1);
        self.push(kind, start);
        Ok(())
    }

    fn fetch_flow_collection_end(&mut self, kind: TokenKind) -> Result<()> {
        self.remove_possible_simple_key()?;
        // An unmatched closing bracket at flow level 0 is left for the
        // parser to reject.
        self.flow_level = self.flow_level.saturating_sub(1);
        self.allow_simple_key = false;
        let start = self.mark();
        self.forward(1);
        self.push(kind, start);
        Ok(())
    }

    fn fetch_flow_entry(&mut self) -> Result<()> {
        self.allow_simple_key = true;
        self.remove_possible_simple_key()?;
        let start = self.mark();
        self.forward(1);
        self.push(TokenKind::FlowEntry, start);
        Ok(())
    }

    fn fetch_block_entry(&mut self) -> Result<()> {
        if self.flow_level == 0 {
            if !self.allow_simple_key {
                return Err(LoadError::at(
                    self.mark(),
                    "sequence entries are not allowed here",
                ));
            }
            if self.add_indent(self.column) {
                let mark = self.mark();
                self.push(TokenKind::BlockSequenceStart, mark);
            }
        }
        self.allow_simple_key = true;
        self.remove_possible_simple_key()?;
        let start = self.mark();
        self.forward(1);
        self.push(TokenKind::BlockEntry, start);
        Ok(())
    }

    fn fetch_key(&mut self) -> Result<()> {
        if self.flow_level == 0 {
            if !self.allow_simple_key {
                return Err(LoadError::at(
                    self.mark(),
                    "mapping keys are not allowed here",
                ));
            }
            if self.add_indent(self.column) {
                let mark = self.mark();
                self.push(TokenKind::BlockMappingStart, mark);
            }
        }
        self.allow_simple_key = self.flow_level == 0;
        self.remove_possible_simple_key()?;
        let start = self.mark();
        self.forward(1);
        self.push(TokenKind::Key, start);
        Ok(())
    }

    fn fetch_value(&mut self) -> Result<()> {
        if let Some(key) = self.possible_simple_keys.remove(&self.flow_level) {
            let key_mark = Mark {
                line: key.line,
                column: key.column,
            };
            let position = key.token_number - self.tokens_taken;
            self.tokens.insert(
                position,
                Token {
                    kind: TokenKind::Key,
                    start: key_mark,
                },
            );
            if self.flow_level == 0 && self.add_indent(key.column) {
                self.tokens.insert(
                    position,
                    Token {
                        kind: TokenKind::BlockMappingStart,
                        start: key_mark,
                    },
                );
            }
            self.allow_simple_key = false;
        } else {
            if self.flow_level == 0 {
                if !self.allow_simple_key {
                    return Err(LoadError::at(
                        self.mark(),
                        "mapping values are not allowed here",
                    ));
                }
                if self.add_indent(self.column) {
                    let mark = self.mark();
                    self.push(TokenKind::BlockMappingStart, mark);
                }
            }
            self.allow_simple_key = self.flow_level == 0;
            self.remove_possible_simple_key()?;
        }
        let start = self.mark();
        self.forward(1);
        self.push(TokenKind::Value, start);
        Ok(())
    }

    fn fetch_anchor_or_alias(&mut self, alias: bool) -> Result<()> {
        self.save_possible_simple_key()?;
        self.allow_simple_key = false;
        let start = self.mark();
        let what = if alias { "alias" } else { "anchor" };
        self.forward(1);
        let mut length = 0;
        while is_word(self.peek(length)) {
            length += 1;
        }
        if length == 0 {
            return Err(LoadError::at(
                self.mark(),
                format!(
                    "expected alphabetic or numeric character, but found {} (while scanning an {what})",
                    describe_char(self.peek(0))
                ),
            ));
        }
        let name = self.prefix(length);
        self.forward(length);
        let ch = self.peek(0);
        if !(is_blank_or_break_or_end(ch) || "?:,]}%@`".contains(ch)) {
            return Err(LoadError::at(
                self.mark(),
                format!(
                    "expected alphabetic or numeric character, but found {} (while scanning an {what})",
                    describe_char(ch)
                ),
            ));
        }
        let kind = if alias {
            TokenKind::Alias(name)
        } else {
            TokenKind::Anchor(name)
        };
        self.push(kind, start);
        Ok(())
    }

    fn fetch_tag(&mut self) -> Result<()> {
        self.save_possible_simple_key()?;
        self.allow_simple_key = false;
        let start = self.mark();
        let kind = self.scan_tag()?;
        self.push(kind, start);
        Ok(())
    }

    fn fetch_block_scalar(&mut self, folded: bool) -> Result<()> {
        self.allow_simple_key = true;
        self.remove_possible_simple_key()?;
        let start = self.mark();
        let value = self.scan_block_scalar(folded)?;
        self.push(
            TokenKind::Scalar {
                value,
                plain: false,
            },
            start,
        );
        Ok(())
    }

    fn fetch_flow_scalar(&mut self, double: bool) -> Result<()> {
        self.save_possible_simple_key()?;
        self.allow_simple_key = false;
        let start = self.mark();
        let value = self.scan_flow_scalar(double)?;
        self.push(
            TokenKind::Scalar {
                value,
                plain: false,
            },
            start,
        );
        Ok(())
    }

    fn fetch_plain(&mut self) -> Result<()> {
        self.save_possible_simple_key()?;
        self.allow_simple_key = false;
        let start = self.mark();
        let value = self.scan_plain();
        self.push(TokenKind::Scalar { value, plain: true }, start);
        Ok(())
    }

    fn check_plain(&self) -> bool {
        let ch = self.peek(0);
        let indicator = is_blank_or_break_or_end(ch) || "-?:,[]{}#&*!|>'\"%@`".contains(ch);
        !indicator
            || (!is_blank_or_break_or_end(self.peek(1))
                && (ch == '-' || (self.flow_level == 0 && (ch == '?' || ch == ':'))))
    }

    // ----- scanners -----

    fn scan_to_next_token(&mut self) {
        if self.index == 0 && self.peek(0) == '\u{FEFF}' {
            self.forward(1);
        }
        loop {
            while self.peek(0) == ' ' {
                self.forward(1);
            }
            if self.peek(0) == '#' {
                while !is_break_or_end(self.peek(0)) {
                    self.forward(1);
                }
            }
            if self.scan_line_break().is_some() {
                if self.flow_level == 0 {
                    self.allow_simple_key = true;
                }
            } else {
                break;
            }
        }
    }

    /// Consumes one line break, normalising CR, CRLF and NEL to `\n`.
    fn scan_line_break(&mut self) -> Option<char> {
        let ch = self.peek(0);
        match ch {
            '\r' | '\n' | '\u{85}' => {
                if ch == '\r' && self.peek(1) == '\n' {
                    self.forward(2);
                } else {
                    self.forward(1);
                }
                Some('\n')
            }
            '\u{2028}' | '\u{2029}' => {
                self.forward(1);
                Some(ch)
            }
            _ => None,
        }
    }

    fn directive_error(&self, what: String) -> LoadError {
        LoadError::at(self.mark(), format!("{what} (while scanning a directive)"))
    }

    fn scan_directive(&mut self) -> Result<TokenKind> {
        self.forward(1);
        let mut length = 0;
        while is_word(self.peek(length)) {
            length += 1;
        }
        if length == 0 || !(self.peek(length) == ' ' || is_break_or_end(self.peek(length))) {
            let found = self.peek(length);
            self.forward(length);
            return Err(self.directive_error(format!(
                "expected alphabetic or numeric character, but found {}",
                describe_char(found)
            )));
        }
        let name = self.prefix(length);
        self.forward(length);
        let kind = match name.as_str() {
            "YAML" => {
                self.skip_spaces();
                let major = self.scan_directive_number()?;
                if self.peek(0) != '.' {
                    return Err(self.directive_error(format!(
                        "expected a digit or '.', but found {}",
                        describe_char(self.peek(0))
                    )));
                }
                self.forward(1);
                let minor = self.scan_directive_number()?;
                if !(self.peek(0) == ' ' || is_break_or_end(self.peek(0))) {
                    return Err(self.directive_error(format!(
                        "expected a digit or ' ', but found {}",
                        describe_char(self.peek(0))
                    )));
                }
                TokenKind::YamlDirective(major, minor)
            }
            "TAG" => {
                self.skip_spaces();
                let handle = self.scan_tag_handle()?;
                if self.peek(0) != ' ' {
                    return Err(self.directive_error(format!(
                        "expected ' ', but found {}",
                        describe_char(self.peek(0))
                    )));
                }
                self.skip_spaces();
                let prefix = self.scan_tag_uri()?;
                if !(self.peek(0) == ' ' || is_break_or_end(self.peek(0))) {
                    return Err(self.directive_error(format!(
                        "expected ' ', but found {}",
                        describe_char(self.peek(0))
                    )));
                }
                TokenKind::TagDirective(handle, prefix)
            }
            _ => {
                while !is_break_or_end(self.peek(0)) {
                    self.forward(1);
                }
                TokenKind::OtherDirective
            }
        };
        self.skip_spaces();
        if self.peek(0) == '#' {
            while !is_break_or_end(self.peek(0)) {
                self.forward(1);
            }
        }
        if !is_break_or_end(self.peek(0)) {
            return Err(self.directive_error(format!(
                "expected a comment or a line break, but found {}",
                describe_char(self.peek(0))
            )));
        }
        self.scan_line_break();
        Ok(kind)
    }

    fn skip_spaces(&mut self) {
        while self.peek(0) == ' ' {
            self.forward(1);
        }
    }

    fn scan_directive_number(&mut self) -> Result<u32> {
        let mut length = 0;
        while self.peek(length).is_ascii_digit() {
            length += 1;
        }
        if length == 0 {
            return Err(self.directive_error(format!(
                "expected a digit, but found {}",
                describe_char(self.peek(0))
            )));
        }
        let number = self
            .prefix(length)
            .parse()
            .map_err(|_| self.directive_error("the version number is too large".to_string()))?;
        self.forward(length);
        Ok(number)
    }

    fn scan_tag(&mut self) -> Result<TokenKind> {
        let ch = self.peek(1);
        let (handle, suffix) = if ch == '<' {
            self.forward(2);
            let suffix = self.scan_tag_uri()?;
            if self.peek(0) != '>' {
                return Err(LoadError::at(
                    self.mark(),
                    format!(
                        "expected '>', but found {} (while parsing a tag)",
                        describe_char(self.peek(0))
                    ),
                ));
            }
            self.forward(1);
            (None, suffix)
        } else if is_blank_or_break_or_end(ch) {
            self.forward(1);
            (None, "!".to_string())
        } else {
            // `!!suffix` or `!handle!suffix` when a second '!' follows
            // before a blank; else `!suffix` with the primary handle.
            let mut length = 1;
            let mut use_handle = false;
            let mut c = ch;
            while !(c == ' ' || is_break_or_end(c)) {
                if c == '!' {
                    use_handle = true;
                    break;
                }
                length += 1;
                c = self.peek(length);
            }
            let handle = if use_handle {
                self.scan_tag_handle()?
            } else {
                self.forward(1);
                "!".to_string()
            };
            let suffix = self.scan_tag_uri()?;
            (Some(handle), suffix)
        };
        let ch = self.peek(0);
        if !(ch == ' ' || is_break_or_end(ch)) {
            return Err(LoadError::at(
                self.mark(),
                format!(
                    "expected ' ', but found {} (while scanning a tag)",
                    describe_char(ch)
                ),
            ));
        }
        Ok(TokenKind::Tag { handle, suffix })
    }

    fn scan_tag_handle(&mut self) -> Result<String> {
        if self.peek(0) != '!' {
            return Err(LoadError::at(
                self.mark(),
                format!(
                    "expected '!', but found {} (while scanning a tag)",
                    describe_char(self.peek(0))
                ),
            ));
        }
        let mut length = 1;
        if self.peek(length) != ' ' {
            while is_word(self.peek(length)) {
                length += 1;
            }
            if self.peek(length) != '!' {
                let found = self.peek(length);
                self.forward(length);
                return Err(LoadError::at(
                    self.mark(),
                    format!(
                        "expected '!', but found {} (while scanning a tag)",
                        describe_char(found)
                    ),
                ));
            }
            length += 1;
        }
        let handle = self.prefix(length);
        self.forward(length);
        Ok(handle)
    }

    fn scan_tag_uri(&mut self) -> Result<String> {
        let mut bytes: Vec<u8> = Vec::new();
        while is_uri_char(self.peek(0)) {
            let ch = self.peek(0);
            if ch == '%' {
                let start = self.mark();
                self.forward(1);
                let hex = self.prefix(2);
                let byte = (hex.len() == 2 && hex.chars().all(|c| c.is_ascii_hexdigit()))
                    .then(|| u8::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| {
                        LoadError::at(
                            start,
                            "expected URI escape sequence of 2 hexadecimal numbers (while scanning a tag)",
                        )
                    })?;
                self.forward(2);
                bytes.push(byte);
            } else {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                self.forward(1);
            }
        }
        if bytes.is_empty() {
            return Err(LoadError::at(
                self.mark(),
                format!(
                    "expected URI, but found {} (while parsing a tag)",
                    describe_char(self.peek(0))
                ),
            ));
        }
        String::from_utf8(bytes).map_err(|_| {
            LoadError::at(
                self.mark(),
                "URI escapes are not valid UTF-8 (while parsing a tag)",
            )
        })
    }

    fn scan_block_scalar(&mut self, folded: bool) -> Result<String> {
        let start = self.mark();
        self.forward(1);
        // Chomping: None = clip, Some(true) = keep, Some(false) = strip.
        let mut chomping: Option<bool> = None;
        let mut increment: Option<usize> = None;
        let bad_zero = |mark| {
            LoadError::at(
                mark,
                "expected indentation indicator in the range 1-9, but found 0 (while scanning a block scalar)",
            )
        };
        let ch = self.peek(0);
        if ch == '+' || ch == '-' {
            chomping = Some(ch == '+');
            self.forward(1);
            if let Some(d) = self.peek(0).to_digit(10) {
                if d == 0 {
                    return Err(bad_zero(self.mark()));
                }
                increment = Some(d as usize);
                self.forward(1);
            }
        } else if let Some(d) = ch.to_digit(10) {
            if d == 0 {
                return Err(bad_zero(self.mark()));
            }
            increment = Some(d as usize);
            self.forward(1);
            let ch = self.peek(0);
            if ch == '+' || ch == '-' {
                chomping = Some(ch == '+');
                self.forward(1);
            }
        }
        let ch = self.peek(0);
        if !(ch == ' ' || is_break_or_end(ch)) {
            return Err(LoadError::at(
                self.mark(),
                format!(
                    "expected chomping or indentation indicators, but found {} (while scanning a block scalar at line {})",
                    describe_char(ch),
                    start.line + 1
                ),
            ));
        }
        self.skip_spaces();
        if self.peek(0) == '#' {
            while !is_break_or_end(self.peek(0)) {
                self.forward(1);
            }
        }
        if !is_break_or_end(self.peek(0)) {
            return Err(LoadError::at(
                self.mark(),
                format!(
                    "expected a comment or a line break, but found {} (while scanning a block scalar)",
                    describe_char(self.peek(0))
                ),
            ));
        }
        self.scan_line_break();

        let min_indent = (self.indent + 1).max(1) as usize;
        let (mut breaks, indent) = match increment {
            None => {
                let (breaks, max_indent) = self.scan_block_scalar_indentation();
                (breaks, min_indent.max(max_indent))
            }
            Some(increment) => {
                let indent = min_indent + increment - 1;
                (self.scan_block_scalar_breaks(indent), indent)
            }
        };
        let mut chunks = String::new();
        let mut line_break: Option<char> = None;
        while self.column == indent && self.peek(0) != '\0' {
            chunks.extend(breaks.iter());
            let leading_non_space = !matches!(self.peek(0), ' ' | '\t');
            let mut length = 0;
            while !is_break_or_end(self.peek(length)) {
                length += 1;
            }
            chunks.push_str(&self.prefix(length));
            self.forward(length);
            line_break = self.scan_line_break();
            breaks = self.scan_block_scalar_breaks(indent);
            if self.column == indent && self.peek(0) != '\0' {
                if folded
                    && line_break == Some('\n')
                    && leading_non_space
                    && !matches!(self.peek(0), ' ' | '\t')
                {
                    if breaks.is_empty() {
                        chunks.push(' ');
                    }
                } else if let Some(b) = line_break {
                    chunks.push(b);
                }
            } else {
                break;
            }
        }
        if chomping != Some(false)
            && let Some(b) = line_break
        {
            chunks.push(b);
        }
        if chomping == Some(true) {
            chunks.extend(breaks.iter());
        }
        Ok(chunks)
    }

    fn scan_block_scalar_indentation(&mut self) -> (Vec<char>, usize) {
        let mut breaks = Vec::new();
        let mut max_indent = 0;
        while self.peek(0) == ' ' || is_break(self.peek(0)) {
            if self.peek(0) != ' ' {
                breaks.extend(self.scan_line_break());
            } else {
                self.forward(1);
                max_indent = max_indent.max(self.column);
            }
        }
        (breaks, max_indent)
    }

    fn scan_block_scalar_breaks(&mut self, indent: usize) -> Vec<char> {
        let mut breaks = Vec::new();
        while self.column < indent && self.peek(0) == ' ' {
            self.forward(1);
        }
        while is_break(self.peek(0)) {
            breaks.extend(self.scan_line_break());
            while self.column < indent && self.peek(0) == ' ' {
                self.forward(1);
            }
        }
        breaks
    }

    fn scan_flow_scalar(&mut self, double: bool) -> Result<String> {
        let start = self.mark();
        let quote = self.peek(0);
        self.forward(1);
        let mut chunks = String::new();
        self.scan_flow_scalar_non_spaces(double, start, &mut chunks)?;
        while self.peek(0) != quote {
            self.scan_flow_scalar_spaces(start, &mut chunks)?;
            self.scan_flow_scalar_non_spaces(double, start, &mut chunks)?;
        }
        self.forward(1);
        Ok(chunks)
    }

    fn scan_flow_scalar_non_spaces(
        &mut self,
        double: bool,
        start: Mark,
        chunks: &mut String,
    ) -> Result<()> {
        loop {
            let mut length = 0;
            while !(matches!(self.peek(length), '\'' | '"' | '\\' | ' ' | '\t')
                || is_break_or_end(self.peek(length)))
            {
                length += 1;
            }
            if length > 0 {
                chunks.push_str(&self.prefix(length));
                self.forward(length);
            }
            let ch = self.peek(0);
            if !double && ch == '\'' && self.peek(1) == '\'' {
                chunks.push('\'');
                self.forward(2);
            } else if (double && ch == '\'') || (!double && (ch == '"' || ch == '\\')) {
                chunks.push(ch);
                self.forward(1);
            } else if double && ch == '\\' {
                self.forward(1);
                let ch = self.peek(0);
                if let Some(replacement) = escape_replacement(ch) {
                    chunks.push(replacement);
                    self.forward(1);
                } else if let Some(length) = match ch {
                    'x' => Some(2),
                    'u' => Some(4),
                    'U' => Some(8),
                    _ => None,
                } {
                    self.forward(1);
                    for k in 0..length {
                        if !self.peek(k).is_ascii_hexdigit() {
                            return Err(LoadError::at(
                                self.mark(),
                                format!(
                                    "expected escape sequence of {length} hexadecimal numbers, but found {} (while scanning a double-quoted scalar at line {})",
                                    describe_char(self.peek(k)),
                                    start.line + 1
                                ),
                            ));
                        }
                    }
                    let code = u32::from_str_radix(&self.prefix(length), 16).unwrap_or(u32::MAX);
                    let decoded = char::from_u32(code).ok_or_else(|| {
                        LoadError::at(
                            self.mark(),
                            format!(
                                "escape sequence \\{ch}{} is not a Unicode scalar value",
                                self.prefix(length)
                            ),
                        )
                    })?;
                    chunks.push(decoded);
                    self.forward(length);
                } else if is_break(ch) {
                    self.scan_line_break();
                    self.scan_flow_scalar_breaks(start, chunks)?;
                } else {
                    return Err(LoadError::at(
                        self.mark(),
                        format!(
                            "found unknown escape character {} (while scanning a double-quoted scalar at line {})",
                            describe_char(ch),
                            start.line + 1
                        ),
                    ));
                }
            } else {
                return Ok(());
            }
        }
    }

    fn scan_flow_scalar_spaces(&mut self, start: Mark, chunks: &mut String) -> Result<()> {
        let mut length = 0;
        while matches!(self.peek(length), ' ' | '\t') {
            length += 1;
        }
        let whitespaces = self.prefix(length);
        self.forward(length);
        let ch = self.peek(0);
        if ch == '\0' {
            return Err(LoadError::at(
                self.mark(),
                format!(
                    "found unexpected end of stream (while scanning a quoted scalar at line {}, column {})",
                    start.line + 1,
                    start.column + 1
                ),
            ));
        }
        if is_break(ch) {
            let line_break = self.scan_line_break();
            let mut breaks = String::new();
            self.scan_flow_scalar_breaks(start, &mut breaks)?;
            if line_break != Some('\n') {
                chunks.extend(line_break);
            } else if breaks.is_empty() {
                chunks.push(' ');
            }
            chunks.push_str(&breaks);
        } else {
            chunks.push_str(&whitespaces);
        }
        Ok(())
    }

    fn scan_flow_scalar_breaks(&mut self, start: Mark, chunks: &mut String) -> Result<()> {
        loop {
            let prefix = self.prefix(3);
            if (prefix == "---" || prefix == "...") && is_blank_or_break_or_end(self.peek(3)) {
                return Err(LoadError::at(
                    self.mark(),
                    format!(
                        "found unexpected document separator (while scanning a quoted scalar at line {})",
                        start.line + 1
                    ),
                ));
            }
            while matches!(self.peek(0), ' ' | '\t') {
                self.forward(1);
            }
            if is_break(self.peek(0)) {
                chunks.extend(self.scan_line_break());
            } else {
                return Ok(());
            }
        }
    }

    fn scan_plain(&mut self) -> String {
        let mut chunks = String::new();
        let indent = self.indent + 1;
        let mut spaces = String::new();
        loop {
            if self.peek(0) == '#' {
                break;
            }
            let mut length = 0;
            loop {
                let ch = self.peek(length);
                let next = self.peek(length + 1);
                let colon_ends = ch == ':'
                    && (is_blank_or_break_or_end(next)
                        || (self.flow_level > 0 && ",[]{}".contains(next)));
                if is_blank_or_break_or_end(ch)
                    || colon_ends
                    || (self.flow_level > 0 && ",?[]{}".contains(ch))
                {
                    break;
                }
                length += 1;
            }
            if length == 0 {
                break;
            }
            self.allow_simple_key = false;
            chunks.push_str(&spaces);
            chunks.push_str(&self.prefix(length));
            self.forward(length);
            match self.scan_plain_spaces() {
                Some(found) if !found.is_empty() => spaces = found,
                _ => break,
            }
            if self.peek(0) == '#' || (self.flow_level == 0 && (self.column as isize) < indent) {
                break;
            }
        }
        chunks
    }

    /// The whitespace after a piece of a plain scalar, folded; `None` when
    /// a document marker ends the scalar.
    fn scan_plain_spaces(&mut self) -> Option<String> {
        let mut length = 0;
        while self.peek(length) == ' ' {
            length += 1;
        }
        let whitespaces = self.prefix(length);
        self.forward(length);
        let ch = self.peek(0);
        let mut chunks = String::new();
        if is_break(ch) {
            let line_break = self.scan_line_break();
            self.allow_simple_key = true;
            if self.at_document_marker() {
                return None;
            }
            let mut breaks = String::new();
            while self.peek(0) == ' ' || is_break(self.peek(0)) {
                if self.peek(0) == ' ' {
                    self.forward(1);
                } else {
                    breaks.extend(self.scan_line_break());
                    if self.at_document_marker() {
                        return None;
                    }
                }
            }
            if line_break != Some('\n') {
                chunks.extend(line_break);
            } else if breaks.is_empty() {
                chunks.push(' ');
            }
            chunks.push_str(&breaks);
        } else {
            chunks.push_str(&whitespaces);
        }
        Some(chunks)
    }

    fn at_document_marker(&self) -> bool {
        let prefix = self.prefix(3);
        (prefix == "---" || prefix == "...") && is_blank_or_break_or_end(self.peek(3))
    }
}

/// The one-character escapes of double-quoted scalars.
fn escape_replacement(ch: char) -> Option<char> {
    Some(match ch {
        '0' => '\0',
        'a' => '\u{07}',
        'b' => '\u{08}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{0B}',
        'f' => '\u{0C}',
        'r' => '\r',
        'e' => '\u{1B}',
        ' ' => ' ',
        '"' => '"',
        '\\' => '\\',
        '/' => '/',
        'N' => '\u{85}',
        '_' => '\u{A0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        _ => return None,
    })
}
