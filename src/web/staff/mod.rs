//! The staff web app: Spanish, server-rendered, with no JavaScript but the
//! signature pad's. Every page needs a session; every state-changing form
//! carries the CSRF token.

mod account;
mod admin;
mod attachments;
mod bulk;
mod defaults;
mod documents;
mod entry;
mod error;
mod estadisticas;
mod expedientes;
mod forms;
mod hierarchy;
mod history;
mod home;
mod login;
mod lote;
mod lote_approval;
mod offices;
mod referrals;
mod registros;
mod search;
mod sso_link;
mod sso_rules;
mod submit;
mod tramite;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::AppState;
use super::ui::{FAVICON, STYLESHEET};
pub(super) use sso_link::LINKED;

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home::home))
        .route("/entrar", get(login::form).post(login::submit))
        .route("/salir", post(login::logout))
        .route(
            "/contrasena",
            get(account::password_form).post(account::change_password),
        )
        .route("/cuenta", get(account::show))
        .route("/cuenta/sso/vincular", post(sso_link::start))
        .route("/cuenta/sso/desvincular", post(sso_link::unlink_own))
        .route("/valores", get(defaults::show).post(defaults::save_own))
        .route("/valores/oficina", post(defaults::save_office))
        .route("/cuenta/tokens", post(account::create_token))
        .route("/cuenta/tokens/{id}/revocar", post(account::revoke_token))
        .route("/formularios", get(forms::list))
        .route("/formularios/{id}", get(forms::blank).post(submit::submit))
        .route("/borradores/{id}", get(forms::draft))
        .route("/borradores/{id}/paso", post(tramite::act))
        .route("/borradores/{id}/firma-presencial", post(tramite::sign_in_person))
        .route(
            "/borradores/{id}/firmas/{firma}",
            get(tramite::hand_signature_image),
        )
        .route("/borradores/{id}/vista-previa", get(tramite::preview))
        .route("/documentos/{id}", get(documents::document))
        .route("/documentos/{id}/pdf", get(documents::pdf))
        .route("/documentos/{id}/anular", post(documents::annul))
        .route("/documentos/{id}/corregir", post(documents::correct))
        .route(
            "/documentos/{id}/firmas",
            post(attachments::upload).layer(axum::extract::DefaultBodyLimit::max(attachments::UPLOAD_MAX)),
        )
        .route("/documentos/{id}/firmas/{firma}", get(attachments::file))
        .route("/documentos/{id}/firma-en-pantalla", post(attachments::draw))
        .route("/expedientes/{id}", get(expedientes::expediente))
        .route("/expedientes/{id}/exportar", get(expedientes::export))
        .route("/buscar", get(search::search))
        .route("/derivaciones", get(referrals::inbox))
        .route("/derivaciones/{id}", get(referrals::show))
        .route(
            "/derivaciones/{id}/documentos/{document}",
            get(referrals::document_pdf),
        )
        .route("/registros", get(registros::show))
        .route("/estadisticas", get(estadisticas::show))
        .route("/estadisticas/por-mes.svg", get(estadisticas::by_month_svg))
        .route("/estadisticas/por-formulario.svg", get(estadisticas::by_form_svg))
        .route("/estadisticas/documentos.csv", get(estadisticas::documents_csv))
        .route(
            "/estadisticas/territorios.csv",
            get(estadisticas::territories_csv),
        )
        .route("/registros/padron", post(registros::padron))
        .route("/registros/semanal", post(registros::semanal))
        .route(
            "/lotes",
            get(bulk::list)
                .post(bulk::upload)
                .layer(axum::extract::DefaultBodyLimit::max(bulk::UPLOAD_MAX)),
        )
        .route("/lotes/{id}", get(lote::show))
        .route("/lotes/{id}/errores.csv", get(lote::problems_csv))
        .route("/lotes/{id}/emitidos.csv", get(lote::issued_csv))
        .route("/lotes/{id}/documentos.pdf", get(lote::merged_pdf))
        .route("/lotes/{id}/padron", post(lote::padron))
        .route("/lotes/{id}/aprobar", post(lote_approval::approve))
        .route("/lotes/{id}/devolver", post(lote_approval::send_back))
        .route("/admin", get(admin::overview))
        .route("/admin/usuarios", post(admin::create_user))
        .route("/admin/usuarios/{id}", post(admin::update_user))
        .route("/admin/usuarios/{id}/contrasena", post(admin::reset_password))
        .route("/admin/oficinas", post(offices::create))
        .route("/admin/oficinas/{code}", get(offices::show).post(offices::update))
        .route(
            "/admin/oficinas/{code}/logotipo",
            post(offices::upload_logo).layer(axum::extract::DefaultBodyLimit::max(offices::UPLOAD_MAX)),
        )
        .route(
            "/admin/oficinas/{code}/logotipo/quitar",
            post(offices::remove_logo),
        )
        .route("/admin/oficinas/{code}/superior", post(hierarchy::set_parent))
        .route("/admin/oficinas/{code}/visado", post(hierarchy::grant))
        .route(
            "/admin/oficinas/{code}/visado/quitar",
            post(hierarchy::revoke_grant),
        )
        .route("/admin/claves/rotar", post(admin::rotate_key))
        .route("/admin/lotes", post(bulk::set_preparers))
        .route("/admin/webhooks", get(webhooks::overview).post(webhooks::create))
        .route("/admin/webhooks/{id}/eliminar", post(webhooks::delete))
        .route(
            "/admin/webhooks/{id}/entregas/{delivery}/reenviar",
            post(webhooks::redeliver),
        )
        .route("/admin/sso", get(sso_rules::overview).post(sso_rules::create))
        .route("/admin/sso/{id}/eliminar", post(sso_rules::delete))
        .route("/admin/sso/desvincular", post(sso_rules::unlink))
        .layer(axum::middleware::map_response_with_state(state, staff_headers))
        .route("/estilo.css", get(stylesheet))
        .route("/firma.js", get(signature_pad))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}

/// Staff pages show personal data: not cached, not framed, no scripts
/// but our own (the signature pad).
pub(super) async fn staff_headers(State(state): State<Arc<AppState>>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CONTENT_SECURITY_POLICY, state.staff_policy.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The signature pad's script.
async fn signature_pad() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../firma.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}
