//! The spiro workflow (SpiroFS deploy server); so far its tokens.

mod bundle;
mod macaroon;
mod tokens;
