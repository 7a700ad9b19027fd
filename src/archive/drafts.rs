//! Drafts: what a capturista prepares and a firmante later issues. A draft
//! has no folio and is not a document; issuing it links it to the
//! document it became.

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::store::on_pool;
use super::{Archive, ArchiveError};

/// A draft of this office.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DraftRecord {
    pub id: i64,
    pub form: String,
    pub data: String,
    pub created_by: i64,
    pub author: String,
    pub updated_at: String,
    pub document_id: Option<i64>,
}

const DRAFT_COLUMNS: &str = "d.id, d.form, d.data, d.created_by, u.display_name AS author, \
     d.updated_at, d.document_id";

impl Archive {
    /// Saves a new draft, or updates draft `id` if it is still open;
    /// returns its id.
    pub async fn save_draft(
        &self,
        id: Option<i64>,
        form: &str,
        data: &Value,
        user_id: i64,
    ) -> Result<i64, ArchiveError> {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let data = data.to_string();
        let id = match id {
            Some(id) => {
                let changed = on_pool!(&self.store, pool => {
                    sqlx::query(
                        "UPDATE drafts SET data = $3, updated_at = $4 \
                         WHERE id = $1 AND office_code = $2 AND document_id IS NULL AND form = $5",
                    )
                    .bind(id).bind(&self.office.code).bind(&data).bind(&now).bind(form)
                    .execute(pool).await?.rows_affected()
                });
                if changed == 0 {
                    return Err(ArchiveError::Refused(
                        "el borrador no existe, es de otro formulario o ya se emitió; no se puede cambiar"
                            .into(),
                    ));
                }
                id
            }
            None => on_pool!(&self.store, pool => {
                sqlx::query_scalar(
                    "INSERT INTO drafts (office_code, form, data, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(&self.office.code).bind(form).bind(&data).bind(user_id).bind(&now)
                .fetch_one(pool).await?
            }),
        };
        Ok(id)
    }

    /// A draft of this office.
    pub async fn draft(&self, id: i64) -> Result<DraftRecord, ArchiveError> {
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts d JOIN users u ON u.id = d.created_by \
             WHERE d.id = $1 AND d.office_code = $2"
        );
        let found: Option<DraftRecord> = on_pool!(&self.store, pool => {
            sqlx::query_as(&sql).bind(id).bind(&self.office.code).fetch_optional(pool).await?
        });
        found.ok_or_else(|| ArchiveError::Refused(format!("no existe el borrador {id} en esta oficina")))
    }

    /// The office's drafts not yet issued, newest first.
    pub async fn open_drafts(&self, limit: i64) -> Result<Vec<DraftRecord>, ArchiveError> {
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts d JOIN users u ON u.id = d.created_by \
             WHERE d.office_code = $1 AND d.document_id IS NULL ORDER BY d.updated_at DESC, d.id DESC LIMIT $2"
        );
        Ok(on_pool!(&self.store, pool => {
            sqlx::query_as(&sql).bind(&self.office.code).bind(limit).fetch_all(pool).await?
        }))
    }

    /// Links an issued draft to its document; it can no longer change. A
    /// draft already linked keeps its first document.
    pub async fn close_draft(&self, id: i64, document_id: i64) -> Result<(), ArchiveError> {
        on_pool!(&self.store, pool => {
            sqlx::query(
                "UPDATE drafts SET document_id = $3 WHERE id = $1 AND office_code = $2 AND document_id IS NULL",
            )
            .bind(id).bind(&self.office.code).bind(document_id).execute(pool).await?;
        });
        Ok(())
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
        Ok(on_pool!(&self.store, pool => {
            sqlx::query_as(&sql).bind(&self.office.code).bind(actor).bind(limit).fetch_all(pool).await?
        }))
    }
}
