use chrono::{DateTime, Utc};
pub use domain::access::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use crate::sqlite_time::{parse_time, time_text};
use crate::{Database, StoreError};

/// Every token starts with this, so that leaked tokens are easy to recognise and scan for.
const TOKEN_PREFIX: &str = "alt_";

/// Who a valid bearer token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: Uuid,
    pub actor: String,
    pub role: Role,
    pub organisation: Option<String>,
}

/// A token as listed: never the secret, which is not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: Uuid,
    pub actor: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just created: the only time its secret exists outside the client.
pub struct NewToken {
    pub info: TokenInfo,
    pub secret: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("info", &self.info)
            .field("secret", &"***")
            .finish()
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Database {
    /// Creates a token for `actor` with `role`; the secret is returned once and only its
    /// SHA-256 hash is stored.
    pub async fn create_token(
        &self,
        actor: &str,
        role: Role,
        organisation: Option<&str>,
    ) -> Result<NewToken, StoreError> {
        let actor = actor.trim();
        if actor.is_empty() {
            return Err(StoreError::EmptyActor);
        }
        let organisation = organisation.map(str::trim).filter(|o| !o.is_empty());
        if role == Role::Partner && organisation.is_none() {
            return Err(StoreError::PartnerWithoutOrganisation);
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        let info = TokenInfo {
            id: Uuid::new_v4(),
            actor: actor.to_owned(),
            role,
            organisation: organisation.map(str::to_owned),
            created_at: Utc::now(),
            revoked_at: None,
        };
        let sql = "INSERT INTO api_tokens (id, actor, role, organisation, token_hash, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        match self {
            Database::Postgres(pool) => {
                sqlx::query(sql)
                    .bind(info.id)
                    .bind(&info.actor)
                    .bind(role.as_str())
                    .bind(organisation)
                    .bind(hash(&secret))
                    .bind(info.created_at)
                    .execute(pool)
                    .await?;
            }
            Database::Sqlite(pool) => {
                sqlx::query(sql)
                    .bind(info.id.to_string())
                    .bind(&info.actor)
                    .bind(role.as_str())
                    .bind(organisation)
                    .bind(hash(&secret))
                    .bind(time_text(info.created_at))
                    .execute(pool)
                    .await?;
            }
        }
        Ok(NewToken { info, secret })
    }

    /// The principal of a valid, unrevoked token; `None` for any other text.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let sql = "SELECT id, actor, role, organisation FROM api_tokens \
                   WHERE token_hash = $1 AND revoked_at IS NULL";
        let digest = hash(secret);
        let row = match self {
            Database::Postgres(pool) => {
                let row = sqlx::query(sql).bind(&digest).fetch_optional(pool).await?;
                row.map(|r| -> Result<_, sqlx::Error> {
                    Ok((
                        r.try_get::<Uuid, _>("id")?,
                        r.try_get::<String, _>("actor")?,
                        r.try_get::<String, _>("role")?,
                        r.try_get::<Option<String>, _>("organisation")?,
                    ))
                })
                .transpose()?
            }
            Database::Sqlite(pool) => {
                let row = sqlx::query(sql).bind(&digest).fetch_optional(pool).await?;
                row.map(|r| -> Result<_, sqlx::Error> {
                    let id: String = r.try_get("id")?;
                    Ok((
                        Uuid::parse_str(&id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                        r.try_get::<String, _>("actor")?,
                        r.try_get::<String, _>("role")?,
                        r.try_get::<Option<String>, _>("organisation")?,
                    ))
                })
                .transpose()?
            }
        };
        let Some((token_id, actor, role, organisation)) = row else {
            return Ok(None);
        };
        let role = role
            .parse()
            .map_err(|_| StoreError::UnknownRole(role.clone()))?;
        Ok(Some(Principal {
            token_id,
            actor,
            role,
            organisation,
        }))
    }

    /// Every token ever created, oldest first, revoked ones included.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let sql = "SELECT id, actor, role, organisation, created_at, revoked_at FROM api_tokens \
                   ORDER BY created_at, id";
        let mut out = Vec::new();
        match self {
            Database::Postgres(pool) => {
                for r in sqlx::query(sql).fetch_all(pool).await? {
                    let role: String = r.try_get("role")?;
                    out.push(TokenInfo {
                        id: r.try_get("id")?,
                        actor: r.try_get("actor")?,
                        role: role.parse().map_err(|_| StoreError::UnknownRole(role))?,
                        organisation: r.try_get("organisation")?,
                        created_at: r.try_get("created_at")?,
                        revoked_at: r.try_get("revoked_at")?,
                    });
                }
            }
            Database::Sqlite(pool) => {
                for r in sqlx::query(sql).fetch_all(pool).await? {
                    let role: String = r.try_get("role")?;
                    let id: String = r.try_get("id")?;
                    let created: String = r.try_get("created_at")?;
                    let revoked: Option<String> = r.try_get("revoked_at")?;
                    out.push(TokenInfo {
                        id: Uuid::parse_str(&id)
                            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?,
                        actor: r.try_get("actor")?,
                        role: role.parse().map_err(|_| StoreError::UnknownRole(role))?,
                        organisation: r.try_get("organisation")?,
                        created_at: parse_time(&created)?,
                        revoked_at: revoked.as_deref().map(parse_time).transpose()?,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Revokes a token at once; requests bearing it are refused from now on.
    /// Revoking a revoked token keeps its first revocation time.
    pub async fn revoke_token(&self, id: Uuid) -> Result<(), StoreError> {
        let sql = "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1";
        let now = Utc::now();
        let affected = match self {
            Database::Postgres(pool) => sqlx::query(sql)
                .bind(id)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected(),
            Database::Sqlite(pool) => sqlx::query(sql)
                .bind(id.to_string())
                .bind(time_text(now))
                .execute(pool)
                .await?
                .rows_affected(),
        };
        if affected == 0 {
            return Err(StoreError::TokenNotFound(id));
        }
        Ok(())
    }
}
