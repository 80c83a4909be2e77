//! GraphQL requests as `POST /graphql` reads them: a body of any bytes decoded as the JSON
//! request (a batch is refused by the server, so only a single operation goes on), then
//! parsed and validated against the real schema with the server's limits (depth, complexity,
//! directives, aliases, introspection on or off). An extension ends each request after
//! validation, so nothing executes and no database is needed. Every variable is also read by
//! the ledger's own scalars (`Date`, `Money`, `Decimal`, `Period`).
//!
//! Input: a JSON body, or (when it holds a NUL byte, which no JSON body does) a query text, a
//! NUL byte and the variables as JSON, so that the fuzzer mutates the query without JSON's
//! escaping.

#![no_main]

use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::http::{receive_batch_body, MultipartOptions};
use async_graphql::{BatchRequest, Request, Response, ScalarType, Value, Variables};
use libfuzzer_sys::fuzz_target;

/// Answers every request that passed validation with `null`, without executing it.
struct ValidateOnly;

impl ExtensionFactory for ValidateOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ValidateOnly)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ValidateOnly {
    async fn execute(
        &self,
        _ctx: &ExtensionContext<'_>,
        _operation_name: Option<&str>,
        _next: NextExecute<'_>,
    ) -> Response {
        Response::new(Value::Null)
    }
}

fn schema(introspection: bool) -> &'static api::LedgerSchema {
    static OPEN: OnceLock<api::LedgerSchema> = OnceLock::new();
    static CLOSED: OnceLock<api::LedgerSchema> = OnceLock::new();
    let build = || {
        let limits = api::Limits {
            introspection,
            ..api::Limits::default()
        };
        api::schema_builder(&limits, &api::Metrics::new())
            .extension(ValidateOnly)
            .finish()
    };
    if introspection {
        OPEN.get_or_init(build)
    } else {
        CLOSED.get_or_init(build)
    }
}

/// Reads a value (and every value inside it) as each of the ledger's scalars.
fn read_scalars(value: &Value) {
    let _ = api::Date::parse(value.clone());
    let _ = api::Money::parse(value.clone());
    let _ = api::Decimal::parse(value.clone());
    let _ = api::Period::parse(value.clone());
    match value {
        Value::List(items) => items.iter().for_each(read_scalars),
        Value::Object(fields) => fields.values().for_each(read_scalars),
        _ => {}
    }
}

fn request(data: &[u8]) -> Option<Request> {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        let body = futures::io::Cursor::new(data);
        let decoded =
            receive_batch_body(Some("application/json"), body, MultipartOptions::default());
        return match futures::executor::block_on(decoded) {
            Ok(BatchRequest::Single(request)) => Some(request),
            Ok(BatchRequest::Batch(_)) | Err(_) => None,
        };
    };
    let query = std::str::from_utf8(&data[..split]).ok()?;
    let variables = serde_json::from_slice::<serde_json::Value>(&data[split + 1..])
        .map(Variables::from_json)
        .unwrap_or_default();
    Some(Request::new(query).variables(variables))
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = request(data) else {
        return;
    };
    for value in request.variables.values() {
        read_scalars(value);
    }
    let schema = schema(data.len().is_multiple_of(2));
    let _ = futures::executor::block_on(schema.execute(request));
});
