//! proptest strategies for [`Step`]s after [`MemoryLedger::dordt_west`](super::MemoryLedger)'s
//! prologue.
//!
//! Ids come from small pools (six decisions, three funds with four allocations and eight
//! budget lines, a handful of targets and three commitments), so that a sequence keeps
//! returning to the same records. Most values are valid; some are not (an empty reason, a
//! date just outside the programme period, an unknown area, a decision of the other
//! programme, an amount of zero, below zero or `i64::MAX`), so that every rule is met from
//! both sides. Amounts are multiples of a few thousand euros, so that sums land exactly on a
//! fund's or allocation's edge now and then.

use chrono::Days;
use proptest::prelude::*;
use proptest::sample::subsequence;
use rust_decimal::Decimal;

use super::{
    allocation, area, commitment, date, decision, founding_decision, fund, heerlen_decision,
    indicator, line, meeting, member, pillar, programme, tagged, Step, DORDT_WEST,
    DORDT_WEST_MEMBERS, HEERLEN_NOORD,
};
use crate::access::Reporter;
use crate::alliance::{AllianceCommand, ChangeAdoptionRule, HoldMeeting, RemoveMember};
use crate::budget::{
    AllocateBudget, AllocationTarget, CommitBudget, FundCommand, Funder, RecordExpenditure,
    RegisterFund, ReviseAllocation, ReviseFund,
};
use crate::commitment::{
    CommitmentCommand, CommitmentStatus, MakeCommitment, ReportCommitmentProgress,
};
use crate::decision::{
    AdoptDecision, AdoptionRule, AmendDecision, DecisionCommand, ProposeDecision, RejectDecision,
    Vote, VoteChoice, WithdrawDecision,
};
use crate::ids::{DecisionId, InterventionId, MeetingId, ProgrammeId};
use crate::money::Cents;
use crate::period::YearRange;
use crate::target::{
    Baseline, ChangeTarget, SetTarget, TargetCommand, TargetKey, TargetValue, WithdrawTarget,
};

/// The pools: decisions 1..=4, meetings 1..=3 (1 is the prologue's), funds 1..=2 with
/// allocations 1..=3 and budget lines 1..=6, commitments 1..=2.
const DECISIONS: u128 = 4;
const MEETINGS: u128 = 3;
const FUNDS: u128 = 2;
const ALLOCATIONS: u128 = 3;
const LINES: u128 = 6;
const COMMITMENTS: u128 = 2;

/// A sequence of up to 16 steps that create records with valid values (propose and adopt
/// decisions, register funds and allocate them, set targets, make commitments; in that
/// order), then up
/// to `max_len` steps of any kind: without the first part, most steps would meet records nobody
/// created yet.
pub fn steps(max_len: usize) -> impl Strategy<Value = Vec<Step>> {
    (
        proptest::collection::vec(creating_step(), 0..=16),
        proptest::collection::vec(step(), 0..=max_len),
    )
        .prop_map(|(mut steps, rest)| {
            // Proposals before adoptions, funds before their allocations.
            steps.sort_by_key(creation_order);
            steps.extend(rest);
            steps
        })
}

fn creation_order(step: &Step) -> u8 {
    match step {
        Step::Decision(_, DecisionCommand::Propose(_)) => 0,
        Step::Decision(..) => 1,
        Step::Fund(_, FundCommand::Register(_)) => 2,
        Step::Fund(..) => 3,
        _ => 4,
    }
}

/// A step that creates a record or adopts a decision, with values every rule accepts (it
/// may still be refused: the record may exist already, the decision may not be proposed).
pub fn creating_step() -> BoxedStrategy<Step> {
    let propose = (1..=DECISIONS).prop_map(|n| {
        Step::Decision(
            decision(n),
            DecisionCommand::Propose(ProposeDecision {
                decision_id: decision(n),
                programme_id: programme(DORDT_WEST),
                title: "Aanpak overgewicht Crabbehof".into(),
                description: String::new(),
            }),
        )
    });
    let adopt = (1..=DECISIONS).prop_map(|n| {
        let votes = ["gemeente", "politie", "rijk"].map(|m| Vote {
            member: member(m),
            choice: VoteChoice::For,
        });
        Step::Decision(
            decision(n),
            DecisionCommand::Adopt(AdoptDecision {
                meeting_id: meeting(1),
                votes: votes.to_vec(),
            }),
        )
    });
    let register = (1..=FUNDS, 4..=20i64).prop_map(|(n, amount)| {
        Step::Fund(
            fund(n),
            FundCommand::Register(RegisterFund {
                fund_id: fund(n),
                programme_id: programme(DORDT_WEST),
                funder: Funder::Rijk,
                funder_name: "Ministerie van BZK".into(),
                name: "Volkshuisvestingsfonds".into(),
                amount: Cents::new(amount * 250_000),
                period: YearRange::new(2024, 2027).expect("a range"),
                decision: founding_decision(),
            }),
        )
    });
    let allocate =
        (1..=FUNDS, 1..=ALLOCATIONS, 2024..=2027i32, 1..=20i64).prop_map(|(f, a, year, amount)| {
            Step::Fund(
                fund(f),
                FundCommand::Allocate(AllocateBudget {
                    allocation_id: allocation(a),
                    target: AllocationTarget::Pillar(pillar("gezond-en-samen-leven")),
                    year,
                    amount: Cents::new(amount * 50_000),
                    decision: founding_decision(),
                }),
            )
        });
    let target = target_value().prop_map(|value| {
        let key = TargetKey {
            programme_id: programme(DORDT_WEST),
            indicator: indicator("ernstig-overgewicht"),
            area: area("crabbehof"),
            horizon_year: 2030,
        };
        Step::Target(
            key.clone(),
            TargetCommand::Set(SetTarget {
                key,
                value,
                baseline: None,
                decision: founding_decision(),
                reason: "Vastgesteld in het alliantieoverleg".into(),
            }),
        )
    });
    let make = (1..=COMMITMENTS, 0..DORDT_WEST_MEMBERS.len()).prop_map(|(n, m)| {
        Step::Commitment(
            commitment(n),
            CommitmentCommand::Make(MakeCommitment {
                commitment_id: commitment(n),
                programme_id: programme(DORDT_WEST),
                partner: member(DORDT_WEST_MEMBERS[m].0),
                description: "Extra wijkagent in Crabbehof".into(),
                amount: None,
                due: date(2027, 12, 31),
                decision: founding_decision(),
            }),
        )
    });
    prop_oneof![
        2 => propose,
        2 => adopt,
        3 => register,
        5 => allocate,
        1 => target,
        1 => make,
    ]
    .boxed()
}

/// One step on a decision, the alliance, a fund, a target or a commitment.
pub fn step() -> BoxedStrategy<Step> {
    prop_oneof![
        3 => propose_decision(),
        1 => amend_decision(),
        4 => adopt_decision(),
        1 => reject_decision(),
        1 => withdraw_decision(),
        1 => hold_meeting(),
        1 => remove_member(),
        1 => change_adoption_rule(),
        2 => register_fund(),
        3 => allocate_budget(),
        4 => commit_budget(),
        4 => record_expenditure(),
        2 => revise_allocation(),
        2 => revise_fund(),
        2 => set_target(),
        2 => change_target(),
        1 => withdraw_target(),
        2 => make_commitment(),
        3 => report_progress(),
    ]
    .boxed()
}

fn text(valid: &'static str) -> BoxedStrategy<String> {
    prop_oneof![18 => Just(valid), 1 => Just(""), 1 => Just("   ")]
        .prop_map(str::to_owned)
        .boxed()
}

fn reason() -> BoxedStrategy<String> {
    text("Herziening na evaluatie")
}

/// One of Dordt West's programme, mostly; now and then the other or an unknown one.
fn programme_id() -> BoxedStrategy<ProgrammeId> {
    prop_oneof![16 => Just(DORDT_WEST), 1 => Just(HEERLEN_NOORD), 1 => Just("onbekend")]
        .prop_map(programme)
        .boxed()
}

/// A decision of the pool (1 to 4), one of the prologue's, or one never proposed.
fn decision_id() -> BoxedStrategy<DecisionId> {
    prop_oneof![
        8 => (1..=DECISIONS).prop_map(decision),
        1 => Just(founding_decision()),
        1 => Just(heerlen_decision()),
        1 => Just(decision(DECISIONS + 1)),
    ]
    .boxed()
}

/// The decision a fund, target, commitment or alliance change cites.
fn cited() -> BoxedStrategy<DecisionId> {
    prop_oneof![10 => Just(founding_decision()), 5 => decision_id()].boxed()
}

fn meeting_id() -> BoxedStrategy<MeetingId> {
    prop_oneof![
        6 => Just(meeting(1)),
        2 => (2..=MEETINGS).prop_map(meeting),
        1 => Just(meeting(0xb)),
    ]
    .boxed()
}

/// A date in the programme period (2023-2043), or just outside it.
fn day() -> BoxedStrategy<chrono::NaiveDate> {
    prop_oneof![
        18 => (0..7670u64).prop_map(|d| date(2023, 1, 1) + Days::new(d)),
        1 => Just(date(2022, 12, 31)),
        1 => Just(date(2044, 1, 1)),
    ]
    .boxed()
}

/// A positive amount in steps of 500 euros, or zero, below zero, or the largest there is.
fn amount(step_cents: i64) -> BoxedStrategy<Cents> {
    prop_oneof![
        30 => (1..=20i64).prop_map(move |n| Cents::new(n * step_cents)),
        1 => Just(Cents::ZERO),
        1 => (-100_000..0i64).prop_map(Cents::new),
        1 => Just(Cents::new(i64::MAX)),
    ]
    .boxed()
}

fn line_amount() -> BoxedStrategy<Cents> {
    amount(50_000)
}

fn fund_amount() -> BoxedStrategy<Cents> {
    amount(250_000)
}

fn member_ids() -> Vec<&'static str> {
    let mut ids: Vec<&str> = DORDT_WEST_MEMBERS.iter().map(|(id, ..)| *id).collect();
    ids.extend(["gemeente-heerlen", "onbekend"]);
    ids
}

fn votes(carrying: VoteChoice) -> BoxedStrategy<Vec<Vote>> {
    let choice = prop_oneof![
        3 => Just(VoteChoice::For),
        1 => Just(VoteChoice::Against),
        1 => Just(VoteChoice::Abstain),
        1 => Just(VoteChoice::Consent),
    ];
    let all = |ids: &[&str]| {
        ids.iter()
            .map(|m| Vote {
                member: member(m),
                choice: carrying,
            })
            .collect::<Vec<_>>()
    };
    prop_oneof![
        4 => Just(all(&["gemeente", "politie", "rijk"])),
        1 => Just(all(&["gemeente-heerlen"])),
        4 => proptest::collection::vec((proptest::sample::select(member_ids()), choice), 0..=4)
            .prop_map(|votes| {
                votes
                    .into_iter()
                    .map(|(m, choice)| Vote { member: member(m), choice })
                    .collect()
            }),
    ]
    .boxed()
}

fn propose_decision() -> BoxedStrategy<Step> {
    (
        1..=DECISIONS,
        programme_id(),
        text("Aanpak overgewicht Crabbehof"),
    )
        .prop_map(|(n, programme_id, title)| {
            Step::Decision(
                decision(n),
                DecisionCommand::Propose(ProposeDecision {
                    decision_id: decision(n),
                    programme_id,
                    title,
                    description: "Voorstel van de werkgroep".into(),
                }),
            )
        })
        .boxed()
}

fn amend_decision() -> BoxedStrategy<Step> {
    let title = proptest::option::of(text("Aanpak overgewicht Dordt West"));
    let description = proptest::option::of(Just("Uitgebreid voorstel".to_owned()));
    (decision_id(), title, description, reason())
        .prop_map(|(id, title, description, reason)| {
            Step::Decision(
                id,
                DecisionCommand::Amend(AmendDecision {
                    title,
                    description,
                    reason,
                }),
            )
        })
        .boxed()
}

fn adopt_decision() -> BoxedStrategy<Step> {
    (decision_id(), meeting_id(), votes(VoteChoice::For))
        .prop_map(|(id, meeting_id, votes)| {
            Step::Decision(
                id,
                DecisionCommand::Adopt(AdoptDecision { meeting_id, votes }),
            )
        })
        .boxed()
}

fn reject_decision() -> BoxedStrategy<Step> {
    (decision_id(), meeting_id(), votes(VoteChoice::Against))
        .prop_map(|(id, meeting_id, votes)| {
            Step::Decision(
                id,
                DecisionCommand::Reject(RejectDecision { meeting_id, votes }),
            )
        })
        .boxed()
}

fn withdraw_decision() -> BoxedStrategy<Step> {
    (decision_id(), reason())
        .prop_map(|(id, reason)| {
            Step::Decision(id, DecisionCommand::Withdraw(WithdrawDecision { reason }))
        })
        .boxed()
}

fn hold_meeting() -> BoxedStrategy<Step> {
    (
        1..=MEETINGS,
        day(),
        subsequence(member_ids(), 0..=4),
        text("Alliantieoverleg"),
    )
        .prop_map(|(n, date, present, title)| {
            Step::Alliance(
                programme(DORDT_WEST),
                AllianceCommand::HoldMeeting(HoldMeeting {
                    meeting_id: meeting(n),
                    date,
                    title,
                    present: present.into_iter().map(member).collect(),
                }),
            )
        })
        .boxed()
}

fn remove_member() -> BoxedStrategy<Step> {
    (
        proptest::sample::select(member_ids()),
        day(),
        reason(),
        cited(),
    )
        .prop_map(|(id, left_on, reason, decision)| {
            Step::Alliance(
                programme(DORDT_WEST),
                AllianceCommand::Remove(RemoveMember {
                    member_id: member(id),
                    left_on,
                    reason,
                    decision,
                }),
            )
        })
        .boxed()
}

fn change_adoption_rule() -> BoxedStrategy<Step> {
    let rule = prop_oneof![Just(AdoptionRule::Majority), Just(AdoptionRule::Consensus)];
    (rule, cited())
        .prop_map(|(rule, decision)| {
            Step::Alliance(
                programme(DORDT_WEST),
                AllianceCommand::ChangeAdoptionRule(ChangeAdoptionRule { rule, decision }),
            )
        })
        .boxed()
}

/// Mostly 2024-2027 or the whole programme period; now and then one reaching outside it.
fn fund_period() -> BoxedStrategy<YearRange> {
    prop_oneof![
        6 => Just((2024, 2027)),
        3 => Just((2023, 2043)),
        1 => Just((2020, 2024)),
        1 => Just((2040, 2045)),
    ]
    .prop_map(|(first, last)| YearRange::new(first, last).expect("first <= last"))
    .boxed()
}

fn register_fund() -> BoxedStrategy<Step> {
    let funder = prop_oneof![
        Just(Funder::Rijk),
        Just(Funder::Gemeente),
        Just(Funder::Woningcorporatie),
        Just(Funder::Other),
    ];
    (
        1..=FUNDS,
        programme_id(),
        funder,
        text("Volkshuisvestingsfonds"),
        fund_amount(),
        fund_period(),
        cited(),
    )
        .prop_map(
            |(n, programme_id, funder, name, amount, period, decision)| {
                Step::Fund(
                    fund(n),
                    FundCommand::Register(RegisterFund {
                        fund_id: fund(n),
                        programme_id,
                        funder,
                        funder_name: "Ministerie van BZK".into(),
                        name,
                        amount,
                        period,
                        decision,
                    }),
                )
            },
        )
        .boxed()
}

fn allocation_target() -> BoxedStrategy<AllocationTarget> {
    prop_oneof![
        4 => Just(AllocationTarget::Pillar(pillar("gezond-en-samen-leven"))),
        2 => Just(AllocationTarget::Pillar(pillar("leren-en-ontwikkelen"))),
        3 => proptest::sample::select(vec!["crabbehof", "wielwijk"])
            .prop_map(|a| AllocationTarget::Area(area(a))),
        1 => proptest::sample::select(vec![
            AllocationTarget::Pillar(pillar("onbekend")),
            AllocationTarget::Area(area("onbekend")),
        ]),
        1 => Just(AllocationTarget::Intervention(InterventionId::from_uuid(tagged(0x1000_0000, 1)))),
    ]
    .boxed()
}

/// Mostly a year of the common fund period 2024-2027.
fn year() -> BoxedStrategy<i32> {
    prop_oneof![16 => 2024..=2027i32, 2 => 2023..=2043i32, 1 => Just(2044)].boxed()
}

fn allocate_budget() -> BoxedStrategy<Step> {
    (
        1..=FUNDS,
        1..=ALLOCATIONS,
        allocation_target(),
        year(),
        line_amount(),
        cited(),
    )
        .prop_map(|(f, a, target, year, amount, decision)| {
            Step::Fund(
                fund(f),
                FundCommand::Allocate(AllocateBudget {
                    allocation_id: allocation(a),
                    target,
                    year,
                    amount,
                    decision,
                }),
            )
        })
        .boxed()
}

fn commit_budget() -> BoxedStrategy<Step> {
    (
        1..=FUNDS,
        1..=LINES,
        1..=ALLOCATIONS,
        line_amount(),
        text("Contract sportaanbod"),
        day(),
    )
        .prop_map(|(f, l, a, amount, description, date)| {
            Step::Fund(
                fund(f),
                FundCommand::Commit(CommitBudget {
                    line_id: line(l),
                    allocation_id: allocation(a),
                    amount,
                    description,
                    date,
                }),
            )
        })
        .boxed()
}

fn record_expenditure() -> BoxedStrategy<Step> {
    (
        1..=FUNDS,
        1..=LINES,
        1..=ALLOCATIONS,
        line_amount(),
        text("Factuur sportaanbod"),
        day(),
    )
        .prop_map(|(f, l, a, amount, description, date)| {
            Step::Fund(
                fund(f),
                FundCommand::RecordExpenditure(RecordExpenditure {
                    line_id: line(l),
                    allocation_id: allocation(a),
                    amount,
                    description,
                    date,
                }),
            )
        })
        .boxed()
}

fn revise_allocation() -> BoxedStrategy<Step> {
    (1..=FUNDS, 1..=ALLOCATIONS, line_amount(), reason(), cited())
        .prop_map(|(f, a, amount, reason, decision)| {
            Step::Fund(
                fund(f),
                FundCommand::ReviseAllocation(ReviseAllocation {
                    allocation_id: allocation(a),
                    amount,
                    reason,
                    decision,
                }),
            )
        })
        .boxed()
}

fn revise_fund() -> BoxedStrategy<Step> {
    (1..=FUNDS, fund_amount(), reason(), cited())
        .prop_map(|(f, amount, reason, decision)| {
            Step::Fund(
                fund(f),
                FundCommand::Revise(ReviseFund {
                    amount,
                    reason,
                    decision,
                }),
            )
        })
        .boxed()
}

fn target_key() -> BoxedStrategy<TargetKey> {
    let programme_id =
        prop_oneof![9 => Just(DORDT_WEST), 1 => Just(HEERLEN_NOORD)].prop_map(programme);
    let indicator_key = prop_oneof![
        4 => Just("ernstig-overgewicht"),
        2 => Just("wekelijkse-sporters"),
        1 => Just("onbekend"),
    ]
    .prop_map(indicator);
    let area_id = prop_oneof![
        4 => Just("crabbehof"),
        2 => Just("wielwijk"),
        1 => Just("dordrecht"),
        1 => Just("onbekend"),
    ]
    .prop_map(area);
    let horizon = prop_oneof![4 => Just(2030), 1 => Just(2043), 1 => Just(2050)];
    let key = |p: &str, i: &str, a: &str, horizon_year| TargetKey {
        programme_id: programme(p),
        indicator: indicator(i),
        area: area(a),
        horizon_year,
    };
    prop_oneof![
        5 => Just(key(DORDT_WEST, "ernstig-overgewicht", "crabbehof", 2030)),
        2 => Just(key(DORDT_WEST, "wekelijkse-sporters", "wielwijk", 2043)),
        3 => (programme_id, indicator_key, area_id, horizon).prop_map(
            |(programme_id, indicator, area, horizon_year)| TargetKey {
                programme_id,
                indicator,
                area,
                horizon_year,
            }
        ),
    ]
    .boxed()
}

fn target_value() -> BoxedStrategy<TargetValue> {
    let absolute = proptest::sample::select(vec![100i64, 125, 200])
        .prop_map(|v| TargetValue::Absolute(Decimal::new(v, 1)));
    let comparator = prop_oneof![
        3 => Just("dordrecht"),
        1 => Just("nederland"),
        1 => Just("crabbehof"),
        1 => Just("onbekend"),
    ];
    let relative = (comparator, proptest::sample::select(vec![0i64, -15, 20])).prop_map(
        |(comparator, margin)| TargetValue::RelativeToComparator {
            comparator: area(comparator),
            margin: Decimal::new(margin, 1),
        },
    );
    prop_oneof![absolute, relative].boxed()
}

fn set_target() -> BoxedStrategy<Step> {
    let baseline = proptest::option::of(proptest::sample::select(vec![2022, 2030, 2031]).prop_map(
        |year| Baseline {
            value: Decimal::new(214, 1),
            year,
        },
    ));
    (target_key(), target_value(), baseline, cited(), reason())
        .prop_map(|(key, value, baseline, decision, reason)| {
            Step::Target(
                key.clone(),
                TargetCommand::Set(SetTarget {
                    key,
                    value,
                    baseline,
                    decision,
                    reason,
                }),
            )
        })
        .boxed()
}

fn change_target() -> BoxedStrategy<Step> {
    (target_key(), target_value(), cited(), reason())
        .prop_map(|(key, value, decision, reason)| {
            Step::Target(
                key,
                TargetCommand::Change(ChangeTarget {
                    value,
                    decision,
                    reason,
                }),
            )
        })
        .boxed()
}

fn withdraw_target() -> BoxedStrategy<Step> {
    (target_key(), cited(), reason())
        .prop_map(|(key, decision, reason)| {
            Step::Target(
                key,
                TargetCommand::Withdraw(WithdrawTarget { decision, reason }),
            )
        })
        .boxed()
}

fn make_commitment() -> BoxedStrategy<Step> {
    (
        1..=COMMITMENTS,
        programme_id(),
        proptest::sample::select(member_ids()),
        text("Extra wijkagent in Crabbehof"),
        proptest::option::of(line_amount()),
        day(),
        cited(),
    )
        .prop_map(
            |(n, programme_id, partner, description, amount, due, decision)| {
                Step::Commitment(
                    commitment(n),
                    CommitmentCommand::Make(MakeCommitment {
                        commitment_id: commitment(n),
                        programme_id,
                        partner: member(partner),
                        description,
                        amount,
                        due,
                        decision,
                    }),
                )
            },
        )
        .boxed()
}

fn report_progress() -> BoxedStrategy<Step> {
    let mut organisations: Vec<&str> = DORDT_WEST_MEMBERS.iter().map(|(_, o, _)| *o).collect();
    organisations.extend(["  gemeente dordrecht ", "Onbekende BV"]);
    let reporter = prop_oneof![
        2 => Just(Reporter::Office),
        3 => proptest::sample::select(organisations).prop_map(|o| Reporter::Partner {
            organisation: o.to_owned(),
        }),
    ];
    let status = prop_oneof![
        3 => Just(CommitmentStatus::OnTrack),
        2 => Just(CommitmentStatus::AtRisk),
        1 => Just(CommitmentStatus::Late),
        1 => Just(CommitmentStatus::Delivered),
        1 => Just(CommitmentStatus::Withdrawn),
    ];
    let note = prop_oneof![Just(""), Just("Loopt volgens planning")].prop_map(str::to_owned);
    (1..=COMMITMENTS, reporter, status, note, day())
        .prop_map(|(n, reporter, status, note, reported_on)| {
            Step::Commitment(
                commitment(n),
                CommitmentCommand::ReportProgress(ReportCommitmentProgress {
                    reporter,
                    status,
                    note,
                    reported_on,
                }),
            )
        })
        .boxed()
}
