use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, SqlitePool};

use crate::StoreError;

/// The embedded default: a SQLite file in the working folder, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://alliance-ledger.db";

/// How long a request waits for a PostgreSQL connection before it is answered that the
/// database is unavailable. While the server refuses connections (stopped, restarting) the pool
/// keeps trying to connect until then, so this is also how long a request takes to fail during
/// an outage. Far above the wait for a connection under load (milliseconds even at 64
/// concurrent writers, see docs/performance.md), far below a client's patience.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Which database holds the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Postgres => "PostgreSQL",
            Self::Sqlite => "SQLite",
        })
    }
}

/// A checked database URL: `postgres://...`, `postgresql://...` or `sqlite://PATH`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL as given, for connecting. Not for logs: it may hold a password.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with any password replaced, safe to print.
    pub fn redacted(&self) -> String {
        redact(&self.raw)
    }
}

/// Replaces the password of a `scheme://user:password@host` URL with `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let backend = if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            PgConnectOptions::from_str(raw).map_err(|e| StoreError::MalformedUrl {
                url: redact(raw),
                reason: e.to_string(),
            })?;
            Backend::Postgres
        } else if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::MalformedUrl {
                    url: raw.to_owned(),
                    reason: "no file path after sqlite://".into(),
                });
            }
            Backend::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl { url: redact(raw) });
        };
        Ok(Self {
            raw: raw.to_owned(),
            backend,
        })
    }
}

/// A connection pool onto the ledger's database.
#[derive(Debug, Clone)]
pub enum Database {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Database {
    /// Connects (creating a SQLite file when missing). Fails fast when the server is down.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let unreachable = |source| StoreError::Unreachable {
            url: url.redacted(),
            source,
        };
        match url.backend {
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url.expose())?
                    .application_name("alliance-ledger")
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(unreachable)?;
                Ok(Self::Postgres(pool))
            }
            Backend::Sqlite => {
                let path = url.expose().trim_start_matches("sqlite://");
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await
                    .map_err(unreachable)?;
                Ok(Self::Sqlite(pool))
            }
        }
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let db = Self::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Applies every migration not yet applied. Safe to run from several processes at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(pool) => migrations::POSTGRES.run(pool).await?,
            Self::Sqlite(pool) => migrations::SQLITE.run(pool).await?,
        }
        Ok(())
    }

    /// Whether the database answers now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Self::Sqlite(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        match self {
            Self::Postgres(pool) => pool.close().await,
            Self::Sqlite(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend_by_scheme() {
        let pg: DatabaseUrl = "postgres://postgres@127.0.0.1/test".parse().expect("valid");
        assert_eq!(pg.backend(), Backend::Postgres);
        let lite: DatabaseUrl = DEFAULT_DATABASE_URL.parse().expect("valid");
        assert_eq!(lite.backend(), Backend::Sqlite);
    }

    #[test]
    fn other_schemes_are_refused_by_name() {
        let err = "mysql://root@localhost/db"
            .parse::<DatabaseUrl>()
            .unwrap_err();
        assert!(matches!(err, StoreError::UnsupportedUrl { .. }), "{err}");
        let err = "sqlite://".parse::<DatabaseUrl>().unwrap_err();
        assert!(matches!(err, StoreError::MalformedUrl { .. }), "{err}");
    }

    #[test]
    fn passwords_never_reach_the_display() {
        let url: DatabaseUrl = "postgres://ledger:s3cret@db.example/ledger"
            .parse()
            .expect("valid");
        assert_eq!(url.to_string(), "postgres://ledger:***@db.example/ledger");
        assert!(!format!("{url:?}").contains("s3cret"));
    }
}
