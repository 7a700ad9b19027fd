//! Evidence added to issued documents: a document time-stamp for one
//! issued while no TSA answered, and archival time-stamps before the
//! evidence expires, each with the validation data it needs, as an
//! incremental update of the PDF (see `evidence`, which makes them).
//!
//! The issued PDF stays in the store and in `documents.pdf_sha256` (what
//! the transparency log recorded); each extension is a row of
//! `document_extensions` naming the PDF it extends and the new one, whose
//! bytes begin with the old one's, checked before it is stored. What is
//! served is the newest. An extension appends no log entry: it changes
//! nothing that was issued, and the issued bytes are still the first
//! `pdf_size` bytes of every later PDF.
//!
//! Several instances may share one database: an instance claims a
//! document (`extension_claims`) before asking a TSA, and recording an
//! extension requires its claim and that the PDF it extends is still the
//! newest, so a document is stamped once.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use super::audit::{NewEvent, append_event};
use super::blob_writes::WITHDRAW;
use super::issue_protocol::INTERRUPTED_AFTER;
use super::steps::now;
use super::{Archive, ArchiveError};

/// What an extension adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionKind {
    /// The time-stamp a document issued without one awaited.
    Timestamp,
    /// An archival time-stamp, before the evidence expires.
    Archival,
}

impl ExtensionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Timestamp => "sello_de_tiempo",
            Self::Archival => "archivo",
        }
    }
}

/// A document's PDF extended, to be recorded.
#[derive(Debug)]
pub struct Extension {
    pub kind: ExtensionKind,
    /// The PDF it extends: the newest when the document was claimed.
    pub previous_sha256: String,
    pub pdf: Vec<u8>,
    /// The new time-stamp's time and TSA.
    pub stamped_at: DateTime<Utc>,
    pub tsa: String,
    /// When the new PDF's newest evidence expires.
    pub evidence_until: Option<DateTime<Utc>>,
}

/// A document whose PDF is to be extended.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExtensionCandidate {
    pub document_id: i64,
    pub folio: String,
    pub office_code: String,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Archive {
    /// Documents of any office issued awaiting their time-stamp, oldest
    /// first, at most `limit`.
    pub async fn awaiting_timestamp(&self, limit: i64) -> Result<Vec<ExtensionCandidate>, ArchiveError> {
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT id AS document_id, folio, office_code FROM documents \
                 WHERE awaiting_timestamp_since IS NOT NULL AND pdf_sha256 IS NOT NULL \
                 ORDER BY awaiting_timestamp_since, id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        })
    }

    /// Documents of any office, not awaiting a time-stamp, whose evidence
    /// expires before `before` or is not known yet, at most `limit`.
    pub async fn evidence_expiring(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ExtensionCandidate>, ArchiveError> {
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT id AS document_id, folio, office_code FROM documents \
                 WHERE awaiting_timestamp_since IS NULL AND pdf_sha256 IS NOT NULL \
                 AND status <> 'reservado' AND (evidence_until IS NULL OR evidence_until < $1) \
                 ORDER BY id LIMIT $2",
            )
            .bind(rfc3339(before))
            .bind(limit)
            .fetch_all(pool)
            .await?
        })
    }

    /// Claims `document_id` for `claimant` (an instance's random name);
    /// false if another instance holds a claim younger than an interrupted
    /// issuance.
    pub async fn claim_extension(&self, document_id: i64, claimant: &str) -> Result<bool, ArchiveError> {
        let stale = Utc::now() - chrono::Duration::from_std(INTERRUPTED_AFTER).unwrap_or_default();
        let mut tx = self.store.begin_write().await?;
        sqlx::query("DELETE FROM extension_claims WHERE document_id = $1 AND claimed_at < $2")
            .bind(document_id)
            .bind(stale.to_rfc3339_opts(SecondsFormat::Micros, true))
            .execute(&mut *tx)
            .await?;
        let claimed = sqlx::query(
            "INSERT INTO extension_claims (document_id, claimed_by, claimed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (document_id) DO NOTHING",
        )
        .bind(document_id)
        .bind(claimant)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(claimed == 1)
    }

    /// Gives up `claimant`'s claim on `document_id` without extending it.
    pub async fn release_extension(&self, document_id: i64, claimant: &str) -> Result<(), ArchiveError> {
        {
            let pool = self.store.pool();
            sqlx::query("DELETE FROM extension_claims WHERE document_id = $1 AND claimed_by = $2")
                .bind(document_id)
                .bind(claimant)
                .execute(pool)
                .await?;
        };
        Ok(())
    }

    /// Whether `document_id` still awaits its time-stamp.
    pub async fn awaits_timestamp(&self, document_id: i64) -> Result<bool, ArchiveError> {
        let since: Option<Option<String>> = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT awaiting_timestamp_since FROM documents WHERE id = $1")
                .bind(document_id)
                .fetch_optional(pool)
                .await?
        };
        Ok(since.flatten().is_some())
    }

    /// The SHA-256 of the newest PDF of `document_id`: its newest
    /// extension's, or the issued one's.
    pub async fn newest_pdf_sha256(&self, document_id: i64) -> Result<String, ArchiveError> {
        let found: Option<Option<String>> = {
            let pool = self.store.pool();
            sqlx::query_scalar(&format!("SELECT {NEWEST_PDF} FROM documents WHERE id = $1"))
                .bind(document_id)
                .fetch_optional(pool)
                .await?
        };
        found
            .flatten()
            .ok_or_else(|| ArchiveError::DocumentNotFound(document_id.to_string()))
    }

    /// Records when the evidence of `document_id`'s newest PDF expires.
    pub async fn set_evidence_until(
        &self,
        document_id: i64,
        until: DateTime<Utc>,
    ) -> Result<(), ArchiveError> {
        {
            let pool = self.store.pool();
            sqlx::query("UPDATE documents SET evidence_until = $2 WHERE id = $1")
                .bind(document_id)
                .bind(rfc3339(until))
                .execute(pool)
                .await?;
        };
        Ok(())
    }

    /// Stores `extension` of `document_id`, which `claimant` holds: checks
    /// that the PDF it extends is a byte prefix of the new one, stores the
    /// new PDF, then in one transaction records it (only if the PDF it
    /// extends is still the newest and the claim still `claimant`'s), ends
    /// the wait for a time-stamp, seals an audit event and drops the claim.
    /// Returns the new PDF's SHA-256.
    pub async fn record_extension(
        &self,
        document_id: i64,
        claimant: &str,
        extension: Extension,
    ) -> Result<String, ArchiveError> {
        let previous = self.blobs.get(&extension.previous_sha256).await?;
        if extension.pdf.len() <= previous.len() || !extension.pdf.starts_with(&previous) {
            return Err(ArchiveError::Refused(
                "la extensión no conserva byte a byte el PDF que extiende".into(),
            ));
        }
        let Extension {
            kind,
            previous_sha256,
            pdf,
            stamped_at,
            tsa,
            evidence_until,
        } = extension;
        let pdf_size = pdf.len() as i64;
        let staged = self.stage_blob(pdf).await?;
        let row = ExtensionRow {
            kind,
            previous_sha256: &previous_sha256,
            pdf_sha256: &staged.sha256,
            pdf_size,
            stamped_at: stamped_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            tsa: &tsa,
            evidence_until: evidence_until.map(rfc3339),
            write_id: staged.write_id,
        };
        let recorded = self.commit_extension(document_id, claimant, &row).await;
        match recorded {
            Ok(()) => Ok(staged.sha256),
            Err(error) => {
                self.abandon_staged(staged).await?;
                Err(error)
            }
        }
    }

    async fn commit_extension(
        &self,
        document_id: i64,
        claimant: &str,
        row: &ExtensionRow<'_>,
    ) -> Result<(), ArchiveError> {
        let lock = self.store.dialect().row_lock(true);
        let mut tx = self.store.begin_write().await?;
        let holder: Option<String> = sqlx::query_scalar(&format!(
            "SELECT claimed_by FROM extension_claims WHERE document_id = $1{lock}"
        ))
        .bind(document_id)
        .fetch_optional(&mut *tx)
        .await?;
        if holder.as_deref() != Some(claimant) {
            return Err(ArchiveError::Refused(
                "otra instancia tomó este documento para extenderlo".into(),
            ));
        }
        let (folio, office_code, expediente_id, newest): (String, String, i64, Option<String>) =
            sqlx::query_as(&format!(
                "SELECT folio, office_code, expediente_id, {NEWEST_PDF} FROM documents WHERE id = $1"
            ))
            .bind(document_id)
            .fetch_one(&mut *tx)
            .await?;
        if newest.as_deref() != Some(row.previous_sha256) {
            return Err(ArchiveError::Refused(format!(
                "el PDF del folio {folio} ya fue extendido por otra instancia"
            )));
        }
        sqlx::query(
            "INSERT INTO document_extensions (document_id, kind, previous_sha256, pdf_sha256, pdf_size, \
             stamped_at, tsa, extended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(document_id)
        .bind(row.kind.as_str())
        .bind(row.previous_sha256)
        .bind(row.pdf_sha256)
        .bind(row.pdf_size)
        .bind(&row.stamped_at)
        .bind(row.tsa)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let clear_wait = match row.kind {
            ExtensionKind::Timestamp => ", awaiting_timestamp_since = NULL",
            ExtensionKind::Archival => "",
        };
        sqlx::query(&format!(
            "UPDATE documents SET evidence_until = $2{clear_wait} WHERE id = $1"
        ))
        .bind(document_id)
        .bind(&row.evidence_until)
        .execute(&mut *tx)
        .await?;
        sqlx::query(WITHDRAW).bind(row.write_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM extension_claims WHERE document_id = $1")
            .bind(document_id)
            .execute(&mut *tx)
            .await?;
        append_event(
            &mut tx,
            NewEvent {
                actor: "sello".to_owned(),
                action: "documento.extendido",
                office_code: Some(office_code),
                document_id: Some(document_id),
                expediente_id: Some(expediente_id),
                draft_id: None,
                details: json!({
                    "folio": folio,
                    "extension": row.kind.as_str(),
                    "pdf_sha256_anterior": row.previous_sha256,
                    "pdf_sha256": row.pdf_sha256,
                    "sello_de_tiempo": row.stamped_at,
                    "tsa": row.tsa,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The newest PDF's SHA-256, selected `FROM documents` (no alias).
pub(crate) const NEWEST_PDF: &str = "COALESCE((SELECT x.pdf_sha256 FROM document_extensions x \
     WHERE x.document_id = documents.id ORDER BY x.id DESC LIMIT 1), documents.pdf_sha256)";

struct ExtensionRow<'a> {
    kind: ExtensionKind,
    previous_sha256: &'a str,
    pdf_sha256: &'a str,
    pdf_size: i64,
    stamped_at: String,
    tsa: &'a str,
    evidence_until: Option<String>,
    write_id: i64,
}
