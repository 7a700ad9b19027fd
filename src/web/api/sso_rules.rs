//! Single sign-on's rules (claim, value → office, role; tried in order,
//! the first that matches decides): list, add, remove. Only the
//! installation's administrators, as on `/admin/sso`, with the same checks
//! and audit events (`web::sso_admin`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::{Body, PathParams};
use super::{ApiError, AppState};
use crate::accounts::User;
use crate::accounts::sso::{NewSsoRule, SsoRule, parse_role};
use crate::web::auth::ApiCaller;
use crate::web::sso_admin::{self, Via};

/// Una regla del inicio de sesión único.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SsoRuleView {
    pub id: String,
    /// El dato (claim) del token de identidad, como `groups`.
    pub dato: String,
    /// El valor que debe tener el dato, o uno de sus elementos si es una lista.
    pub valor: String,
    /// La oficina que da la regla.
    pub oficina: String,
    /// El rol que da la regla.
    pub rol: crate::roles::Role,
    /// Las de número menor se prueban primero.
    pub orden: i64,
}

/// Una regla nueva.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSsoRuleBody {
    /// El dato (claim) del token de identidad, sin espacios: `groups`, `oficina`, `email`.
    pub dato: String,
    /// El valor que debe tener el dato, o uno de sus elementos si es una lista.
    pub valor: String,
    /// La clave de una oficina de la instalación.
    pub oficina: String,
    /// `capturista`, `revisor`, `contador`, `firmante`, `archivista` o `administrador`.
    pub rol: String,
    /// De 0 a 1000000; las de número menor se prueban primero. Sin él, al final.
    pub orden: Option<i64>,
}

fn view(rule: SsoRule) -> SsoRuleView {
    SsoRuleView {
        id: rule.public_id.to_string(),
        dato: rule.claim,
        valor: rule.value,
        oficina: rule.office_code,
        rol: rule.role,
        orden: rule.position,
    }
}

fn installation_admin(state: &AppState, user: &User) -> Result<(), ApiError> {
    if sso_admin::may_manage(state, user) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "solo la administración de la instalación maneja las reglas del inicio de sesión único",
    ))
}

#[utoipa::path(get, path = "/api/v1/sso/rules", tag = "inicio de sesión único", operation_id = "list_sso_rules",
    summary = "Las reglas del inicio de sesión único",
    description = "En el orden en que se prueban: la primera cuyo dato del token tenga el valor da la oficina y el rol a quien entra por el proveedor de identidad; quien no cumple ninguna no entra. Solo la administración de la instalación.",
    responses((status = 200, body = [SsoRuleView]), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<Vec<SsoRuleView>>, ApiError> {
    installation_admin(&state, &user)?;
    let rules = state.accounts.sso_rules().await?;
    Ok(Json(rules.into_iter().map(view).collect()))
}

#[utoipa::path(post, path = "/api/v1/sso/rules", tag = "inicio de sesión único", operation_id = "create_sso_rule",
    summary = "Agrega una regla del inicio de sesión único",
    description = "Quien tenga el dato con ese valor entra a la oficina con el rol, si ninguna regla anterior lo decide antes. Los errores nombran el campo. Queda en la auditoría (`sso.regla_creada`). Solo la administración de la instalación.",
    request_body = NewSsoRuleBody,
    responses((status = 201, body = SsoRuleView), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    Body(body): Body<NewSsoRuleBody>,
) -> Result<(StatusCode, Json<SsoRuleView>), ApiError> {
    installation_admin(&state, &user)?;
    let new = NewSsoRule {
        claim: body.dato,
        value: body.valor,
        office_code: body.oficina,
        role: parse_role(&body.rol)?,
        position: body.orden,
    };
    let rule = sso_admin::add_rule(&state, &user, Via::Api, &new).await?;
    Ok((StatusCode::CREATED, Json(view(rule))))
}

#[utoipa::path(delete, path = "/api/v1/sso/rules/{id}", tag = "inicio de sesión único", operation_id = "delete_sso_rule",
    summary = "Elimina una regla del inicio de sesión único",
    description = "Quien entraba por ella no entra en su próxima entrada, salvo que otra regla lo admita. Queda en la auditoría (`sso.regla_eliminada`). Solo la administración de la instalación.",
    params(("id" = String, Path, description = "Identificador de la regla")),
    responses((status = 204), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    installation_admin(&state, &user)?;
    let not_found = || ApiError::not_found("no existe esa regla");
    let id = crate::public_id::PublicId::parse(&id).map_err(|_| not_found())?;
    match sso_admin::remove_rule(&state, &user, Via::Api, id).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(not_found()),
    }
}
