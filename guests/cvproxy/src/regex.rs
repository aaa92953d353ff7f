//! A small backtracking regular-expression engine with Python `re.search` semantics, for the
//! schema's `pattern` and `patternProperties` (spec 2.3).
//!
//! Why not the `regex` crate: Python's `$` also matches before a final `\n`, its `\s`/`\S`
//! follow `str.isspace()` (U+001C..U+001F are space), and the schema needs a lookahead; the
//! `regex` crate differs on all three. The engine is also tiny to build, which matters because
//! the guest compiles its schema afresh for every request.
//!
//! Supported: literals, `.` (not `\n`), `^`/`\A`, `$`, `\Z`, classes `[...]`/`[^...]` with
//! ranges, `\d \D \s \S`, the escapes `\a \f \n \r \t \v \xhh \uhhhh \Uhhhhhhhh` and escaped
//! punctuation, groups `(...)`, `(?:...)`, `(?P<name>...)` (captures are not reported),
//! lookaheads `(?=...)`/`(?!...)`, alternation, and the quantifiers `* + ? {n} {n,} {,m}
//! {n,m}`, greedy or lazy. Anything else (`\w`, `\b`, backreferences, flags, lookbehind) is
//! refused when the schema is loaded, never misread.
//!
//! Matching runs on an explicit heap stack, never by recursion, so multi-megabyte strings
//! cannot overflow the guest's call stack. A repetition of fixed-width characters (`.{4}`,
//! `[A-Z]+`) takes one backtrack entry however many times it repeats, and each search has a
//! step budget proportional to the text, so no input makes it run away.

use crate::unicode;
use std::cell::OnceCell;
use std::rc::Rc;

/// A compiled pattern.
#[derive(Debug)]
pub struct Regex {
    program: Vec<Inst>,
    /// The pattern can only match at the start of the text (it begins with `^`).
    anchored: bool,
    /// Per instruction: `Some(k)` when every way on from it passes a `$` (or `\Z`) after
    /// consuming at most `k` characters, so it can only succeed within `k + 1` characters of
    /// the end. Lets a greedy repetition stop giving back characters as soon as the rest
    /// can no longer match: `[...]+={0,2}$` on a long invalid text stays linear.
    tails: Vec<Option<u64>>,
}

/// The search gave up: the pattern needs more steps than the text's budget allows.
#[derive(Debug, PartialEq, Eq)]
pub struct BudgetExceeded;

/// Steps allowed per byte of text, on top of a fixed allowance. The schema's patterns are
/// linear and need fewer than 8 per byte; the fixed allowance (tens of milliseconds at most)
/// lets a quadratic pattern such as `a+b$` still answer like Python on texts of a few
/// thousand characters, while an exponential one gives up instead of running away.
const STEPS_PER_BYTE: u64 = 32;
const BASE_STEPS: u64 = 10_000_000;
/// Limits on what a pattern may compile to; the schema's patterns are far below them.
const MAX_PROGRAM: usize = 10_000;
const MAX_FIXED_SEQUENCE: usize = 256;
const MAX_GROUP_DEPTH: usize = 32;
/// Python's MAXREPEAT is larger, but no sensible schema pattern repeats this often.
const MAX_COUNT: u32 = 100_000;

/// One character test.
#[derive(Clone, Debug, PartialEq)]
enum Matcher {
    Literal(char),
    AnyButNewline,
    /// Shared: a class is copied into every instruction that tests it.
    Class(Rc<Class>),
}

#[derive(Clone, Debug, PartialEq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
    sets: Vec<Set>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Set {
    Space,
    NotSpace,
    Digit,
    NotDigit,
}

/// The ASCII characters of `low..=high` as a bitmap.
fn range_bits(low: char, high: char) -> u128 {
    let (low, high) = (u32::from(low), u32::from(high).min(127));
    if low > high {
        return 0;
    }
    let ones = u128::MAX >> (127 - (high - low));
    ones << low
}

impl Set {
    /// The ASCII members; Python's `\s` in ASCII is `\t\n\v\f\r`, U+001C..U+001F and space.
    fn ascii_bits(self) -> u128 {
        let space = range_bits('\t', '\r') | range_bits('\u{1c}', ' ');
        let digit = range_bits('0', '9');
        let all = range_bits('\0', '\u{7f}');
        match self {
            Set::Space => space,
            Set::NotSpace => all & !space,
            Set::Digit => digit,
            Set::NotDigit => all & !digit,
        }
    }

    fn contains(self, c: char) -> bool {
        match self {
            Set::Space => unicode::is_space(c),
            Set::NotSpace => !unicode::is_space(c),
            Set::Digit => unicode::is_decimal(c),
            Set::NotDigit => !unicode::is_decimal(c),
        }
    }
}

impl Matcher {
    fn matches(&self, c: char) -> bool {
        match self {
            Matcher::Literal(literal) => c == *literal,
            Matcher::AnyButNewline => c != '\n',
            Matcher::Class(class) => {
                let inside = class
                    .ranges
                    .iter()
                    .any(|&(low, high)| (low..=high).contains(&c))
                    || class.sets.iter().any(|set| set.contains(c));
                inside != class.negated
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Assertion {
    /// `^` and `\A` (no MULTILINE flag): the start of the text.
    Start,
    /// `$`: the end of the text, or just before a `\n` that ends it.
    End,
    /// `\Z`: the very end of the text.
    EndOfText,
}

#[derive(Debug)]
enum Node {
    Empty,
    Char(Matcher),
    Assert(Assertion),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Look {
        negative: bool,
        node: Box<Node>,
    },
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    },
}

/// A character test as compiled: ASCII characters (nearly all of real input) are answered by
/// a bitmap, others by the matcher.
#[derive(Clone, Debug)]
struct Test {
    /// Bit `b % 64` of word `b / 64`: whether ASCII byte `b` matches (two words, because a
    /// `u128` shift compiles to a slow instruction sequence).
    ascii: [u64; 2],
    matcher: Matcher,
    /// The same as a byte table, built on first use on a long text (see [`Test::byte_table`]).
    table: OnceCell<Box<[bool; 256]>>,
}

impl Test {
    fn new(matcher: Matcher) -> Test {
        let ascii = match &matcher {
            Matcher::Literal(c) => range_bits(*c, *c),
            Matcher::AnyButNewline => !(1 << b'\n'),
            Matcher::Class(class) => {
                let inside = class
                    .ranges
                    .iter()
                    .map(|&(low, high)| range_bits(low, high))
                    .chain(class.sets.iter().map(|set| set.ascii_bits()))
                    .fold(0, |bits, more| bits | more);
                if class.negated { !inside } else { inside }
            }
        };
        Test {
            ascii: [ascii as u64, (ascii >> 64) as u64],
            matcher,
            table: OnceCell::new(),
        }
    }

    /// Per byte value: an ASCII character that matches (non-ASCII bytes are all false).
    /// Built once per compiled pattern, when first needed.
    fn byte_table(&self) -> &[bool; 256] {
        self.table.get_or_init(|| {
            let mut table = Box::new([false; 256]);
            for byte in 0..128u8 {
                table[usize::from(byte)] = self.ascii_matches(byte);
            }
            table
        })
    }

    /// Whether an ASCII byte (below 0x80) matches.
    #[inline]
    fn ascii_matches(&self, byte: u8) -> bool {
        self.ascii[usize::from(byte >> 6) & 1] >> (byte & 63) & 1 != 0
    }

    /// Tests the character at `pos`; its end if it matches.
    #[inline]
    fn at(&self, text: &str, pos: usize) -> Option<usize> {
        let byte = *text.as_bytes().get(pos)?;
        if byte < 0x80 {
            return self.ascii_matches(byte).then_some(pos + 1);
        }
        let (c, next) = next_char(text, pos)?;
        self.matcher.matches(c).then_some(next)
    }
}

#[derive(Debug)]
enum Inst {
    Char(Test),
    Assert(Assertion),
    /// Continue at the first target; on failure, at the second.
    Split(usize, usize),
    Jump(usize),
    /// A repetition of a fixed sequence of character tests; continues at the next instruction.
    Repeat {
        sequence: Box<[Test]>,
        /// Every test of the sequence is the same (`.{4}`, `[A-Z]`): a faster loop applies.
        uniform: bool,
        min: u32,
        max: u32,
        greedy: bool,
    },
    /// The lookahead body follows; `resume` is the instruction after its `LookEnd`.
    LookStart {
        negative: bool,
        resume: usize,
    },
    LookEnd,
    Match,
}

// ---------------------------------------------------------------------------------------------
// Parsing (Python `sre_parse` syntax, the subset above)

struct PatternParser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    depth: usize,
}

fn unsupported(what: &str) -> String {
    format!("unsupported regular expression syntax: {what}")
}

impl PatternParser<'_> {
    fn eat(&mut self, expected: char) -> bool {
        self.chars.next_if_eq(&expected).is_some()
    }

    /// An alternation, up to `)` or the end.
    fn alternation(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.sequence()?];
        while self.eat('|') {
            branches.push(self.sequence()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alternate(branches)
        })
    }

    fn sequence(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        while let Some(&c) = self.chars.peek() {
            if c == '|' || c == ')' {
                break;
            }
            self.chars.next();
            let atom = match c {
                '*' | '+' | '?' => return Err("nothing to repeat".into()),
                '{' if self.quantifier_follows() => return Err("nothing to repeat".into()),
                '(' => self.group()?,
                '[' => Node::Char(self.class()?),
                '.' => Node::Char(Matcher::AnyButNewline),
                '^' => Node::Assert(Assertion::Start),
                '$' => Node::Assert(Assertion::End),
                '\\' => self.escape()?,
                _ => Node::Char(Matcher::Literal(c)),
            };
            let atom = self.quantified(atom)?;
            items.push(atom);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    /// Whether a `{` just read starts a quantifier (`{n}`, `{n,}`, `{,m}`, `{n,m}`, `{,}`);
    /// otherwise Python reads it as a literal.
    fn quantifier_follows(&self) -> bool {
        let mut ahead = self.chars.clone();
        let mut digits = 0;
        while ahead.next_if(char::is_ascii_digit).is_some() {
            digits += 1;
        }
        if ahead.next_if_eq(&',').is_some() {
            while ahead.next_if(char::is_ascii_digit).is_some() {}
        } else if digits == 0 {
            return false;
        }
        ahead.next_if_eq(&'}').is_some()
    }

    fn number(&mut self) -> Result<Option<u32>, String> {
        let mut text = String::new();
        while let Some(digit) = self.chars.next_if(char::is_ascii_digit) {
            text.push(digit);
        }
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<u32>() {
            Ok(count) if count <= MAX_COUNT => Ok(Some(count)),
            _ => Err(unsupported("repeat count too large")),
        }
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.chars.peek() {
            Some('*') => {
                self.chars.next();
                (0, None)
            }
            Some('+') => {
                self.chars.next();
                (1, None)
            }
            Some('?') => {
                self.chars.next();
                (0, Some(1))
            }
            Some('{') => {
                let mut ahead = self.chars.clone();
                ahead.next();
                let probe = PatternParser {
                    chars: ahead,
                    depth: self.depth,
                };
                if !probe.quantifier_follows() {
                    return Ok(atom);
                }
                self.chars.next();
                let min = self.number()?;
                let max = if self.eat(',') { self.number()? } else { min };
                self.eat('}');
                let min = min.unwrap_or(0);
                if max.is_some_and(|max| max < min) {
                    return Err("min repeat greater than max repeat".into());
                }
                (min, max)
            }
            _ => return Ok(atom),
        };
        match atom {
            Node::Assert(_) => return Err("nothing to repeat".into()),
            Node::Look { .. } => return Err(unsupported("a repeated lookahead")),
            _ => {}
        }
        let greedy = !self.eat('?');
        if matches!(self.chars.peek(), Some('*' | '+' | '?')) {
            return Err("multiple repeat".into());
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
            greedy,
        })
    }

    /// After `(`.
    fn group(&mut self) -> Result<Node, String> {
        if self.depth >= MAX_GROUP_DEPTH {
            return Err(unsupported("groups nested too deeply"));
        }
        let mut look = None;
        if self.eat('?') {
            match self.chars.next() {
                Some(':') => {}
                Some('=') => look = Some(false),
                Some('!') => look = Some(true),
                Some('P') if self.eat('<') => {
                    let mut name = String::new();
                    while let Some(c) = self.chars.next_if(|&c| c != '>') {
                        name.push(c);
                    }
                    let valid = name
                        .chars()
                        .next()
                        .is_some_and(|c| c == '_' || c.is_alphabetic())
                        && name.chars().all(|c| c == '_' || c.is_alphanumeric());
                    if !self.eat('>') || !valid {
                        return Err("bad character in group name".into());
                    }
                }
                _ => return Err(unsupported("this (? group")),
            }
        }
        self.depth += 1;
        let inner = self.alternation()?;
        self.depth -= 1;
        if !self.eat(')') {
            return Err("missing ), unterminated subpattern".into());
        }
        Ok(match look {
            Some(negative) => Node::Look {
                negative,
                node: Box::new(inner),
            },
            None => inner,
        })
    }

    /// `n` hex digits after `\x`, `\u` or `\U`.
    fn hex_escape(&mut self, count: usize) -> Result<char, String> {
        let mut code = 0u32;
        for _ in 0..count {
            let digit = self
                .chars
                .next()
                .and_then(|c| c.to_digit(16))
                .ok_or("incomplete escape")?;
            code = code * 16 + digit;
        }
        char::from_u32(code).ok_or_else(|| "bad escape".into())
    }

    /// A character escape valid both inside and outside classes, after the backslash.
    fn char_escape(&mut self, c: char) -> Result<char, String> {
        Ok(match c {
            'a' => '\u{7}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            'x' => self.hex_escape(2)?,
            'u' => self.hex_escape(4)?,
            'U' => self.hex_escape(8)?,
            _ if c.is_ascii_alphanumeric() => return Err(unsupported(&format!("\\{c}"))),
            _ => c,
        })
    }

    /// After a backslash outside a class.
    fn escape(&mut self) -> Result<Node, String> {
        let c = self.chars.next().ok_or("bad escape (end of pattern)")?;
        let set = |set| {
            Node::Char(Matcher::Class(Rc::new(Class {
                negated: false,
                ranges: Vec::new(),
                sets: vec![set],
            })))
        };
        Ok(match c {
            'd' => set(Set::Digit),
            'D' => set(Set::NotDigit),
            's' => set(Set::Space),
            'S' => set(Set::NotSpace),
            'A' => Node::Assert(Assertion::Start),
            'Z' => Node::Assert(Assertion::EndOfText),
            _ => Node::Char(Matcher::Literal(self.char_escape(c)?)),
        })
    }

    /// After `[`.
    fn class(&mut self) -> Result<Matcher, String> {
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        let mut sets = Vec::new();
        let mut first = true;
        loop {
            let c = self.chars.next().ok_or("unterminated character set")?;
            if c == ']' && !first {
                break;
            }
            first = false;
            // One item: a character, or a set such as `\s` that cannot bound a range.
            let low = match c {
                '\\' => {
                    let escaped = self.chars.next().ok_or("unterminated character set")?;
                    match escaped {
                        'd' => Err(Set::Digit),
                        'D' => Err(Set::NotDigit),
                        's' => Err(Set::Space),
                        'S' => Err(Set::NotSpace),
                        'b' => Ok('\u{8}'),
                        _ => Ok(self.char_escape(escaped)?),
                    }
                }
                _ => Ok(c),
            };
            // A `-` followed by `]` is a literal; otherwise it makes a range.
            let mut ahead = self.chars.clone();
            let range_follows =
                ahead.next() == Some('-') && !matches!(ahead.peek(), Some(']') | None);
            let low = match low {
                Ok(low) => low,
                Err(_) if range_follows => return Err("bad character range".into()),
                Err(set) => {
                    sets.push(set);
                    continue;
                }
            };
            if range_follows {
                self.chars.next();
                let high = match self.chars.next() {
                    Some('\\') => {
                        let escaped = self.chars.next().ok_or("unterminated character set")?;
                        if matches!(escaped, 'd' | 'D' | 's' | 'S') {
                            return Err("bad character range".into());
                        }
                        if escaped == 'b' {
                            '\u{8}'
                        } else {
                            self.char_escape(escaped)?
                        }
                    }
                    Some(high) => high,
                    None => return Err("unterminated character set".into()),
                };
                if high < low {
                    return Err("bad character range".into());
                }
                ranges.push((low, high));
            } else {
                ranges.push((low, low));
            }
        }
        Ok(Matcher::Class(Rc::new(Class {
            negated,
            ranges,
            sets,
        })))
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling

/// How many characters the node always matches, if it is a fixed sequence of character
/// tests (`.{4}`, `(ab)`) of at most [`MAX_FIXED_SEQUENCE`].
fn fixed_length(node: &Node) -> Option<usize> {
    let length = match node {
        Node::Char(_) => 1,
        Node::Concat(items) => items
            .iter()
            .try_fold(0usize, |sum, item| sum.checked_add(fixed_length(item)?))?,
        Node::Repeat {
            node,
            min,
            max: Some(max),
            ..
        } if min == max => fixed_length(node)?.checked_mul(*min as usize)?,
        _ => return None,
    };
    (length <= MAX_FIXED_SEQUENCE).then_some(length)
}

/// Appends the tests of a node that [`fixed_length`] accepted.
fn push_fixed(node: &Node, sequence: &mut Vec<Matcher>) {
    match node {
        Node::Char(matcher) => sequence.push(matcher.clone()),
        Node::Concat(items) => items.iter().for_each(|item| push_fixed(item, sequence)),
        Node::Repeat { node, min, .. } => (0..*min).for_each(|_| push_fixed(node, sequence)),
        _ => {}
    }
}

fn can_match_empty(node: &Node) -> bool {
    match node {
        Node::Empty | Node::Assert(_) | Node::Look { .. } => true,
        Node::Char(_) => false,
        Node::Concat(items) => items.iter().all(can_match_empty),
        Node::Alternate(branches) => branches.iter().any(can_match_empty),
        Node::Repeat { node, min, .. } => *min == 0 || can_match_empty(node),
    }
}

/// Whether every match must start at the beginning of the text.
fn is_anchored(node: &Node) -> bool {
    match node {
        Node::Assert(Assertion::Start) => true,
        Node::Concat(items) => items.first().is_some_and(is_anchored),
        Node::Alternate(branches) => branches.iter().all(is_anchored),
        _ => false,
    }
}

/// [`Regex::tails`], computed backwards over straight-line code; anything that branches
/// (alternation, loops, lookaheads) gives up with `None`.
fn end_distances(program: &[Inst]) -> Vec<Option<u64>> {
    let mut tails = vec![None; program.len()];
    let mut next: Option<u64> = None;
    for (index, inst) in program.iter().enumerate().rev() {
        next = match inst {
            Inst::Assert(Assertion::End | Assertion::EndOfText) => Some(0),
            Inst::Assert(Assertion::Start) => next,
            Inst::Char(_) => next.map(|chars| chars + 1),
            Inst::Repeat { sequence, max, .. } if *max != u32::MAX => {
                next.map(|chars| chars + u64::from(*max) * sequence.len() as u64)
            }
            _ => None,
        };
        tails[index] = next;
    }
    tails
}

struct Compiler {
    program: Vec<Inst>,
}

impl Compiler {
    fn push(&mut self, inst: Inst) -> Result<usize, String> {
        if self.program.len() >= MAX_PROGRAM {
            return Err(unsupported("pattern too large"));
        }
        self.program.push(inst);
        Ok(self.program.len() - 1)
    }

    fn patch(&mut self, at: usize, inst: Inst) {
        self.program[at] = inst;
    }

    fn compile(&mut self, node: &Node) -> Result<(), String> {
        match node {
            Node::Empty => {}
            Node::Char(matcher) => {
                self.push(Inst::Char(Test::new(matcher.clone())))?;
            }
            Node::Assert(assertion) => {
                self.push(Inst::Assert(*assertion))?;
            }
            Node::Concat(items) => {
                for item in items {
                    self.compile(item)?;
                }
            }
            Node::Alternate(branches) => {
                // Split(b1, next); b1; Jump(end); next: Split(b2, ...); ...; bn; end:
                let mut jumps = Vec::new();
                for (index, branch) in branches.iter().enumerate() {
                    if index + 1 < branches.len() {
                        let split = self.push(Inst::Match)?;
                        self.compile(branch)?;
                        jumps.push(self.push(Inst::Match)?);
                        let next = self.program.len();
                        self.patch(split, Inst::Split(split + 1, next));
                    } else {
                        self.compile(branch)?;
                    }
                }
                let end = self.program.len();
                for jump in jumps {
                    self.patch(jump, Inst::Jump(end));
                }
            }
            Node::Look { negative, node } => {
                let start = self.push(Inst::Match)?;
                self.compile(node)?;
                self.push(Inst::LookEnd)?;
                let resume = self.program.len();
                self.patch(
                    start,
                    Inst::LookStart {
                        negative: *negative,
                        resume,
                    },
                );
            }
            Node::Repeat {
                node,
                min,
                max,
                greedy,
            } => self.repeat(node, *min, *max, *greedy)?,
        }
        Ok(())
    }

    fn repeat(
        &mut self,
        node: &Node,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    ) -> Result<(), String> {
        if let Some(length) = fixed_length(node).filter(|&length| length > 0) {
            let mut sequence = Vec::with_capacity(length);
            push_fixed(node, &mut sequence);
            let uniform = sequence.iter().all(|matcher| *matcher == sequence[0]);
            self.push(Inst::Repeat {
                uniform,
                sequence: sequence.into_iter().map(Test::new).collect(),
                min,
                max: max.unwrap_or(u32::MAX),
                greedy,
            })?;
            return Ok(());
        }
        if max.is_none() && can_match_empty(node) {
            return Err(unsupported(
                "a repeated group that can match the empty string",
            ));
        }
        for _ in 0..min {
            self.compile(node)?;
        }
        let split = |first: usize, second: usize| {
            if greedy {
                Inst::Split(first, second)
            } else {
                Inst::Split(second, first)
            }
        };
        match max {
            None => {
                // loop: Split(body, end); body; Jump(loop); end:
                let head = self.push(Inst::Match)?;
                self.compile(node)?;
                self.push(Inst::Jump(head))?;
                let end = self.program.len();
                self.patch(head, split(head + 1, end));
            }
            Some(max) => {
                // Split(body, end); body; Split(body, end); body; ... end:
                let mut splits = Vec::new();
                for _ in min..max {
                    splits.push(self.push(Inst::Match)?);
                    self.compile(node)?;
                }
                let end = self.program.len();
                for at in splits {
                    self.patch(at, split(at + 1, end));
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Matching

enum Backtrack {
    /// Resume at `pc` with `pos`.
    Alt { pc: usize, pos: usize },
    /// A greedy repetition that may give back iterations; continue at `pc` after giving one.
    Greedy {
        pc: usize,
        pos: usize,
        count: u32,
        min: u32,
        width: usize,
    },
    /// A lazy repetition (instruction `repeat`) that may take one more iteration.
    Lazy {
        repeat: usize,
        pos: usize,
        count: u32,
    },
    /// The start of a lookahead whose body is running.
    Look {
        negative: bool,
        resume: usize,
        pos: usize,
    },
}

/// The next character of `text` at byte offset `pos`.
fn next_char(text: &str, pos: usize) -> Option<(char, usize)> {
    let byte = *text.as_bytes().get(pos)?;
    if byte < 0x80 {
        return Some((char::from(byte), pos + 1));
    }
    let c = text.get(pos..)?.chars().next()?;
    Some((c, pos + c.len_utf8()))
}

fn previous_boundary(text: &str, mut pos: usize) -> usize {
    pos = pos.saturating_sub(1);
    if text.as_bytes().get(pos).is_some_and(u8::is_ascii) {
        return pos;
    }
    while pos > 0 && !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

struct Budget(u64);

impl Budget {
    fn spend(&mut self, steps: u64) -> Result<(), BudgetExceeded> {
        self.0 = self.0.checked_sub(steps).ok_or(BudgetExceeded)?;
        Ok(())
    }
}

impl Regex {
    /// Compiles a pattern written in Python `re` syntax.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let mut parser = PatternParser {
            chars: pattern.chars().peekable(),
            depth: 0,
        };
        let node = parser.alternation()?;
        if parser.chars.next().is_some() {
            return Err("unbalanced parenthesis".into());
        }
        let mut compiler = Compiler {
            program: Vec::with_capacity(pattern.len() + 1),
        };
        compiler.compile(&node)?;
        compiler.push(Inst::Match)?;
        let tails = end_distances(&compiler.program);
        Ok(Regex {
            program: compiler.program,
            anchored: is_anchored(&node),
            tails,
        })
    }

    /// `re.search(pattern, text) is not None`.
    pub fn is_match(&self, text: &str) -> Result<bool, BudgetExceeded> {
        let mut budget = Budget(BASE_STEPS + STEPS_PER_BYTE * text.len() as u64);
        let mut stack = Vec::new();
        let mut start = 0;
        loop {
            if self.run(text, start, &mut stack, &mut budget)? {
                return Ok(true);
            }
            if self.anchored {
                return Ok(false);
            }
            match next_char(text, start) {
                Some((_, next)) => start = next,
                None => return Ok(false),
            }
        }
    }

    /// One sequence of the repetition at `pos`, or `None` if it does not match there.
    fn sequence_at(
        text: &str,
        sequence: &[Test],
        mut pos: usize,
        budget: &mut Budget,
    ) -> Result<Option<usize>, BudgetExceeded> {
        budget.spend(sequence.len() as u64)?;
        for test in sequence {
            match test.at(text, pos) {
                Some(next) => pos = next,
                None => return Ok(None),
            }
        }
        Ok(Some(pos))
    }

    /// Up to `limit` repetitions of `sequence` from `pos`: how many, and where they end.
    /// A tight loop over the characters, charged in one go: it consumes a character per
    /// step, so it is bounded by the text anyway.
    fn repetitions(
        text: &str,
        sequence: &[Test],
        uniform: bool,
        pos: usize,
        limit: u32,
        budget: &mut Budget,
    ) -> Result<(u32, usize), BudgetExceeded> {
        if let (true, Some(test)) = (uniform, sequence.first()) {
            return Self::uniform_repetitions(text, test, sequence.len(), pos, limit, budget);
        }
        let (mut count, mut end, mut at, mut index, mut steps) = (0, pos, pos, 0, 0u64);
        while count < limit {
            let Some(test) = sequence.get(index) else {
                break;
            };
            match test.at(text, at) {
                Some(next) => at = next,
                None => break,
            }
            steps += 1;
            index += 1;
            if index == sequence.len() {
                index = 0;
                count += 1;
                end = at;
            }
        }
        budget.spend(steps)?;
        Ok((count, end))
    }

    /// [`Self::repetitions`] of `width` copies of one test: runs of matching ASCII bytes are
    /// consumed by a tight loop (multi-megabyte configlets are ASCII), other characters one
    /// by one.
    fn uniform_repetitions(
        text: &str,
        test: &Test,
        width: usize,
        pos: usize,
        limit: u32,
        budget: &mut Budget,
    ) -> Result<(u32, usize), BudgetExceeded> {
        let bytes = text.as_bytes();
        let width = width as u64;
        let most = u64::from(limit) * width;
        // A byte table makes the loop one load per byte; worth building for long texts only.
        let table = (bytes.len() - pos > 1024).then(|| test.byte_table());
        let (mut chars, mut at) = (0u64, pos);
        while chars < most {
            let room = usize::try_from(most - chars).unwrap_or(usize::MAX);
            let rest = bytes.get(at..).unwrap_or_default().iter().take(room);
            let run = match table {
                Some(table) => rest.take_while(|&&byte| table[usize::from(byte)]).count(),
                None => rest
                    .take_while(|&&byte| byte < 0x80 && test.ascii_matches(byte))
                    .count(),
            };
            at += run;
            chars += run as u64;
            if chars >= most || bytes.get(at).is_none_or(|&byte| byte < 0x80) {
                break;
            }
            match test.at(text, at) {
                Some(next) => at = next,
                None => break,
            }
            chars += 1;
        }
        budget.spend(chars)?;
        let count = chars / width;
        // Give back the characters of an incomplete last repetition.
        let mut end = at;
        for _ in 0..chars - count * width {
            end = previous_boundary(text, end);
        }
        Ok((u32::try_from(count).unwrap_or(limit), end))
    }

    /// Whether the program matches at `start` (an anchored attempt).
    fn run(
        &self,
        text: &str,
        start: usize,
        stack: &mut Vec<Backtrack>,
        budget: &mut Budget,
    ) -> Result<bool, BudgetExceeded> {
        stack.clear();
        let mut pc = 0;
        let mut pos = start;
        loop {
            budget.spend(1)?;
            let advanced = match &self.program[pc] {
                Inst::Char(test) => match test.at(text, pos) {
                    Some(next) => {
                        pos = next;
                        pc += 1;
                        true
                    }
                    None => false,
                },
                Inst::Assert(assertion) => {
                    let holds = match assertion {
                        Assertion::Start => pos == 0,
                        Assertion::EndOfText => pos == text.len(),
                        Assertion::End => {
                            pos == text.len() || (pos + 1 == text.len() && text.ends_with('\n'))
                        }
                    };
                    pc += 1;
                    holds
                }
                Inst::Split(first, second) => {
                    stack.push(Backtrack::Alt { pc: *second, pos });
                    pc = *first;
                    true
                }
                Inst::Jump(target) => {
                    pc = *target;
                    true
                }
                Inst::Repeat {
                    sequence,
                    uniform,
                    min,
                    max,
                    greedy,
                } => {
                    let limit = if *greedy { *max } else { *min };
                    let (count, end) =
                        Self::repetitions(text, sequence, *uniform, pos, limit, budget)?;
                    if count < *min {
                        false
                    } else {
                        if *greedy && count > *min {
                            stack.push(Backtrack::Greedy {
                                pc: pc + 1,
                                pos: end,
                                count,
                                min: *min,
                                width: sequence.len(),
                            });
                        } else if !*greedy && count < *max {
                            stack.push(Backtrack::Lazy {
                                repeat: pc,
                                pos: end,
                                count,
                            });
                        }
                        pos = end;
                        pc += 1;
                        true
                    }
                }
                Inst::LookStart { negative, resume } => {
                    stack.push(Backtrack::Look {
                        negative: *negative,
                        resume: *resume,
                        pos,
                    });
                    pc += 1;
                    true
                }
                Inst::LookEnd => {
                    // The body matched: drop its alternatives (lookaheads are atomic).
                    let mut succeeded = false;
                    while let Some(entry) = stack.pop() {
                        if let Backtrack::Look {
                            negative,
                            resume,
                            pos: saved,
                        } = entry
                        {
                            pc = resume;
                            pos = saved;
                            succeeded = !negative;
                            break;
                        }
                    }
                    succeeded
                }
                Inst::Match => return Ok(true),
            };
            if advanced {
                continue;
            }
            // Backtrack to the most recent alternative.
            loop {
                budget.spend(1)?;
                let Some(top) = stack.last_mut() else {
                    return Ok(false);
                };
                match top {
                    Backtrack::Alt { pc: to, pos: at } => {
                        pc = *to;
                        pos = *at;
                        stack.pop();
                        break;
                    }
                    Backtrack::Greedy {
                        pc: to,
                        pos: at,
                        count,
                        min,
                        width,
                    } => {
                        budget.spend(*width as u64)?;
                        for _ in 0..*width {
                            *at = previous_boundary(text, *at);
                        }
                        *count -= 1;
                        let (to, at, exhausted) = (*to, *at, *count == *min);
                        // Positions only shrink from here: once the rest cannot reach the
                        // end any more, no smaller position can either.
                        // (A character is at most 4 bytes.)
                        let hopeless = self.tails[to]
                            .is_some_and(|chars| (at as u64) + 4 * chars + 1 < text.len() as u64);
                        if exhausted || hopeless {
                            stack.pop();
                        }
                        if hopeless {
                            continue;
                        }
                        pc = to;
                        pos = at;
                        break;
                    }
                    Backtrack::Lazy {
                        repeat,
                        pos: at,
                        count,
                    } => {
                        let (repeat, at, count) = (*repeat, *at, *count);
                        stack.pop();
                        let Inst::Repeat { sequence, max, .. } = &self.program[repeat] else {
                            continue;
                        };
                        if let Some(next) = Self::sequence_at(text, sequence, at, budget)? {
                            if count + 1 < *max {
                                stack.push(Backtrack::Lazy {
                                    repeat,
                                    pos: next,
                                    count: count + 1,
                                });
                            }
                            pc = repeat + 1;
                            pos = next;
                            break;
                        }
                    }
                    Backtrack::Look {
                        negative,
                        resume,
                        pos: at,
                    } => {
                        // The body failed everywhere: a negative lookahead holds.
                        let (negative, resume, at) = (*negative, *resume, *at);
                        stack.pop();
                        if negative {
                            pc = resume;
                            pos = at;
                            break;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(pattern: &str, text: &str) -> bool {
        Regex::new(pattern)
            .unwrap_or_else(|error| panic!("{pattern}: {error}"))
            .is_match(text)
            .unwrap()
    }

    const CONFIGLET: &str = "^(?=(.{4})+$)[A-Za-z0-9+/-]+={0,2}$";
    const SERIAL: &str = "^[A-Z][A-Z0-9]{10}$";
    const DEVICE: &str = "^[a-z][a-z0-9_.-]*$";
    const NON_SPACE: &str = "\\S+";

    // Expected results from CPython 3.11 `re.search`.
    #[test]
    fn schema_patterns_match_python() {
        let cases = [
            (NON_SPACE, "x", true),
            (NON_SPACE, " x ", true),
            (NON_SPACE, "", false),
            (NON_SPACE, "   ", false),
            (NON_SPACE, "\u{1c}", false),
            (
                NON_SPACE,
                "\u{1f}\u{85}\u{a0}\u{3000}\u{2028}\t\u{b}",
                false,
            ),
            (NON_SPACE, "\u{200b}", true),
            (NON_SPACE, "\u{feff}", true),
            (SERIAL, "ABC12345678", true),
            (SERIAL, "ABC12345678\n", true),
            (SERIAL, "ABC12345678\n\n", false),
            (SERIAL, "ABC1234567", false),
            (SERIAL, "aBC12345678", false),
            (SERIAL, "ABC123456789", false),
            (DEVICE, "leaf1", true),
            (DEVICE, "leaf-1.dc_2", true),
            (DEVICE, "a\n", true),
            (DEVICE, "a\nb", false),
            (DEVICE, "1leaf", false),
            (DEVICE, "Leaf", false),
            (DEVICE, "", false),
            (DEVICE, "leaf é", false),
            (CONFIGLET, "aGVsbG8=", true),
            (CONFIGLET, "aGVsbG8=\n", true),
            (CONFIGLET, "aGVsbG8=\n\n", false),
            (CONFIGLET, "aGVsbG8", false),
            (CONFIGLET, "aGVs-G8=", true),
            (CONFIGLET, "QR==", true),
            (CONFIGLET, "Q===", false),
            (CONFIGLET, "====", false),
            (CONFIGLET, "", false),
            (CONFIGLET, "abc", false),
            (CONFIGLET, "aGVs bG8=", false),
            (CONFIGLET, "aGVsbG8=aGVs", false),
            (CONFIGLET, "éGVs", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(search(pattern, text), expected, "{pattern} on {text:?}");
        }
    }

    #[test]
    fn general_syntax_matches_python() {
        let cases = [
            ("abc", "xxabcxx", true),
            ("a.c", "a\nc", false),
            ("a.c", "aéc", true),
            ("^abc", "xabc", false),
            ("abc$", "abc\n", true),
            ("abc\\Z", "abc\n", false),
            ("\\Aabc", "abc", true),
            ("a|b|c", "xxc", true),
            ("^(a|bc)+$", "abcbca", true),
            ("^(a|bc)+$", "abcb", false),
            ("^(?:ab){2}$", "abab", true),
            ("^(?:ab){2}$", "ababab", false),
            ("^a{2,3}$", "aaaa", false),
            ("^a{2,}$", "aaaa", true),
            ("^a{,2}$", "aa", true),
            ("^a{,2}$", "aaa", false),
            ("^a{1}b", "ab", true),
            ("a{", "a{", true),
            ("a{x}", "a{x}", true),
            ("a{}", "a{}", true),
            ("^x{,}$", "xxx", true),
            ("^(?=.*z)[a-z]+$", "abz", true),
            ("^(?=.*z)[a-z]+$", "abc", false),
            ("^(?!.*z)[a-z]+$", "abc", true),
            ("^(?!.*z)[a-z]+$", "abz", false),
            ("^a*?b$", "aaab", true),
            ("^(ab)*?abc$", "abababc", true),
            ("^a+?$", "aaa", true),
            ("^(a|ab)(c|bcd)$", "abcd", true),
            ("^(a|ab)(c|bcd)(d*)$", "abcd", true),
            ("[^a-c]", "abc", false),
            ("[^a-c]", "abcd", true),
            ("[]a]", "]", true),
            ("[a-]", "-", true),
            ("[\\d]", "\u{660}", true),
            ("\\d", "x", false),
            ("[\\s]", "\u{1c}", true),
            ("[^\\S]", "\u{1c}", true),
            ("\\D\\D", "a1b", false),
            ("\\x41\\u00e9\\U0001F600", "Aé😀", true),
            ("\\.", "a", false),
            ("\\.", ".", true),
            ("(?P<name>x)y", "xy", true),
            ("^$", "", true),
            ("^$", "\n", true),
            ("", "anything", true),
            ("x*", "", true),
            ("^(a?){3}$", "aa", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(search(pattern, text), expected, "{pattern} on {text:?}");
        }
    }

    #[test]
    fn ascii_bitmaps_agree_with_the_matchers() {
        let patterns = [
            "a",
            ".",
            "[a-z0-9_.-]",
            "[^A-Z]",
            "[\\s]",
            "[\\S]",
            "[\\d\\D]",
            "[^\\d]",
            "[\\x00-\\x7f]",
            "[~-\\u00ff]",
            "\\s",
            "\\S",
            "\\d",
            "\\D",
        ];
        for pattern in patterns {
            let regex = Regex::new(pattern).unwrap();
            let Inst::Char(test) = &regex.program[0] else {
                panic!("{pattern}")
            };
            for byte in 0u8..128 {
                let c = char::from(byte);
                assert_eq!(
                    test.ascii_matches(byte),
                    test.matcher.matches(c),
                    "{pattern} {c:?}"
                );
            }
        }
    }

    #[test]
    fn unsupported_or_invalid_patterns_are_refused() {
        for pattern in [
            "\\w", "\\b", "\\1", "(?i)a", "(?<=a)b", "(a", "a)", "[a", "*a", "a**", "a{2,1}", "^*",
            "(a*)*", "(?=a)*", "[z-a]", "[\\s-z]", "\\", "\\q",
        ] {
            assert!(Regex::new(pattern).is_err(), "{pattern}");
        }
    }

    #[test]
    fn long_configlet_is_linear_and_uses_no_deep_recursion() {
        let regex = Regex::new(CONFIGLET).unwrap();
        let body = "QUJD".repeat(5 * 1024 * 1024 / 4);
        let started = std::time::Instant::now();
        assert_eq!(regex.is_match(&body), Ok(true));
        assert_eq!(regex.is_match(&format!("{body}\n")), Ok(true));
        assert_eq!(regex.is_match(&format!("{body}=")), Ok(false));
        assert_eq!(regex.is_match(&format!("{body}!AAA")), Ok(false));
        assert_eq!(regex.is_match(&format!("{body}\n\n")), Ok(false));
        assert_eq!(regex.is_match(&format!("{body}AA==")), Ok(true));
        let mut bad_middle = body.clone();
        bad_middle.replace_range(100..101, " ");
        assert_eq!(regex.is_match(&bad_middle), Ok(false));
        // A searched pattern tries every position: still linear.
        let spaces = " ".repeat(1 << 20);
        assert_eq!(Regex::new(NON_SPACE).unwrap().is_match(&spaces), Ok(false));
        assert_eq!(
            Regex::new("\\S\\S")
                .unwrap()
                .is_match(&format!("{spaces}x")),
            Ok(false)
        );
        assert!(started.elapsed().as_secs() < 10);
    }

    #[test]
    fn quadratic_patterns_still_answer_on_short_texts() {
        let text = "a".repeat(1000);
        assert_eq!(Regex::new("a+é$").unwrap().is_match(&text), Ok(false));
        assert_eq!(Regex::new("a*?b").unwrap().is_match(&text), Ok(false));
        assert_eq!(Regex::new("(a|b)+?b$").unwrap().is_match(&text), Ok(false));
        assert_eq!(Regex::new("[aé]*b?$").unwrap().is_match(&text), Ok(true));
    }

    #[test]
    fn runaway_patterns_hit_the_budget() {
        let regex = Regex::new("^(a|a)*b").unwrap();
        assert_eq!(regex.is_match(&"a".repeat(64)), Err(BudgetExceeded));
        let regex = Regex::new("(x+x+)+y").unwrap();
        assert_eq!(regex.is_match(&"x".repeat(40)), Err(BudgetExceeded));
    }
}
