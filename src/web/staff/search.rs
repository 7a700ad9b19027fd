//! The archive's search, with its filters, for every role: over the
//! staff member's office and the offices under it, if any (read only,
//! each view recorded in the trail of the office seen).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use maud::html;

use super::error::{Failure, OrPage as _, PageResult};
use super::home::form_title;
use crate::archive::{ArchiveError, Status};
use crate::web::AppState;
use crate::web::api::records::SearchParams;
use crate::web::auth::Staff;
use crate::web::ui::{notice, page};

const SERIES: [(&str, &str); 8] = [
    ("OF", "Oficios"),
    ("CA", "Cartas"),
    ("AC", "Actas"),
    ("LI", "Listas"),
    ("PA", "Padrones"),
    ("PL", "Planes"),
    ("FI", "Fichas"),
    ("IN", "Informes"),
];

pub async fn search(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(params): Query<SearchParams>,
) -> PageResult {
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let visible = state.visible_offices(staff.user()).await.or_page(&staff)?;
    let asked = params.clone();
    let offices = state.search_offices(staff.user(), asked.office.as_deref()).await;
    let results = match (offices, params.query()) {
        (Ok(offices), Ok(query)) => match archive.search_in(&offices, &query).await {
            Ok(results) => Ok(results),
            Err(ArchiveError::Refused(message)) => Err(message),
            Err(error) => return Err(Failure::unavailable(error)).or_page(&staff),
        },
        (Err(ArchiveError::Refused(message)), _) | (_, Err(message)) => Err(message),
        (Err(error), _) => return Err(Failure::unavailable(error)).or_page(&staff),
    };
    if let Ok(results) = &results {
        state
            .record_search_views(staff.user(), &results.hits)
            .await
            .or_page(&staff)?;
    }
    let several = visible.len() > 1;
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut forms: Vec<_> = state.catalog.iter().collect();
    forms.sort_by(|a, b| a.title.cmp(&b.title));
    let body = page(
        &staff,
        "Archivo",
        html! {
            form.filtros.tarjeta method="get" action="/buscar" {
                div { label for="q" { "Buscar" } input #q name="q" value=(value(&asked.q)) placeholder="Nombre, CURP, folio, palabras…" autofocus; }
                div { label for="form" { "Documento" }
                    select #form name="form" {
                        option value="" { "Todos" }
                        @for form in &forms {
                            option value=(form.id.as_str()) selected[asked.form.as_deref() == Some(form.id.as_str())] { (form.title) }
                        }
                    }
                }
                div { label for="series" { "Serie" }
                    select #series name="series" {
                        option value="" { "Todas" }
                        @for (code, name) in SERIES {
                            option value=(code) selected[asked.series.as_deref() == Some(code)] { (name) }
                        }
                    }
                }
                div { label for="status" { "Estado" }
                    select #status name="status" {
                        option value="" { "Todos" }
                        @for status in Status::LISTED.map(Status::as_str) {
                            option value=(status) selected[asked.status.as_deref() == Some(status)] { (status) }
                        }
                    }
                }
                div { label for="from" { "Desde" } input #from type="date" name="from" value=(value(&asked.from)); }
                div { label for="to" { "Hasta" } input #to type="date" name="to" value=(value(&asked.to)); }
                div { label for="person" { "Identidad" } input #person name="person" value=(value(&asked.person)) placeholder="CURP, RUN, cédula"; }
                @if several {
                    div { label for="office" { "Oficina" }
                        select #office name="office" {
                            option value="" { "Todas las que consulto" }
                            @for code in &visible {
                                option value=(code) selected[asked.office.as_deref() == Some(code.as_str())] { (code) }
                            }
                        }
                    }
                }
                div { label for="expediente" { "Expediente" } input #expediente name="expediente" value=(value(&asked.expediente)) size="34" placeholder="Identificador, como en su página"; }
                div { button { "Buscar" } }
            }
            @match &results {
                Err(message) => (notice("error", message)),
                Ok(results) => {
                    p {
                        @if results.total_exact { (results.total) " documento(s)." } @else { "Más de " (results.total) " documentos; se muestran los más recientes. Afine la búsqueda." }
                    }
                    @if !results.hits.is_empty() {
                        table {
                            thead { tr { @if several { th { "Oficina" } } th { "Folio" } th { "Documento" } th { "Fecha" } th { "Expediente" } th { "Estado" } } }
                            tbody {
                                @for hit in &results.hits {
                                    tr {
                                        @if several { td { (hit.office_code) } }
                                        td { a href={"/documentos/" (hit.id)} { (hit.folio) } }
                                        td { (form_title(&state, &hit.form)) }
                                        td { (crate::web::page::short_date(&hit.issued_on)) }
                                        td { a href={"/expedientes/" (hit.expediente_id)} { (hit.expediente_title) } }
                                        td { span class={"estado " (hit.status.as_str())} { (hit.status.as_str()) } }
                                    }
                                }
                            }
                        }
                        @let shown = u64::from(results.page) * u64::from(results.per_page);
                        div.acciones {
                            @if results.page > 1 {
                                a.boton.secundario href=(page_link(&asked, results.page - 1)) { "← Anteriores" }
                            }
                            @if (shown as i64) < results.total {
                                a.boton.secundario href=(page_link(&asked, results.page + 1)) { "Siguientes →" }
                            }
                        }
                    }
                }
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

fn page_link(asked: &SearchParams, page: u32) -> String {
    let pairs: Vec<(&str, String)> = [
        ("q", &asked.q),
        ("form", &asked.form),
        ("series", &asked.series),
        ("status", &asked.status),
        ("from", &asked.from),
        ("to", &asked.to),
        ("person", &asked.person),
        ("expediente", &asked.expediente),
        ("office", &asked.office),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.clone().filter(|v| !v.is_empty()).map(|v| (name, v)))
    .chain([("page", page.to_string())])
    .collect();
    format!(
        "/buscar?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}
