//! Properties of the rules over random command sequences: whatever is asked in whatever
//! order, no accepted command breaks an invariant of the ledger, and a refused one changes
//! nothing.
//!
//! Each case runs the fixed prologue of [`MemoryLedger::dordt_west`] and then up to 60
//! generated steps on decisions, the alliance, funds, targets and commitments, decided by the
//! aggregates' own `handle` against a lookup over what the steps before recorded. After every
//! step the whole ledger is checked. 64 cases by default; `PROPTEST_CASES=5000` for a longer
//! run (see `docs/reliability.md`).
//!
//! The checks themselves ([`check_invariants`], [`check_recorded`]) are public with the
//! `arbitrary` feature: the integration suite runs the same sequences through the command bus
//! on a real database and checks the ledger rebuilt from its event log with them.

use std::collections::{BTreeMap, BTreeSet};

#[cfg(test)]
use proptest::prelude::*;
#[cfg(test)]
use proptest::strategy::ValueTree;
#[cfg(test)]
use proptest::test_runner::{Config, TestRunner};

use crate::alliance::AllianceState;
#[cfg(test)]
use crate::arbitrary::{strategy, MemoryLedger};
use crate::arbitrary::{Aggregates, AnyEvent, Recorded, Step};
use crate::budget::{FundEvent, FundState};
use crate::commitment::{CommitmentEvent, CommitmentState};
use crate::decision::{DecisionEvent, DecisionStatus};
use crate::ids::ProgrammeId;
use crate::money::Cents;
use crate::programme::AreaKind;
use crate::target::{RevisionKind, TargetEvent, TargetState, TargetValue};

/// 64 cases unless `PROPTEST_CASES` says otherwise.
#[cfg(test)]
fn config() -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    config
}

fn exact_sum(amounts: impl IntoIterator<Item = Cents>) -> i128 {
    amounts.into_iter().map(|c| i128::from(c.cents())).sum()
}

fn programme_state<'a>(
    all: &'a Aggregates,
    id: &ProgrammeId,
) -> &'a crate::programme::ProgrammeState {
    all.programmes
        .get(id.as_str())
        .and_then(|p| p.state())
        .unwrap_or_else(|| panic!("programme {id} is established"))
}

fn alliance_state<'a>(all: &'a Aggregates, id: &ProgrammeId) -> &'a AllianceState {
    all.alliances
        .get(id.as_str())
        .and_then(|a| a.state())
        .unwrap_or_else(|| panic!("programme {id} has an alliance"))
}

/// The events of one aggregate, in order.
fn events_of<'a>(log: &'a [Recorded], kind: &str, id: &'a str) -> Vec<&'a AnyEvent> {
    log.iter()
        .filter(|r| r.aggregate_type == kind && r.aggregate_id == id)
        .map(|r| &r.event)
        .collect()
}

/// No fund or allocation is overdrawn, no amount is zero or below, nothing overflowed.
fn check_fund(id: &str, fund: &FundState, all: &Aggregates, log: &[Recorded]) {
    assert!(
        fund.amount.is_positive(),
        "fund {id}: amount {}",
        fund.amount
    );
    let allocated = exact_sum(fund.allocations.values().map(|a| a.amount));
    assert!(
        allocated <= i128::from(fund.amount.cents()),
        "fund {id}: {}.{:02} allocated from a fund of {}",
        allocated / 100,
        allocated % 100,
        fund.amount
    );
    let programme = programme_state(all, &fund.programme_id);
    assert!(
        programme.period.covers(fund.period),
        "fund {id}: period {} outside the programme's {}",
        fund.period,
        programme.period
    );
    let events = events_of(log, "Fund", id);
    let mut lines = BTreeSet::new();
    for (allocation_id, a) in &fund.allocations {
        assert!(
            a.amount.is_positive(),
            "allocation {allocation_id}: {}",
            a.amount
        );
        assert!(
            Cents::ZERO <= a.committed && a.committed <= a.amount,
            "allocation {allocation_id}: {} committed of {}",
            a.committed,
            a.amount
        );
        assert!(
            Cents::ZERO <= a.spent && a.spent <= a.amount,
            "allocation {allocation_id}: {} spent of {}",
            a.spent,
            a.amount
        );
        assert!(
            fund.period.contains_year(a.year),
            "allocation {allocation_id}: year {} outside the fund's {}",
            a.year,
            fund.period
        );
        // What the allocation says was committed and spent is the exact sum of its lines:
        // nothing saturated or went missing.
        let (mut committed, mut spent) = (Vec::new(), Vec::new());
        for event in &events {
            match event {
                AnyEvent::Fund(FundEvent::BudgetCommitted {
                    line_id,
                    allocation_id: of,
                    amount,
                    date,
                    ..
                }) if of == allocation_id => {
                    assert!(lines.insert(*line_id), "line {line_id} recorded twice");
                    assert!(fund.programme_period.contains_date(*date));
                    committed.push(*amount);
                }
                AnyEvent::Fund(FundEvent::ExpenditureRecorded {
                    line_id,
                    allocation_id: of,
                    amount,
                    date,
                    ..
                }) if of == allocation_id => {
                    assert!(lines.insert(*line_id), "line {line_id} recorded twice");
                    assert!(fund.programme_period.contains_date(*date));
                    spent.push(*amount);
                }
                _ => {}
            }
        }
        assert!(committed.iter().chain(&spent).all(|c| c.is_positive()));
        assert_eq!(i128::from(a.committed.cents()), exact_sum(committed));
        assert_eq!(i128::from(a.spent.cents()), exact_sum(spent));
    }
    assert_eq!(
        lines, fund.lines,
        "fund {id}: every line belongs to an allocation"
    );
}

/// A target names a known indicator and area, its horizon lies in the programme period, its
/// comparator is a gemeente or land other than its area, and its history is what happened.
fn check_target(id: &str, target: &TargetState, all: &Aggregates, log: &[Recorded]) {
    let key = &target.key;
    assert_eq!(key.aggregate_id(), id);
    let programme = programme_state(all, &key.programme_id);
    assert!(programme.indicators.contains_key(&key.indicator));
    assert!(programme.areas.contains_key(&key.area));
    assert!(programme.period.contains_year(key.horizon_year));
    if let Some(baseline) = &target.baseline {
        assert!(baseline.year <= key.horizon_year);
    }
    let events = events_of(log, "Target", id);
    assert_eq!(
        target.history.len(),
        events.len(),
        "target {id}: one revision per event"
    );
    assert_eq!(target.history[0].kind, RevisionKind::Set);
    for (i, revision) in target.history.iter().enumerate() {
        if let TargetValue::RelativeToComparator { comparator, .. } = &revision.value {
            let kind = programme.areas.get(comparator).map(|a| a.kind);
            assert!(
                matches!(kind, Some(AreaKind::Gemeente | AreaKind::Land)),
                "target {id}: compared with {comparator} ({kind:?})"
            );
            assert_ne!(comparator, &key.area, "target {id}: compared with itself");
        }
        match revision.kind {
            RevisionKind::Set => assert_eq!(i, 0, "target {id}: set twice"),
            RevisionKind::Changed => assert_ne!(
                revision.value,
                target.history[i - 1].value,
                "target {id}: a change that changed nothing"
            ),
            RevisionKind::Withdrawn => {}
        }
    }
    assert_eq!(
        target.withdrawn,
        target.history.last().map(|r| r.kind) == Some(RevisionKind::Withdrawn)
    );
}

/// A commitment was made by a member of its programme's alliance, for a positive amount if
/// any, and its reports lie in the programme period.
fn check_commitment(id: &str, commitment: &CommitmentState, all: &Aggregates) {
    if let Some(amount) = commitment.amount {
        assert!(amount.is_positive(), "commitment {id}: amount {amount}");
    }
    let alliance = alliance_state(all, &commitment.programme_id);
    let partner = alliance
        .members
        .get(&commitment.partner)
        .unwrap_or_else(|| panic!("commitment {id}: partner {} unknown", commitment.partner));
    assert_eq!(partner.organisation, commitment.partner_organisation);
    assert!(commitment.programme_period.contains_date(commitment.due));
    for report in &commitment.reports {
        assert!(commitment
            .programme_period
            .contains_date(report.reported_on));
    }
    assert_eq!(
        commitment.status,
        commitment
            .reports
            .last()
            .map_or(crate::commitment::CommitmentStatus::OnTrack, |r| r.status)
    );
}

/// Adopted, rejected and withdrawn decisions, withdrawn targets and delivered or withdrawn
/// commitments receive no event after the one that closed them.
fn check_nothing_follows_a_final_event(log: &[Recorded]) {
    let mut closed: BTreeMap<(&str, &str), &AnyEvent> = BTreeMap::new();
    for r in log {
        let key = (r.aggregate_type, r.aggregate_id.as_str());
        if let Some(closing) = closed.get(&key) {
            panic!(
                "{} {} received {:?} after it was closed by {:?}",
                r.aggregate_type, r.aggregate_id, r.event, closing
            );
        }
        let closes = match &r.event {
            AnyEvent::Decision(e) => matches!(
                e,
                DecisionEvent::DecisionAdopted { .. }
                    | DecisionEvent::DecisionRejected { .. }
                    | DecisionEvent::DecisionWithdrawn { .. }
            ),
            AnyEvent::Target(e) => matches!(e, TargetEvent::TargetWithdrawn { .. }),
            AnyEvent::Commitment(CommitmentEvent::CommitmentProgressReported {
                status, ..
            }) => status.is_final(),
            _ => false,
        };
        if closes {
            closed.insert(key, &r.event);
        }
    }
}

/// The programme the step's aggregate belongs to, after the step.
fn programme_of(step: &Step, all: &Aggregates) -> Option<ProgrammeId> {
    let (_, id) = step.aggregate();
    match step {
        Step::Programme(p, _) | Step::Alliance(p, _) => Some(p.clone()),
        Step::Decision(..) => all.decisions[&id].state().map(|s| s.programme_id.clone()),
        Step::Fund(..) => all.funds[&id].state().map(|s| s.programme_id.clone()),
        Step::Target(..) => all.targets[&id].state().map(|s| s.key.programme_id.clone()),
        Step::Commitment(..) => all.commitments[&id].state().map(|s| s.programme_id.clone()),
    }
}

/// What an accepted step recorded: every citation is of an adopted decision of the same
/// programme, and a decision is adopted exactly when its meeting's votes carry it.
///
/// `events` are what `step` recorded and `all` every aggregate after it.
pub fn check_recorded(step: &Step, events: &[AnyEvent], all: &Aggregates) {
    let programme = programme_of(step, all);
    for event in events {
        if let Some(cited) = event.cited_decision() {
            let state = all
                .decisions
                .get(&cited.to_string())
                .and_then(|d| d.state())
                .unwrap_or_else(|| panic!("{event:?} cites {cited}, never proposed"));
            assert_eq!(
                state.status,
                DecisionStatus::Adopted,
                "{event:?} cites {cited}"
            );
            assert_eq!(Some(&state.programme_id), programme.as_ref(), "{event:?}");
        }
        let (adopted, present, votes) = match event {
            AnyEvent::Decision(DecisionEvent::DecisionAdopted { present, votes, .. }) => {
                (true, present, votes)
            }
            AnyEvent::Decision(DecisionEvent::DecisionRejected { present, votes, .. }) => {
                (false, present, votes)
            }
            _ => continue,
        };
        let Step::Decision(_, crate::decision::DecisionCommand::Adopt(cmd)) = step else {
            assert!(!adopted, "adopted by {step:?}");
            let Step::Decision(_, crate::decision::DecisionCommand::Reject(cmd)) = step else {
                panic!("rejected by {step:?}");
            };
            check_meeting(
                all,
                programme.as_ref(),
                cmd.meeting_id,
                present,
                votes,
                false,
            );
            continue;
        };
        assert!(adopted, "{event:?} from an adoption");
        check_meeting(
            all,
            programme.as_ref(),
            cmd.meeting_id,
            present,
            votes,
            true,
        );
    }
}

fn check_meeting(
    all: &Aggregates,
    programme: Option<&ProgrammeId>,
    meeting: crate::ids::MeetingId,
    present: &[crate::ids::MemberId],
    votes: &[crate::decision::Vote],
    adopted: bool,
) {
    let alliance = alliance_state(all, programme.expect("a decision has a programme"));
    let held = &alliance.meetings[&meeting];
    assert_eq!(held.present, present, "the meeting's own attendance");
    let unique: BTreeSet<_> = present.iter().collect();
    assert_eq!(unique.len(), present.len(), "present once each");
    let voters: BTreeSet<_> = votes.iter().map(|v| &v.member).collect();
    assert_eq!(voters.len(), votes.len(), "one vote each");
    assert!(voters.is_subset(&unique), "only members present vote");
    assert_eq!(
        alliance.adoption_rule.carried(present.len(), votes),
        adopted,
        "adopted exactly when the votes carry it under {:?}",
        alliance.adoption_rule
    );
}

fn check_alliance(id: &str, alliance: &AllianceState) {
    let chair = alliance.members.get(&alliance.chair);
    assert!(
        chair.is_some_and(|m| m.left_on.is_none()),
        "alliance {id}: the chair {} is a current member",
        alliance.chair
    );
    for meeting in alliance.meetings.values() {
        assert!(!meeting.present.is_empty());
        assert!(alliance.period.contains_date(meeting.date));
    }
}

/// Every invariant of the whole ledger.
#[cfg(test)]
fn check_ledger(ledger: &MemoryLedger) {
    let all = ledger.aggregates();
    let log = ledger.log();
    assert_eq!(
        Aggregates::fold(log),
        all,
        "what the handlers left is what a reload from the log gives"
    );
    check_invariants(&all, log);
}

/// Every invariant of a ledger whose aggregates are `all` and whose events are `log` (in
/// order, as recorded): no fund or allocation overdrawn, every target, commitment and alliance
/// consistent, nothing after a final event. Panics naming the first one broken.
pub fn check_invariants(all: &Aggregates, log: &[Recorded]) {
    for (id, fund) in &all.funds {
        check_fund(id, fund.state().expect("registered"), all, log);
    }
    for (id, target) in &all.targets {
        check_target(id, target.state().expect("set"), all, log);
    }
    for (id, commitment) in &all.commitments {
        check_commitment(id, commitment.state().expect("made"), all);
    }
    for (id, alliance) in &all.alliances {
        check_alliance(id, alliance.state().expect("formed"));
    }
    check_nothing_follows_a_final_event(log);
}

/// Every aggregate but the one `step` addresses, as it stood.
#[cfg(test)]
fn others(all: &Aggregates, step: &Step) -> Aggregates {
    let (kind, id) = step.aggregate();
    let mut rest = all.clone();
    match kind {
        "Programme" => rest.programmes.remove(&id).map(drop),
        "Alliance" => rest.alliances.remove(&id).map(drop),
        "Decision" => rest.decisions.remove(&id).map(drop),
        "Fund" => rest.funds.remove(&id).map(drop),
        "Target" => rest.targets.remove(&id).map(drop),
        "Commitment" => rest.commitments.remove(&id).map(drop),
        other => panic!("no aggregate type {other}"),
    };
    rest
}

/// How often each command was accepted and refused, and each rule refused one.
#[cfg(test)]
#[derive(Debug, Default)]
struct Tally {
    commands: BTreeMap<&'static str, (u32, u32)>,
    rules: BTreeMap<&'static str, u32>,
}

/// Runs the steps after the prologue, checking after each.
#[cfg(test)]
fn run(steps: &[Step]) -> Tally {
    let mut ledger = MemoryLedger::dordt_west();
    check_ledger(&ledger);
    let mut tally = Tally::default();
    for step in steps {
        let before = ledger.aggregates();
        let logged = ledger.log().len();
        let counts = tally.commands.entry(step.command_name()).or_default();
        match ledger.execute(step) {
            Ok(events) => {
                counts.0 += 1;
                let after = ledger.aggregates();
                assert_eq!(ledger.log().len(), logged + events.len());
                assert_eq!(
                    others(&after, step),
                    others(&before, step),
                    "{step:?} changed another aggregate"
                );
                check_recorded(step, &events, &after);
                check_ledger(&ledger);
            }
            Err(refusal) => {
                counts.1 += 1;
                *tally.rules.entry(refusal.rule).or_default() += 1;
                assert!(
                    !refusal.touched,
                    "{step:?} was refused ({}) after changing its aggregate",
                    refusal.rule
                );
                assert_ne!(refusal.rule, "ledger.available", "{}", refusal.message);
                assert_eq!(ledger.aggregates(), before, "{step:?} refused, yet changed");
                assert_eq!(ledger.log().len(), logged);
            }
        }
    }
    tally
}

#[cfg(test)]
proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_command_sequence_breaks_an_invariant(steps in strategy::steps(60)) {
        run(&steps);
    }
}

/// The generator is no use if it never reaches a rule: over a fixed set of sequences every
/// kind of command is accepted and refused several times, and every rule that guards an
/// invariant above refuses something.
#[test]
fn the_sequences_reach_every_command_and_rule() {
    let mut runner = TestRunner::deterministic();
    let strategy = strategy::steps(60);
    let mut total = Tally::default();
    for _ in 0..200 {
        let steps = strategy
            .new_tree(&mut runner)
            .expect("a sequence")
            .current();
        let tally = run(&steps);
        for (name, (accepted, refused)) in tally.commands {
            let counts = total.commands.entry(name).or_default();
            counts.0 += accepted;
            counts.1 += refused;
        }
        for (rule, n) in tally.rules {
            *total.rules.entry(rule).or_default() += n;
        }
    }
    let commands = [
        "ProposeDecision",
        "AmendDecision",
        "AdoptDecision",
        "RejectDecision",
        "WithdrawDecision",
        "HoldMeeting",
        "RemoveMember",
        "ChangeAdoptionRule",
        "RegisterFund",
        "AllocateBudget",
        "CommitBudget",
        "RecordExpenditure",
        "ReviseAllocation",
        "ReviseFund",
        "SetTarget",
        "ChangeTarget",
        "WithdrawTarget",
        "MakeCommitment",
        "ReportCommitmentProgress",
    ];
    for name in commands {
        let (accepted, refused) = total.commands.get(name).copied().unwrap_or_default();
        assert!(
            accepted >= 5 && refused >= 5,
            "{name}: accepted {accepted} times, refused {refused} times in {total:?}"
        );
    }
    let rules = [
        "budget.within_fund",
        "budget.committed_within_allocation",
        "budget.within_allocation",
        "budget.allocation_covers_use",
        "budget.fund_covers_allocations",
        "budget.positive_amount",
        "budget_line.unique",
        "decision.final",
        "decision.withdrawn",
        "decision.adoption_rule",
        "meeting.only_present_vote",
        "target.final",
        "target.comparator_kind",
        "commitment.final",
        "commitment.own_organisation",
        "citation.adopted_decision",
        "citation.same_programme",
        "programme.period",
    ];
    for rule in rules {
        assert!(
            total.rules.get(rule).is_some_and(|n| *n >= 3),
            "{rule} refused too seldom: {total:?}"
        );
    }
}
