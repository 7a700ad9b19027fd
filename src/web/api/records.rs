//! Expedientes and the archive's search.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::extract::{PathParams, QueryParams};
use super::views::{DocumentView, ExpedienteView, PersonView, ReferralView, SearchResultsView};
use super::{ApiError, AppState, archive_of};
use crate::archive::{PER_PAGE_MAX, SearchQuery, Status};
use crate::public_id::PublicId;
use crate::web::auth::ApiCaller;

/// An expediente with its persons and documents.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExpedienteBody {
    pub expediente: ExpedienteView,
    pub persons: Vec<PersonView>,
    pub documents: Vec<DocumentView>,
    /// The referrals it takes part in: those its derivaciones sent and
    /// those its contrarreferencias answered, with the other office's
    /// document (see `/api/v1/derivaciones/{id}`).
    pub referrals: Vec<ReferralView>,
}

/// An expediente of the caller's office, or of an office under it (read
/// only, recorded in that office's audit trail).
#[utoipa::path(get, path = "/api/v1/expedientes/{id}", tag = "archivo",
    params(("id" = PublicId, Path, description = "Identificador del expediente")),
    responses((status = 200, body = ExpedienteBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn get_expediente(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<ExpedienteBody>, ApiError> {
    let id = super::public_id(&id, "ese expediente")?;
    let (archive, expediente) = state.readable_expediente(&user, id).await?;
    let persons = archive.expediente_persons(expediente.row_id).await?;
    let documents = archive.expediente_documents(expediente.row_id).await?;
    let referrals = archive.expediente_referrals(expediente.row_id).await?;
    let today = chrono::Utc::now()
        .with_timezone(&state.issuer.time_zone_of(archive.office()))
        .date_naive();
    Ok(Json(ExpedienteBody {
        referrals: referrals
            .iter()
            .map(|r| ReferralView::of(r, r.state(today)))
            .collect(),
        expediente: ExpedienteView::from(&expediente),
        persons: persons.iter().map(PersonView::from).collect(),
        documents: documents.iter().map(DocumentView::from).collect(),
    }))
}

/// The search's parameters; all optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words (accents and case ignored; the last may be a prefix) or a folio.
    pub q: Option<String>,
    /// A form's id.
    pub form: Option<String>,
    /// A series: OF, CA, AC, LI, PA, PL, FI, IN.
    pub series: Option<String>,
    /// emitido, anulado or reemplazado.
    pub status: Option<String>,
    /// Issued on or after (YYYY-MM-DD).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Issued on or before (YYYY-MM-DD).
    #[param(format = Date)]
    pub to: Option<String>,
    /// An expediente's id.
    #[param(value_type = Option<PublicId>)]
    pub expediente: Option<String>,
    /// A person's identity number (CURP, RUN, cédula).
    pub person: Option<String>,
    /// Only this office (its code): the caller's own or one under it. By
    /// default, every office the caller may read.
    pub office: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

impl SearchParams {
    /// The archive's query, its limits checked.
    pub fn query(self) -> Result<SearchQuery, String> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if page == 0 {
            return Err("page: las páginas se cuentan desde 1".into());
        }
        if per_page == 0 || per_page > PER_PAGE_MAX {
            return Err(format!("per_page: de 1 a {PER_PAGE_MAX}"));
        }
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => {
                Some(Status::parse_listed(text).ok_or("status: use emitido, anulado o reemplazado")?)
            }
        };
        let date = |name: &str, value: Option<String>| -> Result<Option<NaiveDate>, String> {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| format!("{name}: «{text}» no es una fecha AAAA-MM-DD")),
            }
        };
        let from = date("from", self.from)?;
        let to = date("to", self.to)?;
        let expediente = match self
            .expediente
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(text) => Some(PublicId::parse(text).map_err(|_| {
                format!("expediente: «{text}» no es el identificador de un expediente (32 letras y dígitos)")
            })?),
        };
        Ok(SearchQuery {
            text: self.q.unwrap_or_default(),
            form: self.form.filter(|f| !f.is_empty()),
            series: self.series.filter(|s| !s.is_empty()),
            status,
            from,
            to,
            expediente,
            person: self.person.filter(|p| !p.is_empty()),
            page,
            per_page,
        })
    }
}

/// Searches the archives of the caller's office and of the offices under
/// it (each hit says its office); what other offices' documents were
/// shown is recorded in their audit trails.
#[utoipa::path(get, path = "/api/v1/search", tag = "archivo", params(SearchParams),
    responses((status = 200, body = SearchResultsView), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody)))]
pub async fn search(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    QueryParams(params): QueryParams<SearchParams>,
) -> Result<Json<SearchResultsView>, ApiError> {
    let offices = state
        .search_offices(&user, params.office.as_deref())
        .await
        .map_err(|e| match e {
            crate::archive::ArchiveError::Refused(message) => ApiError::bad_request(message),
            other => other.into(),
        })?;
    let query = params.query().map_err(ApiError::bad_request)?;
    let archive = archive_of(&state, &user).await?;
    let results = archive.search_in(&offices, &query).await?;
    state.record_search_views(&user, &results.hits).await?;
    Ok(Json(SearchResultsView::from(&results)))
}
