use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;
use uuid::Uuid;

use super::*;
use crate::decision::DecisionStatus;
use crate::error::{ErrorKind, RuleViolation};
use crate::testing::{
    adopted_decision, area, date, foreign_decision, open_decision, other_programme_id, pillar,
    programme_id, services, unknown_decision,
};
use crate::text::TextError;

type FundTest = TestFramework<Fund>;

fn fund_test() -> FundTest {
    FundTest::with(services())
}

fn fund_id() -> FundId {
    FundId::from_uuid(Uuid::from_u128(0x3001))
}

fn allocation_id(n: u128) -> AllocationId {
    AllocationId::from_uuid(Uuid::from_u128(0x4000 + n))
}

fn line_id(n: u128) -> BudgetLineId {
    BudgetLineId::from_uuid(Uuid::from_u128(0x5000 + n))
}

fn years(first: i32, last: i32) -> YearRange {
    YearRange::new(first, last).expect("range")
}

fn euros(n: i64) -> Cents {
    Cents::euros(n)
}

fn register() -> RegisterFund {
    RegisterFund {
        fund_id: fund_id(),
        programme_id: programme_id(),
        funder: Funder::Rijk,
        funder_name: " Ministerie van OCW ".into(),
        name: " Schoolgebouwen Dordt West ".into(),
        amount: euros(27_500_000),
        period: years(2024, 2033),
        decision: adopted_decision(),
    }
}

/// EUR 27.5 million over ten years for eleven schools.
fn registered() -> FundEvent {
    FundEvent::FundRegistered {
        fund_id: fund_id(),
        programme_id: programme_id(),
        funder: Funder::Rijk,
        funder_name: "Ministerie van OCW".into(),
        name: "Schoolgebouwen Dordt West".into(),
        amount: euros(27_500_000),
        period: years(2024, 2033),
        decision: adopted_decision(),
        programme_period: years(2023, 2043),
    }
}

fn allocate(n: u128, amount: Cents) -> AllocateBudget {
    AllocateBudget {
        allocation_id: allocation_id(n),
        target: AllocationTarget::Pillar(pillar("leren-en-ontwikkelen")),
        year: 2025,
        amount,
        decision: adopted_decision(),
    }
}

fn allocated(n: u128, amount: Cents) -> FundEvent {
    FundEvent::BudgetAllocated {
        allocation_id: allocation_id(n),
        target: AllocationTarget::Pillar(pillar("leren-en-ontwikkelen")),
        year: 2025,
        amount,
        decision: adopted_decision(),
    }
}

fn commit(n: u128, amount: Cents) -> CommitBudget {
    CommitBudget {
        line_id: line_id(n),
        allocation_id: allocation_id(1),
        amount,
        description: " Aanbesteding nieuwbouw IKC Crabbehof ".into(),
        date: date(2025, 3, 1),
    }
}

fn committed(n: u128, amount: Cents) -> FundEvent {
    FundEvent::BudgetCommitted {
        line_id: line_id(n),
        allocation_id: allocation_id(1),
        amount,
        description: "Aanbesteding nieuwbouw IKC Crabbehof".into(),
        date: date(2025, 3, 1),
    }
}

fn spend(n: u128, amount: Cents) -> RecordExpenditure {
    RecordExpenditure {
        line_id: line_id(n),
        allocation_id: allocation_id(1),
        amount,
        description: "Eerste termijn bouw".into(),
        date: date(2025, 9, 30),
    }
}

fn spent(n: u128, amount: Cents) -> FundEvent {
    FundEvent::ExpenditureRecorded {
        line_id: line_id(n),
        allocation_id: allocation_id(1),
        amount,
        description: "Eerste termijn bouw".into(),
        date: date(2025, 9, 30),
    }
}

fn revise_allocation(amount: Cents) -> ReviseAllocation {
    ReviseAllocation {
        allocation_id: allocation_id(1),
        amount,
        reason: " Tweede school later gestart ".into(),
        decision: adopted_decision(),
    }
}

fn revise_fund(amount: Cents) -> ReviseFund {
    ReviseFund {
        amount,
        reason: "Aanvullende middelen van het Rijk".into(),
        decision: adopted_decision(),
    }
}

// --- registering a fund ---

#[tokio::test]
async fn registering_a_fund_records_it_with_the_programme_period() {
    fund_test()
        .given_no_previous_events()
        .when_async(FundCommand::Register(register()))
        .await
        .then_expect_events(vec![registered()]);
}

#[tokio::test]
async fn a_fund_is_registered_once() {
    fund_test()
        .given(vec![registered()])
        .when_async(FundCommand::Register(register()))
        .await
        .then_expect_error(FundError::AlreadyRegistered);
}

#[tokio::test]
async fn a_fund_holds_a_positive_amount() {
    for amount in [Cents::ZERO, Cents::new(-100)] {
        fund_test()
            .given_no_previous_events()
            .when_async(FundCommand::Register(RegisterFund {
                amount,
                ..register()
            }))
            .await
            .then_expect_error(FundError::NotPositive { field: "amount" });
    }
}

#[tokio::test]
async fn a_fund_has_a_name_and_a_funder_name() {
    fund_test()
        .given_no_previous_events()
        .when_async(FundCommand::Register(RegisterFund {
            name: "  ".into(),
            ..register()
        }))
        .await
        .then_expect_error(FundError::Text(TextError::Required { field: "name" }));
    fund_test()
        .given_no_previous_events()
        .when_async(FundCommand::Register(RegisterFund {
            funder_name: String::new(),
            ..register()
        }))
        .await
        .then_expect_error(FundError::Text(TextError::Required {
            field: "funderName",
        }));
}

#[tokio::test]
async fn a_fund_belongs_to_an_established_programme() {
    let unknown = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    fund_test()
        .given_no_previous_events()
        .when_async(FundCommand::Register(RegisterFund {
            programme_id: unknown.clone(),
            ..register()
        }))
        .await
        .then_expect_error(FundError::Reference(ReferenceError::UnknownProgramme {
            programme: unknown,
        }));
}

#[tokio::test]
async fn a_fund_lies_inside_the_programme_period() {
    fund_test()
        .given_no_previous_events()
        .when_async(FundCommand::Register(RegisterFund {
            period: years(2020, 2030),
            ..register()
        }))
        .await
        .then_expect_error(FundError::Reference(ReferenceError::OutsidePeriod {
            field: "period",
            value: "2020-2030".into(),
            period: years(2023, 2043),
        }));
}

#[tokio::test]
async fn a_fund_rests_on_an_adopted_decision_of_its_programme() {
    let cases = [
        (
            open_decision(),
            ReferenceError::DecisionNotAdopted {
                field: "decisionId",
                decision: open_decision(),
                status: DecisionStatus::Proposed,
            },
        ),
        (
            unknown_decision(),
            ReferenceError::UnknownDecision {
                field: "decisionId",
                decision: unknown_decision(),
            },
        ),
        (
            foreign_decision(),
            ReferenceError::DecisionOfOtherProgramme {
                field: "decisionId",
                decision: foreign_decision(),
                programme: programme_id(),
                other: other_programme_id(),
            },
        ),
    ];
    for (decision, error) in cases {
        fund_test()
            .given_no_previous_events()
            .when_async(FundCommand::Register(RegisterFund {
                decision,
                ..register()
            }))
            .await
            .then_expect_error(FundError::Reference(error));
    }
}

#[tokio::test]
async fn nothing_can_be_done_with_an_unregistered_fund() {
    let commands = [
        FundCommand::Allocate(allocate(1, euros(1))),
        FundCommand::Commit(commit(1, euros(1))),
        FundCommand::RecordExpenditure(spend(1, euros(1))),
        FundCommand::ReviseAllocation(revise_allocation(euros(1))),
        FundCommand::Revise(revise_fund(euros(1))),
    ];
    for command in commands {
        fund_test()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(FundError::NotFound);
    }
}

// --- allocating ---

#[tokio::test]
async fn budget_is_allocated_to_a_pillar_an_area_or_an_intervention() {
    let intervention = InterventionId::from_uuid(Uuid::from_u128(0x6001));
    for target in [
        AllocationTarget::Pillar(pillar("gezond-en-samen-leven")),
        AllocationTarget::Area(area("crabbehof")),
        AllocationTarget::Intervention(intervention),
    ] {
        fund_test()
            .given(vec![registered()])
            .when_async(FundCommand::Allocate(AllocateBudget {
                target: target.clone(),
                ..allocate(1, euros(2_750_000))
            }))
            .await
            .then_expect_events(vec![FundEvent::BudgetAllocated {
                allocation_id: allocation_id(1),
                target,
                year: 2025,
                amount: euros(2_750_000),
                decision: adopted_decision(),
            }]);
    }
}

#[tokio::test]
async fn an_allocation_never_exceeds_what_its_fund_has_left() {
    let given = vec![registered(), allocated(1, euros(20_000_000))];
    fund_test()
        .given(given.clone())
        .when_async(FundCommand::Allocate(allocate(2, euros(7_500_001))))
        .await
        .then_expect_error(FundError::ExceedsFund {
            amount: euros(7_500_001),
            left: euros(7_500_000),
        });
    // Exactly what is left can be allocated.
    fund_test()
        .given(given)
        .when_async(FundCommand::Allocate(allocate(2, euros(7_500_000))))
        .await
        .then_expect_events(vec![allocated(2, euros(7_500_000))]);
}

#[test]
fn the_refusal_states_what_the_fund_has_left() {
    let error = FundError::ExceedsFund {
        amount: euros(7_500_001),
        left: euros(7_500_000),
    };
    assert_eq!(error.rule(), "budget.within_fund");
    assert_eq!(error.kind(), ErrorKind::RuleViolated);
    assert!(error.to_string().contains("7500000.00 is left"), "{error}");
}

#[tokio::test]
async fn an_allocation_is_for_a_year_of_the_fund_period() {
    for year in [2023, 2034] {
        fund_test()
            .given(vec![registered()])
            .when_async(FundCommand::Allocate(AllocateBudget {
                year,
                ..allocate(1, euros(1))
            }))
            .await
            .then_expect_error(FundError::OutsideFundPeriod {
                year,
                period: years(2024, 2033),
            });
    }
}

#[tokio::test]
async fn an_allocation_goes_to_a_known_pillar_or_area() {
    fund_test()
        .given(vec![registered()])
        .when_async(FundCommand::Allocate(AllocateBudget {
            target: AllocationTarget::Pillar(pillar("werk-en-inkomen")),
            ..allocate(1, euros(1))
        }))
        .await
        .then_expect_error(FundError::Reference(ReferenceError::UnknownPillar {
            field: "target",
            programme: programme_id(),
            pillar: pillar("werk-en-inkomen"),
        }));
    fund_test()
        .given(vec![registered()])
        .when_async(FundCommand::Allocate(AllocateBudget {
            target: AllocationTarget::Area(area("oud-krispijn")),
            ..allocate(1, euros(1))
        }))
        .await
        .then_expect_error(FundError::Reference(ReferenceError::UnknownArea {
            field: "target",
            programme: programme_id(),
            area: area("oud-krispijn"),
        }));
}

#[tokio::test]
async fn an_allocation_is_recorded_once() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1))])
        .when_async(FundCommand::Allocate(allocate(1, euros(1))))
        .await
        .then_expect_error(FundError::AllocationExists(allocation_id(1)));
}

#[tokio::test]
async fn an_allocation_is_a_positive_amount() {
    fund_test()
        .given(vec![registered()])
        .when_async(FundCommand::Allocate(allocate(1, Cents::ZERO)))
        .await
        .then_expect_error(FundError::NotPositive { field: "amount" });
}

#[tokio::test]
async fn an_allocation_rests_on_an_adopted_decision() {
    fund_test()
        .given(vec![registered()])
        .when_async(FundCommand::Allocate(AllocateBudget {
            decision: open_decision(),
            ..allocate(1, euros(1))
        }))
        .await
        .then_expect_error(FundError::Reference(ReferenceError::DecisionNotAdopted {
            field: "decisionId",
            decision: open_decision(),
            status: DecisionStatus::Proposed,
        }));
}

// --- commitments and expenditures ---

#[tokio::test]
async fn committing_budget_records_the_trimmed_line() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000_000))])
        .when_async(FundCommand::Commit(commit(1, euros(400_000))))
        .await
        .then_expect_events(vec![committed(1, euros(400_000))]);
}

#[tokio::test]
async fn commitments_never_exceed_their_allocation() {
    fund_test()
        .given(vec![
            registered(),
            allocated(1, euros(1_000_000)),
            committed(1, euros(600_000)),
        ])
        .when_async(FundCommand::Commit(commit(2, euros(400_001))))
        .await
        .then_expect_error(FundError::CommitmentExceedsAllocation {
            amount: euros(400_001),
            left: euros(400_000),
        });
}

#[tokio::test]
async fn recording_an_expenditure_records_it() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000_000))])
        .when_async(FundCommand::RecordExpenditure(spend(1, euros(1_000_000))))
        .await
        .then_expect_events(vec![spent(1, euros(1_000_000))]);
}

#[tokio::test]
async fn an_expenditure_never_exceeds_its_allocation() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000_000))])
        .when_async(FundCommand::RecordExpenditure(spend(1, euros(1_000_001))))
        .await
        .then_expect_error(FundError::ExceedsAllocation {
            amount: euros(1_000_001),
            left: euros(1_000_000),
        });
    // Together with what was spent before.
    fund_test()
        .given(vec![
            registered(),
            allocated(1, euros(1_000_000)),
            spent(1, euros(999_999)),
        ])
        .when_async(FundCommand::RecordExpenditure(spend(2, euros(2))))
        .await
        .then_expect_error(FundError::ExceedsAllocation {
            amount: euros(2),
            left: euros(1),
        });
}

#[test]
fn the_refusal_states_what_the_allocation_has_left() {
    let error = FundError::ExceedsAllocation {
        amount: euros(2),
        left: euros(1),
    };
    assert_eq!(error.rule(), "budget.within_allocation");
    assert_eq!(error.kind(), ErrorKind::RuleViolated);
    assert!(
        error
            .to_string()
            .contains("1.00 of the allocation is unspent"),
        "{error}"
    );
}

#[tokio::test]
async fn a_budget_line_is_recorded_once() {
    fund_test()
        .given(vec![
            registered(),
            allocated(1, euros(1_000_000)),
            committed(1, euros(10)),
        ])
        .when_async(FundCommand::RecordExpenditure(spend(1, euros(10))))
        .await
        .then_expect_error(FundError::LineExists(line_id(1)));
}

#[tokio::test]
async fn a_budget_line_draws_on_a_known_allocation() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000))])
        .when_async(FundCommand::RecordExpenditure(RecordExpenditure {
            allocation_id: allocation_id(9),
            ..spend(1, euros(10))
        }))
        .await
        .then_expect_error(FundError::UnknownAllocation(allocation_id(9)));
}

#[tokio::test]
async fn a_budget_line_is_dated_inside_the_programme_period() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000))])
        .when_async(FundCommand::RecordExpenditure(RecordExpenditure {
            date: date(2044, 1, 1),
            ..spend(1, euros(10))
        }))
        .await
        .then_expect_error(FundError::Reference(ReferenceError::OutsidePeriod {
            field: "date",
            value: "2044-01-01".into(),
            period: years(2023, 2043),
        }));
}

#[tokio::test]
async fn a_budget_line_has_a_positive_amount_and_a_description() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000))])
        .when_async(FundCommand::Commit(commit(1, Cents::new(-1))))
        .await
        .then_expect_error(FundError::NotPositive { field: "amount" });
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000))])
        .when_async(FundCommand::Commit(CommitBudget {
            description: " ".into(),
            ..commit(1, euros(10))
        }))
        .await
        .then_expect_error(FundError::Text(TextError::Required {
            field: "description",
        }));
}

// --- revisions ---

#[tokio::test]
async fn an_allocation_is_revised_with_a_reason_on_a_decision() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000_000))])
        .when_async(FundCommand::ReviseAllocation(revise_allocation(euros(
            1_500_000,
        ))))
        .await
        .then_expect_events(vec![FundEvent::AllocationRevised {
            allocation_id: allocation_id(1),
            previous_amount: euros(1_000_000),
            amount: euros(1_500_000),
            reason: "Tweede school later gestart".into(),
            decision: adopted_decision(),
        }]);
}

#[tokio::test]
async fn an_allocation_is_never_revised_below_what_was_committed_or_spent() {
    fund_test()
        .given(vec![
            registered(),
            allocated(1, euros(1_000_000)),
            committed(1, euros(800_000)),
            spent(2, euros(300_000)),
        ])
        .when_async(FundCommand::ReviseAllocation(revise_allocation(euros(
            799_999,
        ))))
        .await
        .then_expect_error(FundError::AllocationBelowUse {
            amount: euros(799_999),
            committed: euros(800_000),
            spent: euros(300_000),
        });
}

#[tokio::test]
async fn a_revised_allocation_never_exceeds_what_its_fund_has_left() {
    fund_test()
        .given(vec![
            registered(),
            allocated(1, euros(1_000_000)),
            allocated(2, euros(26_000_000)),
        ])
        .when_async(FundCommand::ReviseAllocation(revise_allocation(euros(
            1_500_001,
        ))))
        .await
        .then_expect_error(FundError::ExceedsFund {
            amount: euros(1_500_001),
            left: euros(1_500_000),
        });
}

#[tokio::test]
async fn a_revision_changes_the_amount_and_gives_a_reason() {
    let given = vec![registered(), allocated(1, euros(1_000))];
    fund_test()
        .given(given.clone())
        .when_async(FundCommand::ReviseAllocation(revise_allocation(euros(
            1_000,
        ))))
        .await
        .then_expect_error(FundError::AmountUnchanged {
            amount: euros(1_000),
        });
    fund_test()
        .given(given.clone())
        .when_async(FundCommand::ReviseAllocation(ReviseAllocation {
            reason: String::new(),
            ..revise_allocation(euros(900))
        }))
        .await
        .then_expect_error(FundError::Text(TextError::Required { field: "reason" }));
    fund_test()
        .given(given)
        .when_async(FundCommand::ReviseAllocation(ReviseAllocation {
            allocation_id: allocation_id(7),
            ..revise_allocation(euros(900))
        }))
        .await
        .then_expect_error(FundError::UnknownAllocation(allocation_id(7)));
}

#[tokio::test]
async fn a_revision_rests_on_an_adopted_decision() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(1_000))])
        .when_async(FundCommand::ReviseAllocation(ReviseAllocation {
            decision: unknown_decision(),
            ..revise_allocation(euros(900))
        }))
        .await
        .then_expect_error(FundError::Reference(ReferenceError::UnknownDecision {
            field: "decisionId",
            decision: unknown_decision(),
        }));
    fund_test()
        .given(vec![registered()])
        .when_async(FundCommand::Revise(ReviseFund {
            decision: foreign_decision(),
            ..revise_fund(euros(30_000_000))
        }))
        .await
        .then_expect_error(FundError::Reference(
            ReferenceError::DecisionOfOtherProgramme {
                field: "decisionId",
                decision: foreign_decision(),
                programme: programme_id(),
                other: other_programme_id(),
            },
        ));
}

#[tokio::test]
async fn a_fund_is_revised_with_a_reason_on_a_decision() {
    fund_test()
        .given(vec![registered()])
        .when_async(FundCommand::Revise(revise_fund(euros(30_000_000))))
        .await
        .then_expect_events(vec![FundEvent::FundRevised {
            previous_amount: euros(27_500_000),
            amount: euros(30_000_000),
            reason: "Aanvullende middelen van het Rijk".into(),
            decision: adopted_decision(),
        }]);
}

#[tokio::test]
async fn a_fund_is_never_revised_below_what_it_has_allocated() {
    fund_test()
        .given(vec![registered(), allocated(1, euros(20_000_000))])
        .when_async(FundCommand::Revise(revise_fund(euros(19_999_999))))
        .await
        .then_expect_error(FundError::FundBelowAllocations {
            amount: euros(19_999_999),
            allocated: euros(20_000_000),
        });
    fund_test()
        .given(vec![registered()])
        .when_async(FundCommand::Revise(revise_fund(euros(27_500_000))))
        .await
        .then_expect_error(FundError::AmountUnchanged {
            amount: euros(27_500_000),
        });
}

// --- state and stored form ---

#[test]
fn the_state_sums_allocated_committed_spent_and_left() {
    let mut fund = Fund::default();
    for event in [
        registered(),
        allocated(1, euros(1_000_000)),
        allocated(2, euros(500_000)),
        committed(1, euros(700_000)),
        spent(2, euros(200_000)),
        FundEvent::AllocationRevised {
            allocation_id: allocation_id(2),
            previous_amount: euros(500_000),
            amount: euros(600_000),
            reason: "meer".into(),
            decision: adopted_decision(),
        },
    ] {
        fund.apply(event);
    }
    let state = fund.state().expect("registered");
    assert_eq!(state.allocated(), euros(1_600_000));
    assert_eq!(state.committed(), euros(700_000));
    assert_eq!(state.spent(), euros(200_000));
    assert_eq!(state.left(), euros(25_900_000));
    let first = state.allocation(allocation_id(1)).expect("allocation");
    assert_eq!(first.uncommitted(), euros(300_000));
    assert_eq!(first.unspent(), euros(800_000));
    assert_eq!(state.lines.len(), 2);
}

#[test]
fn events_keep_their_stored_names() {
    assert_eq!(registered().event_type(), "FundRegistered");
    assert_eq!(allocated(1, euros(1)).event_type(), "BudgetAllocated");
    assert_eq!(committed(1, euros(1)).event_type(), "BudgetCommitted");
    assert_eq!(spent(1, euros(1)).event_type(), "ExpenditureRecorded");
    assert_eq!(registered().event_version(), "1");
    let json = serde_json::to_value(registered()).expect("serialises");
    assert_eq!(json["FundRegistered"]["amount"], 2_750_000_000_i64);
    assert_eq!(json["FundRegistered"]["funder"], "Rijk");
    let back: FundEvent = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, registered());
}

#[test]
fn errors_name_their_rule_and_field() {
    assert_eq!(FundError::NotFound.kind(), ErrorKind::NotFound);
    assert_eq!(
        FundError::NotPositive { field: "amount" }.kind(),
        ErrorKind::InvalidInput { field: "amount" }
    );
    assert_eq!(
        FundError::UnknownAllocation(allocation_id(1)).kind(),
        ErrorKind::InvalidInput {
            field: "allocationId"
        }
    );
    assert_eq!(
        FundError::Reference(ReferenceError::UnknownDecision {
            field: "decisionId",
            decision: unknown_decision(),
        })
        .rule(),
        "citation.adopted_decision"
    );
    assert_eq!(
        FundError::Text(TextError::Required { field: "reason" }).kind(),
        ErrorKind::InvalidInput { field: "reason" }
    );
}
