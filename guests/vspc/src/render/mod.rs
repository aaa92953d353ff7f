//! The three reply bodies (spec 9), byte-exact with the seed's Python output.

mod metadata_json;
mod network_yaml;
mod userdata;
mod yaml_scalar;

pub use metadata_json::metadata_json;
pub use network_yaml::network_config;
pub use userdata::userdata_body;
