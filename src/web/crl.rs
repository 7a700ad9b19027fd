//! `GET /crl/<root key id>.crl`: the office root's list of revoked signing
//! keys, as its certificates name it, for validators to fetch. Public: a
//! CRL names keys and dates, no person.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::keys::{KeyId, crl_dir, crl_path};

pub async fn serve(State(state): State<Arc<AppState>>, Path(file): Path<String>) -> Response {
    let Some(key_id) = file.strip_suffix(".crl").and_then(|id| KeyId::parse(id).ok()) else {
        return (StatusCode::NOT_FOUND, "no existe esa lista de revocación").into_response();
    };
    let path = crl_path(&crl_dir(&state.config), &key_id);
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(der)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pkix-crl"),
                ),
                // Validators may keep it an hour; a revocation shows within that.
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            der,
        )
            .into_response(),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, "no existe esa lista de revocación").into_response()
        }
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "no se pudo leer la lista de revocación",
        )
            .into_response(),
    }
}
