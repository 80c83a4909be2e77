//! Turning input text into typed domain values; each refusal names its field.

use async_graphql::ID;
use domain::ids::SlugError;
use domain::period::YearRange;

use crate::ApiError;

/// A slug id (programme, area, pillar, indicator, member, execution programme).
pub(crate) fn slug<T>(
    field: &str,
    value: &str,
    parse: fn(&str) -> Result<T, SlugError>,
) -> Result<T, ApiError> {
    parse(value).map_err(|e| ApiError::bad_input(field, format!("{value:?} {e}")))
}

/// A list of slug ids.
pub(crate) fn slugs<T>(
    field: &str,
    values: &[String],
    parse: fn(&str) -> Result<T, SlugError>,
) -> Result<Vec<T>, ApiError> {
    values.iter().map(|v| slug(field, v, parse)).collect()
}

/// A uuid id given as a GraphQL `ID`.
pub(crate) fn uuid<T>(
    field: &str,
    id: &ID,
    parse: fn(&str) -> Result<T, uuid::Error>,
) -> Result<T, ApiError> {
    parse(id.as_str())
        .map_err(|_| ApiError::bad_input(field, format!("{:?} is not a UUID", id.as_str())))
}

/// A uuid id the client may leave out: the ledger makes one.
pub(crate) fn new_or_given<T>(
    field: &str,
    id: Option<&ID>,
    parse: fn(&str) -> Result<T, uuid::Error>,
) -> Result<T, ApiError> {
    match id {
        Some(id) => uuid(field, id, parse),
        None => parse(&uuid::Uuid::new_v4().to_string())
            .map_err(|_| ApiError::bad_input(field, "could not make an id")),
    }
}

/// A range of whole years.
pub(crate) fn year_range(field: &str, first: i32, last: i32) -> Result<YearRange, ApiError> {
    YearRange::new(first, last).map_err(|e| ApiError::bad_input(field, e))
}
