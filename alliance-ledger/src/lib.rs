//! The `alliance-ledger` command line. `main` only calls [`run`], so that the test suite can
//! build and start the very same program.

mod cli;
pub mod demo;
mod imports;
pub mod trail;

pub use cli::{run, Cli};
