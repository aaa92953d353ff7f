//! `spirotop.sls` → `top.sls` (specs/spiro.md 9.3). PLACEHOLDER: being
//! written (YAML 1.1 loader with Salt's changes, PyYAML-compatible emitter).

/// What the staging tree holds at `spirotop.sls`.
#[derive(Debug, Clone, Copy)]
pub enum Spirotop<'a> {
    Absent,
    File(&'a [u8]),
    NotAFile,
}

/// The `top.sls` to write, `None` when nothing is to be written, or the
/// `TopfileError` message.
pub fn render_topfile(
    _project: &str,
    _deployment: &str,
    _state_top_exists: bool,
    _spirotop: Spirotop<'_>,
) -> Result<Option<String>, String> {
    Err("not implemented yet".into())
}
