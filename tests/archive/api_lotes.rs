//! The whole job through the API: a lote uploaded, followed, its problems,
//! listado, merged PDF and padrón, with the staff page's roles; documents
//! and expedientes listed with a cursor that returns each exactly once
//! while others are being issued.

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sello::accounts::Role;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::Fixture;
use crate::http::{Service, service_config};

const OFFICE: &str = "DIF-SLP";

/// A lote upload as multipart/form-data.
pub(crate) fn lote_request(token: &str, fields: &[(&str, &str)], csv: &[u8]) -> Request<Body> {
    let boundary = "lote-api-Zq81mPw";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; filename=\"familias.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(csv);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::post("/api/v1/lotes")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request")
}

async fn a_lote_is_driven_entirely_through_the_api(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let (director, _) = service.user(OFFICE, "lotes.api", Role::Firmante).await;
    let (clerk, _) = service.user(OFFICE, "captura.api", Role::Capturista).await;
    let token = service.token(&director).await;
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(8, &[3]), false);
    let form = ("formulario", "carta-compromiso");

    // A capturista may not run lotes, as on the staff page.
    let clerk_token = service.token(&clerk).await;
    let refused = service
        .send(lote_request(&clerk_token, &[form, ("en_papel", "true")], &csv))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    // Cartas are signed by each family: issuing must say they sign on paper.
    let in_person = service.send(lote_request(&token, &[form], &csv)).await;
    assert_eq!(in_person.status, StatusCode::CONFLICT, "{}", in_person.text());
    assert!(in_person.text().contains("en_papel"), "{}", in_person.text());

    // A dry run checks every row and issues nothing.
    let dry = service
        .send(lote_request(&token, &[form, ("solo_validar", "true")], &csv))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text());
    let dry = dry.json();
    assert_eq!(
        (
            dry["total_rows"].clone(),
            dry["valid_rows"].clone(),
            dry["problems"].clone(),
            dry["finished"].clone()
        ),
        (json!(8), json!(0), json!(1), json!(true)),
        "{dry}"
    );
    let dry_problems = service
        .api(
            "GET",
            &format!("/api/v1/lotes/{}/problemas", dry["id"].as_str().expect("id")),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(dry_problems["problems"][0]["line"], 4, "{dry_problems}");
    assert_eq!(
        dry_problems["problems"][0]["column"],
        "representante.identificacion"
    );
    let search = service
        .api("GET", "/api/v1/search?form=carta-compromiso", Some(&token), None)
        .await;
    assert_eq!(search.json()["total"], 0, "a dry run issues nothing");

    let started = service
        .send(lote_request(&token, &[form, ("en_papel", "true")], &csv))
        .await;
    assert!(
        matches!(started.status, StatusCode::ACCEPTED | StatusCode::OK),
        "{}",
        started.text()
    );
    let lote = started.json();
    let id = lote["id"].as_str().expect("id").to_owned();
    assert_eq!(lote["valid_rows"], 7, "{lote}");
    let mut progress = lote;
    for _ in 0..600 {
        if progress["finished"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        progress = service
            .api("GET", &format!("/api/v1/lotes/{id}"), Some(&token), None)
            .await
            .json();
    }
    assert_eq!(progress["finished"], true, "{progress}");
    assert_eq!(
        (progress["done"].clone(), progress["documents"].clone()),
        (json!(7), json!(7))
    );
    assert_eq!(progress["failure"], Value::Null);

    let listed = service
        .api("GET", "/api/v1/lotes", Some(&token), None)
        .await
        .json();
    assert!(
        listed["lotes"]
            .as_array()
            .expect("lotes")
            .iter()
            .any(|l| l["id"] == id.as_str()),
        "{listed}"
    );
    let problems = service
        .api(
            "GET",
            &format!("/api/v1/lotes/{id}/problemas"),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(
        problems["problems"].as_array().expect("problems").len(),
        1,
        "{problems}"
    );
    let documents = service
        .api(
            "GET",
            &format!("/api/v1/lotes/{id}/documentos"),
            Some(&token),
            None,
        )
        .await
        .json();
    let documents = documents["documents"].as_array().expect("documents").clone();
    let lines: Vec<u64> = documents
        .iter()
        .map(|d| d["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(
        lines,
        vec![2, 3, 5, 6, 7, 8, 9],
        "row order, the bad row left out"
    );
    assert_eq!(documents[0]["folio"], "DIF-SLP/CA/2026/0001");
    assert!(
        documents[0]["verification_url"]
            .as_str()
            .expect("url")
            .contains("/v/"),
        "{documents:?}"
    );
    // Each listed document is in the archive, as the API shows it.
    let one = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}", documents[6]["id"].as_str().expect("id")),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["document"]["folio"], documents[6]["folio"]);

    let merged = service
        .api("GET", &format!("/api/v1/lotes/{id}/pdf"), Some(&token), None)
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text());
    assert_eq!(merged.headers[header::CONTENT_TYPE], "application/pdf");
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("lote.pdf");
    std::fs::write(&path, &merged.bytes).expect("write");
    crate::assert_qpdf_check(&path);
    let text = crate::pdf_text(&path);
    for i in [1, 2, 4, 5, 6, 7, 8] {
        assert!(
            text.contains(&format!("Ñandú {i}")),
            "family {i} in the merged PDF"
        );
    }

    let padron = service
        .api("POST", &format!("/api/v1/lotes/{id}/padron"), Some(&token), None)
        .await;
    assert_eq!(padron.status, StatusCode::OK, "{}", padron.text());
    let padron = padron.json();
    let again = service
        .api("POST", &format!("/api/v1/lotes/{id}/padron"), Some(&token), None)
        .await
        .json();
    assert_eq!(again["padron"], padron["padron"], "the same padrón, issued once");
    let tomo = padron["padron"][0]["id"].as_str().expect("tomo").to_owned();
    let tomo_doc = service
        .api("GET", &format!("/api/v1/documents/{tomo}"), Some(&token), None)
        .await
        .json();
    assert_eq!(tomo_doc["document"]["form"], sello::bulk::PADRON_FORM);
    let shown = service
        .api("GET", &format!("/api/v1/lotes/{id}"), Some(&token), None)
        .await
        .json();
    assert_eq!(shown["padron"], padron["padron"]);

    // Another office's caller does not find it; a capturista may not read it.
    service
        .state
        .accounts
        .create_office("DIF-LEJOS", "Lejos", "admin.lejos")
        .await
        .expect("office");
    let (far, _) = service
        .user("DIF-LEJOS", "firmante.lejos.api", Role::Firmante)
        .await;
    let far_token = service.token(&far).await;
    for uri in [
        format!("/api/v1/lotes/{id}"),
        format!("/api/v1/lotes/{id}/problemas"),
        format!("/api/v1/lotes/{id}/documentos"),
        format!("/api/v1/lotes/{id}/pdf"),
    ] {
        let answer = service.api("GET", &uri, Some(&far_token), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        let answer = service.api("GET", &uri, Some(&clerk_token), None).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri}");
    }
    let far_padron = service
        .api(
            "POST",
            &format!("/api/v1/lotes/{id}/padron"),
            Some(&far_token),
            None,
        )
        .await;
    assert_eq!(far_padron.status, StatusCode::NOT_FOUND);
}
crate::archive_conformance!(a_lote_is_driven_entirely_through_the_api);

/// Issues a carta for family `n` through the API, with its own expediente.
async fn issue_carta(app: axum::Router, token: String, n: usize) {
    let mut data = crate::example("carta-compromiso");
    data["familia_id"] = json!(format!("FAM-LISTA-{n:04}"));
    data["familia_nombre"] = json!(format!("Familia Lista {n}"));
    let body = json!({"form": "carta-compromiso", "data": data, "firmaran_en_papel": true});
    let request = Request::post("/api/v1/documents")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let answer = app.oneshot(request).await.expect("answers");
    assert_eq!(answer.status(), StatusCode::CREATED);
}

/// Follows a listing's cursor, `limit` at a time, until a page is short.
async fn page_through(
    service: &Service,
    token: &str,
    path: &str,
    key: &str,
    cursor: &mut String,
    seen: &mut Vec<String>,
) {
    loop {
        let separator = if path.contains('?') { '&' } else { '?' };
        let page = service
            .api(
                "GET",
                &format!("{path}{separator}limit=2&cursor={cursor}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let page = page.json();
        let items = page[key].as_array().expect("items").clone();
        seen.extend(
            items
                .iter()
                .map(|item| item["id"].as_str().expect("id").to_owned()),
        );
        *cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
        if items.len() < 2 {
            return;
        }
    }
}

async fn a_cursor_lists_every_document_exactly_once_while_more_are_issued(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (director, _) = service.user(OFFICE, "lista.api", Role::Firmante).await;
    let (reader, _) = service.user(OFFICE, "archivo.api", Role::Archivista).await;
    let token = service.token(&director).await;
    let reader_token = service.token(&reader).await;
    for n in 0..3 {
        issue_carta(service.app.clone(), token.clone(), n).await;
    }
    // Twelve more are issued, two at a time, while the archivist pages.
    let issuing = {
        let (app, token) = (service.app.clone(), token.clone());
        tokio::spawn(async move {
            for n in (3..15).step_by(2) {
                let (a, b) = (
                    issue_carta(app.clone(), token.clone(), n),
                    issue_carta(app.clone(), token.clone(), n + 1),
                );
                futures::join!(a, b);
            }
        })
    };
    let (mut documents, mut expedientes) = (Vec::new(), Vec::new());
    let (mut document_cursor, mut expediente_cursor) = (String::new(), String::new());
    while !issuing.is_finished() {
        page_through(
            &service,
            &reader_token,
            "/api/v1/documents?status=emitido",
            "documents",
            &mut document_cursor,
            &mut documents,
        )
        .await;
        page_through(
            &service,
            &reader_token,
            "/api/v1/expedientes",
            "expedientes",
            &mut expediente_cursor,
            &mut expedientes,
        )
        .await;
    }
    issuing.await.expect("issued");
    page_through(
        &service,
        &reader_token,
        "/api/v1/documents?status=emitido",
        "documents",
        &mut document_cursor,
        &mut documents,
    )
    .await;
    page_through(
        &service,
        &reader_token,
        "/api/v1/expedientes",
        "expedientes",
        &mut expediente_cursor,
        &mut expedientes,
    )
    .await;

    let unique: HashSet<&String> = documents.iter().collect();
    assert_eq!(unique.len(), documents.len(), "no document twice: {documents:?}");
    assert_eq!(documents.len(), 15, "every document once");
    let unique: HashSet<&String> = expedientes.iter().collect();
    assert_eq!(unique.len(), expedientes.len(), "no expediente twice");
    assert_eq!(expedientes.len(), 15, "one expediente per family");

    // Filters and bad parameters.
    let none = service
        .api(
            "GET",
            "/api/v1/documents?form=oficio-comision",
            Some(&reader_token),
            None,
        )
        .await
        .json();
    assert_eq!(none["documents"].as_array().expect("documents").len(), 0);
    for bad in [
        "cursor=abc",
        "limit=0",
        "limit=501",
        "from=ayer",
        "status=borrado",
        "expediente=123",
    ] {
        let answer = service
            .api(
                "GET",
                &format!("/api/v1/documents?{bad}"),
                Some(&reader_token),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // Another office lists nothing of this one.
    service
        .state
        .accounts
        .create_office("DIF-LEJOS", "Lejos", "admin.lejos")
        .await
        .expect("office");
    let (far, _) = service.user("DIF-LEJOS", "archivo.lejos", Role::Archivista).await;
    let far_token = service.token(&far).await;
    let theirs = service
        .api("GET", "/api/v1/documents", Some(&far_token), None)
        .await
        .json();
    assert_eq!(theirs["documents"].as_array().expect("documents").len(), 0);
}
crate::archive_conformance!(a_cursor_lists_every_document_exactly_once_while_more_are_issued);

/// How many documents (issued or reserved) the archive holds, and the
/// highest folio number taken in any series.
async fn taken(service: &Service) -> (i64, i64) {
    let pool = service.state.archive.store().pool();
    let documents: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents")
        .fetch_one(pool)
        .await
        .expect("documents");
    let folios: Option<i64> = sqlx::query_scalar("SELECT MAX(last_number) FROM folio_counters")
        .fetch_one(pool)
        .await
        .expect("folios");
    (documents, folios.unwrap_or(0))
}

/// The lote `id` as the API shows it to `token`, once it is finished.
pub(crate) async fn finished(service: &Service, token: &str, id: &str) -> Value {
    let mut progress = Value::Null;
    for _ in 0..600 {
        progress = service
            .api("GET", &format!("/api/v1/lotes/{id}"), Some(token), None)
            .await
            .json();
        if progress["finished"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    progress
}

async fn a_preparers_lote_waits_for_a_signer_who_approves_or_returns_it_through_the_api(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let (admin, _) = service.user(OFFICE, "admin.lotes", Role::Administrador).await;
    let (signer, _) = service.user(OFFICE, "firma.lotes", Role::Firmante).await;
    let (clerk, _) = service.user(OFFICE, "captura.lotes", Role::Capturista).await;
    let (reviewer, _) = service.user(OFFICE, "revisa.lotes", Role::Revisor).await;
    let (admin, signer, clerk, reviewer) = (
        service.token(&admin).await,
        service.token(&signer).await,
        service.token(&clerk).await,
        service.token(&reviewer).await,
    );
    let form = ("formulario", "carta-compromiso");
    let on_paper = ("en_papel", "true");
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(4, &[2]), false);
    let setting = "/api/v1/offices/DIF-SLP/lotes";

    // By default only who signs uploads lotes: a preparer is told why.
    let shown = service.api("GET", setting, Some(&clerk), None).await;
    assert_eq!(shown.json(), json!({"preparers_may_upload": false}));
    let refused = service.send(lote_request(&clerk, &[form, on_paper], &csv)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .expect("message")
            .contains("Su oficina no permite la emisión por lotes"),
        "{}",
        refused.text()
    );
    let listing = service.api("GET", "/api/v1/lotes", Some(&clerk), None).await;
    assert_eq!(listing.status, StatusCode::FORBIDDEN);

    // Only the office's administrator allows it; the change is audited.
    let allow = json!({"preparers_may_upload": true});
    for token in [&clerk, &signer] {
        let answer = service
            .api("PUT", setting, Some(token), Some(allow.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    }
    let other_office = service
        .api(
            "PUT",
            "/api/v1/offices/DIF-OTRA/lotes",
            Some(&admin),
            Some(allow.clone()),
        )
        .await;
    assert_eq!(other_office.status, StatusCode::FORBIDDEN);
    let allowed = service
        .api("PUT", setting, Some(&admin), Some(allow.clone()))
        .await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.text());
    assert_eq!(allowed.json(), allow);
    let changes: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, details FROM audit_events WHERE action = 'oficina.lotes_preparadores' ORDER BY seq",
    )
    .fetch_all(service.state.archive.store().pool())
    .await
    .expect("audit");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].0, "admin.lotes (API)");
    assert!(changes[0].1.contains("\"permitido\":true"), "{changes:?}");

    // The capturista's lote waits: nothing issued, no folio taken.
    let before = taken(&service).await;
    let sent = service.send(lote_request(&clerk, &[form, on_paper], &csv)).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text());
    let lote = sent.json();
    assert_eq!(lote["awaiting_approval"], true, "{lote}");
    assert_eq!(lote["prepared_by"], "captura.lotes");
    assert_eq!(lote["valid_rows"], 3);
    let id = lote["id"].as_str().expect("id").to_owned();
    assert_eq!(taken(&service).await, before, "a waiting lote takes nothing");

    // Who prepares documents cannot approve it, theirs or another's.
    for token in [&clerk, &reviewer] {
        let answer = service
            .api("POST", &format!("/api/v1/lotes/{id}/aprobar"), Some(token), None)
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    }
    assert_eq!(taken(&service).await, before);

    // The signer approves: its rows are issued, signed by them.
    let approved = service
        .api(
            "POST",
            &format!("/api/v1/lotes/{id}/aprobar"),
            Some(&signer),
            None,
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text());
    let approved = approved.json();
    assert_eq!(approved["awaiting_approval"], false, "{approved}");
    assert_eq!(approved["approved_by"], "firma.lotes");
    assert!(approved["approved_at"].is_string(), "{approved}");
    let again = service
        .api(
            "POST",
            &format!("/api/v1/lotes/{id}/aprobar"),
            Some(&signer),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "approved once");
    assert_eq!(again.json()["error"]["code"], "not_awaiting_approval");
    let done = finished(&service, &clerk, &id).await;
    assert_eq!(
        (done["finished"].clone(), done["documents"].clone()),
        (json!(true), json!(3)),
        "{done}"
    );
    let documents = service
        .api(
            "GET",
            &format!("/api/v1/lotes/{id}/documentos"),
            Some(&clerk),
            None,
        )
        .await
        .json();
    let first = &documents["documents"][0];
    let document = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}", first["id"].as_str().expect("id")),
            Some(&signer),
            None,
        )
        .await;
    assert_eq!(document.status, StatusCode::OK, "{}", document.text());
    assert_eq!(document.json()["document"]["folio"], first["folio"]);
    let trail: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, action FROM audit_events \
         WHERE action LIKE 'lote.%' OR action = 'documento.emitido' ORDER BY seq",
    )
    .fetch_all(service.state.archive.store().pool())
    .await
    .expect("trail");
    let expected: Vec<(String, String)> = [
        ("captura.lotes", "lote.enviado"),
        ("firma.lotes", "lote.aprobado"),
        ("firma.lotes", "documento.emitido"),
        ("firma.lotes", "documento.emitido"),
        ("firma.lotes", "documento.emitido"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(trail, expected, "who prepared, who approved and signed");
    // Printing and the padrón stay with who signs.
    let pdf = service
        .api("GET", &format!("/api/v1/lotes/{id}/pdf"), Some(&clerk), None)
        .await;
    assert_eq!(pdf.status, StatusCode::FORBIDDEN);

    // Sent back with a reason: finished, nothing issued, no folio taken.
    let other = crate::bulk::csv_bytes(&crate::bulk::rows(6, &[])[4..], false);
    let sent = service
        .send(lote_request(&clerk, &[form, on_paper], &other))
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text());
    let second = sent.json()["id"].as_str().expect("id").to_owned();
    let before = taken(&service).await;
    let back = format!("/api/v1/lotes/{second}/devolver");
    let by_clerk = service
        .api(
            "POST",
            &back,
            Some(&clerk),
            Some(json!({"motivo": "Me equivoqué"})),
        )
        .await;
    assert_eq!(by_clerk.status, StatusCode::FORBIDDEN);
    let blank = service
        .api("POST", &back, Some(&signer), Some(json!({"motivo": "  "})))
        .await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST, "{}", blank.text());
    let reason = "Faltan las familias de Peñalolén";
    let returned = service
        .api("POST", &back, Some(&signer), Some(json!({"motivo": reason})))
        .await;
    assert_eq!(returned.status, StatusCode::OK, "{}", returned.text());
    let returned = returned.json();
    assert_eq!(
        (
            returned["finished"].clone(),
            returned["awaiting_approval"].clone()
        ),
        (json!(true), json!(false)),
        "{returned}"
    );
    assert!(
        returned["failure"].as_str().expect("failure").contains(reason),
        "{returned}"
    );
    assert_eq!(returned["documents"], 0);
    let late = service
        .api(
            "POST",
            &format!("/api/v1/lotes/{second}/aprobar"),
            Some(&signer),
            None,
        )
        .await;
    assert_eq!(
        late.status,
        StatusCode::CONFLICT,
        "a lote sent back is not approved"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(taken(&service).await, before, "sent back takes no folio");
    let last: (String, String) = sqlx::query_as(
        "SELECT actor, action FROM audit_events WHERE action LIKE 'lote.%' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(service.state.archive.store().pool())
    .await
    .expect("trail");
    assert_eq!(last, ("firma.lotes".to_owned(), "lote.devuelto".to_owned()));

    // Forbidden again, the preparer no longer reaches lotes.
    let off = service
        .api(
            "PUT",
            setting,
            Some(&admin),
            Some(json!({"preparers_may_upload": false})),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    let hidden = service
        .api("GET", &format!("/api/v1/lotes/{id}"), Some(&clerk), None)
        .await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN);
}
crate::archive_conformance!(a_preparers_lote_waits_for_a_signer_who_approves_or_returns_it_through_the_api);
