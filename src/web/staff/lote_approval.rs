//! A lote a capturista prepared, on its page: who prepared and who
//! approved it, and for whoever signs its form what they approve (the
//! count of rows, the problems, a sample of the rows) with the buttons to
//! approve it, which issues it signed by them, or send it back with a
//! reason. What approving does is in `web::lotes`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};

use super::entry::read_only;
use super::error::{Failure, OrPage as _, PageError, PageResult};
use super::lote::lote_failure;
use crate::bulk::lotes::LoteRecord;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::lotes;
use crate::web::ui::{csrf_field, notice};

/// How many rows the approver sees in full before approving.
const SAMPLE_ROWS: i64 = 3;

/// The full name of the account `username`, or the username when it is
/// not one any more.
pub(super) async fn full_name(state: &AppState, username: &str) -> String {
    match state.accounts.user_by_username(username).await {
        Ok(user) => user.display_name,
        Err(_) => username.to_owned(),
    }
}

/// Who prepared and who approved the lote, when it was approved; for a
/// lote that waits, what is approved and, for who may, the buttons.
pub(super) async fn section(
    state: &AppState,
    staff: &Staff,
    job: &LoteRecord,
    problems: usize,
) -> Result<Markup, PageError> {
    let prepared = match &job.prepared_by {
        Some(username) => Some(full_name(state, username).await),
        None => None,
    };
    let approved = match &job.approved_by {
        Some(username) => Some(full_name(state, username).await),
        None => None,
    };
    let form = state.catalog.get(&job.form);
    let may_approve = form.is_some_and(|form| lotes::may_approve(form, staff.user()));
    let sample = if job.awaiting_approval {
        crate::bulk::approval::sample(state.archive.store(), job.id, SAMPLE_ROWS)
            .await
            .map_err(Failure::unavailable)
            .or_page(staff)?
    } else {
        Vec::new()
    };
    let zone = job.issued_at.timezone();
    let approved_at = job
        .approved_at
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|at| at.with_timezone(&zone).format("%d/%m/%Y %H:%M").to_string());
    Ok(html! {
        @if let Some(prepared) = &prepared {
            p { "Preparado por " strong { (prepared) } "." }
        }
        @if let (Some(approved), Some(at)) = (&approved, &approved_at) {
            p { "Aprobado y firmado por " strong { (approved) } " el " (at) "." }
        }
        @if job.awaiting_approval {
            (notice("aviso", &format!(
                "Esperando aprobación: no se ha emitido nada. {} documento(s) se emitirán firmados por quien lo apruebe.",
                job.valid_rows
            )))
            @if may_approve {
                h2 { "Lo que se aprueba" }
                p { (job.valid_rows) " documento(s) listos de " (job.total_rows) " fila(s); " (problems) " problema(s), que no se emiten." }
                @if job.on_paper {
                    p { "Las personas que cada documento nombra para firmar (el representante, los asistentes) firmarán el papel impreso: cada documento espera el escaneo de su papel firmado." }
                }
                @if let Some(form) = form {
                    @for (line, data) in &sample {
                        details {
                            summary { "Fila " (line) @if let Some(person) = form.person_concerned(data) { ": " (person) } }
                            (read_only(form, data))
                        }
                    }
                }
                form.tarjeta method="post" action={"/lotes/" (job.public_id) "/aprobar"} {
                    (csrf_field(staff))
                    p { "Al aprobar, cada documento se emite con su nombre y su cargo como firmante, con la fecha de hoy." }
                    div.acciones { button { "Aprobar y emitir el lote" } }
                }
                form.tarjeta method="post" action={"/lotes/" (job.public_id) "/devolver"} {
                    (csrf_field(staff))
                    label for="motivo" { "Motivo para devolverlo sin emitir" }
                    textarea #motivo name="motivo" required {}
                    div.acciones { button.secundario { "Devolver sin emitir" } }
                }
            } @else {
                p { "Lo aprueba quien firma este documento en su oficina; lo verá en su página de inicio." }
            }
        }
    })
}

/// Approves the lote and follows its run on its page.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, .. }: StaffForm<HashMap<String, String>>,
) -> PageResult {
    staff.require(|role| role.can_issue())?;
    let job = waiting_job(&state, &staff, &id).await?;
    lotes::approve(&state, staff.user(), &job)
        .await
        .map_err(|error| lote_failure(&staff, error))?;
    Ok(Redirect::to(&format!("/lotes/{}", job.public_id)).into_response())
}

/// Sends the lote back unissued, with the reason typed.
pub async fn send_back(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, form }: StaffForm<HashMap<String, String>>,
) -> PageResult {
    staff.require(|role| role.can_issue())?;
    let job = waiting_job(&state, &staff, &id).await?;
    let reason = form.get("motivo").map(String::as_str).unwrap_or_default();
    lotes::send_back(&state, staff.user(), &job, reason)
        .await
        .map_err(|error| lote_failure(&staff, error))?;
    Ok(Redirect::to(&format!("/lotes/{}", job.public_id)).into_response())
}

async fn waiting_job(state: &AppState, staff: &Staff, id: &str) -> Result<LoteRecord, PageError> {
    lotes::office_job(state, staff.user(), id)
        .await
        .map_err(|error| lote_failure(staff, error))?
        .filter(|job| job.awaiting_approval)
        .ok_or_else(|| {
            PageError::not_found(
                staff,
                "No hay un lote de su oficina que espere aprobación con ese número.",
            )
        })
}
