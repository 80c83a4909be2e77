//! Parsed GraphQL documents kept by their text: clients send the same few queries over and
//! over (a dashboard's, the web pages' own), and parsing is most of what a small read costs
//! beyond its answer.
//!
//! Only parsing is saved. Every request still runs the document limits (aliases,
//! introspection, depth, directives), validation against the schema with its own variables,
//! and execution; a document that does not parse is not kept, so its error is reported as
//! before. The cache is bounded in entries and each kept text in length, so a client sending
//! endless distinct queries cannot grow it.

use std::sync::Mutex;

use async_graphql::parser::types::ExecutableDocument;
use hashlink::LruCache;

/// Documents kept at most; the least recently used goes first.
const KEPT: usize = 512;

/// Longer query texts are parsed every time (a request body may be far longer).
const MAX_KEPT_TEXT: usize = 8 * 1024;

pub(crate) struct Documents {
    kept: Mutex<LruCache<String, ExecutableDocument>>,
}

impl Default for Documents {
    fn default() -> Self {
        Self {
            kept: Mutex::new(LruCache::new(KEPT)),
        }
    }
}

impl Documents {
    /// Gives `request` its parsed document: a kept one for the same text, else it is parsed
    /// now and kept when it parses.
    pub(crate) fn prepare(&self, request: &mut async_graphql::Request) {
        if request.query.len() > MAX_KEPT_TEXT {
            return;
        }
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&request.query)
            .cloned();
        if let Some(document) = kept {
            request.set_parsed_query(document);
            return;
        }
        // A text that does not parse stays unparsed: the schema parses it again and answers
        // its error as for any request.
        if let Ok(document) = request.parsed_query() {
            let document = document.clone();
            self.kept
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(request.query.clone(), document);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_document_is_the_one_its_text_parses_to() {
        let documents = Documents::default();
        let text = "query One($id: String!) { measurement(id: $id) { value } }";
        let mut first = async_graphql::Request::new(text);
        documents.prepare(&mut first);
        let mut second = async_graphql::Request::new(text);
        documents.prepare(&mut second);
        let fresh = async_graphql::parser::parse_query(text).expect("parses");
        assert_eq!(
            format!("{:?}", second.parsed_query().expect("kept")),
            format!("{fresh:?}")
        );
    }

    #[test]
    fn a_text_that_does_not_parse_is_not_kept() {
        let documents = Documents::default();
        let mut request = async_graphql::Request::new("query { unclosed");
        documents.prepare(&mut request);
        assert!(request.parsed_query().is_err());
        assert_eq!(documents.kept.lock().unwrap().len(), 0);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let documents = Documents::default();
        for i in 0..KEPT + 50 {
            let mut request = async_graphql::Request::new(format!("{{ a{i}: __typename }}"));
            documents.prepare(&mut request);
        }
        assert_eq!(documents.kept.lock().unwrap().len(), KEPT);
        let long = format!("{{ {} }}", "__typename ".repeat(MAX_KEPT_TEXT / 10));
        let mut request = async_graphql::Request::new(long.clone());
        documents.prepare(&mut request);
        assert!(documents.kept.lock().unwrap().get(&long).is_none());
    }
}
