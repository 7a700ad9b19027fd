//! API tokens for integrations: `Authorization: Bearer sello_…`. Each acts
//! as the user who created it, with that user's role and office.

use serde::Serialize;

use super::users::UserRow;
use super::{AccountError, Accounts, User, now_text, random_token, token_digest};
use crate::public_id::PublicId;

/// What every token starts with, so a leaked one is recognisable.
const PREFIX: &str = "sello_";

/// A token as listed: never its secret.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    #[sqlx(rename = "public_id")]
    pub id: PublicId,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TokenUserRow {
    last_used_at: Option<String>,
    #[sqlx(flatten)]
    user: UserRow,
}

impl Accounts {
    /// Creates a token for `user`; its secret is returned only now.
    pub async fn create_token(&self, user: &User, name: &str) -> Result<(ApiToken, String), AccountError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AccountError::Invalid(
                "nombre: describa para qué es el token (hasta 80 caracteres)".into(),
            ));
        }
        let secret = format!("{PREFIX}{}", random_token()?);
        let public_id = PublicId::generate()?;
        let token: ApiToken = {
            let pool = self.store.pool();
            sqlx::query_as(
                "INSERT INTO api_tokens (user_id, name, token_sha256, created_at, public_id) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING public_id, name, created_at, last_used_at, revoked_at",
            )
            .bind(user.id)
            .bind(name)
            .bind(token_digest(&secret))
            .bind(now_text())
            .bind(public_id)
            .fetch_one(pool)
            .await?
        };
        Ok((token, secret))
    }

    /// The active user a token's secret belongs to, if it is valid.
    pub async fn user_by_token(&self, secret: &str) -> Result<Option<User>, AccountError> {
        if !secret.starts_with(PREFIX) {
            return Ok(None);
        }
        let columns = super::users::user_columns_of("u");
        let sql = format!(
            "SELECT t.last_used_at, {columns} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL AND u.active = $2"
        );
        let digest = token_digest(secret);
        // «Last used» to the minute: a write on every API call would cost
        // SQLite a synced commit per request.
        let stale = (chrono::Utc::now() - chrono::Duration::minutes(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let row: Option<TokenUserRow> = {
            let pool = self.store.pool();
            let row: Option<TokenUserRow> = sqlx::query_as(&sql)
                .bind(&digest)
                .bind(true)
                .fetch_optional(pool)
                .await?;
            if row
                .as_ref()
                .is_some_and(|r| r.last_used_at.as_deref().is_none_or(|at| at < stale.as_str()))
            {
                sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE token_sha256 = $1")
                    .bind(&digest)
                    .bind(now_text())
                    .execute(pool)
                    .await?;
            }
            row
        };
        Ok(row.map(|r| r.user.into_user()))
    }

    /// A user's tokens, newest first.
    pub async fn tokens(&self, user_id: i64) -> Result<Vec<ApiToken>, AccountError> {
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT public_id, name, created_at, last_used_at, revoked_at FROM api_tokens \
                 WHERE user_id = $1 ORDER BY id DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        })
    }

    /// Revokes every token of a user.
    pub async fn revoke_all_tokens(&self, user_id: i64) -> Result<(), AccountError> {
        {
            let pool = self.store.pool();
            sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user_id)
                .bind(now_text())
                .execute(pool)
                .await?;
        };
        Ok(())
    }

    /// Revokes one of a user's tokens; it stops working at once.
    pub async fn revoke_token(&self, user_id: i64, token_id: PublicId) -> Result<(), AccountError> {
        let changed = {
            let pool = self.store.pool();
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $3 WHERE public_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            )
                .bind(token_id).bind(user_id).bind(now_text()).execute(pool).await?.rows_affected()
        };
        if changed == 0 {
            return Err(AccountError::Invalid(
                "token: no existe o ya estaba revocado".into(),
            ));
        }
        Ok(())
    }
}
