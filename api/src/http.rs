//! The router, its limits, and serving it until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Request, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::auth::RequestId;
use crate::metrics::{route_label, Metrics};
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
    /// Longest a websocket may stay open without sending `connection_init`; then it is closed
    /// with 4408 (Connection initialisation timeout). Zero: no limit.
    pub websocket_init_timeout: Duration,
    /// How often the server sends a graphql-transport-ws `ping` on an open websocket, so that
    /// proxies keep it open and the client notices a dead connection. Zero: no pings.
    pub websocket_keepalive: Duration,
    /// How often the token a websocket signed in with is checked again; once it is revoked,
    /// the connection and its subscriptions end with 4403. Zero: only at sign-in.
    pub websocket_token_recheck: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_complexity: 2_000,
            max_page_size: 1_000,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            websocket_init_timeout: Duration::from_secs(10),
            websocket_keepalive: Duration::from_secs(30),
            websocket_token_recheck: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) state: AppState,
    pub(crate) schema: LedgerSchema,
}

/// The ledger's HTTP routes over the given state.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    let metrics = state.metrics.clone();
    let shared = Shared {
        schema: build_schema(state.clone()),
        state,
    };
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        // The web pages (`docs/pages.md`): GraphQL clients of the same schema.
        .merge(crate::pages::router(shared.clone()))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Outermost, so that it also sees the answers of the limits above.
        .layer(middleware::from_fn_with_state(metrics, observe))
        .with_state(shared)
}

/// GraphiQL for a browser; GraphQL subscriptions for a websocket upgrade.
async fn graphiql(
    State(shared): State<Shared>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    websocket: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    match websocket {
        Ok(upgrade) => crate::websocket::upgrade(shared, upgrade, &headers, id.0).await,
        Err(rejection) if headers.contains_key(header::UPGRADE) => rejection.into_response(),
        Err(_) => Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql")
                .finish(),
        )
        .into_response(),
    }
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

pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Auth, crate::ApiError> {
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

/// Gives every request its id, runs it in a span with the id, method and route, logs its
/// status and latency, counts it, and answers the id in `x-request-id`.
async fn observe(State(metrics): State<Metrics>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(request.headers());
    let method = request.method().clone();
    let route = route_label(request.uri().path());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route,
        status = tracing::field::Empty,
        ms = tracing::field::Empty,
    );
    request.extensions_mut().insert(RequestId(id.clone()));
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let ms = elapsed.as_millis() as u64;
    span.record("status", status);
    span.record("ms", ms);
    metrics.http_request(&method, route, status, elapsed);
    // The line's status and latency are the span's.
    span.in_scope(|| {
        if response.status().is_server_error() {
            tracing::warn!("request");
        } else if matches!(route, "/healthz" | "/metrics") {
            // Probes and scrapes come every few seconds.
            tracing::debug!("request");
        } else {
            tracing::info!("request");
        }
    });
    with_request_id(response, &id)
}

async fn graphql(
    State(shared): State<Shared>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let auth = match authenticate(&shared.state, &headers).await {
        Ok(auth) => auth,
        Err(e) => {
            shared.state.metrics.graphql_error(e.code());
            let mut server_error = async_graphql::ServerError::new(e.message(), None);
            server_error.extensions = async_graphql::Error::from(e).extensions;
            let response = async_graphql::Response::from_errors(vec![server_error]);
            return GraphQLResponse::from(response).into_response();
        }
    };
    // Every error in the response has its code: the schema's extension gives codeless ones
    // theirs (see `error::ensure_code`) and counts them.
    let request = request.into_inner().data(auth).data(id);
    GraphQLResponse::from(shared.schema.execute(request).await).into_response()
}

fn with_request_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The metrics in the Prometheus text format; with a metrics token set, only for a client that
/// sends it as its bearer token.
async fn metrics_text(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let state = &shared.state;
    if let Some(token) = &state.metrics_token {
        if !token.accepts(headers.get(header::AUTHORIZATION)) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "GET /metrics needs the metrics token: send Authorization: Bearer <token>\n",
            )
                .into_response();
        }
    }
    let text = state
        .metrics
        .encode(&state.db, &state.projection, &state.audit)
        .await;
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}

async fn healthz(State(shared): State<Shared>) -> Response {
    let backend = shared.state.db.backend().to_string();
    // The audit trail does not decide whether this server can serve; it is reported so that
    // monitoring notices a trail that did not check out.
    let audit = {
        let trail = shared.state.audit.read().await;
        match trail.failure() {
            None => serde_json::json!({
                "status": "ok",
                "treeSize": trail.tree().size(),
                "checkpointSize": trail.latest_checkpoint().map(|c| c.size),
            }),
            Some(reason) => serde_json::json!({ "status": "failed", "reason": reason }),
        }
    };
    match shared.state.db.head().await {
        Ok(position) => Json(serde_json::json!({
            "status": "ok",
            "database": backend,
            "position": position,
            "audit": audit,
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
