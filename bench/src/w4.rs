//! W4 reads: two GraphQL reads over real HTTP against the generated ledger, beside a static
//! axum handler that answers as many bytes, and (with `--peers`) PostGraphile serving the same
//! measurements from a plain table.
//!
//! **The reads.** *asOf*: `measurements(programmeId, indicator, area, knownAt)`, the series of
//! an indicator in a buurt as the ledger knew it at an instant (record time, the measurements'
//! `asOf`; `docs/time.md`), the instant one at which the workload's measurements were recorded;
//! *by id*: `measurement(programmeId, indicator, area, period)`, one measurement by its key.
//! Request `i` picks its programme, indicator, buurt, year and instant from the seed and `i`, so
//! the answers differ from request to request.
//!
//! **Ours.** The API served in this process as W1 serves it ([`w1::serve`]), with public
//! reading on: `c` clients each send one request after the other for a fixed time, signed in
//! with a bearer token (looked up on every request) and, as a second store, without one (an
//! anonymous reader of what the alliance publishes).
//!
//! **Baseline.** A static axum handler in this process on another port: it reads the request
//! and answers a fixed body, ours' median-sized reply to the same read taken before the runs,
//! with the same content type; the same client loop, the same requests.
//!
//! **Peer** (`--peers`). PostGraphile 4 (`bench/peers/postgraphile.mjs`, a Node process on a
//! free port) over the schema `w4` of the benchmark's database: the workload's measurements
//! copied from the log into the plain table `w4.measurements` (primary key programme,
//! indicator, area, period; the record time as a column) and the SQL function
//! `w4.measurements_known_at(…)` for the asOf read (`recorded_at <= knownAt`, ordered by
//! period); the by-id read is PostGraphile's own field for the primary key.
//!
//! Answer checks: before the runs, every measurement event of the workload in the log is the
//! one the generator made (key, value, source, position), replayed from the seed here; the
//! served read models stand at the log's head. Every reply is 200 without errors; a by-id
//! reply has the key, value and source generated; an asOf reply holds exactly the years of that
//! measurement recorded by the instant, in order, each with its generated value. Every static
//! reply is 200 with exactly the bytes served.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use axum::body::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::measurement::MeasurementEvent;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::{PgPool, Row as _};
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::report::{quantile, Ratio, Series, Table, WorkloadReport};
use crate::server::{checkpoint, FreshDatabase};
use crate::w1::{self, Measured, Options};
use crate::workload::{self, Recorded, Shape};

/// Requests of each read to each store before the runs, checked, untimed.
const WARM_UP: usize = 200;

/// Rows of the log a query when checking it and filling the peer's table.
const BATCH: i64 = 10_000;

/// The peer's connections: the ledger's pool size.
const PEER_POOL: u32 = 16;

/// The schema of the peer's plain tables in the benchmark's database.
const PEER_SCHEMA: &str = "w4";

const OURS_AS_OF: &str = "query AsOf($p: String!, $i: String!, $a: String!, $t: DateTime) { \
                          measurements(programmeId: $p, indicator: $i, area: $a, knownAt: $t) \
                          { nodes { period value } } }";
const OURS_BY_ID: &str = "query ById($p: String!, $i: String!, $a: String!, $period: Period!) { \
                          measurement(programmeId: $p, indicator: $i, area: $a, period: $period) \
                          { key value source publishedOn } }";
const PEER_AS_OF: &str = "query AsOf($p: String!, $i: String!, $a: String!, $t: Datetime!) { \
                          measurementsKnownAt(programmeId: $p, indicator: $i, area: $a, \
                          knownAt: $t) { nodes { period value } } }";
const PEER_BY_ID: &str = "query ById($p: String!, $i: String!, $a: String!, $period: String!) { \
                          measurementByProgrammeIdAndIndicatorAndAreaAndPeriod(programmeId: $p, \
                          indicator: $i, area: $a, period: $period) \
                          { programmeId indicator area period value source publishedOn } }";

/// The two reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Query {
    AsOf,
    ById,
}

impl Query {
    const ALL: [Query; 2] = [Query::AsOf, Query::ById];

    fn title(self) -> &'static str {
        match self {
            Query::AsOf => "asOf: measurements(programmeId, indicator, area, knownAt)",
            Query::ById => "by id: measurement(programmeId, indicator, area, period)",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Query::AsOf => "asOf",
            Query::ById => "by id",
        }
    }

    /// The static handler's path for this read.
    fn path(self) -> &'static str {
        match self {
            Query::AsOf => "/as-of",
            Query::ById => "/by-id",
        }
    }
}

/// Who answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    Ours,
    OursPublic,
    Static,
    PostGraphile,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::Ours => "ours: GraphQL, signed in",
            Store::OursPublic => "ours: GraphQL, public read",
            Store::Static => "baseline: static axum handler",
            Store::PostGraphile => "peer: PostGraphile",
        }
    }
}

/// What a reply must hold.
enum Expect {
    /// The by-id read: the measurement's key, value and source.
    One {
        key: String,
        value: Decimal,
        source: &'static str,
    },
    /// The asOf read: the periods known by the instant, in order, with their values.
    Series(Vec<(String, Decimal)>),
}

/// One request: its variables (the same names in ours' and the peer's documents) and what its
/// reply must hold.
struct Ask {
    variables: Value,
    expect: Expect,
}

/// What the ledger must answer, derived apart from it: the workload's measurements as the
/// generator makes them (the same seed and draws, in the same order), and the instants the log
/// recorded them at.
struct Oracle {
    shape: Shape,
    programmes: Vec<String>,
    indicators: Vec<(String, &'static str)>,
    buurten: Vec<String>,
    /// The value of the `g`-th measurement generated.
    values: Vec<Decimal>,
    /// The position of the first measurement; the `g`-th is at `first + g`.
    first: i64,
    /// Every instant the workload's measurements were recorded at (RFC 3339, to the
    /// microsecond), with the last position recorded by then.
    instants: Vec<(String, i64)>,
}

/// Where the `g`-th generated measurement belongs: year (0 for the first), programme (0 for
/// `focusgebied-01`), buurt and indicator, in the generator's order (year by year, programme
/// by programme, buurt by buurt, indicator by indicator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Coord {
    year: usize,
    programme: usize,
    buurt: usize,
    indicator: usize,
}

/// A 64-bit mix of the seed, a stream and a request number (splitmix64's finaliser).
fn mix(seed: u64, stream: u64, i: usize) -> u64 {
    let mut z = seed
        ^ stream.rotate_left(32)
        ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ 0x6a09_e667_f3bc_c908;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick(seed: u64, stream: u64, i: usize, n: usize) -> usize {
    (mix(seed, stream, i) % n as u64) as usize
}

impl Oracle {
    fn new(recorded: &Recorded) -> anyhow::Result<Self> {
        let shape = recorded.shape;
        // The workload draws one value a measurement, in generation order.
        let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
        let values = (0..shape.measurements)
            .map(|_| Decimal::new(rng.gen_range(0..100_000), 1))
            .collect();
        let first = recorded.head - i64::try_from(shape.measurements)? + 1;
        ensure!(
            first == i64::try_from(shape.setup_events)? + 1,
            "W4: the log's head {} is not the set-up's {} events and {} measurements",
            recorded.head,
            shape.setup_events,
            shape.measurements
        );
        Ok(Self {
            shape,
            programmes: (1..=shape.programmes)
                .map(|n| workload::programme(n).to_string())
                .collect(),
            indicators: workload::indicators()
                .into_iter()
                .map(|(k, s)| (k.to_string(), s))
                .collect(),
            buurten: workload::buurten(&shape)
                .iter()
                .map(ToString::to_string)
                .collect(),
            values,
            first,
            instants: Vec::new(),
        })
    }

    fn coord(&self, g: usize) -> Coord {
        let s = &self.shape;
        let indicator = g % s.indicators;
        let rest = g / s.indicators;
        let buurt = rest % s.buurten_per_programme;
        let rest = rest / s.buurten_per_programme;
        Coord {
            year: rest / s.programmes,
            programme: rest % s.programmes,
            buurt,
            indicator,
        }
    }

    fn index(&self, c: Coord) -> usize {
        let s = &self.shape;
        ((c.year * s.programmes + c.programme) * s.buurten_per_programme + c.buurt) * s.indicators
            + c.indicator
    }

    fn year(c: Coord) -> String {
        (workload::FIRST_YEAR + c.year as i32).to_string()
    }

    fn key(&self, c: Coord) -> String {
        format!(
            "{}/{}/{}/{}",
            self.programmes[c.programme],
            self.indicators[c.indicator].0,
            self.buurten[c.buurt],
            Self::year(c)
        )
    }

    /// The `i`-th request of `query`.
    fn ask(&self, query: Query, i: usize) -> Ask {
        let seed = self.shape.seed;
        match query {
            Query::ById => {
                let g = pick(seed, 1, i, self.shape.measurements);
                let c = self.coord(g);
                Ask {
                    variables: json!({
                        "p": self.programmes[c.programme],
                        "i": self.indicators[c.indicator].0,
                        "a": self.buurten[c.buurt],
                        "period": Self::year(c),
                    }),
                    expect: Expect::One {
                        key: self.key(c),
                        value: self.values[g],
                        source: self.indicators[c.indicator].1,
                    },
                }
            }
            Query::AsOf => {
                let s = &self.shape;
                let series = pick(
                    seed,
                    2,
                    i,
                    s.programmes * s.buurten_per_programme * s.indicators,
                );
                let c = self.coord(series);
                let (instant, last) = &self.instants[pick(seed, 3, i, self.instants.len())];
                let mut known = Vec::new();
                for year in 0..s.years {
                    let c = Coord { year, ..c };
                    let g = self.index(c);
                    if g >= s.measurements || self.first + g as i64 > *last {
                        break;
                    }
                    known.push((Self::year(c), self.values[g]));
                }
                Ask {
                    variables: json!({
                        "p": self.programmes[c.programme],
                        "i": self.indicators[c.indicator].0,
                        "a": self.buurten[c.buurt],
                        "t": instant,
                    }),
                    expect: Expect::Series(known),
                }
            }
        }
    }
}

/// A store's address.
struct Endpoint {
    store: Store,
    /// The URL of each read (the static handler has one path a read).
    urls: [String; 2],
    token: Option<String>,
    /// The static handler's bodies, by read.
    fixed: Option<[Bytes; 2]>,
}

fn query_index(query: Query) -> usize {
    match query {
        Query::AsOf => 0,
        Query::ById => 1,
    }
}

fn decimal(v: &Value) -> Option<Decimal> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// Checks the `data` of a reply of ours or the peer's against what it must hold.
fn check(store: Store, query: Query, data: &Value, expect: &Expect) -> anyhow::Result<()> {
    let peer = store == Store::PostGraphile;
    match expect {
        Expect::One { key, value, source } => {
            let got = if peer {
                &data["measurementByProgrammeIdAndIndicatorAndAreaAndPeriod"]
            } else {
                &data["measurement"]
            };
            let got_key = if peer {
                format!(
                    "{}/{}/{}/{}",
                    got["programmeId"].as_str().unwrap_or("?"),
                    got["indicator"].as_str().unwrap_or("?"),
                    got["area"].as_str().unwrap_or("?"),
                    got["period"].as_str().unwrap_or("?")
                )
            } else {
                got["key"].as_str().unwrap_or("?").to_owned()
            };
            ensure!(
                got_key == *key
                    && decimal(&got["value"]) == Some(*value)
                    && got["source"] == *source
                    && got["publishedOn"].is_string(),
                "W4 {}, {}: answered {got} for {key} = {value} ({source})",
                store.name(),
                query.short()
            );
        }
        Expect::Series(known) => {
            let field = if peer {
                "measurementsKnownAt"
            } else {
                "measurements"
            };
            let nodes = data[field]["nodes"]
                .as_array()
                .with_context(|| format!("W4 {}: no nodes in {data}", store.name()))?;
            let same = nodes.len() == known.len()
                && nodes.iter().zip(known).all(|(node, (period, value))| {
                    node["period"] == period.as_str() && decimal(&node["value"]) == Some(*value)
                });
            ensure!(
                same,
                "W4 {}, {}: answered {} nodes {data}, the ledger recorded {known:?} by then",
                store.name(),
                query.short(),
                nodes.len()
            );
        }
    }
    Ok(())
}

/// Sends the `i`-th request of `query` to `endpoint` and checks the reply; the reply's bytes
/// and content type.
async fn ask(
    http: &reqwest::Client,
    oracle: &Oracle,
    endpoint: &Endpoint,
    query: Query,
    i: usize,
) -> anyhow::Result<(Bytes, Option<HeaderValue>)> {
    let ask = oracle.ask(query, i);
    let document = match (endpoint.store, query) {
        (Store::PostGraphile, Query::AsOf) => PEER_AS_OF,
        (Store::PostGraphile, Query::ById) => PEER_BY_ID,
        (_, Query::AsOf) => OURS_AS_OF,
        (_, Query::ById) => OURS_BY_ID,
    };
    let body = serde_json::to_vec(&json!({ "query": document, "variables": ask.variables }))?;
    let mut request = http
        .post(&endpoint.urls[query_index(query)])
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(token) = &endpoint.token {
        request = request.bearer_auth(token);
    }
    let reply = request.send().await?;
    let status = reply.status();
    let content_type = reply.headers().get(CONTENT_TYPE).cloned();
    let bytes = reply.bytes().await?;
    let name = endpoint.store.name();
    ensure!(
        status == reqwest::StatusCode::OK,
        "W4 {name}: HTTP {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    // Every store's reply is decoded, the static one's too: the same work for the client.
    let body: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("W4 {name}: a reply that is not JSON"))?;
    if let Some(fixed) = &endpoint.fixed {
        let fixed = &fixed[query_index(query)];
        ensure!(
            bytes == *fixed && body.get("data").is_some(),
            "W4 {name}: answered {} bytes, not the {} bytes it serves",
            bytes.len(),
            fixed.len()
        );
        return Ok((bytes, content_type));
    }
    if let Some(errors) = body.get("errors") {
        bail!("W4 {name}: GraphQL errors: {errors}");
    }
    let data = body
        .get("data")
        .with_context(|| format!("W4 {name}: a reply without data: {body}"))?;
    check(endpoint.store, query, data, &ask.expect)?;
    Ok((bytes, content_type))
}

/// What every client task shares.
struct Bench {
    http: reqwest::Client,
    oracle: Oracle,
    endpoints: Vec<Endpoint>,
    /// The next request number, across stores and runs.
    next: AtomicUsize,
}

/// One measurement of one store: the replies' mean size beside the rest.
struct Run {
    measured: Measured,
    bytes: f64,
}

/// `clients` loops, each sending requests of `query` to the `e`-th store one after the other
/// for `duration`.
async fn measure(
    bench: &Arc<Bench>,
    e: usize,
    query: Query,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let bench = bench.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut bytes = 0_usize;
            let endpoint = &bench.endpoints[e];
            while Instant::now() < deadline {
                let i = bench.next.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let (reply, _) = ask(&bench.http, &bench.oracle, endpoint, query, i).await?;
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                bytes += reply.len();
            }
            anyhow::Ok((latencies, bytes))
        });
    }
    let mut latencies = Vec::new();
    let mut bytes = 0;
    while let Some(done) = tasks.join_next().await {
        let (l, b) = done??;
        latencies.extend(l);
        bytes += b;
    }
    let elapsed = started.elapsed();
    ensure!(
        !latencies.is_empty(),
        "W4 {}: no reply within {:.1} s",
        bench.endpoints[e].store.name(),
        duration.as_secs_f64()
    );
    latencies.sort_by(f64::total_cmp);
    Ok(Run {
        bytes: bytes as f64 / latencies.len() as f64,
        measured: Measured {
            count: latencies.len(),
            elapsed,
            latencies,
        },
    })
}

/// Checks every measurement event of the workload in the log against the oracle (position,
/// key, value, source) and, for the peer, copies each into `w4.measurements`. Answers the
/// events checked.
async fn check_log(pool: &PgPool, oracle: &Oracle, copy: bool) -> anyhow::Result<usize> {
    let last = oracle.first + i64::try_from(oracle.shape.measurements)? - 1;
    let mut after = oracle.first - 1;
    let mut checked = 0_usize;
    while after < last {
        let rows = sqlx::query(
            "SELECT position, aggregate_type, aggregate_id, recorded_at, payload FROM events \
             WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3",
        )
        .bind(after)
        .bind(last)
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        ensure!(
            !rows.is_empty(),
            "W4: the log ends at {after}, before {last}"
        );
        let mut columns: [Vec<String>; 5] = Default::default();
        let mut amounts = Vec::new();
        let mut published = Vec::new();
        let mut illustrative_flags = Vec::new();
        let mut times: Vec<DateTime<Utc>> = Vec::new();
        let mut positions = Vec::new();
        for row in &rows {
            let position: i64 = row.try_get(0)?;
            let aggregate_type: String = row.try_get(1)?;
            let aggregate_id: String = row.try_get(2)?;
            let g = usize::try_from(position - oracle.first)?;
            ensure!(
                g == checked,
                "W4: position {position} follows {after} in the log"
            );
            let c = oracle.coord(g);
            let key = oracle.key(c);
            ensure!(
                aggregate_type == "Measurement" && aggregate_id == key,
                "W4: position {position} holds {aggregate_type} {aggregate_id}, the workload \
                 recorded measurement {key} there"
            );
            let payload: Value = row.try_get(4)?;
            let event: MeasurementEvent = serde_json::from_value(payload)
                .with_context(|| format!("W4: the event at {position}"))?;
            let MeasurementEvent::MeasurementRecorded {
                programme_id,
                indicator,
                area,
                period,
                value,
                source,
                published_on,
                illustrative,
            } = event
            else {
                bail!("W4: the event at {position} is not MeasurementRecorded");
            };
            ensure!(
                value == oracle.values[g] && source == oracle.indicators[c.indicator].1,
                "W4: measurement {key} holds {value} ({source}), the workload generated {} ({})",
                oracle.values[g],
                oracle.indicators[c.indicator].1
            );
            if copy {
                columns[0].push(programme_id.to_string());
                columns[1].push(indicator.to_string());
                columns[2].push(area.to_string());
                columns[3].push(period.to_string());
                columns[4].push(source);
                amounts.push(value.to_string());
                published.push(published_on);
                illustrative_flags.push(illustrative);
                times.push(row.try_get(3)?);
                positions.push(position);
            }
            after = position;
            checked += 1;
        }
        if copy {
            let [programme, indicator, area, period, source] = columns;
            let inserted = sqlx::query(&format!(
                "INSERT INTO {PEER_SCHEMA}.measurements (programme_id, indicator, area, period, \
                 source, value, published_on, illustrative, recorded_at, position) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], \
                 $5::text[], $6::numeric[], $7::date[], $8::boolean[], $9::timestamptz[], \
                 $10::bigint[])"
            ))
            .bind(programme)
            .bind(indicator)
            .bind(area)
            .bind(period)
            .bind(source)
            .bind(amounts)
            .bind(published)
            .bind(illustrative_flags)
            .bind(times)
            .bind(positions)
            .execute(pool)
            .await?
            .rows_affected();
            ensure!(
                inserted == rows.len() as u64,
                "W4: copied {inserted} of {} rows",
                rows.len()
            );
        }
    }
    ensure!(
        checked == oracle.shape.measurements,
        "W4: checked {checked} measurements in the log, the workload recorded {}",
        oracle.shape.measurements
    );
    Ok(checked)
}

/// The instants the workload's measurements were recorded at, each with the last position
/// recorded by then; none shared with an event after the workload's head (another
/// workload's).
async fn instants(pool: &PgPool, oracle: &Oracle, head: i64) -> anyhow::Result<Vec<(String, i64)>> {
    let rows: Vec<(DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT recorded_at, max(position) FROM events \
         WHERE recorded_at >= (SELECT recorded_at FROM events WHERE position = $1) \
         GROUP BY recorded_at HAVING max(position) <= $2 ORDER BY recorded_at",
    )
    .bind(oracle.first)
    .bind(head)
    .fetch_all(pool)
    .await?;
    ensure!(
        !rows.is_empty(),
        "W4: no record instant of the workload's measurements"
    );
    Ok(rows
        .into_iter()
        .map(|(t, last)| (t.to_rfc3339_opts(SecondsFormat::Micros, true), last))
        .collect())
}

/// The peer's plain table and function, empty.
async fn create_peer_schema(pool: &PgPool) -> anyhow::Result<()> {
    for statement in [
        format!("CREATE SCHEMA {PEER_SCHEMA}"),
        format!(
            "CREATE TABLE {PEER_SCHEMA}.measurements (\
               programme_id text NOT NULL, indicator text NOT NULL, area text NOT NULL, \
               period text NOT NULL, value numeric NOT NULL, source text NOT NULL, \
               published_on date NOT NULL, illustrative boolean NOT NULL, \
               recorded_at timestamptz NOT NULL, position bigint NOT NULL, \
               PRIMARY KEY (programme_id, indicator, area, period))"
        ),
        format!(
            "CREATE FUNCTION {PEER_SCHEMA}.measurements_known_at(\
               programme_id text, indicator text, area text, known_at timestamptz) \
             RETURNS SETOF {PEER_SCHEMA}.measurements LANGUAGE sql STABLE AS $$ \
               SELECT * FROM {PEER_SCHEMA}.measurements m \
               WHERE m.programme_id = $1 AND m.indicator = $2 AND m.area = $3 \
                 AND m.recorded_at <= $4 \
               ORDER BY m.period $$"
        ),
    ] {
        sqlx::query(&statement).execute(pool).await?;
    }
    Ok(())
}

/// PostGraphile serving the peer's schema, as a Node process of its own.
struct PostGraphile {
    child: tokio::process::Child,
    url: String,
    version: String,
    graphql: String,
}

async fn start_postgraphile(
    peers: &crate::peers::Peers,
    fresh: &FreshDatabase,
) -> anyhow::Result<PostGraphile> {
    let node = peers.node_dir();
    let url = fresh
        .url
        .split_once('?')
        .map_or(fresh.url.as_str(), |(base, _)| base);
    let mut child = tokio::process::Command::new("node")
        .arg(node.join("postgraphile.mjs"))
        .args(["serve", "--database-url", url, "--schema", PEER_SCHEMA])
        .args(["--pool", &PEER_POOL.to_string()])
        .current_dir(&node)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting PostGraphile (node postgraphile.mjs)")?;
    let stdout = child
        .stdout
        .take()
        .context("PostGraphile's standard output")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let started = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await? {
            if let Ok(answer) = serde_json::from_str::<Value>(&line) {
                return anyhow::Ok(answer);
            }
        }
        bail!("PostGraphile ended before it served")
    })
    .await
    .context("PostGraphile did not start within 120 s")??;
    let port = started["port"]
        .as_u64()
        .with_context(|| format!("PostGraphile answered {started}"))?;
    let version = started["postgraphile"].as_str().unwrap_or("?").to_owned();
    let installed = peers.version("postgraphile");
    ensure!(
        installed.as_deref() == Some(version.as_str()),
        "PostGraphile {version} started, install.sh installed {installed:?}"
    );
    Ok(PostGraphile {
        child,
        url: format!("http://127.0.0.1:{port}/graphql"),
        version,
        graphql: started["graphql"].as_str().unwrap_or("?").to_owned(),
    })
}

impl PostGraphile {
    async fn stop(mut self) -> anyhow::Result<()> {
        // Closing its standard input ends it; a kill if it does not.
        drop(self.child.stdin.take());
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                self.child.start_kill()?;
                self.child.wait().await?;
            }
        }
        Ok(())
    }
}

/// The static handler: `POST /as-of` and `POST /by-id` read the request and answer their fixed
/// body with `content_type`.
async fn serve_static(
    bodies: [Bytes; 2],
    content_type: HeaderValue,
) -> anyhow::Result<(String, w1::Stopper)> {
    use axum::http::header;
    use axum::routing::post;
    let content_type = axum::http::HeaderValue::from_bytes(content_type.as_bytes())?;
    let route = |body: Bytes| {
        let content_type = content_type.clone();
        post(move |_request: Bytes| {
            let (body, content_type) = (body.clone(), content_type.clone());
            async move { ([(header::CONTENT_TYPE, content_type)], body) }
        })
    };
    let [as_of, by_id] = bodies;
    let app = axum::Router::new()
        .route(Query::AsOf.path(), route(as_of))
        .route(Query::ById.path(), route(by_id));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .context("serving the static handler")
    });
    Ok((format!("http://{addr}"), w1::Stopper { stop, task }))
}

/// Runs W4: per run, per concurrency, per read, every store in turn (the order rotating from
/// run to run), each for `options.duration` after a `CHECKPOINT`.
pub async fn run(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    options: &Options,
    peers: Option<&crate::peers::Peers>,
) -> anyhow::Result<WorkloadReport> {
    let mut oracle = Oracle::new(recorded)?;
    if peers.is_some() {
        create_peer_schema(&fresh.pool).await?;
    }
    let started = Instant::now();
    let checked = check_log(&fresh.pool, &oracle, peers.is_some()).await?;
    oracle.instants = instants(&fresh.pool, &oracle, recorded.head).await?;
    eprintln!(
        "W4: {checked} measurements in the log as generated, {} record instants ({:.1} s)",
        oracle.instants.len(),
        started.elapsed().as_secs_f64()
    );
    let mut checks = vec![
        format!(
            "every one of the workload's {checked} measurement events in the log is the one \
             the generator made from the seed (position, key, value, source)"
        ),
        format!(
            "asOf instants: the {} instants the workload's measurements were recorded at",
            oracle.instants.len()
        ),
    ];
    let peer = match peers {
        Some(peers) => {
            sqlx::query(&format!("ANALYZE {PEER_SCHEMA}.measurements"))
                .execute(&fresh.pool)
                .await?;
            checks.push(format!(
                "{PEER_SCHEMA}.measurements holds a copy of each of the {checked} measurements, \
                 taken from the log as checked"
            ));
            Some(start_postgraphile(peers, fresh).await?)
        }
        None => None,
    };
    let (served, stopper) = w1::serve(fresh, true).await?;
    let result = run_served(fresh, &served, oracle, options, peer.as_ref(), checks).await;
    let _ = stopper.stop.send(());
    let stopped = stopper.task.await;
    if let Some(peer) = peer {
        peer.stop().await?;
    }
    let report = result?;
    stopped??;
    Ok(report)
}

async fn run_served(
    fresh: &FreshDatabase,
    served: &w1::Served,
    oracle: Oracle,
    options: &Options,
    peer: Option<&PostGraphile>,
    mut checks: Vec<String>,
) -> anyhow::Result<WorkloadReport> {
    let head = fresh.db.head().await?;
    let data = w1::graphql(served, "{ ledger { position } }", json!({})).await?;
    let position = data["ledger"]["position"].as_i64().unwrap_or(-1);
    ensure!(
        position == head,
        "W4: the server's read models stand at {position}, the log's head is {head}"
    );
    checks.push(format!(
        "the served read models stand at the log's head, {head}"
    ));

    // Ours' replies before the runs: warm, checked, and the static handler's bodies.
    let ours = Endpoint {
        store: Store::Ours,
        urls: [served.url.clone(), served.url.clone()],
        token: Some(served.token.clone()),
        fixed: None,
    };
    let mut bodies: [Bytes; 2] = Default::default();
    let mut content_type = None;
    for query in Query::ALL {
        let mut replies = Vec::new();
        for i in 0..WARM_UP {
            let (reply, kind) = ask(&served.http, &oracle, &ours, query, i).await?;
            content_type = content_type.or(kind);
            replies.push(reply);
        }
        replies.sort_by_key(Bytes::len);
        bodies[query_index(query)] = replies[replies.len() / 2].clone();
    }
    let content_type = content_type.context("W4: ours' replies have no content type")?;
    let (base, static_stopper) = serve_static(bodies.clone(), content_type.clone()).await?;

    let mut endpoints = vec![
        ours,
        Endpoint {
            store: Store::OursPublic,
            urls: [served.url.clone(), served.url.clone()],
            token: None,
            fixed: None,
        },
        Endpoint {
            store: Store::Static,
            urls: Query::ALL.map(|q| format!("{base}{}", q.path())),
            token: None,
            fixed: Some(bodies.clone()),
        },
    ];
    if let Some(peer) = peer {
        endpoints.push(Endpoint {
            store: Store::PostGraphile,
            urls: [peer.url.clone(), peer.url.clone()],
            token: None,
            fixed: None,
        });
    }
    let bench = Arc::new(Bench {
        http: served.http.clone(),
        oracle,
        endpoints,
        next: AtomicUsize::new(WARM_UP),
    });
    let result = measure_all(fresh, &bench, options).await;
    let _ = static_stopper.stop.send(());
    let stopped = static_stopper.task.await;
    let results = result?;
    stopped??;

    let stores: Vec<Store> = bench.endpoints.iter().map(|e| e.store).collect();
    let peer_name = peer.map(|p| format!("peer: PostGraphile {}", p.version));
    let mut tables = Vec::new();
    for query in Query::ALL {
        for (ci, &clients) in options.concurrency.iter().enumerate() {
            let mut series = Vec::new();
            let mut rates = Vec::new();
            for (e, store) in stores.iter().enumerate() {
                let runs = &results[query_index(query)][ci][e];
                let name = match (store, &peer_name) {
                    (Store::PostGraphile, Some(name)) => name.as_str(),
                    _ => store.name(),
                };
                let rate: Vec<f64> = runs.iter().map(|r| r.measured.throughput()).collect();
                let p50 = runs
                    .iter()
                    .map(|r| quantile(&r.measured.latencies, 0.5))
                    .collect();
                let p99 = runs
                    .iter()
                    .map(|r| quantile(&r.measured.latencies, 0.99))
                    .collect();
                series.push(Series::new(name, "reads/s", rate.clone()));
                series.push(Series::new(name, "p50 ms", p50));
                series.push(Series::new(name, "p99 ms", p99));
                series.push(Series::new(
                    name,
                    "bytes/reply",
                    runs.iter().map(|r| r.bytes).collect(),
                ));
                rates.push(rate);
            }
            let mut ratios = vec![
                Ratio::of("ours, signed in / static", &rates[0], &rates[2]),
                Ratio::of("ours, public read / static", &rates[1], &rates[2]),
            ];
            if rates.len() > 3 {
                ratios.push(Ratio::of(
                    "ours, signed in / PostGraphile",
                    &rates[0],
                    &rates[3],
                ));
                ratios.push(Ratio::of(
                    "ours, public read / PostGraphile",
                    &rates[1],
                    &rates[3],
                ));
            }
            tables.push(Table {
                title: format!(
                    "{}, concurrency {clients}, {:.0} s a run",
                    query.title(),
                    options.duration.as_secs_f64()
                ),
                series,
                ratios,
            });
        }
    }
    checks.push(
        "every reply of ours was 200 without errors; every by-id reply held the key, value and \
         source generated; every asOf reply held exactly the years of its measurement recorded \
         by the instant, in order, each with the value generated"
            .into(),
    );
    checks.push(format!(
        "every static reply was 200 with exactly the {} (asOf) or {} (by id) bytes served",
        bodies[0].len(),
        bodies[1].len()
    ));
    let mut method = format!(
        "Two reads over HTTP to the API served in this process (public reading on; snapshots \
         off), c clients each sending one request after the other for {:.0} s, the request's \
         programme, indicator, buurt, year and instant drawn from the seed and its number: \
         asOf, the measurements of an indicator in a buurt as known at an instant the workload \
         recorded measurements at; by id, one measurement by its key. Ours signed in (a bearer \
         token, looked up on every request) and as an anonymous public reader. Baseline: a \
         static axum handler in this process on another port that reads the request and \
         answers ours' median-sized reply to the same read ({} and {} bytes, {}), with the \
         same client. Latency per read from sending to the checked reply.",
        options.duration.as_secs_f64(),
        bodies[0].len(),
        bodies[1].len(),
        content_type.to_str().unwrap_or("?")
    );
    if let Some(peer) = peer {
        method.push_str(&format!(
            " Peer: PostGraphile {} (graphql {}; bench/peers/postgraphile.mjs, one Node process, \
             a pg.Pool of {PEER_POOL}) over the plain table {PEER_SCHEMA}.measurements (the \
             workload's measurements copied from the log, primary key programme, indicator, \
             area, period; the record time a column): by id through its primary-key field, \
             asOf through the SQL function {PEER_SCHEMA}.measurements_known_at (recorded_at <= \
             the instant, ordered by period), its answers checked as ours.",
            peer.version, peer.graphql
        ));
        checks
            .push("every PostGraphile reply was 200 without errors and held what ours must".into());
    }
    Ok(WorkloadReport {
        id: "W4",
        name: "reads",
        method,
        tables,
        checks,
    })
}

/// results[read][concurrency][store] = one run each.
type Results = Vec<Vec<Vec<Vec<Run>>>>;

async fn measure_all(
    fresh: &FreshDatabase,
    bench: &Arc<Bench>,
    options: &Options,
) -> anyhow::Result<Results> {
    // Every store warm and checked before the first measurement.
    for endpoint in &bench.endpoints {
        for query in Query::ALL {
            for i in 0..WARM_UP {
                ask(&bench.http, &bench.oracle, endpoint, query, i).await?;
            }
        }
    }
    let count = bench.endpoints.len();
    let mut results: Results = Query::ALL
        .iter()
        .map(|_| {
            options
                .concurrency
                .iter()
                .map(|_| (0..count).map(|_| Vec::new()).collect())
                .collect()
        })
        .collect();
    for run in 0..options.runs {
        for (ci, &clients) in options.concurrency.iter().enumerate() {
            for query in Query::ALL {
                for turn in 0..count {
                    let e = (run + turn) % count;
                    checkpoint(&fresh.pool).await?;
                    let measured = measure(bench, e, query, clients, options.duration).await?;
                    let m = &measured.measured;
                    eprintln!(
                        "W4 run {} c={clients:<3} {:<6} {:<30} {:>8.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} in {:.1} s, {:.0} B)",
                        run + 1,
                        query.short(),
                        bench.endpoints[e].store.name(),
                        m.throughput(),
                        quantile(&m.latencies, 0.5),
                        quantile(&m.latencies, 0.99),
                        m.count,
                        m.elapsed.as_secs_f64(),
                        measured.bytes
                    );
                    results[query_index(query)][ci][e].push(measured);
                }
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle(events: usize) -> Oracle {
        let shape = Shape::for_events(events, 2023).expect("a shape");
        let recorded = Recorded {
            shape,
            head: i64::try_from(events).expect("a count"),
            setup_time: Duration::ZERO,
            measurements_time: Duration::ZERO,
        };
        let mut oracle = Oracle::new(&recorded).expect("an oracle");
        let first = oracle.first;
        oracle.instants = vec![
            ("2026-01-01T00:00:00.000001Z".into(), first + 999),
            ("2026-01-01T00:00:01.000001Z".into(), recorded.head),
        ];
        oracle
    }

    #[test]
    fn coordinates_and_indices_are_inverse() {
        let oracle = oracle(20_000);
        for g in 0..oracle.shape.measurements {
            assert_eq!(oracle.index(oracle.coord(g)), g);
        }
        let c = oracle.coord(0);
        assert_eq!(
            oracle.key(c),
            "focusgebied-01/".to_owned() + &oracle.indicators[0].0 + "/buurt-1-01/2023"
        );
    }

    #[test]
    fn an_as_of_read_expects_the_years_recorded_by_its_instant() {
        let oracle = oracle(20_000);
        let per_year =
            oracle.shape.programmes * oracle.shape.buurten_per_programme * oracle.shape.indicators;
        let mut seen_short = false;
        let mut seen_long = false;
        for i in 0..200 {
            let Expect::Series(known) = oracle.ask(Query::AsOf, i).expect else {
                panic!("an asOf read expects a series");
            };
            let years: Vec<String> = (0..known.len())
                .map(|y| (workload::FIRST_YEAR + y as i32).to_string())
                .collect();
            assert_eq!(known.iter().map(|k| k.0.clone()).collect::<Vec<_>>(), years);
            // 1,000 measurements hold the first year, and part of the second at most.
            seen_short |= known.len() <= 1000_usize.div_ceil(per_year);
            seen_long |= known.len() > 2;
        }
        assert!(seen_short && seen_long, "both instants are asked");
    }

    #[test]
    fn requests_vary_with_their_number() {
        let oracle = oracle(20_000);
        let keys: std::collections::HashSet<String> = (0..100)
            .map(|i| match oracle.ask(Query::ById, i).expect {
                Expect::One { key, .. } => key,
                Expect::Series(_) => panic!("a by-id read expects one"),
            })
            .collect();
        assert!(keys.len() > 90, "{} keys of 100", keys.len());
    }

    #[test]
    fn a_wrong_answer_fails_the_check() {
        let oracle = oracle(20_000);
        let Ask { expect, .. } = oracle.ask(Query::ById, 7);
        let Expect::One { key, value, source } = &expect else {
            panic!("one");
        };
        let right = json!({ "measurement": {
            "key": key, "value": value.to_string(), "source": source, "publishedOn": "2024-06-30"
        }});
        check(Store::Ours, Query::ById, &right, &expect).expect("the right answer");
        let wrong = json!({ "measurement": {
            "key": key, "value": (*value + Decimal::ONE).to_string(), "source": source,
            "publishedOn": "2024-06-30"
        }});
        assert!(check(Store::Ours, Query::ById, &wrong, &expect).is_err());
        let expect = Expect::Series(vec![("2023".into(), Decimal::new(15, 1))]);
        let short = json!({ "measurements": { "nodes": [] } });
        assert!(check(Store::OursPublic, Query::AsOf, &short, &expect).is_err());
        let right = json!({ "measurementsKnownAt": { "nodes": [
            { "period": "2023", "value": "1.50" }
        ] } });
        check(Store::PostGraphile, Query::AsOf, &right, &expect).expect("1.50 is 1.5");
    }
}
