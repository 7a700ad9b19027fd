//! Issuing, reading and annulling documents.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::extract::{Body, PathParams};
use super::views::{CitationView, DocumentView, HandSignatureView, SignatureView};
use super::{ApiError, AppState, archive_of};
use crate::archive::{AnnulCategory, DocumentRecord, Issued, SignedItem};
use crate::public_id::PublicId;
use crate::tramites::{Attachment, DirectIssue};
use crate::web::CrossView;
use crate::web::auth::ApiCaller;

/// How a path names a document.
pub(super) const REFERENCE: &str =
    "Id del documento (32 dígitos hexadecimales, como lo da la API) o su folio";

/// The longest idempotency key accepted.
const IDEMPOTENCY_KEY_MAX: usize = 200;

/// What to issue.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    /// The form's id, as listed by `/api/v1/forms`.
    pub form: String,
    /// The form's fields (see `/api/v1/forms/{id}`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// File it in this expediente (its id) instead of the one its data
    /// points to.
    pub expediente: Option<PublicId>,
    /// For a form signed in person (the family's representative, the
    /// attendees): they sign the printed paper. Recorded; the document
    /// awaits the scan of the signed paper (`paper_pending`).
    #[serde(default)]
    pub firmaran_en_papel: bool,
}

/// A document, with its data and signatures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentBody {
    pub document: DocumentView,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub signatures: Vec<SignatureView>,
    /// Signatures of people without a key: drawn on screen before it was
    /// sealed (printed in it), and scans or acknowledgements after.
    pub hand_signatures: Vec<HandSignatureView>,
    /// The documents of this office it cites through its `documento`
    /// fields (the solicitud an autorización answers).
    pub cites: Vec<CitationView>,
    /// The documents of this office that cite it.
    pub cited_by: Vec<CitationView>,
}

/// A hand signature given after issue.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentBody {
    /// `papel` (a scan of the signed paper) or `pantalla` (drawn on screen).
    pub kind: String,
    /// What it acknowledges: «Documento firmado», «Acuse de recibo», «Renovación de noviembre».
    pub purpose: String,
    /// `application/pdf`, `image/jpeg` or `image/png`.
    pub media_type: String,
    pub content_base64: String,
    /// Who signed; required for `pantalla`.
    #[serde(default)]
    pub name: String,
    /// For `pantalla`: the person confirmed on the screen.
    #[serde(default)]
    pub consent: bool,
    #[serde(default)]
    pub device: String,
}

/// An issuance's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedBody {
    /// `false` when the idempotency key had already issued this document.
    pub new: bool,
    /// The verification code printed under the QR.
    pub code: String,
    pub document: DocumentView,
}

impl IssuedBody {
    /// The answer for an issuance; `new` when it was issued now.
    pub fn of(issued: &Issued) -> Self {
        let record = issued.record();
        Self {
            new: matches!(issued, Issued::New { .. }),
            code: code_of(record),
            document: DocumentView::from(record),
        }
    }
}

/// Why a document is annulled.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnulBody {
    /// Kept in the archive for the office; never published.
    pub reason: String,
    /// What the public verification page says: `error_en_los_datos`,
    /// `a_solicitud_del_interesado`, `emitido_por_error` or `otro` (the
    /// default); a replacement is always `reemplazado`.
    pub category: Option<String>,
    /// The folio or id of the current document that replaces it.
    pub replaced_by: Option<String>,
}

/// Issues and signs a document. With an `Idempotency-Key`, a retry with
/// the same data returns the same document (200) instead of a new one.
#[utoipa::path(post, path = "/api/v1/documents", tag = "documentos",
    request_body = IssueBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clave para reintentar sin duplicar")),
    responses(
        (status = 201, body = IssuedBody, description = "Emitido ahora"),
        (status = 200, body = IssuedBody, description = "Ya emitido con esta clave y estos datos"),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn issue_document(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    headers: HeaderMap,
    Body(body): Body<IssueBody>,
) -> Result<Response, ApiError> {
    if !user.role.can_issue() {
        return Err(ApiError::forbidden(user.role));
    }
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            let key = value.to_str().unwrap_or("").trim();
            if key.is_empty() || key.len() > IDEMPOTENCY_KEY_MAX {
                return Err(ApiError::bad_request(format!(
                    "Idempotency-Key: use de 1 a {IDEMPOTENCY_KEY_MAX} caracteres visibles"
                )));
            }
            if key.starts_with(crate::tramites::DRAFT_KEY_PREFIX) {
                return Err(ApiError::bad_request(format!(
                    "Idempotency-Key: las claves que empiezan con «{}» son de los borradores de Sello; use otra",
                    crate::tramites::DRAFT_KEY_PREFIX
                )));
            }
            Some(key.to_owned())
        }
    };
    let form = state
        .catalog
        .get(&body.form)
        .ok_or_else(|| ApiError::not_found(format!("form: no existe el formulario «{}»", body.form)))?;
    form.refuse_internal()
        .map_err(|why| ApiError::new(StatusCode::FORBIDDEN, "forbidden", format!("form: {why}")))?;
    if !form.workflow.allows_direct_issue(user.role) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "workflow_required",
            format!(
                "el formulario «{}» se emite tras su trámite: {}; cree un borrador en /api/v1/drafts",
                form.id,
                form.workflow.describe_review()
            ),
        ));
    }
    form.workflow.check_in_person(body.firmaran_en_papel).map_err(|e| {
        ApiError::new(
            StatusCode::CONFLICT,
            "workflow_required",
            format!(
                "el formulario «{}» {e}: cree un borrador en /api/v1/drafts, o envíe \"firmaran_en_papel\": true",
                form.id
            ),
        )
    })?;
    let archive = archive_of(&state, &user).await?;
    let actor = format!("{} (API)", user.username);
    let order = DirectIssue {
        form,
        data: &body.data,
        actor: &actor,
        expediente_id: body.expediente,
        idempotency_key: idempotency_key.as_deref(),
        on_paper: body.firmaran_en_papel,
    };
    let issued = state.tramites().issue_directly(&archive, &user, order).await?;
    let status = match issued {
        Issued::New { .. } => StatusCode::CREATED,
        Issued::Existing(_) => StatusCode::OK,
    };
    Ok((status, Json(IssuedBody::of(&issued))).into_response())
}

/// The verification code, the last part of the verification link.
pub fn code_of(record: &DocumentRecord) -> String {
    record
        .verification_url
        .as_deref()
        .and_then(|url| url.rsplit('/').next())
        .unwrap_or_default()
        .to_owned()
}

/// A document of the caller's office, or of an office under it (read
/// only, recorded in that office's audit trail), by id or folio.
#[utoipa::path(get, path = "/api/v1/documents/{reference}", tag = "documentos",
    params(("reference" = String, Path, description = REFERENCE)),
    responses((status = 200, body = DocumentBody), (status = 401, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn get_document(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(reference): PathParams<String>,
) -> Result<Json<DocumentBody>, ApiError> {
    let (archive, document) = state
        .readable_document(&user, &reference, CrossView::Document)
        .await?;
    let signatures = archive.signatures(document.row_id).await?;
    let hand_signatures = archive
        .hand_signatures(SignedItem::Document(document.row_id))
        .await?;
    let citations = archive.citations(document.row_id).await?;
    let data = serde_json::from_str(&document.data).map_err(|e| ApiError::internal(&e))?;
    Ok(Json(DocumentBody {
        document: DocumentView::from(&document),
        data,
        signatures: signatures.iter().map(SignatureView::from).collect(),
        hand_signatures: hand_signatures.iter().map(HandSignatureView::from).collect(),
        cites: citations.cites.iter().map(CitationView::from).collect(),
        cited_by: citations.cited_by.iter().map(CitationView::from).collect(),
    }))
}

/// Attaches a hand signature to a current document: the scan of the
/// printed document signed on paper, or an acknowledgement given after
/// issue (a receipt, a monthly renewal), scanned or drawn on screen.
#[utoipa::path(post, path = "/api/v1/documents/{reference}/hand-signatures", tag = "documentos",
    request_body = AttachmentBody,
    params(("reference" = String, Path, description = REFERENCE)),
    responses((status = 201, body = DocumentBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn attach_hand_signature(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(reference): PathParams<String>,
    Body(body): Body<AttachmentBody>,
) -> Result<Response, ApiError> {
    let bytes = data_encoding::BASE64
        .decode(body.content_base64.trim().as_bytes())
        .map_err(|_| ApiError::bad_request("content_base64: no es base64 válido"))?;
    let archive = archive_of(&state, &user).await?;
    let document = archive.document(&reference).await?;
    let attachment = Attachment {
        kind: &body.kind,
        purpose: &body.purpose,
        media_type: &body.media_type,
        bytes,
        name: &body.name,
        consent: body.consent,
        device: &body.device,
    };
    state
        .tramites()
        .attach_to_document(&archive, document.row_id, &user, attachment)
        .await?;
    let answer = get_document(State(state), ApiCaller(user), PathParams(document.id.to_string())).await?;
    Ok((StatusCode::CREATED, answer).into_response())
}

/// The image or scan of one hand signature of a document.
#[utoipa::path(get, path = "/api/v1/documents/{reference}/hand-signatures/{id}", tag = "documentos",
    params(("reference" = String, Path, description = REFERENCE),
        ("id" = PublicId, Path, description = "Identificador de la firma")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn get_hand_signature(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams((reference, id)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    let (archive, document) = state
        .readable_document(&user, &reference, CrossView::Document)
        .await?;
    let not_here = || ApiError::not_found(format!("no existe esa firma del documento {}", document.folio));
    let id = PublicId::parse(&id).map_err(|_| not_here())?;
    let (record, bytes) = archive.hand_signature_file(id).await.map_err(|e| match e {
        crate::archive::ArchiveError::Refused(_) => not_here(),
        other => other.into(),
    })?;
    if record.document_id != Some(document.row_id) {
        return Err(not_here());
    }
    Ok(([(axum::http::header::CONTENT_TYPE, record.media_type)], bytes).into_response())
}

/// The signed PDF, exactly as issued.
#[utoipa::path(get, path = "/api/v1/documents/{reference}/pdf", tag = "documentos",
    params(("reference" = String, Path, description = REFERENCE)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 401, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn get_pdf(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(reference): PathParams<String>,
) -> Result<Response, ApiError> {
    let (archive, document) = state.readable_document(&user, &reference, CrossView::Pdf).await?;
    let pdf = archive.pdf(&document).await?;
    Ok(crate::web::pdf_response(&document, pdf))
}

/// Annuls a current document, or marks it replaced by another.
#[utoipa::path(post, path = "/api/v1/documents/{reference}/annul", tag = "documentos",
    request_body = AnnulBody,
    params(("reference" = String, Path, description = REFERENCE)),
    responses((status = 200, body = DocumentView), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn annul_document(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(reference): PathParams<String>,
    Body(body): Body<AnnulBody>,
) -> Result<Json<DocumentView>, ApiError> {
    if !user.role.can_issue() {
        return Err(ApiError::forbidden(user.role));
    }
    let archive = archive_of(&state, &user).await?;
    let actor = format!("{} (API)", user.username);
    let category = match body.category.as_deref() {
        None => AnnulCategory::Otro,
        Some(text) => AnnulCategory::parse(text).ok_or_else(|| AnnulCategory::unknown(text))?,
    };
    let annulled = archive
        .annul_as(
            &reference,
            category,
            &body.reason,
            &actor,
            body.replaced_by.as_deref(),
        )
        .await;
    let record = match annulled {
        Err(missing @ crate::archive::ArchiveError::DocumentNotFound(_)) => {
            return Err(match state.office_below_holding(&user, &reference).await? {
                Some(office) => ApiError::read_only(&office),
                None => missing.into(),
            });
        }
        other => other?,
    };
    Ok(Json(DocumentView::from(&record)))
}
