//! The JSON API under `/api/v1`, for integrations. Callers authenticate
//! with an API token (`Authorization: Bearer sello_…`) and act as the
//! user who created it, within that user's office and role. Every error
//! has the same envelope; a 5xx never says more than "internal error".
//!
//! Long because the envelope, the OpenAPI document's list of operations
//! and the routes are the API's one table of contents, read together.

mod catalog;
mod corrections;
mod documents;
mod drafts;
mod estadisticas;
mod extract;
mod listing;
mod lote_approval;
mod lotes;
mod offices;
pub(super) mod records;
mod referrals;
mod registros;
mod spanish;
mod sso_rules;
pub(super) mod verification;
mod views;
mod webhooks;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::OpenApi;

use super::AppState;
use crate::accounts::{AccountError, Role, User};
use crate::archive::{Archive, ArchiveError};
use crate::forms::Problem;
use crate::tramites::StepError;
use spanish::SpanishOperations;

/// The error envelope: `{"error": {"code", "message", "problems"?}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `not_found`, `invalid_data`, `forbidden`…
    pub code: &'static str,
    /// For people, in Spanish.
    pub message: String,
    /// For invalid data: each field's path and what is wrong with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

/// An API error, turned into the envelope with its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: ErrorDetail,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            detail: ErrorDetail {
                code,
                message: message.into(),
                problems: Vec::new(),
            },
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "falta un token de API válido en «Authorization: Bearer …»",
        )
    }

    pub fn forbidden(role: Role) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("el rol {} no permite esta operación", role.as_str()),
        )
    }

    /// Something of an office under the caller's, which they only read.
    pub fn read_only(office: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "read_only",
            format!(
                "es de la oficina {office}, que su oficina consulta sin modificar: lo cambia esa oficina"
            ),
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn invalid_data(problems: Vec<Problem>) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_data",
            "los datos no son válidos para el formulario; vea «problems»",
        );
        error.detail.problems = problems;
        error
    }

    /// A failure of ours: logged with its cause, answered without it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "falla interna en la API");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "error interno; intente de nuevo más tarde",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.detail })).into_response()
    }
}

impl From<ArchiveError> for ApiError {
    fn from(error: ArchiveError) -> Self {
        use crate::signed_pdf::IssueError;
        match error {
            ArchiveError::DocumentNotFound(_)
            | ArchiveError::ExpedienteNotFound(_)
            | ArchiveError::NotShared(_) => Self::not_found(error.to_string()),
            ArchiveError::IdempotencyConflict(_) | ArchiveError::InProgress(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            ArchiveError::Refused(message) => Self::new(StatusCode::CONFLICT, "refused", message),
            ArchiveError::Issue(IssueError::Invalid(problems)) => Self::invalid_data(problems.0),
            other => Self::internal(&other),
        }
    }
}

/// A step of a trámite not taken.
impl From<StepError> for ApiError {
    fn from(error: StepError) -> Self {
        match error {
            StepError::NotFound(message) => Self::not_found(message),
            StepError::Forbidden(message) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            StepError::Refused(message) => Self::new(StatusCode::CONFLICT, "refused", message),
            StepError::Archive(error) => error.into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(message) => Self::bad_request(message),
            AccountError::UserNotFound => Self::not_found(error.to_string()),
            other => Self::internal(&other),
        }
    }
}

/// The public id a path names; a malformed one is as missing as one of
/// another office. `what` names the thing: «ese borrador».
pub(super) fn public_id(text: &str, what: &str) -> Result<crate::public_id::PublicId, ApiError> {
    crate::public_id::PublicId::parse(text)
        .map_err(|_| ApiError::not_found(format!("no existe {what} en esta oficina")))
}

/// The caller's office's archive, the only one they change. What they
/// read of the offices under it goes through `AppState::readable_document`
/// and its kin (`web/reach.rs`).
pub async fn archive_of(state: &AppState, user: &User) -> Result<Archive, AccountError> {
    state.archive_for(user).await
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sello API",
        description = "Documentos oficiales firmados: formularios, emisión, archivo y verificación. \
                       Autenticación: `Authorization: Bearer <token de API>`.",
        version = "1"
    ),
    paths(
        catalog::list_forms,
        catalog::form_schema,
        documents::issue_document,
        documents::get_document,
        documents::get_pdf,
        documents::annul_document,
        documents::attach_hand_signature,
        documents::get_hand_signature,
        corrections::correct_document,
        drafts::create_draft,
        drafts::get_draft,
        drafts::update_draft,
        drafts::take_step,
        drafts::draw_signature,
        drafts::inbox,
        estadisticas::figures,
        estadisticas::figures_csv,
        lotes::upload,
        lotes::list,
        lotes::show,
        lotes::problems,
        lotes::documents,
        lotes::merged_pdf,
        lotes::padron,
        lote_approval::approve,
        lote_approval::send_back,
        listing::list_documents,
        listing::list_expedientes,
        records::get_expediente,
        records::search,
        referrals::list,
        referrals::get,
        referrals::pdf,
        offices::list,
        offices::set_parent,
        offices::grants,
        offices::grant,
        offices::revoke,
        offices::bulk_setting,
        offices::set_bulk_setting,
        sso_rules::list,
        sso_rules::create,
        sso_rules::delete,
        registros::padron,
        registros::semanal,
        registros::actividades,
        registros::borrador,
        registros::seguimientos,
        verification::verify,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::get_webhook,
        webhooks::delete_webhook,
        webhooks::list_deliveries,
        webhooks::redeliver,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth, &SpanishOperations),
    security(("token" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// `/api/v1/openapi.json`.
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Unknown paths under `/api/v1` answer in the envelope too.
async fn unknown() -> ApiError {
    ApiError::not_found("no existe esa ruta de la API")
}

/// Errors axum answers by itself (wrong method, body too large, wrong
/// content type) get the envelope too.
async fn envelope_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "esa ruta no admite ese método"),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "el cuerpo de la petición es demasiado grande",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "envíe el cuerpo como application/json")
        }
        StatusCode::NOT_FOUND => ("not_found", "no existe esa ruta de la API"),
        s if s.is_server_error() => ("internal", "error interno; intente de nuevo más tarde"),
        _ => ("bad_request", "la petición no es válida"),
    };
    let mut answer = ApiError::new(status, code, message).into_response();
    for name in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

/// A scan in base64 is a third larger than the scan.
const SCAN_BODY_MAX: usize = crate::tramites::SCAN_MAX / 3 * 4 + 64 * 1024;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/forms", get(catalog::list_forms))
        .route("/api/v1/forms/{id}", get(catalog::form_schema))
        .route(
            "/api/v1/documents",
            post(documents::issue_document).get(listing::list_documents),
        )
        .route("/api/v1/documents/{reference}", get(documents::get_document))
        .route("/api/v1/documents/{reference}/pdf", get(documents::get_pdf))
        .route(
            "/api/v1/documents/{reference}/annul",
            post(documents::annul_document),
        )
        .route(
            "/api/v1/documents/{reference}/correct",
            post(corrections::correct_document),
        )
        .route(
            "/api/v1/documents/{reference}/hand-signatures",
            post(documents::attach_hand_signature).layer(axum::extract::DefaultBodyLimit::max(SCAN_BODY_MAX)),
        )
        .route(
            "/api/v1/documents/{reference}/hand-signatures/{id}",
            get(documents::get_hand_signature),
        )
        .route("/api/v1/drafts", post(drafts::create_draft))
        .route(
            "/api/v1/drafts/{id}",
            get(drafts::get_draft).put(drafts::update_draft),
        )
        .route(
            "/api/v1/drafts/{id}/hand-signatures",
            post(drafts::draw_signature),
        )
        .route("/api/v1/drafts/{id}/{action}", post(drafts::take_step))
        .route("/api/v1/inbox", get(drafts::inbox))
        .route("/api/v1/estadisticas", get(estadisticas::figures))
        .route("/api/v1/estadisticas/csv", get(estadisticas::figures_csv))
        .route(
            "/api/v1/lotes",
            post(lotes::upload)
                .get(lotes::list)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::web::lotes::UPLOAD_MAX,
                )),
        )
        .route("/api/v1/lotes/{id}", get(lotes::show))
        .route("/api/v1/lotes/{id}/problemas", get(lotes::problems))
        .route("/api/v1/lotes/{id}/documentos", get(lotes::documents))
        .route("/api/v1/lotes/{id}/pdf", get(lotes::merged_pdf))
        .route("/api/v1/lotes/{id}/padron", post(lotes::padron))
        .route("/api/v1/lotes/{id}/aprobar", post(lote_approval::approve))
        .route("/api/v1/lotes/{id}/devolver", post(lote_approval::send_back))
        .route("/api/v1/expedientes", get(listing::list_expedientes))
        .route("/api/v1/expedientes/{id}", get(records::get_expediente))
        .route("/api/v1/search", get(records::search))
        .route("/api/v1/derivaciones", get(referrals::list))
        .route("/api/v1/derivaciones/{id}", get(referrals::get))
        .route(
            "/api/v1/derivaciones/{id}/documentos/{document}/pdf",
            get(referrals::pdf),
        )
        .route("/api/v1/offices", get(offices::list))
        .route(
            "/api/v1/offices/{code}/parent",
            axum::routing::put(offices::set_parent),
        )
        .route("/api/v1/offices/{code}/grants", get(offices::grants))
        .route(
            "/api/v1/offices/{code}/lotes",
            get(offices::bulk_setting).put(offices::set_bulk_setting),
        )
        .route(
            "/api/v1/offices/{code}/grants/{username}",
            axum::routing::put(offices::grant).delete(offices::revoke),
        )
        .route("/api/v1/sso/rules", get(sso_rules::list).post(sso_rules::create))
        .route("/api/v1/sso/rules/{id}", axum::routing::delete(sso_rules::delete))
        .route("/api/v1/registros/padron", post(registros::padron))
        .route("/api/v1/registros/semanal", post(registros::semanal))
        .route("/api/v1/registros/actividades", get(registros::actividades))
        .route("/api/v1/seguimientos", get(registros::seguimientos))
        .route(
            "/api/v1/registros/actividades/borrador",
            post(registros::borrador),
        )
        .route(
            "/api/v1/webhooks",
            post(webhooks::create_webhook).get(webhooks::list_webhooks),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::get_webhook).delete(webhooks::delete_webhook),
        )
        .route("/api/v1/webhooks/{id}/entregas", get(webhooks::list_deliveries))
        .route(
            "/api/v1/webhooks/{id}/entregas/{delivery}/reenviar",
            post(webhooks::redeliver),
        )
        .route("/api/v1/{*rest}", axum::routing::any(unknown))
        .layer(axum::middleware::map_response(envelope_errors))
}
