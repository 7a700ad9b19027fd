//! The order of an expediente holds whichever way a document comes in:
//! the command line, a bulk run, the API and the staff app refuse the
//! Declaración of a family whose Carta is current, and a Plan before any
//! Carta, naming the document that blocks or is missing.

use std::path::Path;
use std::process::{Command, Output};

use axum::http::StatusCode;
use sello::accounts::Role;
use serde_json::{Value, json};

use crate::http::Service;
use crate::{Fixture, example, example_now};

fn sello(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(dir)
        .args(args)
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .env("SELLO_OFFICE_CODE", "DIF-SLP")
        .output()
        .expect("sello runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The Declaración of the family `carta` names.
fn declaracion_of(carta: &Value) -> Value {
    let mut data = example("declaracion-no-participacion");
    for field in ["familia_id", "familia_nombre", "representante"] {
        data[field] = carta[field].clone();
    }
    data
}

fn issue(dir: &Path, form: &str, data: &Value, name: &str) -> Output {
    let file = dir.join(name);
    std::fs::write(&file, data.to_string()).expect("data");
    sello(
        dir,
        &[
            "issue",
            form,
            "--firmaran-en-papel",
            "--data",
            file.to_str().expect("utf-8"),
            "--at",
            "2026-11-22",
            "--json",
            "--out",
            "d.pdf",
        ],
    )
}

#[test]
fn the_command_line_and_a_bulk_run_keep_the_carta_and_the_declaracion_apart() {
    let dir = tempfile::tempdir().expect("temp");
    let carta = example("carta-compromiso");
    let issued = issue(dir.path(), "carta-compromiso", &carta, "carta.json");
    assert_eq!(issued.status.code(), Some(0), "{}", text(&issued));
    let carta_folio = serde_json::from_slice::<Value>(&issued.stdout).expect("JSON")["folio"]
        .as_str()
        .expect("folio")
        .to_owned();

    let refused = issue(
        dir.path(),
        "declaracion-no-participacion",
        &declaracion_of(&carta),
        "d.json",
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains(&carta_folio) && text(&refused).contains("excluye"),
        "{}",
        text(&refused)
    );
    let mut elsewhere = example("plan-intervencion");
    elsewhere["familia_id"] = "FAM-13112-000777".into();
    let refused = issue(dir.path(), "plan-intervencion", &elsewhere, "p.json");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("va después de «Carta de Compromiso»"),
        "{}",
        text(&refused)
    );

    // A bulk run of cartas: the family that declared it does not take part
    // gets no Carta; the others do.
    let rows = crate::bulk::rows(3, &[]);
    let mut declared = declaracion_of(&carta);
    declared["familia_id"] = rows[1][2].clone().into();
    let issued = issue(dir.path(), "declaracion-no-participacion", &declared, "d2.json");
    assert_eq!(issued.status.code(), Some(0), "{}", text(&issued));
    let declaration = serde_json::from_slice::<Value>(&issued.stdout).expect("JSON")["folio"]
        .as_str()
        .expect("folio")
        .to_owned();
    std::fs::write(
        dir.path().join("familias.csv"),
        crate::bulk::csv_bytes(&rows, false),
    )
    .expect("csv");
    // A dry run already says so, and issues nothing.
    let dry = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "familias.csv",
            "--errors",
            "prueba.csv",
            "--at",
            "2026-11-22",
            "--dry-run",
        ],
    );
    assert_eq!(dry.status.code(), Some(2), "{}", text(&dry));
    let found = std::fs::read_to_string(dir.path().join("prueba.csv")).expect("report");
    assert!(
        found.contains("\n3;") && found.contains(&declaration) && found.matches(";;").count() == 1,
        "{found}"
    );
    let run = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "familias.csv",
            "--errors",
            "errores.csv",
            "--at",
            "2026-11-22",
        ],
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("2 documento(s) emitido(s)"), "{}", text(&run));
    let report = std::fs::read_to_string(dir.path().join("errores.csv")).expect("report");
    // One row refused: line 3 (the second family), naming the Declaración.
    let report = report.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    assert!(
        report.starts_with("linea;columna;problema;nombre\n3;"),
        "{report}"
    );
    assert_eq!(report.matches(";;").count(), 1, "{report}");
    assert!(
        report.contains(&declaration) && report.contains("excluye"),
        "{report}"
    );
}

async fn the_api_and_the_staff_app_keep_the_order_of_a_familys_expediente(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (firmante, _) = service.user("DIF-SLP", "jefa.api", Role::Firmante).await;
    let token = service.token(&firmante).await;
    let carta = example_now("carta-compromiso");
    let issued = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&token),
            Some(json!({"form": "carta-compromiso", "data": carta, "firmaran_en_papel": true})),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    let carta_folio = issued.json()["document"]["folio"]
        .as_str()
        .expect("folio")
        .to_owned();

    // The API, issuing in one go.
    let mut declaracion = declaracion_of(&carta);
    declaracion["fecha_declaracion"] = carta["fecha_firma"].clone();
    let refused = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&token),
            Some(json!({"form": "declaracion-no-participacion", "data": declaracion, "firmaran_en_papel": true})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    assert!(refused.text().contains(&carta_folio), "{}", refused.text());

    // The API, sending a draft on: a Plan for a family without a Carta.
    let mut plan = example_now("plan-intervencion");
    plan["familia_id"] = "FAM-13112-000778".into();
    let draft = crate::workflows::draft(&service, &token, "plan-intervencion", &plan).await;
    let answer = crate::workflows::step(
        &service,
        &token,
        draft,
        "submit",
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        answer.to_string().contains("va después de «Carta de Compromiso»"),
        "{answer}"
    );

    // The staff app: the Declaración sent from its entry form.
    let (_, password) = service.user("DIF-SLP", "apoyo.web", Role::Capturista).await;
    let mut browser = service.browser("apoyo.web", &password).await;
    let mut fields = crate::entry_fields::entry_fields(&declaracion);
    fields.push(("_accion".into(), "enviar".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = "/formularios/declaracion-no-participacion";
    let sent = browser.post(page, page, &pairs).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", sent.text());
    assert!(
        sent.text().contains(&carta_folio) && sent.text().contains("no enviado"),
        "{}",
        sent.text()
    );

    // A Plan that cites the Carta: each document's page links to the other.
    let mut plan = example_now("plan-intervencion");
    plan["carta_compromiso"] = json!(carta_folio);
    let cited = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&token),
            Some(json!({"form": "plan-intervencion", "data": plan, "firmaran_en_papel": true})),
        )
        .await;
    assert_eq!(cited.status, StatusCode::CREATED, "{}", cited.text());
    let plan_id = crate::public_id(&cited.json()["document"]["id"]);
    let plan_folio = cited.json()["document"]["folio"]
        .as_str()
        .expect("folio")
        .to_owned();
    let carta_id = crate::public_id(&issued.json()["document"]["id"]);
    let carta_page = browser.get(&format!("/documentos/{carta_id}")).await.text();
    assert!(
        carta_page.contains("Lo citan")
            && carta_page.contains(&format!("href=\"/documentos/{plan_id}\""))
            && carta_page.contains(&plan_folio),
        "{carta_page}"
    );
    let plan_page = browser.get(&format!("/documentos/{plan_id}")).await.text();
    assert!(
        plan_page.contains("Documentos que cita")
            && plan_page.contains(&format!("href=\"/documentos/{carta_id}\"")),
        "{plan_page}"
    );

    // Annulled, the Carta no longer blocks the Declaración.
    let annulled = service
        .api(
            "POST",
            &format!(
                "/api/v1/documents/{}/annul",
                crate::public_id(&issued.json()["document"]["id"])
            ),
            Some(&token),
            Some(json!({"reason": "La familia decidió no participar"})),
        )
        .await;
    assert_eq!(annulled.status, StatusCode::OK, "{}", annulled.text());
    let declared = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&token),
            Some(json!({"form": "declaracion-no-participacion", "data": declaracion, "firmaran_en_papel": true})),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.text());
}
crate::archive_conformance!(the_api_and_the_staff_app_keep_the_order_of_a_familys_expediente);
