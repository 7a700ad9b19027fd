//! The forms: what can be issued, and each form's fields.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::extract::PathParams;
use super::{ApiError, AppState};
use crate::web::auth::ApiCaller;

/// A form of the catalog.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FormSummary {
    pub id: String,
    pub title: String,
    /// oficio, carta, acta, lista, padron, plan, informe…
    pub family: String,
    pub description: String,
}

/// A form with its fields, their types and limits, and its rules.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FormDetail {
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
}

/// Every form the office can issue.
#[utoipa::path(get, path = "/api/v1/forms", tag = "formularios",
    responses((status = 200, body = [FormSummary]), (status = 401, body = super::ErrorBody)))]
pub async fn list_forms(State(state): State<Arc<AppState>>, _caller: ApiCaller) -> Json<Vec<FormSummary>> {
    Json(
        state
            .catalog
            .iter()
            .map(|form| FormSummary {
                id: form.id.to_string(),
                title: form.title.clone(),
                family: form.family.label().to_owned(),
                description: form.description.clone(),
            })
            .collect(),
    )
}

/// One form's fields, to build an entry screen or check data first.
#[utoipa::path(get, path = "/api/v1/forms/{id}", tag = "formularios",
    params(("id" = String, Path, description = "Identificador del formulario, como «oficio-comision»")),
    responses((status = 200, body = FormDetail), (status = 401, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn form_schema(
    State(state): State<Arc<AppState>>,
    _caller: ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<FormDetail>, ApiError> {
    let form = state
        .catalog
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("no existe el formulario «{id}»")))?;
    let form = serde_json::to_value(form).map_err(|e| ApiError::internal(&e))?;
    Ok(Json(FormDetail { form }))
}
