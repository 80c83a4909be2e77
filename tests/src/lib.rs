//! The one test harness of the alliance ledger.
//!
//! [`TestDb`] gives each test its own fresh database on either backend: a new SQLite file in a
//! temporary folder, or a new database on a PostgreSQL server found by [`pg_server`]. Tests
//! reach the ledger the way users do: over real HTTP ([`TestServer`], [`LedgerProcess`]) or
//! through the same command path the API uses; the web pages in a real headless Chromium
//! ([`Browser`]).

pub mod browser;
pub mod pg_cluster;
pub mod pg_server;

mod checksum;
mod client;
mod db;
pub mod fixtures;
mod process;
mod server;

pub use browser::{Browser, Viewport};
pub use checksum::{ledger_checksum, replay_checksum};
pub use client::{closed_while_sending, GraphqlClient, GraphqlReply};
pub use db::TestDb;
pub use pg_cluster::{PgCluster, StopMode};
pub use process::{cli, ledger_binary, LedgerProcess};
pub use server::TestServer;
pub use store::Backend;

/// Runs the listed async test functions, each taking a fresh [`TestDb`], once per backend:
/// in a module `sqlite` and a module `postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::TestDb::new($crate::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::TestDb::new($crate::Backend::Postgres).await).await;
                }
            )*
        }
    };
}
