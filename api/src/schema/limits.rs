//! What a query may cost beyond depth and complexity: the cost of a page of a list, the
//! number of aliases a document may hold, and introspection when it is off.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, ServerError, ServerResult, Variables};

use crate::ApiError;

/// Items a list is counted for at once.
const ITEMS_PER_COUNT: usize = 100;

/// The most times a list's fields are counted: a page beyond the server's page limit (1,000 by
/// default) is refused by the field itself, which names `first`.
const MAX_COUNTS: usize = 10;

/// Most directives on one field: `@skip` and `@include` are the only ones served.
pub(crate) const MAX_DIRECTIVES_PER_FIELD: usize = 4;

/// The complexity of a paged list field: one point for the field, and its items' fields once
/// for every 100 items the page may hold (`first`, 100 when left out; up to ten times). So an
/// alias asking for 1,000 items costs ten times one asking for 100.
pub(crate) fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let items = first.unwrap_or(ITEMS_PER_COUNT as i32).max(1) as usize;
    let counts = items.div_ceil(ITEMS_PER_COUNT).min(MAX_COUNTS);
    child_complexity.saturating_mul(counts).saturating_add(1)
}

/// Refuses, before it is validated or run, a document with more than `max_aliases` aliases (in
/// its operations and fragments as written), and one that asks for `__schema` or `__type` when
/// introspection is off (the schema alone would answer it with `null` and no error).
#[derive(Clone, Copy)]
pub(crate) struct DocumentLimits {
    pub(crate) max_aliases: usize,
    pub(crate) introspection: bool,
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let found = Found::in_document(&document);
        if found.aliases > self.max_aliases {
            return Err(refusal(format!(
                "the query holds {} aliases; at most {} are served",
                found.aliases, self.max_aliases
            )));
        }
        if found.introspection && !self.introspection {
            return Err(refusal(
                "introspection (__schema, __type) is off on this server".to_owned(),
            ));
        }
        Ok(document)
    }
}

fn refusal(message: String) -> ServerError {
    let error = ApiError::bad_input("query", message);
    let mut server_error = ServerError::new(error.message(), None);
    server_error.extensions = async_graphql::Error::from(error).extensions;
    server_error
}

/// What a document holds, as written.
#[derive(Debug, Default, PartialEq, Eq)]
struct Found {
    aliases: usize,
    introspection: bool,
}

impl Found {
    fn in_document(document: &ExecutableDocument) -> Self {
        let mut found = Self::default();
        for (_, operation) in document.operations.iter() {
            found.visit(&operation.node.selection_set);
        }
        for fragment in document.fragments.values() {
            found.visit(&fragment.node.selection_set);
        }
        found
    }

    fn visit(&mut self, set: &Positioned<SelectionSet>) {
        // The parser's recursion bound (checked before this) keeps this recursion shallow.
        for item in &set.node.items {
            match &item.node {
                Selection::Field(field) => {
                    self.aliases += usize::from(field.node.alias.is_some());
                    let name = field.node.name.node.as_str();
                    self.introspection |= name == "__schema" || name == "__type";
                    self.visit(&field.node.selection_set);
                }
                Selection::InlineFragment(fragment) => self.visit(&fragment.node.selection_set),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_counts_its_items_fields_once_per_hundred() {
        assert_eq!(page_cost(None, 3), 4);
        assert_eq!(page_cost(Some(1), 3), 4);
        assert_eq!(page_cost(Some(100), 3), 4);
        assert_eq!(page_cost(Some(101), 3), 7);
        assert_eq!(page_cost(Some(1_000), 3), 31);
        assert_eq!(
            page_cost(Some(1_000_000), 3),
            31,
            "the field refuses it, naming first"
        );
        assert_eq!(
            page_cost(Some(-5), 3),
            4,
            "the field refuses it, naming first"
        );
    }

    #[test]
    fn aliases_and_introspection_are_found_in_operations_and_fragments() {
        let found = |query: &str| {
            Found::in_document(&async_graphql::parser::parse_query(query).expect("a document"))
        };
        let document = found(
            "query A { a: ledger { p: position } ledger { position } ...F }
             query B { b: ledger { position } }
             fragment F on Query { c: ledger { position } ... on Query { d: ledger { position } } }",
        );
        assert_eq!(
            document,
            Found {
                aliases: 5,
                introspection: false
            }
        );
        assert!(
            found("{ ...F } fragment F on Query { ... on Query { __type(name: \"X\") { name } } }")
                .introspection
        );
        assert!(found("{ s: __schema { queryType { name } } }").introspection);
        assert!(!found("{ __typename ledger { __typename } }").introspection);
    }
}
