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
            Self::Database(e) => matches!(
                e,
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
            ),
            _ => false,
        }
    }
}
