//! The record of the mail notices of follow-ups due (migration 0017): each
//! obligation (the document that owes it, the form that closes it) is
//! mailed once per due day, however many rounds the service runs, and by
//! one instance when several share the database.

use chrono::{DateTime, Utc};

use super::{Archive, ArchiveError};
use crate::public_id::PublicId;

/// A claim not marked sent after this long was left by a failed send or a
/// process that died: it may be taken again.
const CLAIM_EXPIRES_MINUTES: i64 = 30;

/// One obligation's notice: what owes it, what closes it, and when it falls due.
#[derive(Debug, Clone, Copy)]
pub struct NoticeKey<'a> {
    pub folio: &'a str,
    pub closing_form: &'a str,
    /// `YYYY-MM-DD`.
    pub due_on: &'a str,
}

/// What a notice of a document's follow-up links and whom it tells.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwingDocument {
    #[sqlx(rename = "public_id")]
    pub id: PublicId,
    /// The account that drafted it, when it was drafted in Sello.
    pub drafted_by: Option<i64>,
}

fn moment(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Archive {
    /// Takes the notice of `key` for this caller to send: `false` when it
    /// was sent already, or another round is sending it now.
    pub async fn claim_follow_up_notice(
        &self,
        key: NoticeKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, ArchiveError> {
        let pool = self.store.pool();
        let inserted = sqlx::query(
            "INSERT INTO follow_up_notices (office_code, folio, closing_form, due_on, claimed_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (office_code, folio, closing_form, due_on) DO NOTHING",
        )
        .bind(&self.office.code)
        .bind(key.folio)
        .bind(key.closing_form)
        .bind(key.due_on)
        .bind(moment(now))
        .execute(pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(true);
        }
        let expired = now - chrono::Duration::minutes(CLAIM_EXPIRES_MINUTES);
        let retaken = sqlx::query(
            "UPDATE follow_up_notices SET claimed_at = $5 WHERE office_code = $1 AND folio = $2 \
             AND closing_form = $3 AND due_on = $4 AND sent_at IS NULL \
             AND (claimed_at IS NULL OR claimed_at < $6)",
        )
        .bind(&self.office.code)
        .bind(key.folio)
        .bind(key.closing_form)
        .bind(key.due_on)
        .bind(moment(now))
        .bind(moment(expired))
        .execute(pool)
        .await?;
        Ok(retaken.rows_affected() == 1)
    }

    /// Records that the mail server took the notice of `key`, for
    /// `recipients` people.
    pub async fn follow_up_notice_sent(
        &self,
        key: NoticeKey<'_>,
        recipients: usize,
        now: DateTime<Utc>,
    ) -> Result<(), ArchiveError> {
        sqlx::query(
            "UPDATE follow_up_notices SET sent_at = $5, recipients = $6 WHERE office_code = $1 \
             AND folio = $2 AND closing_form = $3 AND due_on = $4",
        )
        .bind(&self.office.code)
        .bind(key.folio)
        .bind(key.closing_form)
        .bind(key.due_on)
        .bind(moment(now))
        .bind(i64::try_from(recipients).unwrap_or(i64::MAX))
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Gives up the claim of a notice that could not be sent, so the next
    /// round tries again.
    pub async fn release_follow_up_notice(&self, key: NoticeKey<'_>) -> Result<(), ArchiveError> {
        sqlx::query(
            "UPDATE follow_up_notices SET claimed_at = NULL WHERE office_code = $1 AND folio = $2 \
             AND closing_form = $3 AND due_on = $4 AND sent_at IS NULL",
        )
        .bind(&self.office.code)
        .bind(key.folio)
        .bind(key.closing_form)
        .bind(key.due_on)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// The office's document `folio` as a notice links it, if it exists.
    pub async fn owing_document(&self, folio: &str) -> Result<Option<OwingDocument>, ArchiveError> {
        Ok(sqlx::query_as::<_, OwingDocument>(
            "SELECT d.public_id, (SELECT MIN(r.created_by) FROM drafts r WHERE r.document_id = d.id) \
             AS drafted_by FROM documents d WHERE d.office_code = $1 AND d.folio = $2",
        )
        .bind(&self.office.code)
        .bind(folio)
        .fetch_optional(self.store.pool())
        .await?)
    }
}
