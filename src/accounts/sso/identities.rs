//! The Sello accounts of single sign-on: the account linked to a
//! provider's identity by issuer and subject (`sso_identities`), the one
//! made at a person's first login, an account's link made or removed, and
//! the ID token kept with a session for the provider's logout.

use super::{SsoRule, Verified};
use crate::accounts::users::{self, UserRow, insert_user_sql};
use crate::accounts::{AccountError, Accounts, Role, now_text, token_digest};
use crate::public_id::PublicId;

/// What a Sello account made at a first login has as its password hash:
/// not a hash, so no password opens it (an administrator may give it one).
const NO_PASSWORD: &str = "!sso";

/// An account's identity at a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// RFC 3339.
    pub linked_at: String,
}

/// Whether an identity row could not be added: the identity or the
/// account has one already (another linking won a race).
pub(super) enum Insert {
    Added,
    Taken,
}

impl Identity {
    fn at(issuer: &str, subject: String, linked_at: String) -> Self {
        Self {
            issuer: issuer.to_owned(),
            subject,
            linked_at,
        }
    }
}

impl Accounts {
    /// The identity `user_id`'s account is linked to at `issuer`, if any.
    pub async fn sso_identity(&self, user_id: i64, issuer: &str) -> Result<Option<Identity>, AccountError> {
        let row: Option<(String, String)> = {
            let pool = self.store.pool();
            sqlx::query_as("SELECT subject, linked_at FROM sso_identities WHERE user_id = $1 AND issuer = $2")
                .bind(user_id)
                .bind(issuer)
                .fetch_optional(pool)
                .await?
        };
        Ok(row.map(|(subject, linked_at)| Identity::at(issuer, subject, linked_at)))
    }

    /// Links `user_id`'s account to an identity at `issuer`.
    pub(super) async fn insert_identity(
        &self,
        user_id: i64,
        issuer: &str,
        subject: &str,
    ) -> Result<Insert, AccountError> {
        let inserted = {
            let pool = self.store.pool();
            sqlx::query(
                "INSERT INTO sso_identities (issuer, subject, user_id, linked_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(issuer)
            .bind(subject)
            .bind(user_id)
            .bind(now_text())
            .execute(pool)
            .await
        };
        match inserted {
            Ok(_) => Ok(Insert::Added),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Insert::Taken),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the link of `user_id`'s account at `issuer`: the identity
    /// it had, if it had one.
    pub async fn unlink_sso_identity(
        &self,
        user_id: i64,
        issuer: &str,
    ) -> Result<Option<Identity>, AccountError> {
        let row: Option<(String, String)> = {
            let pool = self.store.pool();
            sqlx::query_as(
                "DELETE FROM sso_identities WHERE user_id = $1 AND issuer = $2 RETURNING subject, linked_at",
            )
            .bind(user_id)
            .bind(issuer)
            .fetch_optional(pool)
            .await?
        };
        Ok(row.map(|(subject, linked_at)| Identity::at(issuer, subject, linked_at)))
    }

    /// Whether a password can open `user_id`'s account: not one made at a
    /// first login through the provider and never given a password.
    pub async fn has_password(&self, user_id: i64) -> Result<bool, AccountError> {
        let hash: Option<String> = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        };
        Ok(hash.is_some_and(|hash| hash != NO_PASSWORD))
    }

    /// The account linked to a provider's identity: id, office, role, active.
    pub(super) async fn linked_user(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<(i64, String, Role, bool)>, AccountError> {
        let row: Option<(i64, String, String, crate::db::Flag)> = {
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT u.id, u.office_code, u.role, u.active FROM sso_identities i \
                 JOIN users u ON u.id = i.user_id WHERE i.issuer = $1 AND i.subject = $2",
            )
            .bind(issuer)
            .bind(subject)
            .fetch_optional(pool)
            .await?
        };
        Ok(row.map(|(id, office, role, crate::db::Flag(active))| {
            (id, office, Role::parse(&role).unwrap_or(Role::Capturista), active)
        }))
    }

    pub(super) async fn set_role(&self, user_id: i64, role: Role) -> Result<(), AccountError> {
        {
            let pool = self.store.pool();
            sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
                .bind(user_id)
                .bind(role.as_str())
                .execute(pool)
                .await?;
        };
        Ok(())
    }

    /// Makes the account of a person's first login, in the rule's office
    /// with its role, and links it to their identity, in one transaction.
    /// Its username comes from `preferred_username` or the e-mail's local
    /// part, made unique; it has no password.
    pub(super) async fn create_linked_user(
        &self,
        verified: &Verified,
        rule: &SsoRule,
    ) -> Result<i64, AccountError> {
        let base = username_base(verified);
        let display_name = verified
            .claims
            .text("name")
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| name.chars().take(120).collect::<String>())
            .unwrap_or_else(|| base.clone());
        let taken: Vec<String> = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT username FROM users WHERE username LIKE $1")
                .bind(format!("{base}%"))
                .fetch_all(pool)
                .await?
        };
        let username = (1..)
            .map(|n: u32| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|candidate| !taken.contains(candidate))
            .unwrap_or_else(|| base.clone());
        let mut tx = self.store.begin_write().await?;
        let sql = insert_user_sql();
        let row: UserRow = sqlx::query_as(&sql)
            .bind(&rule.office_code)
            .bind(&username)
            .bind(&display_name)
            .bind("")
            .bind(rule.role.as_str())
            .bind(NO_PASSWORD)
            .bind(false)
            .bind(true)
            .bind(now_text())
            .bind(PublicId::generate()?)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| users::taken(e, &username))?;
        let user = row.into_user();
        sqlx::query(
            "INSERT INTO sso_identities (issuer, subject, user_id, linked_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&verified.issuer)
        .bind(&verified.subject)
        .bind(user.id)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(user.id)
    }

    /// Keeps the ID token a session was opened with, for the provider's logout.
    pub(super) async fn remember_id_token(&self, token: &str, id_token: &str) -> Result<(), AccountError> {
        {
            let pool = self.store.pool();
            sqlx::query("UPDATE sessions SET sso_id_token = $2 WHERE token_sha256 = $1")
                .bind(token_digest(token))
                .bind(id_token)
                .execute(pool)
                .await?;
        };
        Ok(())
    }

    /// The ID token a session was opened with, if it came through the provider.
    pub async fn session_id_token(&self, token: &str) -> Result<Option<String>, AccountError> {
        let found: Option<Option<String>> = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT sso_id_token FROM sessions WHERE token_sha256 = $1")
                .bind(token_digest(token))
                .fetch_optional(pool)
                .await?
        };
        Ok(found.flatten())
    }
}

/// A username from the person's claims: lower case, letters without
/// accents, digits, `.`, `-`, `_`, 3 to 36 characters (room for a suffix).
fn username_base(verified: &Verified) -> String {
    let claims = &verified.claims;
    let source = claims
        .text("preferred_username")
        .or_else(|| claims.text("email").and_then(|email| email.split('@').next()))
        .unwrap_or("");
    use unicode_normalization::UnicodeNormalization as _;
    let mut cleaned = String::new();
    // Accents dropped (é → e); anything else odd becomes one dot.
    for c in source
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
    {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c) {
            c
        } else {
            '.'
        };
        if !(c == '.' && cleaned.ends_with('.')) && cleaned.len() < 36 {
            cleaned.push(c);
        }
    }
    let cleaned = cleaned.trim_matches('.').to_owned();
    if cleaned.len() >= 3 {
        return cleaned;
    }
    let digest = token_digest(&format!("{}\n{}", verified.issuer, verified.subject));
    format!("sso-{}", &digest[..10])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::sso::Claims;
    use serde_json::json;

    fn verified(claims: serde_json::Value) -> Verified {
        Verified {
            issuer: "https://idp.example".into(),
            subject: "a1b2".into(),
            claims: Claims(claims.as_object().expect("object").clone()),
            id_token: String::new(),
            next: "/".into(),
            link_user: None,
        }
    }

    #[test]
    fn a_username_comes_from_the_claims_and_never_holds_odd_characters() {
        assert_eq!(
            username_base(&verified(json!({"preferred_username": "Ana.Ruiz"}))),
            "ana.ruiz"
        );
        assert_eq!(
            username_base(&verified(json!({"email": "josé.pérez@dif.example"}))),
            "jose.perez"
        );
        let opaque = username_base(&verified(json!({"preferred_username": "☃"})));
        assert!(opaque.starts_with("sso-") && opaque.len() == 14, "{opaque}");
    }
}
