//! Every error a client can see, and its `extensions.code`: mapped here and nowhere else.

use async_graphql::ErrorExtensions;
use domain::{ErrorKind, RuleViolation};
use store::{CommandError, StoreError};

use crate::imports::{FileError, ImportError, Problem};

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
    /// A file to import breaks rules: every problem, with its line, column and rule. Nothing
    /// was recorded. `field` is the input field that held the file.
    ImportRefused {
        field: String,
        message: String,
        problems: Vec<Problem>,
    },
    /// An import stopped at a row while writing (`cause` says why): the rows before it were
    /// recorded, it and the rows after it were not.
    ImportStopped {
        cause: Box<ApiError>,
        line: usize,
        rows_recorded: usize,
    },
    /// The audit trail did not check out when the server started; it proves nothing until the
    /// cause is mended (the reason names it).
    AuditTrailFailed(String),
    /// Too many failed sign-ins from this client: refused without looking at its token until
    /// the window ends, `retry_after` seconds from now (HTTP 429 with `Retry-After`).
    RateLimited {
        retry_after: u64,
    },
    Internal,
}

impl ApiError {
    /// The message a client reads.
    pub fn message(&self) -> String {
        match self {
            Self::BadUserInput { message, .. }
            | Self::RuleViolated { message, .. }
            | Self::ForbiddenByRule { message, .. }
            | Self::ImportRefused { message, .. } => message.clone(),
            Self::ImportStopped {
                cause,
                line,
                rows_recorded,
            } => format!(
                "line {line}: {}. The {rows_recorded} rows before it were recorded, it and the \
                 rows after it were not; import the file again to record the rest",
                cause.message()
            ),
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
            Self::RateLimited { retry_after } => format!(
                "too many failed sign-ins from this address; no token is checked for it until \
                 {retry_after} s from now"
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
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::ImportRefused { .. } => "IMPORT_REFUSED",
            Self::ImportStopped { cause, .. } => cause.code(),
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

    /// An import's failure; `file_name` is the file's name, `field` the input field that held
    /// it (`content` or `file`).
    pub(crate) fn from_import(error: ImportError, file_name: &str, field: &str) -> Self {
        match error {
            ImportError::Unreadable(e) => {
                let field = match e {
                    FileError::UnknownFormat { .. } => "fileName",
                    FileError::NoSheet { .. } => "sheet",
                    _ => field,
                };
                Self::bad_input(field, e)
            }
            ImportError::Refused(problems) => Self::ImportRefused {
                field: field.to_owned(),
                message: format!(
                    "{file_name}: {}; nothing was recorded",
                    crate::imports::refused_summary(&problems)
                ),
                problems,
            },
            ImportError::Ledger { what, error } => {
                tracing::warn!(%what, %error, "an import could not read the ledger");
                error.into()
            }
            ImportError::Stopped {
                line,
                rows_before,
                error,
            } => Self::ImportStopped {
                cause: Box::new(error.into()),
                line,
                rows_recorded: rows_before,
            },
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
        async_graphql::Error::new(self.message()).extend_with(|_, ext| self.extensions(ext))
    }
}

impl ApiError {
    /// Sets the error's `extensions`: its code and what the code promises.
    fn extensions(&self, ext: &mut async_graphql::ErrorExtensionValues) {
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
            Self::RateLimited { retry_after } => ext.set("retryAfter", *retry_after),
            Self::ImportRefused {
                field, problems, ..
            } => {
                ext.set("field", field.as_str());
                ext.set(
                    "problems",
                    problems.iter().map(problem_value).collect::<Vec<_>>(),
                );
            }
            Self::ImportStopped {
                cause,
                line,
                rows_recorded,
            } => {
                cause.extensions(ext);
                ext.set("line", *line);
                ext.set("rowsRecorded", *rows_recorded);
            }
            _ => {}
        }
    }
}

/// One problem of a refused file: `{line, column, rule, message}`; `column` (as the file's
/// header names it) is null when the whole row is meant.
fn problem_value(problem: &Problem) -> async_graphql::Value {
    let mut fields = async_graphql::indexmap::IndexMap::new();
    fields.insert(async_graphql::Name::new("line"), problem.line.into());
    fields.insert(
        async_graphql::Name::new("column"),
        problem.column.clone().into(),
    );
    fields.insert(async_graphql::Name::new("rule"), problem.rule.into());
    fields.insert(
        async_graphql::Name::new("message"),
        problem.message.clone().into(),
    );
    async_graphql::Value::Object(fields)
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
