//! The statistics (issue 25, point 3): documents issued and then annulled
//! or replaced are counted by form, month and state, through the API, its
//! CSV, the staff page's CSV and its SVG charts; another office's
//! documents are not.

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use chrono::TimeZone as _;
use sello::accounts::Role;
use sello::archive::Office;
use serde_json::{Value, json};

use crate::http::Service;
use crate::registros::issue_at;
use crate::{Fixture, archive_conformance};

/// (form, month, state) → documents.
type Counts = BTreeMap<(String, String, String), i64>;

fn key(form: &str, month: &str, state: &str) -> (String, String, String) {
    (form.to_owned(), month.to_owned(), state.to_owned())
}

/// The rows of a CSV of counts by office, form, title, month and state.
fn csv_counts(bytes: &[u8], office: &str) -> Counts {
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a BOM for Excel");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Oficina;Formulario;Título;Mes;Estado;Documentos")
    );
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(';').collect();
            assert_eq!(cells.len(), 6, "{line}");
            assert_eq!(cells[0], office, "{line}");
            (
                key(cells[1], cells[3], cells[4]),
                cells[5].parse().expect("a number"),
            )
        })
        .collect()
}

async fn documents_are_counted_by_form_month_and_state_for_the_office_only(fixture: &Fixture) {
    let zone = chrono_tz::America::Mexico_City;
    let october = zone
        .with_ymd_and_hms(2026, 10, 1, 10, 0, 0)
        .single()
        .expect("time");
    let mut resguardo = crate::example("oficio-ayuda-funcional");
    resguardo["fecha_inicio"] = json!("2026-10-01");
    issue_at(fixture, "oficio-ayuda-funcional", &resguardo, october).await;
    let mut comision = crate::example("oficio-comision");
    comision["fecha_evento"] = json!("2026-11-12");
    let comisiones = [
        issue_at(fixture, "oficio-comision", &comision, crate::at(10)).await,
        issue_at(fixture, "oficio-comision", &comision, crate::at(10)).await,
    ];
    let mut informes = Vec::new();
    for comuna in ["Cauquenes", "Cauquenes", "Talca"] {
        let mut informe = crate::example("informe-social");
        informe["comuna"] = json!(comuna);
        informes.push(fixture.issue("informe-social", &informe).await.folio);
    }
    fixture
        .archive
        .annul(&comisiones[0], "datos equivocados", "ana.lopez", None)
        .await
        .expect("annulled");
    fixture
        .archive
        .annul(&informes[0], "corrección", "ana.lopez", Some(&informes[2]))
        .await
        .expect("replaced");
    // Another office's documents, in the same months and comuna.
    let other = fixture.archive.for_office(Office::new("DIF-CER", "DIF Cerritos"));
    for _ in 0..2 {
        crate::issue_into(
            &other,
            &fixture.key,
            "informe-social",
            &crate::example("informe-social"),
            22,
            None,
        )
        .await
        .expect("issued in the other office");
    }

    let expected: Counts = [
        (key("informe-social", "2026-11", "emitido"), 2),
        (key("informe-social", "2026-11", "reemplazado"), 1),
        (key("oficio-ayuda-funcional", "2026-10", "emitido"), 1),
        (key("oficio-comision", "2026-11", "anulado"), 1),
        (key("oficio-comision", "2026-11", "emitido"), 1),
    ]
    .into_iter()
    .collect();

    let service = Service::new(fixture).await;
    let (user, password) = service.user("DIF-SLP", "capturista", Role::Capturista).await;
    let token = service.token(&user).await;
    let period = "desde=2026-10-01&hasta=2026-11-30";

    // The API: every row, and the sums.
    let answer = service
        .api(
            "GET",
            &format!("/api/v1/estadisticas?{period}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    let rows: Counts = body["filas"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            assert_eq!(row["oficina"], "DIF-SLP", "{row}");
            (
                key(
                    row["formulario"].as_str().expect("form"),
                    row["mes"].as_str().expect("month"),
                    row["estado"].as_str().expect("state"),
                ),
                row["documentos"].as_i64().expect("count"),
            )
        })
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(
        body["total"],
        json!({"emitidos": 4, "anulados": 1, "reemplazados": 1, "total": 6})
    );
    assert_eq!(body["oficinas"], json!(["DIF-SLP"]));
    let months: Vec<(&str, i64)> = body["por_mes"]
        .as_array()
        .expect("months")
        .iter()
        .map(|m| {
            (
                m["clave"].as_str().expect("month"),
                m["documentos"]["total"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(months, [("2026-10", 1), ("2026-11", 5)]);
    let comunas: Vec<(&str, &str, i64)> = body["por_territorio"]
        .as_array()
        .expect("territories")
        .iter()
        .map(|t| {
            (
                t["division"].as_str().expect("division"),
                t["nombre"].as_str().expect("name"),
                t["documentos"]["total"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(comunas, [("comuna", "Cauquenes", 2), ("comuna", "Talca", 1)]);

    // One form, and a period that leaves October out.
    let answer = service
        .api(
            "GET",
            "/api/v1/estadisticas?desde=2026-11-01&hasta=2026-11-30&formulario=informe-social",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["total"]["total"], 3);
    let answer = service
        .api(
            "GET",
            "/api/v1/estadisticas?desde=2026-11-30&hasta=2026-11-01",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.text().contains("desde"), "{}", answer.text());

    // The CSV of the API and the staff page's hold the same numbers.
    let answer = service
        .api(
            "GET",
            &format!("/api/v1/estadisticas/csv?{period}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(
        answer.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv"),
    );
    assert_eq!(csv_counts(&answer.bytes, "DIF-SLP"), expected);
    let mut browser = service.browser("capturista", &password).await;
    let staff_csv = browser
        .get(&format!("/estadisticas/documentos.csv?{period}"))
        .await;
    assert_eq!(staff_csv.status, StatusCode::OK);
    assert_eq!(csv_counts(&staff_csv.bytes, "DIF-SLP"), expected);
    let territories = browser
        .get(&format!("/estadisticas/territorios.csv?{period}"))
        .await
        .text();
    assert!(
        territories.contains("DIF-SLP;informe-social;") && territories.contains(";comuna;Talca;emitido;1"),
        "{territories}"
    );
    assert!(!territories.contains("DIF-CER"), "{territories}");

    // The page: its charts are images, and a table says the same.
    let page = browser.get(&format!("/estadisticas?{period}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("src=\"/estadisticas/por-mes.svg?desde=2026-10-01&amp;hasta=2026-11-30\""),
        "{html}"
    );
    assert!(html.contains("6 documento(s)"), "{html}");
    for chart in ["por-mes", "por-formulario"] {
        let answer = browser.get(&format!("/estadisticas/{chart}.svg?{period}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{chart}");
        assert_eq!(
            answer.headers[header::CONTENT_TYPE],
            "image/svg+xml; charset=utf-8"
        );
        let text = answer.text();
        let svg = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{chart}: {e}\n{text}"));
        let root = svg.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        let title = root
            .children()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap_or_default();
        assert!(title.starts_with("Documentos por"), "{title}");
        // One bar segment per form (or month) and state counted.
        let bars = root
            .children()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") != Some("#ffffff"))
            .count();
        let segments = if chart == "por-mes" { 1 + 3 } else { 2 + 2 + 1 };
        // The legend draws three more.
        assert_eq!(bars, segments + 3, "{chart}: {text}");
    }
    let refused = browser.get("/estadisticas/por-mes.svg?desde=ayer").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}
archive_conformance!(documents_are_counted_by_form_month_and_state_for_the_office_only);

/// A folio annulled while it was being issued was never a document.
async fn a_folio_whose_issuance_failed_is_not_counted(fixture: &Fixture) {
    let data: Value = crate::example("informe-social");
    fixture.issue("informe-social", &data).await;
    let order = crate::order("informe-social", &data, None, None);
    let failed = fixture
        .archive
        .issue(&order, |_| {
            Err(sello::signed_pdf::IssueError::Other(
                "el renderizador falló".into(),
            ))
        })
        .await;
    assert!(failed.is_err());
    let offices = vec!["DIF-SLP".to_owned()];
    let filter = sello::archive::statistics::CountFilter {
        offices: &offices,
        from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
        to: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
        form: None,
    };
    let counts = sello::archive::statistics::count_documents(fixture.archive.store(), &filter)
        .await
        .expect("counted");
    let counted: Vec<(&str, &str, i64)> = counts
        .iter()
        .map(|c| (c.form.as_str(), c.status.as_str(), c.documents))
        .collect();
    assert_eq!(counted, [("informe-social", "emitido", 1)]);
}
archive_conformance!(a_folio_whose_issuance_failed_is_not_counted);
