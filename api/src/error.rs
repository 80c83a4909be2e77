//! Every error a client can see, and its `extensions.code`: mapped here and nowhere else.

use async_graphql::ErrorExtensions;
use domain::{ErrorKind, RuleViolation};
use store::{CommandError, StoreError};

/// An error as the API reports it. Deliberately not `Display`: it reaches clients only through
/// [`ErrorExtensions`], with its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// An input field breaks a rule regardless of the ledger's state.
    BadUserInput {
        field: String,
        message: String,
        /// The rule broken, when a domain rule (not just the input's shape) refused it.
        rule: Option<&'static str>,
    },
    /// The input is well formed, but a rule of the ledger forbids it.
    RuleViolated {
        rule: &'static str,
        message: String,
    },
    NotFound(String),
    Unauthenticated(String),
    Forbidden(String),
    /// A rule of a record forbids this sender the command, e.g. a partner reporting on another
    /// organisation's commitment.
    ForbiddenByRule {
        rule: &'static str,
        message: String,
    },
    Conflict,
    /// The idempotency key was used before for another request.
    IdempotencyKeyReused,
    Unavailable,
    /// The audit trail did not check out when the server started; it proves nothing until the
    /// cause is mended (the reason names it).
    AuditTrailFailed(String),
    Internal,
}

impl ApiError {
    /// The message a client reads.
    pub fn message(&self) -> String {
        match self {
            Self::BadUserInput { message, .. }
            | Self::RuleViolated { message, .. }
            | Self::ForbiddenByRule { message, .. } => message.clone(),
            Self::NotFound(m) | Self::Unauthenticated(m) | Self::Forbidden(m) => m.clone(),
            Self::Conflict => {
                "another change to the same record was recorded first; send the request again"
                    .into()
            }
            Self::IdempotencyKeyReused => {
                "this idempotency key was used before for a different request; use a new key \
                 for a new request"
                    .into()
            }
            Self::Unavailable => "the ledger's database is unavailable; try again shortly".into(),
            Self::AuditTrailFailed(reason) => format!(
                "the audit trail did not check out when this server started, so it proves \
                 nothing: {reason}"
            ),
            Self::Internal => {
                "internal error; the server log has the details under this request's id".into()
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::RuleViolated { .. } => "RULE_VIOLATED",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) | Self::ForbiddenByRule { .. } => "FORBIDDEN",
            Self::Conflict => "CONFLICT",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::Unavailable | Self::AuditTrailFailed(_) => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }

    /// A malformed input field.
    pub fn bad_input(field: &str, message: impl std::fmt::Display) -> Self {
        Self::BadUserInput {
            field: field.to_owned(),
            message: format!("{field}: {message}"),
            rule: None,
        }
    }

    fn from_rule<E: RuleViolation>(error: &E) -> Self {
        let message = error.to_string();
        match error.kind() {
            ErrorKind::InvalidInput { field } => Self::BadUserInput {
                field: field.to_owned(),
                message,
                rule: Some(error.rule()),
            },
            ErrorKind::RuleViolated => Self::RuleViolated {
                rule: error.rule(),
                message,
            },
            ErrorKind::NotFound => Self::NotFound(message),
            ErrorKind::Forbidden => Self::ForbiddenByRule {
                rule: error.rule(),
                message,
            },
            ErrorKind::Unavailable => {
                tracing::warn!(%message, "a rule could not read the ledger");
                Self::Unavailable
            }
        }
    }
}

impl<E: RuleViolation> From<CommandError<E>> for ApiError {
    fn from(err: CommandError<E>) -> Self {
        match err {
            CommandError::Domain(e) => Self::from_rule(&e),
            CommandError::Conflict => Self::Conflict,
            CommandError::IdempotencyKeyReused => Self::IdempotencyKeyReused,
            CommandError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                Self::Unavailable
            }
            CommandError::Internal(detail) => {
                tracing::error!(%detail, "command failed");
                Self::Internal
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        if err.is_unavailable() {
            tracing::warn!(error = %err, "database unavailable");
            Self::Unavailable
        } else {
            tracing::error!(error = %err, "storage failed");
            Self::Internal
        }
    }
}

impl From<projections::FeedError> for ApiError {
    fn from(err: projections::FeedError) -> Self {
        match err {
            projections::FeedError::Store(e) => e.into(),
            missing @ projections::FeedError::Missing { .. } => {
                tracing::error!(error = %missing, "live updates stopped");
                Self::Internal
            }
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::BadUserInput { field, rule, .. } => {
                    ext.set("field", field.as_str());
                    if let Some(rule) = rule {
                        ext.set("rule", *rule);
                    }
                }
                Self::RuleViolated { rule, .. } | Self::ForbiddenByRule { rule, .. } => {
                    ext.set("rule", *rule)
                }
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

/// Gives an error leaving the server its code when it has none, and returns the code. Errors
/// of the ledger carry theirs; the rest come from parsing and validating the request against
/// the schema (a malformed query, a wrong scalar, a limit exceeded): `BAD_USER_INPUT`.
pub(crate) fn ensure_code(error: &mut async_graphql::ServerError) -> &str {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", "BAD_USER_INPUT");
    }
    match extensions.get("code") {
        Some(async_graphql::Value::String(code)) => code,
        _ => "",
    }
}
