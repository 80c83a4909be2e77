//! Audit: the latest signed checkpoint, the public key that verifies it, and how to verify
//! the ledger with nothing but an export and that key (`docs/audit.md`).

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{answer, Ctx, Layout, PageError, ProgrammeName, Section};

#[derive(Deserialize)]
struct AuditData {
    programme: Option<ProgrammeName>,
    checkpoint: Option<Checkpoint>,
    ledger: Ledger,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checkpoint {
    origin: String,
    tree_size: i64,
    root_hash: String,
    signed_at: String,
    note: String,
}

#[derive(Deserialize)]
struct Ledger {
    position: i64,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    checkpoint: Option<(String, i64, String, String, String)>,
    public_key: Option<String>,
    position: i64,
    failure: Option<String>,
}

pub(crate) async fn page(ctx: Ctx, Path(programme): Path<String>) -> Response {
    let result = async {
        let t = ctx.t();
        let failure = ctx.state().audit.read().await.failure().map(str::to_owned);
        // A trail that did not check out refuses `checkpoint`; the page says why instead.
        let query = if failure.is_some() {
            "query($p: String!, $asOf: DateTime) { programme(id: $p, asOf: $asOf) { id name } ledger { position } }"
        } else {
            "query($p: String!, $asOf: DateTime) {
               programme(id: $p, asOf: $asOf) { id name }
               checkpoint { origin treeSize rootHash signedAt note }
               ledger { position }
             }"
        };
        let data: AuditData = ctx
            .read(query, json!({ "p": programme, "asOf": ctx.as_of() }))
            .await
            ?;
        let programme = data.programme.ok_or(PageError::NotFound)?;
        let checkpoint = data.checkpoint.map(|c| {
            let signed = c.signed_at.get(..10).map(|d| ctx.lang.date(d)).unwrap_or_default();
            (c.origin, c.tree_size, c.root_hash, format!("{signed} ({})", c.signed_at), c.note)
        });
        Ok(ctx.render(&AuditPage {
            layout: ctx.layout(t.audit, Some((&programme.id, &programme.name)), Section::Audit),
            checkpoint,
            public_key: ctx.state().public_key.clone(),
            position: data.ledger.position,
            failure,
        }))
    }
    .await;
    answer(&ctx, result)
}
