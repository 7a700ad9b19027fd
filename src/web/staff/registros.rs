//! `/registros`: the registers built from the archive (see `registros`),
//! for staff. Whoever may sign a register's form issues it here, signed
//! with their account; everyone who reads the archive sees the counts of
//! the listas de asistencia of a period.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::error::{OrPage as _, PageError, PageResult};
use crate::archive::ArchiveError;
use crate::registros::{self, Issuing, Version};
use crate::signed_pdf::IssueError;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::ui::{csrf_field, notice, page};

#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    desde: Option<String>,
    hasta: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PadronForm {
    programa: String,
    #[serde(default)]
    localidad: String,
    /// One form, or empty for every form that grants a service.
    #[serde(default)]
    formulario: String,
    desde: String,
    hasta: String,
}

#[derive(Debug, Deserialize)]
pub struct SemanalForm {
    semana: String,
    #[serde(default)]
    area: String,
}

fn day(staff: &Staff, name: &str, text: &str) -> Result<NaiveDate, PageError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| PageError::bad_request(staff, format!("{name}: escriba una fecha, como 2026-11-22")))
}

/// Whether the signed-in account may sign `form_id`'s register.
fn may_sign(state: &AppState, staff: &Staff, form_id: &str) -> bool {
    state
        .catalog
        .get(form_id)
        .is_some_and(|f| f.workflow.allows_direct_issue(staff.user().role))
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(period): Query<PeriodQuery>,
) -> PageResult {
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let counts = match (&period.desde, &period.hasta) {
        (Some(from), Some(to)) => Some(
            match (
                NaiveDate::parse_from_str(from, "%Y-%m-%d"),
                NaiveDate::parse_from_str(to, "%Y-%m-%d"),
            ) {
                (Ok(from), Ok(to)) => registros::actividades::count(&archive, from, to, None)
                    .await
                    .map_err(|e| e.to_string()),
                _ => Err("Escriba las dos fechas del periodo.".to_owned()),
            },
        ),
        _ => None,
    };
    let in_force = registros::vigentes::padrones(&archive, &state.catalog)
        .await
        .or_page(&staff)?;
    let granting: Vec<_> = state.catalog.iter().filter(|f| f.padron.is_some()).collect();
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = page(
        &staff,
        "Registros del archivo",
        html! {
            p { "Sello integra estos registros con los documentos emitidos: cada fila cita el folio del documento del que sale. Si el archivo cambió desde la última vez, se emite una versión nueva que reemplaza a la anterior; si no, se muestra la vigente." }
            @if !in_force.is_empty() { (padrones_table(&in_force)) }
            @if may_sign(&state, &staff, registros::padron::PADRON_FORM) {
                form.tarjeta method="post" action="/registros/padron" {
                    h2 { "Padrón de beneficiarios de un programa" }
                    (csrf_field(&staff))
                    div { label for="programa" { "Programa o servicio" } input #programa name="programa" required maxlength="200" placeholder="Apoyos asistenciales 2026"; }
                    div { label for="localidad" { "Localidad" } input #localidad name="localidad" maxlength="200"; }
                    div { label for="formulario" { "Documentos que otorgan el servicio" }
                        select #formulario name="formulario" {
                            option value="" { "Todos los que otorgan un servicio" }
                            @for form in &granting { option value=(form.id.as_str()) { (form.title) } }
                        }
                    }
                    div { label for="p-desde" { "Desde" } input #p-desde type="date" name="desde" required; }
                    div { label for="p-hasta" { "Hasta" } input #p-hasta type="date" name="hasta" required; }
                    div { button { "Emitir el padrón" } }
                }
            }
            @if may_sign(&state, &staff, registros::semanal::REPORT_FORM) {
                form.tarjeta method="post" action="/registros/semanal" {
                    h2 { "Reporte semanal de oficios" }
                    (csrf_field(&staff))
                    div { label for="semana" { "Un día de la semana (de lunes a domingo)" } input #semana type="date" name="semana" required; }
                    div { label for="area" { "Área" } input #area name="area" maxlength="120" placeholder="Recepción"; }
                    div { button { "Emitir el reporte" } }
                }
            }
            form.tarjeta method="get" action="/registros" {
                h2 { "Sesiones y asistencia de un periodo" }
                div { label for="desde" { "Desde" } input #desde type="date" name="desde" value=(value(&period.desde)); }
                div { label for="hasta" { "Hasta" } input #hasta type="date" name="hasta" value=(value(&period.hasta)); }
                div { button { "Contar" } }
            }
            @match counts {
                None => {},
                Some(Err(message)) => (notice("error", &message)),
                Some(Ok(counts)) => (counts_table(&counts)),
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

/// The padrones in force, each saying whether the archive changed since
/// its cut-off: Sello does not issue it again by itself.
fn padrones_table(in_force: &[registros::vigentes::PadronInForce]) -> Markup {
    use registros::vigentes::Since;
    html! {
        h2 { "Padrones vigentes" }
        table {
            thead { tr { th { "Programa" } th { "Localidad" } th { "Periodo" } th { "Versión vigente" } th { "Corte" } th { "El archivo desde el corte" } } }
            tbody {
                @for padron in in_force {
                    tr {
                        td { (padron.programa) }
                        td { (padron.localidad.as_deref().unwrap_or("—")) }
                        td { (crate::web::page::short_date(&padron.desde)) " a " (crate::web::page::short_date(&padron.hasta)) }
                        td {
                            "versión " (padron.version) ": "
                            a href=(format!("/documentos/{}", padron.tomos[0].id)) { (padron.tomos[0].folio) }
                            @if padron.tomos.len() > 1 { " (" (padron.tomos.len()) " tomos)" }
                        }
                        td { (crate::web::page::short_date(&padron.corte)) }
                        td {
                            @match padron.archivo {
                                Since::Unchanged => "Sin cambios: lista lo que el archivo tiene hoy.",
                                Since::Changed { nuevos, anulados } => {
                                    strong { "Cambió: " }
                                    (nuevos) " documento(s) nuevo(s) y " (anulados) " anulado(s) o reemplazado(s) que otorgan el servicio en el periodo. Emita el padrón de nuevo para integrar una versión que reemplace a la vigente."
                                },
                                Since::Unknown => "No se puede comprobar con el catálogo de hoy.",
                            }
                        }
                    }
                }
            }
        }
    }
}

fn counts_table(counts: &registros::actividades::Counts) -> Markup {
    html! {
        p { (counts.sesiones.len()) " sesión(es), " (counts.asistencias) " asistencia(s), " (counts.personas) " persona(s) distinta(s), según las listas de asistencia vigentes." }
        @if !counts.sesiones.is_empty() {
            table {
                thead { tr { th { "Lista" } th { "Fecha" } th { "Motivo" } th { "Asistentes" } } }
                tbody {
                    @for session in &counts.sesiones {
                        tr {
                            td { (session.folio) }
                            td { (crate::web::page::short_date(&session.fecha)) } td { (session.motivo) } td { (session.asistentes) }
                        }
                    }
                }
            }
        }
    }
}

fn issuing<'a>(state: &'a AppState, archive: &'a crate::archive::Archive, staff: &'a Staff) -> Issuing<'a> {
    let user = staff.user();
    Issuing {
        issuer: &state.issuer,
        archive,
        name: &user.display_name,
        cargo: &user.cargo,
        actor: &user.username,
        signs: true,
        at: state.issuer.now_in(archive.office()),
    }
}

/// Where a register issued (or found unchanged) is shown: its first tomo.
fn shown(staff: &Staff, issued: Result<Version, ArchiveError>) -> PageResult {
    match issued {
        Ok(version) => match version.tomos.first() {
            Some(tomo) => Ok(Redirect::to(&format!("/documentos/{}", tomo.id)).into_response()),
            None => Err(PageError::bad_request(staff, "No se emitió ningún tomo.")),
        },
        Err(ArchiveError::Refused(message) | ArchiveError::InProgress(message)) => {
            Err(PageError::bad_request(staff, message))
        }
        // A tomo the form refuses: refused before any folio was taken.
        Err(ArchiveError::Issue(IssueError::Invalid(problems))) => {
            Err(PageError::bad_request(staff, problems.to_string()))
        }
        Err(error) => Err(error).or_page(staff),
    }
}

pub async fn padron(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<PadronForm>,
) -> PageResult {
    staff.require(|_| may_sign(&state, &staff, registros::padron::PADRON_FORM))?;
    let chosen: Vec<String> = Some(form.formulario.trim().to_owned())
        .filter(|f| !f.is_empty())
        .into_iter()
        .collect();
    let forms = registros::padron::granting_forms(&state.catalog, &chosen)
        .map_err(|e| PageError::bad_request(&staff, e.to_string()))?;
    let request = registros::padron::PadronRequest {
        programa: &form.programa,
        localidad: Some(form.localidad.as_str()),
        forms,
        from: day(&staff, "Desde", &form.desde)?,
        to: day(&staff, "Hasta", &form.hasta)?,
    };
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let issued = registros::padron::issue(&issuing(&state, &archive, &staff), &state.catalog, &request).await;
    shown(&staff, issued.map(|(version, _)| version))
}

pub async fn semanal(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<SemanalForm>,
) -> PageResult {
    staff.require(|_| may_sign(&state, &staff, registros::semanal::REPORT_FORM))?;
    let request = registros::semanal::WeekRequest {
        day: day(&staff, "Semana", &form.semana)?,
        forms: registros::semanal::oficio_forms(&state.catalog, &[])
            .map_err(|e| PageError::bad_request(&staff, e.to_string()))?,
        area: Some(form.area.as_str()),
    };
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let issued =
        registros::semanal::issue(&issuing(&state, &archive, &staff), &state.catalog, &request).await;
    shown(&staff, issued.map(|(version, _)| version))
}
