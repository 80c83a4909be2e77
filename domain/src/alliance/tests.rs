use chrono::NaiveDate;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::decision::DecisionStatus;
use crate::ids::DecisionId;
use crate::reference::ReferenceError;
use crate::testing::{
    self, adopted_decision, date, foreign_decision, founding_member, member, open_decision,
    other_programme_id, programme_id, unknown_decision,
};
use crate::text::TextError;

fn framework() -> TestFramework<Alliance> {
    TestFramework::with(testing::services())
}

fn period() -> YearRange {
    YearRange::new(2023, 2043).expect("range")
}

fn founding_members() -> Vec<NewMember> {
    vec![
        founding_member("gemeente", Sector::Gemeente),
        founding_member("woningcorporatie", Sector::Woningcorporatie),
        founding_member("politie", Sector::Politie),
        founding_member("rijk", Sector::Rijk),
    ]
}

/// Formed on 15 January 2023 by gemeente (chair), woningcorporatie, politie and rijk.
fn formed() -> AllianceEvent {
    AllianceEvent::AllianceFormed {
        programme_id: programme_id(),
        period: period(),
        chair: member("gemeente"),
        adoption_rule: AdoptionRule::Majority,
        formed_on: date(2023, 1, 15),
        members: founding_members(),
    }
}

fn form() -> FormAlliance {
    FormAlliance {
        programme_id: programme_id(),
        chair: member("gemeente"),
        adoption_rule: AdoptionRule::Majority,
        formed_on: date(2023, 1, 15),
        founding_members: founding_members(),
    }
}

fn bewoners() -> NewMember {
    founding_member("bewonersplatform", Sector::Bewoners)
}

fn admit(joined_on: NaiveDate, decision: DecisionId) -> AllianceCommand {
    AllianceCommand::Admit(AdmitMember {
        member: bewoners(),
        joined_on,
        decision,
    })
}

/// Bewonersplatform joined on 1 March 2024.
fn bewoners_joined() -> AllianceEvent {
    AllianceEvent::MemberJoined {
        member: bewoners(),
        joined_on: date(2024, 3, 1),
        decision: adopted_decision(),
    }
}

fn remove(id: &str, left_on: NaiveDate, decision: DecisionId) -> AllianceCommand {
    AllianceCommand::Remove(RemoveMember {
        member_id: member(id),
        left_on,
        reason: "Organisatie opgeheven".into(),
        decision,
    })
}

fn left(id: &str, left_on: NaiveDate) -> AllianceEvent {
    AllianceEvent::MemberLeft {
        member_id: member(id),
        left_on,
        reason: "Organisatie opgeheven".into(),
        decision: adopted_decision(),
    }
}

fn change_representative(id: &str, representative: &str) -> AllianceCommand {
    AllianceCommand::ChangeRepresentative(ChangeRepresentative {
        member_id: member(id),
        representative: representative.into(),
        changed_on: date(2024, 9, 1),
    })
}

fn change_chair(id: &str, decision: DecisionId) -> AllianceCommand {
    AllianceCommand::ChangeChair(ChangeChair {
        member_id: member(id),
        decision,
    })
}

fn change_rule(rule: AdoptionRule, decision: DecisionId) -> AllianceCommand {
    AllianceCommand::ChangeAdoptionRule(ChangeAdoptionRule { rule, decision })
}

fn new_meeting_id() -> MeetingId {
    MeetingId::from_uuid(Uuid::from_u128(0x1002))
}

fn hold_meeting(on: NaiveDate, present: &[&str]) -> AllianceCommand {
    AllianceCommand::HoldMeeting(HoldMeeting {
        meeting_id: new_meeting_id(),
        date: on,
        title: " Alliantieoverleg ".into(),
        present: present.iter().map(|m| member(m)).collect(),
    })
}

fn meeting_held(on: NaiveDate, present: &[&str]) -> AllianceEvent {
    AllianceEvent::MeetingHeld {
        meeting_id: new_meeting_id(),
        date: on,
        title: "Alliantieoverleg".into(),
        present: present.iter().map(|m| member(m)).collect(),
    }
}

/// The refusals of a command that must cite an adopted decision of this programme, for an
/// open, an unknown and a foreign decision.
fn citation_refusals() -> Vec<(DecisionId, ReferenceError)> {
    vec![
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
    ]
}

fn unknown_member(field: &'static str, id: &str) -> AllianceError {
    AllianceError::Reference(ReferenceError::UnknownMember {
        field,
        programme: programme_id(),
        member: member(id),
    })
}

// Forming the alliance.

#[tokio::test]
async fn an_alliance_is_formed_with_its_founding_members_and_the_programme_period() {
    let mut untidy = founding_members();
    untidy[0].organisation = "  Organisatie gemeente ".into();
    untidy[0].representative = "Vertegenwoordiger gemeente\n".into();
    untidy[0].mandate = " Mandaat namens de achterban ".into();
    framework()
        .given_no_previous_events()
        .when_async(AllianceCommand::Form(FormAlliance {
            founding_members: untidy,
            ..form()
        }))
        .await
        .then_expect_events(vec![formed()]);
}

#[tokio::test]
async fn an_alliance_is_formed_only_once() {
    framework()
        .given(vec![formed()])
        .when_async(AllianceCommand::Form(form()))
        .await
        .then_expect_error(AllianceError::AlreadyFormed);
}

#[tokio::test]
async fn an_alliance_is_formed_for_an_established_programme() {
    let elsewhere = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    framework()
        .given_no_previous_events()
        .when_async(AllianceCommand::Form(FormAlliance {
            programme_id: elsewhere.clone(),
            ..form()
        }))
        .await
        .then_expect_error(AllianceError::Reference(ReferenceError::UnknownProgramme {
            programme: elsewhere,
        }));
}

#[tokio::test]
async fn an_alliance_is_formed_inside_the_programme_period() {
    for formed_on in [date(2022, 12, 31), date(2044, 1, 1)] {
        framework()
            .given_no_previous_events()
            .when_async(AllianceCommand::Form(FormAlliance {
                formed_on,
                ..form()
            }))
            .await
            .then_expect_error(AllianceError::Reference(ReferenceError::OutsidePeriod {
                field: "formedOn",
                value: formed_on.to_string(),
                period: period(),
            }));
    }
}

#[tokio::test]
async fn the_chair_is_one_of_the_founding_members() {
    framework()
        .given_no_previous_events()
        .when_async(AllianceCommand::Form(FormAlliance {
            chair: member("bewonersplatform"),
            ..form()
        }))
        .await
        .then_expect_error(AllianceError::ChairNotAMember(member("bewonersplatform")));
}

#[tokio::test]
async fn a_founding_member_is_listed_only_once() {
    let mut members = founding_members();
    members.push(founding_member("politie", Sector::Politie));
    framework()
        .given_no_previous_events()
        .when_async(AllianceCommand::Form(FormAlliance {
            founding_members: members,
            ..form()
        }))
        .await
        .then_expect_error(AllianceError::AlreadyMember(member("politie")));
}

#[tokio::test]
async fn an_alliance_has_at_least_one_founding_member() {
    framework()
        .given_no_previous_events()
        .when_async(AllianceCommand::Form(FormAlliance {
            founding_members: vec![],
            ..form()
        }))
        .await
        .then_expect_error(AllianceError::NoFoundingMembers);
}

#[tokio::test]
async fn a_founding_member_names_its_organisation_and_representative() {
    let mut members = founding_members();
    members[1].organisation = " ".into();
    framework()
        .given_no_previous_events()
        .when_async(AllianceCommand::Form(FormAlliance {
            founding_members: members,
            ..form()
        }))
        .await
        .then_expect_error(AllianceError::Text(TextError::Required {
            field: "organisation",
        }));
    let mut members = founding_members();
    members[2].representative = String::new();
    framework()
        .given_no_previous_events()
        .when_async(AllianceCommand::Form(FormAlliance {
            founding_members: members,
            ..form()
        }))
        .await
        .then_expect_error(AllianceError::Text(TextError::Required {
            field: "representative",
        }));
}

#[tokio::test]
async fn nothing_happens_in_an_alliance_not_yet_formed() {
    for command in [
        admit(date(2024, 3, 1), adopted_decision()),
        remove("politie", date(2025, 1, 1), adopted_decision()),
        change_representative("politie", "Wijkagent Crabbehof"),
        change_chair("rijk", adopted_decision()),
        change_rule(AdoptionRule::Consensus, adopted_decision()),
        hold_meeting(date(2024, 6, 1), &["gemeente"]),
    ] {
        framework()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(AllianceError::NotFormed);
    }
}

// Admitting members.

#[tokio::test]
async fn a_member_joins_on_an_adopted_decision() {
    let mut untidy = bewoners();
    untidy.representative = " Vertegenwoordiger bewonersplatform ".into();
    framework()
        .given(vec![formed()])
        .when_async(AllianceCommand::Admit(AdmitMember {
            member: untidy,
            joined_on: date(2024, 3, 1),
            decision: adopted_decision(),
        }))
        .await
        .then_expect_events(vec![bewoners_joined()]);
}

#[tokio::test]
async fn a_member_joins_only_on_an_adopted_decision() {
    for (decision, refusal) in citation_refusals() {
        framework()
            .given(vec![formed()])
            .when_async(admit(date(2024, 3, 1), decision))
            .await
            .then_expect_error(AllianceError::Reference(refusal));
    }
}

#[tokio::test]
async fn a_current_member_cannot_join_again() {
    framework()
        .given(vec![formed()])
        .when_async(AllianceCommand::Admit(AdmitMember {
            member: founding_member("politie", Sector::Politie),
            joined_on: date(2024, 3, 1),
            decision: adopted_decision(),
        }))
        .await
        .then_expect_error(AllianceError::AlreadyMember(member("politie")));
}

#[tokio::test]
async fn a_member_who_left_may_rejoin() {
    framework()
        .given(vec![formed(), left("politie", date(2024, 1, 1))])
        .when_async(AllianceCommand::Admit(AdmitMember {
            member: founding_member("politie", Sector::Politie),
            joined_on: date(2025, 1, 1),
            decision: adopted_decision(),
        }))
        .await
        .then_expect_events(vec![AllianceEvent::MemberJoined {
            member: founding_member("politie", Sector::Politie),
            joined_on: date(2025, 1, 1),
            decision: adopted_decision(),
        }]);
}

#[tokio::test]
async fn a_member_who_left_rejoins_only_after_leaving() {
    framework()
        .given(vec![formed(), left("politie", date(2024, 1, 1))])
        .when_async(AllianceCommand::Admit(AdmitMember {
            member: founding_member("politie", Sector::Politie),
            joined_on: date(2023, 12, 1),
            decision: adopted_decision(),
        }))
        .await
        .then_expect_error(AllianceError::RejoinedBeforeLeaving {
            left_on: date(2024, 1, 1),
        });
}

#[tokio::test]
async fn nobody_joins_before_the_alliance_was_formed() {
    // formed() forms the alliance on 15 January 2023.
    framework()
        .given(vec![formed()])
        .when_async(admit(date(2023, 1, 14), adopted_decision()))
        .await
        .then_expect_error(AllianceError::JoinedBeforeFormed {
            formed_on: date(2023, 1, 15),
        });
}

#[tokio::test]
async fn a_member_joins_inside_the_programme_period() {
    framework()
        .given(vec![formed()])
        .when_async(admit(date(2044, 1, 1), adopted_decision()))
        .await
        .then_expect_error(AllianceError::OutsidePeriod {
            field: "joinedOn",
            date: date(2044, 1, 1),
            period: period(),
        });
}

// Removing members.

#[tokio::test]
async fn a_member_leaves_on_an_adopted_decision_with_a_reason() {
    framework()
        .given(vec![formed()])
        .when_async(AllianceCommand::Remove(RemoveMember {
            member_id: member("woningcorporatie"),
            left_on: date(2025, 1, 1),
            reason: "  Organisatie opgeheven ".into(),
            decision: adopted_decision(),
        }))
        .await
        .then_expect_events(vec![left("woningcorporatie", date(2025, 1, 1))]);
}

#[tokio::test]
async fn a_member_leaves_only_on_an_adopted_decision() {
    for (decision, refusal) in citation_refusals() {
        framework()
            .given(vec![formed()])
            .when_async(remove("woningcorporatie", date(2025, 1, 1), decision))
            .await
            .then_expect_error(AllianceError::Reference(refusal));
    }
}

#[tokio::test]
async fn the_chair_cannot_leave() {
    framework()
        .given(vec![formed()])
        .when_async(remove("gemeente", date(2025, 1, 1), adopted_decision()))
        .await
        .then_expect_error(AllianceError::ChairCannotLeave);
}

#[tokio::test]
async fn a_former_chair_may_leave_once_another_member_chairs() {
    framework()
        .given(vec![
            formed(),
            AllianceEvent::ChairChanged {
                member_id: member("rijk"),
                decision: adopted_decision(),
            },
        ])
        .when_async(remove("gemeente", date(2025, 1, 1), adopted_decision()))
        .await
        .then_expect_events(vec![left("gemeente", date(2025, 1, 1))]);
}

#[tokio::test]
async fn a_member_cannot_leave_before_it_joined() {
    framework()
        .given(vec![formed(), bewoners_joined()])
        .when_async(remove(
            "bewonersplatform",
            date(2024, 2, 29),
            adopted_decision(),
        ))
        .await
        .then_expect_error(AllianceError::LeftBeforeJoining);
}

#[tokio::test]
async fn leaving_needs_a_reason() {
    framework()
        .given(vec![formed()])
        .when_async(AllianceCommand::Remove(RemoveMember {
            member_id: member("woningcorporatie"),
            left_on: date(2025, 1, 1),
            reason: "   ".into(),
            decision: adopted_decision(),
        }))
        .await
        .then_expect_error(AllianceError::Text(TextError::Required { field: "reason" }));
}

#[tokio::test]
async fn only_a_current_member_can_leave() {
    framework()
        .given(vec![formed()])
        .when_async(remove("ondernemers", date(2025, 1, 1), adopted_decision()))
        .await
        .then_expect_error(unknown_member("memberId", "ondernemers"));
    framework()
        .given(vec![formed(), left("politie", date(2024, 1, 1))])
        .when_async(remove("politie", date(2025, 1, 1), adopted_decision()))
        .await
        .then_expect_error(unknown_member("memberId", "politie"));
}

#[tokio::test]
async fn a_member_leaves_inside_the_programme_period() {
    framework()
        .given(vec![formed()])
        .when_async(remove("politie", date(2044, 1, 1), adopted_decision()))
        .await
        .then_expect_error(AllianceError::OutsidePeriod {
            field: "leftOn",
            date: date(2044, 1, 1),
            period: period(),
        });
}

// Representatives.

#[tokio::test]
async fn a_member_changes_its_representative_without_a_decision() {
    framework()
        .given(vec![formed()])
        .when_async(change_representative("politie", " Wijkagent Crabbehof "))
        .await
        .then_expect_events(vec![AllianceEvent::RepresentativeChanged {
            member_id: member("politie"),
            representative: "Wijkagent Crabbehof".into(),
            changed_on: date(2024, 9, 1),
        }]);
}

#[tokio::test]
async fn a_new_representative_differs_from_the_current_one() {
    framework()
        .given(vec![formed()])
        .when_async(change_representative(
            "politie",
            " Vertegenwoordiger politie ",
        ))
        .await
        .then_expect_error(AllianceError::SameRepresentative);
    // A representative changed earlier is the one compared against.
    framework()
        .given(vec![
            formed(),
            AllianceEvent::RepresentativeChanged {
                member_id: member("politie"),
                representative: "Wijkagent Crabbehof".into(),
                changed_on: date(2024, 9, 1),
            },
        ])
        .when_async(change_representative("politie", "Wijkagent Crabbehof"))
        .await
        .then_expect_error(AllianceError::SameRepresentative);
}

#[tokio::test]
async fn a_representative_is_named() {
    framework()
        .given(vec![formed()])
        .when_async(change_representative("politie", "  "))
        .await
        .then_expect_error(AllianceError::Text(TextError::Required {
            field: "representative",
        }));
}

#[tokio::test]
async fn only_a_current_member_changes_its_representative() {
    framework()
        .given(vec![formed(), left("politie", date(2024, 1, 1))])
        .when_async(change_representative("politie", "Wijkagent Crabbehof"))
        .await
        .then_expect_error(unknown_member("memberId", "politie"));
}

// The chair.

#[tokio::test]
async fn another_member_becomes_chair_on_an_adopted_decision() {
    framework()
        .given(vec![formed()])
        .when_async(change_chair("rijk", adopted_decision()))
        .await
        .then_expect_events(vec![AllianceEvent::ChairChanged {
            member_id: member("rijk"),
            decision: adopted_decision(),
        }]);
}

#[tokio::test]
async fn the_chair_changes_only_on_an_adopted_decision() {
    for (decision, refusal) in citation_refusals() {
        framework()
            .given(vec![formed()])
            .when_async(change_chair("rijk", decision))
            .await
            .then_expect_error(AllianceError::Reference(refusal));
    }
}

#[tokio::test]
async fn the_chair_cannot_be_made_chair_again() {
    framework()
        .given(vec![formed()])
        .when_async(change_chair("gemeente", adopted_decision()))
        .await
        .then_expect_error(AllianceError::AlreadyChair);
}

#[tokio::test]
async fn only_a_current_member_can_chair() {
    framework()
        .given(vec![formed(), left("politie", date(2024, 1, 1))])
        .when_async(change_chair("politie", adopted_decision()))
        .await
        .then_expect_error(unknown_member("memberId", "politie"));
}

// The adoption rule.

#[tokio::test]
async fn the_adoption_rule_changes_on_an_adopted_decision() {
    framework()
        .given(vec![formed()])
        .when_async(change_rule(AdoptionRule::Consensus, adopted_decision()))
        .await
        .then_expect_events(vec![AllianceEvent::AdoptionRuleChanged {
            rule: AdoptionRule::Consensus,
            decision: adopted_decision(),
        }]);
}

#[tokio::test]
async fn a_new_adoption_rule_differs_from_the_current_one() {
    framework()
        .given(vec![formed()])
        .when_async(change_rule(AdoptionRule::Majority, adopted_decision()))
        .await
        .then_expect_error(AllianceError::SameRule);
}

#[tokio::test]
async fn the_adoption_rule_changes_only_on_an_adopted_decision() {
    for (decision, refusal) in citation_refusals() {
        framework()
            .given(vec![formed()])
            .when_async(change_rule(AdoptionRule::Consensus, decision))
            .await
            .then_expect_error(AllianceError::Reference(refusal));
    }
}

// Meetings.

#[tokio::test]
async fn a_meeting_records_who_was_present() {
    framework()
        .given(vec![formed(), bewoners_joined()])
        .when_async(hold_meeting(
            date(2024, 6, 1),
            &["gemeente", "bewonersplatform", "rijk"],
        ))
        .await
        .then_expect_events(vec![meeting_held(
            date(2024, 6, 1),
            &["gemeente", "bewonersplatform", "rijk"],
        )]);
}

#[tokio::test]
async fn a_meeting_is_held_inside_the_programme_period() {
    for on in [date(2022, 12, 1), date(2044, 1, 10)] {
        framework()
            .given(vec![formed()])
            .when_async(hold_meeting(on, &["gemeente"]))
            .await
            .then_expect_error(AllianceError::OutsidePeriod {
                field: "date",
                date: on,
                period: period(),
            });
    }
}

#[tokio::test]
async fn only_current_members_are_present() {
    framework()
        .given(vec![formed()])
        .when_async(hold_meeting(date(2024, 6, 1), &["gemeente", "ondernemers"]))
        .await
        .then_expect_error(unknown_member("present", "ondernemers"));
    framework()
        .given(vec![formed(), left("politie", date(2024, 1, 1))])
        .when_async(hold_meeting(date(2024, 6, 1), &["gemeente", "politie"]))
        .await
        .then_expect_error(unknown_member("present", "politie"));
}

#[tokio::test]
async fn a_member_who_had_not_yet_joined_on_the_meeting_date_cannot_be_present() {
    framework()
        .given(vec![formed(), bewoners_joined()])
        .when_async(hold_meeting(
            date(2024, 1, 10),
            &["gemeente", "bewonersplatform"],
        ))
        .await
        .then_expect_error(AllianceError::NotYetMember {
            member: member("bewonersplatform"),
        });
}

#[tokio::test]
async fn each_member_is_listed_present_once() {
    framework()
        .given(vec![formed()])
        .when_async(hold_meeting(
            date(2024, 6, 1),
            &["gemeente", "politie", "gemeente"],
        ))
        .await
        .then_expect_error(AllianceError::PresentTwice(member("gemeente")));
}

#[tokio::test]
async fn a_meeting_has_at_least_one_member_present() {
    framework()
        .given(vec![formed()])
        .when_async(hold_meeting(date(2024, 6, 1), &[]))
        .await
        .then_expect_error(AllianceError::NobodyPresent);
}

#[tokio::test]
async fn a_meeting_is_recorded_only_once() {
    framework()
        .given(vec![
            formed(),
            meeting_held(date(2024, 6, 1), &["gemeente"]),
        ])
        .when_async(hold_meeting(date(2024, 7, 1), &["gemeente", "rijk"]))
        .await
        .then_expect_error(AllianceError::MeetingExists(new_meeting_id()));
}

#[tokio::test]
async fn a_meeting_has_a_title() {
    framework()
        .given(vec![formed()])
        .when_async(AllianceCommand::HoldMeeting(HoldMeeting {
            meeting_id: new_meeting_id(),
            date: date(2024, 6, 1),
            title: " ".into(),
            present: vec![member("gemeente")],
        }))
        .await
        .then_expect_error(AllianceError::Text(TextError::Required { field: "title" }));
}

#[test]
fn alliance_events_keep_their_stored_names() {
    use cqrs_es::DomainEvent;
    assert_eq!(formed().event_type(), "AllianceFormed");
    assert_eq!(formed().event_version(), "1");
    let json = serde_json::to_value(bewoners_joined()).expect("serialises");
    assert!(json.get("MemberJoined").is_some());
    let back: AllianceEvent = serde_json::from_value(json).expect("reads back");
    assert_eq!(back, bewoners_joined());
}
