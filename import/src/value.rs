//! Reading cells as numbers, periods, dates and yes/no, the way Dutch files write them.

use std::str::FromStr;

use chrono::NaiveDate;
use domain::money::Cents;
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

/// A cell as an amount of euros, exact to the cent, the way financial administrations write
/// money (thousands separators are usual there, unlike in figures):
///
/// - a workbook's number cell, with at most two decimals (`1234.5` is 1234.50; `0.1 + 0.2`
///   as a formula gives 0.30000000000000004 and is refused: round it to cents);
/// - text: an optional `€`, an optional sign, digits, and
///   - at most one decimal mark followed by one or two digits: `1234,56` or `1234.56`;
///   - thousands separators in groups of three, with the other mark as decimal mark:
///     `1.234.567,89` (Dutch) or `1,234,567.89` (English), `1.234.567` or `1,234,567`.
///
/// A single point or comma followed by exactly three digits (`1.234`, `12,500`) is refused: it
/// is a thousands separator in one convention and a third decimal in the other, so
/// `1.234,00` or `1234` must be written instead. Spaces inside the number, exponents and
/// more than two decimals are refused too. The mark returned is the file's convention the
/// amount shows (a decimal comma, or thousands points, is [`DecimalMark::Comma`]), so that a
/// file mixing both conventions is refused where it differs.
///
/// A negative amount is read as such; whether it may be recorded is the caller's rule.
pub fn euros(cell: &Cell) -> Result<(Cents, DecimalMark), String> {
    match cell {
        Cell::Text(text) => euros_text(text),
        Cell::Number(n) => {
            // Rust prints the shortest text that reads back as the same double, never with an
            // exponent: 1234.5 stays "1234.5".
            let text = n.to_string();
            let (negative, body) = match text.strip_prefix('-') {
                Some(body) => (true, body),
                None => (false, text.as_str()),
            };
            let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
            if fraction.len() > 2 {
                return Err(format!(
                    "{text} has more than two decimals; round the amount to cents"
                ));
            }
            let cents = cents_of(whole, fraction, negative)
                .ok_or_else(|| format!("{text} is too large for an amount of euros"))?;
            Ok((cents, DecimalMark::None))
        }
        other => Err(format!("{} is not an amount of euros", describe(other))),
    }
}

fn euros_text(text: &str) -> Result<(Cents, DecimalMark), String> {
    let malformed = || {
        format!(
            "{text:?} is not an amount of euros: write digits with at most two decimals, \
             e.g. 1234,56, 1.234,56 or 1234.56"
        )
    };
    let body = text.strip_prefix('€').map_or(text, str::trim_start);
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body.strip_prefix('+').unwrap_or(body)),
    };
    if body.is_empty()
        || !body
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        return Err(malformed());
    }
    let commas = body.matches(',').count();
    let points = body.matches('.').count();
    // The decimal mark (if any), the thousands separator (if any), and the file convention.
    let (decimal, group, mark) = match (commas, points) {
        (0, 0) => (None, None, DecimalMark::None),
        (_, 0) | (0, _) => {
            let (sign, many, mark, other) = if points == 0 {
                (',', commas, DecimalMark::Comma, DecimalMark::Point)
            } else {
                ('.', points, DecimalMark::Point, DecimalMark::Comma)
            };
            if many > 1 {
                (None, Some(sign), other)
            } else {
                let after = body.rsplit_once(sign).map_or("", |(_, after)| after);
                match after.len() {
                    1 | 2 => (Some(sign), None, mark),
                    3 => {
                        return Err(format!(
                            "{text:?} is ambiguous: a {} followed by three digits is a \
                             thousands separator in one convention and a decimal mark in the \
                             other; write the cents (1.234,00 or 1,234.00) or no separator \
                             (1234)",
                            if sign == ',' { "comma" } else { "point" }
                        ))
                    }
                    _ => return Err(malformed()),
                }
            }
        }
        _ => {
            // Both marks: the last one is the decimal mark, once; the other separates
            // thousands before it.
            let last = body.rfind([',', '.']).unwrap_or_default();
            if body.as_bytes()[last] == b',' {
                if commas > 1 {
                    return Err(malformed());
                }
                (Some(','), Some('.'), DecimalMark::Comma)
            } else {
                if points > 1 {
                    return Err(malformed());
                }
                (Some('.'), Some(','), DecimalMark::Point)
            }
        }
    };
    let (whole, fraction) = match decimal {
        Some(sign) => body.rsplit_once(sign).unwrap_or((body, "")),
        None => (body, ""),
    };
    if decimal.is_some() && !(1..=2).contains(&fraction.len()) {
        return Err(malformed());
    }
    let digits = match group {
        Some(sign) => {
            let groups: Vec<&str> = whole.split(sign).collect();
            let (first, rest) = groups.split_first().ok_or_else(malformed)?;
            if !(1..=3).contains(&first.len()) || rest.iter().any(|g| g.len() != 3) {
                return Err(format!(
                    "{text:?} is not an amount of euros: thousands separators stand between \
                     groups of three digits (1.234.567,89)"
                ));
            }
            groups.concat()
        }
        None => whole.to_owned(),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(&digits) || !(fraction.is_empty() || all_digits(fraction)) {
        return Err(malformed());
    }
    let cents = cents_of(&digits, fraction, negative)
        .ok_or_else(|| format!("{text:?} is too large for an amount of euros"))?;
    Ok((cents, mark))
}

/// Whole euros and up to two decimal digits as cents; `None` on overflow or a digit that is
/// none.
fn cents_of(whole: &str, fraction: &str, negative: bool) -> Option<Cents> {
    let euros: i64 = whole.parse().ok()?;
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    let cents = euros.checked_mul(100)?.checked_add(fraction)?;
    Some(Cents::new(if negative { -cents } else { cents }))
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
    fn euro_amounts_read_in_either_convention_with_thousands_separators() {
        let euros_of = |s: &str| euros(&text(s));
        assert_eq!(
            euros_of("1.234,56"),
            Ok((Cents::new(123_456), DecimalMark::Comma))
        );
        assert_eq!(
            euros_of("1,234.56"),
            Ok((Cents::new(123_456), DecimalMark::Point))
        );
        assert_eq!(
            euros_of("€ 2.750.000"),
            Ok((Cents::new(275_000_000), DecimalMark::Comma))
        );
        assert_eq!(
            euros_of("2,750,000"),
            Ok((Cents::new(275_000_000), DecimalMark::Point))
        );
        assert_eq!(
            euros_of("12,5"),
            Ok((Cents::new(1_250), DecimalMark::Comma))
        );
        assert_eq!(
            euros_of("€12.50"),
            Ok((Cents::new(1_250), DecimalMark::Point))
        );
        assert_eq!(
            euros_of("18500"),
            Ok((Cents::new(1_850_000), DecimalMark::None))
        );
        assert_eq!(euros_of("-0,05"), Ok((Cents::new(-5), DecimalMark::Comma)));
        assert_eq!(
            euros(&Cell::Number(1234.5)),
            Ok((Cents::new(123_450), DecimalMark::None))
        );
        assert_eq!(
            euros(&Cell::Number(-3.0)),
            Ok((Cents::new(-300), DecimalMark::None))
        );
    }

    #[test]
    fn euro_amounts_that_could_be_read_two_ways_are_refused() {
        for bad in [
            "1.234",
            "12,500",
            "1.234,567",
            "1,234,56",
            "1.23.456",
            "12.34.567,00",
            "1.234.56,00",
            "1,234.567,00",
            "1 234,56",
            "1e3",
            "EUR 5",
            "5 €",
            ",50",
            "5,",
            "€",
            "",
            "-",
            "vijf",
        ] {
            assert!(euros(&text(bad)).is_err(), "{bad:?}");
        }
        let ambiguous = euros(&text("1.234")).expect_err("ambiguous");
        assert!(ambiguous.contains("ambiguous"), "{ambiguous}");
        assert!(euros(&Cell::Number(0.1 + 0.2)).is_err());
        assert!(euros(&Cell::Number(1e30)).is_err());
        assert!(euros(&text(&"9".repeat(20))).is_err());
        assert!(euros(&Cell::Bool(true)).is_err());
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
