//! Who is asking. Staff pages use a session cookie (HttpOnly, SameSite,
//! Secure behind HTTPS) and every state-changing form carries the
//! session's CSRF token; the API uses `Authorization: Bearer` tokens, which
//! a browser never sends on its own, so it needs no CSRF token.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;

use super::AppState;
pub use super::session::{CSRF_FIELD, Staff};
use super::ui;
use crate::accounts::{SESSION_HOURS, User};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sello_sesion";
/// The cookie that guards the login form itself (double submit).
pub const LOGIN_COOKIE: &str = "sello_entrada";
/// The longest form body accepted; long texts and tables fit easily.
const FORM_MAX: usize = 2 * 1024 * 1024;

impl Staff {
    /// The refusal to answer unless `sent` is this session's CSRF token:
    /// every state-changing form, urlencoded or multipart, checks it here.
    pub fn refuse_forged(&self, sent: &str) -> Option<Response> {
        (!same_secret(sent, self.csrf())).then(|| ui::csrf_refused(self))
    }
}

/// The value of one cookie of a request.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value; `None` clears the cookie.
pub fn set_cookie(name: &str, value: Option<&str>, secure: bool) -> String {
    let mut cookie = Cookie::new(name.to_owned(), value.unwrap_or("").to_owned());
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(secure);
    cookie.set_path("/");
    let max_age = if value.is_some() { SESSION_HOURS * 3600 } else { 0 };
    cookie.set_max_age(cookie::time::Duration::seconds(max_age));
    cookie.to_string()
}

/// Only a path of this site may follow a login: never another site. Only
/// plain URL characters are accepted: browsers drop tabs and newlines, so
/// `/<tab>/evil.example` would otherwise become `//evil.example`.
pub fn safe_next(next: Option<&str>) -> &str {
    let plain = |path: &str| {
        path.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.~?=&%+".contains(&b))
    };
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && plain(path) => path,
        _ => "/",
    }
}

/// Whether two secrets are equal, in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl FromRequestParts<Arc<AppState>> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Response> {
        let to_login = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let query = serde_urlencoded::to_string([("siguiente", next)]).unwrap_or_default();
            Redirect::to(&format!("/entrar?{query}")).into_response()
        };
        let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let session = match state.accounts.session(&token).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(to_login()),
            Err(error) => return Err(ui::unavailable(&error)),
        };
        // A password someone else chose is changed before anything else.
        if session.user.must_change_password && !["/contrasena", "/salir"].contains(&parts.uri.path()) {
            return Err(Redirect::to("/contrasena").into_response());
        }
        Ok(Staff(session))
    }
}

/// A state-changing form of a logged-in member of staff, its CSRF token
/// checked: handlers that change anything take this, so none can forget.
pub struct StaffForm<T> {
    pub staff: Staff,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for StaffForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, FORM_MAX)
            .await
            .map_err(|_| ui::bad_request(&staff, "el formulario es demasiado grande"))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| ui::bad_request(&staff, "el formulario llegó dañado"))?;
        let sent = pairs
            .iter()
            .find(|(name, _)| name == CSRF_FIELD)
            .map(|(_, value)| value.as_str())
            .unwrap_or("");
        if let Some(refused) = staff.refuse_forged(sent) {
            return Err(refused);
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| ui::bad_request(&staff, &format!("el formulario no es válido: {e}")))?;
        Ok(StaffForm { staff, form })
    }
}

/// A caller of the JSON API, known by its bearer token.
#[derive(Debug, Clone)]
pub struct ApiCaller(pub User);

impl FromRequestParts<Arc<AppState>> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Response> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(secret) = secret else {
            return Err(super::api::ApiError::unauthenticated().into_response());
        };
        match state.accounts.user_by_token(secret).await {
            Ok(Some(user)) => Ok(ApiCaller(user)),
            Ok(None) => Err(super::api::ApiError::unauthenticated().into_response()),
            Err(error) => Err(super::api::ApiError::internal(&error).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_secure_behind_https_and_never_readable_by_scripts() {
        let cookie = set_cookie(SESSION_COOKIE, Some("abc"), true);
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(!set_cookie(SESSION_COOKIE, Some("abc"), false).contains("Secure"));
        let cleared = set_cookie(SESSION_COOKIE, None, true);
        assert!(
            cleared.starts_with("sello_sesion=;") && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn only_paths_of_this_site_follow_a_login() {
        assert_eq!(safe_next(Some("/documentos/3")), "/documentos/3");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\r\nSet-Cookie: x")), "/");
        assert_eq!(
            safe_next(Some("/buscar?q=jose%20perez&page=2")),
            "/buscar?q=jose%20perez&page=2"
        );
        assert_eq!(safe_next(None), "/");
    }
}
