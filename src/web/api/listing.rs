//! Documents and expedientes listed with filters and a cursor
//! (`archive::listing`): a client that follows `next_cursor` sees every
//! document exactly once, in the order issued, even while others are
//! being issued.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::extract::QueryParams;
use super::views::{DocumentView, ExpedienteView};
use super::{ApiError, AppState, archive_of};
use crate::archive::{DocumentFilter, LIST_LIMIT_MAX, Status};
use crate::public_id::PublicId;
use crate::web::auth::ApiCaller;

/// Rows per page when the client does not say.
const DEFAULT_LIMIT: u32 = 100;

/// Los filtros y la posición de un listado de documentos; todos opcionales.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentListParams {
    /// Solo este formulario, como «carta-compromiso».
    pub form: Option<String>,
    /// Solo en este estado: emitido, anulado o reemplazado.
    pub status: Option<String>,
    /// Emitidos desde este día (AAAA-MM-DD), inclusive.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Emitidos hasta este día (AAAA-MM-DD), inclusive.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Solo los de este expediente (su identificador).
    #[param(value_type = Option<PublicId>)]
    pub expediente: Option<String>,
    /// El `next_cursor` de la página anterior; sin él, desde el principio.
    pub cursor: Option<String>,
    /// Documentos por página (1 a 500; 100 si no se dice).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Una página de documentos, en el orden en que se emitieron.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentListBody {
    pub documents: Vec<DocumentView>,
    /// Para pedir la página siguiente (`cursor=`). Está siempre: una página
    /// corta o vacía quiere decir que por ahora no hay más, y el mismo
    /// cursor trae después lo que se emita.
    pub next_cursor: String,
}

/// El tipo y la posición de un listado de expedientes; todos opcionales.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExpedienteListParams {
    /// Solo de este tipo: familia, persona, grupo, comunidad, programa o administrativo.
    pub kind: Option<String>,
    /// El `next_cursor` de la página anterior; sin él, desde el principio.
    pub cursor: Option<String>,
    /// Expedientes por página (1 a 500; 100 si no se dice).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Una página de expedientes, en el orden en que se emitió su primer documento.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExpedienteListBody {
    pub expedientes: Vec<ExpedienteView>,
    /// Para pedir la página siguiente (`cursor=`); ver los documentos.
    pub next_cursor: String,
}

/// A cursor is a log position, shown as text so clients treat it as opaque.
fn read_cursor(cursor: Option<&str>) -> Result<i64, ApiError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(-1),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= -1)
            .ok_or_else(|| ApiError::bad_request("cursor: use el next_cursor de una página anterior")),
    }
}

fn read_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=LIST_LIMIT_MAX).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(format!("limit: de 1 a {LIST_LIMIT_MAX}"))),
    }
}

impl DocumentListParams {
    fn filter(&self) -> Result<DocumentFilter, ApiError> {
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let date = |name: &str, value: &Option<String>| -> Result<Option<NaiveDate>, ApiError> {
            text(value)
                .map(|t| {
                    NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| {
                        ApiError::bad_request(format!("{name}: «{t}» no es una fecha AAAA-MM-DD"))
                    })
                })
                .transpose()
        };
        let status = text(&self.status)
            .map(|t| {
                Status::parse_listed(&t)
                    .ok_or_else(|| ApiError::bad_request("status: use emitido, anulado o reemplazado"))
            })
            .transpose()?;
        let expediente = text(&self.expediente)
            .map(|t| {
                PublicId::parse(&t).map_err(|_| {
                    ApiError::bad_request(format!(
                        "expediente: «{t}» no es el identificador de un expediente (32 letras y dígitos)"
                    ))
                })
            })
            .transpose()?;
        Ok(DocumentFilter {
            form: text(&self.form),
            status,
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            expediente,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/documents", tag = "archivo",
    summary = "Lista los documentos de la oficina, página por página",
    description = "Los documentos emitidos por la oficina, en el orden en que se emitieron, con filtros. \
                   Cada respuesta trae `next_cursor`: quien lo sigue recibe cada documento exactamente una vez, \
                   aunque se emitan otros mientras pagina (el cursor es una posición del registro público, \
                   donde cada emisión entra en orden). El estado es el de ahora: un documento anulado después \
                   aparece anulado.",
    params(DocumentListParams),
    responses((status = 200, body = DocumentListBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody)))]
pub async fn list_documents(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    QueryParams(params): QueryParams<DocumentListParams>,
) -> Result<Json<DocumentListBody>, ApiError> {
    let filter = params.filter()?;
    let after = read_cursor(params.cursor.as_deref())?;
    let limit = read_limit(params.limit)?;
    let archive = archive_of(&state, &user).await?;
    let rows = archive.list_documents(&filter, after, limit).await?;
    let next = rows.last().map_or(after, |row| row.position);
    Ok(Json(DocumentListBody {
        documents: rows.iter().map(|row| DocumentView::from(&row.record)).collect(),
        next_cursor: next.to_string(),
    }))
}

#[utoipa::path(get, path = "/api/v1/expedientes", tag = "archivo",
    summary = "Lista los expedientes de la oficina, página por página",
    description = "Los expedientes con al menos un documento emitido, en el orden en que se emitió el primero; \
                   `next_cursor` funciona como en el listado de documentos.",
    params(ExpedienteListParams),
    responses((status = 200, body = ExpedienteListBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody)))]
pub async fn list_expedientes(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    QueryParams(params): QueryParams<ExpedienteListParams>,
) -> Result<Json<ExpedienteListBody>, ApiError> {
    let after = read_cursor(params.cursor.as_deref())?;
    let limit = read_limit(params.limit)?;
    let kind = params.kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let archive = archive_of(&state, &user).await?;
    let rows = archive.list_expedientes(kind, after, limit).await?;
    let next = rows.last().map_or(after, |row| row.position);
    Ok(Json(ExpedienteListBody {
        expedientes: rows.iter().map(|row| ExpedienteView::from(&row.record)).collect(),
        next_cursor: next.to_string(),
    }))
}
