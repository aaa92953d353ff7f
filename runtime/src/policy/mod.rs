//! Add-on policy modules: the generic `policy` world ([`guest`]) and the
//! per-workflow ordered chains they run in ([`chain`]).

pub mod chain;
pub mod guest;

pub use chain::{ChainError, ChainOutcome, ChainSpec, Mode, PolicyChain, PolicyChains};
pub use guest::{PolicyGuest, PolicyWorld, Verdict, WORLD as POLICY_WORLD};
