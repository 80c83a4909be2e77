use thiserror::Error;

/// What can go wrong below the domain: the database URL, the connection, the schema.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database URL {url:?} is not supported: use postgres://USER@HOST/DB or sqlite://PATH")]
    UnsupportedUrl { url: String },
    #[error("database URL {url:?} is malformed: {reason}")]
    MalformedUrl { url: String, reason: String },
    #[error("cannot reach the database at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply the ledger's schema migrations: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the stored event at position {position} is unreadable: {reason}")]
    CorruptEvent { position: i64, reason: String },
    #[error("no token with id {0}")]
    TokenNotFound(uuid::Uuid),
    #[error("role {0:?} is unknown: use admin, secretary, partner, rijk or auditor")]
    UnknownRole(String),
    #[error(
        "organisation: a partner token names the partner's organisation (as the alliance \
         records it), since a partner reports only on its own organisation's work"
    )]
    PartnerWithoutOrganisation,
    #[error("actor: must not be empty")]
    EmptyActor,
}

impl StoreError {
    /// Whether the database could not be reached (as opposed to refusing or failing a query).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Database(e) => is_unavailable(e),
            _ => false,
        }
    }
}

/// Whether `error` says the database cannot be reached or is going away, rather than that it
/// refused or failed a query: no connection within the pool's acquire timeout, a connection
/// that broke, a closed pool, or PostgreSQL reporting a connection failure (SQLSTATE class 08)
/// or an operator intervention (57P01 shutting down, 57P02 crashed, 57P03 still starting).
/// The request may be sent again once the database is back.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(e) => e
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|e| e.code().starts_with("08") || e.code().starts_with("57P0")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_connection_is_unavailable_and_a_failed_query_is_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(is_unavailable(&sqlx::Error::Io(refused)));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::PoolClosed));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
    }
}
