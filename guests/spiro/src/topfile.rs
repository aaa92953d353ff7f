//! `spirotop.sls` → `top.sls` (specs/spiro.md 9.3): SpiroFS writes the
//! deployment's own entry of `spirotop.sls` as the top file of the saltenv
//! `<project>/<deployment>`, loaded with Salt's YAML loader and written
//! with Salt's `safe_dump`, so that the master sees exactly the top file
//! the original would have written.

use crate::yaml::{self, DumpOptions, Value};

/// What the staging tree holds at `spirotop.sls`.
#[derive(Debug, Clone, Copy)]
pub enum Spirotop<'a> {
    Absent,
    File(&'a [u8]),
    NotAFile,
}

/// The `top.sls` to write, `None` when nothing is to be written, or the
/// `TopfileError` message (one line).
pub fn render_topfile(
    project: &str,
    deployment: &str,
    state_top_exists: bool,
    spirotop: Spirotop<'_>,
) -> Result<Option<String>, String> {
    if state_top_exists {
        return Ok(None);
    }
    let bytes = match spirotop {
        Spirotop::Absent => return Ok(None),
        Spirotop::NotAFile => return Err("spirotop.sls is not a regular file".into()),
        Spirotop::File(bytes) => bytes,
    };
    let text = std::str::from_utf8(bytes).map_err(|error| {
        format!(
            "spirotop.sls is not valid UTF-8 (invalid byte at offset {})",
            error.valid_up_to()
        )
    })?;
    let loaded = yaml::load(text).map_err(|error| one_line(&format!("spirotop.sls: {error}")))?;
    // SpiroFS: `if not data: return` — Python truthiness.
    if !loaded.is_truthy() {
        return Ok(None);
    }
    let Value::Map(entries) = &loaded else {
        return Err(format!(
            "spirotop.sls must be a mapping of deployment names, but it is {}",
            describe(&loaded)
        ));
    };
    // `data.get(deployment, {})`: keys compare as loaded, so the integer
    // key 1 does not match the deployment "1".
    let entry = entries
        .iter()
        .find(|(key, _)| matches!(key, Value::Str(name) if name == deployment))
        .map_or_else(|| Value::map(Vec::new()), |(_, value)| value.clone());
    let top = Value::map(vec![(Value::str(format!("{project}/{deployment}")), entry)]);
    Ok(Some(yaml::dump(&top, &DumpOptions::salt_safe_dump())))
}

/// The message ends up in one SSE `data:` line, and the client splits
/// lines on more than `\n`; a key or value quoted in a message could carry
/// any of them.
fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// "a list", "a string", … for the non-mapping error.
fn describe(value: &Value) -> String {
    let kind = value.kind_name();
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {kind}")
}

#[cfg(test)]
mod tests;
