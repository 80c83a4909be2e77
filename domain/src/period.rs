//! Typed periods: ranges of years (a programme, a fund, an execution programme) and the period
//! a measurement is about.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Why a period is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("the first year {first} is after the last year {last}")]
    Reversed { first: i32, last: i32 },
    #[error("year {0} is outside 1900-2200")]
    YearOutOfRange(i32),
    #[error("{0:?} is not a period: write a year (2023), a quarter (2023-Q2), a month (2023-06) or a date (2023-06-15)")]
    Malformed(String),
}

fn check_year(year: i32) -> Result<i32, PeriodError> {
    if (1900..=2200).contains(&year) {
        Ok(year)
    } else {
        Err(PeriodError::YearOutOfRange(year))
    }
}

/// Whole calendar years, `first` to `last` inclusive, e.g. 2023-2043.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct YearRange {
    first: i32,
    last: i32,
}

impl YearRange {
    pub fn new(first: i32, last: i32) -> Result<Self, PeriodError> {
        check_year(first)?;
        check_year(last)?;
        if first > last {
            return Err(PeriodError::Reversed { first, last });
        }
        Ok(Self { first, last })
    }

    pub fn first(self) -> i32 {
        self.first
    }

    pub fn last(self) -> i32 {
        self.last
    }

    /// How many years the range spans.
    pub fn years(self) -> u32 {
        (self.last - self.first + 1).unsigned_abs()
    }

    pub fn contains_year(self, year: i32) -> bool {
        (self.first..=self.last).contains(&year)
    }

    pub fn contains_date(self, date: NaiveDate) -> bool {
        self.contains_year(date.year())
    }

    /// Whether `other` lies wholly inside this range.
    pub fn covers(self, other: YearRange) -> bool {
        self.first <= other.first && other.last <= self.last
    }
}

impl fmt::Display for YearRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// What a measurement is about: a year, a quarter, a month or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Period {
    Year(i32),
    Quarter(i32, u8),
    Month(i32, u8),
    Day(NaiveDate),
}

impl Period {
    /// The first day of the period.
    pub fn start(self) -> NaiveDate {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
        match self {
            Period::Year(y) => ymd(y, 1, 1),
            Period::Quarter(y, q) => ymd(y, u32::from(q) * 3 - 2, 1),
            Period::Month(y, m) => ymd(y, u32::from(m), 1),
            Period::Day(d) => d,
        }
    }

    pub fn year(self) -> i32 {
        self.start().year()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y}"),
            Period::Quarter(y, q) => write!(f, "{y}-Q{q}"),
            Period::Month(y, m) => write!(f, "{y}-{m:02}"),
            Period::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || PeriodError::Malformed(text.to_owned());
        let text_trimmed = text.trim();
        let year = |s: &str| -> Result<i32, PeriodError> {
            if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            check_year(s.parse().map_err(|_| malformed())?)
        };
        let parts: Vec<&str> = text_trimmed.split('-').collect();
        match parts.as_slice() {
            [y] => Ok(Period::Year(year(y)?)),
            [y, q] if q.len() == 2 && (q.starts_with('Q') || q.starts_with('q')) => {
                match q[1..].parse::<u8>() {
                    Ok(n @ 1..=4) => Ok(Period::Quarter(year(y)?, n)),
                    _ => Err(malformed()),
                }
            }
            [y, m] if m.len() == 2 => match m.parse::<u8>() {
                Ok(n @ 1..=12) => Ok(Period::Month(year(y)?, n)),
                _ => Err(malformed()),
            },
            [y, _, _] => {
                year(y)?;
                NaiveDate::parse_from_str(text_trimmed, "%Y-%m-%d")
                    .map(Period::Day)
                    .map_err(|_| malformed())
            }
            _ => Err(malformed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_print_the_same() {
        for text in ["2023", "2023-Q2", "2023-06", "2023-06-15"] {
            let period: Period = text.parse().expect(text);
            assert_eq!(period.to_string(), text);
        }
        assert_eq!(
            "2024-Q3".parse::<Period>().map(Period::start),
            Ok(NaiveDate::from_ymd_opt(2024, 7, 1).expect("date"))
        );
    }

    #[test]
    fn malformed_periods_are_refused() {
        for bad in [
            "",
            "23",
            "2023-Q5",
            "2023-13",
            "2023-02-30",
            "Q2-2023",
            "2023/06",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn year_ranges_check_their_order_and_containment() {
        let programme = YearRange::new(2023, 2043).expect("range");
        assert_eq!(programme.years(), 21);
        assert!(programme.covers(YearRange::new(2024, 2027).expect("range")));
        assert!(!programme.contains_year(2044));
        assert_eq!(
            YearRange::new(2043, 2023),
            Err(PeriodError::Reversed {
                first: 2043,
                last: 2023
            })
        );
    }
}
