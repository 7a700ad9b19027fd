//! The staff web app's page frame and its common answers, in Spanish.
//! Markup is written with maud, which escapes every value it is given.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::session::{CSRF_FIELD, Staff};

/// The stylesheet of the staff app, served at `/estilo.css`.
pub const STYLESHEET: &str = include_str!("estilo.css");

/// The service's icon, a seal in the header's blue, served at
/// `/favicon.svg` and `/favicon.ico` (browsers ask for it unprompted).
pub const FAVICON: &str = include_str!("favicon.svg");

/// A whole staff page: header with the office and the menu the role
/// allows, then `content`.
pub fn page(staff: &Staff, title: &str, content: Markup) -> Markup {
    let user = staff.user();
    let role = user.role;
    html! {
        (DOCTYPE)
        html lang="es" {
            (head(title))
            body {
                a.saltar href="#contenido" { "Saltar al contenido" }
                header {
                    a.marca href="/" { "Sello" }
                    span.oficina { (user.office_code) }
                    nav {
                        a href="/" { "Inicio" }
                        @if role.can_draft() { a href="/formularios" { "Nuevo documento" } }
                        @if staff.may_use_bulk() { a href="/lotes" { "Lotes" } }
                        a href="/buscar" { "Archivo" }
                        a href="/derivaciones" { "Derivaciones" }
                        a href="/registros" { "Registros" }
                        a href="/estadisticas" { "Estadísticas" }
                        @if role.can_administer() { a href="/admin" { "Administración" } }
                        a href="/cuenta" { (user.display_name) }
                    }
                    form.salir method="post" action="/salir" {
                        (csrf_field(staff))
                        button { "Salir" }
                    }
                }
                main #contenido tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width,initial-scale=1";
            meta name="robots" content="noindex";
            title { (title) " · Sello" }
            link rel="stylesheet" href="/estilo.css";
            link rel="icon" href="/favicon.svg" type="image/svg+xml";
        }
    }
}

/// The hidden CSRF field of a staff form.
pub fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(staff.csrf()); }
}

/// A page outside a session (login): same look, no menu.
pub fn bare_page(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="es" {
            (head(title))
            body {
                a.saltar href="#contenido" { "Saltar al contenido" }
                header { span.marca { "Sello" } }
                main.angosto #contenido tabindex="-1" { h1 { (title) } (content) }
            }
        }
    }
}

/// A notice box: `ok` (done), `error` or `aviso`.
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { p class={"nota " (kind)} role="status" { (text) } }
}

fn answer(staff: &Staff, status: StatusCode, title: &str, text: &str) -> Response {
    let body = page(
        staff,
        title,
        html! { (notice("error", text)) p { a href="/" { "Volver al inicio" } } },
    );
    (status, Html(body.into_string())).into_response()
}

pub fn forbidden(staff: &Staff) -> Response {
    answer(
        staff,
        StatusCode::FORBIDDEN,
        "Sin permiso",
        &format!(
            "Su rol ({}) no permite esta acción. Pida a quien administra Sello en su oficina que revise sus permisos.",
            staff.user().role.label()
        ),
    )
}

/// Refused for a reason other than the role, which `text` says.
pub fn forbidden_because(staff: &Staff, text: &str) -> Response {
    answer(staff, StatusCode::FORBIDDEN, "Sin permiso", text)
}

pub fn not_found(staff: &Staff, text: &str) -> Response {
    answer(staff, StatusCode::NOT_FOUND, "No encontrado", text)
}

pub fn bad_request(staff: &Staff, text: &str) -> Response {
    answer(staff, StatusCode::BAD_REQUEST, "Solicitud no válida", text)
}

pub fn csrf_refused(staff: &Staff) -> Response {
    answer(
        staff,
        StatusCode::FORBIDDEN,
        "Formulario vencido",
        "El formulario no traía la marca de seguridad de su sesión (quizá lo abrió antes de volver a entrar). Vuelva a la página, recárguela y envíelo de nuevo.",
    )
}

/// A storage failure: logged with its cause, shown without it.
pub fn unavailable(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %error, "falla interna");
    let body = bare_page(
        "Servicio no disponible",
        html! { (notice("error", "Sello no pudo completar la operación. Intente de nuevo en unos minutos; si persiste, avise a quien administra el servicio.")) },
    );
    (StatusCode::SERVICE_UNAVAILABLE, Html(body.into_string())).into_response()
}
