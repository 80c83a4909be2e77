//! The router, its limits, and serving it until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::RequestId;
use crate::schema::{build_schema, LedgerSchema};
use crate::{AppState, Auth};

/// Bounds on what one request may ask; each refusal is a clear error.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest nesting of a GraphQL query.
    pub max_depth: usize,
    /// Highest complexity score of a GraphQL query.
    pub max_complexity: usize,
    /// Most items one page of a list may hold.
    pub max_page_size: u32,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered with 408.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_complexity: 2_000,
            max_page_size: 1_000,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
struct Shared {
    state: AppState,
    schema: LedgerSchema,
}

/// The ledger's HTTP routes over the given state.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    let shared = Shared {
        schema: build_schema(state.clone()),
        state,
    };
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(healthz))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .with_state(shared)
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Auth, crate::ApiError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(Auth::Anonymous);
    };
    let Some(token) = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return Ok(Auth::Invalid);
    };
    Ok(match state.db.authenticate(token).await? {
        Some(principal) => Auth::Principal(principal),
        None => Auth::Invalid,
    })
}

async fn graphql(
    State(shared): State<Shared>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let id = request_id(&headers);
    let span = tracing::info_span!("graphql", request_id = %id);
    let _entered = span.enter();
    let auth = match authenticate(&shared.state, &headers).await {
        Ok(auth) => auth,
        Err(e) => {
            let mut server_error = async_graphql::ServerError::new(e.message(), None);
            server_error.extensions = async_graphql::Error::from(e).extensions;
            let response = async_graphql::Response::from_errors(vec![server_error]);
            return with_request_id(GraphQLResponse::from(response).into_response(), &id);
        }
    };
    let request = request.into_inner().data(auth).data(RequestId(id.clone()));
    let mut response = shared.schema.execute(request).await;
    for error in &mut response.errors {
        // Errors of the ledger carry their code; the rest come from parsing and validating the
        // request against the schema (a malformed query, a wrong scalar, a limit exceeded).
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
    let response: GraphQLResponse = response.into();
    with_request_id(response.into_response(), &id)
}

fn with_request_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn healthz(State(shared): State<Shared>) -> Response {
    let backend = shared.state.db.backend().to_string();
    match shared.state.db.head().await {
        Ok(position) => Json(serde_json::json!({
            "status": "ok",
            "database": backend,
            "position": position,
        }))
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({
                    "status": "unavailable",
                    "database": backend,
                    "reason": "the database does not answer",
                })),
            )
                .into_response()
        }
    }
}

/// Why serving stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: the address is already in use (is another ledger running? choose another with --listen)")]
    AddressInUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Binds `addr`, then serves until `shutdown` completes.
pub async fn serve(
    addr: SocketAddr,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener = TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ServeError::AddressInUse { addr }
        } else {
            ServeError::Bind { addr, source }
        }
    })?;
    serve_on(listener, state, shutdown).await
}

/// Serves on an already bound listener until `shutdown` completes.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
