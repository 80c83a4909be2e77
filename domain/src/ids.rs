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
