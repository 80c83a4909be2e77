//! The alliance ledger's domain: aggregates, their commands and events, and the rules that
//! guard them. Nothing in this crate performs IO; storage, time and identity reach it only
//! through command fields and the services each aggregate declares ([`reference::Lookup`]).
//!
//! Conventions, the same in every aggregate module:
//! - commands are imperative (`ProposeDecision`), events past tense (`DecisionProposed`);
//! - every event has a stable `event_type` (its variant name) and an `event_version`;
//!   a stored event changes only by adding an optional field, else a new version;
//! - every error names what it refuses: [`RuleViolation`] gives the field or rule for the API.

pub mod access;
pub mod alliance;
#[cfg(any(test, feature = "arbitrary"))]
pub mod arbitrary;
pub mod budget;
pub mod commitment;
pub mod decision;
pub mod error;
pub mod ids;
pub mod intervention;
pub mod measurement;
pub mod metadata;
pub mod money;
pub mod period;
pub mod programme;
#[cfg(any(test, feature = "arbitrary"))]
pub mod properties;
pub mod reference;
pub mod resident_input;
pub mod target;
#[cfg(test)]
pub(crate) mod testing;
pub mod text;

pub use error::{ErrorKind, RuleViolation};
