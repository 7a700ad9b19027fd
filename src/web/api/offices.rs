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
#[utoipa::path(get, path = "/api/v1/offices", tag = "oficinas", operation_id = "list_offices",
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

/// A visado granted in an office to an account of an office above it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    /// La cuenta que da el visado.
    pub usuario: String,
    pub nombre: String,
    /// La oficina de esa cuenta, por encima de esta.
    pub desde_oficina: String,
    /// `revisor` o `contador`.
    pub rol: crate::roles::Role,
    pub concedido_por: String,
    pub concedido_el: String,
}

/// The role to grant.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    /// `revisor` o `contador`: solo se concede el visado, nunca la firma.
    pub rol: String,
}

/// Only the installation's administrators arrange offices and grants.
fn installation_admin(state: &AppState, user: &crate::accounts::User) -> Result<(), ApiError> {
    if user.role.can_administer() && user.office_code == state.config.office_code {
        return Ok(());
    }
    Err(ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "forbidden",
        "solo la administración de la instalación concede visados entre oficinas",
    ))
}

/// Records an administrative act of the API in the audit trail.
async fn audit_act(
    state: &AppState,
    user: &crate::accounts::User,
    action: &'static str,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .archive
        .store()
        .record_event(NewEvent {
            actor: format!("{} (API)", user.username),
            action,
            office_code: Some(user.office_code.clone()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details,
        })
        .await
        .map_err(|e| ApiError::internal(&e))
}

/// Los visados concedidos en una oficina a cuentas de oficinas superiores.
#[utoipa::path(get, path = "/api/v1/offices/{code}/grants", tag = "oficinas",
    summary = "Visados concedidos en una oficina",
    description = "Las cuentas de oficinas superiores que dan el visado (revisor o contador) en esta oficina. Solo la administración de la instalación.",
    params(("code" = String, Path, description = "Clave de la oficina")),
    responses((status = 200, body = [GrantView]), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody)))]
pub async fn grants(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(code): PathParams<String>,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    installation_admin(&state, &user)?;
    let grants = state.accounts.grants_in(&code.trim().to_uppercase()).await?;
    Ok(Json(
        grants
            .into_iter()
            .map(|g| GrantView {
                usuario: g.user.username,
                nombre: g.user.display_name,
                desde_oficina: g.user.office_code,
                rol: g.role,
                concedido_por: g.granted_by,
                concedido_el: g.granted_at,
            })
            .collect(),
    ))
}

/// Concede a una cuenta de una oficina superior el visado en esta oficina.
#[utoipa::path(put, path = "/api/v1/offices/{code}/grants/{username}", tag = "oficinas",
    summary = "Conceder el visado en una oficina dependiente",
    description = "La cuenta debe ser de una oficina de la que esta depende; solo se concede revisor o contador. Conceder de nuevo cambia el rol. Queda en la bitácora.",
    request_body = GrantBody,
    params(("code" = String, Path, description = "Clave de la oficina"),
        ("username" = String, Path, description = "Usuario que recibe el visado")),
    responses((status = 204), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn grant(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams((code, username)): PathParams<(String, String)>,
    Body(body): Body<GrantBody>,
) -> Result<axum::http::StatusCode, ApiError> {
    installation_admin(&state, &user)?;
    let role = crate::roles::Role::parse(body.rol.trim()).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid",
            "rol: elija revisor o contador",
        )
    })?;
    let code = code.trim().to_uppercase();
    let granted = state.accounts.user_by_username(&username).await?;
    state
        .accounts
        .grant(&granted, &code, role, &user.username)
        .await?;
    audit_act(
        &state,
        &user,
        "oficina.visado_concedido",
        serde_json::json!({"oficina": code, "usuario": granted.username, "desde_oficina": granted.office_code, "rol": role.as_str()}),
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Retira el visado concedido en una oficina.
#[utoipa::path(delete, path = "/api/v1/offices/{code}/grants/{username}", tag = "oficinas",
    summary = "Retirar un visado concedido",
    description = "La cuenta deja de ver y de visar los borradores de la oficina. Queda en la bitácora.",
    params(("code" = String, Path, description = "Clave de la oficina"),
        ("username" = String, Path, description = "Usuario al que se le retira")),
    responses((status = 204), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams((code, username)): PathParams<(String, String)>,
) -> Result<axum::http::StatusCode, ApiError> {
    installation_admin(&state, &user)?;
    let code = code.trim().to_uppercase();
    let granted = state.accounts.user_by_username(&username).await?;
    if !state.accounts.revoke_grant(&granted, &code).await? {
        return Err(ApiError::not_found(format!(
            "visado: «{}» no tenía visado concedido en {code}",
            granted.username
        )));
    }
    audit_act(
        &state,
        &user,
        "oficina.visado_retirado",
        serde_json::json!({"oficina": code, "usuario": granted.username}),
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Quién sube lotes en una oficina.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkSetting {
    /// Si quienes preparan documentos sin firmarlos (capturista, revisor, contador) suben lotes. Sus
    /// lotes esperan siempre la aprobación de quien firma el formulario. Quien firma los sube siempre.
    pub preparers_may_upload: bool,
}

/// The caller's own office, or why not: the setting is each office's.
fn own_office(user: &crate::accounts::User, code: &str) -> Result<String, ApiError> {
    let code = code.trim().to_uppercase();
    if code != user.office_code {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "la emisión por lotes de una oficina la consulta y la fija esa oficina",
        ));
    }
    Ok(code)
}

#[utoipa::path(get, path = "/api/v1/offices/{code}/lotes", tag = "oficinas", operation_id = "get_bulk_setting",
    summary = "Quién sube lotes en la oficina",
    description = "Si quienes preparan documentos sin firmarlos suben lotes para aprobación. Solo las cuentas de esa oficina.",
    params(("code" = String, Path, description = "Clave de la oficina")),
    responses((status = 200, body = BulkSetting), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn bulk_setting(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(code): PathParams<String>,
) -> Result<Json<BulkSetting>, ApiError> {
    let code = own_office(&user, &code)?;
    Ok(Json(BulkSetting {
        preparers_may_upload: state.accounts.preparers_bulk(&code).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/offices/{code}/lotes", tag = "oficinas", operation_id = "set_bulk_setting",
    summary = "Permite o no que quienes preparan documentos suban lotes",
    description = "Solo la administración de esa oficina. Permitido, quien prepara documentos sin firmarlos sube \
                   lotes que esperan la aprobación de quien firma (nada se emite sin ella); no permitido, solo \
                   quien firma usa los lotes. Cada cambio queda en la bitácora.",
    request_body = BulkSetting,
    params(("code" = String, Path, description = "Clave de la oficina")),
    responses((status = 200, body = BulkSetting), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn set_bulk_setting(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(code): PathParams<String>,
    Body(body): Body<BulkSetting>,
) -> Result<Json<BulkSetting>, ApiError> {
    let code = own_office(&user, &code)?;
    if !user.role.can_administer() {
        return Err(ApiError::forbidden(user.role));
    }
    let allowed = body.preparers_may_upload;
    if state.accounts.set_preparers_bulk(&code, allowed).await? {
        audit_act(
            &state,
            &user,
            "oficina.lotes_preparadores",
            serde_json::json!({"oficina": code, "permitido": allowed}),
        )
        .await?;
    }
    Ok(Json(BulkSetting {
        preparers_may_upload: allowed,
    }))
}
