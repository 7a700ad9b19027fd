//! Closing an expediente: it keeps everything, but receives no new documents.

use chrono::NaiveDate;
use serde_json::json;

use super::audit::{NewEvent, append_event};
use super::documents::ExpedienteRecord;
use super::{Archive, ArchiveError};
use crate::public_id::PublicId;

impl Archive {
    /// Closes expediente `id` on `on` (the day its case ended).
    pub async fn close_expediente(
        &self,
        id: PublicId,
        on: NaiveDate,
        actor: &str,
    ) -> Result<ExpedienteRecord, ArchiveError> {
        let expediente = self.expediente(id).await?;
        if on.to_string() < expediente.opened_on {
            return Err(ArchiveError::Refused(format!(
                "el expediente «{}» se abrió el {}; no puede cerrarse antes",
                expediente.title, expediente.opened_on
            )));
        }
        {
            let mut tx = self.store.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE expedientes SET closed_on = $2 WHERE id = $1 AND office_code = $3 AND closed_on IS NULL",
            )
            .bind(expediente.row_id).bind(on.to_string()).bind(&self.office.code)
            .execute(&mut *tx).await?.rows_affected();
            if updated != 1 {
                return Err(ArchiveError::Refused(format!(
                    "el expediente «{}» ya está cerrado desde el {}",
                    expediente.title,
                    expediente.closed_on.as_deref().unwrap_or("antes")
                )));
            }
            append_event(
                &mut tx,
                NewEvent {
                    actor: actor.to_owned(),
                    action: "expediente.cerrado",
                    office_code: Some(self.office.code.clone()),
                    document_id: None,
                    expediente_id: Some(expediente.row_id),
                    draft_id: None,
                    details: json!({"cerrado": on.to_string()}),
                },
            )
            .await?;
            tx.commit().await?;
        };
        self.expediente(id).await
    }
}
