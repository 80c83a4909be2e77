//! GraphQL subscriptions over a websocket on `GET /graphql`, with the graphql-transport-ws
//! protocol: the client opens the socket with that subprotocol, signs in with
//! `{"Authorization": "Bearer <token>"}` as the `connection_init` payload (or with the upgrade
//! request's `Authorization` header), then subscribes. Queries and mutations go by `POST`.
//!
//! The server pings every open connection (`Limits::websocket_keepalive`), closes one that
//! sends no `connection_init` in time with 4408 (`Limits::websocket_init_timeout`), and checks
//! the token a connection signed in with again and again (`Limits::websocket_token_recheck`):
//! once it is revoked, the connection and its subscriptions end with 4403.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_graphql::futures_util::stream::{self, BoxStream};
use async_graphql::futures_util::{future, SinkExt, StreamExt};
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Data, Executor, Pos, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket as Socket, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tracing::Instrument;

use crate::auth::RequestId;
use crate::error::ensure_code;
use crate::http::{authenticate, rate_limited, Shared};
use crate::schema::LedgerSchema;
use crate::throttle::Client;
use crate::{ApiError, AppState, Auth};

/// The one websocket subprotocol served: graphql-transport-ws (the `graphql-ws` library's).
const PROTOCOL: &str = "graphql-transport-ws";

/// The protocol's close code for a connection the server refuses at `connection_init`, or
/// whose token is revoked while it is open.
const FORBIDDEN: u16 = 4403;

/// The protocol's close code for a connection that sent no `connection_init` in time.
const INIT_TIMEOUT: u16 = 4408;

/// The protocol's keep-alive message; the client answers `pong`.
const PING: &str = r#"{"type":"ping"}"#;

/// Answers a websocket upgrade of `GET /graphql`: refuses a missing subprotocol (400), a client
/// with too many failed sign-ins that sends a token (429), or an unknown or revoked bearer
/// token in the upgrade request (401) before upgrading.
pub(crate) async fn upgrade(
    shared: Shared,
    upgrade: WebSocketUpgrade,
    headers: &HeaderMap,
    request_id: String,
    client: Client,
) -> HttpResponse {
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(PROTOCOL));
    if !offered {
        return refusal(
            StatusCode::BAD_REQUEST,
            ApiError::bad_input(
                "Sec-WebSocket-Protocol",
                format!("GraphQL over a websocket needs the subprotocol {PROTOCOL}"),
            ),
        );
    }
    if headers.contains_key(header::AUTHORIZATION) {
        if let Some(wait) = shared.sign_ins.refused(client) {
            return rate_limited(wait);
        }
    }
    let from_header = match authenticate(&shared.state, headers).await {
        Ok(Auth::Invalid) => {
            shared.sign_ins.failed(client);
            return refusal(
                StatusCode::UNAUTHORIZED,
                ApiError::Unauthenticated("the bearer token is unknown or revoked".into()),
            );
        }
        Ok(auth) => auth,
        Err(e) => {
            let status = if e == ApiError::Unavailable {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            return refusal(status, e);
        }
    };
    // The header's token, to check again while the connection lasts.
    let header_credential = match from_header {
        Auth::Principal(_) => headers
            .get(header::AUTHORIZATION)
            .cloned()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            }),
        _ => None,
    };
    let span = tracing::info_span!("graphql_ws", request_id = %request_id);
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(shared.state.limits.max_body_bytes)
        .on_upgrade(move |socket| {
            let sign_in = SignIn {
                auth: from_header,
                credential: header_credential,
            };
            serve_socket(socket, shared, sign_in, request_id, client).instrument(span)
        })
}

/// How the upgrade request signed in: what its `Authorization` header gave, and the header.
struct SignIn {
    auth: Auth,
    credential: Option<HeaderValue>,
}

/// A refusal before the upgrade, as a GraphQL response with the error's code.
fn refusal(status: StatusCode, error: ApiError) -> HttpResponse {
    let error = async_graphql::Error::from(error);
    let body = serde_json::json!({
        "errors": [{ "message": error.message, "extensions": error.extensions }],
    });
    (status, Json(body)).into_response()
}

/// Runs the protocol on an upgraded socket until either side closes it, the client sends no
/// `connection_init` in time, or the token it signed in with is revoked.
async fn serve_socket(
    socket: Socket,
    shared: Shared,
    from_header: SignIn,
    request_id: String,
    client: Client,
) {
    let limits = shared.state.limits.clone();
    let (mut sink, source) = socket.split();
    let input = source
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        });
    let refused = Arc::new(AtomicBool::new(false));
    let initialised = Arc::new(AtomicBool::new(false));
    // The `Authorization` value of the token the connection signed in with, once it did.
    let credential = Arc::new(OnceLock::<HeaderValue>::new());
    let on_init = {
        let refused = refused.clone();
        let initialised = initialised.clone();
        let credential = credential.clone();
        let state = shared.state.clone();
        let shared = shared.clone();
        move |payload: serde_json::Value| async move {
            initialised.store(true, Ordering::SeqCst);
            if let (Some(_), Some(wait)) = (bearer(&payload), shared.sign_ins.refused(client)) {
                refused.store(true, Ordering::SeqCst);
                tracing::info!("websocket connection refused: too many failed sign-ins");
                let retry_after = wait.as_secs_f64().ceil() as u64;
                return Err(ApiError::RateLimited { retry_after }.into());
            }
            let (auth, sent) = match bearer(&payload) {
                Some(Some(value)) => match HeaderValue::from_str(value) {
                    Ok(mut value) => {
                        value.set_sensitive(true);
                        (authenticate_with(&state, &value).await?, Some(value))
                    }
                    Err(_) => (Auth::Invalid, None),
                },
                Some(None) => (Auth::Invalid, None),
                None => (from_header.auth, from_header.credential),
            };
            if let (Auth::Principal(_), Some(sent)) = (&auth, sent) {
                let _ = credential.set(sent);
            }
            if matches!(auth, Auth::Invalid) {
                shared.sign_ins.failed(client);
            }
            let admitted = admit(auth, state.public_read);
            if let Err(e) = &admitted {
                tracing::info!(reason = %e.message, "websocket connection refused");
                refused.store(true, Ordering::SeqCst);
            }
            admitted
        }
    };
    let mut data = Data::default();
    data.insert(RequestId(request_id));
    let messages = WebSocket::new(
        Subscriptions(shared.schema.clone()),
        input,
        WebSocketProtocols::GraphQLWS,
    )
    .connection_data(data)
    .on_connection_init(on_init)
    .map(move |message| match message {
        WsMessage::Text(text) => Message::Text(text.into()),
        WsMessage::Close(code, reason) => {
            // The protocol library closes a refused `connection_init` as a protocol error;
            // graphql-transport-ws names it Forbidden.
            let code = if code == 1002 && refused.load(Ordering::SeqCst) {
                FORBIDDEN
            } else {
                code
            };
            close(code, reason)
        }
    });
    let mut messages = std::pin::pin!(messages);
    let init_deadline = after(limits.websocket_init_timeout);
    let mut init_deadline = std::pin::pin!(init_deadline);
    let mut keepalive = ticker(limits.websocket_keepalive);
    let mut recheck = ticker(limits.websocket_token_recheck);
    loop {
        let message = tokio::select! {
            message = messages.next() => match message {
                Some(message) => message,
                None => break,
            },
            () = &mut init_deadline, if !initialised.load(Ordering::SeqCst) => {
                tracing::info!("websocket closed: no connection_init in time");
                close(INIT_TIMEOUT, "Connection initialisation timeout".into())
            }
            () = tick(&mut keepalive) => Message::Text(PING.into()),
            () = tick(&mut recheck), if credential.get().is_some() => {
                match credential.get() {
                    Some(credential) if revoked(&shared.state, credential).await => {
                        tracing::info!("websocket closed: its token was revoked");
                        close(FORBIDDEN, "the bearer token was revoked".into())
                    }
                    _ => continue,
                }
            }
        };
        let closing = matches!(message, Message::Close(_));
        if sink.send(message).await.is_err() || closing {
            break;
        }
    }
}

/// A close frame with the code and reason.
fn close(code: u16, reason: String) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Completes once `period` has passed; never when it is zero.
async fn after(period: Duration) {
    if period.is_zero() {
        future::pending::<()>().await;
    } else {
        tokio::time::sleep(period).await;
    }
}

/// An interval whose first tick comes one `period` from now; none when it is zero.
fn ticker(period: Duration) -> Option<Interval> {
    (!period.is_zero()).then(|| {
        let mut interval = tokio::time::interval_at(Instant::now() + period, period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        interval
    })
}

/// The next tick of `interval`; never without one.
async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => future::pending::<()>().await,
    }
}

/// Reads `credential` as an `Authorization` header.
async fn authenticate_with(state: &AppState, credential: &HeaderValue) -> Result<Auth, ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, credential.clone());
    authenticate(state, &headers).await
}

/// Whether the token a connection signed in with is no longer valid. When the database does
/// not answer, the connection stays open until a later check can tell.
async fn revoked(state: &AppState, credential: &HeaderValue) -> bool {
    match authenticate_with(state, credential).await {
        Ok(Auth::Principal(_)) => false,
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(
                error = %e.message(),
                "cannot check a websocket's token again; it stays open until the next check"
            );
            false
        }
    }
}

/// The `Authorization` entry of a `connection_init` payload (its name in any case): `None`
/// when there is none, `Some(None)` when it is not text.
fn bearer(payload: &serde_json::Value) -> Option<Option<&str>> {
    payload
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.as_str())
}

/// Who may open a connection: any valid token; nobody without one unless the server reads
/// publicly.
fn admit(auth: Auth, public_read: bool) -> async_graphql::Result<Data> {
    match auth {
        Auth::Invalid => {
            Err(ApiError::Unauthenticated("the bearer token is unknown or revoked".into()).into())
        }
        Auth::Anonymous if !public_read => Err(ApiError::Unauthenticated(
            "sign in: send {\"Authorization\": \"Bearer <token>\"} with connection_init".into(),
        )
        .into()),
        auth => {
            let mut data = Data::default();
            data.insert(auth);
            Ok(data)
        }
    }
}

/// The schema as the websocket serves it: subscriptions only, every error with its code.
#[derive(Clone)]
struct Subscriptions(LedgerSchema);

impl Executor for Subscriptions {
    async fn execute(&self, request: Request) -> Response {
        coded(self.0.execute(request).await)
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Some(kind) = other_operation(&request) {
            let error = async_graphql::Error::from(ApiError::bad_input(
                "query",
                format!("this connection carries subscriptions; send a {kind} with POST /graphql"),
            ));
            let response = Response::from_errors(vec![error.into_server_error(Pos::default())]);
            return stream::once(future::ready(response)).boxed();
        }
        Executor::execute_stream(&self.0, request, session_data)
            .map(coded)
            .boxed()
    }
}

/// The response with a code on each of its errors.
fn coded(mut response: Response) -> Response {
    for error in &mut response.errors {
        ensure_code(error);
    }
    response
}

/// The kind of operation the request runs when it is not a subscription. A request that does
/// not parse, or names no operation it holds, is left to the schema, which says what is wrong.
fn other_operation(request: &Request) -> Option<&'static str> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    let operation = match (&document.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()?
        }
        (DocumentOperations::Multiple(_), None) => return None,
    };
    match operation.node.ty {
        OperationType::Query => Some("query"),
        OperationType::Mutation => Some("mutation"),
        OperationType::Subscription => None,
    }
}
