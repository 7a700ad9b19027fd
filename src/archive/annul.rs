//! Annulment and replacement: the document stays in the archive, marked
//! with the reason, who and when; nothing is ever deleted.

use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::audit::{NewEvent, append_event};
use super::documents::DocumentRecord;
use super::store::{BeginWrite as _, on_pool};
use super::{Archive, ArchiveError};

/// The longest reason kept, a paragraph.
const REASON_MAX: usize = 1_000;

impl Archive {
    /// Annuls an issued document (by id or folio), or marks it replaced by
    /// another issued document of the office.
    pub async fn annul(
        &self,
        reference: &str,
        reason: &str,
        actor: &str,
        replaced_by: Option<&str>,
    ) -> Result<DocumentRecord, ArchiveError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ArchiveError::Refused(
                "--reason: escriba el motivo de la anulación".into(),
            ));
        }
        if reason.chars().count() > REASON_MAX {
            return Err(ArchiveError::Refused(format!(
                "--reason: el motivo tiene más de {REASON_MAX} caracteres"
            )));
        }
        let document = self.document(reference).await?;
        let replacement = match replaced_by {
            Some(other) => {
                let other = self.document(other).await?;
                if other.id == document.id {
                    return Err(ArchiveError::Refused(
                        "un documento no puede reemplazarse a sí mismo".into(),
                    ));
                }
                if other.status != "emitido" {
                    return Err(ArchiveError::Refused(format!(
                        "el reemplazo {} está {}; debe ser un documento vigente",
                        other.folio, other.status
                    )));
                }
                Some(other)
            }
            None => None,
        };
        let (status, action) = match replacement {
            Some(_) => ("reemplazado", "documento.reemplazado"),
            None => ("anulado", "documento.anulado"),
        };
        let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        on_pool!(&self.store, pool => {
            let mut tx = pool.begin_write().await?;
            // Only a current document can be annulled; checked in the same
            // statement that changes it, so two clerks cannot both do it.
            let updated = sqlx::query(
                "UPDATE documents SET status = $2, annulled_at = $3, annulled_by = $4, annul_reason = $5, \
                 replaced_by = $6 WHERE id = $1 AND status = 'emitido'",
            )
            .bind(document.id).bind(status).bind(&at).bind(actor).bind(reason)
            .bind(replacement.as_ref().map(|r| r.id))
            .execute(&mut *tx).await?.rows_affected();
            if updated != 1 {
                return Err(ArchiveError::Refused(format!(
                    "el documento {} ya está {} (desde {}): no se puede anular de nuevo",
                    document.folio,
                    document.status,
                    document.annulled_at.as_deref().unwrap_or("antes"),
                )));
            }
            append_event!(tx, NewEvent {
                actor: actor.to_owned(),
                action,
                office_code: Some(self.office.code.clone()),
                document_id: Some(document.id),
                expediente_id: Some(document.expediente_id),
                details: json!({
                    "folio": document.folio,
                    "motivo": reason,
                    "reemplazado_por": replacement.as_ref().map(|r| r.folio.clone()),
                }),
            });
            tx.commit().await?;
        });
        self.document(&document.id.to_string()).await
    }
}
