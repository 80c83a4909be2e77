use chrono::NaiveDate;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;

type DecisionTest = TestFramework<Decision>;

fn member(id: &str) -> MemberId {
    MemberId::parse(id).expect("valid member id")
}

fn decision_id() -> DecisionId {
    DecisionId::from_uuid(Uuid::from_u128(0x2023_0601))
}

fn proposed() -> DecisionEvent {
    DecisionEvent::DecisionProposed {
        decision_id: decision_id(),
        programme_id: ProgrammeId::parse("dordt-west").expect("valid programme id"),
        title: "Vaststellen Nationaal Programma Dordt West 2023-2043".into(),
        description: "Ambitie, opgaven en thema's".into(),
    }
}

fn meeting_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 6, 15).expect("valid date")
}

fn vote(id: &str, choice: VoteChoice) -> Vote {
    Vote {
        member: member(id),
        choice,
    }
}

/// Three members present; two in favour carries a majority.
fn carried_outcome() -> MeetingOutcome {
    MeetingOutcome {
        meeting_date: meeting_date(),
        present: vec![member("gemeente"), member("politie"), member("rijk")],
        votes: vec![
            vote("gemeente", VoteChoice::For),
            vote("politie", VoteChoice::Consent),
            vote("rijk", VoteChoice::Against),
        ],
    }
}

fn failed_outcome() -> MeetingOutcome {
    MeetingOutcome {
        meeting_date: meeting_date(),
        present: vec![member("gemeente"), member("politie"), member("rijk")],
        votes: vec![
            vote("gemeente", VoteChoice::For),
            vote("politie", VoteChoice::Against),
            vote("rijk", VoteChoice::Abstain),
        ],
    }
}

fn adopted_event(outcome: MeetingOutcome) -> DecisionEvent {
    DecisionEvent::DecisionAdopted {
        meeting_date: outcome.meeting_date,
        present: outcome.present,
        votes: outcome.votes,
    }
}

fn propose(title: &str) -> DecisionCommand {
    DecisionCommand::Propose(ProposeDecision {
        decision_id: decision_id(),
        programme_id: ProgrammeId::parse("dordt-west").expect("valid programme id"),
        title: title.into(),
        description: "  Ambitie, opgaven en thema's \n".into(),
    })
}

#[tokio::test]
async fn proposing_records_the_trimmed_proposal() {
    DecisionTest::with(())
        .given_no_previous_events()
        .when_async(propose(
            "  Vaststellen Nationaal Programma Dordt West 2023-2043 ",
        ))
        .await
        .then_expect_events(vec![proposed()]);
}

#[tokio::test]
async fn a_proposal_needs_a_title() {
    DecisionTest::with(())
        .given_no_previous_events()
        .when_async(propose("   "))
        .await
        .then_expect_error(DecisionError::TitleRequired);
}

#[tokio::test]
async fn a_title_longer_than_the_limit_is_refused() {
    DecisionTest::with(())
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
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(propose("Nog eens"))
        .await
        .then_expect_error(DecisionError::AlreadyProposed);
}

#[tokio::test]
async fn a_majority_of_those_present_adopts() {
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Adopt(AdoptDecision {
            outcome: carried_outcome(),
        }))
        .await
        .then_expect_events(vec![adopted_event(carried_outcome())]);
}

#[tokio::test]
async fn adoption_without_a_carrying_vote_is_refused() {
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Adopt(AdoptDecision {
            outcome: failed_outcome(),
        }))
        .await
        .then_expect_error(DecisionError::NotCarried {
            rule: AdoptionRule::Majority,
        });
}

#[tokio::test]
async fn a_vote_that_fails_rejects() {
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Reject(RejectDecision {
            outcome: failed_outcome(),
        }))
        .await
        .then_expect_events(vec![DecisionEvent::DecisionRejected {
            meeting_date: meeting_date(),
            present: failed_outcome().present,
            votes: failed_outcome().votes,
        }]);
}

#[tokio::test]
async fn rejection_with_a_carrying_vote_is_refused() {
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Reject(RejectDecision {
            outcome: carried_outcome(),
        }))
        .await
        .then_expect_error(DecisionError::VotesCarryIt {
            rule: AdoptionRule::Majority,
        });
}

#[tokio::test]
async fn only_members_present_vote() {
    let mut outcome = carried_outcome();
    outcome
        .votes
        .push(vote("woningcorporatie", VoteChoice::For));
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Adopt(AdoptDecision { outcome }))
        .await
        .then_expect_error(DecisionError::VoterNotPresent {
            member: member("woningcorporatie"),
        });
}

#[tokio::test]
async fn each_member_votes_once() {
    let mut outcome = carried_outcome();
    outcome.votes.push(vote("gemeente", VoteChoice::Against));
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Adopt(AdoptDecision { outcome }))
        .await
        .then_expect_error(DecisionError::VotedTwice {
            member: member("gemeente"),
        });
}

#[tokio::test]
async fn a_member_is_present_once() {
    let mut outcome = carried_outcome();
    outcome.present.push(member("rijk"));
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Adopt(AdoptDecision { outcome }))
        .await
        .then_expect_error(DecisionError::PresentTwice {
            member: member("rijk"),
        });
}

#[tokio::test]
async fn a_meeting_needs_someone_present() {
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Adopt(AdoptDecision {
            outcome: MeetingOutcome {
                meeting_date: meeting_date(),
                present: vec![],
                votes: vec![],
            },
        }))
        .await
        .then_expect_error(DecisionError::NobodyPresent);
}

#[tokio::test]
async fn an_adopted_decision_is_final() {
    for command in [
        DecisionCommand::Adopt(AdoptDecision {
            outcome: carried_outcome(),
        }),
        DecisionCommand::Reject(RejectDecision {
            outcome: failed_outcome(),
        }),
        DecisionCommand::Withdraw(WithdrawDecision {
            reason: "te laat".into(),
        }),
    ] {
        DecisionTest::with(())
            .given(vec![proposed(), adopted_event(carried_outcome())])
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
        meeting_date: meeting_date(),
        present: failed_outcome().present,
        votes: failed_outcome().votes,
    };
    DecisionTest::with(())
        .given(vec![proposed(), rejected])
        .when_async(DecisionCommand::Adopt(AdoptDecision {
            outcome: carried_outcome(),
        }))
        .await
        .then_expect_error(DecisionError::Final {
            status: DecisionStatus::Rejected,
        });
}

#[tokio::test]
async fn an_open_proposal_can_be_withdrawn_with_a_reason() {
    DecisionTest::with(())
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
async fn a_withdrawal_needs_a_reason() {
    DecisionTest::with(())
        .given(vec![proposed()])
        .when_async(DecisionCommand::Withdraw(WithdrawDecision {
            reason: " ".into(),
        }))
        .await
        .then_expect_error(DecisionError::ReasonRequired);
}

#[tokio::test]
async fn a_withdrawn_proposal_cannot_be_adopted() {
    DecisionTest::with(())
        .given(vec![
            proposed(),
            DecisionEvent::DecisionWithdrawn {
                reason: "vervangen".into(),
            },
        ])
        .when_async(DecisionCommand::Adopt(AdoptDecision {
            outcome: carried_outcome(),
        }))
        .await
        .then_expect_error(DecisionError::Withdrawn);
}

#[tokio::test]
async fn nothing_can_be_decided_about_an_unknown_decision() {
    DecisionTest::with(())
        .given_no_previous_events()
        .when_async(DecisionCommand::Adopt(AdoptDecision {
            outcome: carried_outcome(),
        }))
        .await
        .then_expect_error(DecisionError::NotFound);
}

#[test]
fn consensus_needs_every_member_present_in_favour() {
    let votes = carried_outcome().votes;
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
fn events_keep_their_stored_names() {
    use cqrs_es::DomainEvent;
    assert_eq!(proposed().event_type(), "DecisionProposed");
    assert_eq!(proposed().event_version(), "1");
    let json = serde_json::to_value(proposed()).expect("serialises");
    assert!(json.get("DecisionProposed").is_some());
}
