//! Scalars the ledger defines itself, so that their names and errors are its own.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!(
                        "{s:?} is not a date; write it as YYYY-MM-DD, e.g. 2023-06-15"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An amount of euros as a decimal string with at most two decimals, e.g. `"27500000.00"`.
/// Never a float: GraphQL numbers cannot hold cents exactly at these sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub domain::money::Cents);

#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse()
                .map(Money)
                .map_err(|e: domain::money::MoneyError| InputValueError::custom(e.to_string())),
            _ => Err(InputValueError::custom(
                "money is a string such as \"27500000.00\", never a number",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// An exact decimal number as a string, e.g. `"23.4"`: measurement and target values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal(pub rust_decimal::Decimal);

#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s.trim().parse().map(Decimal).map_err(|_| {
                InputValueError::custom(format!(
                    "{s:?} is not a decimal number; write it with a point, e.g. 23.4"
                ))
            }),
            _ => Err(InputValueError::custom(
                "a decimal is a string such as \"23.4\", so that it stays exact",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.normalize().to_string())
    }
}

/// The period a measurement is about: `2023`, `2023-Q2`, `2023-06` or `2023-06-15`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(pub domain::period::Period);

#[Scalar(name = "Period")]
impl ScalarType for Period {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse()
                .map(Period)
                .map_err(|e: domain::period::PeriodError| InputValueError::custom(e.to_string())),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}
