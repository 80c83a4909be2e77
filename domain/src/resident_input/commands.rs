use chrono::NaiveDate;

use super::Channel;
use crate::ids::{AreaId, DecisionId, ProgrammeId, ResidentInputId};

/// Everything that can be asked of a piece of resident input.
#[derive(Debug, Clone, PartialEq)]
pub enum ResidentInputCommand {
    Record(RecordResidentInput),
    Consider(ConsiderResidentInput),
}

impl ResidentInputCommand {
    /// The command's name as recorded in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Record(_) => "RecordResidentInput",
            Self::Consider(_) => "ConsiderResidentInput",
        }
    }
}

/// Record what residents said: in a survey, a session or otherwise, about an area and theme.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordResidentInput {
    pub resident_input_id: ResidentInputId,
    pub programme_id: ProgrammeId,
    pub channel: Channel,
    pub area: AreaId,
    pub theme: String,
    pub summary: String,
    /// How many residents took part.
    pub residents: u32,
    pub collected_on: NaiveDate,
}

/// Link the input to a decision that took it into account.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsiderResidentInput {
    pub decision: DecisionId,
}
