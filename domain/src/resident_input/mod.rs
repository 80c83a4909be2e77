//! Resident input: what residents said in a survey, a session or otherwise, about an area and
//! a theme, with how many took part; and which decisions took it into account.
//!
//! Rules:
//! - a piece of input is recorded once, for a known area of an established programme, with a
//!   theme and a summary, from at least one resident, collected inside the programme period;
//! - it is linked to a decision of the same programme, each decision once. Only adopted
//!   decisions are linked: the ledger's services check citations of adopted decisions
//!   ([`LedgerServices::adopted_decision`]); a link to a decision still open is refused with
//!   `citation.adopted_decision` and can be made once the decision is adopted.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use commands::{ConsiderResidentInput, RecordResidentInput, ResidentInputCommand};
pub use error::ResidentInputError;
pub use events::ResidentInputEvent;

use crate::ids::{AreaId, DecisionId, ProgrammeId, ResidentInputId};
use crate::reference::LedgerServices;
use crate::text;

/// Longest theme.
pub const NAME_MAX: usize = 300;
/// Longest summary.
pub const TEXT_MAX: usize = 20_000;

/// How the input was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Channel {
    Survey,
    Session,
    Other,
}

/// The state of one piece of resident input, as its events built it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResidentInput {
    state: Option<ResidentInputState>,
}

/// The recorded facts of a piece of resident input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResidentInputState {
    pub id: ResidentInputId,
    pub programme_id: ProgrammeId,
    pub channel: Channel,
    pub area: AreaId,
    pub theme: String,
    pub summary: String,
    pub residents: u32,
    pub collected_on: NaiveDate,
    /// The decisions that took it into account, in the order they were linked.
    pub considered_in: Vec<DecisionId>,
}

impl ResidentInput {
    /// The input's facts, or `None` before it was recorded.
    pub fn state(&self) -> Option<&ResidentInputState> {
        self.state.as_ref()
    }
}

impl Aggregate for ResidentInput {
    const TYPE: &'static str = "ResidentInput";
    type Command = ResidentInputCommand;
    type Event = ResidentInputEvent;
    type Error = ResidentInputError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ResidentInputCommand::Record(cmd) => {
                if self.state.is_some() {
                    return Err(ResidentInputError::AlreadyRecorded);
                }
                let theme = text::required("theme", &cmd.theme, NAME_MAX)?;
                let summary = text::required("summary", &cmd.summary, TEXT_MAX)?;
                if cmd.residents == 0 {
                    return Err(ResidentInputError::NoResidents);
                }
                let programme = services.programme(&cmd.programme_id).await?;
                programme.area("area", &cmd.area)?;
                programme.within_period("collectedOn", cmd.collected_on)?;
                ResidentInputEvent::ResidentInputRecorded {
                    resident_input_id: cmd.resident_input_id,
                    programme_id: cmd.programme_id,
                    channel: cmd.channel,
                    area: cmd.area,
                    theme,
                    summary,
                    residents: cmd.residents,
                    collected_on: cmd.collected_on,
                }
            }
            ResidentInputCommand::Consider(cmd) => {
                let state = self.state.as_ref().ok_or(ResidentInputError::NotFound)?;
                if state.considered_in.contains(&cmd.decision) {
                    return Err(ResidentInputError::AlreadyConsidered(cmd.decision));
                }
                services
                    .adopted_decision("decisionId", &state.programme_id, cmd.decision)
                    .await?;
                ResidentInputEvent::ResidentInputConsidered {
                    decision: cmd.decision,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ResidentInputEvent::ResidentInputRecorded {
                resident_input_id,
                programme_id,
                channel,
                area,
                theme,
                summary,
                residents,
                collected_on,
            } => {
                self.state = Some(ResidentInputState {
                    id: resident_input_id,
                    programme_id,
                    channel,
                    area,
                    theme,
                    summary,
                    residents,
                    collected_on,
                    considered_in: Vec::new(),
                });
            }
            ResidentInputEvent::ResidentInputConsidered { decision } => {
                if let Some(state) = self.state.as_mut() {
                    state.considered_in.push(decision);
                }
            }
        }
    }
}
