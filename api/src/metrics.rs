//! What a server counts, served on `GET /metrics` in the Prometheus text format (version
//! 0.0.4): HTTP requests and their latency, GraphQL operations and error codes, commands by
//! outcome, conflict retries, and how far the read models trail the log.
//!
//! Every [`AppState`](crate::AppState) has its own [`Metrics`] with its own registry, so two
//! servers in one process never mix their counts. Labels hold only names the server itself
//! chooses (routes, operation types, command names, error codes): never an actor, a token or
//! anything else a client sends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
    NextSubscribe,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerResult, Variables};
use axum::http::{HeaderValue, Method};
use futures::stream::{BoxStream, StreamExt};
use projections::notary::AuditTrail;
use projections::Projection;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use store::{CommandContext, CommandObserver, CommandOutcome, Database};

/// The `Content-Type` of `GET /metrics`.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of the request latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandNameLabels {
    command: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// One server's counters, histograms and gauges. Cloning shares them.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: LatencyFamily,
    operations: Family<OperationLabels, Counter>,
    errors: Family<CodeLabels, Counter>,
    commands: Family<CommandLabels, Counter>,
    conflict_retries: Family<CommandNameLabels, Counter>,
    projector_position: Gauge,
    log_head: Gauge,
    projector_lag: Gauge,
    database_up: Gauge,
    audit_trail_ok: Gauge,
    audit_tree_size: Gauge,
    audit_checkpoint_size: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every family of the ledger, all at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("alliance_ledger");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route (/graphql, /healthz, /metrics or other) \
             and status",
            http_requests.clone(),
        );
        let http_duration = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time from receiving a request to having its response, by route",
            Unit::Seconds,
            http_duration.clone(),
        );
        let operations = Family::<OperationLabels, Counter>::default();
        registry.register(
            "graphql_operations",
            "GraphQL operations by type (query, mutation, subscription, or unknown when the \
             request could not be parsed) and outcome (ok, or error when the response has \
             errors); a subscription counts once, at its first response",
            operations.clone(),
        );
        let errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "graphql_errors",
            "Errors in GraphQL responses, by extensions.code",
            errors.clone(),
        );
        let commands = Family::<CommandLabels, Counter>::default();
        registry.register(
            "commands",
            "Commands by name and outcome (recorded, unchanged, replayed for a repeat under \
             the same idempotency key, refused, conflict, error)",
            commands.clone(),
        );
        let conflict_retries = Family::<CommandNameLabels, Counter>::default();
        registry.register(
            "command_conflict_retries",
            "Times a command met another writer's change and was run again against the fresh \
             state",
            conflict_retries.clone(),
        );
        let projector_position = Gauge::default();
        registry.register(
            "projector_position",
            "The log position this server's read models include",
            projector_position.clone(),
        );
        let log_head = Gauge::default();
        registry.register(
            "log_head_position",
            "The position of the last event in the log, read from the database at the scrape",
            log_head.clone(),
        );
        let projector_lag = Gauge::default();
        registry.register(
            "projector_lag_events",
            "Events in the log that this server's read models do not include yet",
            projector_lag.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "1 when the database answered the scrape's reading of the log head, else 0 (the \
             head and lag then keep their last values)",
            database_up.clone(),
        );
        let audit_trail_ok = Gauge::default();
        registry.register(
            "audit_trail_ok",
            "1 when the audit trail checked out at start (recorded leaf hashes and the newest \
             checkpoint agree), else 0: it then proves and signs nothing",
            audit_trail_ok.clone(),
        );
        let audit_tree_size = Gauge::default();
        registry.register(
            "audit_tree_size",
            "Events hashed into this server's Merkle tree",
            audit_tree_size.clone(),
        );
        let audit_checkpoint_size = Gauge::default();
        registry.register(
            "audit_checkpoint_size",
            "Events covered by the newest signed checkpoint (0: none yet)",
            audit_checkpoint_size.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            http_requests,
            http_duration,
            operations,
            errors,
            commands,
            conflict_retries,
            projector_position,
            log_head,
            projector_lag,
            database_up,
            audit_trail_ok,
            audit_tree_size,
            audit_checkpoint_size,
        }))
    }

    /// Counts one answered HTTP request.
    pub(crate) fn http_request(
        &self,
        method: &Method,
        route: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        self.0
            .http_requests
            .get_or_create(&HttpLabels {
                method: method_label(method),
                route,
                status,
            })
            .inc();
        self.0
            .http_duration
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one GraphQL operation.
    fn graphql_operation(&self, operation: &'static str, outcome: &'static str) {
        self.0
            .operations
            .get_or_create(&OperationLabels { operation, outcome })
            .inc();
    }

    /// Counts one error leaving the server with `code`.
    pub(crate) fn graphql_error(&self, code: &str) {
        let code = if !code.is_empty()
            && code.len() <= 40
            && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        {
            code.to_owned()
        } else {
            "OTHER".to_owned()
        };
        self.0.errors.get_or_create(&CodeLabels { code }).inc();
    }

    /// The schema extension that counts GraphQL operations and the codes of their errors.
    pub(crate) fn graphql_extension(&self) -> OperationMetrics {
        OperationMetrics(self.clone())
    }

    /// Reads the log head, updates the projector gauges, and encodes every family.
    pub(crate) async fn encode(
        &self,
        db: &Database,
        projection: &Projection,
        audit: &tokio::sync::RwLock<AuditTrail>,
    ) -> String {
        {
            let trail = audit.read().await;
            self.0
                .audit_trail_ok
                .set(i64::from(trail.failure().is_none()));
            self.0.audit_tree_size.set(trail.tree().size() as i64);
            self.0
                .audit_checkpoint_size
                .set(trail.latest_checkpoint().map_or(0, |c| c.size as i64));
        }
        // The head first, then the position: a commit in between can only make the lag look
        // smaller (never below zero), not report a lag that never was.
        match db.head().await {
            Ok(head) => {
                let position = projection.position();
                self.0.database_up.set(1);
                self.0.log_head.set(head);
                self.0.projector_position.set(position);
                self.0.projector_lag.set((head - position).max(0));
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot read the log head");
                self.0.database_up.set(0);
                self.0.projector_position.set(projection.position());
            }
        }
        let mut text = String::new();
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.0.registry)
        {
            tracing::error!(error = %e, "metrics: cannot encode");
        }
        text
    }
}

/// A bearer token that `GET /metrics` asks for when set (`serve --metrics-token`). Only its
/// SHA-256 is kept; it never shows in logs or `Debug` output.
#[derive(Clone)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    /// The token scrapers must send as `Authorization: Bearer <secret>`.
    pub fn new(secret: &str) -> Self {
        Self(Self::digest(secret))
    }

    fn digest(secret: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(secret.as_bytes()).into()
    }

    /// Whether the `Authorization` header carries this token.
    pub(crate) fn accepts(&self, authorization: Option<&HeaderValue>) -> bool {
        authorization
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            // Digests of equal length, compared in constant time: how long a comparison takes
            // tells nothing about the token.
            .is_some_and(|secret| {
                use subtle::ConstantTimeEq;
                Self::digest(secret.trim()).ct_eq(&self.0).into()
            })
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

/// The route label of a request path: one of the server's routes, or `other`.
pub(crate) fn route_label(path: &str) -> &'static str {
    match path {
        "/graphql" => "/graphql",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

impl CommandObserver for Metrics {
    fn command_finished(
        &self,
        command: &str,
        context: &CommandContext,
        outcome: CommandOutcome,
        elapsed: Duration,
    ) {
        self.0
            .commands
            .get_or_create(&CommandLabels {
                command: command.to_owned(),
                outcome: outcome.as_str(),
            })
            .inc();
        let ms = elapsed.as_millis() as u64;
        let outcome = outcome.as_str();
        let request_id = context.request_id.as_str();
        if outcome == "error" {
            tracing::warn!(command, outcome, request_id, ms, "command");
        } else {
            tracing::info!(command, outcome, request_id, ms, "command");
        }
    }

    fn conflict_retried(&self, command: &str) {
        self.0
            .conflict_retries
            .get_or_create(&CommandNameLabels {
                command: command.to_owned(),
            })
            .inc();
    }
}

/// Counts every GraphQL operation and the code of every error it answers, on any transport.
/// Gives errors without a code theirs first (see [`crate::error::ensure_code`]).
pub(crate) struct OperationMetrics(Metrics);

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationObserver {
            metrics: self.0.clone(),
            operation_name: Mutex::new(None),
            operation: Arc::new(Mutex::new("unknown")),
        })
    }
}

/// One request's observer: learns the operation's type while the request is parsed.
struct OperationObserver {
    metrics: Metrics,
    operation_name: Mutex<Option<String>>,
    operation: Arc<Mutex<&'static str>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts the response's errors by code (giving codeless ones theirs) and returns the
/// operation's outcome.
fn count_errors(metrics: &Metrics, response: &mut Response) -> &'static str {
    for error in &mut response.errors {
        metrics.graphql_error(crate::error::ensure_code(error));
    }
    if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    }
}

fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> &'static str {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    match operation.map(|op| op.node.ty) {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "unknown",
    }
}

#[async_trait::async_trait]
impl Extension for OperationObserver {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        let outcome = count_errors(&self.metrics, &mut response);
        let operation = *lock(&self.operation);
        self.metrics.graphql_operation(operation, outcome);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let metrics = self.metrics.clone();
        let operation = self.operation.clone();
        let mut first = true;
        next.run(ctx, stream)
            .map(move |mut response| {
                let outcome = count_errors(&metrics, &mut response);
                if std::mem::take(&mut first) {
                    metrics.graphql_operation(*lock(&operation), outcome);
                }
                response
            })
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        lock(&self.operation_name).clone_from(&request.operation_name);
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let name = lock(&self.operation_name).clone();
        *lock(&self.operation) = operation_type(&document, name.as_deref());
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_outside_the_server_share_one_label() {
        assert_eq!(route_label("/graphql"), "/graphql");
        assert_eq!(route_label("/metrics"), "/metrics");
        assert_eq!(route_label("/graphql/extra"), "other");
        assert_eq!(route_label("/secret-token-in-a-path"), "other");
    }

    #[test]
    fn error_codes_outside_the_ledgers_vocabulary_are_other() {
        let metrics = Metrics::new();
        metrics.graphql_error("FORBIDDEN");
        metrics.graphql_error("alt_0123456789abcdef");
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &metrics.0.registry)
            .expect("encode");
        assert!(text.contains("alliance_ledger_graphql_errors_total{code=\"FORBIDDEN\"} 1"));
        assert!(text.contains("alliance_ledger_graphql_errors_total{code=\"OTHER\"} 1"));
        assert!(!text.contains("alt_"), "{text}");
    }

    #[test]
    fn the_metrics_token_is_checked_and_never_shown() {
        let token = MetricsToken::new("scrape-secret");
        let header = |v: &str| HeaderValue::from_str(v).expect("header");
        assert!(token.accepts(Some(&header("Bearer scrape-secret"))));
        assert!(!token.accepts(Some(&header("Bearer other"))));
        assert!(!token.accepts(Some(&header("scrape-secret"))));
        assert!(!token.accepts(None));
        assert!(!format!("{token:?}").contains("scrape-secret"));
    }

    #[test]
    fn the_operation_type_follows_the_operation_name() {
        let document =
            async_graphql::parser::parse_query("query A { ledger { position } } mutation B { x }")
                .expect("parse");
        assert_eq!(operation_type(&document, Some("A")), "query");
        assert_eq!(operation_type(&document, Some("B")), "mutation");
        assert_eq!(operation_type(&document, None), "unknown");
        assert_eq!(operation_type(&document, Some("C")), "unknown");
    }
}
