//! Drafts and their workflow: create and edit a draft, send it on, give
//! the visado, reject it with a reason, sign it (the last signature issues
//! the document), see its steps and audit trail, and the caller's inbox.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::documents::IssuedBody;
use super::extract::{Body, PathParams};
use super::views::{EventView, HandSignatureView, StepView};
use super::{ApiError, AppState, archive_of};
use crate::archive::AuditEvent;
use crate::forms::{HandSigner, Step};
use crate::public_id::PublicId;
use crate::tramites::{Drawing, InboxItem, Signed, Tramite};
use crate::web::auth::ApiCaller;

/// A new draft.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDraftBody {
    /// The form's id, as listed by `/api/v1/forms`.
    pub form: String,
    /// The form's fields so far; checked when the draft is sent on.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A draft's changed data.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftDataBody {
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A remark with a visado, or the reason of a rejection; for `finish`,
/// whether the people still to sign will sign the printed paper.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub reason: Option<String>,
    #[serde(default)]
    pub on_paper: bool,
}

/// A signature drawn on the staff member's screen.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawnSignatureBody {
    /// Which signer, as `hand_signers` lists them: `representante`, `asistentes[3]`.
    pub signer: String,
    /// The drawing, a PNG, in base64.
    pub png_base64: String,
    /// The person confirmed on the screen that they sign this document.
    pub consent: bool,
    /// The device it was drawn on.
    pub device: String,
}

/// Someone a `presencial` step asks to sign, and their drawn signature.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandSignerStatus {
    pub signer: HandSigner,
    pub signature: Option<HandSignatureView>,
}

/// A draft and where it stands in its workflow.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DraftBody {
    pub id: PublicId,
    pub form: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub author: String,
    pub updated_at: String,
    /// The step it is at; absent once issued.
    pub step: Option<Step>,
    /// The document it became, once issued.
    pub document: Option<PublicId>,
    /// For a correction: the document it replaces once issued.
    pub replaces: Option<PublicId>,
    /// Every step of the form's workflow, in order.
    pub workflow: Vec<Step>,
    /// The steps taken, in order.
    pub history: Vec<StepView>,
    /// At a `presencial` step: who signs, and who has.
    pub hand_signers: Vec<HandSignerStatus>,
    /// The audit events about it (and its document), in order.
    pub events: Vec<EventView>,
}

/// What a step did: the draft as it stands, and the document when the
/// last signature issued it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StepBody {
    pub draft: DraftBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<IssuedBody>,
}

pub(super) async fn draft_body(
    state: &AppState,
    user: &crate::accounts::User,
    id: PublicId,
) -> Result<DraftBody, ApiError> {
    let archive = archive_of(state, user).await?;
    draft_body_in(state, &archive, id).await
}

/// The draft `id` of `archive`'s office, as the API shows it.
async fn draft_body_in(
    state: &AppState,
    archive: &crate::archive::Archive,
    id: PublicId,
) -> Result<DraftBody, ApiError> {
    let tramites = state.tramites();
    let tramite = tramites.load(archive, id).await?;
    let events = archive.draft_events(tramite.draft.row_id).await?;
    let hand_signers = tramites
        .hand_signers_of(archive, &tramite)
        .await?
        .into_iter()
        .map(|(signer, signature)| HandSignerStatus {
            signer,
            signature: signature.as_ref().map(HandSignatureView::from),
        })
        .collect();
    Ok(body_of(tramite, events, hand_signers))
}

fn body_of(tramite: Tramite<'_>, events: Vec<AuditEvent>, hand_signers: Vec<HandSignerStatus>) -> DraftBody {
    DraftBody {
        id: tramite.draft.id,
        form: tramite.draft.form.clone(),
        data: serde_json::from_str(&tramite.draft.data).unwrap_or_default(),
        author: tramite.draft.author.clone(),
        updated_at: tramite.draft.updated_at.clone(),
        step: tramite.step.cloned(),
        document: tramite.draft.document_id,
        replaces: tramite.draft.replaces,
        workflow: tramite.form.workflow.steps().to_vec(),
        history: tramite.history.iter().map(StepView::from).collect(),
        hand_signers,
        events: events.iter().map(EventView::from).collect(),
    }
}

/// Starts a draft at the first step of its form's workflow.
#[utoipa::path(post, path = "/api/v1/drafts", tag = "borradores",
    request_body = NewDraftBody,
    responses((status = 201, body = DraftBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn create_draft(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    Body(body): Body<NewDraftBody>,
) -> Result<Response, ApiError> {
    let form = state
        .catalog
        .get(&body.form)
        .ok_or_else(|| ApiError::not_found(format!("form: no existe el formulario «{}»", body.form)))?;
    if !body.data.is_object() {
        return Err(ApiError::bad_request(
            "data: debe ser un objeto JSON con los campos del formulario",
        ));
    }
    let archive = archive_of(&state, &user).await?;
    let id = (state.tramites())
        .save(&archive, form, None, &body.data, &user)
        .await?;
    Ok((StatusCode::CREATED, Json(draft_body(&state, &user, id).await?)).into_response())
}

/// A draft of the caller's office (or of an office under it where they
/// were granted its visado), with its workflow, steps and audit trail;
/// for a role that drafts (an archivist reads documents, not drafts).
#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "borradores",
    params(("id" = PublicId, Path, description = "Identificador del borrador")),
    responses((status = 200, body = DraftBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn get_draft(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<DraftBody>, ApiError> {
    let id = draft_id(&id)?;
    // A draft awaiting a visado granted to the caller in an office under
    // theirs is shown to them too. As on the staff page, the role that
    // opens it is the one they act with there.
    let (archive, acting, _) = state.acting_on_draft(&user, id).await?;
    if !acting.role.can_draft() {
        return Err(ApiError::forbidden(acting.role));
    }
    Ok(Json(draft_body_in(&state, &archive, id).await?))
}

/// The draft a path names; a malformed id is as missing as another office's.
fn draft_id(text: &str) -> Result<PublicId, ApiError> {
    super::public_id(text, "ese borrador")
}

/// Changes a draft's data; only while it is at its first step.
#[utoipa::path(put, path = "/api/v1/drafts/{id}", tag = "borradores",
    request_body = DraftDataBody,
    params(("id" = PublicId, Path, description = "Identificador del borrador")),
    responses((status = 200, body = DraftBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn update_draft(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
    Body(body): Body<DraftDataBody>,
) -> Result<Json<DraftBody>, ApiError> {
    let id = draft_id(&id)?;
    if !body.data.is_object() {
        return Err(ApiError::bad_request(
            "data: debe ser un objeto JSON con los campos del formulario",
        ));
    }
    let archive = archive_of(&state, &user).await?;
    let tramites = state.tramites();
    let tramite = tramites.load(&archive, id).await?;
    tramites
        .save(&archive, tramite.form, Some(id), &body.data, &user)
        .await?;
    Ok(Json(draft_body(&state, &user, id).await?))
}

/// The step to take, by name.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Submit,
    Approve,
    Reject,
    Sign,
    Finish,
}

/// Takes the draft's current step: `submit` sends it on (its data must be
/// valid), `approve` gives the visado, `reject` sends it back with
/// `reason`, `finish` ends the hand signatures (all drawn, or
/// `on_paper`), `sign` signs — and the last signature issues the document.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/{action}", tag = "borradores",
    request_body(content = NoteBody, description = "Motivo (obligatorio al rechazar)"),
    params(("id" = PublicId, Path, description = "Identificador del borrador"),
        ("action" = String, Path, description = "submit, approve, reject, finish o sign")),
    responses((status = 200, body = StepBody, description = "Paso tomado"),
        (status = 201, body = StepBody, description = "Firmado y emitido"),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn take_step(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams((id, action)): PathParams<(String, Action)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let id = draft_id(&id)?;
    // The body is optional: only a rejection needs one.
    let note: NoteBody = if body.iter().all(u8::is_ascii_whitespace) {
        NoteBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("cuerpo JSON no válido: {e}")))?
    };
    // In the caller's office, or where they were granted a visado.
    let (archive, user, reach) = state.acting_on_draft(&user, id).await?;
    let tramites = state.tramites();
    let tramite = tramites.load(&archive, id).await?;
    // Through a grant, only the visado: giving it or rejecting.
    reach.allows(&tramite, matches!(action, Action::Approve | Action::Reject))?;
    let reason = note.reason.as_deref();
    let mut issued = None;
    match action {
        Action::Submit => tramites.submit(&archive, &tramite, &user).await?,
        Action::Approve => tramites.approve(&archive, &tramite, &user, reason).await?,
        Action::Reject => {
            tramites
                .reject(&archive, &tramite, &user, reason.unwrap_or(""))
                .await?
        }
        Action::Finish => {
            tramites
                .finish_in_person(&archive, &tramite, &user, note.on_paper)
                .await?
        }
        Action::Sign => {
            if let Signed::Issued(done) = tramites.sign(&archive, &tramite, &user).await? {
                issued = Some(IssuedBody::of(&done));
            }
        }
    }
    let status = if issued.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let draft = draft_body_in(&state, &archive, id).await?;
    Ok((status, Json(StepBody { draft, issued })).into_response())
}

/// Records a signature drawn on the staff member's screen by one of the
/// people the draft's `presencial` step asks to sign; it is printed in
/// their signature block when the document is issued. Drawing again
/// replaces the earlier drawing.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/hand-signatures", tag = "borradores",
    request_body = DrawnSignatureBody,
    params(("id" = PublicId, Path, description = "Identificador del borrador")),
    responses((status = 201, body = DraftBody), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn draw_signature(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
    Body(body): Body<DrawnSignatureBody>,
) -> Result<Response, ApiError> {
    let id = draft_id(&id)?;
    let png = data_encoding::BASE64
        .decode(body.png_base64.trim().as_bytes())
        .map_err(|_| ApiError::bad_request("png_base64: no es base64 válido"))?;
    let archive = archive_of(&state, &user).await?;
    let tramite = state.tramites().load(&archive, id).await?;
    let drawing = Drawing {
        signer: &body.signer,
        png,
        consent: body.consent,
        device: &body.device,
    };
    state
        .tramites()
        .sign_in_person(&archive, &tramite, &user, drawing)
        .await?;
    Ok((StatusCode::CREATED, Json(draft_body(&state, &user, id).await?)).into_response())
}

/// The drafts waiting for the caller: at a step their role takes, or
/// their own still in elaboration (new or sent back with a reason); and
/// those awaiting a visado granted to them in an office under theirs.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "borradores",
    responses((status = 200, body = Vec<InboxItem>), (status = 401, body = super::ErrorBody)))]
pub async fn inbox(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<Vec<InboxItem>>, ApiError> {
    let archive = archive_of(&state, &user).await?;
    let mut items = state.tramites().inbox(&archive, &user).await?;
    for (archive, acting) in state.granted_archives(&user).await? {
        items.extend(state.tramites().inbox(&archive, &acting).await?);
    }
    Ok(Json(items))
}
