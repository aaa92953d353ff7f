use wasmtime::Engine;
use wasmtime::component::Component;

use super::LoadError;

/// Imports the Rust `wasm32-wasip2` standard library brings into every
/// component. They are satisfied by a WASI context that grants nothing.
/// Filesystem, sockets and clocks are deliberately absent: a guest that
/// imports them is refused unless its world grants them.
const STD_SUPPORT_IMPORTS: &[&str] = &[
    "wasi:io/",
    "wasi:cli/environment@",
    "wasi:cli/exit@",
    "wasi:cli/stdin@",
    "wasi:cli/stdout@",
    "wasi:cli/stderr@",
    "wasi:cli/terminal-",
    "wasi:random/",
];

/// What a world allows a component to import and requires it to export.
#[derive(Debug, Clone, Copy)]
pub struct WorldContract {
    pub world: &'static str,
    /// Import name prefixes the world grants beyond [`STD_SUPPORT_IMPORTS`].
    pub imports: &'static [&'static str],
    /// Export names the world requires (types are checked when the typed
    /// bindings are built from the pre-instance).
    pub exports: &'static [&'static str],
}

impl WorldContract {
    pub(crate) fn check(
        &self,
        module: &str,
        engine: &Engine,
        component: &Component,
    ) -> Result<(), LoadError> {
        let ty = component.component_type();
        for (import, _) in ty.imports(engine) {
            let granted = STD_SUPPORT_IMPORTS
                .iter()
                .chain(self.imports)
                .any(|prefix| import.starts_with(prefix));
            if !granted {
                return Err(LoadError::ForbiddenImport {
                    module: module.to_string(),
                    world: self.world.to_string(),
                    import: import.to_string(),
                });
            }
        }
        for export in self.exports {
            if ty.get_export(engine, export).is_none() {
                return Err(LoadError::MissingExport {
                    module: module.to_string(),
                    world: self.world.to_string(),
                    export: export.to_string(),
                });
            }
        }
        Ok(())
    }
}
