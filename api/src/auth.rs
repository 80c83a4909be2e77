//! Who is asking: resolved once per request from the `Authorization: Bearer` header.

use async_graphql::Context;
use domain::access::{Reporter, Role};
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

/// Reading what an alliance does not publish (its members, funds in detail, commitments,
/// interventions, resident input): any valid token, even when the server reads publicly.
pub(crate) fn require_signed_in(ctx: &Context<'_>) -> Result<(), ApiError> {
    auth(ctx).principal().map(|_| ())
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
    Ok(command_context(ctx, principal, idempotency_key))
}

/// Reporting progress on a commitment or an intervention: the secretary and admin roles for
/// any, a partner for its own organisation's (which the aggregate checks against the record).
pub(crate) fn require_progress_reporter(
    ctx: &Context<'_>,
    idempotency_key: Option<String>,
) -> Result<(CommandContext, Reporter), ApiError> {
    let principal = auth(ctx).principal()?;
    let reporter = if principal.role.may_record() {
        Reporter::Office
    } else if principal.role == Role::Partner {
        let organisation = principal.organisation.clone().ok_or_else(|| {
            ApiError::Forbidden(
                "this partner token names no organisation, so it reports on nothing; create \
                 one with --organisation"
                    .into(),
            )
        })?;
        Reporter::Partner { organisation }
    } else {
        return Err(ApiError::Forbidden(format!(
            "reporting progress needs the secretary, admin or partner role; this token has the \
             {} role",
            principal.role
        )));
    };
    Ok((command_context(ctx, principal, idempotency_key), reporter))
}

/// The metadata of a command sent by this principal in this request.
fn command_context(
    ctx: &Context<'_>,
    principal: &Principal,
    idempotency_key: Option<String>,
) -> CommandContext {
    let request_id = ctx
        .data_opt::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let request_hash = idempotency_key.as_ref().map(|_| request_fingerprint(ctx));
    CommandContext {
        actor: principal.actor.clone(),
        role: principal.role,
        organisation: principal.organisation.clone(),
        request_id,
        idempotency_key,
        request_hash,
    }
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

/// A SHA-256 over the mutation's name and its arguments as the client sent them (variables
/// resolved), without the idempotency key: what a retry under the same key must repeat. Ids the
/// ledger makes are not part of it, so a retry that left them out still matches.
fn request_fingerprint(ctx: &Context<'_>) -> String {
    use sha2::{Digest, Sha256};
    let field = ctx.field();
    let mut arguments = serde_json::Map::new();
    if let Ok(args) = field.arguments() {
        for (name, value) in args {
            let mut json = value.into_json().unwrap_or(serde_json::Value::Null);
            if let Some(object) = json.as_object_mut() {
                object.remove("idempotencyKey");
            }
            arguments.insert(name.to_string(), json);
        }
    }
    let request = serde_json::json!({ "field": field.name(), "arguments": arguments });
    hex::encode(Sha256::digest(sorted(request).to_string().as_bytes()))
}

/// The value with every object's keys in sorted order, so equal input gives equal text.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}
