//! Cursor connections for lists that grow: `first` and `after`, capped by the page-size limit.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, OutputType};

use super::state;
use crate::ApiError;

/// The page size when a client gives no `first`.
pub(crate) const DEFAULT_PAGE: usize = 100;

/// A page of `items` (already in list order, each with its stable cursor): the items after the
/// `after` cursor, at most `first` of them.
pub(crate) fn page<T: OutputType>(
    ctx: &Context<'_>,
    items: Vec<(String, T)>,
    after: Option<String>,
    first: Option<i32>,
) -> Result<Connection<String, T>, ApiError> {
    let max = state(ctx).limits.max_page_size;
    let first = match first {
        None => DEFAULT_PAGE,
        Some(n) if n >= 0 && n.unsigned_abs() <= max => n.unsigned_abs() as usize,
        Some(_) => {
            return Err(ApiError::bad_input(
                "first",
                format!("must be between 0 and {max}"),
            ))
        }
    };
    let start = match &after {
        None => 0,
        Some(cursor) => {
            items
                .iter()
                .position(|(c, _)| c == cursor)
                .ok_or_else(|| ApiError::bad_input("after", "is not a cursor of this list"))?
                + 1
        }
    };
    let total = items.len();
    let end = (start + first).min(total);
    let mut connection = Connection::new(start > 0, end < total);
    connection.edges.extend(
        items
            .into_iter()
            .skip(start)
            .take(end - start)
            .map(|(cursor, node)| Edge::new(cursor, node)),
    );
    Ok(connection)
}
