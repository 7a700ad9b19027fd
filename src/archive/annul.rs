//! Annulment and replacement: the document stays in the archive, marked
//! with the reason, who and when; nothing is ever deleted. The reason is
//! free text and stays internal (a clerk may name the beneficiary in it);
//! the public verification page shows only its [`AnnulCategory`].

use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::audit::{NewEvent, append_event};
use super::documents::{DocumentRecord, Status};
use super::{Archive, ArchiveError};

/// The longest reason kept, a paragraph.
const REASON_MAX: usize = 1_000;

/// Why a document was annulled, as the public may read it: one of a fixed
/// list, so that no name or identifier can reach the public page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnulCategory {
    ErrorEnLosDatos,
    ASolicitudDelInteresado,
    EmitidoPorError,
    Reemplazado,
    Otro,
}

impl AnnulCategory {
    /// The categories a person may choose (a replacement is said by naming
    /// the document that replaces it).
    pub const CHOICES: [Self; 4] = [
        Self::ErrorEnLosDatos,
        Self::ASolicitudDelInteresado,
        Self::EmitidoPorError,
        Self::Otro,
    ];

    /// The stored and API name: `error_en_los_datos`…
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ErrorEnLosDatos => "error_en_los_datos",
            Self::ASolicitudDelInteresado => "a_solicitud_del_interesado",
            Self::EmitidoPorError => "emitido_por_error",
            Self::Reemplazado => "reemplazado",
            Self::Otro => "otro",
        }
    }

    /// What the public page says.
    pub fn label(self) -> &'static str {
        match self {
            Self::ErrorEnLosDatos => "Error en los datos",
            Self::ASolicitudDelInteresado => "A solicitud del interesado",
            Self::EmitidoPorError => "Emitido por error",
            Self::Reemplazado => "Reemplazado por otro documento",
            Self::Otro => "Otro motivo",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Reemplazado]
            .into_iter()
            .chain(Self::CHOICES)
            .find(|c| c.as_str() == text.trim())
    }

    /// The refusal for a name that is not a category, listing them.
    pub fn unknown(text: &str) -> ArchiveError {
        let names: Vec<&str> = Self::CHOICES.iter().map(|c| c.as_str()).collect();
        ArchiveError::Refused(format!(
            "categoría: «{text}» no es una categoría de anulación; use {}",
            names.join(", ")
        ))
    }
}

impl Archive {
    /// Annuls an issued document (by id or folio), or marks it replaced by
    /// another issued document of the office; published as «otro motivo»
    /// (or «reemplazado»). See [`Archive::annul_as`].
    pub async fn annul(
        &self,
        reference: &str,
        reason: &str,
        actor: &str,
        replaced_by: Option<&str>,
    ) -> Result<DocumentRecord, ArchiveError> {
        self.annul_as(reference, AnnulCategory::Otro, reason, actor, replaced_by)
            .await
    }

    /// Annuls an issued document, or marks it replaced, with `reason` kept
    /// in the archive and only `category` published (a replacement is
    /// always published as [`AnnulCategory::Reemplazado`]).
    pub async fn annul_as(
        &self,
        reference: &str,
        category: AnnulCategory,
        reason: &str,
        actor: &str,
        replaced_by: Option<&str>,
    ) -> Result<DocumentRecord, ArchiveError> {
        let category = match replaced_by {
            Some(_) => AnnulCategory::Reemplazado,
            None if category == AnnulCategory::Reemplazado => {
                return Err(ArchiveError::Refused(
                    "reemplazado: indique el documento vigente que lo reemplaza".into(),
                ));
            }
            None => category,
        };
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
                if other.row_id == document.row_id {
                    return Err(ArchiveError::Refused(
                        "un documento no puede reemplazarse a sí mismo".into(),
                    ));
                }
                if !other.status.is_current() {
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
            Some(_) => (Status::Reemplazado, "documento.reemplazado"),
            None => (Status::Anulado, "documento.anulado"),
        };
        let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        // PostgreSQL locks both rows, in id order so that two opposite
        // replacements cannot deadlock; SQLite's write lock already holds.
        let lock = self.store.dialect().row_lock(true);
        let ids = [Some(document.row_id), replacement.as_ref().map(|r| r.row_id)];
        {
            let mut tx = self.store.begin_write().await?;
            // Both must still be current now, inside the transaction: two
            // clerks cannot both annul, nor replace each other's documents.
            let current: Vec<(i64, String)> = sqlx::query_as(&format!(
                "SELECT id, status FROM documents WHERE id IN ($1, $2) ORDER BY id{lock}"
            ))
            .bind(document.row_id)
            .bind(ids[1].unwrap_or(document.row_id))
            .fetch_all(&mut *tx)
            .await?;
            let status_of = |id: i64| {
                current
                    .iter()
                    .find(|(i, _)| *i == id)
                    .and_then(|(_, s)| Status::parse(s))
            };
            if let Some(now) = status_of(document.row_id).filter(|s| !s.is_current()) {
                return Err(ArchiveError::Refused(format!(
                    "el documento {} ya está {now}: no se puede anular de nuevo",
                    document.folio
                )));
            }
            if let Some(other) = &replacement
                && status_of(other.row_id) != Some(Status::Emitido)
            {
                return Err(ArchiveError::Refused(format!(
                    "el reemplazo {} ya no está vigente; debe ser un documento vigente",
                    other.folio
                )));
            }
            sqlx::query(
                "UPDATE documents SET status = $2, annulled_at = $3, annulled_by = $4, annul_reason = $5, \
                 replaced_by = $6, annul_category = $7 WHERE id = $1 AND status = 'emitido'",
            )
            .bind(document.row_id)
            .bind(status.as_str())
            .bind(&at)
            .bind(actor)
            .bind(reason)
            .bind(ids[1])
            .bind(category.as_str())
            .execute(&mut *tx)
            .await?;
            let event = match replacement {
                Some(_) => super::log::LogEvent::Reemplazo,
                None => super::log::LogEvent::Anulacion,
            };
            super::log::append(&mut tx, document.row_id, event).await?;
            append_event(
                &mut tx,
                NewEvent {
                    actor: actor.to_owned(),
                    action,
                    office_code: Some(self.office.code.clone()),
                    document_id: Some(document.row_id),
                    expediente_id: Some(document.expediente_row_id),
                    draft_id: None,
                    details: json!({
                        "folio": document.folio,
                        "motivo": reason,
                        "categoria": category.as_str(),
                        "reemplazado_por": replacement.as_ref().map(|r| r.folio.clone()),
                    }),
                },
            )
            .await?;
            tx.commit().await?;
        };
        self.document_by_row(document.row_id).await
    }
}
