//! `/api/v1/registros/…`: the registers and reports Sello builds from the
//! archive (see `registros`). The padrón and the weekly report are issued
//! and signed by the caller, who must be able to sign their form; a new
//! version replaces the one before only when the archive changed. The
//! counts of the listas de asistencia are read, or start a draft of the
//! informe final or the reporte de actividades for the promotor to finish.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::extract::{Body, QueryParams};
use super::views::DocumentView;
use super::{ApiError, AppState, archive_of};
use crate::accounts::User;
use crate::archive::Archive;
use crate::public_id::PublicId;
use crate::registros::actividades::Counts;
use crate::registros::{self, Issuing, Version};
use crate::web::auth::ApiCaller;

/// Which padrón to build.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PadronBody {
    /// El programa o servicio, como «Ayudas funcionales 2026».
    pub programa: String,
    /// Los formularios cuyos documentos otorgan el servicio; por defecto, todos los que lo declaran.
    #[serde(default)]
    pub formularios: Vec<String>,
    /// Primer día del periodo, `2026-01-01`.
    pub desde: String,
    /// Último día del periodo.
    pub hasta: String,
    /// La localidad o municipio que encabeza el padrón: pedido con otra, es otro padrón.
    pub localidad: Option<String>,
}

/// Which weekly report to build.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SemanalBody {
    /// Un día de la semana (de lunes a domingo) que se reporta.
    pub semana: String,
    /// Los formularios de oficio que se reportan; por defecto, todos.
    #[serde(default)]
    pub formularios: Vec<String>,
    pub area: Option<String>,
}

/// A register as it stands after the request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterBody {
    pub version: i64,
    /// Si se emitió ahora (el archivo cambió, o es la primera versión).
    pub nueva: bool,
    /// Los folios de la versión que reemplazó.
    pub reemplaza: Vec<String>,
    /// Sus tomos, en orden.
    pub tomos: Vec<DocumentView>,
    /// Cuántas filas lista en total.
    pub filas: usize,
}

impl RegisterBody {
    fn of(version: &Version, filas: usize) -> Self {
        Self {
            version: version.number,
            nueva: version.new,
            reemplaza: version.replaced.clone(),
            tomos: version.tomos.iter().map(DocumentView::from).collect(),
            filas,
        }
    }

    fn response(self) -> Response {
        let status = if self.nueva {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        (status, Json(self)).into_response()
    }
}

/// The period of the counts.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// Primer día, `2026-08-01`.
    pub desde: String,
    /// Último día.
    pub hasta: String,
    /// Solo las listas de este grupo de trabajo (su campo «grupo»).
    pub grupo: Option<String>,
}

/// A draft started from the counts.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountsDraftBody {
    /// `informe-final` o `reporte-actividades`.
    pub formulario: String,
    pub desde: String,
    pub hasta: String,
    pub programa: String,
    pub localidad: String,
    /// Solo las listas de este grupo de trabajo (su campo «grupo»).
    #[serde(default)]
    pub grupo: Option<String>,
}

/// The draft started, and what it counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CountsDraft {
    /// El borrador, en `/api/v1/drafts/{id}`.
    pub borrador: PublicId,
    pub conteo: Counts,
}

fn day(name: &str, text: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{name}: «{text}» no es una fecha; escriba 2026-11-22")))
}

/// The caller issues and signs `form_id`'s register.
fn issuing<'a>(state: &'a AppState, archive: &'a Archive, user: &'a User, actor: &'a str) -> Issuing<'a> {
    Issuing {
        issuer: &state.issuer,
        archive,
        name: &user.display_name,
        cargo: &user.cargo,
        actor,
        signs: true,
        at: state.issuer.now_in(archive.office()),
    }
}

fn may_sign(state: &AppState, user: &User, form_id: &str) -> Result<(), ApiError> {
    let form = state
        .catalog
        .get(form_id)
        .ok_or_else(|| ApiError::not_found(format!("el catálogo no tiene el formulario «{form_id}»")))?;
    if form.workflow.allows_direct_issue(user.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(user.role))
    }
}

/// Builds the padrón de beneficiarios of a programme from the documents in
/// force that grant its service in the period, and issues it signed by the
/// caller: a new version, replacing the one before, only if the archive
/// changed since (201); the version in force otherwise (200).
#[utoipa::path(post, path = "/api/v1/registros/padron", tag = "registros",
    request_body = PadronBody,
    responses((status = 201, body = RegisterBody, description = "Nueva versión emitida"),
        (status = 200, body = RegisterBody, description = "El archivo no cambió: la versión vigente"),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn padron(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    Body(body): Body<PadronBody>,
) -> Result<Response, ApiError> {
    may_sign(&state, &user, registros::padron::PADRON_FORM)?;
    let request = registros::padron::PadronRequest {
        programa: &body.programa,
        localidad: body.localidad.as_deref(),
        forms: registros::padron::granting_forms(&state.catalog, &body.formularios)
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        from: day("desde", &body.desde)?,
        to: day("hasta", &body.hasta)?,
    };
    let archive = archive_of(&state, &user).await?;
    let actor = format!("{} (API)", user.username);
    let issuing = issuing(&state, &archive, &user, &actor);
    let (version, rows) = registros::padron::issue(&issuing, &state.catalog, &request).await?;
    Ok(RegisterBody::of(&version, rows).response())
}

/// Builds the weekly report of the oficios issued in a week (Monday to
/// Sunday, annulled ones marked) and issues it signed by the caller, as a
/// new version only if an oficio of the week was issued or annulled since.
#[utoipa::path(post, path = "/api/v1/registros/semanal", tag = "registros",
    request_body = SemanalBody,
    responses((status = 201, body = RegisterBody, description = "Nueva versión emitida"),
        (status = 200, body = RegisterBody, description = "El archivo no cambió: la versión vigente"),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn semanal(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    Body(body): Body<SemanalBody>,
) -> Result<Response, ApiError> {
    may_sign(&state, &user, registros::semanal::REPORT_FORM)?;
    let request = registros::semanal::WeekRequest {
        day: day("semana", &body.semana)?,
        forms: registros::semanal::oficio_forms(&state.catalog, &body.formularios)
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        area: body.area.as_deref(),
    };
    let archive = archive_of(&state, &user).await?;
    let actor = format!("{} (API)", user.username);
    let issuing = issuing(&state, &archive, &user, &actor);
    let (version, listed) = registros::semanal::issue(&issuing, &state.catalog, &request).await?;
    Ok(RegisterBody::of(&version, listed.len()).response())
}

/// The sessions and attendance the listas de asistencia in force record
/// for the period, each session with its folio.
#[utoipa::path(get, path = "/api/v1/registros/actividades", tag = "registros",
    params(PeriodParams),
    responses((status = 200, body = Counts), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn actividades(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    QueryParams(period): QueryParams<PeriodParams>,
) -> Result<Json<Counts>, ApiError> {
    let (from, to) = (day("desde", &period.desde)?, day("hasta", &period.hasta)?);
    let archive = archive_of(&state, &user).await?;
    Ok(Json(
        registros::actividades::count(&archive, from, to, period.grupo.as_deref()).await?,
    ))
}

/// Starts a draft of the informe final or the reporte de actividades with
/// the counts of the period filled in from the listas de asistencia, each
/// citing its folios; the promotor writes the rest and sends it on.
#[utoipa::path(post, path = "/api/v1/registros/actividades/borrador", tag = "registros",
    request_body = CountsDraftBody,
    responses((status = 201, body = CountsDraft), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn borrador(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    Body(body): Body<CountsDraftBody>,
) -> Result<Response, ApiError> {
    let (from, to) = (day("desde", &body.desde)?, day("hasta", &body.hasta)?);
    let form = state
        .catalog
        .get(&body.formulario)
        .filter(|f| matches!(f.id.as_str(), "informe-final" | "reporte-actividades"))
        .ok_or_else(|| ApiError::bad_request("formulario: use «informe-final» o «reporte-actividades»"))?;
    let archive = archive_of(&state, &user).await?;
    let counts = registros::actividades::count(&archive, from, to, body.grupo.as_deref()).await?;
    if counts.sesiones.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "refused",
            "no hay listas de asistencia vigentes de sesiones en el periodo: no hay nada que contar",
        ));
    }
    let data = match form.id.as_str() {
        "informe-final" => registros::actividades::informe_final(&counts, &body.programa, &body.localidad),
        _ => registros::actividades::reporte_actividades(&counts, &body.programa, &body.localidad),
    };
    let id = state.tramites().save(&archive, form, None, &data, &user).await?;
    let answer = CountsDraft {
        borrador: id,
        conteo: counts,
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// How far ahead to look.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AheadParams {
    /// Días hacia adelante que se incluyen, además de lo vencido (7 si se omite; hasta 365).
    pub dias: Option<u32>,
}

/// What the documents in force still owe (an acuse de entrega, a
/// constancia de asistencia, a monthly renewal, the answer to a
/// derivación), overdue or due within the days asked, the most overdue
/// first.
#[utoipa::path(get, path = "/api/v1/seguimientos", tag = "registros",
    params(AheadParams),
    responses((status = 200, body = Vec<crate::registros::seguimientos::Due>),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody)))]
pub async fn seguimientos(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    QueryParams(ahead): QueryParams<AheadParams>,
) -> Result<Json<Vec<crate::registros::seguimientos::Due>>, ApiError> {
    let days = ahead.dias.unwrap_or(7);
    if days > 365 {
        return Err(ApiError::bad_request("dias: de 0 a 365"));
    }
    let archive = archive_of(&state, &user).await?;
    let today = state.issuer.now_in(archive.office()).date_naive();
    let due = registros::seguimientos::pending(&archive, &state.catalog, today, u64::from(days)).await?;
    Ok(Json(due))
}
