//! A key rotated from the command line while the service runs: the
//! rotation waits for the document being signed, the service signs the
//! next one with the new key and its public page vouches for both, and an
//! outsider holding only the root and its CRL finds every one valid.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::server::Server;

async fn call(method: &str, url: &str, token: &str, body: Option<Value>) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(url)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.expect("an answer");
    let status = response.status();
    let bytes = axum::body::to_bytes(Body::new(response.into_body()), 64 << 20)
        .await
        .expect("body");
    (status, bytes.to_vec())
}

fn example(form: &str) -> Value {
    let path = crate::root().join(format!("forms/{form}/example.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("JSON")
}

/// A padrón long enough to be still signing when the rotation starts.
fn long_padron(rows: usize) -> Value {
    let mut data = example("padron-beneficiarios");
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

/// Issues through the API and keeps the PDF in `dir`; its verification link.
async fn issue(server: &Server, token: &str, form: &str, data: Value, dir: &Path) -> (PathBuf, String) {
    let url = format!("{}/api/v1/documents", server.base_url);
    let (status, body) = call("POST", &url, token, Some(json!({"form": form, "data": data}))).await;
    assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    let id = answer["document"]["id"].as_str().expect("id").to_owned();
    let link = answer["document"]["verification_url"]
        .as_str()
        .expect("verification link")
        .to_owned();
    let (status, pdf) = call("GET", &format!("{url}/{id}/pdf"), token, None).await;
    assert_eq!(status, StatusCode::OK);
    let path = dir.join(format!("{id}.pdf"));
    std::fs::write(&path, pdf).expect("PDF kept");
    (path, link)
}

/// `sello verify` as an outsider: only the root's certificate and its CRL.
fn outsider_verifies(pdf: &Path, root: &Path, crl: &Path) -> (bool, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_sello"))
        .arg("verify")
        .arg(pdf)
        .arg("--cert")
        .arg(root)
        .arg("--crl")
        .arg(crl)
        .arg("--json")
        .output()
        .expect("sello verify runs");
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("no JSON report: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.success(), report)
}

fn key_id_of(report: &Value) -> String {
    report["signatures"][0]["key_id"]
        .as_str()
        .expect("the signature's key id")
        .to_owned()
}

/// The one root certificate and CRL of the installation.
fn root_and_crl(data_dir: &Path) -> (PathBuf, PathBuf) {
    let only = |dir: PathBuf, extension: &str| {
        let found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == extension))
            .collect();
        assert_eq!(found.len(), 1, "one {extension} in {}", dir.display());
        found[0].clone()
    };
    (
        only(data_dir.join("claves/autoridades"), "pem"),
        only(data_dir.join("claves/crl"), "crl"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_from_the_command_line_is_followed_by_the_running_service() {
    let server = Server::start(&[]);
    server.sello(&[
        "users",
        "create",
        "--username",
        "firma",
        "--name",
        "Firma",
        "--role",
        "firmante",
    ]);
    let token = server.sello(&["users", "token", "firma", "--name", "rotacion"]);
    let kept = tempfile::tempdir().expect("temp dir");
    let data_dir = server.data_dir.path().join("datos");

    let (before, before_link) = issue(
        &server,
        &token,
        "oficio-comision",
        example("oficio-comision"),
        kept.path(),
    )
    .await;

    // The rotation starts while a long padrón is being rendered and signed.
    let padron = {
        let (base_url, token, dir) = (server.base_url.clone(), token.clone(), kept.path().to_owned());
        tokio::spawn(async move {
            let url = format!("{base_url}/api/v1/documents");
            let body = json!({"form": "padron-beneficiarios", "data": long_padron(1_500)});
            let started = Instant::now();
            let (status, answer) = call("POST", &url, &token, Some(body)).await;
            assert_eq!(
                status,
                StatusCode::CREATED,
                "{}",
                String::from_utf8_lossy(&answer)
            );
            let answer: Value = serde_json::from_slice(&answer).expect("JSON");
            let id = answer["document"]["id"].as_str().expect("id").to_owned();
            let (_, pdf) = call("GET", &format!("{url}/{id}/pdf"), &token, None).await;
            let path = dir.join("padron.pdf");
            std::fs::write(&path, pdf).expect("PDF kept");
            (path, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rotation_started = Instant::now();
    let new_key = {
        let data = data_dir.clone();
        let forms = crate::root().join("forms");
        tokio::task::spawn_blocking(move || {
            let output = Command::new(env!("CARGO_BIN_EXE_sello"))
                .args(["keys", "rotate"])
                .env("SELLO_FORMS_DIR", forms)
                .env("SELLO_DATA_DIR", data)
                .output()
                .expect("sello keys rotate runs");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
        })
        .await
        .expect("rotation")
    };
    let rotated_after = rotation_started.elapsed();
    let (padron, padron_took) = padron.await.expect("padrón");
    assert!(
        padron_took > Duration::from_millis(300) + rotated_after / 2,
        "the padrón was signed before the rotation began ({padron_took:?}); make it longer"
    );

    let (after, after_link) = issue(
        &server,
        &token,
        "oficio-comision",
        example("oficio-comision"),
        kept.path(),
    )
    .await;

    let (root, crl) = root_and_crl(&data_dir);
    let (ok, report) = outsider_verifies(&before, &root, &crl);
    assert!(ok, "the document from before the rotation stays valid: {report}");
    let old_key = key_id_of(&report);
    assert_ne!(old_key, new_key);
    let (ok, report) = outsider_verifies(&padron, &root, &crl);
    assert!(
        ok,
        "the padrón signed while the rotation waited is valid: {report}"
    );
    assert_eq!(key_id_of(&report), old_key);
    let (ok, report) = outsider_verifies(&after, &root, &crl);
    assert!(
        ok,
        "the service signs with the new key after the rotation: {report}"
    );
    assert_eq!(key_id_of(&report), new_key);

    // The public page vouches for both uploads: the service read the new
    // trust when the rotation changed the key folders.
    for (pdf, link) in [(&before, &before_link), (&after, &after_link)] {
        let page = compare_on_public_page(link, &std::fs::read(pdf).expect("PDF")).await;
        assert!(
            page.contains("firma(s) digital(es) son válidas"),
            "{link}: {page}"
        );
    }
}

/// What the public page says of `pdf` uploaded to be compared.
async fn compare_on_public_page(link: &str, pdf: &[u8]) -> String {
    let boundary = "limite-de-prueba-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"doc.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post(link)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(Body::new(response.into_body()), 1 << 20)
        .await
        .expect("body");
    String::from_utf8_lossy(&bytes).into_owned()
}
