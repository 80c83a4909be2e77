//! Reading cells as numbers, periods, dates and yes/no, the way Dutch files write them.

use std::str::FromStr;

use chrono::NaiveDate;
use domain::period::Period;
use rust_decimal::Decimal;

use crate::table::{date_of, Cell};

/// Which decimal mark a number was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMark {
    /// A whole number, or a workbook's number cell: no mark to agree on.
    None,
    /// `23,4`, as Dutch files write it.
    Comma,
    /// `23.4`.
    Point,
}

/// A cell as a decimal number: a workbook's number cell, or text with an optional sign, digits
/// and at most one decimal mark (comma or point) between digits. Thousands separators,
/// exponents, units and percent signs are refused, so that no figure is read in a way its
/// author did not mean.
pub fn decimal(cell: &Cell) -> Result<(Decimal, DecimalMark), String> {
    match cell {
        Cell::Text(text) => decimal_text(text),
        Cell::Number(n) => {
            // Rust prints the shortest text that reads back as the same double, never with an
            // exponent: 23.4 stays "23.4".
            let text = n.to_string();
            Decimal::from_str_exact(&text)
                .map(|d| (d, DecimalMark::None))
                .map_err(|_| format!("{text} is too large or too precise for a figure"))
        }
        other => Err(format!("{} is not a number", describe(other))),
    }
}

fn decimal_text(text: &str) -> Result<(Decimal, DecimalMark), String> {
    let not_a_number = || {
        format!(
            "{text:?} is not a number: write digits with at most one decimal comma or point \
             (23,4 or 23.4), without thousands separators or units"
        )
    };
    let unsigned = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    let (whole, fraction, mark) = match unsigned.find([',', '.']) {
        Some(i) => {
            let mark = if unsigned.as_bytes()[i] == b',' {
                DecimalMark::Comma
            } else {
                DecimalMark::Point
            };
            (&unsigned[..i], Some(&unsigned[i + 1..]), mark)
        }
        None => (unsigned, None, DecimalMark::None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) {
        return Err(not_a_number());
    }
    let negative = text.starts_with('-');
    let normal = match fraction {
        Some(fraction) => format!("{}{whole}.{fraction}", if negative { "-" } else { "" }),
        None => format!("{}{whole}", if negative { "-" } else { "" }),
    };
    Decimal::from_str_exact(&normal)
        .map(|d| (d, mark))
        .map_err(|_| format!("{text:?} is too large or too precise for a figure"))
}

/// A cell as the period a figure is about: a year (`2023`, or a workbook number 2023), a
/// quarter (`2023-Q2`), a month (`2023-06`), a day (`2023-06-15`, `15-06-2023` or a workbook
/// date), or a CBS StatLine period code (`2023JJ00`, `2023KW02`, `2023MM06`).
pub fn period(cell: &Cell) -> Result<Period, String> {
    if let Some(date) = date_of(cell) {
        return Ok(Period::Day(date));
    }
    match cell {
        Cell::Number(n) if n.fract() == 0.0 && (1900.0..=2200.0).contains(n) => {
            Period::from_str(&n.to_string()).map_err(|e| e.to_string())
        }
        Cell::Text(text) => period_text(text),
        other => Err(format!(
            "{} is not a period: write a year (2023), a quarter (2023-Q2), a month (2023-06), a \
             date (2023-06-15) or a CBS period code (2023JJ00)",
            describe(other)
        )),
    }
}

fn period_text(text: &str) -> Result<Period, String> {
    let malformed = || {
        format!(
            "{text:?} is not a period: write a year (2023), a quarter (2023-Q2), a month \
             (2023-06), a date (2023-06-15 or 15-06-2023) or a CBS period code (2023JJ00, \
             2023KW02, 2023MM06)"
        )
    };
    if let Ok(period) = Period::from_str(text) {
        return Ok(period);
    }
    if let Some(period) = cbs_period(text) {
        return period.map_err(|_| malformed());
    }
    match dutch_date(text) {
        Some(date) => Ok(Period::Day(date)),
        None => Err(malformed()),
    }
}

/// A CBS StatLine period code, `None` when the text does not have its shape.
fn cbs_period(text: &str) -> Option<Result<Period, domain::period::PeriodError>> {
    let upper = text.to_ascii_uppercase();
    if upper.len() != 8 || !upper.is_ascii() {
        return None;
    }
    let (year, rest) = upper.split_at(4);
    let (kind, number) = rest.split_at(2);
    if !year.bytes().all(|b| b.is_ascii_digit()) || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let domain_text = match (kind, number) {
        ("JJ", "00") => year.to_owned(),
        ("KW", n) => format!("{year}-Q{}", n.trim_start_matches('0')),
        ("MM", n) => format!("{year}-{n}"),
        _ => return None,
    };
    Some(Period::from_str(&domain_text))
}

/// A cell as a calendar date: `2024-03-01`, `01-03-2024`, `1-3-2024`, `01/03/2024`,
/// `01.03.2024` (day before month, as Dutch files write it), or a workbook date.
pub fn date(cell: &Cell) -> Result<NaiveDate, String> {
    if let Some(date) = date_of(cell) {
        return Ok(date);
    }
    match cell {
        Cell::Text(text) => dutch_date(text).ok_or_else(|| {
            format!("{text:?} is not a date: write 2024-03-01 or 01-03-2024 (day, month, year)")
        }),
        Cell::DateTime(t) => Err(format!(
            "{} is a date and time; give the date alone",
            t.format("%Y-%m-%d %H:%M:%S")
        )),
        other => Err(format!(
            "{} is not a date: write 2024-03-01 or 01-03-2024 (day, month, year)",
            describe(other)
        )),
    }
}

fn dutch_date(text: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = text.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let number = |s: &str, widths: &[usize]| -> Option<u32> {
        (widths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (year, month, day) = if a.len() == 4 {
        (number(a, &[4])?, number(b, &[1, 2])?, number(c, &[1, 2])?)
    } else {
        (number(c, &[4])?, number(b, &[1, 2])?, number(a, &[1, 2])?)
    };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// A cell as yes or no: empty is no; `ja`/`nee`, `yes`/`no`, `true`/`false`, `waar`/`onwaar`,
/// `1`/`0`, `x` (yes), or a workbook's true/false or number 1/0.
pub fn yes_no(cell: &Cell) -> Result<bool, String> {
    match cell {
        Cell::Empty => Ok(false),
        Cell::Bool(b) => Ok(*b),
        Cell::Number(n) if *n == 1.0 => Ok(true),
        Cell::Number(n) if *n == 0.0 => Ok(false),
        Cell::Text(text) => match text.to_lowercase().as_str() {
            "ja" | "j" | "yes" | "y" | "true" | "waar" | "1" | "x" => Ok(true),
            "nee" | "n" | "no" | "false" | "onwaar" | "0" => Ok(false),
            _ => Err(format!("{text:?} is not yes or no: write ja or nee")),
        },
        other => Err(format!(
            "{} is not yes or no: write ja or nee",
            describe(other)
        )),
    }
}

fn describe(cell: &Cell) -> String {
    match cell {
        Cell::Empty => "an empty cell".into(),
        Cell::Text(text) => format!("{text:?}"),
        Cell::Number(_) | Cell::DateTime(_) | Cell::Bool(_) => cell.display(),
        Cell::Other(what) => what.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("decimal")
    }

    #[test]
    fn decimal_commas_and_points_read_as_the_same_number() {
        assert_eq!(
            decimal(&text("23,4")),
            Ok((dec("23.4"), DecimalMark::Comma))
        );
        assert_eq!(
            decimal(&text("23.4")),
            Ok((dec("23.4"), DecimalMark::Point))
        );
        assert_eq!(
            decimal(&text("-0,50")),
            Ok((dec("-0.50"), DecimalMark::Comma))
        );
        assert_eq!(decimal(&text("+7")), Ok((dec("7"), DecimalMark::None)));
        assert_eq!(
            decimal(&Cell::Number(23.4)),
            Ok((dec("23.4"), DecimalMark::None))
        );
        assert_eq!(
            decimal(&Cell::Number(285_000.0)),
            Ok((dec("285000"), DecimalMark::None))
        );
    }

    #[test]
    fn text_that_is_not_plainly_a_number_is_refused() {
        for bad in [
            "1.234,5", "1,234.5", "12,3x", "23 %", "1e3", ",5", "5,", "-", "", "twee", "1 000",
        ] {
            assert!(decimal(&text(bad)).is_err(), "{bad:?}");
        }
        assert!(decimal(&Cell::Bool(true)).is_err());
        assert!(decimal(&text(&"9".repeat(40))).is_err());
    }

    #[test]
    fn periods_read_as_the_domain_cbs_and_dutch_dates_write_them() {
        let day = |y, m, d| Period::Day(NaiveDate::from_ymd_opt(y, m, d).expect("date"));
        assert_eq!(period(&text("2023")), Ok(Period::Year(2023)));
        assert_eq!(period(&text("2023-Q2")), Ok(Period::Quarter(2023, 2)));
        assert_eq!(period(&text("2023JJ00")), Ok(Period::Year(2023)));
        assert_eq!(period(&text("2023KW03")), Ok(Period::Quarter(2023, 3)));
        assert_eq!(period(&text("2023mm06")), Ok(Period::Month(2023, 6)));
        assert_eq!(period(&text("15-06-2023")), Ok(day(2023, 6, 15)));
        assert_eq!(period(&Cell::Number(2024.0)), Ok(Period::Year(2024)));
        let midnight = NaiveDate::from_ymd_opt(2023, 6, 15)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("t");
        assert_eq!(period(&Cell::DateTime(midnight)), Ok(day(2023, 6, 15)));
        for bad in [
            "2023KW05",
            "2023MM13",
            "23",
            "2023/24",
            "Q2 2023",
            "31-02-2023",
        ] {
            assert!(period(&text(bad)).is_err(), "{bad:?}");
        }
        assert!(period(&Cell::Number(2023.5)).is_err());
    }

    #[test]
    fn dates_are_day_first_or_iso() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).expect("date");
        assert_eq!(date(&text("2024-03-01")), Ok(d(2024, 3, 1)));
        assert_eq!(date(&text("01-03-2024")), Ok(d(2024, 3, 1)));
        assert_eq!(date(&text("1/3/2024")), Ok(d(2024, 3, 1)));
        assert_eq!(date(&text("1.3.2024")), Ok(d(2024, 3, 1)));
        for bad in ["2024-13-01", "03-01-24", "2024", "morgen", "2024-3-1x"] {
            assert!(date(&text(bad)).is_err(), "{bad:?}");
        }
        let with_time = d(2024, 3, 1).and_hms_opt(9, 30, 0).expect("t");
        assert!(date(&Cell::DateTime(with_time)).is_err());
        assert!(date(&Cell::Number(45352.0)).is_err());
    }

    #[test]
    fn yes_and_no_in_dutch_and_english() {
        assert_eq!(yes_no(&Cell::Empty), Ok(false));
        assert_eq!(yes_no(&text("Ja")), Ok(true));
        assert_eq!(yes_no(&text("nee")), Ok(false));
        assert_eq!(yes_no(&Cell::Bool(true)), Ok(true));
        assert!(yes_no(&text("misschien")).is_err());
    }
}
