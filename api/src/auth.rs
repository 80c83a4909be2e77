//! Who is asking: resolved once per request from the `Authorization: Bearer` header.

use async_graphql::Context;
use store::{CommandContext, Principal};

use crate::ApiError;

/// The outcome of reading a request's bearer token.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No token was sent.
    Anonymous,
    /// A token was sent but it is unknown, malformed or revoked.
    Invalid,
    /// A valid token.
    Principal(Principal),
}

/// The id of the request, from a sane `x-request-id` header or freshly made.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl Auth {
    fn principal(&self) -> Result<&Principal, ApiError> {
        match self {
            Auth::Principal(p) => Ok(p),
            Auth::Anonymous => Err(ApiError::Unauthenticated(
                "sign in: send the header Authorization: Bearer <token>".into(),
            )),
            Auth::Invalid => Err(ApiError::Unauthenticated(
                "the bearer token is unknown or revoked".into(),
            )),
        }
    }
}

fn auth<'a>(ctx: &'a Context<'_>) -> &'a Auth {
    ctx.data_opt::<Auth>().unwrap_or(&Auth::Anonymous)
}

/// Reading what an alliance publishes (programme, decisions): any valid token, or nobody at all
/// when the server runs with public reading.
pub(crate) fn require_reader(ctx: &Context<'_>) -> Result<(), ApiError> {
    let public = ctx
        .data_opt::<crate::AppState>()
        .is_some_and(|s| s.public_read);
    match auth(ctx) {
        Auth::Anonymous if public => Ok(()),
        other => other.principal().map(|_| ()),
    }
}

/// Recording needs the secretary or admin role.
pub(crate) fn require_recorder(
    ctx: &Context<'_>,
    idempotency_key: Option<String>,
) -> Result<CommandContext, ApiError> {
    let principal = auth(ctx).principal()?;
    if !principal.role.may_record() {
        return Err(ApiError::Forbidden(format!(
            "recording needs the secretary or admin role; this token has the {} role",
            principal.role
        )));
    }
    let request_id = ctx
        .data_opt::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    Ok(CommandContext {
        actor: principal.actor.clone(),
        role: principal.role,
        organisation: principal.organisation.clone(),
        request_id,
        idempotency_key,
    })
}

/// The raw event log, with actor identities, is for auditors and admins.
pub(crate) fn require_log_reader<'a>(ctx: &'a Context<'_>) -> Result<&'a Principal, ApiError> {
    let principal = auth(ctx).principal()?;
    if !principal.role.may_read_log() {
        return Err(ApiError::Forbidden(format!(
            "the event log is for the auditor and admin roles; this token has the {} role",
            principal.role
        )));
    }
    Ok(principal)
}

/// Whether the reader may see who recorded what (actor names): auditors and admins.
pub(crate) fn may_read_actors(ctx: &Context<'_>) -> bool {
    matches!(auth(ctx), Auth::Principal(p) if p.role.may_read_log())
}
