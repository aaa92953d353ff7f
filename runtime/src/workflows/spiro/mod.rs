//! The `spiro` workflow: the SpiroFS deploy server of spiro-deploy
//! (specs/spiro.md). Built up piece by piece; so far its tokens and the
//! safe extraction of its bundles.

pub mod bundle;
pub mod macaroon;
pub mod tokens;
