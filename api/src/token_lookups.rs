//! Bearer tokens looked up together: requests that bring the same token while a lookup of it is
//! under way share the next lookup instead of each asking the database
//! ([`store::SharedReads`]).
//!
//! Nothing is cached. A request joins only a lookup that has not started yet, so the answer it
//! gets was read from `api_tokens` after the request arrived: a token revoked before a request
//! arrives is refused for it, whichever process revoked it, exactly as when every request looks
//! its token up alone. What is saved is the queue: under load, the many requests of one client
//! (a secretary's tool, a dashboard) wait for one round trip a round instead of one each.

use store::{Database, Principal, SharedReads};

use crate::ApiError;

/// What a lookup answers: the principal of a valid token, `None` for any other text.
type Looked = Result<Option<Principal>, ApiError>;

/// The lookups of each token under way, with the requests waiting for the next.
#[derive(Debug, Clone)]
pub struct TokenLookups {
    // A failed lookup (the database not answering) also answers those who arrived during it: a
    // refusal grants nothing, and during an outage no request waits for two lookups.
    reads: SharedReads<String, Looked>,
}

impl Default for TokenLookups {
    fn default() -> Self {
        Self {
            reads: SharedReads::new(Result::is_err),
        }
    }
}

impl TokenLookups {
    /// The principal of `secret` as `api_tokens` holds it after this call began.
    pub async fn authenticate(&self, db: &Database, secret: &str) -> Looked {
        let db = db.clone();
        self.reads
            .read(
                secret.to_owned(),
                move |secret| {
                    let db = db.clone();
                    async move { db.authenticate(&secret).await.map_err(ApiError::from) }
                },
                || Err(ApiError::Internal),
            )
            .await
    }
}
