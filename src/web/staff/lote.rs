//! A lote's page in the web app: its progress while it runs (the page
//! refreshes itself, no JavaScript), its problems and documents, and its
//! downloads: the problems as CSV to fix and upload again, the list of
//! what was issued, every document joined to print, and its padrón.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;

use super::account::capitalized;
use super::error::{Failure, OrPage as _, PageError, PageResult};
use super::home::form_title;
use crate::archive::ArchiveError;
use crate::bulk;
use crate::bulk::lotes::LoteRecord;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::lotes::{self, LoteError};
use crate::web::ui::{csrf_field, notice, page};

pub async fn show(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> PageResult {
    // Who prepares documents follows the lotes of the office, where it
    // lets them prepare lotes.
    staff.require_bulk()?;
    let job = office_job(&state, &staff, &id)
        .await?
        .ok_or_else(|| PageError::not_found(&staff, "No existe ese lote en su oficina."))?;
    let store = state.archive.store();
    let read = async {
        let done = bulk::lotes::done_rows(store, job.id).await?;
        let problems = bulk::lotes::problems(store, job.id).await?;
        let documents = bulk::lotes::documents(store, job.id, None).await?;
        Ok::<_, bulk::lotes::LoteError>((done, problems, documents))
    };
    let (done, problems, documents) = read.await.map_err(Failure::unavailable).or_page(&staff)?;
    let approval = super::lote_approval::section(&state, &staff, &job, problems.len()).await?;
    let finished = job.is_finished();
    // Printing them all and issuing the padrón are for who signs.
    let signs = staff.user().role.can_issue();
    let elapsed = ((crate::queue::now_ms() - job.created_at).max(1) as f64) / 1000.0;
    let remaining = job.valid_rows.saturating_sub(done);
    // A row may have several problems: the rows without any, by line.
    let lines_with_problems = problems
        .iter()
        .map(|p| p.line)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let clean_rows = job.total_rows.saturating_sub(lines_with_problems);
    let body = page(
        &staff,
        &format!("{}: {}", lote_name(&job), form_title(&state, &job.form)),
        html! {
            @if !finished && !job.awaiting_approval {
                // Refreshes itself while the job runs; no script needed.
                meta http-equiv="refresh" content="2";
            }
            p { (job.file_name) ": " (job.total_rows) " fila(s), " (clean_rows) " sin problemas." }
            @if !job.unused_columns.is_empty() {
                (notice("aviso", &format!(
                    "Ningún campo lee las columnas {}; si alguna debía llenar un campo, corrija su nombre y vuelva a subir el archivo.",
                    job.unused_columns.iter().map(|c| format!("«{c}»")).collect::<Vec<_>>().join(", ")
                )))
            }
            (approval)
            @if job.awaiting_approval {
            } @else if let Some(failure) = &job.failure {
                (notice("error", &format!("El lote no se pudo emitir: {failure}")))
            } @else if finished && job.valid_rows == 0 {
                (notice("aviso", &format!(
                    "Solo se revisó la planilla: no se emitió ningún documento. {clean_rows} fila(s) sin problemas."
                )))
            } @else if finished {
                (notice("ok", &format!("Terminado: {} documento(s).", documents.len())))
            } @else {
                progress max=(job.valid_rows) value=(done) aria-label="Avance del lote" { (done) " / " (job.valid_rows) }
                p { (done) " de " (job.valid_rows) " · " (estimate(done, remaining, elapsed)) }
            }
            @if !problems.is_empty() {
                h2 { (problems.len()) " problema(s)" }
                p { a.boton.secundario href={"/lotes/" (job.public_id) "/errores.csv"} { "Descargar los problemas (CSV)" } }
                table {
                    thead { tr { th { "Línea" } th { "Columna" } th { "Problema" } } }
                    tbody { @for p in problems.iter().take(200) { tr { td { (p.line) } td { (p.column) } td { (p.message) } } } }
                }
            }
            @if !documents.is_empty() {
                h2 { "Documentos" }
                @if finished {
                    div.acciones {
                        @if signs {
                            a.boton.secundario href={"/lotes/" (job.public_id) "/documentos.pdf"} { "Descargar todos para imprimir (PDF)" }
                        }
                        a.boton.secundario href={"/lotes/" (job.public_id) "/emitidos.csv"} { "Descargar la lista de lo emitido (CSV)" }
                    }
                    @let padron = &job.padron;
                    @if !padron.is_empty() {
                        p { "Padrón del lote: "
                            @for (i, (document, folio)) in padron.iter().enumerate() {
                                @if i > 0 { ", " }
                                a href={"/documentos/" (document)} { (folio) }
                            }
                        }
                    }
                    @if signs {
                        form method="post" action={"/lotes/" (job.public_id) "/padron"} {
                            (csrf_field(&staff))
                            p { "El padrón del lote lista, firmado, el nombre, la identificación y el folio de cada persona; un lote de más de 5.000 documentos lo recibe en tomos. Se archiva como cualquier documento." }
                            button { "Emitir el padrón del lote" }
                        }
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

/// How much is left, once enough rows were issued to tell: the first
/// documents are slow (fonts, templates), so an early rate misleads.
fn estimate(done: usize, remaining: usize, elapsed: f64) -> String {
    const ENOUGH_ROWS: usize = 20;
    const ENOUGH_SECONDS: f64 = 3.0;
    if done < ENOUGH_ROWS || elapsed < ENOUGH_SECONDS {
        return "calculando cuánto falta…".to_owned();
    }
    let rate = done as f64 / elapsed;
    let seconds = (remaining as f64 / rate).ceil() as u64;
    let left = match seconds {
        0..=59 => format!("faltan unos {seconds} s"),
        60..=3599 => format!("faltan unos {} min", seconds.div_ceil(60)),
        _ => format!("faltan unas {:.1} h", seconds as f64 / 3600.0),
    };
    format!("{rate:.0} documentos por segundo · {left}")
}

pub async fn problems_csv(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let job = any_job(&state, &staff, &id).await?;
    let problems = bulk::lotes::problems(state.archive.store(), job.id)
        .await
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    Ok(csv_download(
        &format!("{}-problemas.csv", lote_file(&job)),
        bulk::problems_csv(&problems),
    ))
}

/// A lote of the caller's office, for someone who may use bulk.
async fn any_job(state: &AppState, staff: &Staff, id: &str) -> Result<LoteRecord, PageError> {
    staff.require_bulk()?;
    office_job(state, staff, id)
        .await?
        .ok_or_else(|| PageError::not_found(staff, "No existe ese lote en su oficina."))
}

/// A lote of the staff member's office by the id in the address; a
/// malformed id is as missing as another office's lote.
async fn office_job(state: &AppState, staff: &Staff, id: &str) -> Result<Option<LoteRecord>, PageError> {
    lotes::office_job(state, staff.user(), id)
        .await
        .map_err(|error| lote_failure(staff, error))
}

/// What the staff member is shown when `web::lotes` could not do it.
pub(super) fn lote_failure(staff: &Staff, error: LoteError) -> PageError {
    match error {
        LoteError::UnknownForm(_) => {
            PageError::not_found(staff, "El catálogo no tiene el formulario del padrón del lote.")
        }
        LoteError::InPerson { title, message } => PageError::bad_request(
            staff,
            format!("«{title}» {message}: marque «firmarán el papel impreso»."),
        ),
        LoteError::Refused(text) | LoteError::Busy(text) => PageError::bad_request(staff, text),
        LoteError::Forbidden(text) => PageError::new(staff, Failure::NotAllowed(text)),
        error @ LoteError::NotWaiting => PageError::bad_request(staff, capitalized(&error.to_string()) + "."),
        LoteError::Archive(
            error @ (ArchiveError::InProgress(_) | ArchiveError::Issue(_) | ArchiveError::Refused(_)),
        ) => PageError::bad_request(
            staff,
            format!("No se emitió el padrón: {error}. Los tomos ya emitidos se conservan; vuelva a pedirlo."),
        ),
        LoteError::Archive(error) => PageError::new(staff, error.into()),
        LoteError::Account(error) => PageError::new(staff, error.into()),
        error @ (LoteError::Stored(_) | LoteError::Random(_)) => {
            PageError::new(staff, Failure::unavailable(error))
        }
    }
}

/// What names a lote to people: when it was uploaded.
pub(super) fn lote_name(job: &LoteRecord) -> String {
    format!("Lote del {}", job.issued_at.format("%d/%m/%Y %H:%M"))
}

/// The start of the names of a lote's downloads.
fn lote_file(job: &LoteRecord) -> String {
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
    let job = any_job(&state, &staff, &id).await?;
    // The form names each row's person, for the list's «nombre» column.
    let form = state.catalog.get(&job.form);
    let documents = bulk::lotes::documents(state.archive.store(), job.id, form)
        .await
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    Ok(csv_download(
        &format!("{}-emitidos.csv", lote_file(&job)),
        bulk::issued_csv(&documents),
    ))
}

/// A finished lote of the caller's office, for someone who may issue.
async fn finished_job(state: &AppState, staff: &Staff, id: &str) -> Result<LoteRecord, PageError> {
    staff.require(|role| role.can_issue())?;
    office_job(state, staff, id)
        .await?
        .filter(LoteRecord::is_finished)
        .ok_or_else(|| PageError::not_found(staff, "No existe ese lote terminado en su oficina."))
}

/// Every document of a finished job in row order, joined into one PDF to
/// print; sent as it is joined.
pub async fn merged_pdf(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let job = finished_job(&state, &staff, &id).await?;
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let documents = bulk::lotes::documents(state.archive.store(), job.id, None)
        .await
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    let ids = documents.iter().map(|d| d.row_id).collect();
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
    let job = finished_job(&state, &staff, &id).await?;
    let tomos = lotes::issue_padron(&state, staff.user(), &job)
        .await
        .map_err(|error| lote_failure(&staff, error))?;
    let to = match tomos.as_slice() {
        [(one, _)] => format!("/documentos/{one}"),
        _ => format!("/lotes/{}", job.public_id),
    };
    Ok(Redirect::to(&to).into_response())
}

#[cfg(test)]
mod tests {
    use super::estimate;

    #[test]
    fn no_estimate_before_enough_rows() {
        assert_eq!(estimate(0, 47, 0.5), "calculando cuánto falta…");
        assert_eq!(estimate(5, 42, 10.0), "calculando cuánto falta…");
        assert_eq!(
            estimate(40, 40, 4.0),
            "10 documentos por segundo · faltan unos 4 s"
        );
        assert_eq!(
            estimate(100, 12_000, 10.0),
            "10 documentos por segundo · faltan unos 20 min"
        );
    }
}
