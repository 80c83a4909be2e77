//! The alliance ledger's domain: aggregates, their commands and events, and the rules that
//! guard them. Nothing in this crate performs IO; storage, time and identity reach it only
//! through command fields and the services each aggregate declares.
//!
//! Conventions, the same in every aggregate module:
//! - commands are imperative (`ProposeDecision`), events past tense (`DecisionProposed`);
//! - every event has a stable `event_type` (its variant name) and an `event_version`;
//!   a stored event changes only by adding an optional field, else a new version;
//! - every error names what it refuses: [`RuleViolation`] gives the field or rule for the API.

pub mod access;
pub mod decision;
pub mod error;
pub mod ids;
pub mod metadata;

pub use error::{ErrorKind, RuleViolation};
