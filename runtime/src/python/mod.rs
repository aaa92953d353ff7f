//! Text as the Python services Postern replaces write it: `json.dumps` and
//! `json.loads` ([`json`]), `repr(str)` ([`repr`]). Shared by the workflows
//! whose clients compare bytes (cvproxy's replies and studio inputs, spiro's
//! event stream and token caveats).

pub mod json;
pub mod repr;
