//! Typed identifiers. Programme and member ids are stable slugs chosen by people
//! (`dordt-west`, `woningcorporatie-trivire`); decisions and other records get uuids.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string is not a valid slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("may hold only lowercase letters a-z, digits and single hyphens, and must start and end with a letter or digit")]
    BadCharacters,
}

const SLUG_MAX: usize = 64;

fn check_slug(value: &str) -> Result<(), SlugError> {
    if value.is_empty() {
        return Err(SlugError::Empty);
    }
    if value.len() > SLUG_MAX {
        return Err(SlugError::TooLong { max: SLUG_MAX });
    }
    let ok_chars = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_edges = !value.starts_with('-') && !value.ends_with('-') && !value.contains("--");
    if ok_chars && ok_edges {
        Ok(())
    } else {
        Err(SlugError::BadCharacters)
    }
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks the slug rules and wraps the value.
            pub fn parse(value: &str) -> Result<Self, SlugError> {
                check_slug(value)?;
                Ok(Self(value.to_owned()))
            }

            /// The slug as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// A programme, e.g. `dordt-west`.
    ProgrammeId
);
slug_id!(
    /// A member of an alliance, e.g. `gemeente-dordrecht`.
    MemberId
);
slug_id!(
    /// An area: the focus area, a wijk, a buurt or a comparator (`dordt-west`, `crabbehof`,
    /// `dordrecht`, `nederland`). Its CBS code, where it has one, is an attribute.
    AreaId
);
slug_id!(
    /// A pillar of a programme, e.g. `gezond-en-samen-leven`.
    PillarId
);
slug_id!(
    /// An indicator, e.g. `ernstig-overgewicht`.
    IndicatorKey
);
slug_id!(
    /// An execution programme (uitvoeringsprogramma), e.g. `uitvoeringsprogramma-2024-2027`.
    ExecutionProgrammeId
);

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing uuid.
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying uuid.
            pub fn uuid(&self) -> Uuid {
                self.0
            }

            /// Reads a uuid in its usual text form.
            pub fn parse(value: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(value).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A decision of an alliance.
    DecisionId
);
uuid_id!(
    /// A meeting of an alliance.
    MeetingId
);
uuid_id!(
    /// A fund: money one funder makes available to a programme.
    FundId
);
uuid_id!(
    /// An allocation of part of a fund to a pillar, intervention or area for one year.
    AllocationId
);
uuid_id!(
    /// A commitment of budget within an allocation, or an expenditure from it.
    BudgetLineId
);
uuid_id!(
    /// A promise a partner made to the programme.
    CommitmentId
);
uuid_id!(
    /// A concrete action under an execution programme.
    InterventionId
);
uuid_id!(
    /// A milestone of an intervention.
    MilestoneId
);
uuid_id!(
    /// One piece of resident input: a survey, a session, or other.
    ResidentInputId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_lowercase_words_joined_by_hyphens() {
        assert!(ProgrammeId::parse("dordt-west").is_ok());
        assert!(MemberId::parse("politie-zuid-holland-zuid").is_ok());
    }

    #[test]
    fn slugs_refuse_what_would_be_ambiguous_in_urls_and_logs() {
        assert_eq!(ProgrammeId::parse(""), Err(SlugError::Empty));
        assert_eq!(
            ProgrammeId::parse("Dordt West"),
            Err(SlugError::BadCharacters)
        );
        assert_eq!(ProgrammeId::parse("-dordt"), Err(SlugError::BadCharacters));
        assert_eq!(
            ProgrammeId::parse("dordt--west"),
            Err(SlugError::BadCharacters)
        );
        assert_eq!(
            ProgrammeId::parse(&"a".repeat(65)),
            Err(SlugError::TooLong { max: 64 })
        );
    }
}
