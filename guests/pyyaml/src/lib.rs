//! A YAML 1.1 loader and dumper that behave like the Python that SpiroFS
//! and Salt run, without external crates (guests must stay small); shared
//! by the guests that read or write YAML the way PyYAML does:
//!
//! * [`load`] is PyYAML's `SafeLoader` with the changes of Salt's
//!   `SaltYamlSafeLoader` (see [`constructor`] for the list);
//! * [`dump`] is PyYAML's `SafeDumper`, with the `yaml.dump` options in
//!   [`DumpOptions`].
//!
//! The pipeline mirrors PyYAML: [`scanner`] (characters → tokens),
//! [`parser`] (tokens → node graph, anchors and aliases), [`constructor`]
//! (nodes → [`Value`]); and [`represent`] + [`emitter`] on the way out.
//! Hostile input is bounded: nesting (also through aliases) stops at
//! [`MAX_DEPTH`], aliases share nodes instead of copying them, and merge
//! keys may produce only so many entries.
//!
//! Not supported, with an error instead: recursive structures (an alias
//! inside the collection it names), integers outside 128 bits, and the
//! tags `!!binary`, `!!set`, `!!omap`, `!!pairs` and local `!tags`. Block
//! scalar *styles* are never written (PyYAML's `SafeDumper` never chooses
//! them either).

mod analysis;
mod constructor;
mod emitter;
mod error;
mod parser;
mod represent;
mod resolver;
mod scanner;
mod value;

#[cfg(test)]
mod tests;

pub use emitter::{DumpOptions, dump};
pub use error::{LoadError, Mark};
pub use value::{Value, python_float_repr};

/// How deeply collections may nest, counting through aliases.
pub const MAX_DEPTH: usize = 256;

/// Loads a stream holding at most one document. An empty stream is
/// [`Value::Null`], as `yaml.safe_load("")` is `None`.
pub fn load(text: &str) -> Result<Value, LoadError> {
    match parser::parse_single_document(text)? {
        None => Ok(Value::Null),
        Some(root) => constructor::construct_document(&root),
    }
}
