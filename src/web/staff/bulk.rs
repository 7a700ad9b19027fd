//! Bulk issuance from the web app: upload a spreadsheet, watch the job's
//! progress (the page refreshes itself, no JavaScript), download the
//! problems as CSV to fix and upload again.
//!
//! Long because the lote's whole page lives here: the upload, its checks
//! off the async workers, the job's progress and its four downloads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;

use super::account::capitalized;
use super::home::form_title;
use crate::archive::{ArchiveError, IssueOrder, Issued};
use crate::bulk::{self, Checked, RowOutcome, RunEvent, RunOrder};
use crate::public_id::PublicId;
use crate::web::AppState;
use crate::web::api::archive_of;
use crate::web::auth::{CSRF_FIELD, Staff, StaffForm};
use crate::web::jobs::Job;
use crate::web::ui::{bad_request, csrf_field, not_found, notice, page, unavailable};

/// The largest spreadsheet accepted: 51,717 families fit in a few MB.
pub const UPLOAD_MAX: usize = 50 * 1024 * 1024;

pub async fn list(State(state): State<Arc<AppState>>, staff: Staff) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_issue()) {
        return refused;
    }
    let jobs = state.jobs.of_office(&staff.user().office_code);
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
                label { input type="checkbox" name="solo_validar" value="si" style="width:auto"; " Solo validar (no emitir)" }
                label { input type="checkbox" name="en_papel" value="si" style="width:auto"; " Las personas que el documento nombra para firmar (el representante, los asistentes) firmarán el papel impreso" }
                div.acciones { button { "Subir y emitir" } }
            }
            @if !jobs.is_empty() {
                h2 { "Lotes recientes" }
                table {
                    thead { tr { th { "Lote" } th { "Documento" } th { "Archivo" } th { "Avance" } } }
                    tbody {
                        @for job in &jobs {
                            tr {
                                td { a href={"/lotes/" (job.id)} { (lote_name(job)) } }
                                td { (form_title(&state, &job.form)) }
                                td { (job.file_name) }
                                td { (job.done.load(Ordering::Relaxed)) " / " (job.valid_rows) @if job.is_finished() { " · terminado" } }
                            }
                        }
                    }
                }
            }
        },
    );
    Html(body.into_string()).into_response()
}

pub async fn upload(State(state): State<Arc<AppState>>, staff: Staff, mut form: Multipart) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_issue()) {
        return refused;
    }
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
                    Err(_) => return bad_request(&staff, "La planilla no llegó completa; súbala de nuevo."),
                }
            }
            _ => {}
        }
    }
    if let Some(refused) = staff.refuse_forged(&csrf) {
        return refused;
    }
    let Some(spec) = state.catalog.get(&form_id) else {
        return bad_request(&staff, "Elija el documento que se emitirá.");
    };
    if let Err(message) = bulk::refuse_reviewed(spec) {
        return bad_request(&staff, &capitalized(&message));
    }
    // Validating skips nothing; issuing must say who signs on paper.
    if let Err(message) = spec.workflow.check_in_person(on_paper || dry_run) {
        return bad_request(
            &staff,
            &format!("«{}» {message}: marque «firmarán el papel impreso».", spec.title),
        );
    }
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return bad_request(&staff, "Elija la planilla (.csv o .xlsx).");
    };
    let office = staff.user().office_code.clone();
    // The lote's date is the office's, in its own time zone.
    let issued_at = match archive_of(&state, staff.user()).await {
        Ok(archive) => state.issuer.now_in(archive.office()),
        Err(error) => return unavailable(&error),
    };
    let when = crate::forms::IssueDate::issued(&issued_at);
    let Some(reading) = state.jobs.begin_reading(&office) else {
        return bad_request(
            &staff,
            "Ya hay una planilla en revisión en su oficina; espere a que termine y vuelva a subirla.",
        );
    };
    let checked = {
        let (spec, name) = (Arc::new(spec.clone()), file_name.clone());
        off_the_workers(move || {
            let _reading = reading;
            check_upload(&spec, &name, &bytes, when)
        })
        .await
    };
    let Checked {
        total_rows,
        unused_columns,
        ready,
        problems,
    } = match checked {
        Some(Ok(checked)) => checked,
        Some(Err(message)) => return bad_request(&staff, &format!("{file_name}: {message}")),
        None => {
            tracing::error!("la lectura de una planilla se interrumpió por un error interno");
            return bad_request(
                &staff,
                &format!(
                    "{file_name}: no se pudo leer la planilla; guárdela de nuevo como .xlsx o .csv y vuelva a subirla."
                ),
            );
        }
    };
    if !dry_run && !ready.is_empty() && state.jobs.running(&office) {
        return bad_request(
            &staff,
            "Ya hay un lote emitiéndose en su oficina; espere a que termine.",
        );
    }
    let job = state.jobs.add(|id| Job {
        id,
        office_code: office.clone(),
        form: spec.id.to_string(),
        file_name: file_name.clone(),
        on_paper,
        started: std::time::Instant::now(),
        total_rows,
        unused_columns,
        valid_rows: if dry_run { 0 } else { ready.len() },
        issued_at,
        done: Default::default(),
        finished: AtomicBool::new(dry_run || ready.is_empty()),
        problems: std::sync::Mutex::new(problems),
        documents: Default::default(),
        padron: Default::default(),
        failure: Default::default(),
    });
    let job = match job {
        Ok(job) => job,
        Err(error) => return unavailable(&error),
    };
    tracing::info!(job.id = %job.id, rows = total_rows, "lote recibido");
    if !job.is_finished() {
        let (state, staff_user, spec) = (state.clone(), staff.user().clone(), Arc::new(spec.clone()));
        let job = Arc::clone(&job);
        // Driven on a blocking thread of its own: the pipeline's future is
        // not `Send`, and the service's workers stay free for requests.
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            handle.block_on(async move {
                if let Err(message) = run(&state, &staff_user, spec, ready, &job).await
                    && let Ok(mut failure) = job.failure.lock()
                {
                    *failure = Some(message);
                }
                job.finished.store(true, Ordering::Release);
                tracing::info!(job.id = %job.id, "lote terminado");
            })
        });
        // The job goes on in the background; the page follows it.
    }
    Redirect::to(&format!("/lotes/{}", job.id)).into_response()
}

/// Reads the spreadsheet `name` and checks every row against `spec`.
fn check_upload(
    spec: &crate::forms::FormSpec,
    name: &str,
    bytes: &[u8],
    when: crate::forms::IssueDate,
) -> Result<Checked, String> {
    let sheet = bulk::read_upload(name, bytes)?;
    bulk::check_sheet(spec, &sheet, None, None, when).map_err(|e| e.to_string())
}

/// Runs `work` on the blocking pool, off the workers that answer requests;
/// `None` if it panicked, which fails this request and no other.
async fn off_the_workers<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    // The task fails only by panicking (or if the service is stopping).
    tokio::task::spawn_blocking(work).await.ok()
}

/// Issues the rows of a job, holding the data folder's bulk lock.
async fn run(
    state: &AppState,
    user: &crate::accounts::User,
    form: Arc<crate::forms::FormSpec>,
    ready: Vec<bulk::ReadyRow>,
    job: &Job,
) -> Result<(), String> {
    let archive = archive_of(state, user).await.map_err(|e| e.to_string())?;
    let order = RunOrder {
        form,
        rows: ready,
        responsible: bulk::Responsible {
            name: &user.display_name,
            cargo: &user.cargo,
            actor: &user.username,
        },
        issued_at: job.issued_at,
        on_paper: job.on_paper,
        workers: None,
    };
    let stop = AtomicBool::new(false);
    let events: &(dyn Fn(RunEvent<'_>) + Send + Sync) = &|event| match event {
        RunEvent::Recovered(_) => {}
        RunEvent::Row(outcome) => {
            job.done.fetch_add(1, Ordering::Relaxed);
            match outcome {
                RowOutcome::Issued(row) | RowOutcome::AlreadyIssued(row) => {
                    if let Ok(mut documents) = job.documents.lock() {
                        documents.push(row.clone());
                    }
                }
                RowOutcome::Failed(problem) => {
                    if let Ok(mut problems) = job.problems.lock() {
                        problems.push(problem.clone());
                    }
                }
            }
        }
    };
    bulk::run_lote(
        &state.issuer,
        archive,
        &state.config.data_dir,
        order,
        &stop,
        events,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

pub async fn show(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_issue()) {
        return refused;
    }
    let Some(job) = office_job(&state, &staff, &id) else {
        return not_found(
            &staff,
            "No existe ese lote en su oficina (los lotes se olvidan al reiniciar el servicio).",
        );
    };
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
    Html(body.into_string()).into_response()
}

pub async fn problems_csv(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_issue()) {
        return refused;
    }
    let Some(job) = office_job(&state, &staff, &id) else {
        return not_found(&staff, "No existe ese lote en su oficina.");
    };
    let mut problems = job.problems();
    problems.sort_by_key(|p| p.line);
    csv_download(
        &format!("{}-problemas.csv", lote_file(&job)),
        bulk::problems_csv(&problems),
    )
}

/// A job of the staff member's office by the id in the address; a
/// malformed id is as missing as another office's job.
fn office_job(state: &AppState, staff: &Staff, id: &str) -> Option<Arc<Job>> {
    let id = PublicId::parse(id).ok()?;
    state.jobs.get(&staff.user().office_code, id)
}

/// What names a lote to people: when it was uploaded.
fn lote_name(job: &Job) -> String {
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
) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_issue()) {
        return refused;
    }
    let Some(job) = office_job(&state, &staff, &id) else {
        return not_found(&staff, "No existe ese lote en su oficina.");
    };
    let documents = job.documents_in_order();
    csv_download(
        &format!("{}-emitidos.csv", lote_file(&job)),
        bulk::issued_csv(&documents),
    )
}

/// A finished job of the caller's office, for someone who may issue; or
/// the page that says why not, returned as is.
#[allow(clippy::result_large_err)]
fn finished_job(state: &AppState, staff: &Staff, id: &str) -> Result<Arc<Job>, Response> {
    if let Some(refused) = staff.refuse_unless(|role| role.can_issue()) {
        return Err(refused);
    }
    office_job(state, staff, id)
        .filter(|j| j.is_finished())
        .ok_or_else(|| not_found(staff, "No existe ese lote terminado en su oficina."))
}

/// Every document of a finished job in row order, joined into one PDF to
/// print; sent as it is joined.
pub async fn merged_pdf(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let job = match finished_job(&state, &staff, &id) {
        Ok(job) => job,
        Err(answer) => return answer,
    };
    let archive = match archive_of(&state, staff.user()).await {
        Ok(archive) => archive,
        Err(error) => return unavailable(&error),
    };
    let ids = job.documents_in_order().iter().map(|d| d.row_id).collect();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-documentos.pdf\"", lote_file(&job)),
            ),
        ],
        axum::body::Body::from_stream(bulk::merged_pdf(archive, ids)),
    )
        .into_response()
}

/// Issues the padrón of a finished job (once: asked again, it is the same)
/// and shows it: the document, or the job's page listing its tomos.
pub async fn padron(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, .. }: StaffForm<std::collections::HashMap<String, String>>,
) -> Response {
    let job = match finished_job(&state, &staff, &id) {
        Ok(job) => job,
        Err(answer) => return answer,
    };
    let documents = job.documents_in_order();
    let (Some(issued_form), Some(padron_form)) =
        (state.catalog.get(&job.form), state.catalog.get(bulk::PADRON_FORM))
    else {
        return not_found(&staff, "El catálogo no tiene el formulario del padrón del lote.");
    };
    if documents.is_empty() {
        return bad_request(
            &staff,
            "El lote no emitió ningún documento: no hay padrón que emitir.",
        );
    }
    let archive = match archive_of(&state, staff.user()).await {
        Ok(archive) => archive,
        Err(error) => return unavailable(&error),
    };
    let user = staff.user();
    let responsible = bulk::Responsible {
        name: &user.display_name,
        cargo: &user.cargo,
        actor: &user.username,
    };
    let lote = bulk::Lote {
        form: issued_form,
        file_name: &job.file_name,
        date: job.issued_at.date_naive(),
        rows: &documents,
    };
    let count = |order: &IssueOrder<'_>, issued: &Issued| state.issuer.count_issued(&archive, order, issued);
    let issued = bulk::issue_padron(
        &state.issuer,
        &count,
        &archive,
        padron_form,
        &lote,
        &responsible,
        state.issuer.now_in(archive.office()),
    )
    .await;
    match issued {
        Ok(tomos) => {
            if let Ok(mut padron) = job.padron.lock() {
                *padron = tomos.iter().map(|t| (t.id, t.folio.clone())).collect();
            }
            match tomos.as_slice() {
                [one] => Redirect::to(&format!("/documentos/{}", one.id)).into_response(),
                _ => Redirect::to(&format!("/lotes/{}", job.id)).into_response(),
            }
        }
        Err(error @ (ArchiveError::InProgress(_) | ArchiveError::Issue(_) | ArchiveError::Refused(_))) => {
            bad_request(
                &staff,
                &format!(
                    "No se emitió el padrón: {error}. Los tomos ya emitidos se conservan; vuelva a pedirlo."
                ),
            )
        }
        Err(error) => unavailable(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_reading_fails_the_upload_and_not_the_service() {
        let panicked = off_the_workers(|| -> usize { panic!("a reader's bug") }).await;
        assert!(panicked.is_none());
        assert_eq!(off_the_workers(|| 2 + 2).await, Some(4), "the pool goes on");
    }
}
