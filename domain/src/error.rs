//! What every domain error can say about itself, so that the API maps all of them in one place.

/// How a refusal should reach a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input itself is malformed: the named field breaks a rule regardless of state.
    InvalidInput {
        /// The input field (camelCase, as the API names it) that breaks the rule.
        field: &'static str,
    },
    /// The input is well formed but the ledger's state forbids it.
    RuleViolated,
    /// The command addresses something the ledger does not hold.
    NotFound,
    /// The sender's role or organisation may not do this to this record.
    Forbidden,
    /// The ledger could not read what the rule needs; nothing was decided.
    Unavailable,
}

/// Implemented by every domain error enum.
pub trait RuleViolation: std::error::Error {
    /// A stable machine-readable name of the rule that was broken, e.g. `decision.final`.
    fn rule(&self) -> &'static str;
    /// How the refusal is classified.
    fn kind(&self) -> ErrorKind;
}
