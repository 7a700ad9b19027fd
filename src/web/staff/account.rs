//! My account: change my password, my API tokens.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::accounts::AccountError;
use crate::web::AppState;
use crate::web::auth::{SESSION_COOKIE, Staff, StaffForm, set_cookie};
use crate::web::ui::{csrf_field, notice, page};

use super::error::{Failure, OrPage as _, PageError, PageResult};

fn password_page(staff: &Staff, status: StatusCode, message: Option<Markup>) -> Response {
    let forced = staff.user().must_change_password;
    let body = page(
        staff,
        "Cambiar contraseña",
        html! {
            @if forced {
                (notice("aviso", "Su contraseña fue asignada por otra persona. Elija una propia para continuar."))
            }
            @if let Some(message) = message { (message) }
            form.tarjeta method="post" action="/contrasena" {
                (csrf_field(staff))
                label for="actual" { "Contraseña actual" }
                input #actual type="password" name="actual" autocomplete="current-password" required;
                label for="nueva" { "Contraseña nueva" span.ayuda { "Al menos 10 caracteres. Una frase fácil de recordar sirve." } }
                input #nueva type="password" name="nueva" autocomplete="new-password" minlength="10" required;
                label for="repetida" { "Repita la contraseña nueva" }
                input #repetida type="password" name="repetida" autocomplete="new-password" minlength="10" required;
                div.acciones { button { "Guardar contraseña" } }
            }
        },
    );
    (status, Html(body.into_string())).into_response()
}

pub async fn password_form(staff: Staff) -> Response {
    password_page(&staff, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    actual: String,
    nueva: String,
    repetida: String,
}

pub async fn change_password(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<PasswordChange>,
) -> PageResult {
    if form.nueva != form.repetida {
        let message = notice("error", "Contraseña nueva: las dos copias no coinciden.");
        return Ok(password_page(
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        ));
    }
    match state
        .accounts
        .change_password(staff.user().id, &form.actual, &form.nueva)
        .await
    {
        // Every session of the user ended with the change; this one goes on anew.
        Ok(()) => {
            let (token, _) = state
                .accounts
                .open_session(staff.user().id)
                .await
                .or_page(&staff)?;
            let cookie = set_cookie(SESSION_COOKIE, Some(&token), state.secure_cookies);
            Ok((
                [(axum::http::header::SET_COOKIE, cookie)],
                Redirect::to("/?aviso=contrasena"),
            )
                .into_response())
        }
        Err(AccountError::Invalid(message)) => Ok(password_page(
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(notice("error", &capitalized(&message))),
        )),
        Err(error) => Err(Failure::unavailable(error)).or_page(&staff),
    }
}

/// «contraseña actual: …» → «Contraseña actual: …», for a sentence on a page.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

async fn account_page(
    state: &AppState,
    staff: &Staff,
    created: Option<(String, String)>,
    aviso: Option<&str>,
) -> PageResult {
    let user = staff.user();
    let sso = super::sso_link::section(state, staff, aviso)
        .await
        .or_page(staff)?;
    let tokens = (state.accounts.tokens(user.id).await)
        .map_err(Failure::unavailable)
        .or_page(staff)?;
    let archive = state.archive_for(user).await.or_page(staff)?;
    let zone = state.issuer.time_zone_of(archive.office());
    let moment = |at: &str| crate::web::page::short_moment(at, zone);
    let body = page(
        staff,
        "Mi cuenta",
        html! {
            dl.datos {
                dt { "Nombre" } dd { (user.display_name) }
                dt { "Cargo" } dd { (user.cargo) }
                dt { "Usuario" } dd { (user.username) }
                dt { "Rol" } dd { (user.role.label()) }
                dt { "Oficina" } dd { (user.office_code) }
            }
            @if !user.display_name.is_empty() {
                p { "Firma como " strong { (user.display_name) } @if !user.cargo.is_empty() { ", " (user.cargo) } ". Si su nombre o cargo cambian, pida a quien administra Sello que los corrija." }
            }
            p { a href="/contrasena" { "Cambiar mi contraseña" } }
            @if user.role.can_draft() {
                p { a href="/valores" { "Valores predeterminados de los formularios" } " (quien firma y su cargo, el lugar, la unidad)" }
            }
            @if let Some(sso) = sso { (sso) }
            h2 { "Tokens de API" }
            p { "Un token permite que otro sistema use la API de Sello con sus permisos. Guárdelo como una contraseña." }
            @if let Some((name, secret)) = &created {
                (notice("ok", &format!("Token «{name}» creado. Cópielo ahora: no se volverá a mostrar.")))
                code.secreto { (secret) }
            }
            @if !tokens.is_empty() {
                table {
                    thead { tr { th { "Nombre" } th { "Creado" } th { "Último uso" } th { "Estado" } th { "Acción" } } }
                    tbody {
                        @for token in &tokens {
                            tr {
                                td { (token.name) }
                                td { (moment(&token.created_at)) }
                                td { (token.last_used_at.as_deref().map_or("nunca".to_owned(), moment)) }
                                td { @if token.revoked_at.is_some() { "revocado" } @else { "activo" } }
                                td {
                                    @if token.revoked_at.is_none() {
                                        form method="post" action={"/cuenta/tokens/" (token.id) "/revocar"} {
                                            (csrf_field(staff))
                                            button.secundario { "Revocar" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.tarjeta method="post" action="/cuenta/tokens" {
                (csrf_field(staff))
                label for="nombre" { "Nombre del token" span.ayuda { "Para qué sistema es, como «Padrón estatal»." } }
                input #nombre name="nombre" maxlength="80" required;
                div.acciones { button { "Crear token" } }
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    aviso: Option<String>,
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<AccountQuery>,
) -> PageResult {
    account_page(&state, &staff, None, query.aviso.as_deref()).await
}

#[derive(Debug, Deserialize)]
pub struct NewToken {
    nombre: String,
}

pub async fn create_token(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<NewToken>,
) -> PageResult {
    match state.accounts.create_token(staff.user(), &form.nombre).await {
        Ok((token, secret)) => account_page(&state, &staff, Some((token.name, secret)), None).await,
        Err(AccountError::Invalid(message)) => Err(PageError::bad_request(&staff, message)),
        Err(error) => Err(Failure::unavailable(error)).or_page(&staff),
    }
}

#[derive(Debug, Deserialize)]
pub struct Nothing {}

pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, .. }: StaffForm<Nothing>,
) -> PageResult {
    let Ok(id) = crate::public_id::PublicId::parse(&id) else {
        return Err(PageError::not_found(
            &staff,
            "Token: no existe o ya estaba revocado.",
        ));
    };
    match state.accounts.revoke_token(staff.user().id, id).await {
        Ok(()) => Ok(Redirect::to("/cuenta").into_response()),
        Err(AccountError::Invalid(message)) => Err(PageError::not_found(&staff, message)),
        Err(error) => Err(Failure::unavailable(error)).or_page(&staff),
    }
}
