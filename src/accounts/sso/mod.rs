//! Single sign-on with OpenID Connect, without the web: the authorization
//! code flow with PKCE, state and nonce (`openidconnect`, speaking through
//! our reqwest, [`http`]); the provider found by discovery from its issuer;
//! the ID token checked (signature by the provider's published keys,
//! issuer, audience, expiry, nonce); the person's claims mapped to an
//! office and a role by the administrator's [`rules`]; and the Sello
//! account linked to the provider's identity by issuer and subject.
//!
//! A login under way is a row of `sso_logins`, keyed by the SHA-256 of its
//! state and taken (deleted) once: a state replayed, tampered with or from
//! another browser finds nothing.
//!
//! Long because the flow's steps (discover, begin, finish, sign in, log
//! out) are one protocol, read in order, with the generic client type that
//! `openidconnect` needs spelled out once; the accounts it makes are in
//! [`identities`], and the linking of an account that already exists is
//! in [`linking`].

mod http;
mod identities;
mod linking;
mod rules;

pub use http::{ProviderHttp, ProviderHttpError};
pub use identities::Identity;
pub use linking::Linking;
pub use rules::{Claims, NewSsoRule, SsoRule, first_match, parse_role};

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenFields, IssuerUrl,
    LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use super::{AccountError, Accounts, Role, Session, now_text, token_digest};
use crate::config::OidcSettings;

/// How long a person has at the provider before the login must start again.
const LOGIN_MINUTES: i64 = 10;
/// How long the provider's discovery document and keys are kept before
/// they are read again (a provider rotates its keys now and then).
const PROVIDER_KEPT: Duration = Duration::from_secs(15 * 60);
/// How long the provider has to answer each request.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Every claim of the ID token that `openidconnect` has no field for
/// (`groups`, `oficina`), kept for the rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type SsoIdToken =
    IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type SsoTokenResponse = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;
/// The client as discovery makes it: an authorization endpoint for sure,
/// a token endpoint if the provider has one (a code flow needs it).
type SsoClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    SsoTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a single sign-on did not give a verified identity.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The provider could not be reached or answered wrongly; the message
    /// says what failed, never a secret.
    #[error("proveedor de identidad: {0}")]
    Provider(String),
    /// The state is unknown, used already, expired or not this browser's.
    #[error("el inicio de sesión no es válido o ya venció")]
    UnknownLogin,
    /// The ID token did not pass a check (signature, issuer, audience,
    /// expiry, nonce).
    #[error("el token de identidad no es válido: {0}")]
    InvalidToken(String),
    #[error(transparent)]
    Accounts(#[from] AccountError),
}

impl From<sqlx::Error> for SsoError {
    fn from(error: sqlx::Error) -> Self {
        Self::Accounts(error.into())
    }
}

/// A login sent to the provider: where to send the browser, and the state
/// to keep in its cookie until it comes back.
#[derive(Debug)]
pub struct Started {
    pub authorization_url: String,
    pub state: String,
}

/// Who the provider vouched for, its ID token checked.
#[derive(Debug, Clone)]
pub struct Verified {
    pub issuer: String,
    pub subject: String,
    pub claims: Claims,
    /// The ID token as received, the hint of the provider's logout.
    pub id_token: String,
    /// The page of Sello to go to now.
    pub next: String,
    /// The account whose linking this login was (`begin_link`): the
    /// identity is linked to it, and no session is opened.
    pub link_user: Option<i64>,
}

/// Why a verified person gets no session. Each is audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No rule matches their claims.
    NoRule,
    /// Their Sello account is deactivated.
    Inactive,
    /// Their account is of another office than the rule gives.
    OtherOffice,
    /// Linking: the identity is linked to another account already.
    LinkedElsewhere,
    /// Linking: the account is linked to another identity at the provider.
    AlreadyLinked,
}

impl Refusal {
    /// As recorded in the audit trail.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NoRule => "sin_regla",
            Refusal::Inactive => "cuenta_inactiva",
            Refusal::OtherOffice => "otra_oficina",
            Refusal::LinkedElsewhere => "identidad_de_otra_cuenta",
            Refusal::AlreadyLinked => "cuenta_ya_vinculada",
        }
    }
}

/// What a verified person's login came to.
#[derive(Debug)]
pub enum SignIn {
    Opened {
        /// The cookie's token, to hand to the browser once.
        token: String,
        session: Box<Session>,
        rule: SsoRule,
        /// The account was made now, at its first login.
        created: bool,
        /// The role it had before the rule changed it.
        previous_role: Option<Role>,
    },
    Refused(Refusal),
}

/// The provider as discovered: the client, its logout endpoint, and when.
struct Discovered {
    client: SsoClient,
    end_session: Option<EndSessionUrl>,
    at: Instant,
}

/// Single sign-on through the configured provider.
pub struct SingleSignOn {
    settings: OidcSettings,
    accounts: Accounts,
    http: ProviderHttp,
    provider: tokio::sync::Mutex<Option<Discovered>>,
}

impl std::fmt::Debug for SingleSignOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleSignOn")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SingleSignOn {
    /// Single sign-on for `accounts`; the provider is asked for its
    /// discovery document at the first login, not now, so a provider down
    /// does not keep Sello from starting.
    pub fn new(settings: &OidcSettings, accounts: Accounts) -> Result<Self, SsoError> {
        let http = ProviderHttp::new(PROVIDER_TIMEOUT).map_err(|e| SsoError::Provider(e.to_string()))?;
        Ok(Self {
            settings: settings.clone(),
            accounts,
            http,
            provider: tokio::sync::Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The provider's client, discovered again when older than
    /// [`PROVIDER_KEPT`].
    async fn provider(&self) -> Result<(SsoClient, Option<EndSessionUrl>), SsoError> {
        let mut cached = self.provider.lock().await;
        if let Some(found) = cached.as_ref()
            && found.at.elapsed() < PROVIDER_KEPT
        {
            return Ok((found.client.clone(), found.end_session.clone()));
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| SsoError::Provider(format!("emisor ilegible: {e}")))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SsoError::Provider(format!("descubrimiento: {}", error_chain(&e))))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
            .map_err(|e| SsoError::Provider(format!("dirección de vuelta: {e}")))?;
        let client = SsoClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        *cached = Some(Discovered {
            client: client.clone(),
            end_session: end_session.clone(),
            at: Instant::now(),
        });
        Ok((client, end_session))
    }

    /// Starts a login that will return to `next`: the provider's
    /// authorization address, with a fresh state, nonce and PKCE challenge
    /// (S256), and the login's row.
    pub async fn begin(&self, next: &str) -> Result<Started, SsoError> {
        self.start(next, None).await
    }

    /// A login whose row names `link_user`, the account a linking is for.
    async fn start(&self, next: &str, link_user: Option<i64>) -> Result<Started, SsoError> {
        let (client, _) = self.provider().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let now = Utc::now();
        let expires =
            (now + chrono::Duration::minutes(LOGIN_MINUTES)).to_rfc3339_opts(SecondsFormat::Secs, true);
        {
            let pool = self.accounts.store.pool();
            // Logins never finished are forgotten as new ones start.
            sqlx::query("DELETE FROM sso_logins WHERE expires_at < $1")
                .bind(now_text())
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO sso_logins (state_sha256, nonce, pkce_verifier, next_path, expires_at, link_user_id) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_digest(state.secret()))
            .bind(nonce.secret())
            .bind(verifier.secret())
            .bind(next)
            .bind(&expires)
            .bind(link_user)
            .execute(pool)
            .await?;
        };
        Ok(Started {
            authorization_url: url.to_string(),
            state: state.secret().clone(),
        })
    }

    /// Finishes a login the provider sent back with `code` and `state`;
    /// `kept_state` is what this browser's cookie kept. The login's row is
    /// taken first, so it is used once whatever follows.
    pub async fn finish(&self, state: &str, kept_state: &str, code: &str) -> Result<Verified, SsoError> {
        let same_browser = !state.is_empty()
            && state.len() == kept_state.len()
            && bool::from(state.as_bytes().ct_eq(kept_state.as_bytes()));
        if !same_browser {
            return Err(SsoError::UnknownLogin);
        }
        let taken: Option<(String, String, String, String, Option<i64>)> = {
            let pool = self.accounts.store.pool();
            sqlx::query_as(
                "DELETE FROM sso_logins WHERE state_sha256 = $1 \
                 RETURNING nonce, pkce_verifier, next_path, expires_at, link_user_id",
            )
            .bind(token_digest(state))
            .fetch_optional(pool)
            .await?
        };
        let Some((nonce, verifier, next, expires, link_user)) = taken else {
            return Err(SsoError::UnknownLogin);
        };
        if expires <= now_text() {
            return Err(SsoError::UnknownLogin);
        }
        let (client, _) = self.provider().await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| SsoError::Provider("el proveedor no publica su punto de token".into()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| SsoError::Provider(format!("canje del código: {}", error_chain(&e))))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| SsoError::InvalidToken("el proveedor no envió un token de identidad".into()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce))
            .map_err(|e| SsoError::InvalidToken(error_chain(&e)))?;
        let serde_json::Value::Object(all) =
            serde_json::to_value(claims).map_err(|e| SsoError::InvalidToken(e.to_string()))?
        else {
            return Err(SsoError::InvalidToken("las afirmaciones no son un objeto".into()));
        };
        Ok(Verified {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            claims: Claims(all),
            id_token: id_token.to_string(),
            next,
            link_user,
        })
    }

    /// The person's Sello session, if a rule admits them: their linked
    /// account (its role set to the rule's), or, at a first login, an
    /// account made in the rule's office and linked to their identity.
    pub async fn sign_in(&self, verified: &Verified) -> Result<SignIn, AccountError> {
        let rules = self.accounts.sso_rules().await?;
        let Some(rule) = first_match(&rules, &verified.claims).cloned() else {
            return Ok(SignIn::Refused(Refusal::NoRule));
        };
        let linked = self
            .accounts
            .linked_user(&verified.issuer, &verified.subject)
            .await?;
        let (user_id, created, previous_role) = match linked {
            Some((id, office, role, active)) => {
                if !active {
                    return Ok(SignIn::Refused(Refusal::Inactive));
                }
                if office != rule.office_code {
                    return Ok(SignIn::Refused(Refusal::OtherOffice));
                }
                if role != rule.role {
                    self.accounts.set_role(id, rule.role).await?;
                }
                (id, false, (role != rule.role).then_some(role))
            }
            None => {
                let user = self.accounts.create_linked_user(verified, &rule).await?;
                (user, true, None)
            }
        };
        let (token, session) = self.accounts.open_session(user_id).await?;
        self.accounts
            .remember_id_token(&token, &verified.id_token)
            .await?;
        Ok(SignIn::Opened {
            token,
            session: Box::new(session),
            rule,
            created,
            previous_role,
        })
    }

    /// Where to send the browser to end its session at the provider too
    /// (RP-initiated logout), if the provider offers it: with the session's
    /// ID token as hint, back to Sello's login page afterwards.
    pub async fn logout_url(&self, id_token: Option<&str>) -> Option<String> {
        let (_, end_session) = match self.provider().await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(error = %error, "no se pudo preparar el cierre de sesión en el proveedor");
                return None;
            }
        };
        let mut request =
            LogoutRequest::from(end_session?).set_client_id(ClientId::new(self.settings.client_id.clone()));
        if let Ok(url) = PostLogoutRedirectUrl::new(self.settings.post_logout_url.clone()) {
            request = request.set_post_logout_redirect_uri(url);
        }
        if let Some(hint) = id_token.and_then(|token| token.parse::<SsoIdToken>().ok()) {
            request = request.set_id_token_hint(&hint);
        }
        Some(request.http_get_url().to_string())
    }
}

/// An error with its causes, for the message of a refusal or a log line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
