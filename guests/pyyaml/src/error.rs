//! Loader errors: one line, with the position when there is one.

use std::fmt;

/// A position in the input, 0-based internally, shown 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub line: usize,
    pub column: usize,
}

/// Why the input could not be loaded.
///
/// Boxed so that `Result`s stay one word wide: the parser recurses once per
/// nesting level, and wide results would make every frame larger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(Box<Details>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Details {
    message: String,
    mark: Option<Mark>,
}

impl LoadError {
    pub(crate) fn at(mark: Mark, message: impl Into<String>) -> Self {
        LoadError(Box::new(Details {
            message: message.into(),
            mark: Some(mark),
        }))
    }

    /// What went wrong, without the position.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Where it went wrong, when known.
    pub fn mark(&self) -> Option<Mark> {
        self.0.mark
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.mark {
            Some(mark) => write!(
                f,
                "line {}, column {}: {}",
                mark.line + 1,
                mark.column + 1,
                self.0.message
            ),
            None => f.write_str(&self.0.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// `'c'` as Python's `%r` would show a character in PyYAML's messages,
/// escaped so that the message stays on one line.
pub(crate) fn describe_char(ch: char) -> String {
    match ch {
        '\0' => "end of stream".into(),
        '\t' => "'\\t'".into(),
        '\n' => "'\\n'".into(),
        '\r' => "'\\r'".into(),
        c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
            format!("'\\u{{{:04x}}}'", c as u32)
        }
        c => format!("{c:?}"),
    }
}
