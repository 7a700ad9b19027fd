//! A folio reserved earlier, taken up again: a lote reserves the folios of
//! all its rows in row order before they are rendered, and whichever
//! instance renders a row (the one that reserved it, another one, or one
//! that takes over after the first died) completes that very reservation.
//! Everything [`Reservation`] carries is read back from what the
//! reservation's transaction recorded.

use crate::forms::{FieldType, FormSpec};
use crate::render::CitedDocument;

use super::folio::Folio;
use super::reservation::Reservation;
use super::{Archive, ArchiveError};

impl Archive {
    /// The reservation of this office that is the document `id`, while it
    /// is still `reservado`; `form` is the form it was reserved for (what
    /// its citations print comes from it).
    pub async fn reservation_by_id(
        &self,
        form: &FormSpec,
        id: i64,
    ) -> Result<Option<Reservation>, ArchiveError> {
        let pool = self.store.pool();
        let found: Option<(i64, String, i64, String, String, String)> = sqlx::query_as(
            "SELECT d.id, d.folio, d.expediente_id, e.title, d.data, d.issued_at FROM documents d \
             JOIN expedientes e ON e.id = d.expediente_id \
             WHERE d.office_code = $1 AND d.id = $2 AND d.status = 'reservado'",
        )
        .bind(&self.office.code)
        .bind(id)
        .fetch_optional(pool)
        .await?;
        let Some((document_id, folio, expediente_id, expediente_title, data, issued_at)) = found else {
            return Ok(None);
        };
        let issued_at = chrono::DateTime::parse_from_rfc3339(&issued_at)
            .map_err(|e| ArchiveError::Refused(format!("el folio {folio} tiene una fecha ilegible ({e})")))?;
        let identities: Vec<String> = sqlx::query_scalar(
            "SELECT p.identity FROM document_persons dp JOIN persons p ON p.id = dp.person_id \
             WHERE dp.document_id = $1 ORDER BY dp.person_id",
        )
        .bind(document_id)
        .fetch_all(pool)
        .await?;
        let cited: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT c.field, d.folio, d.issued_on, d.form FROM document_citations c \
             JOIN documents d ON d.id = c.cited_id WHERE c.document_id = $1",
        )
        .bind(document_id)
        .fetch_all(pool)
        .await?;
        let data = serde_json::from_str(&data)
            .map_err(|e| ArchiveError::Refused(format!("datos guardados del folio {folio}: {e}")))?;
        // In the form's order of fields, as the reservation judged them.
        let mut citations = Vec::new();
        for field in &form.fields {
            let FieldType::Document { forms, .. } = &field.kind else {
                continue;
            };
            if let Some((_, folio, issued_on, cited_form)) = cited.iter().find(|c| c.0 == field.name) {
                let formulario = forms
                    .iter()
                    .find(|f| f.id.as_str() == cited_form)
                    .map_or(cited_form.as_str(), |f| f.name());
                citations.push(CitedDocument {
                    field: field.name.clone(),
                    folio: folio.clone(),
                    fecha: issued_on.clone(),
                    formulario: formulario.to_owned(),
                });
            }
        }
        Ok(Some(Reservation {
            document_id,
            folio: Folio::stored(folio),
            expediente_id,
            issued_at,
            expediente_title,
            identities,
            citations,
            data,
        }))
    }
}
