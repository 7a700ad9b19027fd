//! Bulk issuance from the web app: the page to upload a spreadsheet and
//! the list of recent lotes, and the office's setting that lets the roles
//! that prepare documents use it (on the administration page). Checking it, storing it as a lote and letting
//! the job queue issue it is `web::lotes`, the same for the API; the
//! lote's page and its downloads are in `lote`.

use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::response::{Html, IntoResponse, Redirect};
use maud::{Markup, html};
use serde_json::json;

use super::error::{Failure, OrPage as _, PageError, PageResult};
use super::home::form_title;
use super::lote::{lote_failure, lote_name};
use crate::bulk::lotes;
use crate::web::AppState;
use crate::web::auth::{CSRF_FIELD, Staff, StaffForm};
use crate::web::lotes::{LoteError, Upload};
use crate::web::ui::{csrf_field, notice, page};

pub use crate::web::lotes::UPLOAD_MAX;

pub async fn list(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    // Who signs issues lotes and approves them; who prepares documents
    // prepares lotes where the office allows it.
    staff.require_bulk()?;
    let signs = staff.user().role.can_issue();
    let jobs = lotes::lotes_of_office(state.archive.store(), &staff.user().office_code)
        .await
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    // A check without issuing is not a lote: listed apart, with its problems.
    let (checked, lotes): (Vec<_>, Vec<_>) = jobs
        .iter()
        .partition(|(job, _)| job.is_finished() && job.valid_rows == 0);
    let mut checks = Vec::new();
    for (job, _) in checked {
        let problems = lotes::problems(state.archive.store(), job.id)
            .await
            .map_err(Failure::unavailable)
            .or_page(&staff)?;
        checks.push((job, problems.len()));
    }
    let mut forms: Vec<_> = state.catalog.iter().collect();
    forms.sort_by(|a, b| a.title.cmp(&b.title));
    let body = page(
        &staff,
        "Emisión por lotes",
        html! {
            p { "Un documento firmado por cada fila de una planilla (.csv o .xlsx). La primera fila nombra las columnas como los campos del formulario o sus etiquetas; una persona va en dos columnas, como «representante.nombre» y «representante.identificacion». Las filas con problemas se informan y las demás se emiten; volver a subir el mismo archivo no emite nada dos veces." }
            form.tarjeta method="post" action="/lotes" enctype="multipart/form-data" {
                (csrf_field(&staff))
                label for="formulario" { "Documento" }
                select #formulario name="formulario" required {
                    @for form in &forms { option value=(form.id.as_str()) { (form.title) } }
                }
                label for="archivo" { "Planilla" }
                input #archivo type="file" name="archivo" accept=".csv,.xlsx" required;
                label.casilla { input type="checkbox" name="solo_validar" value="si"; " Solo validar (no emitir)" }
                label.casilla { input type="checkbox" name="en_papel" value="si"; " Las personas que el documento nombra para firmar (el representante, los asistentes) firmarán el papel impreso" }
                @if !signs {
                    p.ayuda { "Su rol no firma: el lote queda esperando la aprobación de quien firma el documento, que lo revisa y lo emite con su nombre." }
                }
                div.acciones { button { @if signs { "Subir y emitir" } @else { "Subir y enviar a aprobación" } } }
            }
            @if !lotes.is_empty() {
                h2 { "Lotes recientes" }
                table {
                    thead { tr { th { "Lote" } th { "Documento" } th { "Archivo" } th { "Avance" } } }
                    tbody {
                        @for (job, done) in &lotes {
                            tr {
                                td { a href={"/lotes/" (job.public_id)} { (lote_name(job)) } }
                                td { (form_title(&state, &job.form)) }
                                td { (job.file_name) }
                                td {
                                    @if job.awaiting_approval { "esperando aprobación" } @else {
                                        (done) " / " (job.valid_rows) @if job.is_finished() { " · terminado" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !checks.is_empty() {
                h2 { "Planillas revisadas, sin emitir" }
                table {
                    thead { tr { th { "Revisión" } th { "Documento" } th { "Archivo" } th { "Problemas" } } }
                    tbody {
                        @for (job, problems) in &checks {
                            tr {
                                td { a href={"/lotes/" (job.public_id)} { (lote_name(job)) } }
                                td { (form_title(&state, &job.form)) }
                                td { (job.file_name) }
                                td { (problems) " de " (job.total_rows) " fila(s)" }
                            }
                        }
                    }
                }
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

pub async fn upload(State(state): State<Arc<AppState>>, staff: Staff, mut form: Multipart) -> PageResult {
    staff.require_bulk()?;
    let refused = |text: String| Err(PageError::bad_request(&staff, text));
    let (mut csrf, mut form_id, mut file, mut dry_run) = (String::new(), String::new(), None, false);
    let mut on_paper = false;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            name if name == CSRF_FIELD => csrf = field.text().await.unwrap_or_default(),
            "formulario" => form_id = field.text().await.unwrap_or_default(),
            "solo_validar" => dry_run = true,
            "en_papel" => on_paper = true,
            "archivo" => {
                let name = field.file_name().unwrap_or("planilla.csv").to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes)),
                    Err(_) => return refused("La planilla no llegó completa; súbala de nuevo.".into()),
                }
            }
            _ => {}
        }
    }
    staff.require_csrf(&csrf)?;
    let (file_name, bytes) = file.unwrap_or_default();
    let upload = Upload {
        form_id,
        file_name,
        bytes: bytes.to_vec(),
        dry_run,
        on_paper,
    };
    let lote = match crate::web::lotes::start(&state, staff.user(), upload).await {
        Ok(lote) => lote,
        Err(LoteError::UnknownForm(_)) => return refused("Elija el documento que se emitirá.".into()),
        Err(error) => return Err(lote_failure(&staff, error)),
    };
    // The queue issues it in the background; the page follows it.
    Ok(Redirect::to(&format!("/lotes/{}", lote.public_id)).into_response())
}

/// The office's setting on its administration page: whether the roles
/// that prepare documents without signing them may upload lotes.
pub(super) fn setting_section(staff: &Staff, allowed: bool) -> Markup {
    html! {
        form.tarjeta method="post" action="/admin/lotes" {
            (csrf_field(staff))
            h2 { "Emisión por lotes" }
            p { "Quien firma (firmante y administración) sube lotes y los emite con su nombre. Quien prepara documentos sin firmarlos (capturista, revisor, contador) puede subirlos solo si la oficina lo permite, y aun así nada se emite hasta que quien firma el documento revisa el lote y lo aprueba." }
            label.casilla {
                input type="checkbox" name="preparan" value="si" checked[allowed];
                " Permitir que quienes preparan documentos suban lotes para aprobación"
            }
            div.acciones { button { "Guardar" } }
        }
    }
}

/// The administrator allows or forbids bulk to who prepares documents in
/// their office; a change is recorded in the audit trail.
pub async fn set_preparers(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let allowed = form.get("preparan").is_some_and(|v| v == "si");
    let office = staff.user().office_code.clone();
    let result = async {
        let changed = state.accounts.set_preparers_bulk(&office, allowed).await?;
        if changed {
            super::admin::audit(
                &state,
                &staff,
                "oficina.lotes_preparadores",
                json!({"oficina": office, "permitido": allowed}),
            )
            .await?;
            tracing::info!(
                by = staff.user().id,
                allowed,
                "lotes de quienes preparan cambiado"
            );
        }
        Ok(notice(
            "ok",
            if allowed {
                "Quienes preparan documentos pueden subir lotes; esperan la aprobación de quien firma."
            } else {
                "Solo quien firma sube lotes en su oficina."
            },
        ))
    }
    .await;
    super::admin::after(&state, &staff, result).await
}
