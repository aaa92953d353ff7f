//! A `vspc` guest for the limit tests. The VM file's first line picks the
//! behaviour: `loop` spins forever, `alloc` allocates without bound, `trap`
//! traps; anything else is answered with `ok <vm name>`.

use postern_guest_sdk::vspc::postern::guest::vspc_types::{Refusal, RequestCode, VmIdentity};

struct Misbehave;

impl postern_guest_sdk::vspc::Guest for Misbehave {
    fn respond(_request: RequestCode, vm: VmIdentity, file: Vec<u8>) -> Result<String, Refusal> {
        match file.split(|b| *b == b'\n').next().unwrap_or_default() {
            b"loop" => {
                let mut counter = 0u64;
                loop {
                    counter = std::hint::black_box(counter.wrapping_add(1));
                }
            }
            b"alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
                }
            }
            b"trap" => std::process::abort(),
            _ => Ok(format!("ok {}", vm.name)),
        }
    }
}

postern_guest_sdk::vspc::export!(Misbehave);
