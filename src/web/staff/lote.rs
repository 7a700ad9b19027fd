//! A lote's page in the web app: its progress while it runs (the page
//! refreshes itself, no JavaScript), its problems and documents, and its
//! downloads: the problems as CSV to fix and upload again, the list of
//! what was issued, every document joined to print, and its padrón.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;

use super::error::{Failure, OrPage as _, PageError, PageResult};
use super::home::form_title;
use crate::archive::ArchiveError;
use crate::bulk;
use crate::public_id::PublicId;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::jobs::Job;
use crate::web::lotes::{self, LoteError};
use crate::web::ui::{csrf_field, notice, page};

pub async fn show(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> PageResult {
    staff.require(|role| role.can_issue())?;
    let job = office_job(&state, &staff, &id).ok_or_else(|| {
        PageError::not_found(
            &staff,
            "No existe ese lote en su oficina (los lotes se olvidan al reiniciar el servicio).",
        )
    })?;
    let done = job.done.load(Ordering::Relaxed);
    let finished = job.is_finished();
    let elapsed = job.started.elapsed().as_secs_f64().max(0.001);
    let rate = done as f64 / elapsed;
    let remaining = job.valid_rows.saturating_sub(done);
    let mut problems = job.problems();
    problems.sort_by_key(|p| p.line);
    let documents = job.documents_in_order();
    let body = page(
        &staff,
        &format!("{}: {}", lote_name(&job), form_title(&state, &job.form)),
        html! {
            @if !finished {
                // Refreshes itself while the job runs; no script needed.
                meta http-equiv="refresh" content="2";
            }
            p { (job.file_name) ": " (job.total_rows) " fila(s), " (job.total_rows - problems.len().min(job.total_rows)) " sin problemas." }
            @if !job.unused_columns.is_empty() {
                (notice("aviso", &format!(
                    "Ningún campo lee las columnas {}; si alguna debía llenar un campo, corrija su nombre y vuelva a subir el archivo.",
                    job.unused_columns.iter().map(|c| format!("«{c}»")).collect::<Vec<_>>().join(", ")
                )))
            }
            @if let Some(failure) = job.failure() {
                (notice("error", &format!("El lote no se pudo emitir: {failure}")))
            } @else if finished {
                (notice("ok", &format!("Terminado: {} documento(s).", documents.len())))
            } @else {
                progress max=(job.valid_rows) value=(done) { (done) " / " (job.valid_rows) }
                p { (done) " de " (job.valid_rows) " · " (format!("{rate:.0}")) " documentos por segundo · faltan unos " (format!("{:.0}", remaining as f64 / rate.max(0.1))) " s" }
            }
            @if !problems.is_empty() {
                h2 { (problems.len()) " problema(s)" }
                p { a.boton.secundario href={"/lotes/" (job.id) "/errores.csv"} { "Descargar los problemas (CSV)" } }
                table {
                    thead { tr { th { "Línea" } th { "Columna" } th { "Problema" } } }
                    tbody { @for p in problems.iter().take(200) { tr { td { (p.line) } td { (p.column) } td { (p.message) } } } }
                }
            }
            @if !documents.is_empty() {
                h2 { "Documentos" }
                @if finished {
                    div.acciones {
                        a.boton.secundario href={"/lotes/" (job.id) "/documentos.pdf"} { "Descargar todos para imprimir (PDF)" }
                        a.boton.secundario href={"/lotes/" (job.id) "/emitidos.csv"} { "Descargar la lista de lo emitido (CSV)" }
                    }
                    @let padron = job.padron();
                    @if !padron.is_empty() {
                        p { "Padrón del lote: "
                            @for (i, (document, folio)) in padron.iter().enumerate() {
                                @if i > 0 { ", " }
                                a href={"/documentos/" (document)} { (folio) }
                            }
                        }
                    }
                    form method="post" action={"/lotes/" (job.id) "/padron"} {
                        (csrf_field(&staff))
                        p { "El padrón del lote lista, firmado, el nombre, la identificación y el folio de cada persona; un lote de más de 5.000 documentos lo recibe en tomos. Se archiva como cualquier documento." }
                        button { "Emitir el padrón del lote" }
                    }
                }
                table {
                    thead { tr { th { "Línea" } th { "Folio" } } }
                    tbody { @for d in documents.iter().take(500) { tr { td { (d.line) } td { a href={"/documentos/" (d.id)} { (d.folio) } } } } }
                }
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

pub async fn problems_csv(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let job = any_job(&state, &staff, &id)?;
    let mut problems = job.problems();
    problems.sort_by_key(|p| p.line);
    Ok(csv_download(
        &format!("{}-problemas.csv", lote_file(&job)),
        bulk::problems_csv(&problems),
    ))
}

/// A job of the caller's office, for someone who may issue.
fn any_job(state: &AppState, staff: &Staff, id: &str) -> Result<Arc<Job>, PageError> {
    staff.require(|role| role.can_issue())?;
    office_job(state, staff, id)
        .ok_or_else(|| PageError::not_found(staff, "No existe ese lote en su oficina."))
}

/// A job of the staff member's office by the id in the address; a
/// malformed id is as missing as another office's job.
fn office_job(state: &AppState, staff: &Staff, id: &str) -> Option<Arc<Job>> {
    let id = PublicId::parse(id).ok()?;
    state.jobs.get(&staff.user().office_code, id)
}

/// What names a lote to people: when it was uploaded.
pub(super) fn lote_name(job: &Job) -> String {
    format!("Lote del {}", job.issued_at.format("%d/%m/%Y %H:%M"))
}

/// The start of the names of a lote's downloads.
fn lote_file(job: &Job) -> String {
    format!("lote-{}", job.issued_at.format("%Y%m%d-%H%M%S"))
}

fn csv_download(name: &str, bytes: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn issued_csv(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let job = any_job(&state, &staff, &id)?;
    let documents = job.documents_in_order();
    Ok(csv_download(
        &format!("{}-emitidos.csv", lote_file(&job)),
        bulk::issued_csv(&documents),
    ))
}

/// A finished job of the caller's office, for someone who may issue.
fn finished_job(state: &AppState, staff: &Staff, id: &str) -> Result<Arc<Job>, PageError> {
    staff.require(|role| role.can_issue())?;
    office_job(state, staff, id)
        .filter(|j| j.is_finished())
        .ok_or_else(|| PageError::not_found(staff, "No existe ese lote terminado en su oficina."))
}

/// Every document of a finished job in row order, joined into one PDF to
/// print; sent as it is joined.
pub async fn merged_pdf(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let job = finished_job(&state, &staff, &id)?;
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let ids = job.documents_in_order().iter().map(|d| d.row_id).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-documentos.pdf\"", lote_file(&job)),
            ),
        ],
        axum::body::Body::from_stream(bulk::merged_pdf(archive, ids)),
    )
        .into_response())
}

/// Issues the padrón of a finished job (once: asked again, it is the same)
/// and shows it: the document, or the job's page listing its tomos.
pub async fn padron(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, .. }: StaffForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    let job = finished_job(&state, &staff, &id)?;
    match lotes::issue_padron(&state, staff.user(), &job).await {
        Ok(tomos) => {
            let to = match tomos.as_slice() {
                [(one, _)] => format!("/documentos/{one}"),
                _ => format!("/lotes/{}", job.id),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(LoteError::UnknownForm(_)) => Err(PageError::not_found(
            &staff,
            "El catálogo no tiene el formulario del padrón del lote.",
        )),
        Err(LoteError::Refused(text)) => Err(PageError::bad_request(&staff, text)),
        Err(LoteError::Archive(
            error @ (ArchiveError::InProgress(_) | ArchiveError::Issue(_) | ArchiveError::Refused(_)),
        )) => Err(PageError::bad_request(
            &staff,
            format!("No se emitió el padrón: {error}. Los tomos ya emitidos se conservan; vuelva a pedirlo."),
        )),
        Err(error) => Err(Failure::unavailable(error)).or_page(&staff),
    }
}
