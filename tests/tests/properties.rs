//! The properties of `docs/reliability.md` ("Properties") through the real parts: random
//! command sequences decided by the command bus on a fresh database, the read models of the
//! projector the server runs, `projections::replay` and the binary's `replay --until`.
//!
//! Each case takes the prologue and a generated sequence (`domain::arbitrary`) and runs every
//! step twice: in the in-memory ledger, which decides with the aggregates' own rules against
//! what it holds, and through `CommandBus::execute` with the services the API gives it, whose
//! rules read the database. The database must decide exactly as the model: the same steps
//! accepted, the same refused under the same rule and message, the same aggregate after, the
//! same events appended (read back from the log and decoded as the read models decode them).
//! After every step the ledger rebuilt from the database's log keeps every invariant the pure
//! property checks (`domain::properties`). After the sequence, the live read models equal a
//! replay of the log, and the state as of a position equals the replay up to it, and what
//! `alliance-ledger replay --until` prints for it.
//!
//! 24 cases on SQLite and 8 on PostgreSQL by default. `PROPTEST_CASES` sets the SQLite cases
//! and, divided by 3, the PostgreSQL ones; `PROPTEST_CASES_POSTGRES` sets those on its own.

use std::time::Duration;

use cqrs_es::Aggregate;
use domain::access::Role;
use domain::alliance::Alliance;
use domain::arbitrary::{prologue, strategy, Aggregates, AnyEvent, MemoryLedger, Recorded, Step};
use domain::budget::Fund;
use domain::commitment::Commitment;
use domain::decision::Decision;
use domain::error::RuleViolation;
use domain::programme::Programme;
use domain::properties::{check_invariants, check_recorded};
use domain::reference::LedgerServices;
use domain::target::Target;
use projections::{replay, LedgerEvent, LedgerState, Projector, Until};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use store::{Backend, CommandBus, CommandContext, CommandError, LogFilter, LoggedEvent, Position};
use tests::{cli, TestDb};

/// How long the live projector may take to reach the log's head before the case fails.
const CATCH_UP: Duration = Duration::from_secs(60);

/// Logs up to this many events are checked as of every position; longer ones at
/// [`POSITIONS`] random positions besides the first and the last.
const EVERY_POSITION_UP_TO: usize = 48;
const POSITIONS: usize = 12;

fn cases_from_env(name: &str) -> Option<u32> {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v}: a number")))
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        ..Config::default()
    }
}

fn sqlite_config() -> Config {
    config(cases_from_env("PROPTEST_CASES").unwrap_or(24))
}

fn postgres_config() -> Config {
    config(
        cases_from_env("PROPTEST_CASES_POSTGRES")
            .or_else(|| cases_from_env("PROPTEST_CASES").map(|n| (n / 3).max(1)))
            .unwrap_or(8),
    )
}

/// A generated sequence and the positions at which the state is compared with a replay.
#[derive(Debug, Clone)]
struct Case {
    steps: Vec<Step>,
    positions: Vec<Index>,
    /// The position `alliance-ledger replay --until` is run for.
    cli_position: Index,
}

fn case() -> impl Strategy<Value = Case> {
    (
        strategy::steps(60),
        proptest::collection::vec(any::<Index>(), POSITIONS),
        any::<Index>(),
    )
        .prop_map(|(steps, positions, cli_position)| Case {
            steps,
            positions,
            cli_position,
        })
}

/// How a step was decided: accepted, or refused under a rule (its name and message).
type Decided = Result<(), (&'static str, String)>;

/// The step through the command bus, as a GraphQL mutation sends it; the aggregate the bus
/// returns must equal `expected` (the model's) when accepted.
async fn execute(
    bus: &CommandBus,
    services: &LedgerServices,
    step: &Step,
    request: usize,
    expected: &Aggregates,
) -> Decided {
    let (_, id) = step.aggregate();
    let name = step.command_name();
    let context = CommandContext {
        actor: "sanne.de.vries".into(),
        role: Role::Secretary,
        organisation: Some("Programmabureau Dordt West".into()),
        request_id: format!("property-{request}"),
        idempotency_key: None,
        request_hash: None,
    };
    let call = Call {
        bus,
        services,
        id: &id,
        name,
        context: &context,
    };
    match step.clone() {
        Step::Programme(_, c) => call.decide(c, &expected.programmes).await,
        Step::Alliance(_, c) => call.decide(c, &expected.alliances).await,
        Step::Decision(_, c) => call.decide(c, &expected.decisions).await,
        Step::Fund(_, c) => call.decide(c, &expected.funds).await,
        Step::Target(_, c) => call.decide(c, &expected.targets).await,
        Step::Commitment(_, c) => call.decide(c, &expected.commitments).await,
    }
}

struct Call<'a> {
    bus: &'a CommandBus,
    services: &'a LedgerServices,
    id: &'a str,
    name: &'static str,
    context: &'a CommandContext,
}

impl Call<'_> {
    async fn decide<A>(
        &self,
        command: A::Command,
        expected: &std::collections::BTreeMap<String, A>,
    ) -> Decided
    where
        A: Aggregate<Services = LedgerServices> + Clone + PartialEq + std::fmt::Debug,
        A::Command: Clone,
        A::Error: RuleViolation,
    {
        let (id, name) = (self.id, self.name);
        match self
            .bus
            .execute::<A>(id, command, name, self.services, self.context)
            .await
        {
            Ok(after) => {
                let expected = expected.get(id).cloned().unwrap_or_default();
                assert!(
                    after == expected,
                    "{name} on {} {id}: the bus left {after:?}, the model {expected:?}",
                    A::TYPE
                );
                Ok(())
            }
            Err(CommandError::Domain(e)) => Err((e.rule(), e.to_string())),
            Err(other) => panic!(
                "{name} on {} {id} failed outside the rules: {other}",
                A::TYPE
            ),
        }
    }
}

/// A logged event as the in-memory log holds it: decoded by the read models' decoder.
fn recorded(logged: &LoggedEvent, command: &'static str) -> Recorded {
    let decoded = LedgerEvent::decode(logged).unwrap_or_else(|e| panic!("{e}"));
    let (aggregate_type, event) = match decoded {
        LedgerEvent::Programme(e) => (Programme::TYPE, AnyEvent::Programme(e)),
        LedgerEvent::Alliance(e) => (Alliance::TYPE, AnyEvent::Alliance(e)),
        LedgerEvent::Decision(e) => (Decision::TYPE, AnyEvent::Decision(e)),
        LedgerEvent::Fund(e) => (Fund::TYPE, AnyEvent::Fund(e)),
        LedgerEvent::Target(e) => (Target::TYPE, AnyEvent::Target(e)),
        LedgerEvent::Commitment(e) => (Commitment::TYPE, AnyEvent::Commitment(e)),
        other => panic!("position {}: {other:?} from {command}", logged.position),
    };
    assert_eq!(
        logged.meta(domain::metadata::COMMAND),
        Some(command),
        "position {}",
        logged.position
    );
    Recorded {
        aggregate_type,
        aggregate_id: logged.aggregate_id.clone(),
        sequence: logged.sequence,
        command,
        event,
    }
}

/// Runs the prologue and the case's steps in the model and on `t`, and checks the database
/// against the model after each step. Returns the log's head.
async fn record_the_steps(t: &TestDb, bus: &CommandBus, case: &Case) -> Position {
    let services = bus.services();
    let mut model = MemoryLedger::new();
    let mut log: Vec<Recorded> = Vec::new();
    let mut head: Position = 0;
    let prologue = prologue();
    for (n, step) in prologue.iter().chain(&case.steps).enumerate() {
        let by_model = model.execute(step);
        let expected = model.aggregates();
        let by_bus = execute(bus, &services, step, n, &expected).await;
        let events = match (&by_model, &by_bus) {
            (Ok(events), Ok(())) => events,
            (Err(refusal), Err((rule, message))) => {
                assert_eq!(
                    (refusal.rule, &refusal.message),
                    (*rule, message),
                    "step {n}, {step:?}: refused for other reasons"
                );
                assert_eq!(t.db.head().await.expect("head"), head, "{step:?} refused");
                continue;
            }
            _ => panic!(
                "step {n}, {step:?}: the model decided {:?}, the database {by_bus:?}",
                by_model
                    .as_ref()
                    .map(|_| ())
                    .map_err(|r| (r.rule, &r.message))
            ),
        };
        let appended =
            t.db.read_log(head, 1_000, &LogFilter::default())
                .await
                .expect("read the log");
        assert_eq!(
            appended.len(),
            events.len(),
            "step {n}, {step:?}: events appended"
        );
        for (i, logged) in appended.iter().enumerate() {
            assert_eq!(logged.position, head + 1 + i as Position, "dense positions");
            log.push(recorded(logged, step.command_name()));
        }
        head += appended.len() as Position;
        assert_eq!(log, model.log(), "step {n}, {step:?}: the log");
        let rebuilt = Aggregates::fold(&log);
        assert_eq!(rebuilt, expected, "step {n}, {step:?}: the ledger");
        let decoded: Vec<AnyEvent> = log[log.len() - events.len()..]
            .iter()
            .map(|r| r.event.clone())
            .collect();
        check_recorded(step, &decoded, &rebuilt);
        check_invariants(&rebuilt, &log);
    }
    head
}

/// `alliance-ledger replay --until position`: the events it folded and the checksum.
fn replay_on_the_command_line(t: &TestDb, position: Position) -> (Position, String) {
    let until = position.to_string();
    let out = tokio::task::block_in_place(|| cli(Some(t), &["replay", "--until", &until]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "replay --until {position}: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("replay prints {name}: {stdout}"))
            .to_owned()
    };
    (
        field("position").parse().expect("a position"),
        field("checksum"),
    )
}

async fn run_case(t: &TestDb, case: &Case) {
    let bus = CommandBus::new(t.db.clone());
    // The projector the server runs, following the log from the start, woken by the commits.
    let (projector, projection) =
        Projector::new(t.db.clone(), LedgerState::default(), bus.commit_signal());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let following = tokio::spawn(projector.run(async move {
        let _ = stopped.await;
    }));

    let head = record_the_steps(t, &bus, case).await;

    assert!(
        projection.wait_for(head, CATCH_UP).await,
        "the read models reach position {head}"
    );
    let live = projection.read().await.clone();
    let _ = stop.send(());
    following
        .await
        .expect("the projector's task")
        .expect("the projector folds every event");

    let replayed = replay(&t.db, Until::End, |_, _| {}).await.expect("replay");
    assert_eq!(live.position(), head);
    assert_eq!(live.checksum(), replayed.checksum(), "live and replayed");
    assert_eq!(live, replayed, "live and replayed");

    let events = usize::try_from(head).expect("a position");
    let positions: Vec<Position> = if events <= EVERY_POSITION_UP_TO {
        (0..=head).collect()
    } else {
        let mut chosen: Vec<Position> = case
            .positions
            .iter()
            .map(|i| i.index(events + 1) as Position)
            .chain([0, head])
            .collect();
        chosen.sort_unstable();
        chosen.dedup();
        chosen
    };
    for p in positions {
        let as_of = live.until(p);
        let until = replay(&t.db, Until::Position(p), |_, _| {})
            .await
            .expect("replay --until");
        assert_eq!(as_of.position(), p);
        assert_eq!(as_of.checksum(), until.checksum(), "as of position {p}");
        assert_eq!(as_of, until, "as of position {p}");
    }

    let p = case.cli_position.index(events + 1) as Position;
    assert_eq!(
        replay_on_the_command_line(t, p),
        (p, live.until(p).checksum()),
        "replay --until {p} on the command line"
    );
}

fn check(backend: Backend, case: &Case) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let db = runtime.block_on(async {
        let t = TestDb::new(backend).await;
        run_case(&t, case).await;
        t
    });
    drop(db);
}

proptest! {
    #![proptest_config(sqlite_config())]

    /// On SQLite: the database decides as the model, keeps the invariants, and its read
    /// models equal a replay, as of any position too.
    #[test]
    fn on_sqlite_the_ledger_decides_as_the_model_and_reads_as_a_replay(case in case()) {
        check(Backend::Sqlite, &case);
    }
}

proptest! {
    #![proptest_config(postgres_config())]

    /// The same on PostgreSQL.
    #[test]
    fn on_postgres_the_ledger_decides_as_the_model_and_reads_as_a_replay(case in case()) {
        check(Backend::Postgres, &case);
    }
}
