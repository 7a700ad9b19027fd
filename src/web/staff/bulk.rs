//! Bulk issuance from the web app: upload a spreadsheet, check it off the
//! async workers, and store it as a lote whose rows a job of the queue
//! issues in the background (`web::jobs`). The lote's page and its
//! downloads are in `lote`.

use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::response::{Html, IntoResponse, Redirect};
use maud::html;

use super::error::{Failure, OrPage as _, PageError, PageResult};
use super::home::form_title;
use super::lote::lote_name;
use crate::bulk::lotes::{self, NewLote};
use crate::bulk::{self, Checked};
use crate::public_id::PublicId;
use crate::web::AppState;
use crate::web::auth::{CSRF_FIELD, Staff};
use crate::web::ui::{csrf_field, page};

/// The largest spreadsheet accepted: 51,717 families fit in a few MB.
pub const UPLOAD_MAX: usize = 50 * 1024 * 1024;

pub async fn list(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    staff.require(|role| role.can_issue())?;
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
                div.acciones { button { "Subir y emitir" } }
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
                                td { (done) " / " (job.valid_rows) @if job.is_finished() { " · terminado" } }
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
    staff.require(|role| role.can_issue())?;
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
    let Some(spec) = state.catalog.get(&form_id) else {
        return refused("Elija el documento que se emitirá.".into());
    };
    if let Err(message) = bulk::refuse_reviewed(spec) {
        return refused(message);
    }
    // Validating skips nothing; issuing must say who signs on paper.
    if let Err(message) = spec.workflow.check_in_person(on_paper || dry_run) {
        return refused(format!(
            "«{}» {message}: marque «firmarán el papel impreso».",
            spec.title
        ));
    }
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refused("Elija la planilla (.csv o .xlsx).".into());
    };
    let office = staff.user().office_code.clone();
    // The lote's date is the office's, in its own time zone.
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let issued_at = state.issuer.now_in(archive.office());
    let when = crate::forms::IssueDate::issued(&issued_at);
    let Some(reading) = state.jobs.begin_reading(&office) else {
        return refused(
            "Ya hay una planilla en revisión en su oficina; espere a que termine y vuelva a subirla.".into(),
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
        Some(Err(message)) => return refused(format!("{file_name}: {message}")),
        None => {
            tracing::error!("la lectura de una planilla se interrumpió por un error interno");
            return refused(format!(
                "{file_name}: no se pudo leer la planilla; guárdela de nuevo como .xlsx o .csv y vuelva a subirla."
            ));
        }
    };
    let store = state.archive.store();
    let busy = lotes::office_busy(store, &office).await;
    if !dry_run && !ready.is_empty() && busy.map_err(Failure::unavailable).or_page(&staff)? {
        return refused("Ya hay un lote emitiéndose en su oficina; espere a que termine.".into());
    }
    let id = PublicId::generate()
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    let user = staff.user();
    let rows = if dry_run { &[][..] } else { &ready[..] };
    let lote = NewLote {
        public_id: id,
        office_code: &office,
        form: spec.id.as_str(),
        file_name: &file_name,
        on_paper,
        issued_at,
        total_rows,
        unused_columns: &unused_columns,
        signer: &user.display_name,
        cargo: &user.cargo,
        actor: &user.username,
        rows,
        problems: &problems,
    };
    lotes::create_lote(store, &lote)
        .await
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    tracing::info!(lote.id = %id, rows = total_rows, "lote recibido");
    if !rows.is_empty() {
        // This instance starts it; any other may take it over.
        crate::web::jobs::run_due_lotes(&state);
    }
    Ok(Redirect::to(&format!("/lotes/{id}")).into_response())
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
