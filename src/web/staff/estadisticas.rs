//! `/estadisticas`: how many documents the office issued in a period, by
//! month, form, state, office and territory (see `web::figures`), for
//! everyone on staff. Two charts drawn on the server as SVG images, each
//! followed by a table with the same numbers, and the counts as CSV.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::{OrPage as _, PageError, PageResult};
use crate::archive::statistics::ByState;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::charts::{self, Bar};
use crate::web::figures::{FigureFilter, Figures, form_title, offices_counted_for};
use crate::web::ui::{notice, page};

/// How many forms the chart by form shows; the table lists them all.
const CHART_FORMS: usize = 12;

#[derive(Debug, Default, Deserialize)]
pub struct FigureQuery {
    desde: Option<String>,
    hasta: Option<String>,
    formulario: Option<String>,
}

impl FigureQuery {
    fn filter(&self, state: &AppState, today: chrono::NaiveDate) -> Result<FigureFilter, String> {
        FigureFilter::parse(
            &state.catalog,
            today,
            self.desde.as_deref(),
            self.hasta.as_deref(),
            self.formulario.as_deref(),
        )
    }
}

/// The query string of a filter, for the page's downloads and images.
/// Its values are dates and a form id of the catalog: nothing to encode.
fn query_of(filter: &FigureFilter) -> String {
    let form = filter
        .form
        .as_deref()
        .map(|f| format!("&formulario={f}"))
        .unwrap_or_default();
    format!("?desde={}&hasta={}{form}", filter.from, filter.to)
}

/// The figures `staff` may see for `query`, or the message of what is wrong.
async fn gather(
    state: &AppState,
    staff: &Staff,
    query: &FigureQuery,
) -> Result<Result<Figures, String>, PageError> {
    let user = staff.user();
    let archive = state.archive_for(user).await.or_page(staff)?;
    let today = state.issuer.now_in(archive.office()).date_naive();
    let filter = match query.filter(state, today) {
        Ok(filter) => filter,
        Err(message) => return Ok(Err(message)),
    };
    let offices = offices_counted_for(state, user).await.or_page(staff)?;
    Ok(Ok(Figures::gather(state, offices, filter)
        .await
        .or_page(staff)?))
}

/// The figures, or the page that says what is wrong with the filter.
async fn figures_or_refused(
    state: &AppState,
    staff: &Staff,
    query: &FigureQuery,
) -> Result<Figures, PageError> {
    gather(state, staff, query)
        .await?
        .map_err(|message| PageError::bad_request(staff, message))
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<FigureQuery>,
) -> PageResult {
    let figures = gather(&state, &staff, &query).await?;
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let chosen = query.formulario.clone().unwrap_or_default();
    let (status, shown) = match &figures {
        Ok(figures) => (StatusCode::OK, results(&state, figures)),
        Err(message) => (StatusCode::BAD_REQUEST, notice("error", message)),
    };
    let body = page(
        &staff,
        "Estadísticas",
        html! {
            p { "Cuántos documentos emitió su oficina, por mes, formulario, estado y territorio. Los folios anulados mientras se emitían no son documentos y no se cuentan." }
            form.filtros.tarjeta method="get" action="/estadisticas" {
                div { label for="desde" { "Desde" } input #desde type="date" name="desde" value=(value(&query.desde)); }
                div { label for="hasta" { "Hasta" } input #hasta type="date" name="hasta" value=(value(&query.hasta)); }
                div { label for="formulario" { "Formulario" }
                    select #formulario name="formulario" {
                        option value="" { "Todos" }
                        @for form in state.catalog.iter() {
                            option value=(form.id.as_str()) selected[chosen == form.id.as_str()] { (form.title) }
                        }
                    }
                }
                div { button { "Ver" } }
            }
            (shown)
        },
    );
    Ok((status, Html(body.into_string())).into_response())
}

fn states_cells(counts: &ByState) -> Markup {
    html! {
        td.numero { (counts.emitidos) } td.numero { (counts.anulados) }
        td.numero { (counts.reemplazados) } td.numero { strong { (counts.total()) } }
    }
}

fn states_header(first: &str) -> Markup {
    html! {
        thead { tr { th scope="col" { (first) } th scope="col" { "Vigentes" } th scope="col" { "Anulados" } th scope="col" { "Reemplazados" } th scope="col" { "Total" } } }
    }
}

fn results(state: &AppState, figures: &Figures) -> Markup {
    let query = query_of(&figures.filter);
    let total = figures.total();
    let by_form = figures.by_form();
    let by_territory = figures.by_territory();
    html! {
        p {
            "Del " (figures.filter.from) " al " (figures.filter.to) ": "
            strong { (total.total()) " documento(s)" }
            " (" (total.emitidos) " vigente(s), " (total.anulados) " anulado(s), " (total.reemplazados) " reemplazado(s))"
            @if let Some(form) = &figures.filter.form { ", solo «" (form_title(&state.catalog, form)) "»" }
            ". Oficina(s): " (figures.offices.join(", ")) "."
        }
        div.acciones {
            a.boton.secundario href={"/estadisticas/documentos.csv" (query)} { "Descargar por formulario y mes (CSV)" }
            a.boton.secundario href={"/estadisticas/territorios.csv" (query)} { "Descargar por territorio (CSV)" }
        }
        h2 #por-mes { "Documentos por mes" }
        figure.grafica {
            img src={"/estadisticas/por-mes.svg" (query)} width="720" height="300"
                alt=(month_description(figures));
            figcaption { "La misma cifra, mes por mes, en la tabla que sigue." }
        }
        table {
            caption { "Documentos por mes y estado" }
            (states_header("Mes"))
            tbody { @for (month, counts) in figures.by_month() { tr { th scope="row" { (month) } (states_cells(&counts)) } } }
        }
        h2 #por-formulario { "Documentos por formulario" }
        @if by_form.is_empty() { p { "No hay documentos en el periodo." } } @else {
            figure.grafica {
                img src={"/estadisticas/por-formulario.svg" (query)} width="720"
                    height=(36 + 24 * by_form.len().min(CHART_FORMS) + 10)
                    alt=(form_description(state, figures));
                figcaption { "Los " (CHART_FORMS) " formularios con más documentos; la tabla los lista todos." }
            }
            table {
                caption { "Documentos por formulario y estado" }
                (states_header("Formulario"))
                tbody { @for (form, counts) in &by_form { tr { th scope="row" { (form_title(&state.catalog, form)) } (states_cells(counts)) } } }
            }
        }
        h2 { "Por oficina" }
        table {
            caption { "Documentos por oficina y estado" }
            (states_header("Oficina"))
            tbody { @for (office, counts) in figures.by_office() { tr { th scope="row" { (office) } (states_cells(&counts)) } } }
        }
        h2 { "Por territorio" }
        @if by_territory.is_empty() {
            p { "Ningún documento del periodo lleva comuna, distrito o corregimiento." }
        } @else {
            table {
                caption { "Documentos de los formularios que indican comuna, distrito o corregimiento" }
                thead { tr { th scope="col" { "División" } th scope="col" { "Territorio" } th scope="col" { "Vigentes" } th scope="col" { "Anulados" } th scope="col" { "Reemplazados" } th scope="col" { "Total" } } }
                tbody {
                    @for ((division, name), counts) in &by_territory {
                        tr {
                            td { (division.as_str()) }
                            th scope="row" { @if name.is_empty() { em { "(sin dato)" } } @else { (name) } }
                            (states_cells(counts))
                        }
                    }
                }
            }
        }
    }
}

/// What the chart by month shows, in a sentence: its text alternative.
fn month_description(figures: &Figures) -> String {
    let months = figures.by_month();
    let total: i64 = months.iter().map(|(_, c)| c.total()).sum();
    let busiest = months
        .iter()
        .filter(|(_, c)| c.total() > 0)
        .max_by_key(|(month, c)| (c.total(), std::cmp::Reverse(month.clone())));
    match busiest {
        Some((month, counts)) => format!(
            "Documentos por mes, del {} al {}: {total} en total; el mes con más fue {month}, con {}. Los números están en la tabla que sigue.",
            figures.filter.from,
            figures.filter.to,
            counts.total()
        ),
        None => format!(
            "Documentos por mes, del {} al {}: ninguno.",
            figures.filter.from, figures.filter.to
        ),
    }
}

fn form_bars(state: &AppState, figures: &Figures) -> Vec<Bar> {
    let mut bars: Vec<Bar> = figures
        .by_form()
        .into_iter()
        .map(|(form, counts)| Bar {
            label: form_title(&state.catalog, &form).to_owned(),
            counts,
        })
        .collect();
    bars.sort_by(|a, b| {
        b.counts
            .total()
            .cmp(&a.counts.total())
            .then_with(|| a.label.cmp(&b.label))
    });
    bars.truncate(CHART_FORMS);
    bars
}

fn form_description(state: &AppState, figures: &Figures) -> String {
    let bars = form_bars(state, figures);
    let listed: Vec<String> = bars
        .iter()
        .take(3)
        .map(|b| format!("{}, {}", b.label, b.counts.total()))
        .collect();
    format!(
        "Documentos por formulario, del {} al {}; los que más: {}. Los números están en la tabla que sigue.",
        figures.filter.from,
        figures.filter.to,
        listed.join("; ")
    )
}

fn svg(body: String) -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], body).into_response()
}

pub async fn by_month_svg(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<FigureQuery>,
) -> PageResult {
    let figures = figures_or_refused(&state, &staff, &query).await?;
    let bars: Vec<Bar> = figures
        .by_month()
        .into_iter()
        .map(|(month, counts)| Bar {
            label: month_label(&month),
            counts,
        })
        .collect();
    Ok(svg(charts::columns(
        "Documentos por mes",
        &month_description(&figures),
        &bars,
    )))
}

/// `2026-11` → `11/2026`.
fn month_label(month: &str) -> String {
    match month.split_once('-') {
        Some((year, month)) => format!("{month}/{year}"),
        None => month.to_owned(),
    }
}

pub async fn by_form_svg(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<FigureQuery>,
) -> PageResult {
    let figures = figures_or_refused(&state, &staff, &query).await?;
    let bars = form_bars(&state, &figures);
    Ok(svg(charts::rows(
        "Documentos por formulario",
        &form_description(&state, &figures),
        &bars,
    )))
}

fn csv(name: String, bytes: Vec<u8>) -> Response {
    (
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

pub async fn documents_csv(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<FigureQuery>,
) -> PageResult {
    let figures = figures_or_refused(&state, &staff, &query).await?;
    Ok(csv(
        figures.file_name("documentos"),
        figures.documents_csv(&state.catalog),
    ))
}

pub async fn territories_csv(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<FigureQuery>,
) -> PageResult {
    let figures = figures_or_refused(&state, &staff, &query).await?;
    Ok(csv(
        figures.file_name("territorios"),
        figures.territories_csv(&state.catalog),
    ))
}
