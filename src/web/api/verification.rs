//! Verification by code, as the public page answers it: no personal data.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::extract::PathParams;
use super::views::VerificationView;
use super::{ApiError, AppState};

/// What the public page says of a verification code. Needs no token; an
/// unknown code and a malformed one get the same 404.
#[utoipa::path(get, path = "/api/v1/verification/{code}", tag = "verificación", security(()),
    params(("code" = String, Path, description = "Código de verificación impreso bajo el QR")),
    responses((status = 200, body = VerificationView), (status = 404, body = super::ErrorBody),
        (status = 429, body = super::ErrorBody)))]
pub async fn verify(
    State(state): State<Arc<AppState>>,
    PathParams(code): PathParams<String>,
) -> Result<Json<VerificationView>, ApiError> {
    match state.public_lookup(&code).await {
        Ok(Some(view)) => Ok(Json(VerificationView::from(&view))),
        Ok(None) => Err(ApiError::not_found("no hay ningún documento con ese código")),
        Err(error) => Err(ApiError::internal(&error)),
    }
}
