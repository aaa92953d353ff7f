//! An alternate `cvproxy` guest for the module hot-swap tests: it answers
//! every body with the same error, so a test can tell it from the built-in
//! cvproxy guest.

use postern_guest_sdk::cvproxy::postern::guest::cvproxy_types::DeployPlan;

struct CvproxyAlt;

impl postern_guest_sdk::cvproxy::Guest for CvproxyAlt {
    fn plan(_body: Vec<u8>) -> Result<DeployPlan, String> {
        Err("AltError: answered by the alternate cvproxy module".to_string())
    }
}

postern_guest_sdk::cvproxy::export!(CvproxyAlt);
