//! Lotes through the API: the same lotes as the staff page, stored in the
//! database and issued by the job queue (`web::lotes`), with the same
//! roles: upload a spreadsheet (or only check it), follow
//! its progress, read its problems and what it issued, download every
//! document joined in one PDF, and issue its padrón. A lote prepared by
//! who does not sign (where the office allows it) waits for a signer, who
//! approves it or sends it back (`approval`).
//!
//! Long because each operation carries its OpenAPI text in Spanish and
//! each view says field by field what a client sees.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::extract::PathParams;
use super::{ApiError, AppState};
use crate::accounts::User;
use crate::archive::ArchiveError;
use crate::bulk;
use crate::bulk::lotes::{self as stored, LoteCounts, LoteRecord};
use crate::public_id::PublicId;
use crate::web::auth::ApiCaller;
use crate::web::lotes::{self, LoteError, Upload};

/// Lo que se sube para un lote (multipart/form-data).
#[allow(dead_code)] // Only the OpenAPI document reads it: the handler reads the parts.
#[derive(utoipa::ToSchema)]
pub struct LoteUpload {
    /// Identificador del formulario de cada documento, como «carta-compromiso».
    formulario: String,
    /// La planilla: .csv (UTF-8 o Latin-1) o .xlsx, una fila por documento.
    #[schema(value_type = String, format = Binary)]
    archivo: Vec<u8>,
    /// «true» para solo validar, sin emitir nada.
    solo_validar: Option<bool>,
    /// «true» si las personas que cada documento nombra para firmar firmarán el papel impreso.
    en_papel: Option<bool>,
}

/// Un lote: su avance, sus problemas y lo emitido hasta ahora.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoteView {
    /// Identificador del lote.
    pub id: PublicId,
    /// Formulario de sus documentos.
    pub form: String,
    /// Nombre del archivo subido.
    pub file_name: String,
    /// Fecha y hora de emisión de sus documentos (RFC 3339, en la zona de la oficina).
    pub issued_at: String,
    /// Si sus documentos esperan el escaneo del papel firmado a mano.
    pub on_paper: bool,
    /// Filas de la planilla.
    pub total_rows: usize,
    /// Filas sin problemas que se emiten (0 si solo se validó).
    pub valid_rows: usize,
    /// Filas ya procesadas.
    pub done: usize,
    /// Si terminó (o solo se validó).
    pub finished: bool,
    /// Por qué no se pudo emitir, si falló entero.
    pub failure: Option<String>,
    /// Columnas de la planilla que ningún campo lee.
    pub unused_columns: Vec<String>,
    /// Cantidad de problemas encontrados (ver `/problemas`).
    pub problems: usize,
    /// Documentos emitidos o encontrados ya emitidos (ver `/documentos`).
    pub documents: usize,
    /// Tomos del padrón del lote, si ya se emitió.
    pub padron: Vec<PadronTomoView>,
    /// Si espera la aprobación de quien firma: nada se ha emitido aún.
    pub awaiting_approval: bool,
    /// Usuario de quien lo preparó, si lo preparó quien no lo firma.
    pub prepared_by: Option<String>,
    /// Usuario de quien lo aprobó y firma sus documentos, si se aprobó.
    pub approved_by: Option<String>,
    /// Cuándo se aprobó (RFC 3339, en la zona de la oficina), si se aprobó.
    pub approved_at: Option<String>,
}

/// Un tomo del padrón de un lote.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PadronTomoView {
    /// Identificador del documento del tomo.
    pub id: PublicId,
    pub folio: String,
}

impl LoteView {
    fn new(lote: &LoteRecord, counts: LoteCounts) -> Self {
        Self {
            id: lote.public_id,
            form: lote.form.clone(),
            file_name: lote.file_name.clone(),
            issued_at: lote.issued_at.to_rfc3339(),
            on_paper: lote.on_paper,
            total_rows: lote.total_rows,
            valid_rows: lote.valid_rows,
            done: counts.done,
            finished: lote.is_finished(),
            failure: lote.failure.clone(),
            unused_columns: lote.unused_columns.clone(),
            problems: counts.problems,
            documents: counts.documents,
            padron: tomo_views(&lote.padron),
            awaiting_approval: lote.awaiting_approval,
            prepared_by: lote.prepared_by.clone(),
            approved_by: lote.approved_by.clone(),
            approved_at: lote
                .approved_at
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|at| at.with_timezone(&lote.issued_at.timezone()).to_rfc3339()),
        }
    }
}

/// The view of `lote` with its counts as they are now.
pub(super) async fn view(state: &AppState, lote: &LoteRecord) -> Result<LoteView, ApiError> {
    let counts = stored::counts(state.archive.store(), lote.id)
        .await
        .map_err(LoteError::from)?;
    Ok(LoteView::new(lote, counts))
}

fn tomo_views(padron: &[(PublicId, String)]) -> Vec<PadronTomoView> {
    padron
        .iter()
        .map(|(id, folio)| PadronTomoView {
            id: *id,
            folio: folio.clone(),
        })
        .collect()
}

/// Los lotes de la oficina, del más reciente al más antiguo.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LotesBody {
    pub lotes: Vec<LoteView>,
}

/// Un problema de una fila de la planilla.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowProblemView {
    /// Línea de la planilla (la primera fila de datos es la 2).
    pub line: usize,
    /// Columna (o campo) con el problema.
    pub column: String,
    /// Qué está mal, en español.
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemsBody {
    pub problems: Vec<RowProblemView>,
}

/// Un documento emitido por el lote (el listado).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoteDocumentView {
    /// Línea de la planilla de la que salió.
    pub line: usize,
    /// Identificador del documento.
    pub id: PublicId,
    pub folio: String,
    /// Enlace de verificación (el de su QR).
    pub verification_url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoteDocumentsBody {
    pub documents: Vec<LoteDocumentView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PadronBody {
    pub padron: Vec<PadronTomoView>,
}

fn require_issuer(user: &User) -> Result<(), ApiError> {
    if user.role.can_issue() {
        Ok(())
    } else {
        Err(ApiError::forbidden(user.role))
    }
}

/// A lote of the caller's office, for someone who may use bulk: who
/// signs, or who prepares documents where the office allows it.
pub(super) async fn office_job(state: &AppState, user: &User, id: &str) -> Result<LoteRecord, ApiError> {
    lotes::refuse_bulk(state, user).await?;
    lotes::office_job(state, user, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no existe ese lote en esta oficina"))
}

/// A finished lote of the caller's office, for someone who may issue.
async fn finished_job(state: &AppState, user: &User, id: &str) -> Result<LoteRecord, ApiError> {
    require_issuer(user)?;
    let job = office_job(state, user, id).await?;
    if !job.is_finished() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_finished",
            "el lote aún se está emitiendo; consulte su avance y vuelva cuando termine",
        ));
    }
    Ok(job)
}

impl From<LoteError> for ApiError {
    fn from(error: LoteError) -> Self {
        match error {
            LoteError::UnknownForm(form) => {
                Self::not_found(format!("formulario: no existe el formulario «{form}»"))
            }
            LoteError::InPerson { title, message } => Self::new(
                StatusCode::CONFLICT,
                "workflow_required",
                format!("«{title}» {message}: envíe en_papel=true si firmarán el papel impreso"),
            ),
            LoteError::Refused(message) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file", message)
            }
            LoteError::Busy(message) => Self::new(StatusCode::CONFLICT, "busy", message),
            LoteError::Forbidden(message) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            error @ LoteError::NotWaiting => {
                Self::new(StatusCode::CONFLICT, "not_awaiting_approval", error.to_string())
            }
            LoteError::Account(error) => error.into(),
            LoteError::Archive(
                error @ (ArchiveError::InProgress(_) | ArchiveError::Issue(_) | ArchiveError::Refused(_)),
            ) => Self::new(
                StatusCode::CONFLICT,
                "refused",
                format!(
                    "no se emitió el padrón: {error}; los tomos ya emitidos se conservan, vuelva a pedirlo"
                ),
            ),
            LoteError::Archive(error) => error.into(),
            LoteError::Stored(error) => Self::internal(&error),
            LoteError::Random(error) => Self::internal(&error),
        }
    }
}

/// Whether a multipart text field says yes.
fn yes(text: &str) -> bool {
    matches!(
        text.trim().to_lowercase().as_str(),
        "true" | "si" | "sí" | "1" | "on"
    )
}

#[utoipa::path(post, path = "/api/v1/lotes", tag = "lotes",
    summary = "Sube una planilla y emite un documento por fila",
    description = "Lee y valida la planilla fila por fila, como la página «Emisión por lotes», y emite en \
                   segundo plano un documento firmado por cada fila sin problemas. Responde enseguida: 202 si \
                   el lote quedó emitiéndose (su avance en `GET /api/v1/lotes/{id}`) o esperando aprobación, \
                   200 si solo se validó o ninguna fila estaba lista. Subir el mismo archivo otra vez no emite \
                   nada dos veces. Quien prepara documentos sin firmarlos (capturista, revisor, contador) sube \
                   lotes solo si su oficina lo permite (si no, 403); su lote espera (`awaiting_approval`) a que \
                   quien firma el formulario lo apruebe o lo devuelva.",
    request_body(content = LoteUpload, content_type = "multipart/form-data"),
    responses(
        (status = 202, body = LoteView, description = "Lote emitiéndose, o esperando aprobación"),
        (status = 200, body = LoteView, description = "Solo validado, o sin filas que emitir"),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 413, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn upload(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    lotes::refuse_bulk(&state, &user).await?;
    let mut form =
        form.map_err(|e| ApiError::bad_request(format!("envíe multipart/form-data: {}", e.body_text())))?;
    let mut upload = Upload {
        form_id: String::new(),
        file_name: String::new(),
        bytes: Vec::new(),
        dry_run: false,
        on_paper: false,
    };
    let incomplete = |_| ApiError::bad_request("la petición no llegó completa; envíela de nuevo");
    while let Some(field) = form.next_field().await.map_err(incomplete)? {
        match field.name().unwrap_or_default() {
            "formulario" => upload.form_id = field.text().await.map_err(incomplete)?,
            "solo_validar" => upload.dry_run = yes(&field.text().await.map_err(incomplete)?),
            "en_papel" => upload.on_paper = yes(&field.text().await.map_err(incomplete)?),
            "archivo" => {
                upload.file_name = field.file_name().unwrap_or("planilla.csv").to_owned();
                upload.bytes = field.bytes().await.map_err(incomplete)?.to_vec();
            }
            _ => {}
        }
    }
    if upload.form_id.trim().is_empty() {
        return Err(ApiError::bad_request(
            "formulario: falta el formulario de los documentos",
        ));
    }
    if upload.bytes.is_empty() {
        return Err(ApiError::bad_request("archivo: falta la planilla (.csv o .xlsx)"));
    }
    let lote = lotes::start(&state, &user, upload).await?;
    let status = if lote.is_finished() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(view(&state, &lote).await?)).into_response())
}

#[utoipa::path(get, path = "/api/v1/lotes", tag = "lotes", operation_id = "list_lotes",
    summary = "Lista los lotes de la oficina",
    description = "Los últimos 50 lotes de la oficina (y las planillas solo validadas), del más reciente al más antiguo, con su avance y si esperan aprobación.",
    responses((status = 200, body = LotesBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<LotesBody>, ApiError> {
    lotes::refuse_bulk(&state, &user).await?;
    let listed = stored::lotes_of_office(state.archive.store(), &user.office_code)
        .await
        .map_err(LoteError::from)?;
    let mut lotes = Vec::with_capacity(listed.len());
    for (lote, _) in &listed {
        lotes.push(view(&state, lote).await?);
    }
    Ok(Json(LotesBody { lotes }))
}

#[utoipa::path(get, path = "/api/v1/lotes/{id}", tag = "lotes",
    summary = "El avance de un lote",
    description = "Filas procesadas de las válidas, si terminó, cuántos problemas y documentos lleva, y los tomos de su padrón.",
    params(("id" = PublicId, Path, description = "Identificador del lote")),
    responses((status = 200, body = LoteView), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn show(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<LoteView>, ApiError> {
    let lote = office_job(&state, &user, &id).await?;
    Ok(Json(view(&state, &lote).await?))
}

#[utoipa::path(get, path = "/api/v1/lotes/{id}/problemas", tag = "lotes",
    summary = "Los problemas de un lote, fila por fila",
    description = "Cada fila que no se emitió: su línea, la columna y qué corregir. Son los mismos que la descarga CSV de la página del lote.",
    params(("id" = PublicId, Path, description = "Identificador del lote")),
    responses((status = 200, body = ProblemsBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn problems(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<ProblemsBody>, ApiError> {
    let lote = office_job(&state, &user, &id).await?;
    // By line, as stored.
    let problems = stored::problems(state.archive.store(), lote.id)
        .await
        .map_err(LoteError::from)?;
    Ok(Json(ProblemsBody {
        problems: problems
            .into_iter()
            .map(|p| RowProblemView {
                line: p.line,
                column: p.column,
                message: p.message,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/lotes/{id}/documentos", tag = "lotes",
    summary = "El listado de lo que emitió un lote",
    description = "Cada documento emitido (o encontrado ya emitido) en el orden de las filas: línea, identificador, folio y enlace de verificación.",
    params(("id" = PublicId, Path, description = "Identificador del lote")),
    responses((status = 200, body = LoteDocumentsBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn documents(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<LoteDocumentsBody>, ApiError> {
    let lote = office_job(&state, &user, &id).await?;
    let documents = stored::documents(state.archive.store(), lote.id, None)
        .await
        .map_err(LoteError::from)?;
    Ok(Json(LoteDocumentsBody {
        documents: documents
            .into_iter()
            .map(|d| LoteDocumentView {
                line: d.line,
                id: d.id,
                folio: d.folio,
                verification_url: d.url,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/lotes/{id}/pdf", tag = "lotes",
    summary = "Todos los documentos de un lote terminado, unidos en un PDF para imprimir",
    description = "En el orden de las filas; se envía a medida que se une.",
    params(("id" = PublicId, Path, description = "Identificador del lote")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>, description = "El PDF unido"),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn merged_pdf(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    let lote = finished_job(&state, &user, &id).await?;
    let archive = super::archive_of(&state, &user).await?;
    let documents = stored::documents(state.archive.store(), lote.id, None)
        .await
        .map_err(LoteError::from)?;
    let ids = documents.iter().map(|d| d.row_id).collect();
    Ok((
        [(header::CONTENT_TYPE, "application/pdf")],
        axum::body::Body::from_stream(bulk::merged_pdf(archive, ids)),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/lotes/{id}/padron", tag = "lotes", operation_id = "lote_padron",
    summary = "Emite el padrón de un lote terminado",
    description = "El padrón lista, firmado por quien lo pide, el nombre, la identificación y el folio de cada \
                   documento del lote; más de 5.000 van en tomos. Pedido otra vez, es el mismo.",
    params(("id" = PublicId, Path, description = "Identificador del lote")),
    responses((status = 200, body = PadronBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn padron(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<PadronBody>, ApiError> {
    let lote = finished_job(&state, &user, &id).await?;
    let tomos = lotes::issue_padron(&state, &user, &lote).await?;
    Ok(Json(PadronBody {
        padron: tomo_views(&tomos),
    }))
}
