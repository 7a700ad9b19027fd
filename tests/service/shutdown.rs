//! A stop (SIGTERM) while a long padrón is being issued: the issuance
//! finishes, its answer arrives, and only then does the service exit.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::server::Server;

fn long_padron(rows: usize) -> Value {
    let text = std::fs::read_to_string(crate::root().join("forms/padron-beneficiarios/example.json"))
        .expect("example");
    let mut data: Value = serde_json::from_str(&text).expect("JSON");
    data["beneficiarios"] = (1..=rows)
        .map(|i| {
            json!({
                "nombre": format!("Beneficiaria Número {i} Hernández"),
                "domicilio": format!("Calle Ignacio Zaragoza {i}, Colonia Centro"),
                "servicio": "Despensa",
                "fecha": "2026-05-04",
            })
        })
        .collect();
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuance_under_way_finishes_before_the_service_stops() {
    let server = Server::start(&[]);
    server.sello(&[
        "users",
        "create",
        "--username",
        "lote",
        "--name",
        "Lote",
        "--role",
        "firmante",
    ]);
    let token = server.sello(&["users", "token", "lote", "--name", "apagado"]);
    let body = json!({"form": "padron-beneficiarios", "data": long_padron(4_000)});
    let request = Request::post(format!("{}/api/v1/documents", server.base_url))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let started = Instant::now();
    let pending = tokio::spawn(async move {
        let response = client
            .request(request)
            .await
            .expect("an answer, not a dropped connection");
        let status = response.status();
        let bytes = axum::body::to_bytes(Body::new(response.into_body()), 1 << 20)
            .await
            .expect("body");
        (status, bytes, started.elapsed())
    });
    // Stop while the padrón is being rendered and signed.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stop_sent = started.elapsed();
    let stopping = tokio::task::spawn_blocking(move || {
        let data_dir = server.data_dir.path().join("datos");
        let log = server.log();
        let stopped = server.stop();
        (stopped, log, data_dir)
    });
    let (status, bytes, answered) = pending.await.expect("request task");
    let ((clean, _), log, _) = stopping.await.expect("stop task");
    assert!(
        answered > stop_sent,
        "the issuance ended before the stop ({answered:?}); use a longer padrón"
    );
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}\n{log}",
        String::from_utf8_lossy(&bytes)
    );
    let answer: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(answer["document"]["status"], "emitido");
    assert!(clean, "the service exits cleanly after finishing");
}
