//! Money: whole euro cents in an integer, never a float.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of euros, held as whole cents. May be negative only as the result of arithmetic
/// (a difference); amounts in commands are checked to be positive.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(i64);

/// Why a text is not an amount of euros.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an amount of euros: write digits with at most two decimals after a point, e.g. 27500000.00")]
    Malformed(String),
    #[error("{0:?} is too large")]
    TooLarge(String),
}

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub fn new(cents: i64) -> Self {
        Self(cents)
    }

    /// Whole euros, e.g. `Cents::euros(27_500_000)`.
    pub fn euros(euros: i64) -> Self {
        Self(euros * 100)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }

    /// The sum of many amounts; `None` on overflow.
    pub fn sum<'a>(amounts: impl IntoIterator<Item = &'a Cents>) -> Option<Cents> {
        amounts
            .into_iter()
            .try_fold(Cents::ZERO, |acc, a| acc.checked_add(*a))
    }
}

impl fmt::Display for Cents {
    /// `27500000.00`, `-0.05`: a plain decimal with two places, as the API writes money.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl FromStr for Cents {
    type Err = MoneyError;

    /// Accepts `27500000`, `27500000.5`, `27500000.50` and a leading `-`; nothing else (no
    /// thousands separators, no exponent, no more than two decimals).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || MoneyError::Malformed(text.to_owned());
        let (negative, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match body.split_once('.') {
            Some((w, f)) => (w, f),
            None => (body, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
            return Err(malformed());
        }
        if body.contains('.') && fraction.is_empty() {
            return Err(malformed());
        }
        let too_large = || MoneyError::TooLarge(text.to_owned());
        let whole: i64 = whole.parse().map_err(|_| too_large())?;
        let fraction: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| malformed())? * 10,
            _ => fraction.parse().map_err(|_| malformed())?,
        };
        let cents = whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(fraction))
            .ok_or_else(too_large)?;
        Ok(Cents(if negative { -cents } else { cents }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_with_two_decimals() {
        assert_eq!(Cents::euros(27_500_000).to_string(), "27500000.00");
        assert_eq!(Cents::new(5).to_string(), "0.05");
        assert_eq!(Cents::new(-150).to_string(), "-1.50");
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!("27500000.00".parse(), Ok(Cents::euros(27_500_000)));
        assert_eq!("1.5".parse(), Ok(Cents::new(150)));
        assert_eq!("12".parse(), Ok(Cents::new(1200)));
        assert_eq!("-0.01".parse(), Ok(Cents::new(-1)));
    }

    #[test]
    fn ambiguous_amounts_are_refused() {
        for bad in ["", "1,50", "1.505", "1e6", "1.", ".5", "€5", "1 000", "abc"] {
            assert!(bad.parse::<Cents>().is_err(), "{bad:?}");
        }
        assert!(matches!(
            "99999999999999999999".parse::<Cents>(),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn sums_detect_overflow() {
        let big = Cents::new(i64::MAX);
        assert_eq!(Cents::sum(&[big, Cents::new(1)]), None);
        assert_eq!(
            Cents::sum(&[Cents::new(1), Cents::new(2)]),
            Some(Cents::new(3))
        );
    }
}
