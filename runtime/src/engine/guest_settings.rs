//! The `postern:guest/settings` import: the operator's key/value settings of
//! the module being called (`[modules.<name>.settings]`). Only worlds that
//! grant it (the policy world) may import it.

pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        interfaces: "import postern:guest/settings@0.1.0;",
    });
}

use bindings::postern::guest::settings::Host;

use super::GuestState;

impl Host for GuestState {
    fn get(&mut self, key: String) -> Option<String> {
        self.settings.get(&key).cloned()
    }
}
