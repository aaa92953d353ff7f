//! Loading an instance file the way the seed's PyYAML 3.12 `safe_load` does (spec 8.2):
//! YAML 1.1 typing over a YAML 1.2 syntax parser, plus Postern's stricter rules (duplicate keys,
//! a single document, bounded size and depth).

mod compose;
mod integer;
mod resolve;
mod scalar;
mod timestamp;
mod value;

use core::fmt;

pub use resolve::{PlainType, resolve_plain};
pub use value::{Mapping, Value, python_str_repr};

/// Why a file is not valid YAML; the message names the place when the parser knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Loads the single document of a file.
pub fn load(file: &[u8]) -> Result<Value, LoadError> {
    let text = core::str::from_utf8(file).map_err(|e| LoadError {
        message: format!("the file is not valid UTF-8 (byte {})", e.valid_up_to()),
    })?;
    // Python's reader drops a byte order mark at the start of the stream.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    check_characters(text)?;
    compose::compose(text)
}

/// PyYAML's reader refuses characters outside YAML's printable set. The YAML 1.1 line breaks
/// NEL, LS and PS are refused as well: the YAML 1.2 parser would read them as ordinary
/// characters where PyYAML breaks lines, and the two would load different values.
fn check_characters(text: &str) -> Result<(), LoadError> {
    // The usual file is plain ASCII, which a byte scan settles quickly.
    if text
        .bytes()
        .all(|b| matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r'))
    {
        return Ok(());
    }
    let unacceptable = text.char_indices().find_map(|(offset, ch)| {
        let printable =
            matches!(ch, '\t' | '\n' | '\r' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        if !printable && ch != '\u{85}' {
            Some((offset, ch, "special characters are not allowed"))
        } else if matches!(ch, '\u{85}' | '\u{2028}' | '\u{2029}') {
            Some((offset, ch, "YAML 1.1 line breaks other than CR and LF are not supported"))
        } else {
            None
        }
    });
    let Some((offset, ch, problem)) = unacceptable else {
        return Ok(());
    };
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    Err(LoadError {
        message: format!(
            "unacceptable character #x{:04x}: {problem} (line {line}, column {column})",
            ch as u32
        ),
    })
}

#[cfg(test)]
mod tests;
