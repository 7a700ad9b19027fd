//! Bulk issuance from the web app: the page to upload a spreadsheet and
//! the list of recent lotes. Checking and issuing it is `web::lotes`, the
//! same for the API; the job's page and its downloads are in `lote`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Multipart, State};
use axum::response::{Html, IntoResponse, Redirect};
use maud::html;

use super::error::{Failure, PageError, PageResult};
use super::home::form_title;
use super::lote::lote_name;
use crate::web::AppState;
use crate::web::auth::{CSRF_FIELD, Staff};
use crate::web::lotes::{self, LoteError, Upload};
use crate::web::ui::{csrf_field, page};

pub use crate::web::lotes::UPLOAD_MAX;

pub async fn list(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    staff.require(|role| role.can_issue())?;
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
    let (file_name, bytes) = file.unwrap_or_default();
    let upload = Upload {
        form_id,
        file_name,
        bytes: bytes.to_vec(),
        dry_run,
        on_paper,
    };
    let job = match lotes::start(&state, staff.user(), upload).await {
        Ok(job) => job,
        Err(LoteError::UnknownForm(_)) => return refused("Elija el documento que se emitirá.".into()),
        Err(LoteError::InPerson { title, message }) => {
            return refused(format!(
                "«{title}» {message}: marque «firmarán el papel impreso»."
            ));
        }
        Err(LoteError::Refused(message) | LoteError::Busy(message)) => return refused(message),
        Err(LoteError::Account(error)) => return Err(PageError::new(&staff, error.into())),
        Err(LoteError::Archive(error)) => return Err(PageError::new(&staff, error.into())),
        Err(LoteError::Random(error)) => return Err(PageError::new(&staff, Failure::unavailable(error))),
    };
    // The job goes on in the background; the page follows it.
    Ok(Redirect::to(&format!("/lotes/{}", job.id)).into_response())
}
