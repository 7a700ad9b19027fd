//! What the registers Sello builds from the archive read of it: the
//! documents of some forms issued in a period, read one at a time so that
//! an archive of a hundred thousand documents is never held whole; and the
//! documents a register issued before, found by their idempotency keys.

use chrono::NaiveDate;
use futures::TryStreamExt;

use super::documents::{DocumentRecord, Status};
use super::{Archive, ArchiveError};

/// A document as a register reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedDocument {
    /// The database's key: what a register's version is keyed by.
    #[sqlx(rename = "id")]
    pub row_id: i64,
    pub folio: String,
    pub form: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    /// The form's data, as JSON.
    pub data: String,
    /// The office's day it was issued, `YYYY-MM-DD`.
    pub issued_on: String,
    /// The folio of the document that replaced it, if one did.
    pub replaced_by_folio: Option<String>,
    /// When it was annulled or replaced, by the archive's clock (UTC).
    pub annulled_at: Option<String>,
}

impl Archive {
    /// Calls `each` with every document of `forms` issued from `from` to
    /// `to` (the office's days, both included), in folio order; with
    /// `current_only`, annulled and replaced ones are left out. Documents
    /// still being issued are never listed.
    pub async fn for_each_issued(
        &self,
        forms: &[&str],
        (from, to): (NaiveDate, NaiveDate),
        current_only: bool,
        mut each: impl FnMut(ListedDocument) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        if forms.is_empty() {
            return Ok(());
        }
        // Only placeholders are written into the statement, one per form.
        let placeholders: Vec<String> = (0..forms.len()).map(|i| format!("${}", i + 4)).collect();
        let statuses = if current_only {
            "status = 'emitido'"
        } else {
            "status <> 'reservado'"
        };
        let sql = format!(
            "SELECT id, folio, form, status, data, issued_on, annulled_at, \
             (SELECT r.folio FROM documents r WHERE r.id = documents.replaced_by) AS replaced_by_folio \
             FROM documents WHERE office_code = $1 AND issued_on >= $2 AND issued_on <= $3 \
             AND form IN ({}) AND {statuses} ORDER BY year, series_code, number",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, ListedDocument>(&sql)
            .bind(&self.office.code)
            .bind(from.format("%Y-%m-%d").to_string())
            .bind(to.format("%Y-%m-%d").to_string());
        for form in forms {
            query = query.bind(*form);
        }
        let pool = self.store.pool();
        let mut rows = query.fetch(pool);
        while let Some(row) = rows.try_next().await? {
            each(row)?;
        }
        Ok(())
    }

    /// Every document issued under an idempotency key that starts with
    /// `prefix`, whatever its state now, in the order issued, with its key.
    pub async fn documents_keyed_under(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, DocumentRecord)>, ArchiveError> {
        if prefix.is_empty() || prefix.contains(['%', '_', '\\']) {
            return Err(ArchiveError::Refused(format!(
                "«{prefix}» no es un prefijo de clave de registro"
            )));
        }
        let keyed: Vec<(i64, String)> = {
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT id, idempotency_key FROM documents WHERE office_code = $1 \
                 AND idempotency_key LIKE $2 AND status <> 'reservado' ORDER BY id",
            )
            .bind(&self.office.code)
            .bind(format!("{prefix}%"))
            .fetch_all(pool)
            .await?
        };
        let mut found = Vec::with_capacity(keyed.len());
        for (row_id, key) in keyed {
            found.push((key, self.document_by_row(row_id).await?));
        }
        Ok(found)
    }

    /// When the document's folio was taken, by the archive's clock (UTC,
    /// as `annulled_at`): what was annulled after it, it saw in force.
    pub async fn reserved_at(&self, row_id: i64) -> Result<String, ArchiveError> {
        let pool = self.store.pool();
        let (at,): (String,) =
            sqlx::query_as("SELECT reserved_at FROM documents WHERE office_code = $1 AND id = $2")
                .bind(&self.office.code)
                .bind(row_id)
                .fetch_one(pool)
                .await?;
        Ok(at)
    }
}
