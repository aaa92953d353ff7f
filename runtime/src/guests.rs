//! The built-in guests, compiled for wasm32-wasip2 by `build.rs` and
//! embedded, so the binary is the whole product.

include!(concat!(env!("OUT_DIR"), "/builtin_guests.rs"));

/// The component bytes of built-in module `name`, if there is one.
pub fn builtin(name: &str) -> Option<&'static [u8]> {
    BUILTIN_GUESTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}
