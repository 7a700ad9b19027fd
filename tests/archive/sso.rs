//! Single sign-on against a real OpenID provider (oidc-provider under
//! Node.js, on loopback): the whole redirect dance over HTTP ends with a
//! Sello session in the office and role the administrator's rule gives; a
//! person no rule matches is refused, audited, and gets no session; a
//! tampered or replayed state is refused; logging out ends the session and
//! sends the browser to the provider's logout; with passwords turned off,
//! a password opens nothing. An account made with a password is linked to
//! the person's identity and their logins land on it; an identity of
//! another account or another office is not linked; unlinked, the
//! provider's logins no longer reach it. The rules through the API.

use axum::http::StatusCode;
use sello::accounts::Role;
use sello::accounts::sso::NewSsoRule;
use serde_json::json;

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

/// Links the account logged in at `browser` to `account` at the provider,
/// from the account page: the answer of Sello's callback.
async fn link(browser: &mut Browser<'_>, account: &str) -> crate::http::Answer {
    let callback = start_link(browser, account).await;
    browser.get(&callback).await
}

/// Starts the linking from the account page and takes the person through
/// the provider as `account`: Sello's callback, not yet followed.
async fn start_link(browser: &mut Browser<'_>, account: &str) -> String {
    let page = browser.get("/cuenta").await.text();
    assert!(page.contains("Vincular con Cuenta Municipal"), "{page}");
    let started = browser.post("/cuenta", "/cuenta/sso/vincular", &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    assert!(
        browser.cookies.contains_key("sello_sso"),
        "the state is kept in the browser"
    );
    let authorization = started.location();
    assert!(
        authorization.contains("code_challenge_method=S256") && authorization.contains("nonce="),
        "the same login as any other: {authorization}"
    );
    let back = ProviderBrowser::new()
        .log_in(&authorization, account, &format!("{BASE_URL}/sso/vuelta"))
        .await;
    back.strip_prefix(BASE_URL).expect("Sello's callback").to_owned()
}

/// The account a browser's session is of.
async fn session_user(service: &Service, browser: &Browser<'_>) -> sello::accounts::User {
    let token = browser.cookies.get("sello_sesion").expect("a session");
    service
        .state
        .accounts
        .session(token)
        .await
        .expect("session")
        .expect("an open session")
        .user
}

/// A fresh browser's login through the provider as `account`: its answer.
async fn provider_login<'a>(service: &'a Service, account: &str) -> (Browser<'a>, crate::http::Answer) {
    let mut browser = Browser {
        service,
        cookies: Default::default(),
    };
    let callback = through_the_provider(&mut browser, account, "/").await;
    let answer = browser.get(&callback).await;
    (browser, answer)
}

async fn a_local_account_linked_to_the_provider_is_where_its_logins_land(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    let service = service_with_rule(fixture, &provider).await;
    let (local, password) = service.user("DIF-SLP", "ana.local", Role::Firmante).await;
    // Something of the account's own from before: an API token.
    let api_token = service.token(&local).await;
    let mut browser = service.browser("ana.local", &password).await;

    let linked = link(&mut browser, "ana").await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.text());
    assert_eq!(linked.location(), "/cuenta?aviso=vinculada");
    assert!(
        !browser.cookies.contains_key("sello_sso"),
        "the state is forgotten"
    );
    assert_eq!(
        session_user(&service, &browser).await.id,
        local.id,
        "linking opens no other session"
    );
    let page = browser.get(&linked.location()).await.text();
    assert!(
        page.contains("quedó vinculada con Cuenta Municipal")
            && page.contains("Desvincular de Cuenta Municipal"),
        "{page}"
    );
    let events = audited(fixture, "sesion.sso_vinculada").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["usuario"], "ana.local");
    assert_eq!(events[0]["sujeto"], "ana");

    // Her next login through the provider lands on the same account.
    let (mut sso_browser, answer) = provider_login(&service, "ana").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let user = session_user(&service, &sso_browser).await;
    assert_eq!(user.id, local.id, "the account that was linked");
    assert_eq!(user.username, "ana.local");
    assert!(
        service.state.accounts.user_by_username("ana.ruiz").await.is_err(),
        "no second account"
    );
    let opened = audited(fixture, "sesion.sso_iniciada").await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0]["cuenta_nueva"], false);
    // What it had is still its own: its token, its page, its password.
    let account = sso_browser.get("/cuenta").await.text();
    assert!(
        account.contains("ana.local") && account.contains("pruebas"),
        "{account}"
    );
    let by_token = service
        .state
        .accounts
        .user_by_token(&api_token)
        .await
        .expect("token")
        .expect("the token still works");
    assert_eq!(by_token.id, local.id);
    let mut again = Browser {
        service: &service,
        cookies: Default::default(),
    };
    assert_eq!(
        again.login("ana.local", &password).await.status,
        StatusCode::SEE_OTHER,
        "the password still opens it"
    );
}
crate::archive_conformance!(a_local_account_linked_to_the_provider_is_where_its_logins_land);

async fn an_identity_linked_to_another_account_is_not_linked_again(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    let service = service_with_rule(fixture, &provider).await;
    // Ana entered through the provider first: her identity has an account.
    let (first, answer) = provider_login(&service, "ana").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let made = session_user(&service, &first).await;

    let (local, password) = service.user("DIF-SLP", "ana.local", Role::Firmante).await;
    let mut browser = service.browser("ana.local", &password).await;
    let refused = link(&mut browser, "ana").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(
        refused
            .text()
            .contains("ya está vinculada con otra cuenta de Sello"),
        "{}",
        refused.text()
    );
    assert_eq!(session_user(&service, &browser).await.id, local.id);
    let issuer = provider.issuer();
    assert!(
        service
            .state
            .accounts
            .sso_identity(local.id, &issuer)
            .await
            .expect("identity")
            .is_none(),
        "not linked"
    );
    assert!(audited(fixture, "sesion.sso_vinculada").await.is_empty());
    let refusals = audited(fixture, "sesion.sso_vinculacion_rechazada").await;
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0]["motivo"], "identidad_de_otra_cuenta");
    // Her logins still land where they did.
    let (again, _) = provider_login(&service, "ana").await;
    assert_eq!(session_user(&service, &again).await.id, made.id);

    // That account has no password: unlinked, she could not enter again.
    let mut first = first;
    let kept = first.post("/cuenta", "/cuenta/sso/desvincular", &[]).await;
    assert_eq!(kept.status, StatusCode::FORBIDDEN, "{}", kept.text());
    assert!(
        kept.text().contains("no podría volver a entrar"),
        "{}",
        kept.text()
    );
    assert!(
        service
            .state
            .accounts
            .sso_identity(made.id, &issuer)
            .await
            .expect("identity")
            .is_some(),
        "still linked"
    );
}
crate::archive_conformance!(an_identity_linked_to_another_account_is_not_linked_again);

async fn an_identity_the_rules_put_in_another_office_is_not_linked(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    // The rule puts Ana in DIF-SLP; her local account is of another office.
    let service = service_with_rule(fixture, &provider).await;
    service
        .state
        .accounts
        .create_office("DIF-CER", "DIF Cerritos", "admin.cer")
        .await
        .expect("office");
    let (local, password) = service.user("DIF-CER", "ana.cerritos", Role::Firmante).await;
    let mut browser = service.browser("ana.cerritos", &password).await;
    let refused = link(&mut browser, "ana").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(
        refused
            .text()
            .contains("en otra oficina que su cuenta de Sello (DIF-CER)"),
        "{}",
        refused.text()
    );
    assert!(
        service
            .state
            .accounts
            .sso_identity(local.id, &provider.issuer())
            .await
            .expect("identity")
            .is_none(),
        "not linked"
    );
    let refusals = audited(fixture, "sesion.sso_vinculacion_rechazada").await;
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0]["motivo"], "otra_oficina");
    // Her login through the provider makes her an account of the rule's office.
    let (sso_browser, _) = provider_login(&service, "ana").await;
    let user = session_user(&service, &sso_browser).await;
    assert_ne!(user.id, local.id);
    assert_eq!(user.office_code, "DIF-SLP");
}
crate::archive_conformance!(an_identity_the_rules_put_in_another_office_is_not_linked);

async fn an_unlinked_account_is_no_longer_reached_through_the_provider(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    let service = service_with_rule(fixture, &provider).await;
    // Beto's group is let in too, for the administrator's part.
    service
        .state
        .accounts
        .add_sso_rule(
            &NewSsoRule {
                claim: "groups".into(),
                value: "mantenimiento".into(),
                office_code: "DIF-SLP".into(),
                role: Role::Capturista,
                position: None,
            },
            "admin",
        )
        .await
        .expect("rule");

    // Ana unlinks her own account.
    let (ana, password) = service.user("DIF-SLP", "ana.local", Role::Firmante).await;
    let mut browser = service.browser("ana.local", &password).await;
    assert_eq!(link(&mut browser, "ana").await.status, StatusCode::SEE_OTHER);
    let (linked, _) = provider_login(&service, "ana").await;
    assert_eq!(session_user(&service, &linked).await.id, ana.id);
    let unlinked = browser.post("/cuenta", "/cuenta/sso/desvincular", &[]).await;
    assert_eq!(unlinked.status, StatusCode::SEE_OTHER, "{}", unlinked.text());
    let page = browser.get(&unlinked.location()).await.text();
    assert!(
        page.contains("ya no está vinculada con Cuenta Municipal")
            && page.contains("Vincular con Cuenta Municipal"),
        "{page}"
    );
    let (after, answer) = provider_login(&service, "ana").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let user = session_user(&service, &after).await;
    assert_ne!(
        user.id, ana.id,
        "the provider's login no longer reaches her account"
    );
    assert_eq!(
        user.username, "ana.ruiz",
        "a new account, as for anyone not linked"
    );

    // An installation administrator unlinks Beto's.
    let (beto, password) = service.user("DIF-SLP", "beto.local", Role::Capturista).await;
    let mut browser = service.browser("beto.local", &password).await;
    assert_eq!(link(&mut browser, "beto").await.status, StatusCode::SEE_OTHER);
    let (_, admin_password) = service.user("DIF-SLP", "jefa", Role::Administrador).await;
    let mut admin = service.browser("jefa", &admin_password).await;
    let page = admin
        .post(
            "/admin/sso",
            "/admin/sso/desvincular",
            &[("usuario", "beto.local")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        page.text().contains("«beto.local» ya no está vinculada"),
        "{}",
        page.text()
    );
    let (after, _) = provider_login(&service, "beto").await;
    assert_ne!(session_user(&service, &after).await.id, beto.id);

    let events = audited(fixture, "sesion.sso_desvinculada").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["usuario"], "ana.local");
    assert_eq!(events[0]["por_la_administracion"], false);
    assert_eq!(events[1]["usuario"], "beto.local");
    assert_eq!(events[1]["por_la_administracion"], true);
}
crate::archive_conformance!(an_unlinked_account_is_no_longer_reached_through_the_provider);

async fn a_linking_links_only_the_account_whose_session_started_it(fixture: &Fixture) {
    let provider = Provider::start(BASE_URL);
    let service = service_with_rule(fixture, &provider).await;
    let (ana, password) = service.user("DIF-SLP", "ana.local", Role::Firmante).await;
    let mut browser = service.browser("ana.local", &password).await;
    let callback = start_link(&mut browser, "ana").await;
    // Meanwhile the browser's session became another account's.
    let (other, other_password) = service.user("DIF-SLP", "otra.local", Role::Firmante).await;
    let theirs = service.browser("otra.local", &other_password).await;
    let session = theirs.cookies.get("sello_sesion").cloned().expect("a session");
    browser.cookies.insert("sello_sesion".into(), session);
    let refused = browser.get(&callback).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text());
    assert!(
        refused.text().contains("no corresponde a la sesión abierta"),
        "{}",
        refused.text()
    );
    for account in [&ana, &other] {
        assert!(
            service
                .state
                .accounts
                .sso_identity(account.id, &provider.issuer())
                .await
                .expect("identity")
                .is_none(),
            "{} not linked",
            account.username
        );
    }
    assert!(audited(fixture, "sesion.sso_vinculada").await.is_empty());
}
crate::archive_conformance!(a_linking_links_only_the_account_whose_session_started_it);

async fn the_rules_are_managed_through_the_api_as_on_the_admin_page(fixture: &Fixture) {
    let service = Service::with_config(fixture, service_config(&[])).await;
    let (admin, _) = service.user("DIF-SLP", "jefa", Role::Administrador).await;
    let token = service.token(&admin).await;
    let rule = |dato: &str, valor: &str, oficina: &str, rol: &str| json!({"dato": dato, "valor": valor, "oficina": oficina, "rol": rol});
    let made = service
        .api(
            "POST",
            "/api/v1/sso/rules",
            Some(&token),
            Some(rule("groups", "dif-firmantes", "DIF-SLP", "firmante")),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let made = made.json();
    assert_eq!(made["dato"], "groups");
    assert_eq!(made["rol"], "firmante");
    assert_eq!(made["orden"], 10, "after every rule there is");
    let mut first = rule("oficina", "DIF-SLP", "DIF-SLP", "capturista");
    first["orden"] = json!(5);
    let first = service
        .api("POST", "/api/v1/sso/rules", Some(&token), Some(first))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let listed = service.api("GET", "/api/v1/sso/rules", Some(&token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let order: Vec<String> = listed
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|rule| rule["dato"].as_str().expect("dato").to_owned())
        .collect();
    assert_eq!(order, ["oficina", "groups"], "in the order they are tried");

    // Each mistake is refused naming its field, as the page does.
    let mut negative = rule("groups", "x", "DIF-SLP", "firmante");
    negative["orden"] = json!(-1);
    for (body, field) in [
        (
            rule("con espacio", "x", "DIF-SLP", "firmante"),
            "dato del proveedor:",
        ),
        (rule("groups", " ", "DIF-SLP", "firmante"), "valor:"),
        (rule("groups", "x", "NADA", "firmante"), "oficina:"),
        (rule("groups", "x", "DIF-SLP", "jefe"), "rol:"),
        (negative, "orden:"),
    ] {
        let refused = service
            .api("POST", "/api/v1/sso/rules", Some(&token), Some(body))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text());
        let message = refused.json()["error"]["message"]
            .as_str()
            .expect("message")
            .to_owned();
        assert!(message.starts_with(field), "{field} {message}");
    }
    let (_, admin_password) = service.user("DIF-SLP", "jefa.web", Role::Administrador).await;
    let mut page = service.browser("jefa.web", &admin_password).await;
    let on_page = page
        .post(
            "/admin/sso",
            "/admin/sso",
            &[
                ("dato", "groups"),
                ("valor", "x"),
                ("oficina", "NADA"),
                ("rol", "firmante"),
            ],
        )
        .await;
    assert_eq!(on_page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        on_page
            .text()
            .contains("Oficina: «NADA» no es una oficina de esta instalación"),
        "{}",
        on_page.text()
    );

    // Only the installation's administrators.
    let (signer, _) = service.user("DIF-SLP", "firmante", Role::Firmante).await;
    let (_, other_admin, _) = service
        .state
        .accounts
        .create_office("DIF-CER", "DIF Cerritos", "admin.cer")
        .await
        .expect("office");
    for user in [&signer, &other_admin] {
        let their = service.token(user).await;
        for (method, uri, body) in [
            ("GET", "/api/v1/sso/rules".to_owned(), None),
            (
                "POST",
                "/api/v1/sso/rules".to_owned(),
                Some(rule("groups", "x", "DIF-CER", "administrador")),
            ),
            (
                "DELETE",
                format!("/api/v1/sso/rules/{}", made["id"].as_str().expect("id")),
                None,
            ),
        ] {
            let answer = service.api(method, &uri, Some(&their), body).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{method} {uri}: {}",
                answer.text()
            );
        }
    }
    assert_eq!(service.state.accounts.sso_rules().await.expect("rules").len(), 2);

    let uri = format!("/api/v1/sso/rules/{}", made["id"].as_str().expect("id"));
    let deleted = service.api("DELETE", &uri, Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    let again = service.api("DELETE", &uri, Some(&token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text());
    let malformed = service
        .api("DELETE", "/api/v1/sso/rules/nada", Some(&token), None)
        .await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
    let page = page.get("/admin/sso").await.text();
    assert!(
        page.contains("<code>oficina</code>") && !page.contains("dif-firmantes"),
        "the page shows what the API left: {page}"
    );

    // Audited as the page's acts are, marked as the API's.
    let events: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, actor, details FROM audit_events WHERE action LIKE 'sso.regla_%' ORDER BY seq",
    )
    .fetch_all(fixture.archive.store().pool())
    .await
    .expect("audit");
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|(action, actor, _)| (action.as_str(), actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("sso.regla_creada", "jefa (API)"),
            ("sso.regla_creada", "jefa (API)"),
            ("sso.regla_eliminada", "jefa (API)"),
        ]
    );
    let removed: serde_json::Value = serde_json::from_str(&events[2].2).expect("JSON");
    assert_eq!(removed["regla"], made["id"]);
    assert_eq!(removed["valor"], "dif-firmantes");
}
crate::archive_conformance!(the_rules_are_managed_through_the_api_as_on_the_admin_page);
