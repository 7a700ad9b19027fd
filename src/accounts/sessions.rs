//! Logging in and out. A session is a random token in an HttpOnly cookie;
//! the database keeps its SHA-256 and the CSRF token its forms must carry.

use std::sync::LazyLock;

use chrono::{Duration, SecondsFormat, Utc};

use super::users::{UserRow, verify_blocking};
use super::{AccountError, Accounts, User, now_text, random_token, token_digest};

/// How long a session lasts: a working day.
pub const SESSION_HOURS: i64 = 12;
/// Failed logins in a row that lock an account…
const FAILURES_BEFORE_LOCK: i64 = 5;
/// …for this long.
const LOCK_MINUTES: i64 = 15;

/// A logged-in user, with the CSRF token of their session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    /// Whether the user's office lets the roles that prepare documents
    /// upload lotes (`Accounts::preparers_bulk`), read with the session
    /// for the menu.
    pub office_preparers_bulk: bool,
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// The cookie's token, to hand to the browser once.
    Opened { token: String, session: Box<Session> },
    /// Wrong user or password: the answer does not say which.
    Refused,
    /// Too many failures in a row; try again later.
    Locked,
}

/// A hash checked for unknown users, so that an answer takes as long
/// whether the user exists or not.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| super::hash_password("sello: usuario inexistente").unwrap_or_default());

impl Accounts {
    /// Checks a user's password and opens a session. Each attempt is
    /// counted before the password is checked, so guesses sent in parallel
    /// cannot outrun the lock.
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginOutcome, AccountError> {
        let username = username.trim().to_lowercase();
        let now = now_text();
        let claimed: Option<(i64, String, crate::db::Flag, i64)> = {
            let pool = self.store.pool();
            sqlx::query_as(
                "UPDATE users SET failed_logins = failed_logins + 1 \
                 WHERE username = $1 AND (locked_until IS NULL OR locked_until <= $2) \
                 RETURNING id, password_hash, active, CAST(failed_logins AS BIGINT)",
            )
            .bind(&username)
            .bind(&now)
            .fetch_optional(pool)
            .await?
        };
        let Some((id, hash, crate::db::Flag(active), attempts)) = claimed else {
            let exists: Option<i64> = {
                let pool = self.store.pool();
                sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                    .bind(&username)
                    .fetch_optional(pool)
                    .await?
            };
            // As long as a real check: the time taken does not tell a
            // locked account from an unknown one.
            verify_blocking(password.to_owned(), DUMMY_HASH.clone()).await;
            if exists.is_some() {
                return Ok(LoginOutcome::Locked);
            }
            return Ok(LoginOutcome::Refused);
        };
        if attempts > FAILURES_BEFORE_LOCK {
            verify_blocking(password.to_owned(), DUMMY_HASH.clone()).await;
            self.lock(id).await?;
            return Ok(LoginOutcome::Locked);
        }
        let matches = verify_blocking(password.to_owned(), hash).await;
        if !matches || !active {
            if attempts >= FAILURES_BEFORE_LOCK {
                self.lock(id).await?;
            }
            return Ok(LoginOutcome::Refused);
        }
        {
            let pool = self.store.pool();
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        };
        let (token, session) = self.open_session(id).await?;
        Ok(LoginOutcome::Opened {
            token,
            session: Box::new(session),
        })
    }

    async fn lock(&self, id: i64) -> Result<(), AccountError> {
        let until = (Utc::now() + Duration::minutes(LOCK_MINUTES)).to_rfc3339_opts(SecondsFormat::Secs, true);
        {
            let pool = self.store.pool();
            sqlx::query("UPDATE users SET locked_until = $2, failed_logins = 0 WHERE id = $1")
                .bind(id)
                .bind(&until)
                .execute(pool)
                .await?;
        };
        Ok(())
    }

    /// A new session of a user: the cookie's token, returned only now.
    pub async fn open_session(&self, user_id: i64) -> Result<(String, Session), AccountError> {
        let token = random_token()?;
        let csrf_token = random_token()?;
        let expires =
            (Utc::now() + Duration::hours(SESSION_HOURS)).to_rfc3339_opts(SecondsFormat::Secs, true);
        {
            let pool = self.store.pool();
            sqlx::query(
                "INSERT INTO sessions (token_sha256, user_id, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_digest(&token))
            .bind(user_id)
            .bind(&csrf_token)
            .bind(now_text())
            .bind(&expires)
            .execute(pool)
            .await?;
        };
        let session = self.session(&token).await?.ok_or(AccountError::UserNotFound)?;
        Ok((token, session))
    }

    /// The open session a cookie's token belongs to, if any: not expired,
    /// and its user still active.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, AccountError> {
        let sql = format!(
            "SELECT s.csrf_token, o.preparers_bulk, {} FROM sessions s JOIN users u ON u.id = s.user_id \
             JOIN offices o ON o.code = u.office_code WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND u.active = $3",
            super::users::user_columns_of("u")
        );
        let found: Option<SessionRow> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(token_digest(token))
                .bind(now_text())
                .bind(true)
                .fetch_optional(pool)
                .await?
        };
        Ok(found.map(|row| Session {
            user: row.user.into_user(),
            csrf_token: row.csrf_token,
            office_preparers_bulk: row.preparers_bulk,
        }))
    }

    /// Ends the session of a token (logout).
    pub async fn logout(&self, token: &str) -> Result<(), AccountError> {
        {
            let pool = self.store.pool();
            sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
                .bind(token_digest(token))
                .execute(pool)
                .await?;
        };
        Ok(())
    }

    /// Ends every session of a user (deactivated, password reset).
    pub async fn end_sessions(&self, user_id: i64) -> Result<(), AccountError> {
        {
            let pool = self.store.pool();
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 OR expires_at < $2")
                .bind(user_id)
                .bind(now_text())
                .execute(pool)
                .await?;
        };
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    csrf_token: String,
    #[sqlx(try_from = "crate::db::Flag")]
    preparers_bulk: bool,
    #[sqlx(flatten)]
    user: UserRow,
}
