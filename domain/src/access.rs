//! Who may act in the ledger. Every recorded event names the role its author held.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role a bearer token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the ledger: everything a secretary and an auditor may do.
    Admin,
    /// The programme office (programmabureau): records what the alliance decided and did.
    Secretary,
    /// An alliance partner: reads, and reports on its own commitments.
    Partner,
    /// A representative of the national government: reads across programmes.
    Rijk,
    /// Reads everything, the raw event log and actor identities included.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Secretary,
        Role::Partner,
        Role::Rijk,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Secretary => "secretary",
            Self::Partner => "partner",
            Self::Rijk => "rijk",
            Self::Auditor => "auditor",
        }
    }

    /// May record events (commands of every kind).
    pub fn may_record(self) -> bool {
        matches!(self, Self::Admin | Self::Secretary)
    }

    /// May read the raw event log with actor identities.
    pub fn may_read_log(self) -> bool {
        matches!(self, Self::Admin | Self::Auditor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who reports progress on a commitment or an intervention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reporter {
    /// The programme office (a secretary or an admin): reports on anyone's behalf.
    Office,
    /// A partner organisation: reports only on what that organisation promised or leads.
    Partner { organisation: String },
}

impl Reporter {
    /// Whether this reporter may report on what `organisation` promised or leads. Organisation
    /// names are compared without regard to case or surrounding white space.
    pub fn may_report_for(&self, organisation: &str) -> bool {
        match self {
            Self::Office => true,
            Self::Partner { organisation: own } => same_organisation(own, organisation),
        }
    }
}

fn same_organisation(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The text is not one of the five roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role {0:?} is unknown: use admin, secretary, partner, rijk or auditor")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_secretaries_and_admins_record() {
        let recorders: Vec<Role> = Role::ALL.into_iter().filter(|r| r.may_record()).collect();
        assert_eq!(recorders, vec![Role::Admin, Role::Secretary]);
    }

    #[test]
    fn only_auditors_and_admins_read_the_raw_log() {
        let readers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.may_read_log()).collect();
        assert_eq!(readers, vec![Role::Admin, Role::Auditor]);
    }

    #[test]
    fn a_partner_reports_only_for_its_own_organisation() {
        let partner = Reporter::Partner {
            organisation: "Woonbedrijf Dordrecht".into(),
        };
        assert!(partner.may_report_for("Woonbedrijf Dordrecht"));
        assert!(partner.may_report_for(" woonbedrijf dordrecht "));
        assert!(!partner.may_report_for("Gemeente Dordrecht"));
        assert!(Reporter::Office.may_report_for("Gemeente Dordrecht"));
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("chair".parse::<Role>().is_err());
    }
}
