//! One `search` domain written as an item of the block sequence under `    dns_search:`, the
//! way PyYAML 3.12's emitter writes a string there (spec 9.2): the scalar analysis, the
//! choice between plain, single-quoted and double-quoted, and each style's line folding.
//!
//! The emitter state is reduced to what matters at this one place: the item's `-` sits in
//! column 4, continuation lines are indented by 6, the best width is 80, `allow_unicode` is off.

use crate::yaml::{PlainType, resolve_plain};

const BEST_WIDTH: usize = 80;
/// Indentation of the scalar's continuation lines (the sequence's 4, plus 2).
const INDENT: usize = 6;

fn is_break(ch: char) -> bool {
    matches!(ch, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Whitespace as the analysis sees it (the end of the text counts too).
fn is_blank(ch: Option<char>) -> bool {
    matches!(ch, None | Some('\0' | ' ' | '\t' | '\r')) || ch.is_some_and(is_break)
}

#[derive(Debug, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
}

/// PyYAML's `analyze_scalar` reduced to the two answers a block-sequence item needs.
struct Analysis {
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

fn analyze(text: &[char]) -> Analysis {
    if text.is_empty() {
        // The empty string may be plain, but it reads back as null, so it ends up quoted.
        return Analysis {
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let starts_with = |prefix: &str| text.iter().copied().take(3).eq(prefix.chars());
    let mut block_indicators = starts_with("---") || starts_with("...");
    let mut line_breaks = false;
    let mut special_characters = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let last = text.len() - 1;
    for (index, &ch) in text.iter().enumerate() {
        let preceded_by_blank = index == 0 || is_blank(Some(text[index - 1]));
        let followed_by_blank = is_blank(text.get(index + 1).copied());
        if index == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch)
                || (matches!(ch, '?' | ':' | '-') && followed_by_blank)
            {
                block_indicators = true;
            }
        } else if (ch == ':' && followed_by_blank) || (ch == '#' && preceded_by_blank) {
            block_indicators = true;
        }
        if is_break(ch) {
            line_breaks = true;
        }
        // With allow_unicode off, everything but printable ASCII and LF is special.
        if !(ch == '\n' || (' '..='~').contains(&ch)) {
            special_characters = true;
        }
        if ch == ' ' {
            leading_space |= index == 0;
            trailing_space |= index == last;
            break_space |= previous_break;
            (previous_space, previous_break) = (true, false);
        } else if is_break(ch) {
            leading_break |= index == 0;
            trailing_break |= index == last;
            space_break |= previous_space;
            (previous_space, previous_break) = (false, true);
        } else {
            (previous_space, previous_break) = (false, false);
        }
    }
    let edges = leading_space || leading_break || trailing_space || trailing_break;
    Analysis {
        allow_block_plain: !(edges
            || break_space
            || space_break
            || special_characters
            || line_breaks
            || block_indicators),
        allow_single_quoted: !(break_space || space_break || special_characters),
    }
}

fn choose_style(text: &str, chars: &[char]) -> Style {
    let analysis = analyze(chars);
    // A string may be plain only if it would be read back as a string.
    if resolve_plain(text) == PlainType::Str && analysis.allow_block_plain {
        Style::Plain
    } else if analysis.allow_single_quoted {
        Style::SingleQuoted
    } else {
        Style::DoubleQuoted
    }
}

/// The part of PyYAML's `Emitter` state the scalar writers use.
struct Emitter<'a> {
    out: &'a mut String,
    column: usize,
    whitespace: bool,
    indention: bool,
}

impl Emitter<'_> {
    fn write(&mut self, text: &[char]) {
        self.out.extend(text);
        self.column += text.len();
    }

    fn write_str(&mut self, text: &str) {
        self.out.push_str(text);
        self.column += text.chars().count();
    }

    fn write_line_break(&mut self, ch: char) {
        self.out.push(ch);
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
    }

    fn write_indent(&mut self) {
        if !self.indention || self.column > INDENT || (self.column == INDENT && !self.whitespace) {
            self.write_line_break('\n');
        }
        if self.column < INDENT {
            self.whitespace = true;
            self.out
                .extend(core::iter::repeat_n(' ', INDENT - self.column));
            self.column = INDENT;
        }
    }

    fn write_indicator(&mut self, indicator: &str, need_whitespace: bool) {
        if !self.whitespace && need_whitespace {
            self.write_str(" ");
        }
        self.write_str(indicator);
        self.whitespace = false;
        self.indention = false;
    }

    /// `write_plain`: a single space past the width becomes a line break. Plain text never has
    /// line breaks (the analysis forbids them), so only spaces are handled.
    fn write_plain(&mut self, text: &[char]) {
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write_str(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let mut spaces = false;
        let mut start = 0;
        for end in 0..=text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > BEST_WIDTH {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write(&text[start..end]);
                    }
                    start = end;
                }
            } else if ch.is_none() || ch == Some(' ') {
                self.write(&text[start..end]);
                start = end;
            }
            spaces = ch == Some(' ');
        }
    }

    /// `write_single_quoted`: quotes doubled, a single inner space past the width becomes a line
    /// break, a run of line breaks gets one extra empty line when it starts with LF.
    fn write_single_quoted(&mut self, text: &[char]) {
        self.write_indicator("'", true);
        let (mut spaces, mut breaks) = (false, false);
        let mut start = 0;
        for end in 0..=text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end
                        && self.column > BEST_WIDTH
                        && start != 0
                        && end != text.len()
                    {
                        self.write_indent();
                    } else {
                        self.write(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    if text[start] == '\n' {
                        self.write_line_break('\n');
                    }
                    for &line_break in &text[start..end] {
                        self.write_line_break(line_break);
                    }
                    self.write_indent();
                    start = end;
                }
            } else if (ch.is_none() || ch.is_some_and(|c| c == ' ' || c == '\'' || is_break(c)))
                && start < end
            {
                self.write(&text[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.write_str("''");
                start = end + 1;
            }
            if let Some(ch) = ch {
                spaces = ch == ' ';
                breaks = is_break(ch);
            }
        }
        self.write_indicator("'", false);
    }

    /// `write_double_quoted`: escapes for everything outside printable ASCII, and folding with
    /// an escaped line break when a line would pass the width.
    fn write_double_quoted(&mut self, text: &[char]) {
        self.write_indicator("\"", true);
        // Positions are signed: after an escape, `start` runs one past `end`.
        let length = text.len() as isize;
        let mut start: isize = 0;
        for end in 0..=length {
            let ch = text.get(end as usize).copied();
            let needs_escape = match ch {
                None => true,
                Some(c) => {
                    matches!(
                        c,
                        '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
                    ) || !(' '..='~').contains(&c)
                }
            };
            if needs_escape {
                if start < end {
                    self.write(&text[start as usize..end as usize]);
                    start = end;
                }
                if let Some(c) = ch {
                    self.write_str(&escape(c));
                    start = end + 1;
                }
            }
            let fold_here = ch == Some(' ') || start >= end;
            if 0 < end
                && end < length - 1
                && fold_here
                && self.column as isize + (end - start) > BEST_WIDTH as isize
            {
                if start < end {
                    self.write(&text[start as usize..end as usize]);
                    start = end;
                }
                self.write_str("\\");
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if text[start as usize] == ' ' {
                    self.write_str("\\");
                }
            }
        }
        self.write_indicator("\"", false);
    }
}

/// PyYAML's escape for one character of a double-quoted scalar (upper-case hex).
fn escape(ch: char) -> String {
    let short = match ch {
        '\0' => '0',
        '\u{7}' => 'a',
        '\u{8}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{b}' => 'v',
        '\u{c}' => 'f',
        '\r' => 'r',
        '\u{1b}' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{a0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => {
            let code = u32::from(ch);
            return match code {
                0..=0xFF => format!("\\x{code:02X}"),
                0x100..=0xFFFF => format!("\\u{code:04X}"),
                _ => format!("\\U{code:08X}"),
            };
        }
    };
    format!("\\{short}")
}

/// Appends `    - <item>` (no final line break) for one `dns_search` entry.
pub fn write_search_item(out: &mut String, text: &str) {
    out.push_str("    -");
    let mut emitter = Emitter {
        out,
        column: 5,
        whitespace: false,
        indention: true,
    };
    let chars: Vec<char> = text.chars().collect();
    match choose_style(text, &chars) {
        Style::Plain => emitter.write_plain(&chars),
        Style::SingleQuoted => emitter.write_single_quoted(&chars),
        Style::DoubleQuoted => emitter.write_double_quoted(&chars),
    }
}

#[cfg(test)]
mod tests;
