//! `sello serve`: the HTTP service. Staff use the web app (server-rendered
//! Spanish pages, a session cookie); integrations use the JSON API under
//! `/api/v1` with tokens; beneficiaries reach the public verification page
//! from the QR. Operators get `/healthz` and `/metrics`.

pub mod api;
pub mod auth;
mod charts;
mod crl;
mod figures;
pub mod jobs;
mod logging;
pub mod lotes;
pub mod page;
pub mod ratelimit;
mod reach;
mod session;
mod sso;
mod sso_admin;
mod staff;
mod tlog;
mod ui;
mod verify;

pub use logging::init_logging;
pub use page::escape;
pub use ratelimit::ClientLimiter;
pub use reach::{CrossView, DraftReach};

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::accounts::{AccountError, Accounts, User};
use crate::archive::{Archive, ArchiveError, DocumentRecord, Office, PublicView, Status, hex};
use crate::code::VerificationCode;
use crate::config::Config;
use crate::forms::Catalog;
use crate::issuer::Issuer;
use crate::keys::{FollowedTrust, SigningKeys, TrustedKeys};
use crate::metrics::Metrics;
use crate::rate_limits::BucketKey;
use crate::tramites::{Notifier, Tramites};

/// What every request handler shares.
pub struct AppState {
    /// The archive of the configured office; each request narrows it to
    /// the office of who is asking.
    pub archive: Archive,
    pub accounts: Accounts,
    pub catalog: Catalog,
    pub issuer: Issuer,
    /// The keys whose signatures verify: the active one and the retired,
    /// read again when a command changes them while the service runs.
    trusted: FollowedTrust,
    /// The issuer's counters, and the verification lookups.
    pub metrics: Arc<Metrics>,
    pub lookup_limiter: ClientLimiter,
    pub login_limiter: ClientLimiter,
    /// Cookies are marked Secure when the service is reached over HTTPS.
    pub secure_cookies: bool,
    /// E-mail notices of drafts waiting for someone; off by default.
    pub notifier: Notifier,
    /// Held while the signing key is rotated.
    pub key_rotation: tokio::sync::Mutex<()>,
    /// Bulk jobs started from the web app.
    pub jobs: jobs::Jobs,
    pub config: Config,
    /// Signs the transparency log's checkpoints.
    pub log_key: Arc<crate::keys::LogKey>,
    /// Single sign-on through the configured OpenID provider, if any.
    pub sso: Option<Arc<crate::accounts::sso::SingleSignOn>>,
    /// The staff pages' Content-Security-Policy: forms post to Sello
    /// only, and to the provider's origin, where logging out redirects.
    pub staff_policy: HeaderValue,
}

/// A limit of `per_minute` per client: counted in Redis when the
/// installation names one; otherwise in the database when it is
/// PostgreSQL, which several instances may share; in this process on
/// SQLite, whose database only this machine opens.
fn limiter(
    archive: &Archive,
    redis: Option<&crate::rate_limits::RedisCounters>,
    key: &BucketKey,
    name: &str,
    per_minute: u32,
    config: &Config,
) -> ClientLimiter {
    if let Some(counters) = redis {
        return ClientLimiter::redis(counters, key, name, per_minute, config.behind_proxy);
    }
    match archive.store().backend() {
        crate::db::Backend::Postgres => ClientLimiter::shared(
            archive.store().clone(),
            key,
            name,
            per_minute,
            config.behind_proxy,
        ),
        crate::db::Backend::Sqlite => ClientLimiter::new(per_minute, config.behind_proxy),
    }
}

impl AppState {
    /// The service over `archive` and its `accounts`, signing with `keys`
    /// and trusting `trusted`, naming limited clients under `bucket_key`.
    /// Assembled by `app::Application`, the one bootstrap, which hands
    /// over every part it made.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &Config,
        archive: Archive,
        accounts: Accounts,
        catalog: Catalog,
        keys: SigningKeys,
        trusted: FollowedTrust,
        log_key: Arc<crate::keys::LogKey>,
        bucket_key: &BucketKey,
    ) -> std::io::Result<Self> {
        let issuer = Issuer::with_keys(config, keys)?;
        let redis = config
            .redis_url
            .as_ref()
            .map(|url| {
                let prefix = format!("{}limite:", config.redis_prefix);
                crate::rate_limits::RedisCounters::new(url.as_str(), &prefix)
            })
            .transpose()
            .map_err(|e| std::io::Error::other(format!("Redis de los límites (redis_url): {e}")))?;
        let lookup_limiter = limiter(
            &archive,
            redis.as_ref(),
            bucket_key,
            "consultas",
            config.lookups_per_minute,
            config,
        );
        // Generous for an office behind one address; slow for guessing.
        let login_limiter = limiter(&archive, redis.as_ref(), bucket_key, "acceso", 30, config);
        let sso = config
            .oidc
            .as_ref()
            .map(|settings| crate::accounts::sso::SingleSignOn::new(settings, accounts.clone()).map(Arc::new))
            .transpose()
            .map_err(|e| std::io::Error::other(format!("inicio de sesión único ([oidc]): {e}")))?;
        let staff_policy = staff_policy(config.oidc.as_ref().map(|oidc| oidc.issuer.as_str()));
        Ok(Self {
            sso,
            staff_policy,
            accounts,
            archive,
            catalog,
            metrics: issuer.metrics(),
            issuer,
            trusted,
            lookup_limiter,
            login_limiter,
            secure_cookies: config.base_url.starts_with("https://"),
            key_rotation: tokio::sync::Mutex::new(()),
            jobs: jobs::Jobs::default(),
            notifier: Notifier::new(config)?,
            config: config.clone(),
            log_key,
        })
    }

    pub fn trusted(&self) -> TrustedKeys {
        self.trusted.get()
    }

    pub fn set_trusted(&self, keys: TrustedKeys) {
        self.trusted.set(keys);
    }

    /// The archive of `user`'s office: nothing outside it is visible.
    pub async fn archive_for(&self, user: &User) -> Result<Archive, AccountError> {
        let office = self
            .accounts
            .office(&user.office_code)
            .await?
            .unwrap_or_else(|| Office::new(&user.office_code, &user.office_code));
        Ok(self.archive.for_office(office))
    }

    /// The trámite service over this installation.
    pub fn tramites(&self) -> Tramites<'_> {
        Tramites {
            catalog: &self.catalog,
            issuer: &self.issuer,
            accounts: &self.accounts,
            notifier: &self.notifier,
        }
    }

    /// What the public may see of the document a code names; a malformed
    /// code is simply not found. Counted by outcome.
    pub async fn public_lookup(&self, code: &str) -> Result<Option<PublicView>, ArchiveError> {
        self.public_view_of(VerificationCode::parse(code).ok().as_ref())
            .await
    }

    /// [`AppState::public_lookup`] for a code already parsed (`None`: malformed).
    pub async fn public_view_of(
        &self,
        code: Option<&VerificationCode>,
    ) -> Result<Option<PublicView>, ArchiveError> {
        let found = match code {
            Some(code) => self.archive.public_view(&hex(&code.hash())).await?,
            None => None,
        };
        let outcome = match found.as_ref().map(|view| view.status) {
            Some(status @ (Status::Emitido | Status::Anulado | Status::Reemplazado)) => status.as_str(),
            Some(Status::Reservado) | None => "no_encontrado",
        };
        self.metrics.lookup(outcome);
        Ok(found)
    }
}

/// The staff pages' policy: nothing but Sello's own scripts, styles and
/// images; forms post to Sello, and to the OpenID provider's origin, since
/// logging out of Sello redirects there and browsers hold a form's
/// redirects to `form-action` too.
fn staff_policy(issuer: Option<&str>) -> HeaderValue {
    let provider = issuer
        .and_then(|issuer| reqwest::Url::parse(issuer).ok())
        .map(|url| url.origin().ascii_serialization())
        .filter(|origin| origin != "null")
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'{provider}; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
    ))
}

/// A PDF answer named after the document's folio.
pub fn pdf_response(document: &DocumentRecord, pdf: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "inline; filename=\"{}\"",
                    crate::archive::pdf_file_name(&document.folio)
                ),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// The service's routes.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = axum::middleware::from_fn_with_state(state.clone(), ratelimit::limit_lookups);
    let public = Router::new()
        .route("/v", get(verify::lookup))
        .route("/v/{code}", get(verify::page).post(verify::compare))
        .route("/v/{code}/prueba", get(tlog::proof))
        .route("/api/v1/verification/{code}", get(api::verification::verify))
        .route_layer(limit)
        .layer(axum::extract::DefaultBodyLimit::max(verify::UPLOAD_MAX))
        .layer(axum::middleware::map_response(private_headers));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/crl/{file}", get(crl::serve))
        .route("/metrics", get(metrics))
        .merge(public)
        .merge(tlog::router())
        .merge(api::router())
        .merge(staff::router(state.clone()))
        .merge(sso::router().layer(axum::middleware::map_response_with_state(
            state.clone(),
            staff::staff_headers,
        )))
        .layer(axum::middleware::map_response(no_framing))
        .layer(axum::middleware::from_fn(logging::log_request))
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
        // Images only from Sello itself: the favicon, nothing else is loaded.
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// No answer of Sello may be shown inside another site's frame (a
/// verification page framed by a look-alike, a staff page clickjacked):
/// every response says `frame-ancestors 'none'`, added to its own policy.
async fn no_framing(mut response: Response) -> Response {
    const DIRECTIVE: &str = "frame-ancestors 'none'";
    let headers = response.headers_mut();
    let policy = match headers
        .get(header::CONTENT_SECURITY_POLICY)
        .map(HeaderValue::to_str)
    {
        None => Some(DIRECTIVE.to_owned()),
        Some(Ok(policy)) if policy.contains("frame-ancestors") => None,
        Some(Ok(policy)) => Some(format!("{policy}; {DIRECTIVE}")),
        // Not text: replaced by the strictest policy rather than kept.
        Some(Err(_)) => Some(format!("default-src 'none'; {DIRECTIVE}")),
    };
    if let Some(policy) = policy.and_then(|p| HeaderValue::from_str(&p).ok()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    response
}

/// `200 ok` while the database answers; `503` otherwise.
async fn healthz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state.archive.store().execute("SELECT 1").await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "base de datos no disponible"),
    }
}

/// Only for the machine itself (a Prometheus agent beside it): counts of
/// an office's work are not for the public. Behind a proxy, nothing that
/// came through it is answered.
async fn metrics(
    State(state): State<Arc<AppState>>,
    ratelimit::PeerAddr(peer): ratelimit::PeerAddr,
    headers: axum::http::HeaderMap,
) -> Response {
    let local = peer.is_none_or(|p| p.ip().is_loopback()) && !headers.contains_key("x-forwarded-for");
    if !local {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
