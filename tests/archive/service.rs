//! The HTTP service, end to end through its router: log in, roles,
//! offices kept apart, CSRF, the staff pages, the JSON API and its
//! OpenAPI document, rate limits and metrics.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sello::accounts::{NewUser, Role};
use serde_json::{Value, json};

use crate::http::{Browser, Service, hidden_value, service_config};
use crate::{Fixture, example};

/// The posted fields of `oficio-comision`'s example, as the entry form names them.
pub fn example_fields(form: &str) -> Vec<(String, String)> {
    crate::entry_fields::entry_fields(&example(form))
}

pub fn as_refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

const OFFICE: &str = "DIF-SLP";

async fn the_first_run_creates_one_administrator_who_must_choose_a_password(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    // Service::new already ran it once: a second run creates nobody.
    let again = service
        .state
        .accounts
        .ensure_first_administrator((OFFICE, "DIF"))
        .await
        .expect("runs");
    assert!(again.is_none());
    let (admin, password) = service
        .state
        .accounts
        .create_user(
            OFFICE,
            &NewUser {
                username: "segunda".into(),
                display_name: "Segunda".into(),
                cargo: String::new(),
                role: Role::Administrador,
            },
        )
        .await
        .expect("user");
    assert!(admin.must_change_password);
    let mut browser = Browser {
        service: &service,
        cookies: HashMap::new(),
    };
    let answer = browser.login("segunda", &password).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/contrasena");
    let session = answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .find(|c| c.starts_with("sello_sesion="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    // Every page leads to the password change until it is done.
    let home = browser.get("/buscar").await;
    assert_eq!(home.location(), "/contrasena");
    let changed = browser
        .post(
            "/contrasena",
            "/contrasena",
            &[
                ("actual", &password),
                ("nueva", "una frase larga propia"),
                ("repetida", "una frase larga propia"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text());
    assert_eq!(browser.get("/buscar").await.status, StatusCode::OK);
}
crate::archive_conformance!(the_first_run_creates_one_administrator_who_must_choose_a_password);

async fn a_firmante_issues_from_the_entry_form_and_annuls_with_a_reason(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (_, password) = service.user(OFFICE, "directora", Role::Firmante).await;
    let mut browser = service.browser("directora", &password).await;

    let form_page = browser.get("/formularios/oficio-comision").await;
    assert_eq!(form_page.status, StatusCode::OK);
    let html = form_page.text();
    assert!(
        html.contains("name=\"comisionados[1].nombre\""),
        "a row input per column"
    );
    let key = hidden_value(&html, "_clave").expect("idempotency key");

    // Missing data: the page comes back with the problem next to the field.
    let answer = browser
        .post(
            "/formularios/oficio-comision",
            "/formularios/oficio-comision",
            &[
                ("_accion", "emitir"),
                ("_clave", &key),
                ("evento", "Capacitación"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer.text().contains("«Lugar de expedición» es obligatorio"),
        "{}",
        answer.text()
    );

    let mut fields = example_fields("oficio-comision");
    fields.push(("_accion".into(), "emitir".into()));
    fields.push(("_clave".into(), key.clone()));
    let issued = browser
        .post(
            "/formularios/oficio-comision",
            "/formularios/oficio-comision",
            &as_refs(&fields),
        )
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.text());
    let document_page = issued.location();
    // The same form sent twice issues one document.
    let again = browser
        .post(
            "/formularios/oficio-comision",
            "/formularios/oficio-comision",
            &as_refs(&fields),
        )
        .await;
    assert_eq!(again.location(), document_page);

    let page = browser.get(&document_page).await.text();
    assert!(
        page.contains("DIF-SLP/OF/2026/0001") || page.contains("/OF/"),
        "{page}"
    );
    let id: sello::public_id::PublicId = document_page
        .rsplit('/')
        .next()
        .expect("id")
        .parse()
        .expect("a public id");
    let record = fixture.archive.document(&id.to_string()).await.expect("archived");
    assert_eq!(record.status, "emitido");
    assert_eq!(record.issued_by, "directora");
    let signatures = fixture
        .archive
        .signatures(record.row_id)
        .await
        .expect("signatures");
    assert_eq!(signatures[0].signer, "Persona directora");

    let pdf = browser.get(&format!("{document_page}/pdf")).await;
    assert!(pdf.bytes.starts_with(b"%PDF"));

    // Annulling without the session's CSRF token changes nothing.
    let forged = browser
        .post_raw(&format!("{document_page}/anular"), &[("motivo", "falsificado")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let forged = browser
        .post_raw(
            &format!("{document_page}/anular"),
            &[("_csrf", "otro-token"), ("motivo", "falsificado")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        fixture
            .archive
            .document(&id.to_string())
            .await
            .expect("doc")
            .status,
        "emitido"
    );

    // Annulling cannot be undone: the first press asks to confirm and
    // changes nothing.
    let asked = browser
        .post(
            &document_page,
            &format!("{document_page}/anular"),
            &[("motivo", "Error en la fecha del evento")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.text());
    assert!(
        asked.text().contains("Sí, anular el documento"),
        "{}",
        asked.text()
    );
    assert_eq!(
        fixture
            .archive
            .document(&id.to_string())
            .await
            .expect("doc")
            .status,
        "emitido"
    );
    let annulled = browser
        .post(
            &document_page,
            &format!("{document_page}/anular"),
            &[("motivo", "Error en la fecha del evento"), ("confirmar", "si")],
        )
        .await;
    assert_eq!(annulled.status, StatusCode::SEE_OTHER, "{}", annulled.text());
    let record = fixture.archive.document(&id.to_string()).await.expect("doc");
    assert_eq!(record.status, "anulado");
    assert_eq!(
        record.annul_reason.as_deref(),
        Some("Error en la fecha del evento")
    );
}
crate::archive_conformance!(a_firmante_issues_from_the_entry_form_and_annuls_with_a_reason);

async fn each_role_may_do_only_its_part(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (_, capturista) = service.user(OFFICE, "capturista", Role::Capturista).await;
    let (_, archivista) = service.user(OFFICE, "archivista", Role::Archivista).await;
    let (_, firmante) = service.user(OFFICE, "firmante", Role::Firmante).await;
    let record = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let document_page = format!("/documentos/{}", record.id);

    // A capturista prepares a draft but cannot issue it or annul.
    let mut clerk = service.browser("capturista", &capturista).await;
    let mut fields = example_fields("carta-compromiso");
    fields.push(("_accion".into(), "guardar".into()));
    let saved = clerk
        .post(
            "/formularios/carta-compromiso",
            "/formularios/carta-compromiso",
            &as_refs(&fields),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let draft_page = saved.location();
    assert!(draft_page.starts_with("/borradores/"));
    let mut issue = example_fields("carta-compromiso");
    issue.push(("_accion".into(), "emitir".into()));
    let refused = clerk
        .post(
            "/formularios/carta-compromiso",
            "/formularios/carta-compromiso",
            &as_refs(&issue),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = clerk
        .post(
            &document_page,
            &format!("{document_page}/anular"),
            &[("motivo", "no")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(clerk.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        clerk
            .get(&format!("/expedientes/{}/exportar", record.expediente_id))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // The firmante sees the draft on the home page, read-only: only its
    // drafter changes it or sends it on.
    let mut director = service.browser("firmante", &firmante).await;
    assert!(director.get("/").await.text().contains(&draft_page));
    let html = director.get(&draft_page).await.text();
    let draft_id = draft_page.rsplit('/').next().expect("id").to_owned();
    assert_eq!(
        hidden_value(&html, "_borrador"),
        None,
        "no edit form for a reviewer"
    );
    issue.push(("_borrador".into(), draft_id.clone()));
    let refused = director
        .post(&draft_page, "/formularios/carta-compromiso", &as_refs(&issue))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    // The clerk sends it, the family signs on paper, the firmante signs.
    let mut send = example_fields("carta-compromiso");
    send.push(("_accion".into(), "enviar".into()));
    send.push(("_borrador".into(), draft_id.clone()));
    let sent = clerk
        .post(&draft_page, "/formularios/carta-compromiso", &as_refs(&send))
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let on_paper = clerk
        .post(
            &draft_page,
            &format!("{draft_page}/paso"),
            &[("_accion", "papel"), ("motivo", "")],
        )
        .await;
    assert_eq!(on_paper.status, StatusCode::SEE_OTHER, "{}", on_paper.text());
    let issued = director
        .post(
            &draft_page,
            &format!("{draft_page}/paso"),
            &[("_accion", "firmar"), ("motivo", "")],
        )
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.text());
    assert!(issued.location().starts_with("/documentos/"));
    // An issued draft leads to its document and leaves the pending list.
    assert_eq!(director.get(&draft_page).await.location(), issued.location());
    assert!(!director.get("/").await.text().contains(&draft_page));
    assert_eq!(director.get("/admin").await.status, StatusCode::FORBIDDEN);

    // An archivista searches and exports, and changes nothing.
    let mut archivist = service.browser("archivista", &archivista).await;
    assert_eq!(archivist.get("/formularios").await.status, StatusCode::FORBIDDEN);
    let found = archivist.get("/buscar?q=comision").await;
    assert!(found.text().contains(&record.folio), "{}", found.text());
    let export = archivist
        .get(&format!("/expedientes/{}/exportar", record.expediente_id))
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.bytes.starts_with(b"PK"));
    let refused = archivist
        .post(
            &document_page,
            &format!("{document_page}/anular"),
            &[("motivo", "no")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        fixture.archive.document(&record.folio).await.expect("doc").status,
        "emitido"
    );
}
crate::archive_conformance!(each_role_may_do_only_its_part);

async fn an_office_never_sees_another_offices_documents(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let record = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    service
        .state
        .accounts
        .create_office("DIF-OTRA", "Otra oficina", "admin.otra")
        .await
        .expect("office");
    let (mine, mine_password) = service.user(OFFICE, "local", Role::Administrador).await;
    let (other, other_password) = service.user("DIF-OTRA", "ajena", Role::Administrador).await;

    let mut local = service.browser("local", &mine_password).await;
    assert_eq!(
        local.get(&format!("/documentos/{}", record.id)).await.status,
        StatusCode::OK
    );

    let mut stranger = service.browser("ajena", &other_password).await;
    for page in [
        format!("/documentos/{}", record.id),
        format!("/documentos/{}", record.folio.replace('/', "%2F")),
        format!("/documentos/{}/pdf", record.id),
        format!("/expedientes/{}", record.expediente_id),
        format!("/expedientes/{}/exportar", record.expediente_id),
    ] {
        let answer = stranger.get(&page).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{page}");
        assert!(!answer.text().contains("Lucía"), "{page} leaks data");
    }
    let search = stranger.get("/buscar?q=Lucia").await.text();
    assert!(search.contains("0 documento(s)"), "{search}");
    let annul = stranger
        .post(
            "/",
            &format!("/documentos/{}/anular", record.id),
            &[("motivo", "ajeno"), ("confirmar", "si")],
        )
        .await;
    assert_eq!(annul.status, StatusCode::NOT_FOUND);
    // The other office's administrator cannot touch this office's users.
    let reset = stranger
        .post(
            "/admin",
            &format!("/admin/usuarios/{}/contrasena", mine.public_id),
            &[],
        )
        .await;
    assert_eq!(reset.status, StatusCode::NOT_FOUND);

    // Offices and keys are the installation's: another office's administrator
    // neither sees nor touches them.
    assert!(!stranger.get("/admin").await.text().contains("Rotar la clave"));
    let rotate = stranger.post("/admin", "/admin/claves/rotar", &[]).await;
    assert_eq!(rotate.status, StatusCode::FORBIDDEN);
    let office = stranger
        .post(
            "/admin",
            "/admin/oficinas",
            &[("clave", "DIF-X"), ("nombre", "X"), ("administrador", "x.admin")],
        )
        .await;
    assert_eq!(office.status, StatusCode::FORBIDDEN);

    let token = service.token(&other).await;
    for uri in [
        format!("/api/v1/documents/{}", record.id),
        format!("/api/v1/documents/{}/pdf", record.id),
        format!("/api/v1/expedientes/{}", record.expediente_id),
    ] {
        let answer = service.api("GET", &uri, Some(&token), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.json()["error"]["code"], "not_found");
    }
    let annul = service
        .api(
            "POST",
            &format!("/api/v1/documents/{}/annul", record.id),
            Some(&token),
            Some(json!({"reason": "ajeno"})),
        )
        .await;
    assert_eq!(annul.status, StatusCode::NOT_FOUND);
    let search = service
        .api("GET", "/api/v1/search?q=Lucia", Some(&token), None)
        .await;
    assert_eq!(search.json()["total"], 0);
    assert_eq!(
        fixture.archive.document(&record.folio).await.expect("doc").status,
        "emitido"
    );
    // What the other office issues carries its own folio and letterhead.
    let (issuer, _) = service.user("DIF-OTRA", "firmante.otra", Role::Firmante).await;
    let issuer_token = service.token(&issuer).await;
    let theirs = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&issuer_token),
            Some(json!({"form": "oficio-comision", "data": example("oficio-comision")})),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text());
    let theirs = theirs.json();
    assert!(
        theirs["document"]["folio"]
            .as_str()
            .expect("folio")
            .starts_with("DIF-OTRA/OF/"),
        "{theirs}"
    );
    let pdf = service
        .api(
            "GET",
            &format!(
                "/api/v1/documents/{}/pdf",
                crate::public_id(&theirs["document"]["id"])
            ),
            Some(&issuer_token),
            None,
        )
        .await;
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(dir.path().join("d.pdf"), &pdf.bytes).expect("write");
    let text = std::process::Command::new("pdftotext")
        .arg(dir.path().join("d.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Otra oficina"),
        "the letterhead names the issuing office:\n{text}"
    );
    let public = service
        .api(
            "GET",
            &format!("/api/v1/verification/{}", theirs["code"].as_str().expect("code")),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(public["office_name"], "Otra oficina");

    let mine_token = service.token(&mine).await;
    let answer = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}", record.id),
            Some(&mine_token),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}
crate::archive_conformance!(an_office_never_sees_another_offices_documents);

async fn the_api_issues_once_per_idempotency_key_and_answers_errors_in_one_envelope(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (firmante, _) = service.user(OFFICE, "integracion", Role::Firmante).await;
    let (archivista, _) = service.user(OFFICE, "consulta", Role::Archivista).await;
    let token = service.token(&firmante).await;

    let none = service.api("GET", "/api/v1/forms", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.json()["error"]["code"], "unauthenticated");
    let wrong = service
        .api("GET", "/api/v1/forms", Some("sello_inventado"), None)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    let forms = service
        .api("GET", "/api/v1/forms", Some(&token), None)
        .await
        .json();
    assert!(
        forms
            .as_array()
            .expect("list")
            .iter()
            .any(|f| f["id"] == "oficio-comision")
    );
    let schema = service
        .api("GET", "/api/v1/forms/oficio-comision", Some(&token), None)
        .await
        .json();
    assert_eq!(schema["form"]["fields"][0]["name"], "lugar_expedicion");

    let body = json!({"form": "oficio-comision", "data": example("oficio-comision")});
    let issue = |key: &'static str, body: Value, token: String| {
        let service = &service;
        async move {
            let request = Request::post("/api/v1/documents")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("idempotency-key", key)
                .body(Body::from(body.to_string()))
                .expect("request");
            service.send(request).await
        }
    };
    let first = issue("pedido-1", body.clone(), token.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let first = first.json();
    assert_eq!(first["new"], true);
    let again = issue("pedido-1", body.clone(), token.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["document"]["id"], first["document"]["id"]);
    assert_eq!(again.json()["code"], first["code"]);

    let mut changed = body.clone();
    changed["data"]["evento"] = json!("Otro evento");
    let conflict = issue("pedido-1", changed, token.clone()).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.json()["error"]["code"], "conflict");

    let mut invalid = body.clone();
    invalid["data"]["fecha_evento"] = json!("3 de diciembre");
    let invalid = issue("pedido-2", invalid, token.clone()).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problems = &invalid.json()["error"]["problems"];
    assert_eq!(problems[0]["path"], "fecha_evento", "{problems}");

    let malformed = service
        .send(
            Request::post("/api/v1/documents")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{no es json"))
                .expect("request"),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"]["code"], "bad_request");

    let reader = service.token(&archivista).await;
    let refused = issue("pedido-3", body.clone(), reader.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"]["code"], "forbidden");

    let id = crate::public_id(&first["document"]["id"]);
    let got = service
        .api("GET", &format!("/api/v1/documents/{id}"), Some(&reader), None)
        .await
        .json();
    assert_eq!(got["data"]["evento"], example("oficio-comision")["evento"]);
    assert_eq!(got["signatures"][0]["signer"], "Persona integracion");
    let pdf = service
        .api("GET", &format!("/api/v1/documents/{id}/pdf"), Some(&reader), None)
        .await;
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(
        sello::archive::sha256_hex(&pdf.bytes),
        got["document"]["pdf_sha256"].as_str().expect("sha")
    );
    let expediente = crate::public_id(&got["document"]["expediente_id"]);
    let file = service
        .api(
            "GET",
            &format!("/api/v1/expedientes/{expediente}"),
            Some(&reader),
            None,
        )
        .await
        .json();
    assert_eq!(file["documents"][0]["id"], id.to_string());
    let found = service
        .api(
            "GET",
            "/api/v1/search?q=capacitacion&status=emitido",
            Some(&reader),
            None,
        )
        .await
        .json();
    assert_eq!(found["total"], 1);
    let bad = service
        .api("GET", "/api/v1/search?from=ayer", Some(&reader), None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .expect("text")
            .starts_with("from:")
    );

    let public = service
        .api(
            "GET",
            &format!("/api/v1/verification/{}", first["code"].as_str().expect("code")),
            None,
            None,
        )
        .await;
    assert_eq!(public.json()["status"], "emitido");
    assert!(!public.text().contains("Lucía"), "no personal data");

    let annul = service
        .api(
            "POST",
            &format!("/api/v1/documents/{id}/annul"),
            Some(&reader),
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(annul.status, StatusCode::FORBIDDEN);
    let annul = service
        .api(
            "POST",
            &format!("/api/v1/documents/{id}/annul"),
            Some(&token),
            Some(json!({"reason": ""})),
        )
        .await;
    assert_eq!(annul.status, StatusCode::CONFLICT);
    let annul = service
        .api(
            "POST",
            &format!("/api/v1/documents/{id}/annul"),
            Some(&token),
            Some(json!({"reason": "Datos del vehículo"})),
        )
        .await;
    assert_eq!(annul.status, StatusCode::OK, "{}", annul.text());
    assert_eq!(annul.json()["status"], "anulado");

    // What axum answers by itself comes in the envelope too.
    let wrong_method = service.api("DELETE", "/api/v1/forms", Some(&token), None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.json()["error"]["code"], "method_not_allowed");
    let not_json = service
        .send(
            Request::post("/api/v1/documents")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("hola"))
                .expect("request"),
        )
        .await;
    assert_eq!(not_json.status.as_u16() / 100, 4);
    assert!(
        not_json.json()["error"]["code"].is_string(),
        "{}",
        not_json.text()
    );
    let unknown = service.api("GET", "/api/v1/nada", Some(&token), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"]["code"], "not_found");
}
crate::archive_conformance!(the_api_issues_once_per_idempotency_key_and_answers_errors_in_one_envelope);

async fn the_openapi_document_lists_every_api_route(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let document = service
        .api("GET", "/api/v1/openapi.json", None, None)
        .await
        .json();
    let paths: Vec<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    for route in [
        "/api/v1/forms",
        "/api/v1/forms/{id}",
        "/api/v1/documents",
        "/api/v1/documents/{reference}",
        "/api/v1/documents/{reference}/pdf",
        "/api/v1/documents/{reference}/annul",
        "/api/v1/expedientes/{id}",
        "/api/v1/search",
        "/api/v1/verification/{code}",
    ] {
        assert!(paths.contains(&route), "{route} missing from {paths:?}");
    }
    // And every path it lists answers something other than the router's 404.
    let (user, _) = service.user(OFFICE, "lector", Role::Archivista).await;
    let token = service.token(&user).await;
    for path in &paths {
        let uri = path
            .replace("{id}", "1")
            .replace("{reference}", "1")
            .replace("{code}", "X");
        let method = if document["paths"][path].get("get").is_some() {
            "GET"
        } else {
            "POST"
        };
        let answer = service.api(method, &uri, Some(&token), Some(json!({}))).await;
        let routed = answer.status != StatusCode::NOT_FOUND
            || answer.json()["error"]["message"] != "no existe esa ruta de la API";
        assert!(routed, "{method} {uri} is not routed");
    }
}
crate::archive_conformance!(the_openapi_document_lists_every_api_route);

async fn verification_lookups_are_rate_limited_and_counted(fixture: &Fixture) {
    let config = service_config(&[("SELLO_LOOKUPS_PER_MINUTE", "8")]);
    let service = Service::with_config(fixture, config).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(service.api("GET", "/v/AAAA-AAAA-AAAA", None, None).await.status);
    }
    // A burst of a quarter of the minute's quota, then 429 with Retry-After.
    assert_eq!(statuses[..2], [StatusCode::NOT_FOUND, StatusCode::NOT_FOUND]);
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
    let limited = service
        .api("GET", "/api/v1/verification/AAAA-AAAA-AAAA", None, None)
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers[header::RETRY_AFTER], "60");
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    // Staff pages are not limited.
    assert_eq!(
        service.api("GET", "/entrar", None, None).await.status,
        StatusCode::OK
    );

    fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let (user, _) = service.user(OFFICE, "metricas", Role::Firmante).await;
    let token = service.token(&user).await;
    let issued = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&token),
            Some(json!({"form": "oficio-estrella-blanca", "data": example("oficio-estrella-blanca")})),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    let metrics = service.api("GET", "/metrics", None, None).await.text();
    assert!(
        metrics.contains("sello_documents_issued_total{form=\"oficio-estrella-blanca\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("sello_render_seconds_count 1"), "{metrics}");
    assert!(
        metrics.contains("sello_verification_lookups_total{outcome=\"limitado\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sello_verification_lookups_total{outcome=\"no_encontrado\"} 2"),
        "{metrics}"
    );
}
crate::archive_conformance!(verification_lookups_are_rate_limited_and_counted);

async fn login_failures_lock_the_account_for_a_while(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (_, password) = service.user(OFFICE, "olvidadiza", Role::Capturista).await;
    let mut browser = Browser {
        service: &service,
        cookies: HashMap::new(),
    };
    for _ in 0..5 {
        let answer = browser.login("olvidadiza", "no es la contraseña").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(answer.text().contains("Usuario o contraseña incorrectos"));
    }
    let locked = browser.login("olvidadiza", &password).await;
    assert!(
        !locked
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().expect("ascii").starts_with("sello_sesion=")),
        "the right password does not open a locked account"
    );
    // A locked account gets the same answer as an unknown user: nothing
    // tells which usernames exist.
    // (Seven attempts in all: the per-connection limit allows a burst of 7.)
    let unknown = browser.login("nadie", "no es la contraseña").await;
    assert_eq!(unknown.status, locked.status);
    assert_eq!(without_guard(&unknown.text()), without_guard(&locked.text()));
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert!(locked.text().contains("Usuario o contraseña incorrectos"));
    assert!(!locked.text().contains("con este usuario"));
    // A login form posted from elsewhere (without the guard cookie) is refused.
    let mut elsewhere = Browser {
        service: &service,
        cookies: HashMap::new(),
    };
    let forged = elsewhere
        .post_raw(
            "/entrar",
            &[
                ("usuario", "olvidadiza"),
                ("contrasena", &password),
                ("guardia", "x"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}
crate::archive_conformance!(login_failures_lock_the_account_for_a_while);

/// A login page with its one-time guard token blanked out.
fn without_guard(page: &str) -> String {
    let marker = "name=\"guardia\" value=\"";
    match page.split_once(marker) {
        Some((before, after)) => {
            let rest = after.split_once('"').map_or("", |(_, rest)| rest);
            format!("{before}{marker}\"{rest}")
        }
        None => page.to_owned(),
    }
}

async fn an_administrator_manages_users_tokens_and_the_signing_key(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let config = service_config(&[("SELLO_DATA_DIR", &data_path)]);
    let (key, _) = sello::keys::office_key(&config).expect("key");
    let first_key = key.key_id.to_string();
    let trusted = sello::keys::trusted_keys(&config).expect("trusted");
    let service = Service::build(fixture, config, Arc::new(key), trusted).await;
    let (_, password) = service.user(OFFICE, "jefa", Role::Administrador).await;
    let mut admin = service.browser("jefa", &password).await;

    // A new user gets a one-time password, shown once, and must change it.
    let created = admin
        .post(
            "/admin",
            "/admin/usuarios",
            &[
                ("usuario", "Nuevo.Firmante"),
                ("nombre", "Ana Ruiz"),
                ("cargo", "Directora"),
                ("rol", "firmante"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let html = created.text();
    let start =
        html.find("<code class=\"secreto\">").expect("password shown") + "<code class=\"secreto\">".len();
    let one_time = html[start..start + 24].to_owned();
    let mut newcomer = Browser {
        service: &service,
        cookies: HashMap::new(),
    };
    let login = newcomer.login("nuevo.firmante", &one_time).await;
    assert_eq!(login.location(), "/contrasena");
    let duplicate = admin
        .post(
            "/admin",
            "/admin/usuarios",
            &[
                ("usuario", "nuevo.firmante"),
                ("nombre", "Otra"),
                ("cargo", ""),
                ("rol", "capturista"),
            ],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(duplicate.text().contains("ya existe"));

    // Deactivating ends the user's session at once.
    let user = service
        .state
        .accounts
        .user_by_username("nuevo.firmante")
        .await
        .expect("user");
    let changed = admin
        .post(
            "/admin",
            &format!("/admin/usuarios/{}", user.public_id),
            &[
                ("nombre", "Ana Ruiz"),
                ("cargo", "Directora"),
                ("rol", "firmante"),
                ("activo", "no"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert!(
        newcomer
            .get("/contrasena")
            .await
            .location()
            .starts_with("/entrar")
    );
    assert_eq!(
        newcomer.login("nuevo.firmante", &one_time).await.status,
        StatusCode::UNAUTHORIZED
    );
    // An administrator cannot lock themselves out.
    let me = service.state.accounts.user_by_username("jefa").await.expect("me");
    let refused = admin
        .post(
            "/admin",
            &format!("/admin/usuarios/{}", me.public_id),
            &[
                ("nombre", "Jefa"),
                ("cargo", ""),
                ("rol", "capturista"),
                ("activo", "si"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Tokens: created on the account page, shown once, revoked at once.
    let page = admin
        .post("/cuenta", "/cuenta/tokens", &[("nombre", "Padrón estatal")])
        .await
        .text();
    let start = page.find("sello_").expect("token shown");
    let token = page[start..].split('<').next().expect("token").to_owned();
    assert_eq!(
        service
            .api("GET", "/api/v1/forms", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    let listed = service.state.accounts.tokens(me.id).await.expect("tokens");
    let revoked = admin
        .post(
            "/cuenta",
            &format!("/cuenta/tokens/{}/revocar", listed[0].id),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        service
            .api("GET", "/api/v1/forms", Some(&token), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // The name and cargo one signs with are set by an administrator, and audited.
    let saved = admin
        .post(
            "/admin",
            &format!("/admin/usuarios/{}", me.public_id),
            &[
                ("nombre", "Mtra. Guadalupe Torres"),
                ("cargo", "Directora General"),
                ("rol", "administrador"),
                ("activo", "si"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'usuario.%'")
        .fetch_one(fixture.archive.store().pool())
        .await
        .expect("count");
    assert_eq!(events, 3, "created, deactivated, renamed");

    // Rotation: the old key retires, the new one signs, both verify.
    let before = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let rotated = admin.post("/admin", "/admin/claves/rotar", &[]).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    let new_key = service.state.issuer.key().key_id.to_string();
    assert_ne!(new_key, first_key);
    let keys = service.state.trusted();
    assert_eq!(keys.iter().count(), 2);
    assert!(rotated.text().contains(&first_key) && rotated.text().contains("retirada desde"));
    // The root's CRL, at the address the certificates name, lists the old key.
    let root = keys.authorities().next().expect("the installation's root");
    let crl_uri = format!("/crl/{}.crl", root.key_id);
    let crl = service.api("GET", &crl_uri, None, None).await;
    assert_eq!(crl.status, StatusCode::OK);
    assert_eq!(crl.headers[header::CONTENT_TYPE], "application/pkix-crl");
    let published =
        <x509_cert::crl::CertificateList as der::Decode>::from_der(&crl.bytes).expect("a DER CRL");
    let old_certificate = &keys
        .iter()
        .find(|k| k.key_id.to_string() == first_key)
        .expect("old key")
        .certificate;
    let revocation =
        sello::keys::revocation_of(&published, old_certificate.tbs_certificate().serial_number())
            .expect("the old key is listed");
    assert_eq!(revocation.reason, sello::keys::RevocationReason::Superseded);
    assert_eq!(
        service
            .api("GET", "/crl/0123456789abcdef.crl", None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        service.api("GET", "/crl/..%2Fclave.pem", None, None).await.status,
        StatusCode::NOT_FOUND
    );
    let mut fields = example_fields("oficio-comision");
    fields.push(("_accion".into(), "emitir".into()));
    let issued = admin
        .post(
            "/formularios/oficio-comision",
            "/formularios/oficio-comision",
            &as_refs(&fields),
        )
        .await;
    let id = issued.location().rsplit('/').next().expect("id").to_owned();
    let signatures = fixture
        .archive
        .signatures(fixture.archive.document(&id).await.expect("doc").row_id)
        .await
        .expect("signatures");
    assert_eq!(signatures[0].key_id, new_key);
    assert_eq!(signatures[0].signer, "Mtra. Guadalupe Torres");
    assert_eq!(signatures[0].cargo, "Directora General");
    let pdf = fixture
        .archive
        .pdf(&fixture.archive.document(&id).await.expect("doc"))
        .await
        .expect("pdf");
    assert!(sello::pdf::verify_pdf(&pdf, &keys).expect("verifies").is_valid());
    let old_pdf = fixture.archive.pdf(&before).await.expect("pdf");
    let old = sello::pdf::verify_pdf(&old_pdf, &keys).expect("verifies");
    assert_eq!(
        old.signatures.len(),
        1,
        "the fixture's key is not this installation's: its signature is reported, not trusted"
    );
    // The retired key stays trusted after a restart, from the data folder.
    let reloaded = sello::keys::trusted_keys(&service.state.config).expect("trusted");
    assert!(
        reloaded.iter().any(|k| k.key_id.to_string() == first_key
            && matches!(k.status, sello::keys::KeyStatus::Retired { .. }))
    );
}
crate::archive_conformance!(an_administrator_manages_users_tokens_and_the_signing_key);

async fn every_staff_page_answers_and_logout_ends_the_session(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let record = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let (_, password) = service.user(OFFICE, "todo", Role::Administrador).await;
    let mut browser = service.browser("todo", &password).await;
    for page in [
        "/".to_owned(),
        "/formularios".to_owned(),
        "/formularios/padron-beneficiarios".to_owned(),
        format!("/documentos/{}", record.id),
        format!("/expedientes/{}", record.expediente_id),
        "/buscar?q=&status=emitido&from=2026-01-01".to_owned(),
        "/admin".to_owned(),
        "/cuenta".to_owned(),
        "/contrasena".to_owned(),
    ] {
        let answer = browser.get(&page).await;
        assert_eq!(answer.status, StatusCode::OK, "{page}");
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store", "{page}");
        assert!(
            answer.headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("csp")
                .contains("frame-ancestors 'none'")
        );
        assert!(answer.text().contains("<html lang=\"es\">"), "{page}");
    }
    let css = browser.get("/estilo.css").await;
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(service.api("GET", "/healthz", None, None).await.text(), "ok");
    assert_eq!(
        browser.get("/documentos/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser.get("/formularios/no-existe").await.status,
        StatusCode::NOT_FOUND
    );
    let bad_filter = browser.get("/buscar?from=ayer").await;
    assert!(
        bad_filter.text().contains("from: «ayer» no es una fecha"),
        "{}",
        bad_filter.text()
    );

    // «Más filas» offers more rows of that table, keeping what was typed.
    let more = browser
        .post(
            "/formularios/padron-beneficiarios",
            "/formularios/padron-beneficiarios",
            &[
                ("_accion", "filas:beneficiarios"),
                ("beneficiarios[1].nombre", "Ana *Negritas* #read(\"/etc/passwd\")"),
            ],
        )
        .await
        .text();
    assert!(
        more.contains("name=\"beneficiarios[9].nombre\""),
        "eight more rows"
    );
    assert!(
        more.contains("value=\"Ana *Negritas* #read(&quot;/etc/passwd&quot;)\""),
        "kept, escaped"
    );

    // The preview is a PDF without folio or signature.
    let mut fields = example_fields("oficio-comision");
    fields.push(("_accion".into(), "vista_previa".into()));
    let preview = browser
        .post(
            "/formularios/oficio-comision",
            "/formularios/oficio-comision",
            &as_refs(&fields),
        )
        .await;
    assert_eq!(preview.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(preview.bytes.starts_with(b"%PDF"));
    assert!(
        !preview.bytes.windows(9).any(|w| w == b"/ByteRange"),
        "a preview is not signed"
    );

    // A new office, with its administrator, from the administration page.
    let created = browser
        .post(
            "/admin",
            "/admin/oficinas",
            &[
                ("clave", "dif-norte"),
                ("nombre", "DIF Zona Norte"),
                ("administrador", "admin.norte"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let norte = service
        .state
        .accounts
        .user_by_username("admin.norte")
        .await
        .expect("user");
    assert_eq!(norte.office_code, "DIF-NORTE");
    assert_eq!(norte.role, Role::Administrador);

    let logout = browser.post("/", "/salir", &[]).await;
    assert_eq!(logout.location(), "/entrar");
    assert!(browser.get("/").await.location().starts_with("/entrar"));
}
crate::archive_conformance!(every_staff_page_answers_and_logout_ends_the_session);

async fn a_draft_is_issued_once_and_parallel_guesses_do_not_outrun_the_lock(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (_, password) = service.user(OFFICE, "dos.pestanas", Role::Firmante).await;
    let mut first = service.browser("dos.pestanas", &password).await;
    let mut fields = example_fields("carta-compromiso");
    fields.push(("_accion".into(), "guardar".into()));
    let draft_page = first
        .post(
            "/formularios/carta-compromiso",
            "/formularios/carta-compromiso",
            &as_refs(&fields),
        )
        .await
        .location();
    let draft_id = draft_page.rsplit('/').next().expect("id").to_owned();
    // Two tabs open on the draft, each with its own page key, both issue.
    let mut second = service.browser("dos.pestanas", &password).await;
    let mut issue = example_fields("carta-compromiso");
    issue.push(("_accion".into(), "emitir".into()));
    issue.push(("_borrador".into(), draft_id.clone()));
    let a = first
        .post(&draft_page, "/formularios/carta-compromiso", &as_refs(&issue))
        .await;
    // The second tab's page was loaded before the first issued.
    let b = second
        .post(
            "/formularios/carta-compromiso",
            "/formularios/carta-compromiso",
            &as_refs(&issue),
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    assert_eq!(a.location(), b.location(), "one document from one draft");
    // A draft of one form cannot be saved or issued as another.
    let mut other = example_fields("oficio-comision");
    other.push(("_accion".into(), "guardar".into()));
    other.push(("_borrador".into(), draft_id));
    let refused = first
        .post(
            "/formularios/oficio-comision",
            "/formularios/oficio-comision",
            &as_refs(&other),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // Twenty wrong passwords at once: no more than five are even checked.
    let (_, secret) = service.user(OFFICE, "objetivo", Role::Capturista).await;
    let attempts = (0..20).map(|i| {
        let service = &service;
        async move {
            let mut browser = Browser {
                service,
                cookies: HashMap::new(),
            };
            browser.login("objetivo", &format!("intento {i}")).await.status
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    // A locked account answers as a wrong password does (401), so the
    // pages cannot tell how many were checked: only that none got in.
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s)),
        "{statuses:?}"
    );
    let mut owner = Browser {
        service: &service,
        cookies: HashMap::new(),
    };
    // Locked, or still limited: the right password does not get in now.
    let status = owner.login("objetivo", &secret).await.status;
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&status),
        "{status}"
    );
    // What the accounts say of twenty guesses at once, past any limiter:
    // no more than five passwords are even checked, the rest are locked.
    let (_, _) = service.user(OFFICE, "objetivo.dos", Role::Capturista).await;
    let guesses = (0..20).map(|i| {
        let accounts = &service.state.accounts;
        async move {
            accounts
                .login("objetivo.dos", &format!("intento {i}"))
                .await
                .expect("login")
        }
    });
    let outcomes = futures::future::join_all(guesses).await;
    let checked = outcomes
        .iter()
        .filter(|o| matches!(o, sello::accounts::LoginOutcome::Refused))
        .count();
    let locked = outcomes
        .iter()
        .filter(|o| matches!(o, sello::accounts::LoginOutcome::Locked))
        .count();
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_eq!(checked + locked, 20, "none opened a session");

    // Metrics are for the machine itself, not for what came through a proxy.
    let proxied = service
        .send(
            Request::get("/metrics")
                .header("x-forwarded-for", "203.0.113.9")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(proxied.status, StatusCode::NOT_FOUND);
    let mut remote = Request::get("/metrics").body(Body::empty()).expect("request");
    remote
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [203, 0, 113, 9],
            4000,
        ))));
    assert_eq!(service.send(remote).await.status, StatusCode::NOT_FOUND);
}
crate::archive_conformance!(a_draft_is_issued_once_and_parallel_guesses_do_not_outrun_the_lock);

async fn a_bulk_job_runs_from_the_web_app_and_reports_its_bad_rows(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let (_, password) = service.user(OFFICE, "lotes", Role::Firmante).await;
    let (_, clerk) = service.user(OFFICE, "captura.lotes", Role::Capturista).await;
    let mut browser = service.browser("lotes", &password).await;
    let csrf = browser.csrf_token("/lotes").await;
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(8, &[3]), true);
    let upload = |csrf: String, csv: Vec<u8>| lote_upload(&csrf, &csv);
    let send = |browser: &Browser<'_>, body: (String, Vec<u8>)| lote_request(browser, body);
    // Without the session's CSRF token nothing is issued.
    let forged = service
        .send(send(&browser, upload("otro".into(), csv.clone())))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let started = service.send(send(&browser, upload(csrf, csv))).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let job_page = started.location();
    let mut page = String::new();
    for _ in 0..600 {
        page = browser.get(&job_page).await.text();
        if page.contains("Terminado") {
            break;
        }
        assert!(
            page.contains("http-equiv=\"refresh\""),
            "a running job's page refreshes itself"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(page.contains("Terminado: 7 documento(s)."), "{page}");
    assert!(!page.contains("Ningún campo lee"), "every column is read");
    let problems = browser.get(&format!("{job_page}/errores.csv")).await;
    assert_eq!(problems.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = problems.text();
    assert_eq!(text.trim_start_matches('\u{feff}').lines().count(), 2, "{text}");
    assert!(text.contains("\n4;representante.identificacion;"), "{text}");
    assert!(
        text.trim_end().ends_with(";Carolina Muñoz 3"),
        "the bad row names its person: {text}"
    );
    let listing = browser.get(&format!("{job_page}/emitidos.csv")).await.text();
    let listed: Vec<&str> = listing.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(listed[0], "linea;folio;verificacion;nombre");
    assert_eq!(listed.len(), 8, "{listing}");
    assert!(listed[1].starts_with("2;DIF-SLP/CA/2026/0001;http"), "{listing}");
    let named = listed[1].rsplit(';').next().expect("the name column");
    assert!(
        named.len() > 3 && !named.starts_with("http"),
        "each row names its person: {listing}"
    );
    let found = service
        .api(
            "GET",
            "/api/v1/search?form=carta-compromiso",
            Some(
                &service
                    .token(
                        &service
                            .state
                            .accounts
                            .user_by_username("lotes")
                            .await
                            .expect("user"),
                    )
                    .await,
            ),
            None,
        )
        .await;
    assert_eq!(found.json()["total"], 7);

    // All seven joined for printing, in row order.
    let merged = browser.get(&format!("{job_page}/documentos.pdf")).await;
    assert_eq!(merged.status, StatusCode::OK);
    assert_eq!(merged.headers[header::CONTENT_TYPE], "application/pdf");
    let dir = tempfile::tempdir().expect("temp");
    let merged_path = dir.path().join("lote.pdf");
    std::fs::write(&merged_path, &merged.bytes).expect("write");
    crate::assert_qpdf_check(&merged_path);
    let text = crate::pdf_text(&merged_path);
    let order: Vec<usize> = [1, 2, 4, 5, 6, 7, 8]
        .iter()
        .map(|i| {
            text.find(&format!("Ñandú {i}"))
                .unwrap_or_else(|| panic!("family {i}:\n{text}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "row order: {order:?}");

    // Its padrón: issued once, however many times it is asked for.
    let padron = browser.post(&job_page, &format!("{job_page}/padron"), &[]).await;
    assert_eq!(padron.status, StatusCode::SEE_OTHER, "{}", padron.text());
    let document = padron.location();
    let again = browser.post(&job_page, &format!("{job_page}/padron"), &[]).await;
    assert_eq!(again.location(), document, "the same padrón");
    let padron_pdf = browser.get(&format!("{document}/pdf")).await;
    let padron_path = dir.path().join("padron.pdf");
    std::fs::write(&padron_path, &padron_pdf.bytes).expect("write");
    let listed = crate::pdf_text(&padron_path);
    for i in [1, 2, 4, 5, 6, 7, 8] {
        assert!(listed.contains(&format!("Carolina Muñoz {i}")), "{listed}");
    }
    assert!(listed.contains("DIF-SLP/CA/2026/0007"), "{listed}");
    assert!(!listed.contains("Muñoz 3"), "the bad row is not in the padrón");
    let forged = browser
        .post_raw(&format!("{job_page}/padron"), &[("_csrf", "otro")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // A capturista of the office does not reach lotes until the office
    // allows it; then follows the lote but cannot print or sign anything
    // of it; another office's staff do not see it.
    let mut clerk_browser = service.browser("captura.lotes", &clerk).await;
    assert_eq!(clerk_browser.get(&job_page).await.status, StatusCode::FORBIDDEN);
    (service.state.accounts)
        .set_preparers_bulk(OFFICE, true)
        .await
        .expect("allowed");
    assert_eq!(clerk_browser.get(&job_page).await.status, StatusCode::OK);
    service
        .state
        .accounts
        .create_office("DIF-LEJOS", "Lejos", "admin.lejos")
        .await
        .expect("office");
    let (_, far) = service.user("DIF-LEJOS", "firmante.lejos", Role::Firmante).await;
    let mut stranger = service.browser("firmante.lejos", &far).await;
    assert_eq!(stranger.get(&job_page).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        stranger.get(&format!("{job_page}/errores.csv")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger.get(&format!("{job_page}/documentos.pdf")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger
            .post("/lotes", &format!("{job_page}/padron"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        clerk_browser
            .get(&format!("{job_page}/documentos.pdf"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
crate::archive_conformance!(a_bulk_job_runs_from_the_web_app_and_reports_its_bad_rows);

/// The multipart body that uploads `csv` as a lote of `carta-compromiso`,
/// signed by each family on paper, and its content type.
fn lote_upload(csrf: &str, csv: &[u8]) -> (String, Vec<u8>) {
    let boundary = "lote-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in [
        ("_csrf", csrf),
        ("formulario", "carta-compromiso"),
        ("en_papel", "si"),
    ] {
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
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn lote_request(browser: &Browser<'_>, (kind, body): (String, Vec<u8>)) -> Request<Body> {
    Request::post("/lotes")
        .header(header::COOKIE, browser.cookie_header())
        .header(header::CONTENT_TYPE, kind)
        .body(Body::from(body))
        .expect("request")
}

/// The audit trail's (actor, action) of the lote events and the issued
/// documents, in order.
async fn lote_trail(service: &Service) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT actor, action FROM audit_events WHERE action LIKE 'lote.%' OR action = 'documento.emitido' ORDER BY seq",
    )
    .fetch_all(service.state.archive.store().pool())
    .await
    .expect("trail")
}

async fn a_lote_a_capturista_prepares_waits_for_the_signer_who_issues_it_in_their_name(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let (_, clerk) = service.user(OFFICE, "captura.prepara", Role::Capturista).await;
    let (_, signer) = service.user(OFFICE, "firma.aprueba", Role::Firmante).await;
    let (_, admin) = service.user(OFFICE, "admin.lotes", Role::Administrador).await;
    let mut clerk_browser = service.browser("captura.prepara", &clerk).await;

    // Until the office allows it, who prepares documents has no «Lotes»
    // and is told why.
    let home = clerk_browser.get("/").await.text();
    assert!(!home.contains("href=\"/lotes\""), "{home}");
    let forbidden = clerk_browser.get("/lotes").await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert!(
        forbidden
            .text()
            .contains("Su oficina no permite la emisión por lotes a quien prepara documentos"),
        "{}",
        forbidden.text()
    );
    let csrf = clerk_browser.csrf_token("/").await;
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(4, &[2]), true);
    let sent = service
        .send(lote_request(&clerk_browser, lote_upload(&csrf, &csv)))
        .await;
    assert_eq!(sent.status, StatusCode::FORBIDDEN, "{}", sent.text());

    // The office's administrator allows it on the administration page.
    let mut admin_browser = service.browser("admin.lotes", &admin).await;
    let setting = admin_browser.get("/admin").await.text();
    assert!(setting.contains("Emisión por lotes"), "{setting}");
    assert!(
        !setting.contains("name=\"preparan\" value=\"si\" checked"),
        "{setting}"
    );
    let saved = admin_browser
        .post("/admin", "/admin/lotes", &[("preparan", "si")])
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert!(
        saved.text().contains("name=\"preparan\" value=\"si\" checked"),
        "{}",
        saved.text()
    );
    let changes: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, details FROM audit_events WHERE action = 'oficina.lotes_preparadores'")
            .fetch_all(service.state.archive.store().pool())
            .await
            .expect("audit");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].0, "admin.lotes");
    assert!(changes[0].1.contains("\"permitido\":true"), "{changes:?}");
    let home = clerk_browser.get("/").await.text();
    assert!(home.contains("href=\"/lotes\""), "{home}");

    let list = clerk_browser.get("/lotes").await;
    assert_eq!(list.status, StatusCode::OK, "a capturista prepares lotes");
    assert!(
        list.text().contains("Subir y enviar a aprobación"),
        "{}",
        list.text()
    );
    let csrf = clerk_browser.csrf_token("/lotes").await;
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(4, &[2]), true);
    let sent = service
        .send(lote_request(&clerk_browser, lote_upload(&csrf, &csv)))
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let job_page = sent.location();

    // Nothing is issued until the signer approves; the capturista cannot.
    let waiting = clerk_browser.get(&job_page).await.text();
    assert!(waiting.contains("Esperando aprobación"), "{waiting}");
    assert!(
        waiting.contains("Preparado por <strong>Persona captura.prepara</strong>"),
        "{waiting}"
    );
    assert!(
        !waiting.contains("/aprobar"),
        "no approve button for who prepared it"
    );
    let refused = clerk_browser
        .post(&job_page, &format!("{job_page}/aprobar"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let issued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents")
        .fetch_one(service.state.archive.store().pool())
        .await
        .expect("count");
    assert_eq!(issued, 0, "a waiting lote issues nothing");

    // The signer finds it on their home page and sees what they approve.
    let mut signer_browser = service.browser("firma.aprueba", &signer).await;
    let home = signer_browser.get("/").await.text();
    assert!(home.contains("Lotes que esperan su aprobación"), "{home}");
    assert!(home.contains(&job_page), "{home}");
    assert!(home.contains("Persona captura.prepara"), "{home}");
    let review = signer_browser.get(&job_page).await.text();
    assert!(review.contains("Lo que se aprueba"), "{review}");
    assert!(
        review.contains("3 documento(s) listos de 4 fila(s); 1 problema(s)"),
        "{review}"
    );
    assert!(
        review.contains("Fila 2: "),
        "a sample of the rows, with their person: {review}"
    );
    let approved = signer_browser
        .post(&job_page, &format!("{job_page}/aprobar"), &[])
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.text());
    let again = signer_browser
        .post(&job_page, &format!("{job_page}/aprobar"), &[])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "approved once");

    let mut page = String::new();
    for _ in 0..600 {
        page = signer_browser.get(&job_page).await.text();
        if page.contains("Terminado") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(page.contains("Terminado: 3 documento(s)."), "{page}");
    assert!(
        page.contains("Preparado por <strong>Persona captura.prepara</strong>"),
        "{page}"
    );
    assert!(
        page.contains("Aprobado y firmado por <strong>Persona firma.aprueba</strong>"),
        "{page}"
    );
    let trail = lote_trail(&service).await;
    let expected: Vec<(String, String)> = [
        ("captura.prepara", "lote.enviado"),
        ("firma.aprueba", "lote.aprobado"),
        ("firma.aprueba", "documento.emitido"),
        ("firma.aprueba", "documento.emitido"),
        ("firma.aprueba", "documento.emitido"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(trail, expected, "who prepared and who signed");

    // One sent back is finished without issuing anything, with its reason.
    let csrf = clerk_browser.csrf_token("/lotes").await;
    let other = crate::bulk::csv_bytes(&crate::bulk::rows(2, &[]), true);
    let sent = service
        .send(lote_request(&clerk_browser, lote_upload(&csrf, &other)))
        .await;
    let second = sent.location();
    let without_reason = signer_browser
        .post(&second, &format!("{second}/devolver"), &[("motivo", " ")])
        .await;
    assert_eq!(without_reason.status, StatusCode::BAD_REQUEST);
    let returned = signer_browser
        .post(
            &second,
            &format!("{second}/devolver"),
            &[("motivo", "Faltan las familias de Peñalolén")],
        )
        .await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.text());
    let page = clerk_browser.get(&second).await.text();
    assert!(page.contains("Faltan las familias de Peñalolén"), "{page}");
    let late = signer_browser
        .post(&second, &format!("{second}/aprobar"), &[])
        .await;
    assert_eq!(
        late.status,
        StatusCode::NOT_FOUND,
        "a lote sent back is not approved"
    );
    let trail = lote_trail(&service).await;
    assert_eq!(trail.len(), 7, "{trail:?}");
    assert_eq!(trail[6], ("firma.aprueba".to_owned(), "lote.devuelto".to_owned()));
}
crate::archive_conformance!(a_lote_a_capturista_prepares_waits_for_the_signer_who_issues_it_in_their_name);

/// The `<input …>` tag of the field `name` on `page`.
fn input_tag<'p>(page: &'p str, name: &str) -> &'p str {
    page.split("<input")
        .find(|tag| tag.contains(&format!("name=\"{name}\"")))
        .and_then(|tag| tag.split('>').next())
        .unwrap_or_else(|| panic!("no input {name}: {page}"))
}

async fn a_blank_form_starts_with_the_defaults_a_person_and_the_office_set(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (_, admin) = service.user(OFFICE, "admin.valores", Role::Administrador).await;
    let (_, clerk) = service.user(OFFICE, "captura.valores", Role::Capturista).await;
    let mut admin_browser = service.browser("admin.valores", &admin).await;
    let saved = admin_browser
        .post(
            "/valores",
            "/valores/oficina",
            &[("v_lugar_expedicion", "Soledad de Graciano Sánchez, S.L.P.")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());

    let mut clerk_browser = service.browser("captura.valores", &clerk).await;
    let forbidden = clerk_browser
        .post(
            "/valores",
            "/valores/oficina",
            &[("v_lugar_expedicion", "Otro lugar")],
        )
        .await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "only the administrator sets the office's"
    );
    let blank = clerk_browser.get("/formularios/oficio-comision").await.text();
    assert!(
        input_tag(&blank, "lugar_expedicion").contains("value=\"Soledad de Graciano Sánchez, S.L.P.\""),
        "the office's: {blank}"
    );
    assert!(blank.contains("con los valores predeterminados"), "{blank}");
    assert!(blank.contains("revíselos antes de emitir"), "{blank}");

    // The person's own come before the office's.
    let own = clerk_browser
        .post(
            "/valores",
            "/valores",
            &[("v_lugar_expedicion", "Ciudad Valles, S.L.P.")],
        )
        .await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.text());
    let settings = clerk_browser.get("/valores").await.text();
    assert!(settings.contains("Ciudad Valles, S.L.P."), "{settings}");
    assert!(
        settings.contains("Soledad de Graciano Sánchez, S.L.P."),
        "{settings}"
    );
    let blank = clerk_browser.get("/formularios/oficio-comision").await.text();
    assert!(
        input_tag(&blank, "lugar_expedicion").contains("value=\"Ciudad Valles, S.L.P.\""),
        "{blank}"
    );

    // A blank value removes it: the office's applies again.
    let cleared = clerk_browser
        .post("/valores", "/valores", &[("v_lugar_expedicion", " ")])
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    let blank = clerk_browser.get("/formularios/oficio-comision").await.text();
    assert!(
        input_tag(&blank, "lugar_expedicion").contains("value=\"Soledad de Graciano Sánchez, S.L.P.\""),
        "{blank}"
    );
}
crate::archive_conformance!(a_blank_form_starts_with_the_defaults_a_person_and_the_office_set);
