//! Single sign-on's two addresses: `/sso/entrar` sends the browser to the
//! provider (the login's state kept in a cookie of its own), and
//! `/sso/vuelta` is where the provider sends it back, from a login or from
//! the linking of an account (started on the account page,
//! `staff/sso_link.rs`). What the protocol and the rules decide is
//! `accounts::sso`'s; here it becomes a session cookie or a link, a
//! Spanish page and an audit event.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::{SESSION_COOKIE, cookie_value, safe_next};
use super::ui::{bare_page, notice, unavailable};
use crate::accounts::sso::{Linking, Refusal, SignIn, SingleSignOn, SsoError, Verified};
use crate::archive::NewEvent;

/// The cookie that keeps a login's state while the browser is at the provider.
pub const STATE_COOKIE: &str = "sello_sso";
/// As long as the login's row lives.
const STATE_COOKIE_SECONDS: i64 = 10 * 60;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/sso/entrar", get(start))
        .route(crate::config::CALLBACK_PATH, get(callback))
}

#[derive(Debug, Deserialize)]
pub struct Next {
    siguiente: Option<String>,
}

/// The state cookie: HttpOnly, and `SameSite=Lax`, which a browser still
/// sends on the provider's top-level redirect back to Sello.
pub(crate) fn state_cookie(value: Option<&str>, secure: bool) -> String {
    let mut cookie = cookie::Cookie::new(STATE_COOKIE, value.unwrap_or("").to_owned());
    cookie.set_http_only(true);
    cookie.set_same_site(cookie::SameSite::Lax);
    cookie.set_secure(secure);
    cookie.set_path(crate::config::CALLBACK_PATH);
    let seconds = if value.is_some() { STATE_COOKIE_SECONDS } else { 0 };
    cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    cookie.to_string()
}

fn enabled(state: &AppState) -> Option<&SingleSignOn> {
    state.sso.as_deref()
}

/// A page about a login that did not happen, with the way back to the login.
fn refusal_page(status: StatusCode, title: &str, text: &str, secure: bool) -> Response {
    refusal_page_back(
        status,
        title,
        text,
        secure,
        ("/entrar", "Volver a la página de entrada"),
    )
}

/// A page about a login or a linking that did not happen, with a way back.
fn refusal_page_back(
    status: StatusCode,
    title: &str,
    text: &str,
    secure: bool,
    (back, back_text): (&str, &str),
) -> Response {
    let body = bare_page(
        title,
        html! {
            (notice("error", text))
            p { a href=(back) { (back_text) } }
        },
    );
    (
        status,
        [(header::SET_COOKIE, state_cookie(None, secure))],
        Html(body.into_string()),
    )
        .into_response()
}

/// Sends the browser to the provider.
pub async fn start(State(state): State<Arc<AppState>>, Query(next): Query<Next>) -> Response {
    let Some(sso) = enabled(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let next = safe_next(next.siguiente.as_deref());
    match sso.begin(next).await {
        Ok(started) => (
            [(
                header::SET_COOKIE,
                state_cookie(Some(&started.state), state.secure_cookies),
            )],
            Redirect::to(&started.authorization_url),
        )
            .into_response(),
        Err(SsoError::Accounts(error)) => unavailable(&error),
        Err(error) => {
            tracing::warn!(error = %error, "no se pudo iniciar sesión en el proveedor");
            provider_down(sso, state.secure_cookies)
        }
    }
}

fn provider_down(sso: &SingleSignOn, secure: bool) -> Response {
    refusal_page(
        StatusCode::BAD_GATEWAY,
        "Proveedor no disponible",
        &format!(
            "Sello no pudo comunicarse con {}. Intente de nuevo en unos minutos; si persiste, avise a quien administra el servicio.",
            sso.settings().provider_name
        ),
        secure,
    )
}

#[derive(Debug, Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where the provider sends the browser back.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(answer): Query<Answer>,
) -> Response {
    let Some(sso) = enabled(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let secure = state.secure_cookies;
    if let Some(error) = answer.error {
        // The provider's own code (access_denied, login_required), no personal data.
        let code: String = error.chars().take(60).collect();
        tracing::info!(error = %code, "el proveedor no autorizó la entrada");
        return refusal_page(
            StatusCode::FORBIDDEN,
            "Entrada no autorizada",
            &format!("{} no autorizó la entrada a Sello.", sso.settings().provider_name),
            secure,
        );
    }
    let kept = cookie_value(&headers, STATE_COOKIE).unwrap_or_default();
    let verified = sso
        .finish(
            answer.state.as_deref().unwrap_or(""),
            &kept,
            answer.code.as_deref().unwrap_or(""),
        )
        .await;
    let verified = match verified {
        Ok(verified) => verified,
        Err(SsoError::UnknownLogin) => {
            tracing::warn!("vuelta del proveedor con un estado desconocido, usado o vencido");
            return refusal_page(
                StatusCode::BAD_REQUEST,
                "Entrada vencida",
                "Este inicio de sesión no es válido o ya venció. Vuelva a la página de entrada e intente de nuevo.",
                secure,
            );
        }
        Err(SsoError::InvalidToken(reason)) => {
            tracing::warn!(reason = %reason, "token de identidad rechazado");
            return refusal_page(
                StatusCode::UNAUTHORIZED,
                "Identidad no verificada",
                "Sello no pudo verificar la identidad que envió el proveedor. Intente de nuevo; si persiste, avise a quien administra el servicio.",
                secure,
            );
        }
        Err(SsoError::Accounts(error)) => return unavailable(&error),
        Err(error @ SsoError::Provider(_)) => {
            tracing::warn!(error = %error, "el proveedor no completó la entrada");
            return provider_down(sso, secure);
        }
    };
    if let Some(account) = verified.link_user {
        return finish_link(&state, sso, &headers, &verified, account).await;
    }
    match sso.sign_in(&verified).await {
        Ok(SignIn::Opened {
            token,
            session,
            rule,
            created,
            previous_role,
        }) => {
            let user = &session.user;
            let event = NewEvent {
                actor: user.username.clone(),
                action: "sesion.sso_iniciada",
                office_code: Some(user.office_code.clone()),
                document_id: None,
                expediente_id: None,
                draft_id: None,
                details: json!({
                    "emisor": verified.issuer,
                    "regla": rule.public_id.to_string(),
                    "rol": user.role.as_str(),
                    "cuenta_nueva": created,
                    "rol_anterior": previous_role.map(|role| role.as_str()),
                }),
            };
            if let Err(error) = state.archive.store().record_event(event).await {
                return unavailable(&error);
            }
            tracing::info!(user = user.id, "sesión iniciada por el proveedor de identidad");
            (
                AppendHeaders([
                    (
                        header::SET_COOKIE,
                        super::auth::set_cookie(SESSION_COOKIE, Some(&token), secure),
                    ),
                    (header::SET_COOKIE, state_cookie(None, secure)),
                ]),
                Redirect::to(&verified.next),
            )
                .into_response()
        }
        Ok(SignIn::Refused(refusal)) => refuse(&state, sso, &verified, refusal).await,
        Err(error) => unavailable(&error),
    }
}

/// A verified person Sello does not let in: audited, told why in Spanish,
/// given no session.
async fn refuse(state: &AppState, sso: &SingleSignOn, verified: &Verified, refusal: Refusal) -> Response {
    let event = NewEvent {
        actor: format!("sso:{}", verified.subject.chars().take(80).collect::<String>()),
        action: "sesion.sso_rechazada",
        office_code: None,
        document_id: None,
        expediente_id: None,
        draft_id: None,
        details: json!({
            "emisor": verified.issuer,
            "sujeto": verified.subject,
            "motivo": refusal.code(),
        }),
    };
    if let Err(error) = state.archive.store().record_event(event).await {
        return unavailable(&error);
    }
    tracing::info!(reason = refusal.code(), "entrada por el proveedor rechazada");
    let provider = &sso.settings().provider_name;
    let text = match refusal {
        Refusal::NoRule => format!(
            "Su cuenta de {provider} es válida, pero no tiene acceso a Sello: ninguna regla de esta instalación le asigna una oficina y un rol. Pida a quien administra Sello que le dé acceso."
        ),
        Refusal::Inactive => {
            "Su cuenta de Sello está desactivada. Pida a quien administra Sello en su oficina que la revise."
                .to_owned()
        }
        Refusal::OtherOffice => format!(
            "Su cuenta de Sello pertenece a otra oficina que la que {provider} indica ahora. Pida a quien administra Sello que revise su cuenta."
        ),
        // A login is never refused so; a linking is (`finish_link`).
        Refusal::LinkedElsewhere | Refusal::AlreadyLinked => format!(
            "Su cuenta de {provider} no tiene acceso a Sello. Pida a quien administra Sello que revise su cuenta."
        ),
    };
    refusal_page(
        StatusCode::FORBIDDEN,
        "Sin acceso a Sello",
        &text,
        state.secure_cookies,
    )
}

/// The return of a linking started by the account `account`: linked, if
/// this browser's session is still that account's and the rules agree.
async fn finish_link(
    state: &AppState,
    sso: &SingleSignOn,
    headers: &HeaderMap,
    verified: &Verified,
    account: i64,
) -> Response {
    let secure = state.secure_cookies;
    let session = match cookie_value(headers, SESSION_COOKIE) {
        Some(token) => match state.accounts.session(&token).await {
            Ok(session) => session,
            Err(error) => return unavailable(&error),
        },
        None => None,
    };
    // Started by another session, or this one ended meanwhile: the
    // identity is not linked to whoever holds the browser now.
    let Some(session) = session.filter(|session| session.user.id == account) else {
        tracing::warn!("vuelta de una vinculación sin la sesión que la empezó");
        return refusal_page(
            StatusCode::BAD_REQUEST,
            "Vinculación vencida",
            "Esta vinculación no corresponde a la sesión abierta en este navegador. Entre a Sello con su contraseña y vuelva a vincular su cuenta desde «Mi cuenta».",
            secure,
        );
    };
    let user = &session.user;
    let (action, details, refusal) = match sso.link(verified, user).await {
        Ok(Linking::Linked { rule }) => (
            super::staff::LINKED,
            json!({
                "usuario": user.username,
                "emisor": verified.issuer,
                "sujeto": verified.subject,
                "regla": rule.public_id.to_string(),
                "rol_de_la_regla": rule.role.as_str(),
            }),
            None,
        ),
        Ok(Linking::Refused(refusal)) => (
            "sesion.sso_vinculacion_rechazada",
            json!({
                "usuario": user.username,
                "emisor": verified.issuer,
                "sujeto": verified.subject,
                "motivo": refusal.code(),
            }),
            Some(refusal),
        ),
        Err(error) => return unavailable(&error),
    };
    let event = NewEvent {
        actor: user.username.clone(),
        action,
        office_code: Some(user.office_code.clone()),
        document_id: None,
        expediente_id: None,
        draft_id: None,
        details,
    };
    if let Err(error) = state.archive.store().record_event(event).await {
        return unavailable(&error);
    }
    let Some(refusal) = refusal else {
        tracing::info!(user = user.id, "cuenta vinculada con el proveedor de identidad");
        return (
            [(header::SET_COOKIE, state_cookie(None, secure))],
            Redirect::to(&verified.next),
        )
            .into_response();
    };
    tracing::info!(reason = refusal.code(), "vinculación con el proveedor rechazada");
    let provider = &sso.settings().provider_name;
    let text = match refusal {
        Refusal::NoRule => format!(
            "Su cuenta de {provider} no tiene acceso a Sello: ninguna regla de esta instalación le asigna una oficina y un rol, así que no se vinculó. Pida a quien administra Sello que le dé acceso."
        ),
        Refusal::Inactive => "Su cuenta de Sello está desactivada.".to_owned(),
        Refusal::OtherOffice => format!(
            "Las reglas de esta instalación ponen su cuenta de {provider} en otra oficina que su cuenta de Sello ({}), así que no se vinculó. Pida a quien administra Sello que revise las reglas o su cuenta.",
            user.office_code
        ),
        Refusal::LinkedElsewhere => format!(
            "Esa cuenta de {provider} ya está vinculada con otra cuenta de Sello, así que no se vinculó con esta. Si las dos cuentas son suyas, pida a quien administra Sello que desvincule la otra."
        ),
        Refusal::AlreadyLinked => format!(
            "Su cuenta de Sello ya está vinculada con otra cuenta de {provider}. Desvincúlela primero desde «Mi cuenta»."
        ),
    };
    refusal_page_back(
        StatusCode::FORBIDDEN,
        "Cuenta no vinculada",
        &text,
        secure,
        ("/cuenta", "Volver a «Mi cuenta»"),
    )
}
