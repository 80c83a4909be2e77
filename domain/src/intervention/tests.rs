use std::sync::Arc;

use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;
use uuid::Uuid;

use super::*;
use crate::access::Reporter;
use crate::alliance::Alliance;
use crate::decision::{AdoptionRule, Decision};
use crate::error::{ErrorKind, RuleViolation};
use crate::ids::DecisionId;
use crate::programme::{Programme, ProgrammeEvent, Theme};
use crate::reference::{Lookup, LookupError};
use crate::testing::{
    area, date, execution_programme, member, other_programme_id, pillar, programme_id, FakeLedger,
};
use crate::text::TextError;

type InterventionTest = TestFramework<Intervention>;

/// The fixed ledger, with themes for the pillar Gezond en samen leven (the shared fixture has
/// none).
struct WithThemes(FakeLedger);

#[async_trait::async_trait]
impl Lookup for WithThemes {
    async fn programme(&self, id: &ProgrammeId) -> Result<Programme, LookupError> {
        let mut programme = self.0.programme(id).await?;
        if programme.state().is_some() {
            programme.apply(ProgrammeEvent::PillarAdded {
                pillar_id: pillar("gezond-en-samen-leven"),
                number: 1,
                name: "Gezond en samen leven".into(),
                ambition: String::new(),
                themes: ["Gezonde leefstijl", "Samen leven", "Zorg en welzijn"]
                    .map(|name| Theme {
                        name: name.into(),
                        description: String::new(),
                    })
                    .to_vec(),
            });
        }
        Ok(programme)
    }

    async fn alliance(&self, programme: &ProgrammeId) -> Result<Alliance, LookupError> {
        self.0.alliance(programme).await
    }

    async fn decision(&self, id: DecisionId) -> Result<Decision, LookupError> {
        self.0.decision(id).await
    }
}

fn intervention_test() -> InterventionTest {
    let ledger = WithThemes(FakeLedger::with_rule(AdoptionRule::Majority));
    InterventionTest::with(LedgerServices::new(Arc::new(ledger)))
}

fn intervention_id() -> InterventionId {
    InterventionId::from_uuid(Uuid::from_u128(0x8001))
}

fn milestone_id(n: u128) -> MilestoneId {
    MilestoneId::from_uuid(Uuid::from_u128(0x9000 + n))
}

fn period() -> YearRange {
    YearRange::new(2023, 2043).expect("range")
}

fn plan() -> PlanIntervention {
    PlanIntervention {
        intervention_id: intervention_id(),
        programme_id: programme_id(),
        execution_programme: execution_programme(),
        pillar: pillar("gezond-en-samen-leven"),
        themes: vec![" Gezonde leefstijl ".into()],
        areas: vec![area("crabbehof"), area("wielwijk")],
        lead_partner: member("gemeente"),
        title: " Buurtsportcoach in elke wijk ".into(),
        description: "Sport en bewegen dichtbij huis".into(),
    }
}

fn planned() -> InterventionEvent {
    InterventionEvent::InterventionPlanned {
        intervention_id: intervention_id(),
        programme_id: programme_id(),
        execution_programme: execution_programme(),
        pillar: pillar("gezond-en-samen-leven"),
        themes: vec!["Gezonde leefstijl".into()],
        areas: vec![area("crabbehof"), area("wielwijk")],
        lead_partner: member("gemeente"),
        lead_organisation: "Organisatie gemeente".into(),
        title: "Buurtsportcoach in elke wijk".into(),
        description: "Sport en bewegen dichtbij huis".into(),
        programme_period: period(),
    }
}

fn report(progress: u8, status: InterventionStatus) -> ReportInterventionProgress {
    ReportInterventionProgress {
        reporter: Reporter::Office,
        progress,
        status,
        note: " Twee coaches aangesteld ".into(),
        reported_on: date(2025, 1, 15),
    }
}

fn reported(progress: u8, status: InterventionStatus) -> InterventionEvent {
    InterventionEvent::InterventionProgressReported {
        progress,
        status,
        note: "Twee coaches aangesteld".into(),
        reported_on: date(2025, 1, 15),
    }
}

fn add_milestone(n: u128) -> AddMilestone {
    AddMilestone {
        milestone_id: milestone_id(n),
        title: " Coaches aangesteld ".into(),
        due: date(2025, 6, 30),
    }
}

fn milestone_added(n: u128) -> InterventionEvent {
    InterventionEvent::MilestoneAdded {
        milestone_id: milestone_id(n),
        title: "Coaches aangesteld".into(),
        due: date(2025, 6, 30),
    }
}

fn milestone_reached(n: u128) -> InterventionEvent {
    InterventionEvent::MilestoneReached {
        milestone_id: milestone_id(n),
        reached_on: date(2025, 5, 1),
    }
}

fn complete() -> CompleteIntervention {
    CompleteIntervention {
        evaluation: "Meer bewoners sporten wekelijks".into(),
        completed_on: date(2027, 12, 31),
    }
}

fn completed() -> InterventionEvent {
    InterventionEvent::InterventionCompleted {
        evaluation: "Meer bewoners sporten wekelijks".into(),
        completed_on: date(2027, 12, 31),
    }
}

fn stop() -> StopIntervention {
    StopIntervention {
        evaluation: String::new(),
        reason: " Financiering vervallen ".into(),
        stopped_on: date(2026, 3, 1),
    }
}

fn stopped() -> InterventionEvent {
    InterventionEvent::InterventionStopped {
        evaluation: String::new(),
        reason: "Financiering vervallen".into(),
        stopped_on: date(2026, 3, 1),
    }
}

// --- planning ---

#[tokio::test]
async fn planning_records_the_intervention_with_its_lead_partner() {
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(plan()))
        .await
        .then_expect_events(vec![planned()]);
}

#[tokio::test]
async fn an_intervention_is_planned_once() {
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::Plan(plan()))
        .await
        .then_expect_error(InterventionError::AlreadyPlanned);
}

#[tokio::test]
async fn an_intervention_has_a_title() {
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            title: " ".into(),
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::Text(TextError::Required {
            field: "title",
        }));
}

#[tokio::test]
async fn an_intervention_belongs_to_an_established_programme() {
    let unknown = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            programme_id: unknown.clone(),
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::Reference(
            ReferenceError::UnknownProgramme { programme: unknown },
        ));
}

#[tokio::test]
async fn an_intervention_falls_under_a_known_execution_programme_and_pillar() {
    let other_ep = ExecutionProgrammeId::parse("uitvoeringsprogramma-2028-2031").expect("slug");
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            execution_programme: other_ep.clone(),
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::Reference(
            ReferenceError::UnknownExecutionProgramme {
                field: "executionProgramme",
                programme: programme_id(),
                execution_programme: other_ep,
            },
        ));
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            pillar: pillar("werk-en-inkomen"),
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::Reference(
            ReferenceError::UnknownPillar {
                field: "pillar",
                programme: programme_id(),
                pillar: pillar("werk-en-inkomen"),
            },
        ));
}

#[tokio::test]
async fn its_themes_are_themes_of_its_pillar() {
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            themes: vec!["Gezonde leefstijl".into(), "Veiligheid".into()],
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::UnknownTheme {
            theme: "Veiligheid".into(),
            pillar: pillar("gezond-en-samen-leven"),
        });
    // The other pillar has no themes at all.
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            pillar: pillar("leren-en-ontwikkelen"),
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::UnknownTheme {
            theme: "Gezonde leefstijl".into(),
            pillar: pillar("leren-en-ontwikkelen"),
        });
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            themes: vec!["Samen leven".into(), " Samen leven".into()],
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::Text(TextError::Duplicate {
            field: "themes",
            value: "Samen leven".into(),
        }));
}

#[tokio::test]
async fn an_intervention_takes_place_in_at_least_one_area() {
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            areas: vec![],
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::NoAreas);
}

#[tokio::test]
async fn its_areas_are_known_and_listed_once() {
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            areas: vec![area("crabbehof"), area("oud-krispijn")],
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::Reference(ReferenceError::UnknownArea {
            field: "areas",
            programme: programme_id(),
            area: area("oud-krispijn"),
        }));
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            areas: vec![area("crabbehof"), area("crabbehof")],
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::AreaTwice(area("crabbehof")));
}

#[tokio::test]
async fn its_areas_are_areas_of_its_execution_programme() {
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            areas: vec![area("crabbehof"), area("dordt-west")],
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::AreaOutsideExecutionProgramme {
            area: area("dordt-west"),
            execution_programme: execution_programme(),
        });
}

#[tokio::test]
async fn its_lead_partner_is_a_member_of_the_alliance() {
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            lead_partner: member("sportbedrijf"),
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::Reference(
            ReferenceError::UnknownMember {
                field: "leadPartner",
                programme: programme_id(),
                member: member("sportbedrijf"),
            },
        ));
    // The other programme has the same execution programme but no alliance.
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Plan(PlanIntervention {
            programme_id: other_programme_id(),
            ..plan()
        }))
        .await
        .then_expect_error(InterventionError::Reference(ReferenceError::NoAlliance {
            programme: other_programme_id(),
        }));
}

// --- progress ---

#[tokio::test]
async fn progress_is_reported_as_a_percentage_with_a_status() {
    for status in [
        InterventionStatus::Planned,
        InterventionStatus::Running,
        InterventionStatus::Paused,
    ] {
        intervention_test()
            .given(vec![planned()])
            .when_async(InterventionCommand::ReportProgress(report(40, status)))
            .await
            .then_expect_events(vec![reported(40, status)]);
    }
}

#[tokio::test]
async fn only_the_lead_organisation_reports_progress_among_partners() {
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::ReportProgress(
            ReportInterventionProgress {
                reporter: Reporter::Partner {
                    organisation: "Organisatie gemeente".into(),
                },
                ..report(40, InterventionStatus::Running)
            },
        ))
        .await
        .then_expect_events(vec![reported(40, InterventionStatus::Running)]);
    let error = InterventionError::NotOwnIntervention {
        organisation: "Organisatie gemeente".into(),
    };
    assert_eq!(error.rule(), "intervention.own_organisation");
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::ReportProgress(
            ReportInterventionProgress {
                reporter: Reporter::Partner {
                    organisation: "Organisatie rijk".into(),
                },
                ..report(40, InterventionStatus::Running)
            },
        ))
        .await
        .then_expect_error(error);
}

#[tokio::test]
async fn progress_runs_from_0_to_100_percent() {
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::ReportProgress(report(
            101,
            InterventionStatus::Running,
        )))
        .await
        .then_expect_error(InterventionError::ProgressOutOfRange(101));
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::ReportProgress(report(
            100,
            InterventionStatus::Running,
        )))
        .await
        .then_expect_events(vec![reported(100, InterventionStatus::Running)]);
}

#[tokio::test]
async fn every_date_lies_inside_the_programme_period() {
    let outside = date(2044, 1, 1);
    let cases = [
        (
            InterventionCommand::ReportProgress(ReportInterventionProgress {
                reported_on: outside,
                ..report(10, InterventionStatus::Running)
            }),
            "reportedOn",
        ),
        (
            InterventionCommand::AddMilestone(AddMilestone {
                due: outside,
                ..add_milestone(1)
            }),
            "due",
        ),
        (
            InterventionCommand::Complete(CompleteIntervention {
                completed_on: outside,
                ..complete()
            }),
            "completedOn",
        ),
        (
            InterventionCommand::Stop(StopIntervention {
                stopped_on: outside,
                ..stop()
            }),
            "stoppedOn",
        ),
    ];
    for (command, field) in cases {
        intervention_test()
            .given(vec![planned()])
            .when_async(command)
            .await
            .then_expect_error(InterventionError::Reference(
                ReferenceError::OutsidePeriod {
                    field,
                    value: "2044-01-01".into(),
                    period: period(),
                },
            ));
    }
    intervention_test()
        .given(vec![planned(), milestone_added(1)])
        .when_async(InterventionCommand::ReachMilestone(ReachMilestone {
            milestone_id: milestone_id(1),
            reached_on: date(2022, 12, 31),
        }))
        .await
        .then_expect_error(InterventionError::Reference(
            ReferenceError::OutsidePeriod {
                field: "reachedOn",
                value: "2022-12-31".into(),
                period: period(),
            },
        ));
}

// --- milestones ---

#[tokio::test]
async fn a_milestone_is_added_with_a_title_and_due_date() {
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::AddMilestone(add_milestone(1)))
        .await
        .then_expect_events(vec![milestone_added(1)]);
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::AddMilestone(AddMilestone {
            title: String::new(),
            ..add_milestone(1)
        }))
        .await
        .then_expect_error(InterventionError::Text(TextError::Required {
            field: "title",
        }));
}

#[tokio::test]
async fn a_milestone_is_added_once() {
    intervention_test()
        .given(vec![planned(), milestone_added(1)])
        .when_async(InterventionCommand::AddMilestone(add_milestone(1)))
        .await
        .then_expect_error(InterventionError::MilestoneExists(milestone_id(1)));
}

#[tokio::test]
async fn a_milestone_is_reached_once() {
    let reach = || {
        InterventionCommand::ReachMilestone(ReachMilestone {
            milestone_id: milestone_id(1),
            reached_on: date(2025, 5, 1),
        })
    };
    intervention_test()
        .given(vec![planned(), milestone_added(1)])
        .when_async(reach())
        .await
        .then_expect_events(vec![milestone_reached(1)]);
    intervention_test()
        .given(vec![planned(), milestone_added(1), milestone_reached(1)])
        .when_async(reach())
        .await
        .then_expect_error(InterventionError::MilestoneAlreadyReached {
            milestone: milestone_id(1),
            reached_on: date(2025, 5, 1),
        });
}

#[tokio::test]
async fn only_a_known_milestone_is_reached() {
    intervention_test()
        .given(vec![planned(), milestone_added(1)])
        .when_async(InterventionCommand::ReachMilestone(ReachMilestone {
            milestone_id: milestone_id(2),
            reached_on: date(2025, 5, 1),
        }))
        .await
        .then_expect_error(InterventionError::UnknownMilestone(milestone_id(2)));
}

// --- closing ---

#[tokio::test]
async fn completing_records_the_evaluation() {
    intervention_test()
        .given(vec![planned(), reported(80, InterventionStatus::Running)])
        .when_async(InterventionCommand::Complete(complete()))
        .await
        .then_expect_events(vec![completed()]);
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::Complete(CompleteIntervention {
            evaluation: " ".into(),
            ..complete()
        }))
        .await
        .then_expect_error(InterventionError::Text(TextError::Required {
            field: "evaluation",
        }));
}

#[tokio::test]
async fn stopping_records_the_reason() {
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::Stop(stop()))
        .await
        .then_expect_events(vec![stopped()]);
    intervention_test()
        .given(vec![planned()])
        .when_async(InterventionCommand::Stop(StopIntervention {
            reason: String::new(),
            ..stop()
        }))
        .await
        .then_expect_error(InterventionError::Text(TextError::Required {
            field: "reason",
        }));
}

#[tokio::test]
async fn completed_and_stopped_interventions_are_final() {
    for (closing, stage) in [
        (completed(), InterventionStage::Completed),
        (stopped(), InterventionStage::Stopped),
    ] {
        for command in [
            InterventionCommand::ReportProgress(report(50, InterventionStatus::Running)),
            InterventionCommand::AddMilestone(add_milestone(2)),
            InterventionCommand::ReachMilestone(ReachMilestone {
                milestone_id: milestone_id(1),
                reached_on: date(2028, 1, 1),
            }),
            InterventionCommand::Complete(complete()),
            InterventionCommand::Stop(stop()),
        ] {
            intervention_test()
                .given(vec![planned(), milestone_added(1), closing.clone()])
                .when_async(command)
                .await
                .then_expect_error(InterventionError::Final { stage });
        }
    }
}

#[tokio::test]
async fn nothing_happens_to_an_intervention_never_planned() {
    intervention_test()
        .given_no_previous_events()
        .when_async(InterventionCommand::Complete(complete()))
        .await
        .then_expect_error(InterventionError::NotFound);
}

// --- state and stored form ---

#[test]
fn the_state_follows_progress_milestones_and_closure() {
    let mut intervention = Intervention::default();
    intervention.apply(planned());
    let state = intervention.state().expect("planned");
    assert_eq!(state.stage, InterventionStage::Planned);
    assert_eq!(state.progress, 0);

    intervention.apply(reported(60, InterventionStatus::Paused));
    intervention.apply(milestone_added(1));
    intervention.apply(milestone_added(2));
    intervention.apply(milestone_reached(2));
    let state = intervention.state().expect("planned");
    assert_eq!(state.stage, InterventionStage::Paused);
    assert_eq!(state.progress, 60);
    assert_eq!(state.milestones.len(), 2);
    assert_eq!(
        state.milestone(milestone_id(1)).and_then(|m| m.reached_on),
        None
    );
    assert_eq!(
        state.milestone(milestone_id(2)).and_then(|m| m.reached_on),
        Some(date(2025, 5, 1))
    );

    intervention.apply(completed());
    let state = intervention.state().expect("planned");
    assert_eq!(state.stage, InterventionStage::Completed);
    assert_eq!(state.progress, 100);
    assert_eq!(
        state.closure.as_ref().map(|c| c.closed_on),
        Some(date(2027, 12, 31))
    );
}

#[test]
fn events_keep_their_stored_names() {
    let names: Vec<String> = [
        planned(),
        reported(1, InterventionStatus::Running),
        milestone_added(1),
        milestone_reached(1),
        completed(),
        stopped(),
    ]
    .iter()
    .map(DomainEvent::event_type)
    .collect();
    assert_eq!(
        names,
        [
            "InterventionPlanned",
            "InterventionProgressReported",
            "MilestoneAdded",
            "MilestoneReached",
            "InterventionCompleted",
            "InterventionStopped"
        ]
    );
    assert_eq!(planned().event_version(), "1");
    let json = serde_json::to_value(planned()).expect("serialises");
    let back: InterventionEvent = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, planned());
}

#[test]
fn errors_name_their_rule_and_field() {
    let fin = InterventionError::Final {
        stage: InterventionStage::Stopped,
    };
    assert_eq!(fin.rule(), "intervention.final");
    assert_eq!(fin.kind(), ErrorKind::RuleViolated);
    assert_eq!(
        InterventionError::NoAreas.kind(),
        ErrorKind::InvalidInput { field: "areas" }
    );
    assert_eq!(
        InterventionError::ProgressOutOfRange(101).kind(),
        ErrorKind::InvalidInput { field: "progress" }
    );
    assert_eq!(InterventionError::NotFound.kind(), ErrorKind::NotFound);
}
