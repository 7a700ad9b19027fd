//! The offices' hierarchy: which offices the caller reads, and, for the
//! installation's administrators, which office each one is under.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::extract::{Body, PathParams};
use super::{ApiError, AppState};
use crate::archive::NewEvent;
use crate::web::auth::ApiCaller;

/// An office and the one it is under.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfficeView {
    pub code: String,
    pub name: String,
    /// The code of the office it is under; `null` at the top.
    pub parent: Option<String>,
    /// Whether it is the caller's own office (the rest they only read).
    pub own: bool,
}

/// Where to put an office.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentBody {
    /// The code of the office above it; `null` to put it at the top.
    pub parent: Option<String>,
}

/// The caller's office and the offices under it, each with the office it
/// is under: what the caller's searches and documents reach.
#[utoipa::path(get, path = "/api/v1/offices", tag = "oficinas",
    summary = "La oficina de quien llama y las que dependen de ella",
    description = "Cada una con la oficina de la que depende: lo que alcanzan las búsquedas y consultas de quien llama.",
    responses((status = 200, body = [OfficeView]), (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<Vec<OfficeView>>, ApiError> {
    let visible = state.visible_offices(&user).await?;
    let tree = state.accounts.office_tree().await?;
    Ok(Json(
        visible
            .iter()
            .filter_map(|code| tree.iter().find(|node| &node.code == code))
            .map(|node| OfficeView {
                code: node.code.clone(),
                name: node.name.clone(),
                parent: node.parent_code.clone(),
                own: node.code == user.office_code,
            })
            .collect(),
    ))
}

/// Puts an office under another, or at the top. Only the installation's
/// administrators; refused if the office would end up under itself.
#[utoipa::path(put, path = "/api/v1/offices/{code}/parent", tag = "oficinas",
    summary = "Pone una oficina bajo otra, o en la cima",
    description = "Solo los administradores de la instalación; se rechaza si la oficina quedaría bajo sí misma.",
    request_body = ParentBody,
    params(("code" = String, Path, description = "Clave de la oficina")),
    responses((status = 200, body = OfficeView), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn set_parent(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(code): PathParams<String>,
    Body(body): Body<ParentBody>,
) -> Result<Json<OfficeView>, ApiError> {
    if !(user.role.can_administer() && user.office_code == state.config.office_code) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "solo la administración de la instalación ordena las oficinas",
        ));
    }
    let parent = body.parent.as_deref().map(str::trim).filter(|p| !p.is_empty());
    state.accounts.set_parent(&code, parent).await?;
    let code = code.trim().to_uppercase();
    let node = state
        .accounts
        .office_tree()
        .await?
        .into_iter()
        .find(|node| node.code == code)
        .ok_or_else(|| ApiError::not_found(format!("oficina: no existe «{code}»")))?;
    state
        .archive
        .store()
        .record_event(NewEvent {
            actor: format!("{} (API)", user.username),
            action: "oficina.superior",
            office_code: Some(user.office_code.clone()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details: serde_json::json!({"oficina": node.code, "superior": node.parent_code}),
        })
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(OfficeView {
        own: node.code == user.office_code,
        code: node.code,
        name: node.name,
        parent: node.parent_code,
    }))
}
