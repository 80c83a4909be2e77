//! GraphQL subscriptions over a websocket on `GET /graphql`, with the graphql-transport-ws
//! protocol: the client opens the socket with that subprotocol, signs in with
//! `{"Authorization": "Bearer <token>"}` as the `connection_init` payload (or with the upgrade
//! request's `Authorization` header), then subscribes. Queries and mutations go by `POST`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_graphql::futures_util::stream::{self, BoxStream};
use async_graphql::futures_util::{future, SinkExt, StreamExt};
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Data, Executor, Pos, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket as Socket, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use tracing::Instrument;

use crate::auth::RequestId;
use crate::error::ensure_code;
use crate::http::{authenticate, Shared};
use crate::schema::LedgerSchema;
use crate::{ApiError, Auth};

/// The one websocket subprotocol served: graphql-transport-ws (the `graphql-ws` library's).
const PROTOCOL: &str = "graphql-transport-ws";

/// The protocol's close code for a connection the server refuses at `connection_init`.
const FORBIDDEN: u16 = 4403;

/// Answers a websocket upgrade of `GET /graphql`: refuses a missing subprotocol (400) or an
/// unknown or revoked bearer token in the upgrade request (401) before upgrading.
pub(crate) async fn upgrade(
    shared: Shared,
    upgrade: WebSocketUpgrade,
    headers: &HeaderMap,
    request_id: String,
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
    let from_header = match authenticate(&shared.state, headers).await {
        Ok(Auth::Invalid) => {
            return refusal(
                StatusCode::UNAUTHORIZED,
                ApiError::Unauthenticated("the bearer token is unknown or revoked".into()),
            )
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
    let span = tracing::info_span!("graphql_ws", request_id = %request_id);
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(shared.state.limits.max_body_bytes)
        .on_upgrade(move |socket| {
            serve_socket(socket, shared, from_header, request_id).instrument(span)
        })
}

/// A refusal before the upgrade, as a GraphQL response with the error's code.
fn refusal(status: StatusCode, error: ApiError) -> HttpResponse {
    let error = async_graphql::Error::from(error);
    let body = serde_json::json!({
        "errors": [{ "message": error.message, "extensions": error.extensions }],
    });
    (status, Json(body)).into_response()
}

/// Runs the protocol on an upgraded socket until either side closes it.
async fn serve_socket(socket: Socket, shared: Shared, from_header: Auth, request_id: String) {
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
    let on_init = {
        let refused = refused.clone();
        let state = shared.state.clone();
        move |payload: serde_json::Value| async move {
            let auth = match bearer(&payload) {
                Some(Some(value)) => match HeaderValue::from_str(value) {
                    Ok(value) => {
                        let mut headers = HeaderMap::new();
                        headers.insert(header::AUTHORIZATION, value);
                        authenticate(&state, &headers).await?
                    }
                    Err(_) => Auth::Invalid,
                },
                Some(None) => Auth::Invalid,
                None => from_header,
            };
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
            Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }))
        }
    });
    let mut messages = std::pin::pin!(messages);
    while let Some(message) = messages.next().await {
        if sink.send(message).await.is_err() {
            break;
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
