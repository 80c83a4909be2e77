//! The router, its limits, and serving it until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql_axum::GraphQLResponse;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Request, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::auth::RequestId;
use crate::documents::Documents;
use crate::metrics::{route_label, Metrics};
use crate::schema::{build_schema, LedgerSchema};
use crate::throttle::{Client, FailedSignIns, SignInLimit};
use crate::{ApiError, AppState, Auth};

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
    /// Most aliases (`name: field`) one GraphQL document may hold.
    pub max_aliases: usize,
    /// Whether clients may ask the schema about itself (`__schema`, `__type`) and get "did you
    /// mean" suggestions in errors. The schema is published (`docs/schema.graphql`, GraphiQL),
    /// so this is on unless an operator turns it off.
    pub introspection: bool,
    /// How failed sign-ins are limited per client.
    pub sign_in: SignInLimit,
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
            max_aliases: 50,
            introspection: true,
            sign_in: SignInLimit::default(),
        }
    }
}

/// What every route shares, behind one `Arc`: a request clones a pointer, not the state.
#[derive(Clone)]
pub(crate) struct Shared(Arc<SharedParts>);

pub(crate) struct SharedParts {
    pub(crate) state: AppState,
    pub(crate) schema: LedgerSchema,
    /// Failed sign-ins per client, on `/graphql` and at the pages' sign-in.
    pub(crate) sign_ins: FailedSignIns,
    /// Parsed documents by their text, for `/graphql` and the pages alike.
    documents: Documents,
}

impl std::ops::Deref for Shared {
    type Target = SharedParts;

    fn deref(&self) -> &SharedParts {
        &self.0
    }
}

impl Shared {
    /// Runs one GraphQL request on the schema, its document parsed once per text
    /// ([`Documents`]).
    pub(crate) async fn execute(
        &self,
        mut request: async_graphql::Request,
    ) -> async_graphql::Response {
        self.documents.prepare(&mut request);
        self.schema.execute(request).await
    }
}

/// The ledger's HTTP routes over the given state.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    let metrics = state.metrics.clone();
    let shared = Shared(Arc::new(SharedParts {
        schema: build_schema(state.clone()),
        sign_ins: FailedSignIns::new(limits.sign_in.clone()),
        state,
        documents: Documents::default(),
    }));
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        // GraphiQL's files, compiled into the binary (`api/src/graphiql.rs`).
        .route("/graphiql/{file}", get(crate::graphiql::asset))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        // The web pages (`docs/pages.md`): GraphQL clients of the same schema.
        .merge(crate::pages::router(shared.clone()))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Every answer, the limits' refusals and the pages' included (they set a stricter
        // policy of their own, which is kept).
        .layer(middleware::map_response(security_headers))
        .layer(middleware::from_fn_with_state(
            Arc::new(limits.sign_in),
            client_address,
        ))
        // Outermost, so that it also sees the answers of the limits above.
        .layer(middleware::from_fn_with_state(metrics, observe))
        .with_state(shared)
}

/// The content security policy of every answer that sets none of its own: no content of any
/// kind, never in a frame.
const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                           form-action 'none'";

/// Headers every answer carries: no MIME sniffing, no referrer to other sites, never in a frame
/// of another site, and a content security policy unless the answer has its own. No
/// `Access-Control-Allow-*` header is ever sent: browsers keep other sites' scripts from
/// reading any answer (CORS closed), and preflights are refused.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    if !headers.contains_key(header::X_FRAME_OPTIONS) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    response
}

/// Notes who the request comes from ([`Client`]), for counting failed sign-ins.
async fn client_address(
    State(limit): State<Arc<SignInLimit>>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = Client::of(&request, &limit);
    request.extensions_mut().insert(client);
    next.run(request).await
}

/// GraphiQL for a browser; GraphQL subscriptions for a websocket upgrade. A query in the URL
/// is refused: queries and mutations go by `POST`, so that no link or image can run one.
async fn graphiql(
    State(shared): State<Shared>,
    Extension(id): Extension<RequestId>,
    Extension(client): Extension<Client>,
    uri: Uri,
    headers: HeaderMap,
    websocket: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    match websocket {
        Ok(upgrade) => crate::websocket::upgrade(shared, upgrade, &headers, id.0, client).await,
        Err(rejection) if headers.contains_key(header::UPGRADE) => rejection.into_response(),
        Err(_) if asks_a_query(&uri) => {
            let mut response = refusal(
                StatusCode::METHOD_NOT_ALLOWED,
                ApiError::bad_input(
                    "query",
                    "GET /graphql serves GraphiQL and subscriptions only; send queries and \
                     mutations with POST",
                ),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
            response
        }
        Err(_) => crate::graphiql::page(),
    }
}

/// Whether a URL carries a GraphQL operation (`query`, `operationName` or `variables`).
fn asks_a_query(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes())
            .any(|(k, _)| matches!(&*k, "query" | "operationName" | "variables" | "extensions"))
    })
}

/// A refusal as a GraphQL response with the error's code and the given status.
pub(crate) fn refusal(status: StatusCode, error: ApiError) -> Response {
    let error = async_graphql::Error::from(error);
    let body = serde_json::json!({
        "errors": [{ "message": error.message, "extensions": error.extensions }],
    });
    (status, Json(body)).into_response()
}

/// A 429 for a client with too many failed sign-ins, with `Retry-After`.
pub(crate) fn rate_limited(wait: Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil() as u64;
    let mut response = refusal(
        StatusCode::TOO_MANY_REQUESTS,
        ApiError::RateLimited {
            retry_after: seconds,
        },
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// What `POST /graphql` accepts: one operation as JSON (`application/json`), or as the GraphQL
/// multipart request (`multipart/form-data`, for file uploads). Anything else is refused before
/// it is read: a list of operations (a batch) with 400, another content type (such as the
/// `text/plain` a cross-site form may send) with 415, a body over the limit with 413.
pub(crate) struct OneOperation(async_graphql::Request);

impl<S: Send + Sync> axum::extract::FromRequest<S> for OneOperation {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let essence = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        let accepted = matches!(
            essence.as_deref(),
            Some("application/json" | "multipart/form-data")
        );
        if !accepted {
            return Err(refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ApiError::bad_input(
                    "Content-Type",
                    "send the operation as application/json (or multipart/form-data with files)",
                ),
            ));
        }
        let batch =
            async_graphql_axum::GraphQLBatchRequest::<ParseRefusal>::from_request(request, state)
                .await
                .map_err(|e| e.0)?;
        match batch.into_inner() {
            async_graphql::BatchRequest::Single(request) => Ok(Self(request)),
            async_graphql::BatchRequest::Batch(_) => Err(refusal(
                StatusCode::BAD_REQUEST,
                ApiError::bad_input(
                    "request",
                    "batches are not served: send one operation per request",
                ),
            )),
        }
    }
}

/// A request body that is not a GraphQL request, as a refusal with a code.
struct ParseRefusal(Response);

impl From<async_graphql::ParseRequestError> for ParseRefusal {
    fn from(error: async_graphql::ParseRequestError) -> Self {
        use async_graphql::ParseRequestError as E;
        let too_large = match &error {
            E::PayloadTooLarge => true,
            // The body limit cuts a body without a length short while it is read.
            E::Io(e) => e.to_string().contains("length limit exceeded"),
            _ => false,
        };
        if too_large {
            return Self(StatusCode::PAYLOAD_TOO_LARGE.into_response());
        }
        Self(refusal(
            StatusCode::BAD_REQUEST,
            ApiError::bad_input("request", format!("not a GraphQL request: {error}")),
        ))
    }
}

impl IntoResponse for ParseRefusal {
    fn into_response(self) -> Response {
        self.0
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
    Ok(match state.tokens.authenticate(&state.db, token).await? {
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
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    OneOperation(request): OneOperation,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        if let Some(wait) = shared.sign_ins.refused(client) {
            shared.state.metrics.graphql_error("RATE_LIMITED");
            return rate_limited(wait);
        }
    }
    let auth = match authenticate(&shared.state, &headers).await {
        Ok(Auth::Invalid) => {
            shared.sign_ins.failed(client);
            Auth::Invalid
        }
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
    let request = request.data(auth).data(id);
    GraphQLResponse::from(shared.execute(request).await).into_response()
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
    // The peer's address: failed sign-ins are counted per client.
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_in_the_url_is_recognised() {
        let asks = |uri: &str| asks_a_query(&uri.parse().expect("a URI"));
        assert!(asks("/graphql?query=mutation%7Bx%7D"));
        assert!(asks("/graphql?operationName=A"));
        assert!(!asks("/graphql"));
        assert!(!asks("/graphql?theme=dark"));
    }
}
