//! `/api/v1/estadisticas`: how many documents the caller's offices issued
//! in a period, by form, month, state, office and territory (see
//! `web::figures`), as JSON or as CSV.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::extract::QueryParams;
use super::{ApiError, AppState, archive_of};
use crate::accounts::User;
use crate::archive::statistics::ByState;
use crate::web::auth::ApiCaller;
use crate::web::figures::{FigureFilter, Figures, offices_counted_for};

/// The period and form counted.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FigureParams {
    /// Primer día, `2026-01-01`; por defecto, el primero del mes de hace once meses.
    pub desde: Option<String>,
    /// Último día; por defecto, hoy.
    pub hasta: Option<String>,
    /// Solo los documentos de este formulario del catálogo.
    pub formulario: Option<String>,
}

/// Which table the CSV holds.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Table {
    /// Por oficina, formulario, mes y estado.
    #[default]
    Documentos,
    /// Por división territorial (comuna, distrito, corregimiento), territorio y estado.
    Territorios,
}

/// The period, form and table of the CSV.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvParams {
    /// Primer día, `2026-01-01`; por defecto, el primero del mes de hace once meses.
    pub desde: Option<String>,
    /// Último día; por defecto, hoy.
    pub hasta: Option<String>,
    /// Solo los documentos de este formulario del catálogo.
    pub formulario: Option<String>,
    /// `documentos` (por defecto) o `territorios`.
    pub tabla: Option<Table>,
}

/// Documents by state: in force, annulled, replaced.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StateCounts {
    /// Emitidos y vigentes.
    pub emitidos: i64,
    pub anulados: i64,
    pub reemplazados: i64,
    pub total: i64,
}

impl From<&ByState> for StateCounts {
    fn from(counts: &ByState) -> Self {
        Self {
            emitidos: counts.emitidos,
            anulados: counts.anulados,
            reemplazados: counts.reemplazados,
            total: counts.total(),
        }
    }
}

/// The documents of one form, month or office.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyedCounts {
    /// El formulario, el mes (`2026-11`) o la oficina.
    pub clave: String,
    pub documentos: StateCounts,
}

/// The documents that name one territory.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TerritoryCounts {
    /// `comuna`, `distrito` o `corregimiento`.
    pub division: String,
    /// Como se escribió en los documentos; vacío si no lo indican.
    pub nombre: String,
    pub documentos: StateCounts,
}

/// One office's documents of one form, month and state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FigureRow {
    pub oficina: String,
    pub formulario: String,
    /// `2026-11`.
    pub mes: String,
    /// `emitido`, `anulado` o `reemplazado`.
    pub estado: String,
    pub documentos: i64,
}

/// The statistics of a period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FiguresBody {
    pub desde: String,
    pub hasta: String,
    pub formulario: Option<String>,
    /// Las oficinas sumadas: la de quien pregunta y las que dependen de ella.
    pub oficinas: Vec<String>,
    pub total: StateCounts,
    pub por_formulario: Vec<KeyedCounts>,
    /// Cada mes del periodo, también los que no tienen documentos.
    pub por_mes: Vec<KeyedCounts>,
    pub por_oficina: Vec<KeyedCounts>,
    /// Solo los formularios que llevan comuna, distrito o corregimiento.
    pub por_territorio: Vec<TerritoryCounts>,
    /// Por oficina, formulario, mes y estado: de donde salen las sumas.
    pub filas: Vec<FigureRow>,
}

fn keyed(totals: impl IntoIterator<Item = (String, ByState)>) -> Vec<KeyedCounts> {
    totals
        .into_iter()
        .map(|(clave, counts)| KeyedCounts {
            clave,
            documentos: StateCounts::from(&counts),
        })
        .collect()
}

impl From<&Figures> for FiguresBody {
    fn from(figures: &Figures) -> Self {
        let by_form: BTreeMap<String, ByState> = figures.by_form();
        Self {
            desde: figures.filter.from.to_string(),
            hasta: figures.filter.to.to_string(),
            formulario: figures.filter.form.clone(),
            oficinas: figures.offices.clone(),
            total: StateCounts::from(&figures.total()),
            por_formulario: keyed(by_form),
            por_mes: keyed(figures.by_month()),
            por_oficina: keyed(figures.by_office()),
            por_territorio: figures
                .by_territory()
                .into_iter()
                .map(|((division, nombre), counts)| TerritoryCounts {
                    division: division.as_str().to_owned(),
                    nombre,
                    documentos: StateCounts::from(&counts),
                })
                .collect(),
            filas: figures
                .documents
                .iter()
                .map(|c| FigureRow {
                    oficina: c.office_code.clone(),
                    formulario: c.form.clone(),
                    mes: c.month.clone(),
                    estado: c.status.as_str().to_owned(),
                    documentos: c.documents,
                })
                .collect(),
        }
    }
}

/// Counts what `user` may see for the request's filter.
async fn figures_for(
    state: &AppState,
    user: &User,
    (desde, hasta, formulario): (Option<&str>, Option<&str>, Option<&str>),
) -> Result<Figures, ApiError> {
    let archive = archive_of(state, user).await?;
    let today = state.issuer.now_in(archive.office()).date_naive();
    let filter = FigureFilter::parse(&state.catalog, today, desde, hasta, formulario)
        .map_err(ApiError::bad_request)?;
    let offices = offices_counted_for(state, user).await?;
    Ok(Figures::gather(state, offices, filter).await?)
}

/// How many documents the caller's office issued in the period (by
/// default the last twelve months), by form, month, state (in force,
/// annulled, replaced), office and, for the forms that carry one, comuna,
/// distrito or corregimiento. Folios annulled while being issued are not
/// documents and do not count.
#[utoipa::path(get, path = "/api/v1/estadisticas", tag = "estadisticas",
    summary = "Cuántos documentos se emitieron en un periodo",
    description = "En la oficina de quien llama y las que dependen de ella, por omisión en los últimos doce meses: por formulario, mes, estado (vigente, anulado, reemplazado), oficina y, en los formularios que la llevan, comuna, distrito o corregimiento. Los folios anulados mientras se emitían no cuentan.",
    params(FigureParams),
    responses((status = 200, body = FiguresBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody)))]
pub async fn figures(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    QueryParams(params): QueryParams<FigureParams>,
) -> Result<Json<FiguresBody>, ApiError> {
    let asked = (
        params.desde.as_deref(),
        params.hasta.as_deref(),
        params.formulario.as_deref(),
    );
    let figures = figures_for(&state, &user, asked).await?;
    Ok(Json(FiguresBody::from(&figures)))
}

/// The same counts as a spreadsheet (CSV with `;`, UTF-8 with BOM): by
/// office, form, month and state, or by territory.
#[utoipa::path(get, path = "/api/v1/estadisticas/csv", tag = "estadisticas",
    summary = "Los mismos conteos como planilla",
    description = "CSV con `;`, UTF-8 con BOM: por oficina, formulario, mes y estado, o por territorio.",
    params(CsvParams),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody)))]
pub async fn figures_csv(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    QueryParams(params): QueryParams<CsvParams>,
) -> Result<Response, ApiError> {
    let asked = (
        params.desde.as_deref(),
        params.hasta.as_deref(),
        params.formulario.as_deref(),
    );
    let figures = figures_for(&state, &user, asked).await?;
    let (table, bytes) = match params.tabla.unwrap_or_default() {
        Table::Documentos => ("documentos", figures.documents_csv(&state.catalog)),
        Table::Territorios => ("territorios", figures.territories_csv(&state.catalog)),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", figures.file_name(table)),
            ),
        ],
        bytes,
    )
        .into_response())
}
