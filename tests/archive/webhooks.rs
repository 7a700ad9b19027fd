//! Webhooks: a listener on loopback in the test receives `document.issued`
//! signed as the README's recipe checks (a changed body or an old time
//! fails it), a listener that answers 500 twice gets the third attempt,
//! a delivery is sent again by hand with the same event id, and a target
//! on a private range is refused unless the installation allows it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sello::accounts::Role;
use sello::webhooks::{Dispatcher, SignatureError};
use serde_json::{Value, json};

use crate::Fixture;
use crate::http::{Service, service_config};

/// A request the listener received, and when.
#[derive(Debug, Clone)]
struct Received {
    signature: String,
    body: Vec<u8>,
    at: Instant,
}

#[derive(Default)]
struct Listener {
    received: Mutex<Vec<Received>>,
    /// The statuses to answer, in order; 200 once they run out.
    answers: Mutex<VecDeque<u16>>,
}

async fn hook(
    State(listener): State<Arc<Listener>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let signature = headers
        .get("sello-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    listener.received.lock().expect("lock").push(Received {
        signature,
        body: body.to_vec(),
        at: Instant::now(),
    });
    let status = listener.answers.lock().expect("lock").pop_front().unwrap_or(200);
    StatusCode::from_u16(status).expect("status")
}

/// A listener on loopback answering `answers`; its address.
async fn listen(answers: &[u16]) -> (Arc<Listener>, String) {
    let listener = Arc::new(Listener {
        received: Mutex::default(),
        answers: Mutex::new(answers.iter().copied().collect()),
    });
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", socket.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(Arc::clone(&listener));
    tokio::spawn(async move { axum::serve(socket, app).await });
    (listener, url)
}

/// An installation that may send to loopback (the test's listener), and
/// retries after `first`, doubling.
fn config_allowing_loopback(first: Duration) -> sello::config::Config {
    let mut config = service_config(&[("SELLO_WEBHOOKS_ALLOW_PRIVATE", "true")]);
    assert!(config.webhooks.allow_private);
    config.webhooks.retry_first = first;
    config.webhooks.timeout = Duration::from_secs(5);
    config
}

/// The service, an administrator's token and a signer's.
async fn service_with_tokens(fixture: &Fixture, config: sello::config::Config) -> (Service, String, String) {
    let service = Service::with_config(fixture, config).await;
    let (admin, _) = service.user("DIF-SLP", "admin.hooks", Role::Administrador).await;
    let (signer, _) = service.user("DIF-SLP", "jefa.hooks", Role::Firmante).await;
    let tokens = (service.token(&admin).await, service.token(&signer).await);
    (service, tokens.0, tokens.1)
}

async fn subscribe(service: &Service, token: &str, body: Value) -> Value {
    let created = service
        .api("POST", "/api/v1/webhooks", Some(token), Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    created.json()
}

/// Issues a carta through the API; its folio.
async fn issue_carta(service: &Service, token: &str) -> String {
    let issued = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(token),
            Some(json!({"form": "carta-compromiso", "data": crate::example_now("carta-compromiso"), "firmaran_en_papel": true})),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    issued.json()["document"]["folio"]
        .as_str()
        .expect("folio")
        .to_owned()
}

/// Runs the dispatcher until the listener has `count` requests.
async fn deliver_until(dispatcher: &Dispatcher, listener: &Listener, count: usize) -> Vec<Received> {
    let started = Instant::now();
    loop {
        dispatcher.run_due().await.expect("the queue answers");
        let received = listener.received.lock().expect("lock").clone();
        if received.len() >= count {
            return received;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {} of {count} deliveries arrived",
            received.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn a_listener_receives_document_issued_signed_within_the_window(fixture: &Fixture) {
    let config = config_allowing_loopback(Duration::from_millis(50));
    let (service, admin, signer) = service_with_tokens(fixture, config.clone()).await;
    let (listener, url) = listen(&[]).await;
    let created = subscribe(
        &service,
        &admin,
        json!({"url": url, "events": ["document.issued"]}),
    )
    .await;
    let secret = created["secret"]
        .as_str()
        .expect("the secret, shown once")
        .to_owned();
    assert_eq!(created["scope"], "minimo");
    let listed = service.api("GET", "/api/v1/webhooks", Some(&admin), None).await;
    assert!(!listed.text().contains(&secret), "the secret is not shown again");

    let folio = issue_carta(&service, &signer).await;
    let dispatcher =
        Dispatcher::new(service.state.archive.store().clone(), &config.webhooks).expect("dispatcher");
    let received = deliver_until(&dispatcher, &listener, 1).await;
    let delivery = &received[0];

    // The receiver's check, as the README writes it.
    assert_eq!(
        sello::webhooks::verify(&secret, &delivery.signature, &delivery.body, now()),
        Ok(())
    );
    let body: Value = serde_json::from_slice(&delivery.body).expect("JSON");
    assert_eq!(body["type"], "document.issued");
    assert_eq!(body["office"], "DIF-SLP");
    assert_eq!(body["data"]["document"]["folio"], folio.as_str());
    assert_eq!(body["data"]["document"]["form"], "carta-compromiso");
    assert!(
        body["data"]["document"].get("persons").is_none(),
        "scope minimo: {body}"
    );

    // A changed byte, another secret, or a time outside the window fail.
    let mut tampered = delivery.body.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    assert_eq!(
        sello::webhooks::verify(&secret, &delivery.signature, &tampered, now()),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        sello::webhooks::verify(&secret, &delivery.signature, &delivery.body, now() + 600),
        Err(SignatureError::OutOfWindow)
    );
    let replayed = sello::webhooks::sign(&secret, now() - 600, &delivery.body);
    assert_eq!(
        sello::webhooks::verify(&secret, &replayed, &delivery.body, now()),
        Err(SignatureError::OutOfWindow)
    );

    // The log says it was delivered; sent again by hand, the same id.
    let id = created["id"].as_str().expect("id");
    let log = service
        .api(
            "GET",
            &format!("/api/v1/webhooks/{id}/entregas"),
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(log[0]["state"], "entregada", "{log}");
    assert_eq!(log[0]["event_id"], body["id"]);
    assert_eq!(log[0]["attempts"][0]["response_code"], 200);
    let again = service
        .api(
            "POST",
            &format!(
                "/api/v1/webhooks/{id}/entregas/{}/reenviar",
                log[0]["id"].as_str().expect("id")
            ),
            Some(&signer),
            None,
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::FORBIDDEN,
        "only the office's administrators"
    );
    let again = service
        .api(
            "POST",
            &format!(
                "/api/v1/webhooks/{id}/entregas/{}/reenviar",
                log[0]["id"].as_str().expect("id")
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text());
    let received = deliver_until(&dispatcher, &listener, 2).await;
    let resent: Value = serde_json::from_slice(&received[1].body).expect("JSON");
    assert_eq!(resent["id"], body["id"]);
    assert_eq!(
        sello::webhooks::verify(&secret, &received[1].signature, &received[1].body, now()),
        Ok(())
    );
}
crate::archive_conformance!(a_listener_receives_document_issued_signed_within_the_window);

async fn a_listener_answering_500_twice_gets_the_third_attempt(fixture: &Fixture) {
    let first = Duration::from_millis(200);
    let config = config_allowing_loopback(first);
    let (service, admin, signer) = service_with_tokens(fixture, config.clone()).await;
    let (listener, url) = listen(&[500, 500]).await;
    let created = subscribe(&service, &admin, json!({"url": url, "scope": "datos"})).await;
    let secret = created["secret"].as_str().expect("secret").to_owned();
    issue_carta(&service, &signer).await;
    let dispatcher =
        Dispatcher::new(service.state.archive.store().clone(), &config.webhooks).expect("dispatcher");
    let received = deliver_until(&dispatcher, &listener, 3).await;
    assert_eq!(received.len(), 3, "delivered on the third attempt, then no more");
    let ids: Vec<Value> = received
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).expect("JSON")["id"].clone())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one event id on every attempt: {ids:?}"
    );
    for attempt in &received {
        assert_eq!(
            sello::webhooks::verify(&secret, &attempt.signature, &attempt.body, now()),
            Ok(())
        );
    }
    // Exponential: the second wait is at least twice the first's backoff.
    assert!(received[1].at - received[0].at >= first);
    assert!(received[2].at - received[1].at >= first * 2);
    // Scope datos: the persons the carta names.
    let body: Value = serde_json::from_slice(&received[2].body).expect("JSON");
    let persons = body["data"]["document"]["persons"].as_array().expect("persons");
    assert!(!persons.is_empty(), "{body}");

    let id = created["id"].as_str().expect("id");
    let log = service
        .api(
            "GET",
            &format!("/api/v1/webhooks/{id}/entregas"),
            Some(&admin),
            None,
        )
        .await
        .json();
    let codes: Vec<Value> = log[0]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["response_code"].clone())
        .collect();
    assert_eq!(codes, vec![json!(500), json!(500), json!(200)], "{log}");
    assert_eq!(log[0]["state"], "entregada");
    assert_eq!(log[0]["attempts"][0]["error"], "respondió 500");
}
crate::archive_conformance!(a_listener_answering_500_twice_gets_the_third_attempt);

async fn a_private_range_target_is_refused_by_default(fixture: &Fixture) {
    let (service, admin, signer) = service_with_tokens(fixture, service_config(&[])).await;
    assert!(!service.state.config.webhooks.allow_private);
    let (listener, url) = listen(&[]).await;
    for target in [
        url.as_str(),
        "http://localhost:8080/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
    ] {
        let refused = service
            .api(
                "POST",
                "/api/v1/webhooks",
                Some(&admin),
                Some(json!({"url": target})),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{target}: {}",
            refused.text()
        );
        assert!(refused.text().contains("red privada"), "{}", refused.text());
    }
    let not_admin = service
        .api(
            "POST",
            "/api/v1/webhooks",
            Some(&signer),
            Some(json!({"url": "https://example.org/"})),
        )
        .await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);

    // Made while allowed, a private target is not reached once the
    // installation no longer allows it: checked again at delivery.
    let mut allowing = service.state.config.webhooks.clone();
    allowing.allow_private = true;
    let (subscription, _) = sello::webhooks::subscribe(
        service.state.archive.store(),
        &allowing,
        "DIF-SLP",
        "admin.hooks",
        &url,
        &[],
        None,
    )
    .await
    .expect("allowed then");
    issue_carta(&service, &signer).await;
    let dispatcher = Dispatcher::new(
        service.state.archive.store().clone(),
        &service.state.config.webhooks,
    )
    .expect("dispatcher");
    assert_eq!(dispatcher.run_due().await.expect("queue"), 1);
    assert!(
        listener.received.lock().expect("lock").is_empty(),
        "nothing reached the listener"
    );
    let log = sello::archive::webhooks::deliveries(service.state.archive.store(), subscription.row_id, 10)
        .await
        .expect("log");
    let attempt = &log[0].attempts[0];
    assert_eq!(attempt.response_code, None);
    assert!(
        attempt
            .error
            .as_deref()
            .is_some_and(|e| e.contains("red privada")),
        "{attempt:?}"
    );
    assert_eq!(log[0].state, "pendiente", "tried again later");
}
crate::archive_conformance!(a_private_range_target_is_refused_by_default);

async fn a_lote_issued_to_the_end_is_sent_as_lote_finished(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let mut config = service_config(&[
        ("SELLO_WEBHOOKS_ALLOW_PRIVATE", "true"),
        ("SELLO_DATA_DIR", &data_path),
    ]);
    config.webhooks.retry_first = Duration::from_millis(50);
    let (service, admin, signer) = service_with_tokens(fixture, config.clone()).await;
    let (listener, url) = listen(&[]).await;
    subscribe(&service, &admin, json!({"url": url, "events": ["lote.finished"]})).await;
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(3, &[]), false);
    let started = service
        .send(crate::api_lotes::lote_request(
            &signer,
            &[("formulario", "carta-compromiso"), ("en_papel", "true")],
            &csv,
        ))
        .await;
    assert!(
        matches!(started.status, StatusCode::ACCEPTED | StatusCode::OK),
        "{}",
        started.text()
    );
    let id = started.json()["id"].as_str().expect("id").to_owned();
    let progress = crate::api_lotes::finished(&service, &signer, &id).await;
    assert_eq!(
        (progress["finished"].clone(), progress["documents"].clone()),
        (json!(true), json!(3)),
        "{progress}"
    );

    let dispatcher =
        Dispatcher::new(service.state.archive.store().clone(), &config.webhooks).expect("dispatcher");
    let received = deliver_until(&dispatcher, &listener, 1).await;
    let body: Value = serde_json::from_slice(&received[0].body).expect("JSON");
    assert_eq!(body["type"], "lote.finished", "{body}");
    assert_eq!(body["data"]["lote"]["id"], id.as_str());
    assert_eq!(body["data"]["lote"]["valid_rows"], 3);
    assert_eq!(body["data"]["lote"]["failed"], false);
    // Once, however many of its jobs ended.
    dispatcher.run_due().await.expect("the queue answers");
    assert_eq!(listener.received.lock().expect("lock").len(), 1);
}
crate::archive_conformance!(a_lote_issued_to_the_end_is_sent_as_lote_finished);
