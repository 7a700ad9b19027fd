//! Drafts: what a capturista prepares and a firmante later issues. A draft
//! has no folio and is not a document; issuing it links it to the
//! document it became.

use chrono::{SecondsFormat, Utc};
use serde_json::Value;

use serde_json::json;

use super::audit::{NewEvent, append_event};
use super::{Archive, ArchiveError};
use crate::public_id::PublicId;

/// A draft of this office.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DraftRecord {
    #[sqlx(rename = "public_id")]
    pub id: PublicId,
    /// The database's key: never shown.
    #[sqlx(rename = "id")]
    pub row_id: i64,
    pub form: String,
    pub data: String,
    pub created_by: i64,
    pub author: String,
    /// When it was started: with its form, what names it to people.
    pub created_at: String,
    pub updated_at: String,
    /// The public id of the document it became, once issued.
    #[sqlx(rename = "document_public_id")]
    pub document_id: Option<PublicId>,
    /// The workflow step it is at; `None` once issued (or, for drafts
    /// saved before workflows, at the first step).
    pub step: Option<String>,
    /// For a correction: the public id of the issued document it replaces
    /// once issued.
    #[sqlx(rename = "replaces_public_id")]
    pub replaces: Option<PublicId>,
    #[sqlx(rename = "replaces")]
    pub replaces_row_id: Option<i64>,
}

const DRAFT_COLUMNS: &str = "d.id, d.public_id, d.form, d.data, d.created_by, u.display_name AS author, \
     d.created_at, d.updated_at, \
     (SELECT x.public_id FROM documents x WHERE x.id = d.document_id) AS document_public_id, d.step, d.replaces, \
     (SELECT r.public_id FROM documents r WHERE r.id = d.replaces) AS replaces_public_id";

/// The key of a return's audit event that says the saves after it record
/// the fields they change (`borrador.modificado`, `campos`): without it,
/// what changed since that return is not known.
pub(super) const CHANGES_RECORDED: &str = "cambios_registrados";

/// Who changed a draft and the labels of the fields they changed.
#[derive(Debug, Clone, Copy)]
pub struct DraftEdit<'a> {
    pub username: &'a str,
    pub changed: &'a [String],
}

impl Archive {
    /// Saves a new draft at its workflow's `first_step`, or updates draft
    /// `id` if it is still at that step (sent on, it changes only after a
    /// rejection brings it back); returns its id. An update that changed
    /// fields records which (`edit`: their labels, never their values) in
    /// the audit trail, in the same transaction.
    pub async fn save_draft(
        &self,
        id: Option<PublicId>,
        form: &str,
        data: &Value,
        user_id: i64,
        first_step: &str,
        edit: Option<DraftEdit<'_>>,
    ) -> Result<PublicId, ArchiveError> {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let data = data.to_string();
        let id = match id {
            Some(id) => {
                let mut tx = self.store.begin_write().await?;
                let row: Option<i64> = sqlx::query_scalar(
                    "UPDATE drafts SET data = $3, updated_at = $4 \
                     WHERE public_id = $1 AND office_code = $2 AND document_id IS NULL AND form = $5 \
                     AND (step IS NULL OR step = $6) RETURNING id",
                )
                .bind(id)
                .bind(&self.office.code)
                .bind(&data)
                .bind(&now)
                .bind(form)
                .bind(first_step)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Err(ArchiveError::Refused(
                        "el borrador no existe, es de otro formulario, ya se envió a revisión o ya se emitió; no se puede cambiar"
                            .into(),
                    ));
                };
                if let Some(edit) = edit.filter(|edit| !edit.changed.is_empty()) {
                    append_event(
                        &mut tx,
                        NewEvent {
                            actor: edit.username.to_owned(),
                            action: "borrador.modificado",
                            office_code: Some(self.office.code.clone()),
                            document_id: None,
                            expediente_id: None,
                            draft_id: Some(row),
                            details: json!({ "campos": edit.changed }),
                        },
                    )
                    .await?;
                }
                tx.commit().await?;
                id
            }
            None => {
                let id = PublicId::generate()?;
                {
                    let pool = self.store.pool();
                    sqlx::query(
                        "INSERT INTO drafts (public_id, office_code, form, data, created_by, created_at, updated_at, step) \
                         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
                    )
                    .bind(id).bind(&self.office.code).bind(form).bind(&data).bind(user_id).bind(&now).bind(first_step)
                    .execute(pool).await?;
                };
                id
            }
        };
        Ok(id)
    }

    /// The labels of the fields of draft `draft_id` (its key) changed
    /// since it was last returned, in the order first changed: empty when
    /// the record shows nothing changed. `None` when it was never returned
    /// or its return predates the recording of changes: then nothing is
    /// known.
    pub async fn changed_since_return(&self, draft_id: i64) -> Result<Option<Vec<String>>, ArchiveError> {
        let events = self.draft_events(draft_id).await?;
        let Some(at) = events.iter().rposition(|e| e.action == "borrador.rechazado") else {
            return Ok(None);
        };
        let details = |event: &super::AuditEvent| -> Value {
            serde_json::from_str(&event.details).unwrap_or(Value::Null)
        };
        if details(&events[at])[CHANGES_RECORDED] != Value::Bool(true) {
            return Ok(None);
        }
        let mut changed: Vec<String> = Vec::new();
        for event in events[at + 1..]
            .iter()
            .filter(|e| e.action == "borrador.modificado")
        {
            let details = details(event);
            for label in details["campos"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !changed.iter().any(|c| c == label) {
                    changed.push(label.to_owned());
                }
            }
        }
        Ok(Some(changed))
    }

    /// Starts the correction of an issued document: a draft with its data,
    /// at `first_step`, that replaces it once issued. A document has one
    /// correction under way at a time: asking again returns it.
    pub async fn start_correction(
        &self,
        reference: &str,
        user_id: i64,
        actor: &str,
        first_step: &str,
    ) -> Result<PublicId, ArchiveError> {
        let document = self.document(reference).await?;
        if document.status != "emitido" {
            return Err(ArchiveError::Refused(format!(
                "el documento {} está {}; solo se corrige un documento vigente",
                document.folio, document.status
            )));
        }
        // A derivación's data carries what the archive recorded when it
        // was issued; its correction starts from what was typed, and the
        // archive records its own when it is issued.
        let refers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM referrals WHERE document_id = $1")
            .bind(document.row_id)
            .fetch_one(self.store.pool())
            .await?;
        // So does a report's count of listas (`[conteo]`), counted again
        // when the correction is issued.
        let data = match serde_json::from_str::<serde_json::Value>(&document.data) {
            Ok(stored) if refers > 0 => crate::forms::typed_data(true, &stored).to_string(),
            Ok(stored) if stored.get(crate::forms::COUNT_RECORD_FIELD).is_some() => {
                crate::forms::without_count(true, &stored).to_string()
            }
            _ => document.data.clone(),
        };
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let public_id = PublicId::generate()?;
        let id = {
            let pool = self.store.pool();
            let mut tx = self.store.begin_write().await?;
            let open: Option<PublicId> = sqlx::query_scalar(
                "SELECT public_id FROM drafts WHERE office_code = $1 AND replaces = $2 AND document_id IS NULL",
            )
            .bind(&self.office.code).bind(document.row_id).fetch_optional(&mut *tx).await?;
            if let Some(id) = open {
                return Ok(id);
            }
            let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
                "INSERT INTO drafts (public_id, office_code, form, data, created_by, created_at, updated_at, step, replaces) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) RETURNING id",
            )
            .bind(public_id).bind(&self.office.code).bind(&document.form).bind(&data).bind(user_id)
            .bind(&now).bind(first_step).bind(document.row_id)
            .fetch_one(&mut *tx).await;
            let row_id = match inserted {
                Ok(row_id) => row_id,
                // Someone started it at the same moment: theirs is the one.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    drop(tx);
                    let existing: PublicId = sqlx::query_scalar(
                        "SELECT public_id FROM drafts WHERE office_code = $1 AND replaces = $2 AND document_id IS NULL",
                    )
                    .bind(&self.office.code).bind(document.row_id).fetch_one(pool).await?;
                    return Ok(existing);
                }
                Err(e) => return Err(e.into()),
            };
            append_event(
                &mut tx,
                NewEvent {
                    actor: actor.to_owned(),
                    action: "documento.en_correccion",
                    office_code: Some(self.office.code.clone()),
                    document_id: Some(document.row_id),
                    expediente_id: Some(document.expediente_row_id),
                    draft_id: Some(row_id),
                    details: json!({"folio": document.folio}),
                },
            )
            .await?;
            tx.commit().await?;
            public_id
        };
        Ok(id)
    }

    /// A draft of this office; one of another office is missing.
    pub async fn draft(&self, id: PublicId) -> Result<DraftRecord, ArchiveError> {
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts d JOIN users u ON u.id = d.created_by \
             WHERE d.public_id = $1 AND d.office_code = $2"
        );
        let found: Option<DraftRecord> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(id)
                .bind(&self.office.code)
                .fetch_optional(pool)
                .await?
        };
        found.ok_or_else(|| ArchiveError::Refused("no existe ese borrador en esta oficina".into()))
    }

    /// The office's drafts not yet issued, newest first.
    pub async fn open_drafts(&self, limit: i64) -> Result<Vec<DraftRecord>, ArchiveError> {
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts d JOIN users u ON u.id = d.created_by \
             WHERE d.office_code = $1 AND d.document_id IS NULL ORDER BY d.updated_at DESC, d.id DESC LIMIT $2"
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(&self.office.code)
                .bind(limit)
                .fetch_all(pool)
                .await?
        })
    }

    /// The data of the drafts saved lately in the office, newest first:
    /// those of `user_id` when given, else anyone's. Where a blank entry
    /// form finds what people type on every form (the place, the signer).
    pub async fn recent_draft_data(
        &self,
        user_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<String>, ArchiveError> {
        let pool = self.store.pool();
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM drafts WHERE office_code = $1 AND ($2 < 0 OR created_by = $2) \
             ORDER BY updated_at DESC, id DESC LIMIT $3",
        )
        .bind(&self.office.code)
        .bind(user_id.unwrap_or(-1))
        .bind(limit)
        .fetch_all(pool)
        .await?;
        Ok(rows.into_iter().map(|(data,)| data).collect())
    }

    /// The documents a user issued lately, newest first: their home page.
    pub async fn recent_documents_by(
        &self,
        actor: &str,
        limit: i64,
    ) -> Result<Vec<super::DocumentRecord>, ArchiveError> {
        let sql = format!(
            "SELECT {} FROM documents WHERE office_code = $1 AND issued_by = $2 \
             AND status <> 'reservado' ORDER BY id DESC LIMIT $3",
            super::documents::DOCUMENT_COLUMNS
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(&self.office.code)
                .bind(actor)
                .bind(limit)
                .fetch_all(pool)
                .await?
        })
    }
}
