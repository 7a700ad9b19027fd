//! The office's webhooks in the administration pages: subscribe (the
//! secret shown once), delete, and the delivery log with a button to send
//! a delivery again. The same rules as the API: the office's
//! administrators only, through `crate::webhooks::subscribe`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use maud::{Markup, html};

use super::error::{Failure, OrPage as _, PageResult};
use crate::archive::webhooks::{self as outbox, EventType};
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::ui::{csrf_field, notice, page};
use crate::webhooks::SubscribeError;

/// Deliveries shown per subscription.
const SHOWN: i64 = 10;

async fn webhooks_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    message: Option<Markup>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let store = state.archive.store();
    let office = &staff.user().office_code;
    let subscriptions = outbox::list(store, office)
        .await
        .map_err(Failure::unavailable)
        .or_page(staff)?;
    let mut logs = Vec::with_capacity(subscriptions.len());
    for subscription in &subscriptions {
        logs.push(
            outbox::deliveries(store, subscription.row_id, SHOWN)
                .await
                .map_err(Failure::unavailable)
                .or_page(staff)?,
        );
    }
    let body = page(
        staff,
        "Webhooks",
        html! {
            @if let Some(message) = message { (message) }
            h2 { "Webhooks de " (office) }
            p { "Cada evento elegido se envía por POST, en JSON, a la dirección de la suscripción, firmado en la cabecera Sello-Signature con su secreto. Si el destino no responde con 2xx, se reintenta durante unas 26 horas." }
            @if subscriptions.is_empty() { p { "La oficina no tiene suscripciones." } }
            @for (subscription, log) in subscriptions.iter().zip(&logs) {
                section.tarjeta {
                    h3 { (subscription.url) }
                    p { "Alcance: " (subscription.scope.as_str()) ". Eventos: "
                        (subscription.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")) "." }
                    @if log.is_empty() { p { "Sin entregas todavía." } } @else {
                        div.tabla-desplazable { table {
                            thead { tr { th { "Evento" } th { "Fecha" } th { "Estado" } th { "Intentos" } th { "Última respuesta" } th { "Acción" } } }
                            tbody {
                                @for delivery in log {
                                    tr {
                                        td { (delivery.kind) }
                                        td { (delivery.occurred_at) }
                                        td { (delivery.state) }
                                        td { (delivery.attempts.len()) }
                                        td { @if let Some(last) = delivery.attempts.last() {
                                            @if let Some(code) = last.response_code { (code) " " }
                                            (last.error.as_deref().unwrap_or(""))
                                        } }
                                        td {
                                            form method="post" action={"/admin/webhooks/" (subscription.public_id) "/entregas/" (delivery.public_id) "/reenviar"} {
                                                (csrf_field(staff))
                                                button.secundario aria-label={"Reenviar la entrega " (delivery.public_id)} { "Reenviar" }
                                            }
                                        }
                                    }
                                }
                            }
                        } }
                    }
                    form method="post" action={"/admin/webhooks/" (subscription.public_id) "/eliminar"} {
                        (csrf_field(staff))
                        button.peligro { "Eliminar la suscripción" }
                    }
                }
            }
            form.tarjeta method="post" action="/admin/webhooks" {
                (csrf_field(staff))
                h2 { "Nueva suscripción" }
                label for="url" { "Dirección" span.ayuda { "https://… de un servidor público." } }
                input #url name="url" type="url" required maxlength="2000";
                label for="alcance" { "Alcance" }
                select #alcance name="alcance" {
                    option value="minimo" { "Mínimo: identificadores, folio y formulario" }
                    option value="datos" { "Con datos personales: también las personas que nombra el documento" }
                }
                fieldset {
                    legend { "Eventos (ninguno marcado: todos)" }
                    @for kind in EventType::ALL {
                        label { input type="checkbox" name="evento" value=(kind.as_str()); " " (kind.as_str()) }
                    }
                }
                div.acciones { button { "Crear suscripción" } }
            }
        },
    );
    Ok((status, Html(body.into_string())).into_response())
}

/// `/admin/webhooks`.
pub async fn overview(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    webhooks_page(&state, &staff, StatusCode::OK, None).await
}

/// Subscribes the office: the page again with the secret, shown once.
pub async fn create(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let events: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "evento")
        .map(|(_, v)| v.clone())
        .collect();
    let made = crate::webhooks::subscribe(
        state.archive.store(),
        &state.config.webhooks,
        &staff.user().office_code,
        &staff.user().username,
        field("url").unwrap_or_default(),
        &events,
        field("alcance"),
    )
    .await;
    match made {
        Ok((subscription, secret)) => {
            let message = html! {
                (notice("ok", "Suscripción creada."))
                p { "Secreto de " strong { (subscription.url) } " (se muestra solo ahora; guárdelo en el sistema que recibe):" }
                code.secreto { (secret.expose()) }
            };
            webhooks_page(&state, &staff, StatusCode::OK, Some(message)).await
        }
        Err(SubscribeError::Invalid(problem)) => {
            let message = notice("error", &format!("Dirección: {problem}."));
            webhooks_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
        Err(SubscribeError::Store(error)) => Err(Failure::unavailable(error)).or_page(&staff),
    }
}

/// Deletes a subscription.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, .. }: StaffForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let user = staff.user();
    let deleted = outbox::delete(state.archive.store(), &user.office_code, &id, &user.username)
        .await
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    if !deleted {
        let message = notice("error", "No existe esa suscripción en su oficina.");
        return webhooks_page(&state, &staff, StatusCode::NOT_FOUND, Some(message)).await;
    }
    Ok(Redirect::to("/admin/webhooks").into_response())
}

/// Sends a delivery again.
pub async fn redeliver(
    State(state): State<Arc<AppState>>,
    Path((id, delivery)): Path<(String, String)>,
    StaffForm { staff, .. }: StaffForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let user = staff.user();
    let store = state.archive.store();
    let subscription = outbox::get(store, &user.office_code, &id)
        .await
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    let found = match subscription {
        Some(subscription) => outbox::redeliver(store, &subscription, &delivery, &user.username)
            .await
            .map_err(Failure::unavailable)
            .or_page(&staff)?,
        None => false,
    };
    if found {
        let message = notice("ok", "La entrega se enviará de nuevo en unos segundos.");
        webhooks_page(&state, &staff, StatusCode::OK, Some(message)).await
    } else {
        let message = notice("error", "No existe esa entrega en su oficina.");
        webhooks_page(&state, &staff, StatusCode::NOT_FOUND, Some(message)).await
    }
}
