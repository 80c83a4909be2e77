use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::testing::{self, date, meeting_id, member, programme_id, FakeLedger};

fn with_majority() -> TestFramework<Decision> {
    TestFramework::with(testing::services())
}

fn with_consensus() -> TestFramework<Decision> {
    TestFramework::with(FakeLedger::with_rule(AdoptionRule::Consensus).services())
}

fn decision_id() -> DecisionId {
    DecisionId::from_uuid(Uuid::from_u128(0x2023_0601))
}

fn proposed() -> DecisionEvent {
    DecisionEvent::DecisionProposed {
        decision_id: decision_id(),
        programme_id: programme_id(),
        title: "Vaststellen Nationaal Programma Dordt West 2023-2043".into(),
        description: "Ambitie, opgaven en thema's".into(),
    }
}

fn vote(id: &str, choice: VoteChoice) -> Vote {
    Vote {
        member: member(id),
        choice,
    }
}

/// At the meeting gemeente, politie and rijk were present; two in favour is a majority.
fn carrying_votes() -> Vec<Vote> {
    vec![
        vote("gemeente", VoteChoice::For),
        vote("politie", VoteChoice::Consent),
        vote("rijk", VoteChoice::Against),
    ]
}

fn failing_votes() -> Vec<Vote> {
    vec![
        vote("gemeente", VoteChoice::For),
        vote("politie", VoteChoice::Against),
        vote("rijk", VoteChoice::Abstain),
    ]
}

fn present() -> Vec<MemberId> {
    vec![member("gemeente"), member("politie"), member("rijk")]
}

fn adopt(votes: Vec<Vote>) -> DecisionCommand {
    DecisionCommand::Adopt(AdoptDecision {
        meeting_id: meeting_id(),
        votes,
    })
}

fn reject(votes: Vec<Vote>) -> DecisionCommand {
    DecisionCommand::Reject(RejectDecision {
        meeting_id: meeting_id(),
        votes,
    })
}

fn adopted_event(votes: Vec<Vote>) -> DecisionEvent {
    DecisionEvent::DecisionAdopted {
        meeting_date: date(2023, 6, 15),
        present: present(),
        votes,
        meeting_id: Some(meeting_id()),
    }
}

fn propose(title: &str) -> DecisionCommand {
    DecisionCommand::Propose(ProposeDecision {
        decision_id: decision_id(),
        programme_id: programme_id(),
        title: title.into(),
        description: "  Ambitie, opgaven en thema's \n".into(),
    })
}

#[tokio::test]
async fn proposing_records_the_trimmed_proposal() {
    with_majority()
        .given_no_previous_events()
        .when_async(propose(
            "  Vaststellen Nationaal Programma Dordt West 2023-2043 ",
        ))
        .await
        .then_expect_events(vec![proposed()]);
}

#[tokio::test]
async fn a_proposal_belongs_to_an_established_programme() {
    let mut command = propose("Besluit");
    if let DecisionCommand::Propose(p) = &mut command {
        p.programme_id = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    }
    let result = with_majority()
        .given_no_previous_events()
        .when_async(command)
        .await
        .inspect_result();
    assert!(matches!(
        result,
        Err(DecisionError::Reference(
            crate::reference::ReferenceError::UnknownProgramme { .. }
        ))
    ));
}

#[tokio::test]
async fn a_proposal_needs_a_title() {
    with_majority()
        .given_no_previous_events()
        .when_async(propose("   "))
        .await
        .then_expect_error(DecisionError::TitleRequired);
}

#[tokio::test]
async fn a_title_longer_than_the_limit_is_refused() {
    with_majority()
        .given_no_previous_events()
        .when_async(propose(&"x".repeat(TITLE_MAX + 1)))
        .await
        .then_expect_error(DecisionError::TooLong {
            field: "title",
            max: TITLE_MAX,
        });
}

#[tokio::test]
async fn a_decision_is_proposed_only_once() {
    with_majority()
        .given(vec![proposed()])
        .when_async(propose("Nog eens"))
        .await
        .then_expect_error(DecisionError::AlreadyProposed);
}

#[tokio::test]
async fn an_open_proposal_can_be_amended_with_a_reason() {
    with_majority()
        .given(vec![proposed()])
        .when_async(DecisionCommand::Amend(AmendDecision {
            title: Some(" Vaststellen programma, gewijzigd ".into()),
            description: None,
            reason: "na bewonersavond".into(),
        }))
        .await
        .then_expect_events(vec![DecisionEvent::DecisionAmended {
            title: Some("Vaststellen programma, gewijzigd".into()),
            description: None,
            reason: "na bewonersavond".into(),
        }]);
}

#[tokio::test]
async fn an_amendment_needs_a_reason_and_a_change() {
    with_majority()
        .given(vec![proposed()])
        .when_async(DecisionCommand::Amend(AmendDecision {
            title: Some("Nieuw".into()),
            description: None,
            reason: " ".into(),
        }))
        .await
        .then_expect_error(DecisionError::ReasonRequired);
    with_majority()
        .given(vec![proposed()])
        .when_async(DecisionCommand::Amend(AmendDecision {
            title: None,
            description: None,
            reason: "niets".into(),
        }))
        .await
        .then_expect_error(DecisionError::NothingToAmend);
}

#[tokio::test]
async fn a_majority_of_those_present_adopts() {
    with_majority()
        .given(vec![proposed()])
        .when_async(adopt(carrying_votes()))
        .await
        .then_expect_events(vec![adopted_event(carrying_votes())]);
}

#[tokio::test]
async fn adoption_without_a_carrying_vote_is_refused() {
    with_majority()
        .given(vec![proposed()])
        .when_async(adopt(failing_votes()))
        .await
        .then_expect_error(DecisionError::NotCarried {
            rule: AdoptionRule::Majority,
        });
}

#[tokio::test]
async fn under_consensus_every_member_present_must_agree() {
    with_consensus()
        .given(vec![proposed()])
        .when_async(adopt(carrying_votes()))
        .await
        .then_expect_error(DecisionError::NotCarried {
            rule: AdoptionRule::Consensus,
        });
    let all = vec![
        vote("gemeente", VoteChoice::Consent),
        vote("politie", VoteChoice::Consent),
        vote("rijk", VoteChoice::For),
    ];
    with_consensus()
        .given(vec![proposed()])
        .when_async(adopt(all.clone()))
        .await
        .then_expect_events(vec![adopted_event(all)]);
}

#[tokio::test]
async fn a_vote_that_fails_rejects() {
    with_majority()
        .given(vec![proposed()])
        .when_async(reject(failing_votes()))
        .await
        .then_expect_events(vec![DecisionEvent::DecisionRejected {
            meeting_date: date(2023, 6, 15),
            present: present(),
            votes: failing_votes(),
            meeting_id: Some(meeting_id()),
        }]);
}

#[tokio::test]
async fn rejection_with_a_carrying_vote_is_refused() {
    with_majority()
        .given(vec![proposed()])
        .when_async(reject(carrying_votes()))
        .await
        .then_expect_error(DecisionError::VotesCarryIt {
            rule: AdoptionRule::Majority,
        });
}

#[tokio::test]
async fn only_members_present_vote() {
    let mut votes = carrying_votes();
    votes.push(vote("woningcorporatie", VoteChoice::For));
    with_majority()
        .given(vec![proposed()])
        .when_async(adopt(votes))
        .await
        .then_expect_error(DecisionError::VoterNotPresent {
            member: member("woningcorporatie"),
        });
}

#[tokio::test]
async fn each_member_votes_once() {
    let mut votes = carrying_votes();
    votes.push(vote("gemeente", VoteChoice::Against));
    with_majority()
        .given(vec![proposed()])
        .when_async(adopt(votes))
        .await
        .then_expect_error(DecisionError::VotedTwice {
            member: member("gemeente"),
        });
}

#[tokio::test]
async fn a_decision_is_taken_in_a_recorded_meeting() {
    let result = with_majority()
        .given(vec![proposed()])
        .when_async(DecisionCommand::Adopt(AdoptDecision {
            meeting_id: MeetingId::from_uuid(Uuid::from_u128(0xdead)),
            votes: carrying_votes(),
        }))
        .await
        .inspect_result();
    assert!(matches!(
        result,
        Err(DecisionError::Reference(
            crate::reference::ReferenceError::UnknownMeeting { .. }
        ))
    ));
}

#[tokio::test]
async fn an_adopted_decision_is_final() {
    for command in [
        adopt(carrying_votes()),
        reject(failing_votes()),
        DecisionCommand::Withdraw(WithdrawDecision {
            reason: "te laat".into(),
        }),
        DecisionCommand::Amend(AmendDecision {
            title: Some("Anders".into()),
            description: None,
            reason: "te laat".into(),
        }),
    ] {
        with_majority()
            .given(vec![proposed(), adopted_event(carrying_votes())])
            .when_async(command)
            .await
            .then_expect_error(DecisionError::Final {
                status: DecisionStatus::Adopted,
            });
    }
}

#[tokio::test]
async fn a_rejected_decision_is_final() {
    let rejected = DecisionEvent::DecisionRejected {
        meeting_date: date(2023, 6, 15),
        present: present(),
        votes: failing_votes(),
        meeting_id: Some(meeting_id()),
    };
    with_majority()
        .given(vec![proposed(), rejected])
        .when_async(adopt(carrying_votes()))
        .await
        .then_expect_error(DecisionError::Final {
            status: DecisionStatus::Rejected,
        });
}

#[tokio::test]
async fn an_open_proposal_can_be_withdrawn_with_a_reason() {
    with_majority()
        .given(vec![proposed()])
        .when_async(DecisionCommand::Withdraw(WithdrawDecision {
            reason: " vervangen door een nieuw voorstel ".into(),
        }))
        .await
        .then_expect_events(vec![DecisionEvent::DecisionWithdrawn {
            reason: "vervangen door een nieuw voorstel".into(),
        }]);
}

#[tokio::test]
async fn a_withdrawal_reason_is_measured_in_characters_as_every_other_text() {
    // 20,000 accented characters are 40,000 bytes: as long as allowed, not longer.
    let longest = "é".repeat(TEXT_MAX);
    with_majority()
        .given(vec![proposed()])
        .when_async(DecisionCommand::Withdraw(WithdrawDecision {
            reason: longest.clone(),
        }))
        .await
        .then_expect_events(vec![DecisionEvent::DecisionWithdrawn { reason: longest }]);
    with_majority()
        .given(vec![proposed()])
        .when_async(DecisionCommand::Withdraw(WithdrawDecision {
            reason: "é".repeat(TEXT_MAX + 1),
        }))
        .await
        .then_expect_error(DecisionError::TooLong {
            field: "reason",
            max: TEXT_MAX,
        });
}

#[tokio::test]
async fn a_withdrawal_needs_a_reason() {
    with_majority()
        .given(vec![proposed()])
        .when_async(DecisionCommand::Withdraw(WithdrawDecision {
            reason: " ".into(),
        }))
        .await
        .then_expect_error(DecisionError::ReasonRequired);
}

#[tokio::test]
async fn a_withdrawn_proposal_cannot_be_adopted() {
    with_majority()
        .given(vec![
            proposed(),
            DecisionEvent::DecisionWithdrawn {
                reason: "vervangen".into(),
            },
        ])
        .when_async(adopt(carrying_votes()))
        .await
        .then_expect_error(DecisionError::Withdrawn);
}

#[tokio::test]
async fn nothing_can_be_decided_about_an_unknown_decision() {
    with_majority()
        .given_no_previous_events()
        .when_async(adopt(carrying_votes()))
        .await
        .then_expect_error(DecisionError::NotFound);
}

#[test]
fn consensus_needs_every_member_present_in_favour() {
    let votes = carrying_votes();
    assert!(!AdoptionRule::Consensus.carried(3, &votes));
    assert!(AdoptionRule::Majority.carried(3, &votes));
    let all = vec![
        vote("gemeente", VoteChoice::Consent),
        vote("politie", VoteChoice::Consent),
    ];
    assert!(AdoptionRule::Consensus.carried(2, &all));
    assert!(!AdoptionRule::Consensus.carried(3, &all));
}

#[test]
fn events_keep_their_stored_names_and_old_events_still_read() {
    use cqrs_es::DomainEvent;
    assert_eq!(proposed().event_type(), "DecisionProposed");
    assert_eq!(proposed().event_version(), "1");
    let json = serde_json::to_value(proposed()).expect("serialises");
    assert!(json.get("DecisionProposed").is_some());
    // An adoption stored before meetings were recorded has no meeting id.
    let old = serde_json::json!({"DecisionAdopted": {
        "meeting_date": "2023-06-15", "present": ["gemeente"],
        "votes": [{"member": "gemeente", "choice": "For"}]
    }});
    let event: DecisionEvent = serde_json::from_value(old).expect("old event reads");
    assert!(matches!(
        event,
        DecisionEvent::DecisionAdopted {
            meeting_id: None,
            ..
        }
    ));
}
