//! The PostgreSQL server the benchmark runs on: a fresh database it creates and drops, what
//! the server and the machine are, and asking the server to write its dirty pages between
//! measurements.

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, PgPool};
use store::{Database, DatabaseUrl};

use crate::report::Environment;

/// The settings the report prints.
const SETTINGS: &[&str] = &[
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "max_wal_size",
    "wal_level",
    "max_connections",
];

/// A database of its own on the server, dropped by [`FreshDatabase::drop_now`].
pub struct FreshDatabase {
    admin: PgPool,
    pub name: String,
    pub url: String,
    /// The ledger's own pool onto it, as `alliance-ledger serve` opens one.
    pub db: Database,
    /// A pool of the benchmark's own, for the baselines and its checks.
    pub pool: PgPool,
}

impl FreshDatabase {
    /// Creates `alliance_ledger_bench_<random>` on the server `admin_url` names and migrates it.
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let options: PgConnectOptions = admin_url
            .parse()
            .with_context(|| format!("--database-url {admin_url:?} is not a PostgreSQL URL"))?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .context("connecting to the PostgreSQL server (127.0.0.1:5432, or --database-url)")?;
        let name = format!("alliance_ledger_bench_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .context("creating the benchmark's database")?;
        let options = options.database(&name);
        let url = options.to_url_lossy().to_string();
        let db = Database::open(&url.parse::<DatabaseUrl>()?)
            .await
            .context("opening the benchmark's database as the ledger")?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Self {
            admin,
            name,
            url,
            db,
            pool,
        })
    }

    /// A secretary's token for the benchmark's requests (its secret).
    pub async fn secretary_token(&self) -> anyhow::Result<String> {
        Ok(self
            .db
            .create_token(
                "Benchmark",
                store::Role::Secretary,
                Some("Programmabureau (benchmark)"),
            )
            .await?
            .secret)
    }

    /// Closes every pool and drops the database.
    pub async fn drop_now(self) -> anyhow::Result<()> {
        self.db.close().await;
        self.pool.close().await;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await
        .context("dropping the benchmark's database")?;
        self.admin.close().await;
        Ok(())
    }
}

/// Asks the server to write its dirty pages now, so that a checkpoint due to the previous step
/// does not land in the next one.
pub async fn checkpoint(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("CHECKPOINT")
        .execute(pool)
        .await
        .context("CHECKPOINT (the role needs pg_checkpoint or superuser)")?;
    Ok(())
}

fn proc_line(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// The load average now (`/proc/loadavg`'s first three figures).
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The machine and the server, as the report prints them.
pub async fn environment(pool: &PgPool) -> anyhow::Result<Environment> {
    let postgres_version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(pool)
        .await?;
    let mut postgres_settings = Vec::new();
    for name in SETTINGS {
        let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
            .fetch_one(pool)
            .await?;
        postgres_settings.push(((*name).to_owned(), value));
    }
    Ok(Environment {
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        cpu_model: proc_line("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
        memory: proc_line("/proc/meminfo", "MemTotal")
            .and_then(|m| m.trim_end_matches(" kB").parse::<f64>().ok())
            .map_or_else(
                || "unknown".into(),
                |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0),
            ),
        load_before: load(),
        load_after: String::new(),
        postgres_version,
        postgres_settings,
        build: if cfg!(debug_assertions) {
            "debug (use --release for figures)"
        } else {
            "release"
        },
    })
}
