use std::sync::Arc;

use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;
use uuid::Uuid;

use super::*;
use crate::access::Reporter;
use crate::alliance::{Alliance, AllianceEvent};
use crate::decision::{AdoptionRule, Decision, DecisionStatus};
use crate::error::{ErrorKind, RuleViolation};
use crate::ids::DecisionId;
use crate::programme::Programme;
use crate::reference::{Lookup, LookupError};
use crate::testing::{
    adopted_decision, date, foreign_decision, member, open_decision, other_programme_id,
    programme_id, services, unknown_decision, FakeLedger,
};
use crate::text::TextError;

type CommitmentTest = TestFramework<Commitment>;

fn commitment_test() -> CommitmentTest {
    CommitmentTest::with(services())
}

/// The fixed ledger, in which the woningcorporatie left the alliance on 1 January 2024.
struct AfterWoningcorporatieLeft(FakeLedger);

#[async_trait::async_trait]
impl Lookup for AfterWoningcorporatieLeft {
    async fn programme(&self, id: &ProgrammeId) -> Result<Programme, LookupError> {
        self.0.programme(id).await
    }

    async fn alliance(&self, programme: &ProgrammeId) -> Result<Alliance, LookupError> {
        let mut alliance = self.0.alliance(programme).await?;
        alliance.apply(AllianceEvent::MemberLeft {
            member_id: member("woningcorporatie"),
            left_on: date(2024, 1, 1),
            reason: "Fusie".into(),
            decision: adopted_decision(),
        });
        Ok(alliance)
    }

    async fn decision(&self, id: DecisionId) -> Result<Decision, LookupError> {
        self.0.decision(id).await
    }
}

fn commitment_id() -> CommitmentId {
    CommitmentId::from_uuid(Uuid::from_u128(0x7001))
}

fn period() -> YearRange {
    YearRange::new(2023, 2043).expect("range")
}

fn make() -> MakeCommitment {
    MakeCommitment {
        commitment_id: commitment_id(),
        programme_id: programme_id(),
        partner: member("rijk"),
        description: " Bijdrage aan nieuwbouw van elf scholen ".into(),
        amount: Some(Cents::euros(27_500_000)),
        due: date(2033, 12, 31),
        decision: adopted_decision(),
    }
}

fn made() -> CommitmentEvent {
    CommitmentEvent::CommitmentMade {
        commitment_id: commitment_id(),
        programme_id: programme_id(),
        partner: member("rijk"),
        partner_organisation: "Organisatie rijk".into(),
        partner_sector: Sector::Rijk,
        description: "Bijdrage aan nieuwbouw van elf scholen".into(),
        amount: Some(Cents::euros(27_500_000)),
        due: date(2033, 12, 31),
        decision: adopted_decision(),
        programme_period: period(),
    }
}

fn report(status: CommitmentStatus) -> ReportCommitmentProgress {
    ReportCommitmentProgress {
        reporter: Reporter::Office,
        status,
        note: " Eerste twee scholen opgeleverd ".into(),
        reported_on: date(2026, 6, 1),
    }
}

fn reported(status: CommitmentStatus) -> CommitmentEvent {
    CommitmentEvent::CommitmentProgressReported {
        status,
        note: "Eerste twee scholen opgeleverd".into(),
        reported_on: date(2026, 6, 1),
    }
}

#[tokio::test]
async fn a_partner_commitment_is_recorded_with_its_organisation_and_sector() {
    commitment_test()
        .given_no_previous_events()
        .when_async(CommitmentCommand::Make(make()))
        .await
        .then_expect_events(vec![made()]);
}

#[tokio::test]
async fn a_commitment_without_money_is_recorded_too() {
    let CommitmentEvent::CommitmentMade {
        commitment_id,
        programme_id,
        partner,
        partner_organisation,
        partner_sector,
        description,
        due,
        decision,
        programme_period,
        ..
    } = made()
    else {
        unreachable!()
    };
    commitment_test()
        .given_no_previous_events()
        .when_async(CommitmentCommand::Make(MakeCommitment {
            amount: None,
            ..make()
        }))
        .await
        .then_expect_events(vec![CommitmentEvent::CommitmentMade {
            commitment_id,
            programme_id,
            partner,
            partner_organisation,
            partner_sector,
            description,
            amount: None,
            due,
            decision,
            programme_period,
        }]);
}

#[tokio::test]
async fn a_commitment_is_made_once() {
    commitment_test()
        .given(vec![made()])
        .when_async(CommitmentCommand::Make(make()))
        .await
        .then_expect_error(CommitmentError::AlreadyMade);
}

#[tokio::test]
async fn a_commitment_says_what_is_promised() {
    commitment_test()
        .given_no_previous_events()
        .when_async(CommitmentCommand::Make(MakeCommitment {
            description: "\n".into(),
            ..make()
        }))
        .await
        .then_expect_error(CommitmentError::Text(TextError::Required {
            field: "description",
        }));
}

#[tokio::test]
async fn a_promised_amount_is_positive() {
    for amount in [Cents::ZERO, Cents::new(-1)] {
        commitment_test()
            .given_no_previous_events()
            .when_async(CommitmentCommand::Make(MakeCommitment {
                amount: Some(amount),
                ..make()
            }))
            .await
            .then_expect_error(CommitmentError::NotPositive);
    }
}

#[tokio::test]
async fn a_commitment_is_due_inside_the_programme_period() {
    commitment_test()
        .given_no_previous_events()
        .when_async(CommitmentCommand::Make(MakeCommitment {
            due: date(2044, 1, 1),
            ..make()
        }))
        .await
        .then_expect_error(CommitmentError::Reference(ReferenceError::OutsidePeriod {
            field: "due",
            value: "2044-01-01".into(),
            period: period(),
        }));
}

#[tokio::test]
async fn only_a_member_of_the_alliance_makes_a_commitment() {
    commitment_test()
        .given_no_previous_events()
        .when_async(CommitmentCommand::Make(MakeCommitment {
            partner: member("ondernemers"),
            ..make()
        }))
        .await
        .then_expect_error(CommitmentError::Reference(ReferenceError::UnknownMember {
            field: "partner",
            programme: programme_id(),
            member: member("ondernemers"),
        }));
}

#[tokio::test]
async fn a_member_that_left_makes_no_new_commitments() {
    let ledger = AfterWoningcorporatieLeft(FakeLedger::with_rule(AdoptionRule::Majority));
    CommitmentTest::with(LedgerServices::new(Arc::new(ledger)))
        .given_no_previous_events()
        .when_async(CommitmentCommand::Make(MakeCommitment {
            partner: member("woningcorporatie"),
            ..make()
        }))
        .await
        .then_expect_error(CommitmentError::Reference(ReferenceError::UnknownMember {
            field: "partner",
            programme: programme_id(),
            member: member("woningcorporatie"),
        }));
}

#[tokio::test]
async fn a_commitment_needs_a_programme_with_an_alliance() {
    commitment_test()
        .given_no_previous_events()
        .when_async(CommitmentCommand::Make(MakeCommitment {
            programme_id: other_programme_id(),
            decision: foreign_decision(),
            ..make()
        }))
        .await
        .then_expect_error(CommitmentError::Reference(ReferenceError::NoAlliance {
            programme: other_programme_id(),
        }));
    let unknown = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    commitment_test()
        .given_no_previous_events()
        .when_async(CommitmentCommand::Make(MakeCommitment {
            programme_id: unknown.clone(),
            ..make()
        }))
        .await
        .then_expect_error(CommitmentError::Reference(
            ReferenceError::UnknownProgramme { programme: unknown },
        ));
}

#[tokio::test]
async fn a_commitment_rests_on_an_adopted_decision_of_its_programme() {
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
        commitment_test()
            .given_no_previous_events()
            .when_async(CommitmentCommand::Make(MakeCommitment {
                decision,
                ..make()
            }))
            .await
            .then_expect_error(CommitmentError::Reference(error));
    }
}

#[tokio::test]
async fn progress_is_reported_with_a_status_and_a_note() {
    for status in [
        CommitmentStatus::OnTrack,
        CommitmentStatus::AtRisk,
        CommitmentStatus::Late,
        CommitmentStatus::Delivered,
        CommitmentStatus::Withdrawn,
    ] {
        commitment_test()
            .given(vec![made(), reported(CommitmentStatus::AtRisk)])
            .when_async(CommitmentCommand::ReportProgress(report(status)))
            .await
            .then_expect_events(vec![reported(status)]);
    }
}

#[tokio::test]
async fn delivered_and_withdrawn_commitments_are_final() {
    for status in [CommitmentStatus::Delivered, CommitmentStatus::Withdrawn] {
        commitment_test()
            .given(vec![made(), reported(status)])
            .when_async(CommitmentCommand::ReportProgress(report(
                CommitmentStatus::OnTrack,
            )))
            .await
            .then_expect_error(CommitmentError::Final { status });
    }
}

#[tokio::test]
async fn progress_is_reported_inside_the_programme_period() {
    commitment_test()
        .given(vec![made()])
        .when_async(CommitmentCommand::ReportProgress(
            ReportCommitmentProgress {
                reported_on: date(2022, 12, 31),
                ..report(CommitmentStatus::Late)
            },
        ))
        .await
        .then_expect_error(CommitmentError::Reference(ReferenceError::OutsidePeriod {
            field: "reportedOn",
            value: "2022-12-31".into(),
            period: period(),
        }));
}

#[tokio::test]
async fn a_partner_reports_progress_on_its_own_commitment() {
    commitment_test()
        .given(vec![made()])
        .when_async(CommitmentCommand::ReportProgress(
            ReportCommitmentProgress {
                reporter: Reporter::Partner {
                    organisation: "organisatie RIJK".into(),
                },
                ..report(CommitmentStatus::AtRisk)
            },
        ))
        .await
        .then_expect_events(vec![reported(CommitmentStatus::AtRisk)]);
}

#[tokio::test]
async fn a_partner_cannot_report_on_another_organisations_commitment() {
    let error = CommitmentError::NotOwnCommitment {
        organisation: "Organisatie rijk".into(),
    };
    assert_eq!(error.rule(), "commitment.own_organisation");
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    commitment_test()
        .given(vec![made()])
        .when_async(CommitmentCommand::ReportProgress(
            ReportCommitmentProgress {
                reporter: Reporter::Partner {
                    organisation: "Organisatie woningcorporatie".into(),
                },
                ..report(CommitmentStatus::Delivered)
            },
        ))
        .await
        .then_expect_error(error);
}

#[tokio::test]
async fn progress_is_reported_only_on_a_commitment_that_was_made() {
    commitment_test()
        .given_no_previous_events()
        .when_async(CommitmentCommand::ReportProgress(report(
            CommitmentStatus::OnTrack,
        )))
        .await
        .then_expect_error(CommitmentError::NotFound);
}

#[test]
fn the_state_names_the_partner_and_keeps_every_report() {
    let mut commitment = Commitment::default();
    assert_eq!(commitment.partner(), None);
    commitment.apply(made());
    assert_eq!(
        commitment.state().map(|s| s.status),
        Some(CommitmentStatus::OnTrack)
    );
    commitment.apply(reported(CommitmentStatus::AtRisk));
    commitment.apply(reported(CommitmentStatus::Delivered));
    assert_eq!(commitment.partner(), Some(&member("rijk")));
    assert_eq!(commitment.partner_organisation(), Some("Organisatie rijk"));
    let state = commitment.state().expect("made");
    assert_eq!(state.status, CommitmentStatus::Delivered);
    assert_eq!(state.reports.len(), 2);
    assert_eq!(state.reports[0].status, CommitmentStatus::AtRisk);
}

#[test]
fn events_keep_their_stored_names() {
    assert_eq!(made().event_type(), "CommitmentMade");
    assert_eq!(
        reported(CommitmentStatus::Late).event_type(),
        "CommitmentProgressReported"
    );
    assert_eq!(made().event_version(), "1");
    let json = serde_json::to_value(made()).expect("serialises");
    assert_eq!(json["CommitmentMade"]["partner"], "rijk");
    let back: CommitmentEvent = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, made());
}

#[test]
fn errors_name_their_rule_and_field() {
    let fin = CommitmentError::Final {
        status: CommitmentStatus::Delivered,
    };
    assert_eq!(fin.rule(), "commitment.final");
    assert_eq!(fin.kind(), ErrorKind::RuleViolated);
    assert_eq!(CommitmentError::NotFound.kind(), ErrorKind::NotFound);
    assert_eq!(
        CommitmentError::NotPositive.kind(),
        ErrorKind::InvalidInput { field: "amount" }
    );
    assert_eq!(CommitmentError::AlreadyMade.rule(), "commitment.unique");
}
