//! The HTTP service in process, for tests that drive it through its
//! router: built by the same bootstrap as `sello serve`
//! (`sello::app::Application`), over an archive and keys the test hands
//! it; answers read whole; a browser that keeps its cookies and posts
//! forms with their CSRF token. Included by the test crates that need it
//! (`#[path = "../support/http.rs"] mod http;`), which add constructors
//! over their own fixtures.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sello::accounts::{NewUser, Role, User};
use sello::app::Application;
use sello::archive::Archive;
use sello::keys::{OfficeKey, TrustedKeys};
use sello::web::AppState;
use serde_json::Value;
use tower::ServiceExt as _;

/// The configuration of the fixture's office (the installation's own),
/// with `extra` settings.
pub fn service_config(extra: &[(&str, &str)]) -> sello::config::Config {
    let mut env = vec![
        (
            "SELLO_FORMS_DIR".to_owned(),
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("forms")
                .display()
                .to_string(),
        ),
        ("SELLO_OFFICE_CODE".to_owned(), "DIF-SLP".to_owned()),
    ];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    sello::config::Config::from_sources(None, env).expect("config")
}

/// An answer, its body as text (or bytes for a PDF).
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|_| panic!("JSON: {}", self.text()))
    }

    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().expect("ascii").to_owned())
            .unwrap_or_default()
    }
}

/// The service, with a way to make users.
pub struct Service {
    pub app: Router,
    pub state: Arc<AppState>,
}

impl Service {
    /// The service over `archive`, configured by `config`, signing with
    /// `key` and trusting `trusted`, assembled as `sello serve` assembles
    /// it (the first administrator included).
    pub async fn over(
        archive: Archive,
        config: &sello::config::Config,
        key: Arc<OfficeKey>,
        trusted: TrustedKeys,
    ) -> Self {
        let app = Application::builder(config)
            .archive(archive)
            .key(key)
            .trusted(trusted)
            .log_key(sello::keys::LogKey::in_memory("sello.test/log".into()).expect("log key"))
            .build()
            .await
            .expect("the service is assembled");
        Self {
            app: app.router(),
            state: app.state().clone(),
        }
    }

    /// A user of `office` with `role` and a password of their own.
    pub async fn user(&self, office: &str, username: &str, role: Role) -> (User, String) {
        let (user, one_time) = self
            .state
            .accounts
            .create_user(
                office,
                &NewUser {
                    username: username.into(),
                    display_name: format!("Persona {username}"),
                    cargo: "Directora del Sistema DIF Municipal".into(),
                    role,
                },
            )
            .await
            .expect("user");
        let password = format!("{username}-contraseña-propia");
        self.state
            .accounts
            .change_password(user.id, &one_time, &password)
            .await
            .expect("password");
        (user, password)
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("body")
            .to_vec();
        Answer {
            status,
            headers,
            bytes,
        }
    }

    /// A browser with no cookies: a visitor not yet logged in.
    pub fn visitor(&self) -> Browser<'_> {
        Browser {
            service: self,
            cookies: HashMap::new(),
        }
    }

    /// A browser with its cookies, logged in as `username`.
    pub async fn browser(&self, username: &str, password: &str) -> Browser<'_> {
        let mut browser = self.visitor();
        let answer = browser.login(username, password).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
        browser
    }

    /// An API token of `user`.
    pub async fn token(&self, user: &User) -> String {
        self.state
            .accounts
            .create_token(user, "pruebas")
            .await
            .expect("token")
            .1
    }

    pub async fn api(&self, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.expect("request")).await
    }
}

/// Cookies kept between requests, as a browser would. A test may make
/// one with no cookies to play a visitor not yet logged in.
pub struct Browser<'a> {
    pub service: &'a Service,
    pub cookies: HashMap<String, String>,
}

impl Browser<'_> {
    fn keep_cookies(&mut self, answer: &Answer) {
        for value in answer.headers.get_all(header::SET_COOKIE) {
            let cookie = cookie::Cookie::parse(value.to_str().expect("ascii").to_owned()).expect("cookie");
            if cookie.value().is_empty() {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, uri: &str) -> Answer {
        let request = Request::get(uri)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .expect("request");
        let answer = self.service.send(request).await;
        self.keep_cookies(&answer);
        answer
    }

    /// Posts a form as given: no CSRF token is added.
    pub async fn post_raw(&mut self, uri: &str, fields: &[(&str, &str)]) -> Answer {
        let request = Request::post(uri)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(fields).expect("form")))
            .expect("request");
        let answer = self.service.send(request).await;
        self.keep_cookies(&answer);
        answer
    }

    /// Posts a form with the CSRF token the page at `page` carries.
    pub async fn post(&mut self, page: &str, uri: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.csrf_token(page).await;
        let mut all = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all).await
    }

    /// The CSRF token in the forms of a page.
    pub async fn csrf_token(&mut self, page: &str) -> String {
        let html = self.get(page).await.text();
        hidden_value(&html, "_csrf").expect("the page has a CSRF field")
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Answer {
        let html = self.get("/entrar").await.text();
        let guard = hidden_value(&html, "guardia").expect("login guard");
        self.post_raw(
            "/entrar",
            &[
                ("usuario", username),
                ("contrasena", password),
                ("guardia", &guard),
            ],
        )
        .await
    }
}

/// The value of a hidden input named `name` in a page.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}
