//! A lote prepared by someone who does not sign its form (migration
//! 0024): stored with its rows and problems, it waits for the role that
//! signs the form to look at it and approve it, which enqueues its run
//! signed by the approver, or to send it back with a reason. Sending
//! (`lotes::create_lote`), approving and sending back are recorded in the
//! audit trail, with who prepared it.

use chrono::DateTime;
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::lotes::{LoteError, enqueue_run, mark_finished};
use crate::archive::NewEvent;
use crate::archive::audit::append_event;
use crate::db::Store;
use crate::public_id::PublicId;

/// Who approves a lote: its documents carry their name and cargo.
pub struct Approver<'a> {
    pub name: &'a str,
    pub cargo: &'a str,
    pub username: &'a str,
}

/// Approves the lote `id` if it still waits: its documents are dated
/// `issued_at` and signed by `approver`, and its run is enqueued, in one
/// transaction. `false` when it no longer waited (approved or sent back
/// by someone else meanwhile).
pub async fn approve(
    store: &Store,
    id: i64,
    public_id: PublicId,
    office: &str,
    approver: &Approver<'_>,
    issued_at: DateTime<Tz>,
) -> Result<bool, LoteError> {
    let mut tx = store.begin_write().await?;
    let prepared_by: Option<Option<String>> = sqlx::query_scalar(
        "UPDATE lotes SET awaiting_approval = 0, signer = $1, cargo = $2, actor = $3, approved_by = $3, \
         approved_at = $4, issued_at = $5, time_zone = $6 \
         WHERE id = $7 AND awaiting_approval = 1 RETURNING prepared_by",
    )
    .bind(approver.name)
    .bind(approver.cargo)
    .bind(approver.username)
    .bind(crate::queue::now_ms())
    .bind(issued_at.to_rfc3339())
    .bind(issued_at.timezone().name())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(prepared_by) = prepared_by else {
        return Ok(false);
    };
    enqueue_run(&mut tx, id, public_id).await?;
    append_event(
        &mut tx,
        NewEvent {
            actor: approver.username.to_owned(),
            action: "lote.aprobado",
            office_code: Some(office.to_owned()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details: json!({ "lote": public_id.to_string(), "preparado_por": prepared_by }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Sends the lote `id` back to whoever prepared it, with `reason`: it is
/// finished without issuing anything. `false` when it no longer waited.
pub async fn send_back(
    store: &Store,
    id: i64,
    public_id: PublicId,
    office: &str,
    username: &str,
    reason: &str,
) -> Result<bool, LoteError> {
    let mut tx = store.begin_write().await?;
    let prepared_by: Option<Option<String>> = sqlx::query_scalar(
        "UPDATE lotes SET awaiting_approval = 0 WHERE id = $1 AND awaiting_approval = 1 RETURNING prepared_by",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(prepared_by) = prepared_by else {
        return Ok(false);
    };
    let failure = format!("se devolvió sin emitir. Motivo: {reason}");
    mark_finished(&mut tx, id, Some(&failure)).await?;
    append_event(
        &mut tx,
        NewEvent {
            actor: username.to_owned(),
            action: "lote.devuelto",
            office_code: Some(office.to_owned()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details: json!({ "lote": public_id.to_string(), "preparado_por": prepared_by, "motivo": reason }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The first `limit` rows of the lote, in row order: what the approver
/// looks at before signing all of them.
pub async fn sample(store: &Store, id: i64, limit: i64) -> Result<Vec<(usize, Value)>, LoteError> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT line, data FROM lote_rows WHERE lote_id = $1 ORDER BY line LIMIT $2")
            .bind(id)
            .bind(limit)
            .fetch_all(store.pool())
            .await?;
    rows.into_iter()
        .map(|(line, data)| {
            let data = serde_json::from_str(&data)
                .map_err(|e| LoteError::Corrupt(id, format!("fila {line}: {e}")))?;
            Ok((usize::try_from(line).unwrap_or(0), data))
        })
        .collect()
}

/// The lotes of `office` waiting for approval, oldest first.
pub async fn waiting(store: &Store, office: &str) -> Result<Vec<super::lotes::LoteRecord>, LoteError> {
    Ok(super::lotes::lotes_of_office(store, office)
        .await?
        .into_iter()
        .map(|(lote, _)| lote)
        .filter(|lote| lote.awaiting_approval)
        .rev()
        .collect())
}
