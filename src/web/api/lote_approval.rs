//! A lote prepared by who does not sign, approved or sent back through
//! the API, as on its staff page: only an account of its office whose
//! role signs its form, never who prepared it (`web::lotes::approve`).
//! Approving enqueues its run, signed by the approver; sending it back
//! finishes it without issuing anything or taking a folio. Both are
//! recorded in the audit trail (`lote.aprobado`, `lote.devuelto`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::extract::{Body, PathParams};
use super::lotes::{LoteView, office_job, view};
use super::{ApiError, AppState};
use crate::public_id::PublicId;
use crate::web::auth::ApiCaller;
use crate::web::lotes::{self, LoteError};

/// Por qué se devuelve un lote.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBackBody {
    /// Qué corregir, para quien lo preparó (obligatorio; se guardan hasta 1.000 caracteres).
    pub motivo: String,
}

#[utoipa::path(post, path = "/api/v1/lotes/{id}/aprobar", tag = "lotes", operation_id = "approve_lote",
    summary = "Aprueba un lote que espera aprobación y lo emite",
    description = "Para quien firma el formulario del lote en su oficina (nunca quien lo preparó): cada fila lista \
                   se emite en segundo plano firmada con su nombre y su cargo, con la fecha de hoy; el avance se \
                   consulta en `GET /api/v1/lotes/{id}`. Se aprueba una vez: 409 si ya no espera aprobación, o si \
                   otro lote se está emitiendo en la oficina.",
    params(("id" = PublicId, Path, description = "Identificador del lote")),
    responses((status = 200, body = LoteView, description = "Aprobado: sus documentos se emiten"),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn approve(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<LoteView>, ApiError> {
    let lote = office_job(&state, &user, &id).await?;
    lotes::approve(&state, &user, &lote).await?;
    let lote = office_job(&state, &user, &id).await?;
    Ok(Json(view(&state, &lote).await?))
}

#[utoipa::path(post, path = "/api/v1/lotes/{id}/devolver", tag = "lotes", operation_id = "send_back_lote",
    summary = "Devuelve sin emitir un lote que espera aprobación",
    description = "Para quien firma el formulario del lote en su oficina: el lote termina sin emitir nada ni \
                   tomar folios, con el motivo, que quien lo preparó ve en el lote (`failure`). 409 si ya no \
                   espera aprobación.",
    request_body = SendBackBody,
    params(("id" = PublicId, Path, description = "Identificador del lote")),
    responses((status = 200, body = LoteView, description = "Devuelto sin emitir"),
        (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn send_back(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
    Body(body): Body<SendBackBody>,
) -> Result<Json<LoteView>, ApiError> {
    let lote = office_job(&state, &user, &id).await?;
    // Refused only for a blank reason, once the role and the lote allow it.
    lotes::send_back(&state, &user, &lote, &body.motivo)
        .await
        .map_err(|error| match error {
            LoteError::Refused(message) => ApiError::bad_request(message),
            other => other.into(),
        })?;
    let lote = office_job(&state, &user, &id).await?;
    Ok(Json(view(&state, &lote).await?))
}
