//! The smallest programme a decision can be taken in: Dordt West with its period, an alliance
//! of three members chaired by the gemeente, and one meeting where all three were present.

use chrono::NaiveDate;
use domain::access::Role;
use domain::alliance::{Alliance, AllianceCommand, FormAlliance, HoldMeeting, NewMember, Sector};
use domain::decision::AdoptionRule;
use domain::ids::{MeetingId, MemberId, ProgrammeId};
use domain::period::YearRange;
use domain::programme::{EstablishProgramme, Programme, ProgrammeCommand};
use store::{CommandBus, CommandContext};
use uuid::Uuid;

use crate::TestDb;

/// The meeting every fixture decision is taken in (15 June 2023).
pub fn meeting_id() -> MeetingId {
    MeetingId::from_uuid(Uuid::from_u128(0x0615))
}

/// The members present at [`meeting_id`].
pub const MEMBERS: [&str; 3] = ["gemeente", "rijk", "woningcorporatie"];

fn context() -> CommandContext {
    CommandContext {
        actor: "Fixture".into(),
        role: Role::Secretary,
        organisation: None,
        request_id: "fixture".into(),
        idempotency_key: None,
        request_hash: None,
    }
}

fn slug<T>(parse: fn(&str) -> Result<T, domain::ids::SlugError>, s: &str) -> T {
    parse(s).expect("a valid slug")
}

impl TestDb {
    /// Records the minimal Dordt West programme; returns the position after it.
    pub async fn with_programme(&self) -> i64 {
        let bus = CommandBus::new(self.db.clone());
        let services = bus.services();
        let programme = slug(ProgrammeId::parse, "dordt-west");
        let establish = ProgrammeCommand::Establish(EstablishProgramme {
            programme_id: programme.clone(),
            name: "Nationaal Programma Dordt West".into(),
            municipality_code: "GM0505".into(),
            national_programme: "Nationaal Programma Leefbaarheid en Veiligheid".into(),
            period: YearRange::new(2023, 2043).expect("range"),
            ambition: "We groeien met Dordt West naar het Dordts gemiddelde.".into(),
        });
        bus.execute::<Programme>(
            "dordt-west",
            establish,
            "EstablishProgramme",
            &services,
            &context(),
        )
        .await
        .expect("establish the programme");
        let member = |id: &str, sector| NewMember {
            member_id: slug(MemberId::parse, id),
            sector,
            organisation: format!("Organisatie {id}"),
            representative: format!("Vertegenwoordiger {id}"),
            mandate: String::new(),
        };
        let form = AllianceCommand::Form(FormAlliance {
            programme_id: programme.clone(),
            chair: slug(MemberId::parse, "gemeente"),
            adoption_rule: AdoptionRule::Majority,
            formed_on: NaiveDate::from_ymd_opt(2023, 1, 15).expect("date"),
            founding_members: vec![
                member("gemeente", Sector::Gemeente),
                member("rijk", Sector::Rijk),
                member("woningcorporatie", Sector::Woningcorporatie),
            ],
        });
        bus.execute::<Alliance>("dordt-west", form, "FormAlliance", &services, &context())
            .await
            .expect("form the alliance");
        let meeting = AllianceCommand::HoldMeeting(HoldMeeting {
            meeting_id: meeting_id(),
            date: NaiveDate::from_ymd_opt(2023, 6, 15).expect("date"),
            title: "Alliantieoverleg".into(),
            present: MEMBERS.iter().map(|m| slug(MemberId::parse, m)).collect(),
        });
        bus.execute::<Alliance>("dordt-west", meeting, "HoldMeeting", &services, &context())
            .await
            .expect("hold the meeting");
        self.db.head().await.expect("head")
    }
}
