//! No step of a procedure is skipped silently: a document its people sign
//! in person is issued in one go (the API, the terminal, a lote) only when
//! it is recorded that they sign the printed paper, and then awaits the
//! scan of that paper; and a reviewer who changed a draft is one of its
//! preparers, so only its drafter changes it.

use std::path::Path;
use std::process::{Command, Output};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::Fixture;
use crate::http::Service;
use crate::workflows::{draft, staff, step};

fn base64(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

async fn document_of(service: &Service, token: &str, id: sello::public_id::PublicId) -> Value {
    let answer = service
        .api("GET", &format!("/api/v1/documents/{id}"), Some(token), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()
}

async fn a_letter_signed_in_person_is_issued_in_one_go_only_to_be_signed_on_paper(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let data = crate::example_now("carta-compromiso");
    let refused = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&staff.directora),
            Some(json!({"form": "carta-compromiso", "data": data})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
    let error = refused.json();
    assert_eq!(error["error"]["code"], "workflow_required");
    let message = error["error"]["message"].as_str().expect("message");
    assert!(message.contains("firmaran_en_papel"), "{message}");
    assert!(
        message.contains("Firma del representante de la familia"),
        "{message}"
    );

    let issued = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&staff.directora),
            Some(json!({"form": "carta-compromiso", "data": data, "firmaran_en_papel": true})),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    let issued = issued.json();
    let id = crate::public_id(&issued["document"]["id"]);
    assert_eq!(issued["document"]["paper_pending"], json!(["representante"]));

    // Printed: the representative's line is empty; only the account that
    // issued it signed electronically, under the professional's leyenda.
    let pdf = service
        .api(
            "GET",
            &format!("/api/v1/documents/{id}/pdf"),
            Some(&staff.directora),
            None,
        )
        .await;
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &pdf.bytes).expect("write");
    let text = crate::pdf_text(file.path());
    assert!(!text.contains("Firma autógrafa recabada en pantalla"), "{text}");
    // The professional signs each copy by hand; the director's electronic
    // signature is in the constancia del trámite, under no one else's block.
    assert_eq!(
        text.matches("Firmado electrónicamente el").count(),
        0,
        "no block claims the director's signature for the professional:\n{text}"
    );
    assert!(
        text.contains("Firmó electrónicamente") && text.contains("Persona directora"),
        "{text}"
    );

    // Recorded in the trail, and pending until the signed paper is scanned.
    let document = document_of(&service, &staff.directora, id).await;
    assert_eq!(document["document"]["paper_pending"], json!(["representante"]));
    let attached = service
        .api(
            "POST",
            &format!("/api/v1/documents/{id}/hand-signatures"),
            Some(&staff.auxiliar),
            Some(
                json!({"kind": "papel", "purpose": "Carta firmada en papel", "media_type": "application/pdf",
                        "content_base64": base64(&pdf.bytes), "name": ""}),
            ),
        )
        .await;
    assert_eq!(attached.status, StatusCode::CREATED, "{}", attached.text());
    let document = document_of(&service, &staff.directora, id).await;
    assert_eq!(document["document"]["paper_pending"], json!([]));
}
crate::archive_conformance!(a_letter_signed_in_person_is_issued_in_one_go_only_to_be_signed_on_paper);

fn sello(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(dir)
        .args(args)
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .env("SELLO_OFFICE_CODE", "DIF-SLP")
        .output()
        .expect("sello runs")
}

#[test]
fn the_terminal_and_a_lote_refuse_to_skip_the_signatures_in_person() {
    let dir = tempfile::tempdir().expect("temp");
    let data = crate::root().join("forms/carta-compromiso/example.json");
    let data = data.to_str().expect("utf-8");
    let refused = sello(
        dir.path(),
        &["issue", "carta-compromiso", "--data", data, "--json"],
    );
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--firmaran-en-papel"), "{stderr}");

    let issued = sello(
        dir.path(),
        &[
            "issue",
            "carta-compromiso",
            "--data",
            data,
            "--json",
            "--firmaran-en-papel",
        ],
    );
    assert_eq!(
        issued.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let report: Value = serde_json::from_slice(&issued.stdout).expect("JSON");
    assert_eq!(report["folio"], "DIF-SLP/CA/2026/0001");

    // A lote of two cartas: refused whole without the flag, then issued.
    let example = crate::example_now("carta-compromiso");
    let rows = (1..=2).map(|i| {
        let mut row = example.clone();
        row["familia_id"] = json!(format!("FAM-LOTE-{i}"));
        row
    });
    let mut csv = String::from(
        "comuna,fecha_firma,familia_id,familia_nombre,domicilio,representante.nombre,representante.identificacion,representante_fecha_nacimiento,criterio_representante,lectura,profesional_nombre,profesional_cargo,unidad\n",
    );
    for row in rows {
        let cells: Vec<String> = [
            &row["comuna"],
            &row["fecha_firma"],
            &row["familia_id"],
            &row["familia_nombre"],
            &row["domicilio"],
            &row["representante"]["nombre"],
            &row["representante"]["identificacion"],
            &row["representante_fecha_nacimiento"],
            &row["criterio_representante"],
            &row["lectura"],
            &row["profesional_nombre"],
            &row["profesional_cargo"],
            &row["unidad"],
        ]
        .iter()
        .map(|v| format!("\"{}\"", v.as_str().unwrap_or_default().replace('"', "\"\"")))
        .collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    let sheet = dir.path().join("familias.csv");
    std::fs::write(&sheet, csv).expect("csv");
    let sheet = sheet.to_str().expect("utf-8");
    let refused = sello(dir.path(), &["bulk", "carta-compromiso", "--input", sheet]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--firmaran-en-papel"));
    let issued = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--input",
            sheet,
            "--firmaran-en-papel",
        ],
    );
    assert_eq!(
        issued.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    // Each of the three cartas awaits its paper signed by the representative.
    let url = format!("sqlite://{}?mode=ro", dir.path().join("data/sello.db").display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pending: Vec<Option<String>> = runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.expect("archive");
        let pending =
            sqlx::query_scalar("SELECT paper_pending FROM documents WHERE form = 'carta-compromiso'")
                .fetch_all(&pool)
                .await
                .expect("query");
        pool.close().await;
        pending
    });
    assert_eq!(pending, vec![Some("representante".to_owned()); 3]);
}

async fn a_reviewer_who_changes_a_returned_draft_can_neither_approve_nor_sign_it(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let data = crate::example_now("oficio-autorizacion-apoyo");
    let id = draft(&service, &staff.auxiliar, "oficio-autorizacion-apoyo", &data).await;
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    step(
        &service,
        &staff.contador,
        id,
        "reject",
        Some("Revise el monto"),
        StatusCode::OK,
    )
    .await;

    // Back at its elaboration: the accountant may not change it…
    let mut changed = data.clone();
    changed["monto"] = json!(900);
    let edit = service
        .api(
            "PUT",
            &format!("/api/v1/drafts/{id}"),
            Some(&staff.contador),
            Some(json!({"data": changed})),
        )
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN, "{}", edit.text());
    // …nor send it on in the drafter's place, nor can a colleague.
    step(
        &service,
        &staff.contador,
        id,
        "submit",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    step(
        &service,
        &staff.otra_auxiliar,
        id,
        "submit",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    let kept = service
        .api(
            "GET",
            &format!("/api/v1/drafts/{id}"),
            Some(&staff.auxiliar),
            None,
        )
        .await
        .json();
    let kept: Value = match &kept["data"] {
        Value::String(text) => serde_json::from_str(text).expect("data"),
        other => other.clone(),
    };
    assert_eq!(
        kept["monto"],
        json!(985.5),
        "the accountant's change was not kept"
    );

    // The drafter corrects and sends it; the accountant approves what he
    // did not write, the director signs.
    let edit = service
        .api(
            "PUT",
            &format!("/api/v1/drafts/{id}"),
            Some(&staff.auxiliar),
            Some(json!({"data": changed})),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text());
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    step(&service, &staff.contador, id, "approve", None, StatusCode::OK).await;
    step(&service, &staff.directora, id, "sign", None, StatusCode::CREATED).await;
}
crate::archive_conformance!(a_reviewer_who_changes_a_returned_draft_can_neither_approve_nor_sign_it);
