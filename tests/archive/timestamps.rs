//! A signature's RFC 3161 time-stamp where people look: the archive keeps
//! its time and TSA, and the public page `/v/<code>`, the staff document
//! page and the API show them when the document has one, and nothing when
//! it has none. The TSA is certomancer on loopback.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sello::accounts::Role;
use serde_json::json;

use crate::http::{Service, service_config};
use crate::tsa::Tsa;
use crate::{Fixture, example};

const OFFICE: &str = "DIF-SLP";

async fn the_time_stamp_is_shown_where_people_look_and_nothing_when_there_is_none(fixture: &Fixture) {
    let tsa = Tsa::start();
    let root = tsa.root_pem();
    let config = service_config(&[
        ("SELLO_TIMESTAMP_TSA", &tsa.url()),
        ("SELLO_TIMESTAMP_TRUSTED_ROOTS", root.to_str().expect("utf-8")),
    ]);
    let service = Service::with_config(fixture, config).await;
    let (firmante, password) = service.user(OFFICE, "firmante", Role::Firmante).await;
    let token = service.token(&firmante).await;
    let request = Request::post("/api/v1/documents")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"form": "oficio-comision", "data": example("oficio-comision")}).to_string(),
        ))
        .expect("request");
    let issued = service.send(request).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    let issued = issued.json();
    let stamp = &issued["document"]["timestamp"];
    assert!(
        stamp["tsa"]
            .as_str()
            .is_some_and(|t| t.contains("Sellado de tiempo de prueba")),
        "{issued:#}"
    );
    let time = chrono::DateTime::parse_from_rfc3339(stamp["time"].as_str().expect("time")).expect("RFC 3339");
    assert!(
        (chrono::Utc::now() - time.to_utc()).num_seconds().abs() < 60,
        "{time}"
    );

    // The stored time is the token's, as the PDF carries it.
    let id = issued["document"]["id"].as_str().expect("id").to_owned();
    let pdf = service
        .api("GET", &format!("/api/v1/documents/{id}/pdf"), Some(&token), None)
        .await;
    let mut trusted = service.state.trusted();
    let roots = std::fs::read(&root).expect("root");
    for certificate in x509_cert::Certificate::load_pem_chain(&roots).expect("PEM") {
        trusted.add_tsa_root(certificate);
    }
    let report = sello::pdf::verify_pdf(&pdf.bytes, &trusted).expect("a PDF");
    let signature = &report.signatures[0];
    assert_eq!(
        signature.timestamp_time.map(|t| t.timestamp_millis()),
        Some(time.timestamp_millis())
    );
    assert!(signature.timestamp_verified, "{signature:?}");

    let code = issued["code"].as_str().expect("code").to_owned();
    let public = service
        .api("GET", &format!("/api/v1/verification/{code}"), None, None)
        .await
        .json();
    assert_eq!(public["timestamp"], *stamp, "{public:#}");
    let page = service.api("GET", &format!("/v/{code}"), None, None).await.text();
    assert!(page.contains("Sello de tiempo de la firma"), "{page}");
    assert!(
        page.contains("dado por la autoridad de sellado de tiempo «Sellado de tiempo de prueba»"),
        "{page}"
    );
    let mut browser = service.browser("firmante", &password).await;
    let staff_page = browser.get(&format!("/documentos/{id}")).await.text();
    assert!(
        staff_page.contains("Sello de tiempo") && staff_page.contains("Sellado de tiempo de prueba"),
        "{staff_page}"
    );

    // Issued without a TSA: no time-stamp anywhere, and no claim of one.
    let unstamped = match fixture
        .issue_on("oficio-comision", &example("oficio-comision"), 22, None)
        .await
        .expect("issues")
    {
        sello::archive::Issued::New { record, document } => {
            assert!(document.timestamp.is_none());
            assert_eq!((record.timestamp_at, record.timestamp_tsa), (None, None));
            document.code.display()
        }
        sello::archive::Issued::Existing(_) => unreachable!("no idempotency key"),
    };
    let public = service
        .api("GET", &format!("/api/v1/verification/{unstamped}"), None, None)
        .await
        .json();
    assert!(public["timestamp"].is_null(), "{public:#}");
    let page = service
        .api("GET", &format!("/v/{unstamped}"), None, None)
        .await
        .text();
    assert!(page.contains("Folio"), "{page}");
    assert!(!page.contains("Sello de tiempo"), "{page}");
}
crate::archive_conformance!(the_time_stamp_is_shown_where_people_look_and_nothing_when_there_is_none);

#[test]
fn sello_bulk_time_stamps_every_carta_through_the_configured_tsa() {
    let tsa = Tsa::start_with(crate::tsa::TsaKind::RsaSha256);
    let root = tsa.root_pem();
    let dir = tempfile::tempdir().expect("temp");
    let rows = crate::bulk::rows(3, &[]);
    std::fs::write(
        dir.path().join("familias.csv"),
        crate::bulk::csv_bytes(&rows, false),
    )
    .expect("csv");
    let settings = [
        (
            "SELLO_FORMS_DIR",
            crate::root().join("forms").display().to_string(),
        ),
        ("SELLO_DATA_DIR", dir.path().join("data").display().to_string()),
        ("SELLO_TIMESTAMP_TSA", tsa.url()),
        ("SELLO_TIMESTAMP_TRUSTED_ROOTS", root.display().to_string()),
    ];
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(dir.path())
        .args([
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "familias.csv",
        ])
        .envs(settings.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("sello runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let config =
        sello::config::Config::from_sources(None, settings.iter().map(|(k, v)| ((*k).to_owned(), v.clone())))
            .expect("config");
    let trusted = sello::keys::trusted_keys(&config).expect("the installation's keys and TSA roots");
    let mut pdfs = Vec::new();
    let mut folders = vec![dir.path().join("data/documentos")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("blobs").flatten() {
            if entry.path().is_dir() {
                folders.push(entry.path());
            } else {
                pdfs.push(std::fs::read(entry.path()).expect("blob"));
            }
        }
    }
    let cartas: Vec<_> = pdfs.iter().filter(|pdf| pdf.starts_with(b"%PDF")).collect();
    assert_eq!(cartas.len(), 3, "one PDF per row");
    for pdf in cartas {
        let report = sello::pdf::verify_pdf(pdf, &trusted).expect("a PDF");
        assert!(report.is_valid(), "{report:?}");
        let signature = &report.signatures[0];
        assert!(signature.timestamp_verified, "every carta is B-T: {signature:?}");
    }
}
