//! The ledger's schema for both backends, embedded in the binary.
//!
//! Migrations are applied at start and by `alliance-ledger migrate`; each backend keeps its
//! own list in `_sqlx_migrations`. Applied migrations are never edited: a change of schema is
//! a new numbered file in both folders.

use sqlx::migrate::Migrator;

/// The PostgreSQL schema (`migrations/postgres`).
pub static POSTGRES: Migrator = sqlx::migrate!("./postgres");

/// The SQLite schema (`migrations/sqlite`).
pub static SQLITE: Migrator = sqlx::migrate!("./sqlite");
