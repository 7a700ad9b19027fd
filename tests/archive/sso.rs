//! Single sign-on against a real OpenID provider (oidc-provider under
//! Node.js, on loopback): the whole redirect dance over HTTP ends with a
//! Sello session in the office and role the administrator's rule gives; a
//! person no rule matches is refused, audited, and gets no session; a
//! tampered or replayed state is refused; logging out ends the session and
//! sends the browser to the provider's logout; with passwords turned off,
//! a password opens nothing.

use axum::http::StatusCode;
use sello::accounts::Role;
use sello::accounts::sso::NewSsoRule;

use crate::Fixture;
use crate::http::{Browser, Service, service_config};
use crate::oidc::{CLIENT_ID, CLIENT_SECRET, Provider, ProviderBrowser};

/// Where the service thinks it is served: the callback the provider knows.
const BASE_URL: &str = "http://127.0.0.1:8080";

/// The service configured with `provider`, and passwords as `local_passwords` says.
async fn service(fixture: &Fixture, provider: &Provider, local_passwords: bool) -> Service {
    let issuer = provider.issuer();
    let config = service_config(&[
        ("SELLO_BASE_URL", BASE_URL),
        ("SELLO_OIDC_ISSUER", &issuer),
        ("SELLO_OIDC_CLIENT_ID", CLIENT_ID),
        ("SELLO_OIDC_CLIENT_SECRET", CLIENT_SECRET),
        ("SELLO_OIDC_PROVIDER_NAME", "Cuenta Municipal"),
        ("SELLO_OIDC_SCOPES", "profile, email, groups"),
        (
            "SELLO_OIDC_LOCAL_PASSWORDS",
            if local_passwords { "true" } else { "false" },
        ),
    ]);
    Service::with_config(fixture, config).await
}

/// The service configured with `provider`, passwords allowed, and the rule
/// an administrator sets: the group `dif-firmantes` signs in DIF-SLP.
async fn service_with_rule(fixture: &Fixture, provider: &Provider) -> Service {
    let service = service(fixture, provider, true).await;
    service
        .state
        .accounts
        .add_sso_rule(
            &NewSsoRule {
                claim: "groups".into(),
                value: "dif-firmantes".into(),
                office_code: "DIF-SLP".into(),
                role: Role::Firmante,
                position: None,
            },
            "admin",
        )
        .await
        .expect("rule");
    service
}

/// Starts a login at Sello and takes the person through the provider as
/// `account`: the address the provider sends the browser back to.
async fn through_the_provider(browser: &mut Browser<'_>, account: &str, next: &str) -> String {
    let started = browser.get(&format!("/sso/entrar?siguiente={next}")).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    assert!(
        browser.cookies.contains_key("sello_sso"),
        "the state is kept in the browser"
    );
    let authorization = started.location();
    assert!(
        authorization.contains("code_challenge_method=S256") && authorization.contains("nonce="),
        "PKCE and a nonce: {authorization}"
    );
    let back = ProviderBrowser::new()
        .log_in(&authorization, account, &format!("{BASE_URL}/sso/vuelta"))
        .await;
    back.strip_prefix(BASE_URL).expect("Sello's callback").to_owned()
}

/// The audit events of `action`, their details.
async fn audited(fixture: &Fixture, action: &str) -> Vec<serde_json::Value> {
    let details: Vec<String> =
        sqlx::query_scalar("SELECT details FROM audit_events WHERE action = $1 ORDER BY seq")
            .bind(action)
            .fetch_all(fixture.archive.store().pool())
            .await
            .expect("audit");
    details
        .iter()
        .map(|text| serde_json::from_str(text).expect("JSON"))
        .collect()
}

async fn a_person_signs_in_through_the_provider_with_the_office_and_role_of_the_rule(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    let service = service_with_rule(fixture, &provider).await;
    let mut browser = service.visitor();
    let login = browser.get("/entrar").await.text();
    assert!(login.contains("Entrar con Cuenta Municipal"), "{login}");

    let callback = through_the_provider(&mut browser, "ana", "/buscar").await;
    let answer = browser.get(&callback).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    assert_eq!(answer.location(), "/buscar", "back where the person was going");
    assert!(browser.cookies.contains_key("sello_sesion"), "a session");
    assert!(
        !browser.cookies.contains_key("sello_sso"),
        "the state is forgotten"
    );

    let account = browser.get("/cuenta").await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text());
    let user = service
        .state
        .accounts
        .user_by_username("ana.ruiz")
        .await
        .expect("the account made at the first login");
    assert_eq!(user.office_code, "DIF-SLP");
    assert_eq!(user.role, Role::Firmante);
    assert_eq!(user.display_name, "Ana Ruiz Medina");
    assert!(account.text().contains("Ana Ruiz Medina"));
    let opened = audited(fixture, "sesion.sso_iniciada").await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0]["cuenta_nueva"], true);

    // The second time, the same account, found by issuer and subject.
    let mut again = service.visitor();
    let callback = through_the_provider(&mut again, "ana", "/").await;
    assert_eq!(again.get(&callback).await.status, StatusCode::SEE_OTHER);
    assert!(again.cookies.contains_key("sello_sesion"));
    let users = service.state.accounts.users("DIF-SLP").await.expect("users");
    assert_eq!(
        users
            .iter()
            .filter(|u| u.display_name == "Ana Ruiz Medina")
            .count(),
        1,
        "no second account"
    );

    // Logging out ends the Sello session and goes on to the provider's logout.
    let out = browser.post("/cuenta", "/salir", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text());
    let logout = out.location();
    assert!(
        logout.starts_with(&format!("{}/session/end?", provider.issuer())),
        "{logout}"
    );
    assert!(
        logout.contains("id_token_hint=") && logout.contains("post_logout_redirect_uri="),
        "{logout}"
    );
    let after = browser.get("/cuenta").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session is over");
    assert!(after.location().starts_with("/entrar"));
}
crate::archive_conformance!(a_person_signs_in_through_the_provider_with_the_office_and_role_of_the_rule);

async fn a_person_no_rule_matches_is_refused_audited_and_gets_no_session(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    let service = service_with_rule(fixture, &provider).await;
    let mut browser = service.visitor();
    let callback = through_the_provider(&mut browser, "beto", "/").await;
    let answer = browser.get(&callback).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer.text().contains("no tiene acceso a Sello"),
        "{}",
        answer.text()
    );
    assert!(!browser.cookies.contains_key("sello_sesion"), "no session");
    assert!(
        service.state.accounts.user_by_username("beto").await.is_err(),
        "no account"
    );
    let refused = audited(fixture, "sesion.sso_rechazada").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["motivo"], "sin_regla");
    assert_eq!(refused[0]["sujeto"], "beto");
    assert!(audited(fixture, "sesion.sso_iniciada").await.is_empty());
}
crate::archive_conformance!(a_person_no_rule_matches_is_refused_audited_and_gets_no_session);

async fn a_tampered_or_replayed_state_is_refused(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    let service = service_with_rule(fixture, &provider).await;
    let mut browser = service.visitor();
    let callback = through_the_provider(&mut browser, "ana", "/").await;
    let mut url = reqwest::Url::parse(&format!("{BASE_URL}{callback}")).expect("url");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let state = pairs
        .iter()
        .find(|(k, _)| k == "state")
        .expect("a state")
        .1
        .clone();
    let tampered = format!("{}x", &state[..state.len() - 1]);
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs.iter().map(|(k, v)| {
            (
                k.as_str(),
                if k == "state" {
                    tampered.as_str()
                } else {
                    v.as_str()
                },
            )
        }));
    let answer = browser
        .get(&format!("{}?{}", url.path(), url.query().unwrap_or_default()))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert!(!browser.cookies.contains_key("sello_sesion"));

    // The state of another browser is refused too: this one kept none.
    let mut other = service.visitor();
    let mut first = service.visitor();
    let callback = through_the_provider(&mut first, "ana", "/").await;
    let stolen = other.get(&callback).await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    assert!(!other.cookies.contains_key("sello_sesion"));
    // The right browser is let in once, and the same answer replayed is not.
    let kept_state = first.cookies.get("sello_sso").cloned().expect("state cookie");
    assert_eq!(first.get(&callback).await.status, StatusCode::SEE_OTHER);
    first.cookies.remove("sello_sesion");
    first.cookies.insert("sello_sso".into(), kept_state);
    let replayed = first.get(&callback).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);
    assert!(!first.cookies.contains_key("sello_sesion"));
}
crate::archive_conformance!(a_tampered_or_replayed_state_is_refused);

async fn with_passwords_turned_off_a_password_opens_nothing(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    let service = service(fixture, &provider, false).await;
    let (_, password) = service.user("DIF-SLP", "jefa.local", Role::Firmante).await;
    let mut browser = service.visitor();
    let page = browser.get("/entrar").await.text();
    assert!(page.contains("Entrar con Cuenta Municipal"));
    assert!(!page.contains("name=\"contrasena\""), "no password field");
    let guard = browser
        .cookies
        .get("sello_entrada")
        .cloned()
        .expect("the login guard");
    let answer = browser
        .post_raw(
            "/entrar",
            &[
                ("usuario", "jefa.local"),
                ("contrasena", &password),
                ("guardia", &guard),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    assert!(!browser.cookies.contains_key("sello_sesion"));

    // The same password opens a session where passwords are allowed.
    let allowed = Service::with_config(fixture, service_config(&[])).await;
    let mut browser = allowed.visitor();
    assert_eq!(
        browser.login("jefa.local", &password).await.status,
        StatusCode::SEE_OTHER
    );
}
crate::archive_conformance!(with_passwords_turned_off_a_password_opens_nothing);
