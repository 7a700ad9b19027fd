//! `sello serve`: the HTTP service. This first part serves the public
//! verification page a beneficiary reaches from the QR, and a health check;
//! the staff web app and the JSON API build on it.

pub mod page;
mod verify;

pub use page::escape;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::archive::Archive;
use crate::forms::Catalog;
use crate::keys::TrustedKeys;

/// What every request handler shares.
pub struct AppState {
    pub archive: Archive,
    pub catalog: Catalog,
    /// The office's keys, to check the signatures of an uploaded PDF.
    pub trusted: TrustedKeys,
}

/// The service's routes.
pub fn router(state: Arc<AppState>) -> Router {
    let public = Router::new()
        .route("/v", get(verify::lookup))
        .route("/v/{code}", get(verify::page).post(verify::compare))
        .layer(axum::extract::DefaultBodyLimit::max(verify::UPLOAD_MAX))
        .layer(axum::middleware::map_response(private_headers));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(public)
        .with_state(state)
}

/// Verification answers are about one person's document: never cached,
/// never sent on as a referrer, never indexed.
async fn private_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex, nofollow"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `200 ok` while the database answers; `503` otherwise.
async fn healthz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state.archive.store().execute("SELECT 1").await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "base de datos no disponible"),
    }
}
