//! Logging in and out. The login form is guarded by a double-submit
//! cookie (there is no session yet to hold a CSRF token); failures are
//! throttled per address and locked per account. With single sign-on the
//! page offers «Entrar con …» too (or only that, when passwords are off),
//! and logging out of a session the provider opened ends it there as well.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::accounts::LoginOutcome;
use crate::web::AppState;
use crate::web::auth::{
    LOGIN_COOKIE, SESSION_COOKIE, StaffForm, cookie_value, safe_next, same_secret, set_cookie,
};
use crate::web::ratelimit::PeerAddr;
use crate::web::ui::{bare_page, notice, unavailable};

#[derive(Debug, Deserialize)]
pub struct Next {
    siguiente: Option<String>,
}

/// The one answer to a login that does not open a session, whatever the
/// reason (unknown user, wrong password, account locked).
const REFUSED: &str =
    "Usuario o contraseña incorrectos. Tras varios intentos fallidos la cuenta se bloquea 15 minutos.";

fn login_page(state: &AppState, status: StatusCode, next: &str, message: Option<&str>) -> Response {
    let mut guard = [0u8; 24];
    if getrandom::fill(&mut guard).is_err() {
        return unavailable(&"generador aleatorio del sistema");
    }
    let guard = data_encoding::BASE64URL_NOPAD.encode(&guard);
    let sso = state.sso.as_deref().map(|sso| sso.settings());
    let passwords = sso.is_none_or(|sso| sso.local_passwords);
    let body = bare_page(
        "Entrar",
        html! {
            @if let Some(message) = message { (notice("error", message)) }
            @if let Some(sso) = sso {
                p.acciones {
                    a.boton href={"/sso/entrar?" (serde_urlencoded::to_string([("siguiente", next)]).unwrap_or_default())} {
                        "Entrar con " (sso.provider_name)
                    }
                }
            }
            @if passwords {
                form method="post" action="/entrar" {
                    input type="hidden" name="guardia" value=(guard);
                    input type="hidden" name="siguiente" value=(next);
                    label for="usuario" { "Usuario" }
                    input #usuario name="usuario" autocomplete="username" autocapitalize="none" required autofocus;
                    label for="contrasena" { "Contraseña" }
                    input #contrasena type="password" name="contrasena" autocomplete="current-password" required;
                    div.acciones { button { "Entrar" } }
                }
            }
        },
    );
    (
        status,
        [(
            header::SET_COOKIE,
            set_cookie(LOGIN_COOKIE, Some(&guard), state.secure_cookies),
        )],
        Html(body.into_string()),
    )
        .into_response()
}

pub async fn form(State(state): State<Arc<AppState>>, Query(next): Query<Next>) -> Response {
    login_page(&state, StatusCode::OK, safe_next(next.siguiente.as_deref()), None)
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    usuario: String,
    contrasena: String,
    guardia: String,
    siguiente: Option<String>,
}

pub async fn submit(
    State(state): State<Arc<AppState>>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    Form(credentials): Form<Credentials>,
) -> Response {
    let next = safe_next(credentials.siguiente.as_deref()).to_owned();
    let guard = cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    if guard.is_empty() || !same_secret(&guard, &credentials.guardia) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            &next,
            Some("El formulario venció o llegó de otro sitio. Escriba de nuevo su usuario y contraseña."),
        );
    }
    if let Some(sso) = state.sso.as_deref()
        && !sso.settings().local_passwords
    {
        let message = format!(
            "En esta instalación no se entra con contraseña: use «Entrar con {}».",
            sso.settings().provider_name
        );
        return login_page(&state, StatusCode::FORBIDDEN, &next, Some(&message));
    }
    let client = state.login_limiter.client(&headers, peer);
    if !state.login_limiter.allows(client).await {
        return login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            Some("Demasiados intentos desde esta conexión. Espere unos minutos e intente de nuevo."),
        );
    }
    match state
        .accounts
        .login(&credentials.usuario, &credentials.contrasena)
        .await
    {
        Ok(LoginOutcome::Opened { token, session }) => {
            tracing::info!(user = session.user.id, "sesión iniciada");
            let target = if session.user.must_change_password {
                "/contrasena"
            } else {
                next.as_str()
            };
            (
                // Two cookies: appended, since a header array would keep only the last.
                axum::response::AppendHeaders([
                    (
                        header::SET_COOKIE,
                        set_cookie(SESSION_COOKIE, Some(&token), state.secure_cookies),
                    ),
                    (
                        header::SET_COOKIE,
                        set_cookie(LOGIN_COOKIE, None, state.secure_cookies),
                    ),
                ]),
                Redirect::to(target),
            )
                .into_response()
        }
        // A locked account is answered as an unknown one or a wrong
        // password: the answer must not tell which usernames exist.
        Ok(LoginOutcome::Refused | LoginOutcome::Locked) => {
            login_page(&state, StatusCode::UNAUTHORIZED, &next, Some(REFUSED))
        }
        Err(error) => unavailable(&error),
    }
}

#[derive(Debug, Deserialize)]
pub struct Nothing {}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: StaffForm<Nothing>,
) -> Response {
    let token = cookie_value(&headers, SESSION_COOKIE);
    // A session opened through the provider ends there too, when it offers it.
    let provider_logout = match (state.sso.as_deref(), token.as_deref()) {
        (Some(sso), Some(token)) => match state.accounts.session_id_token(token).await {
            Ok(Some(id_token)) => sso.logout_url(Some(&id_token)).await,
            Ok(None) => None,
            Err(error) => return unavailable(&error),
        },
        _ => None,
    };
    if let Some(token) = token
        && let Err(error) = state.accounts.logout(&token).await
    {
        return unavailable(&error);
    }
    tracing::info!(user = form.staff.user().id, "sesión cerrada");
    (
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, None, state.secure_cookies),
        )],
        Redirect::to(provider_logout.as_deref().unwrap_or("/entrar")),
    )
        .into_response()
}
