//! A correction of an issued document, started through the API: a draft
//! with its data that, issued through its workflow, replaces it.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::drafts::{DraftBody, draft_body};
use super::extract::PathParams;
use super::{ApiError, AppState, archive_of};
use crate::web::auth::ApiCaller;

/// Starts the correction of a current document: a draft with its data
/// that, once issued through its workflow, replaces it (its verification
/// page then points to the new one). Asking again returns the same draft.
#[utoipa::path(post, path = "/api/v1/documents/{reference}/correct", tag = "borradores",
    params(("reference" = String, Path, description = super::documents::REFERENCE)),
    responses((status = 201, body = DraftBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn correct_document(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(reference): PathParams<String>,
) -> Result<Response, ApiError> {
    if !user.role.can_draft() {
        return Err(ApiError::forbidden(user.role));
    }
    let archive = archive_of(&state, &user).await?;
    let document = archive.document(&reference).await?;
    let form = state.catalog.get(&document.form).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "refused",
            format!("el formulario «{}» ya no está en el catálogo", document.form),
        )
    })?;
    // A register is corrected by building it again, not by hand.
    form.refuse_internal()
        .map_err(|why| ApiError::new(StatusCode::FORBIDDEN, "forbidden", why))?;
    let actor = format!("{} (API)", user.username);
    let id = archive
        .start_correction(
            &document.id.to_string(),
            user.id,
            &actor,
            &form.workflow.first().id,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(draft_body(&state, &user, id).await?)).into_response())
}
