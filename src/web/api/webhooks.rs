//! The office's webhooks: subscribe (the secret shown once), list,
//! delete, read the delivery log, and send a delivery again. Only the
//! office's administrators, as on the staff pages.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::{Body, PathParams};
use super::{ApiError, AppState};
use crate::accounts::User;
use crate::archive::webhooks::{self as outbox, DeliveryRecord, Subscription};
use crate::web::auth::ApiCaller;
use crate::webhooks::SubscribeError;

/// A subscription to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// Where deliveries are POSTed: `https://…` (a public address unless
    /// the installation allows private ones).
    pub url: String,
    /// The events wanted (`document.issued`, `document.annulled`,
    /// `document.replaced`, `draft.step`, `draft.returned`,
    /// `lote.finished`, `referral.sent`, `referral.answered`); all when
    /// missing or empty.
    #[serde(default)]
    pub events: Vec<String>,
    /// `minimo` (the default: public ids, folio, form) or `datos` (also
    /// the names and identifications of the persons a document names).
    pub scope: Option<String>,
}

/// A subscription.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub scope: String,
    pub created_at: String,
    pub created_by: String,
}

/// A subscription just made, with its secret: shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookCreatedView {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The key of the HMAC-SHA256 in `Sello-Signature`. Not shown again.
    pub secret: String,
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub at: String,
    /// The HTTP status the target answered; `null` when it did not.
    pub response_code: Option<i64>,
    /// Why the attempt failed; `null` when delivered.
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A delivery of an event, with its attempts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: String,
    /// The event's id: the `id` of the body, the same on every attempt.
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: String,
    /// `pendiente`, `entregada` or `fallida` (its attempts ran out).
    pub state: String,
    pub attempts: Vec<AttemptView>,
}

fn view(subscription: &Subscription) -> WebhookView {
    WebhookView {
        id: subscription.public_id.clone(),
        url: subscription.url.clone(),
        events: subscription
            .events
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        scope: subscription.scope.as_str().to_owned(),
        created_at: subscription.created_at.clone(),
        created_by: subscription.created_by.clone(),
    }
}

fn delivery_view(record: DeliveryRecord) -> DeliveryView {
    DeliveryView {
        id: record.public_id,
        event_id: record.event_id,
        event_type: record.kind,
        occurred_at: record.occurred_at,
        state: record.state,
        attempts: record
            .attempts
            .into_iter()
            .map(|a| AttemptView {
                at: a.at,
                response_code: a.response_code,
                error: a.error,
                duration_ms: a.duration_ms,
            })
            .collect(),
    }
}

fn require_admin(user: &User) -> Result<(), ApiError> {
    if user.role.can_administer() {
        Ok(())
    } else {
        Err(ApiError::forbidden(user.role))
    }
}

async fn subscription_of(state: &AppState, user: &User, id: &str) -> Result<Subscription, ApiError> {
    super::public_id(id, "ese webhook")?;
    outbox::get(state.archive.store(), &user.office_code, id)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("no existe ese webhook en esta oficina"))
}

/// Subscribes the office to events.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    summary = "Suscribe la oficina a eventos",
    description = "Crea una suscripción: cada evento elegido se envía por POST a la dirección, firmado en `Sello-Signature` con el secreto de la respuesta, que no se vuelve a mostrar. Solo la administración de la oficina.",
    request_body = NewWebhookBody,
    responses((status = 201, body = WebhookCreatedView), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn create_webhook(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    Body(body): Body<NewWebhookBody>,
) -> Result<(StatusCode, Json<WebhookCreatedView>), ApiError> {
    require_admin(&user)?;
    let (subscription, secret) = crate::webhooks::subscribe(
        state.archive.store(),
        &state.config.webhooks,
        &user.office_code,
        &user.username,
        &body.url,
        &body.events,
        body.scope.as_deref(),
    )
    .await
    .map_err(|error| match error {
        SubscribeError::Invalid(message) => ApiError::bad_request(message),
        SubscribeError::Store(error) => ApiError::internal(&error),
    })?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreatedView {
            webhook: view(&subscription),
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// The office's subscriptions.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    summary = "Las suscripciones de la oficina",
    description = "Cada suscripción en vigor con su dirección, sus eventos y su alcance, sin su secreto. Solo la administración de la oficina.",
    responses((status = 200, body = [WebhookView]), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    require_admin(&user)?;
    let subscriptions = outbox::list(state.archive.store(), &user.office_code)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(subscriptions.iter().map(view).collect()))
}

/// One subscription.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "get_webhook",
    summary = "Una suscripción",
    description = "La suscripción con su dirección, sus eventos y su alcance, sin su secreto.",
    params(("id" = String, Path, description = "Identificador de la suscripción")),
    responses((status = 200, body = WebhookView), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn get_webhook(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<WebhookView>, ApiError> {
    require_admin(&user)?;
    Ok(Json(view(&subscription_of(&state, &user, &id).await?)))
}

/// Deletes a subscription.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    summary = "Elimina una suscripción",
    description = "No se le envía nada más, tampoco los reintentos pendientes; su registro de entregas se conserva.",
    params(("id" = String, Path, description = "Identificador de la suscripción")),
    responses((status = 204), (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&user)?;
    let subscription = subscription_of(&state, &user, &id).await?;
    outbox::delete(
        state.archive.store(),
        &user.office_code,
        &subscription.public_id,
        &user.username,
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delivery log of a subscription.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/entregas", tag = "webhooks", operation_id = "list_webhook_deliveries",
    summary = "El registro de entregas de una suscripción",
    description = "Las últimas 100 entregas, las más recientes primero, cada una con su estado y cada intento con la hora, el código de respuesta y el error.",
    params(("id" = String, Path, description = "Identificador de la suscripción")),
    responses((status = 200, body = [DeliveryView]), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams(id): PathParams<String>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    require_admin(&user)?;
    let subscription = subscription_of(&state, &user, &id).await?;
    let records = outbox::deliveries(state.archive.store(), subscription.row_id, 100)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(records.into_iter().map(delivery_view).collect()))
}

/// Sends a delivery again.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/entregas/{delivery}/reenviar", tag = "webhooks",
    operation_id = "redeliver_webhook",
    summary = "Vuelve a enviar una entrega",
    description = "La misma entrega, con el mismo `id` de evento, se envía de nuevo en cuanto el servicio pueda, con sus reintentos.",
    params(("id" = String, Path, description = "Identificador de la suscripción"),
        ("delivery" = String, Path, description = "Identificador de la entrega")),
    responses((status = 202), (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn redeliver(
    State(state): State<Arc<AppState>>,
    ApiCaller(user): ApiCaller,
    PathParams((id, delivery)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    require_admin(&user)?;
    let subscription = subscription_of(&state, &user, &id).await?;
    super::public_id(&delivery, "esa entrega")?;
    let found = outbox::redeliver(state.archive.store(), &subscription, &delivery, &user.username)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if found {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::not_found("no existe esa entrega de este webhook"))
    }
}
