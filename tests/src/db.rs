use store::{Backend, Database, DatabaseUrl};
use uuid::Uuid;

use crate::pg_server;

/// A fresh, migrated database that belongs to one test and is removed after it.
#[derive(Debug)]
pub struct TestDb {
    pub db: Database,
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    /// The temporary folder holding the SQLite file; removed on drop.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    /// The database to drop on the PostgreSQL server.
    Postgres { admin_url: String, name: String },
}

/// `url` with its database name replaced by `name`; query parameters are kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDb {
    /// A new empty ledger database on `backend`, with the schema applied.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("create a temporary folder");
                let path = dir.path().join("ledger.db");
                let url: DatabaseUrl = format!("sqlite://{}", path.display())
                    .parse()
                    .expect("valid sqlite url");
                let db = Database::open(&url).await.expect("open the SQLite ledger");
                Self {
                    db,
                    url,
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = pg_server::admin_url()
                    .await
                    .unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}"));
                Self::on_postgres(admin_url).await
            }
        }
    }

    /// A new empty ledger database, with the schema applied, on the PostgreSQL server at
    /// `admin_url` (whose role may create databases), e.g. a [`crate::PgCluster`] of the test's
    /// own; dropped again after the test.
    pub async fn on_postgres(admin_url: String) -> Self {
        let name = format!("ledger_test_{}", Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url.parse().expect("valid admin url"))
            .await
            .expect("connect to the PostgreSQL server");
        if let Database::Postgres(pool) = &admin {
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(pool)
                .await
                .expect("create the test database");
        }
        admin.close().await;
        let url: DatabaseUrl = with_database(&admin_url, &name)
            .parse()
            .expect("valid test database url");
        let db = Database::open(&url)
            .await
            .expect("open the PostgreSQL ledger");
        Self {
            db,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// A second, independent pool onto the same database, as another server would have.
    pub async fn reconnect(&self) -> Database {
        Database::connect(&self.url)
            .await
            .expect("reconnect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; a short-lived thread with its own runtime removes the
            // database, forcing out any connection the test left open.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async move {
                    let admin = Database::connect(&admin_url.parse().ok()?).await.ok()?;
                    if let Database::Postgres(pool) = &admin {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(pool)
                                .await;
                    }
                    admin.close().await;
                    Some(())
                })
            })
            .join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_parameters_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1", "t1"),
            "postgres://postgres@127.0.0.1/t1"
        );
        assert_eq!(
            with_database("postgres://postgres@/postgres?host=/tmp/pg&port=5433", "t1"),
            "postgres://postgres@/t1?host=/tmp/pg&port=5433"
        );
    }
}
