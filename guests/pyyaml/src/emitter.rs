//! [`Value`] → YAML text, byte for byte as PyYAML's `SafeDumper` writes it
//! (`Serializer` + `Emitter`), for one document without markers.
//!
//! The emitter is PyYAML's state machine unrolled into recursion over the
//! value; the state that carries across nodes (column, whether the last
//! character was whitespace or indentation, the indent stack, the flow
//! level) is kept exactly, because line breaking and the "indentless"
//! block sequence under a mapping key depend on it.

use std::collections::HashSet;

use super::analysis::{ScalarAnalysis, analyze_scalar, is_line_break};
use super::represent::{Anchors, ScalarRepr, identity, scalar_repr};
use super::value::Value;

/// The `yaml.dump` keyword arguments that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpOptions {
    /// Spaces per nesting level; PyYAML uses 2 unless 1 < indent < 10.
    pub indent: usize,
    /// Preferred line width; PyYAML uses 80 unless width > 2 × indent.
    pub width: usize,
    /// `None`: a collection is written in flow style when all its children
    /// are scalars; `Some(true)`/`Some(false)`: always flow / block.
    pub default_flow_style: Option<bool>,
    /// Write printable non-ASCII characters as they are.
    pub allow_unicode: bool,
    /// Sort mapping keys (when Python could compare them).
    pub sort_keys: bool,
}

impl DumpOptions {
    /// Salt's `salt.utils.yaml.safe_dump` as SpiroFS calls it.
    pub fn salt_safe_dump() -> Self {
        DumpOptions {
            indent: 2,
            width: 80,
            default_flow_style: None,
            allow_unicode: true,
            sort_keys: true,
        }
    }

    /// `yaml.safe_dump` with its own defaults.
    pub fn pyyaml_defaults() -> Self {
        DumpOptions {
            indent: 2,
            width: 80,
            default_flow_style: Some(false),
            allow_unicode: false,
            sort_keys: true,
        }
    }
}

/// Writes `value` as one YAML document. The output ends with a newline.
///
/// Recursion follows the nesting of `value`; values from
/// [`super::load`] are at most [`super::MAX_DEPTH`] levels deep.
pub fn dump(value: &Value, options: &DumpOptions) -> String {
    let best_indent = if 1 < options.indent && options.indent < 10 {
        options.indent
    } else {
        2
    };
    let best_width = if options.width > best_indent * 2 {
        options.width
    } else {
        80
    };
    let mut emitter = Emitter {
        best_indent,
        best_width,
        allow_unicode: options.allow_unicode,
        default_flow_style: options.default_flow_style,
        anchors: Anchors::discover(value, options.sort_keys),
        serialized: HashSet::new(),
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        open_ended: false,
        indent: None,
        indents: Vec::new(),
        flow_level: 0,
    };
    emitter.node(
        value,
        Context {
            root: true,
            mapping: false,
            simple_key: false,
        },
    );
    // Document end, then stream end.
    emitter.write_indent();
    if emitter.open_ended {
        emitter.write_indicator("...", true, false, false);
        emitter.write_indent();
    }
    emitter.out
}

/// Where a node sits (PyYAML's `*_context` flags).
#[derive(Debug, Clone, Copy)]
struct Context {
    root: bool,
    mapping: bool,
    simple_key: bool,
}

impl Context {
    const IN_SEQUENCE: Context = Context {
        root: false,
        mapping: false,
        simple_key: false,
    };
    const IN_MAPPING: Context = Context {
        root: false,
        mapping: true,
        simple_key: false,
    };
    const SIMPLE_KEY: Context = Context {
        root: false,
        mapping: true,
        simple_key: true,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
}

/// Simple keys must be shorter than this (tag and anchor included).
const MAX_SIMPLE_KEY_LENGTH: usize = 128;

struct Emitter {
    best_indent: usize,
    best_width: usize,
    allow_unicode: bool,
    default_flow_style: Option<bool>,
    anchors: Anchors,
    serialized: HashSet<usize>,

    out: String,
    column: usize,
    /// The last character written was whitespace.
    whitespace: bool,
    /// Only indentation (and `-`, `?`, `:` indicators) on this line so far.
    indention: bool,
    /// A plain root scalar needs an explicit `...` end.
    open_ended: bool,
    indent: Option<usize>,
    indents: Vec<Option<usize>>,
    flow_level: usize,
}

impl Emitter {
    // ----- nodes -----

    fn node(&mut self, value: &Value, context: Context) {
        if let Some(id) = identity(value) {
            if !self.serialized.insert(id) {
                let alias = format!("*{}", self.anchors.name(id).unwrap_or("id000"));
                self.write_indicator(&alias, true, false, false);
                return;
            }
            if let Some(name) = self.anchors.name(id) {
                let anchor = format!("&{name}");
                self.write_indicator(&anchor, true, false, false);
            }
        }
        match value {
            Value::Seq(items) => {
                let all_scalars = items.iter().all(|item| identity(item).is_none());
                let flow = self.default_flow_style.unwrap_or(all_scalars);
                if self.flow_level > 0 || flow || items.is_empty() {
                    self.flow_sequence(items);
                } else {
                    self.block_sequence(items, context);
                }
            }
            Value::Map(entries) => {
                let all_scalars = entries
                    .iter()
                    .all(|(key, value)| identity(key).is_none() && identity(value).is_none());
                let flow = self.default_flow_style.unwrap_or(all_scalars);
                let order = self.anchors.order(entries);
                let ordered: Vec<&(Value, Value)> = order.iter().map(|&i| &entries[i]).collect();
                if self.flow_level > 0 || flow || entries.is_empty() {
                    self.flow_mapping(&ordered);
                } else {
                    self.block_mapping(&ordered);
                }
            }
            scalar => {
                if let Some(repr) = scalar_repr(scalar) {
                    self.increase_indent(true, false);
                    self.scalar(&repr, context);
                    self.indent = self.indents.pop().flatten();
                }
            }
        }
    }

    fn flow_sequence(&mut self, items: &[Value]) {
        self.write_indicator("[", true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            self.node(item, Context::IN_SEQUENCE);
        }
        self.indent = self.indents.pop().flatten();
        self.flow_level -= 1;
        self.write_indicator("]", false, false, false);
    }

    fn flow_mapping(&mut self, entries: &[&(Value, Value)]) {
        self.write_indicator("{", true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        for (index, (key, value)) in entries.iter().map(|e| (&e.0, &e.1)).enumerate() {
            if index > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            if self.is_simple_key(key) {
                self.node(key, Context::SIMPLE_KEY);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, false);
                self.node(key, Context::IN_MAPPING);
                if self.column > self.best_width {
                    self.write_indent();
                }
                self.write_indicator(":", true, false, false);
            }
            self.node(value, Context::IN_MAPPING);
        }
        self.indent = self.indents.pop().flatten();
        self.flow_level -= 1;
        self.write_indicator("}", false, false, false);
    }

    fn block_sequence(&mut self, items: &[Value], context: Context) {
        // Under a mapping key the `- ` items start at the key's column.
        let indentless = context.mapping && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Context::IN_SEQUENCE);
        }
        self.indent = self.indents.pop().flatten();
    }

    fn block_mapping(&mut self, entries: &[&(Value, Value)]) {
        self.increase_indent(false, false);
        for (key, value) in entries.iter().map(|e| (&e.0, &e.1)) {
            self.write_indent();
            if self.is_simple_key(key) {
                self.node(key, Context::SIMPLE_KEY);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.node(key, Context::IN_MAPPING);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(value, Context::IN_MAPPING);
        }
        self.indent = self.indents.pop().flatten();
    }

    /// PyYAML's `check_simple_key`: short, single-line, non-empty scalars,
    /// aliases, and empty collections may be written as `key:`.
    fn is_simple_key(&self, key: &Value) -> bool {
        if let Some(id) = identity(key) {
            if self.serialized.contains(&id) {
                let anchor = self.anchors.name(id).map_or(0, str::len);
                return anchor < MAX_SIMPLE_KEY_LENGTH;
            }
            let anchor = self.anchors.name(id).map_or(0, str::len);
            let empty = match key {
                Value::Seq(items) => items.is_empty(),
                Value::Map(entries) => entries.is_empty(),
                _ => false,
            };
            return anchor + "!!map".len() < MAX_SIMPLE_KEY_LENGTH && empty;
        }
        let Some(repr) = scalar_repr(key) else {
            return false;
        };
        let chars: Vec<char> = repr.text.chars().collect();
        let analysis = analyze_scalar(&chars, self.allow_unicode);
        repr.tag_length + chars.len() < MAX_SIMPLE_KEY_LENGTH
            && !analysis.empty
            && !analysis.multiline
    }

    // ----- scalars -----

    fn scalar(&mut self, repr: &ScalarRepr, context: Context) {
        let text: Vec<char> = repr.text.chars().collect();
        let analysis = analyze_scalar(&text, self.allow_unicode);
        let split = !context.simple_key;
        match self.choose_style(repr, &analysis, context) {
            Style::Plain => self.write_plain(&text, split, context.root),
            Style::SingleQuoted => self.write_single_quoted(&text, split),
            Style::DoubleQuoted => self.write_double_quoted(&text, split),
        }
    }

    fn choose_style(
        &self,
        repr: &ScalarRepr,
        analysis: &ScalarAnalysis,
        context: Context,
    ) -> Style {
        if repr.plain_resolves
            && !(context.simple_key && (analysis.empty || analysis.multiline))
            && ((self.flow_level > 0 && analysis.allow_flow_plain)
                || (self.flow_level == 0 && analysis.allow_block_plain))
        {
            return Style::Plain;
        }
        if analysis.allow_single_quoted && !(context.simple_key && analysis.multiline) {
            return Style::SingleQuoted;
        }
        Style::DoubleQuoted
    }

    fn write_plain(&mut self, text: &[char], split: bool, root: bool) {
        if root {
            self.open_ended = true;
        }
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write_raw(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let mut spaces = false;
        let mut breaks = false;
        let mut start = 0;
        for end in 0..=text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > self.best_width && split {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write_chars(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_line_break) {
                    if text[start] == '\n' {
                        self.write_line_break(None);
                    }
                    for &br in &text[start..end] {
                        self.write_line_break(if br == '\n' { None } else { Some(br) });
                    }
                    self.write_indent();
                    self.whitespace = false;
                    self.indention = false;
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_line_break(c)) {
                self.write_chars(&text[start..end]);
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_line_break(c);
            }
        }
    }

    fn write_single_quoted(&mut self, text: &[char], split: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut start = 0;
        for end in 0..=text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end
                        && self.column > self.best_width
                        && split
                        && start != 0
                        && end != text.len()
                    {
                        self.write_indent();
                    } else {
                        self.write_chars(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_line_break) {
                    if text[start] == '\n' {
                        self.write_line_break(None);
                    }
                    for &br in &text[start..end] {
                        self.write_line_break(if br == '\n' { None } else { Some(br) });
                    }
                    self.write_indent();
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || c == '\'' || is_line_break(c)) && start < end {
                self.write_chars(&text[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.write_raw("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_line_break(c);
            }
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double_quoted(&mut self, text: &[char], split: bool) {
        self.write_indicator("\"", true, false, false);
        let mut start = 0;
        for end in 0..=text.len() {
            let ch = text.get(end).copied();
            let needs_escape = match ch {
                None => true,
                Some(c) => {
                    matches!(
                        c,
                        '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
                    ) || !(('\u{20}'..='\u{7E}').contains(&c)
                        || (self.allow_unicode
                            && (('\u{A0}'..='\u{D7FF}').contains(&c)
                                || ('\u{E000}'..='\u{FFFD}').contains(&c))))
                }
            };
            if needs_escape {
                if start < end {
                    self.write_chars(&text[start..end]);
                    start = end;
                }
                if let Some(c) = ch {
                    let escaped = escape(c);
                    self.write_raw(&escaped);
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < text.len()
                && (ch == Some(' ') || start >= end)
                // `end - start` is -1 right after an escape, as in PyYAML.
                && (self.column + end) as isize - start as isize > self.best_width as isize
                && split
            {
                let mut data: String = text[start.min(end)..end].iter().collect();
                data.push('\\');
                if start < end {
                    start = end;
                }
                self.write_raw(&data);
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if text.get(start) == Some(&' ') {
                    self.write_raw("\\");
                }
            }
        }
        self.write_indicator("\"", false, false, false);
    }

    // ----- writing -----

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        self.indent = match self.indent {
            None => Some(if flow { self.best_indent } else { 0 }),
            Some(indent) if !indentless => Some(indent + self.best_indent),
            same => same,
        };
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        whitespace: bool,
        indention: bool,
    ) {
        if !self.whitespace && need_whitespace {
            self.write_raw(" ");
        }
        self.write_raw(indicator);
        self.whitespace = whitespace;
        self.indention = self.indention && indention;
        self.open_ended = false;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.write_line_break(None);
        }
        if self.column < indent {
            self.whitespace = true;
            for _ in self.column..indent {
                self.out.push(' ');
            }
            self.column = indent;
        }
    }

    fn write_line_break(&mut self, line_break: Option<char>) {
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
        self.out.push(line_break.unwrap_or('\n'));
    }

    /// Text without line breaks; the column counts characters, as Python's
    /// `len` does.
    fn write_raw(&mut self, data: &str) {
        self.column += data.chars().count();
        self.out.push_str(data);
    }

    fn write_chars(&mut self, data: &[char]) {
        self.column += data.len();
        self.out.extend(data.iter());
    }
}

/// Double-quoted escapes: the short forms, then `\xXX`, `\uXXXX`,
/// `\UXXXXXXXX` with uppercase hex.
fn escape(c: char) -> String {
    let short = match c {
        '\0' => '0',
        '\u{07}' => 'a',
        '\u{08}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{0B}' => 'v',
        '\u{0C}' => 'f',
        '\r' => 'r',
        '\u{1B}' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{A0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => {
            let code = c as u32;
            return if code <= 0xFF {
                format!("\\x{code:02X}")
            } else if code <= 0xFFFF {
                format!("\\u{code:04X}")
            } else {
                format!("\\U{code:08X}")
            };
        }
    };
    format!("\\{short}")
}
