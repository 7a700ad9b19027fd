//! Signatures of people who have no key: drawn on the staff member's
//! screen before the document is sealed (and printed in it), or given on
//! paper and uploaded as a scan, or acknowledgements after issue (a
//! receipt, a monthly renewal). The image or scan goes to the blob store
//! first, staged (see [`super::blob_writes`]) so that `fsck --repair` does
//! not take it for an orphan; its row and audit event are committed
//! together after, withdrawing the stage.

use serde_json::json;

use super::audit::{NewEvent, append_event};
use super::blob_writes::{StagedBlob, WITHDRAW};
use super::steps::{Taker, now};
use super::{Archive, ArchiveError};
use crate::public_id::PublicId;

/// A hand signature as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HandSignatureRecord {
    #[sqlx(rename = "public_id")]
    pub id: PublicId,
    /// The database's keys: never shown.
    #[sqlx(rename = "id")]
    pub row_id: i64,
    pub draft_id: Option<i64>,
    pub document_id: Option<i64>,
    /// Which signer: `representante`, `asistentes[3]`; empty for a scan
    /// of the whole signed paper.
    pub signer: String,
    pub name: String,
    /// `pantalla` (drawn on screen) or `papel` (a scan).
    pub kind: String,
    /// What it acknowledges, for those given after issue.
    pub purpose: String,
    pub blob_sha256: String,
    pub media_type: String,
    pub size_bytes: i64,
    #[sqlx(try_from = "crate::db::Flag")]
    pub consent: bool,
    pub device: String,
    pub user_id: i64,
    pub at: String,
}

/// Where a hand signature belongs, by the database's key.
#[derive(Debug, Clone, Copy)]
pub enum SignedItem<'a> {
    /// A draft at a step, before it is sealed: printed in its document.
    /// Listing a draft's signatures ignores the step.
    Draft(i64, &'a str),
    /// An issued document: attached to its record.
    Document(i64),
}

/// A hand signature to record.
#[derive(Debug, Clone)]
pub struct NewHandSignature<'a> {
    pub item: SignedItem<'a>,
    pub signer: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub purpose: &'a str,
    pub bytes: Vec<u8>,
    pub media_type: &'a str,
    pub consent: bool,
    pub device: &'a str,
}

/// `consent` is a `BOOLEAN` in both schemas; SQLite's driver reads such a
/// column only as an expression, hence the cast.
const COLUMNS: &str = "id, public_id, draft_id, document_id, signer, name, kind, purpose, blob_sha256, media_type, \
     size_bytes, CAST(consent AS INTEGER) AS consent, device, user_id, at";

impl Archive {
    /// Records a hand signature of a draft still open, or of an issued
    /// document; a draft's signature replaces an earlier one of the same
    /// signer (a new drawing after a smudge). Returns its public id.
    pub async fn add_hand_signature(
        &self,
        mut signature: NewHandSignature<'_>,
        taker: &Taker<'_>,
    ) -> Result<PublicId, ArchiveError> {
        let public_id = PublicId::generate()?;
        let size = signature.bytes.len() as i64;
        let staged = self.stage_blob(std::mem::take(&mut signature.bytes)).await?;
        match self
            .record_hand_signature(&signature, size, &staged, public_id, taker)
            .await
        {
            Ok(()) => Ok(public_id),
            Err(e) => {
                // Not recorded: the blob is left an orphan, and fsck free to move it.
                if let Err(withdrawing) = self.abandon_staged(staged).await {
                    tracing::warn!(error = %withdrawing, "a hand signature's staged blob stays announced");
                }
                Err(e)
            }
        }
    }

    /// The row and audit event of a hand signature whose blob is staged,
    /// withdrawing the stage in the same transaction.
    async fn record_hand_signature(
        &self,
        signature: &NewHandSignature<'_>,
        size: i64,
        staged: &StagedBlob,
        public_id: PublicId,
        taker: &Taker<'_>,
    ) -> Result<(), ArchiveError> {
        let sha256 = &staged.sha256;
        let at = now();
        let (draft_id, document_id) = match signature.item {
            SignedItem::Draft(id, _) => (Some(id), None),
            SignedItem::Document(id) => (None, Some(id)),
        };
        {
            let mut tx = self.store.begin_write().await?;
            // It must still be open (a draft) or current (a document) now.
            let open: Option<i64> =
                match signature.item {
                    SignedItem::Draft(id, step) => sqlx::query_scalar(
                        "SELECT id FROM drafts WHERE id = $1 AND office_code = $2 AND document_id IS NULL \
                     AND step = $3",
                    )
                    .bind(id)
                    .bind(&self.office.code)
                    .bind(step)
                    .fetch_optional(&mut *tx)
                    .await?,
                    SignedItem::Document(id) => sqlx::query_scalar(
                        "SELECT id FROM documents WHERE id = $1 AND office_code = $2 AND status = 'emitido'",
                    )
                    .bind(id)
                    .bind(&self.office.code)
                    .fetch_optional(&mut *tx)
                    .await?,
                };
            if open.is_none() {
                return Err(ArchiveError::Refused(match signature.item {
                    SignedItem::Draft(..) => {
                        "el borrador ya no está recabando firmas en persona: otra persona lo movió; recárguelo"
                    }
                    SignedItem::Document(_) => "el documento no está vigente: no recibe firmas",
                }.into()));
            }
            sqlx::query(
                "INSERT INTO hand_signatures (office_code, draft_id, document_id, signer, name, kind, purpose, \
                 blob_sha256, media_type, size_bytes, consent, device, user_id, at, public_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(&self.office.code).bind(draft_id).bind(document_id).bind(signature.signer)
            .bind(signature.name).bind(signature.kind).bind(signature.purpose).bind(sha256)
            .bind(signature.media_type).bind(size).bind(signature.consent).bind(signature.device)
            .bind(taker.user_id).bind(&at).bind(public_id)
            .execute(&mut *tx).await?;
            // The scan of the signed paper is what a document issued to be
            // signed on paper awaited.
            if signature.kind == "papel"
                && let Some(document_id) = document_id
            {
                sqlx::query("UPDATE documents SET paper_pending = NULL WHERE id = $1")
                    .bind(document_id)
                    .execute(&mut *tx)
                    .await?;
            }
            append_event(
                &mut tx,
                NewEvent {
                    actor: taker.username.to_owned(),
                    action: match signature.kind {
                        "pantalla" => "firma_autografa.en_pantalla",
                        _ => "firma_autografa.en_papel",
                    },
                    office_code: Some(self.office.code.clone()),
                    document_id,
                    expediente_id: None,
                    draft_id,
                    details: json!({
                        "firmante": signature.signer,
                        "proposito": signature.purpose,
                        "dispositivo": signature.device,
                        "consentimiento": signature.consent,
                        "sha256": sha256,
                        "recabo": taker.name,
                    }),
                },
            )
            .await?;
            sqlx::query(WITHDRAW)
                .bind(staged.write_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        };
        Ok(())
    }

    /// The hand signatures of a draft or document, in order; for a draft,
    /// only the latest of each signer.
    pub async fn hand_signatures(
        &self,
        item: SignedItem<'_>,
    ) -> Result<Vec<HandSignatureRecord>, ArchiveError> {
        let sql = match item {
            SignedItem::Draft(..) => format!(
                "SELECT {COLUMNS} FROM hand_signatures h WHERE draft_id = $1 AND office_code = $2 \
                 AND id = (SELECT max(id) FROM hand_signatures o WHERE o.draft_id = h.draft_id AND o.signer = h.signer) \
                 ORDER BY id"
            ),
            SignedItem::Document(_) => format!(
                "SELECT {COLUMNS} FROM hand_signatures WHERE document_id = $1 AND office_code = $2 ORDER BY id"
            ),
        };
        let id = match item {
            SignedItem::Draft(id, _) | SignedItem::Document(id) => id,
        };
        let rows: Vec<HandSignatureRecord> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(id)
                .bind(&self.office.code)
                .fetch_all(pool)
                .await?
        };
        Ok(rows)
    }

    /// One hand signature of this office, with its image or scan; one of
    /// another office is missing.
    pub async fn hand_signature_file(
        &self,
        id: PublicId,
    ) -> Result<(HandSignatureRecord, Vec<u8>), ArchiveError> {
        let sql = format!("SELECT {COLUMNS} FROM hand_signatures WHERE public_id = $1 AND office_code = $2");
        let found: Option<HandSignatureRecord> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(id)
                .bind(&self.office.code)
                .fetch_optional(pool)
                .await?
        };
        let record =
            found.ok_or_else(|| ArchiveError::Refused("no existe esa firma en esta oficina".into()))?;
        let bytes = self.blobs.get(&record.blob_sha256).await?;
        Ok((record, bytes))
    }
}
