//! What a blank entry form starts with (migration 0024): the values a
//! person, or their office for everyone in it, types the same on every
//! form (the signer's name and cargo, the place, the unit), by the form
//! field they fill. The entry form offers them first, with a notice to
//! check them; they are never issued unseen.

use super::{AccountError, Accounts};

/// The `user_id` under which an office's own defaults are kept.
pub const OFFICE_DEFAULTS: i64 = 0;

/// The longest value kept.
pub const DEFAULT_MAX: usize = 300;

impl Accounts {
    /// The defaults of `user_id` in `office` ([`OFFICE_DEFAULTS`] for the
    /// office's own), as (field, value).
    pub async fn entry_defaults(
        &self,
        office: &str,
        user_id: i64,
    ) -> Result<Vec<(String, String)>, AccountError> {
        Ok(sqlx::query_as(
            "SELECT field, value FROM entry_defaults WHERE office_code = $1 AND user_id = $2 ORDER BY field",
        )
        .bind(office)
        .bind(user_id)
        .fetch_all(self.store.pool())
        .await?)
    }

    /// Replaces the defaults of `user_id` in `office` with `values`; a
    /// blank value removes its field's default.
    pub async fn set_entry_defaults(
        &self,
        office: &str,
        user_id: i64,
        values: &[(String, String)],
    ) -> Result<(), AccountError> {
        let mut tx = self.store.begin_write().await?;
        sqlx::query("DELETE FROM entry_defaults WHERE office_code = $1 AND user_id = $2")
            .bind(office)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for (field, value) in values {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if value.chars().count() > DEFAULT_MAX {
                return Err(AccountError::Invalid(format!(
                    "{field}: escriba a lo más {DEFAULT_MAX} caracteres"
                )));
            }
            sqlx::query(
                "INSERT INTO entry_defaults (office_code, user_id, field, value) VALUES ($1, $2, $3, $4)",
            )
            .bind(office)
            .bind(user_id)
            .bind(field)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
