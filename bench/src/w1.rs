//! W1 commands: single-event commands end to end over real HTTP, beside single-row INSERT
//! transactions of the same rows on the same PostgreSQL server.
//!
//! **Ours.** The API served in this process (`api::serve_on`, on a port of 127.0.0.1, snapshots
//! neither read nor written), on the workload's ledger; `c` clients each send
//! `recordMeasurement` mutations one after the other (a new measurement each, for a day, with
//! an idempotency key, as a secretary's tool would) for a fixed time. Each mutation is decided
//! by the `Measurement` aggregate, appended in a transaction of its own (durable when it
//! commits) and answered once the server's read models include it (read your writes).
//!
//! **Baselines**, on a table of the same shape (`plain_events`, `LIKE events INCLUDING ALL`: the
//! same columns, primary key and indexes, no triggers, filled with a copy of the log so it is
//! as large), through a pool of as many connections as the ledger's (16) or fewer: one
//! `INSERT` of the same row (the event's payload as the ledger stores it, metadata of the same
//! keys) per transaction, positions from a sequence,
//! - *plain*: the INSERT alone (autocommit), no order guarantee;
//! - *locked*: `BEGIN; SELECT pg_advisory_xact_lock(…); INSERT …; COMMIT`, so that positions
//!   follow commit order, as the log's do.
//!
//! Answer checks: every reply is 200 with no GraphQL error and the key and value sent; after
//! each run the log grew by exactly the replies counted and the server's read models hold every
//! measurement recorded; every baseline INSERT inserted one row and the table grew by as many.
//! Before the runs: the server's `ledger { position stateChecksum }` equals the log's head and
//! W3's reference checksum, and a first mutation's stored payload equals the one the
//! baselines insert.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use domain::measurement::{MeasurementEvent, RecordMeasurement};
use projections::snapshot::SnapshotPolicy;
use projections::Projection;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::report::{quantile, Ratio, Series, Table, WorkloadReport};
use crate::server::{checkpoint, FreshDatabase};
use crate::workload::{self, Recorded, Shape};

/// The ledger's pool size (`store::Database::connect`); the baselines get no more.
const LEDGER_CONNECTIONS: u32 = 16;

/// The advisory lock that serialises the locked baseline.
const LOCK_KEY: i64 = 0x6c65_6467_6572;

pub(crate) const MUTATION: &str = "mutation($input: RecordMeasurementInput!) { \
                        recordMeasurement(input: $input) { key value } }";

/// How W1 runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub concurrency: Vec<usize>,
    pub duration: Duration,
    pub runs: usize,
}

/// The stores W1 compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    Ours,
    Plain,
    Locked,
}

impl Store {
    const ALL: [Store; 3] = [Store::Ours, Store::Plain, Store::Locked];

    fn name(self) -> &'static str {
        match self {
            Store::Ours => "ours: recordMeasurement over HTTP",
            Store::Plain => "baseline: INSERT",
            Store::Locked => "baseline: INSERT, advisory lock",
        }
    }
}

/// The `i`-th extra measurement: its aggregate id, the GraphQL input, the command behind it
/// and the event a ledger records for it.
pub(crate) struct Extra {
    pub(crate) aggregate_id: String,
    pub(crate) value: Decimal,
    pub(crate) input: Value,
    pub(crate) command: RecordMeasurement,
    event: MeasurementEvent,
}

pub(crate) fn extra(shape: &Shape, i: usize) -> anyhow::Result<Extra> {
    let (n, indicator, source, area, period) = workload::extra_measurement(shape, i)?;
    let value = Decimal::new(i64::try_from(i.wrapping_mul(7_919) % 100_000)?, 1);
    let command = workload::measurement(n, &indicator, source, &area, period, value);
    let aggregate_id = command.key.aggregate_id();
    let input = json!({
        "programmeId": command.key.programme_id.to_string(),
        "indicator": indicator.to_string(),
        "area": area.to_string(),
        "period": period.to_string(),
        "value": value.to_string(),
        "source": source,
        "publishedOn": command.published_on.to_string(),
        "illustrative": true,
        "idempotencyKey": format!("bench/w1/{aggregate_id}"),
    });
    let event = MeasurementEvent::MeasurementRecorded {
        programme_id: command.key.programme_id.clone(),
        indicator,
        area,
        period,
        value,
        source: source.to_owned(),
        published_on: command.published_on,
        illustrative: true,
    };
    Ok(Extra {
        aggregate_id,
        value,
        input,
        command,
        event,
    })
}

/// The served API and what the checks need of it.
pub(crate) struct Served {
    pub(crate) url: String,
    pub(crate) token: String,
    projection: Projection,
    /// The log, to count what a run appended.
    db: store::Database,
    pub(crate) http: reqwest::Client,
}

/// Stops a served API (and waits for it and its projector) or another server of the benchmark.
pub(crate) struct Stopper {
    pub(crate) stop: oneshot::Sender<()>,
    pub(crate) task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The API served in this process on a port of 127.0.0.1 (snapshots off), with a secretary's
/// token; anonymous readers may read what the alliance publishes when `public_read`.
pub(crate) async fn serve(
    fresh: &FreshDatabase,
    public_read: bool,
) -> anyhow::Result<(Served, Stopper)> {
    let (mut state, projector) =
        api::AppState::start_with(fresh.db.clone(), SnapshotPolicy::disabled()).await?;
    state.public_read = public_read;
    let projection = state.projection.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = api::serve_on(listener, state, async move {
            let _ = stopped.await;
        })
        .await;
        projector.stop().await;
        served.context("serving the API")
    });
    let token = fresh.secretary_token().await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    Ok((
        Served {
            url: format!("http://{addr}/graphql"),
            token,
            projection,
            db: fresh.db.clone(),
            http,
        },
        Stopper { stop, task },
    ))
}

/// Posts a GraphQL document; the reply's `data` after checking status and errors.
pub(crate) async fn graphql(
    served: &Served,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let reply = served
        .http
        .post(&served.url)
        .bearer_auth(&served.token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?;
    let status = reply.status();
    let body: Value = reply.json().await?;
    ensure!(
        status.is_success(),
        "the API answered HTTP {status}: {body}"
    );
    if let Some(errors) = body.get("errors") {
        bail!("the API answered GraphQL errors: {errors}");
    }
    body.get("data")
        .cloned()
        .context("the API answered without data")
}

/// Sends one mutation and checks its reply.
async fn record(served: &Served, extra: &Extra) -> anyhow::Result<()> {
    let data = graphql(served, MUTATION, json!({ "input": extra.input })).await?;
    check_measurement(&data["recordMeasurement"], extra)
}

/// Checks a measurement the API answered (`{ key value }`): the key and value sent.
pub(crate) fn check_measurement(got: &Value, extra: &Extra) -> anyhow::Result<()> {
    // The API answers a decimal in its shortest form ("0.0" is "0").
    let value = got["value"]
        .as_str()
        .and_then(|v| v.parse::<Decimal>().ok());
    ensure!(
        got["key"] == extra.aggregate_id.as_str() && value == Some(extra.value),
        "the API answered the measurement {got} for {} = {}",
        extra.aggregate_id,
        extra.value
    );
    Ok(())
}

/// The row every baseline INSERT writes for an extra measurement.
#[derive(Clone)]
struct Template {
    event_type: String,
    event_version: String,
    metadata: serde_json::Map<String, Value>,
}

impl Template {
    fn row(&self, extra: &Extra, i: usize) -> anyhow::Result<(Value, Value)> {
        let payload = serde_json::to_value(&extra.event)?;
        let mut metadata = self.metadata.clone();
        metadata.insert("request_id".into(), json!(format!("bench-w1-{i}")));
        metadata.insert(
            "idempotency_key".into(),
            json!(format!("bench/w1/{}", extra.aggregate_id)),
        );
        Ok((payload, Value::Object(metadata)))
    }
}

/// One measurement of one store at one concurrency.
pub(crate) struct Measured {
    pub(crate) count: usize,
    pub(crate) elapsed: Duration,
    /// Latencies in milliseconds, sorted.
    pub(crate) latencies: Vec<f64>,
}

impl Measured {
    pub(crate) fn throughput(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
}

struct Shared {
    shape: Shape,
    next: AtomicUsize,
    template: Template,
}

async fn measure_ours(
    served: &Arc<Served>,
    shared: &Arc<Shared>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let before = head(served).await?;
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let served = served.clone();
        let shared = shared.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut ids = Vec::new();
            while Instant::now() < deadline {
                let i = shared.next.fetch_add(1, Ordering::Relaxed);
                let extra = extra(&shared.shape, i)?;
                let sent = Instant::now();
                record(&served, &extra).await?;
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                ids.push(extra.aggregate_id);
            }
            anyhow::Ok((latencies, ids))
        });
    }
    let mut latencies = Vec::new();
    let mut ids = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (l, i) = done??;
        latencies.extend(l);
        ids.extend(i);
    }
    let elapsed = started.elapsed();
    let after = head(served).await?;
    ensure!(
        usize::try_from(after - before)? == ids.len(),
        "W1: the log grew by {} events for {} mutations answered",
        after - before,
        ids.len()
    );
    let state = served.projection.read().await;
    let at = state.position();
    ensure!(
        at >= after,
        "W1: the read models stand at {at}, the log at {after}"
    );
    for id in &ids {
        ensure!(
            state.measurement(id, at).is_some(),
            "W1: measurement {id} was answered but is not in the read models"
        );
    }
    drop(state);
    latencies.sort_by(f64::total_cmp);
    Ok(Measured {
        count: ids.len(),
        elapsed,
        latencies,
    })
}

/// The log's head.
async fn head(served: &Served) -> anyhow::Result<i64> {
    Ok(served.db.head().await?)
}

async fn plain_rows(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM plain_events")
        .fetch_one(pool)
        .await?)
}

const INSERT: &str = "INSERT INTO plain_events (aggregate_type, aggregate_id, sequence, \
                      event_type, event_version, payload, metadata, position, recorded_at) \
                      VALUES ('Measurement', $1, 1, $2, $3, $4, $5, \
                              nextval('plain_events_position'), now())";

async fn measure_baseline(
    pool: &PgPool,
    shared: &Arc<Shared>,
    clients: usize,
    duration: Duration,
    locked: bool,
) -> anyhow::Result<Measured> {
    let before = plain_rows(pool).await?;
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let pool = pool.clone();
        let shared = shared.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let i = shared.next.fetch_add(1, Ordering::Relaxed);
                let extra = extra(&shared.shape, i)?;
                let (payload, metadata) = shared.template.row(&extra, i)?;
                let sent = Instant::now();
                let insert = sqlx::query(INSERT)
                    .bind(&extra.aggregate_id)
                    .bind(&shared.template.event_type)
                    .bind(&shared.template.event_version)
                    .bind(&payload)
                    .bind(&metadata);
                let inserted = if locked {
                    let mut tx = pool.begin().await?;
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(LOCK_KEY)
                        .execute(&mut *tx)
                        .await?;
                    let done = insert.execute(&mut *tx).await?;
                    tx.commit().await?;
                    done
                } else {
                    insert.execute(&pool).await?
                };
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                ensure!(
                    inserted.rows_affected() == 1,
                    "W1 baseline: an INSERT inserted {} rows",
                    inserted.rows_affected()
                );
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    let elapsed = started.elapsed();
    let after = plain_rows(pool).await?;
    ensure!(
        usize::try_from(after - before)? == latencies.len(),
        "W1 baseline: the table grew by {} rows for {} INSERTs",
        after - before,
        latencies.len()
    );
    latencies.sort_by(f64::total_cmp);
    Ok(Measured {
        count: latencies.len(),
        elapsed,
        latencies,
    })
}

/// Checks the server against the log and W3's reference, records a first mutation and makes
/// the baselines' row from it.
async fn prepare(
    fresh: &FreshDatabase,
    served: &Served,
    recorded: &Recorded,
    reference: &str,
) -> anyhow::Result<(Template, Vec<String>)> {
    let mut checks = Vec::new();
    let data = graphql(served, "{ ledger { position stateChecksum } }", json!({})).await?;
    let position = data["ledger"]["position"].as_i64().unwrap_or(-1);
    let checksum = data["ledger"]["stateChecksum"].as_str().unwrap_or("");
    ensure!(
        position == recorded.head,
        "W1: the server's read models stand at {position}, the log's head is {}",
        recorded.head
    );
    ensure!(
        checksum == reference,
        "W1: the server's stateChecksum {checksum} differs from the reference fold's {reference}"
    );
    checks.push(format!(
        "the served read models (folded at start by the projector) stand at the head, {position}, \
         with the reference checksum"
    ));

    let first = extra(&recorded.shape, 0)?;
    record(served, &first).await?;
    let (event_type, event_version, payload, metadata): (String, String, Value, Value) =
        sqlx::query_as(
            "SELECT event_type, event_version, payload, metadata FROM events \
             WHERE aggregate_type = 'Measurement' AND aggregate_id = $1",
        )
        .bind(&first.aggregate_id)
        .fetch_one(&fresh.pool)
        .await
        .context("W1: the first mutation's event")?;
    let Value::Object(metadata) = metadata else {
        bail!("W1: the first mutation's metadata is not an object: {metadata}");
    };
    let template = Template {
        event_type,
        event_version,
        metadata,
    };
    let (built, _) = template.row(&first, 0)?;
    ensure!(
        built == payload,
        "W1: the baselines' payload {built} differs from the ledger's {payload}"
    );
    checks.push(
        "a first mutation's stored payload equals the baselines' payload; their metadata has \
         the same keys"
            .into(),
    );

    sqlx::query("CREATE TABLE plain_events (LIKE events INCLUDING ALL)")
        .execute(&fresh.pool)
        .await?;
    let copied = sqlx::query("INSERT INTO plain_events SELECT * FROM events")
        .execute(&fresh.pool)
        .await?
        .rows_affected();
    let start = recorded.head + 1_000_000_000;
    sqlx::query(&format!(
        "CREATE SEQUENCE plain_events_position START WITH {start}"
    ))
    .execute(&fresh.pool)
    .await?;
    sqlx::query("ANALYZE plain_events")
        .execute(&fresh.pool)
        .await?;
    let triggers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'plain_events'::regclass",
    )
    .fetch_one(&fresh.pool)
    .await?;
    ensure!(triggers == 0, "W1: plain_events has {triggers} triggers");
    checks.push(format!(
        "plain_events (LIKE events INCLUDING ALL, no triggers) starts as a copy of the log, \
         {copied} rows"
    ));
    Ok((template, checks))
}

/// Runs W1: per run, per concurrency, the ledger and both baselines in turn (the order
/// rotating from run to run), each for `options.duration` after a `CHECKPOINT`.
pub async fn run(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    reference: &str,
    options: &Options,
    peers: Option<&crate::peers::Peers>,
) -> anyhow::Result<WorkloadReport> {
    let (served, stopper) = serve(fresh, false).await?;
    let served = Arc::new(served);
    let result = run_served(fresh, &served, recorded, reference, options, peers).await;
    let _ = stopper.stop.send(());
    let stopped = stopper.task.await;
    let report = result?;
    stopped??;
    Ok(report)
}

async fn run_served(
    fresh: &FreshDatabase,
    served: &Arc<Served>,
    recorded: &Recorded,
    reference: &str,
    options: &Options,
    peers: Option<&crate::peers::Peers>,
) -> anyhow::Result<WorkloadReport> {
    let (template, mut checks) = prepare(fresh, served, recorded, reference).await?;
    let mut peers = match peers {
        Some(peers) => {
            let (payload, metadata) = template.row(&extra(&recorded.shape, 0)?, 0)?;
            let event = json!({
                "event_type": template.event_type,
                "event_version": template.event_version,
                "payload": payload,
                "metadata": metadata,
            });
            Some(peers.w1(event, &options.concurrency, recorded.head).await?)
        }
        None => None,
    };
    let shared = Arc::new(Shared {
        shape: recorded.shape,
        next: AtomicUsize::new(1),
        template,
    });
    let connections = options
        .concurrency
        .iter()
        .copied()
        .max()
        .unwrap_or(1)
        .min(LEDGER_CONNECTIONS as usize);
    let baseline_pool = PgPoolOptions::new()
        .max_connections(u32::try_from(connections)?)
        .connect(&fresh.url)
        .await?;
    // results[concurrency][store] = one Measured per run.
    let mut results: Vec<Vec<Vec<Measured>>> = options
        .concurrency
        .iter()
        .map(|_| Store::ALL.iter().map(|_| Vec::new()).collect())
        .collect();
    for run in 0..options.runs {
        for (ci, &clients) in options.concurrency.iter().enumerate() {
            for turn in 0..Store::ALL.len() {
                let si = (run + turn) % Store::ALL.len();
                let store = Store::ALL[si];
                checkpoint(&fresh.pool).await?;
                let measured = match store {
                    Store::Ours => measure_ours(served, &shared, clients, options.duration).await?,
                    Store::Plain => {
                        measure_baseline(&baseline_pool, &shared, clients, options.duration, false)
                            .await?
                    }
                    Store::Locked => {
                        measure_baseline(&baseline_pool, &shared, clients, options.duration, true)
                            .await?
                    }
                };
                eprintln!(
                    "W1 run {} c={clients:<3} {:<34} {:>8.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} in {:.1} s)",
                    run + 1,
                    store.name(),
                    measured.throughput(),
                    quantile(&measured.latencies, 0.5),
                    quantile(&measured.latencies, 0.99),
                    measured.count,
                    measured.elapsed.as_secs_f64()
                );
                results[ci][si].push(measured);
            }
            if let Some(peers) = &mut peers {
                peers
                    .run(run, ci, clients, options.duration, &fresh.pool)
                    .await?;
            }
        }
    }
    baseline_pool.close().await;

    let mut tables = Vec::new();
    for (ci, &clients) in options.concurrency.iter().enumerate() {
        let mut series = Vec::new();
        let mut rates = Vec::new();
        for (si, store) in Store::ALL.iter().enumerate() {
            let runs = &results[ci][si];
            let rate: Vec<f64> = runs.iter().map(Measured::throughput).collect();
            let p50 = runs.iter().map(|m| quantile(&m.latencies, 0.5)).collect();
            let p99 = runs.iter().map(|m| quantile(&m.latencies, 0.99)).collect();
            let unit = if *store == Store::Ours {
                "events/s"
            } else {
                "rows/s"
            };
            series.push(Series::new(store.name(), unit, rate.clone()));
            series.push(Series::new(store.name(), "p50 ms", p50));
            series.push(Series::new(store.name(), "p99 ms", p99));
            rates.push(rate);
        }
        let mut table = Table {
            title: format!(
                "concurrency {clients}, {:.0} s a run",
                options.duration.as_secs_f64()
            ),
            series,
            ratios: vec![
                Ratio::of("ours / plain INSERT", &rates[0], &rates[1]),
                Ratio::of("ours / locked INSERT", &rates[0], &rates[2]),
                Ratio::of("locked / plain INSERT", &rates[2], &rates[1]),
            ],
        };
        if let Some(peers) = &peers {
            peers.extend(ci, &mut table, &rates[0]);
        }
        tables.push(table);
    }
    checks.push("every mutation answered 200 without errors, with the key and value sent".into());
    checks.push(
        "after every run of ours the log grew by exactly the mutations answered and the read \
         models held each of them"
            .into(),
    );
    checks.push(
        "every baseline INSERT inserted one row; the table grew by exactly the INSERTs counted"
            .into(),
    );
    let mut report = WorkloadReport {
        id: "W1",
        name: "commands",
        method: format!(
            "recordMeasurement mutations over HTTP to the API served in this process (a new \
             measurement each, with an idempotency key; snapshots off), c clients each sending \
             one after the other for {:.0} s; against single-row INSERT transactions of the same \
             rows into plain_events (LIKE events INCLUDING ALL, no triggers, a copy of the log) \
             through a pool of {connections} connections (the ledger's pool has \
             {LEDGER_CONNECTIONS}), plain and serialised by pg_advisory_xact_lock. Latency per \
             command from sending to the checked reply.",
            options.duration.as_secs_f64()
        ),
        tables,
        checks,
    };
    if let Some(peers) = &peers {
        peers.finish(&mut report.method, &mut report.checks);
    }
    Ok(report)
}
