//! Referrals between offices (derivaciones): the inbox of those sent to
//! the caller's office and those it sent, one referral with exactly the
//! documents it shares, and each of those documents' PDF. A referral of
//! neither office is missing (404), as another office's documents are.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::extract::PathParams;
use super::views::{DocumentView, ReferralView};
use super::{ApiError, AppState, archive_of};
use crate::archive::{Archive, ReferralRecord};
use crate::web::auth::ApiCaller;

/// The referrals of the caller's office.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralsBody {
    /// Sent to this office by others, newest first.
    pub recibidas: Vec<ReferralView>,
    /// Sent by this office, newest first.
    pub enviadas: Vec<ReferralView>,
}

/// A document a referral shares, with the office it belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SharedDocumentView {
    pub office_code: String,
    pub document: DocumentView,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// One referral and exactly the documents it lets both offices see: the
/// derivación, those its clerk shared, and the contrarreferencia once issued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralBody {
    pub referral: ReferralView,
    pub documents: Vec<SharedDocumentView>,
}

/// The office's day, for whether a referral is overdue.
fn today(state: &AppState, archive: &Archive) -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&state.issuer.time_zone_of(archive.office()))
        .date_naive()
}

fn view(record: &ReferralRecord, today: chrono::NaiveDate) -> ReferralView {
    ReferralView::of(record, record.state(today))
}

/// The referrals sent to the caller's office and those it sent.
#[utoipa::path(get, path = "/api/v1/derivaciones", tag = "derivaciones", operation_id = "list_referrals",
    summary = "Las derivaciones de la oficina",
    description = "Las recibidas por la oficina de quien llama y las que envió, cada una con su estado (enviada, recibida, respondida o vencida) y su plazo.",
    responses((status = 200, body = ReferralsBody), (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<ReferralsBody>, ApiError> {
    let archive = archive_of(&state, &user).await?;
    let today = today(&state, &archive);
    let recibidas = archive.referrals_received().await?;
    let enviadas = archive.referrals_sent().await?;
    Ok(Json(ReferralsBody {
        recibidas: recibidas.iter().map(|r| view(r, today)).collect(),
        enviadas: enviadas.iter().map(|r| view(r, today)).collect(),
    }))
}

/// One referral, by its derivación's id, with the data of the documents
/// it shares: what an integrating office's system takes into its own
/// case. Each document of the other office returned is a view recorded
/// in the audit trail, as its PDF is. The receiving office's first look
/// marks it `recibida`: through the API its system took delivery, and
/// `received_by` says so («usuario (API)»).
#[utoipa::path(get, path = "/api/v1/derivaciones/{id}", tag = "derivaciones", operation_id = "get_referral",
    summary = "Una derivación",
    description = "Por el identificador de su documento, con los documentos que comparte (y sus datos) y su respuesta. Cada documento de la otra oficina devuelto queda en el historial como consultado, igual que su PDF. La primera consulta de la oficina que la recibe la marca como recibida, por el usuario de la API (received_by termina en «(API)»).",
    params(("id" = crate::public_id::PublicId, Path, description = "Identificador de la derivación (el de su documento)")),
    responses((status = 200, body = ReferralBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<ReferralBody>, ApiError> {
    let id = super::public_id(&id, "esa derivación")?;
    let archive = archive_of(&state, &user).await?;
    let actor = format!("{} (API)", user.username);
    let referral = archive.open_referral(id, &actor).await?;
    let documents = archive.referral_documents(&referral).await?;
    archive
        .record_referral_views(&referral, &documents, &actor, "datos")
        .await?;
    Ok(Json(ReferralBody {
        referral: view(&referral, today(&state, &archive)),
        documents: documents
            .iter()
            .map(|(document, office_code)| SharedDocumentView {
                office_code: office_code.clone(),
                document: DocumentView::from(document),
                data: serde_json::from_str(&document.data).unwrap_or_default(),
            })
            .collect(),
    }))
}

/// The PDF of a document the referral shares; seeing one of the other
/// office is recorded in the audit trail.
#[utoipa::path(get, path = "/api/v1/derivaciones/{id}/documentos/{document}/pdf", tag = "derivaciones", operation_id = "referral_document_pdf",
    summary = "El PDF de un documento que comparte una derivación",
    description = "Tal como se emitió; la consulta de un documento de la otra oficina queda en su historial.",
    params(("id" = crate::public_id::PublicId, Path, description = "Identificador de la derivación"),
        ("document" = crate::public_id::PublicId, Path, description = "Identificador del documento compartido")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn pdf(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams((id, document)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    let id = super::public_id(&id, "esa derivación")?;
    let document = super::public_id(&document, "ese documento en la derivación")?;
    let archive = archive_of(&state, &user).await?;
    let referral = archive.referral(id).await?;
    let actor = format!("{} (API)", user.username);
    let (record, pdf) = archive.referral_pdf(&referral, document, &actor).await?;
    Ok(crate::web::pdf_response(&record, pdf))
}
