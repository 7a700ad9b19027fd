//! The transparency log, read-only, as C2SP `tlog-tiles` lays it out under
//! `/log/`: `/log/checkpoint` (the signed tree head, signed when asked:
//! Ed25519 is deterministic, so one size always gets the same note),
//! `/log/tile/<L>/<N>[.p/<W>]` (hashes) and `/log/tile/entries/<N>[.p/<W>]`
//! (entry bundles); and `/v/<code>/prueba`, a document's C2SP `tlog-proof`
//! bundle for `sello verify --proof`. Entries hold no personal data, so
//! these pages may be cached and mirrored by anyone.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::archive::{LogEvent, hex};
use crate::code::VerificationCode;
use crate::tlog::{Hash, bundle, merkle};

/// Hashes (or entries) per tile.
const TILE_WIDTH: u64 = 256;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/tile/{*path}", get(tile))
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "registro no disponible; intente de nuevo en unos minutos\n",
    )
        .into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no existe\n").into_response()
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// The signed checkpoint of the log as it is now.
async fn current_checkpoint(state: &AppState) -> Option<(Vec<Hash>, String)> {
    let leaves = state.archive.log_leaves().await.ok()?;
    let note = state
        .log_key
        .sign_checkpoint(leaves.len() as u64, merkle::root(&leaves));
    Some((leaves, note))
}

/// `GET /log/checkpoint`.
async fn checkpoint(State(state): State<Arc<AppState>>) -> Response {
    match current_checkpoint(&state).await {
        Some((_, note)) => {
            let mut response = text(note);
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-cache"),
            );
            response
        }
        None => unavailable(),
    }
}

/// A tile's address: its level (`None` for entries), index and width.
fn parse_tile(path: &str) -> Option<(Option<u32>, u64, u64)> {
    let (path, width) = match path.split_once(".p/") {
        Some((path, width)) => {
            let width: u64 = width.parse().ok().filter(|w| (1..TILE_WIDTH).contains(w))?;
            (path, width)
        }
        None => (path, TILE_WIDTH),
    };
    let (level, index) = path.split_once('/')?;
    let level = match level {
        "entries" => None,
        level => Some(level.parse::<u32>().ok().filter(|l| *l < 8)?),
    };
    let groups: Vec<&str> = index.split('/').collect();
    let (last, rest) = groups.split_last()?;
    let mut number: u64 = 0;
    for group in rest {
        let digits = group.strip_prefix('x')?;
        number = number.checked_mul(1000)?.checked_add(three_digits(digits)?)?;
    }
    number = number.checked_mul(1000)?.checked_add(three_digits(last)?)?;
    Some((level, number, width))
}

fn three_digits(text: &str) -> Option<u64> {
    (text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// `GET /log/tile/...`: a tile the current tree holds, full or partial.
async fn tile(State(state): State<Arc<AppState>>, Path(path): Path<String>) -> Response {
    let Some((level, index, width)) = parse_tile(&path) else {
        return not_found();
    };
    let entries = match state.archive.log_entries().await {
        Ok(entries) => entries,
        Err(_) => return unavailable(),
    };
    let height = 8 * level.unwrap_or(0);
    let span = 1u64 << height;
    let nodes = entries.len() as u64 / span;
    let first = index.saturating_mul(TILE_WIDTH);
    if first.saturating_add(width) > nodes {
        return not_found();
    }
    let mut body = Vec::new();
    match level {
        None => {
            for entry in &entries[first as usize..(first + width) as usize] {
                let bytes = entry.entry.as_bytes();
                body.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
                body.extend_from_slice(bytes);
            }
        }
        Some(_) => {
            let leaves: Vec<Hash> = entries.iter().map(|e| e.leaf_hash).collect();
            for node in first..first + width {
                let start = (node * span) as usize;
                body.extend_from_slice(&merkle::root(&leaves[start..start + span as usize]));
            }
        }
    }
    ([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response()
}

/// `GET /v/<code>/prueba`: the document's inclusion proof with a signed
/// checkpoint, as a C2SP `tlog-proof` bundle.
pub async fn proof(State(state): State<Arc<AppState>>, Path(code): Path<String>) -> Response {
    let Ok(code) = VerificationCode::parse(&code) else {
        return not_found();
    };
    let index = match state
        .archive
        .log_index_of(&hex(&code.hash()), LogEvent::Emision)
        .await
    {
        Ok(Some(index)) => index,
        Ok(None) => return not_found(),
        Err(_) => return unavailable(),
    };
    let (Some((leaves, note)), Ok(entries)) = (
        current_checkpoint(&state).await,
        state.archive.log_entries().await,
    ) else {
        return unavailable();
    };
    let (Some(entry), Ok(hashes)) = (
        entries
            .get(index as usize)
            .filter(|_| entries.len() == leaves.len()),
        merkle::inclusion_proof(index as usize, &leaves),
    ) else {
        return unavailable();
    };
    let mut response = text(bundle::write(entry.entry.as_bytes(), index, &hashes, &note));
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        header::HeaderValue::from_static("attachment; filename=\"prueba-registro.txt\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::parse_tile;

    #[test]
    fn tile_paths_read_as_the_tlog_tiles_spec_writes_them() {
        assert_eq!(parse_tile("0/000"), Some((Some(0), 0, 256)));
        assert_eq!(parse_tile("1/x001/x234/067"), Some((Some(1), 1_234_067, 256)));
        assert_eq!(parse_tile("0/005.p/17"), Some((Some(0), 5, 17)));
        assert_eq!(parse_tile("entries/001.p/3"), Some((None, 1, 3)));
        assert_eq!(parse_tile("0/5"), None);
        assert_eq!(parse_tile("0/000.p/256"), None);
        assert_eq!(parse_tile("0/001/002"), None);
    }
}
