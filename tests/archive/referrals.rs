//! Referrals between offices (seed 002, referencia y contrarreferencia):
//! a derivación from office A to office B reaches B's inbox with exactly
//! the documents it shares, B answers it with a contrarreferencia that
//! appears in A's expediente, a sibling office C sees nothing (404), and a
//! derivación not sent to an office cannot be cited by it. The deadline
//! comes from the protocol; past it without an answer it is overdue. The
//! seed-002 GSL flow runs end to end through the API: the protocolo de
//! atención through its trámite (the units sign, the DIDECO approves), the
//! derivación citing it, the answer through its own trámite.

use axum::http::StatusCode;
use chrono::NaiveDate;
use sello::accounts::Role;
use sello::archive::{ArchiveError, Office, ReferralState};
use sello::signed_pdf::IssueError;
use serde_json::{Value, json};

use crate::http::Service;
use crate::workflows::{draft, step};
use crate::{Fixture, example, example_now, issue_into, public_id, record_office};

/// The fixture's office: the Unidad de Asistencia Social that refers.
const A: &str = "DIF-SLP";
/// The receiving office: Subsidios Sociales.
const B: &str = "GSL-SUB";
/// A sibling office that takes no part.
const C: &str = "GSL-RSH";

/// The person referred in these tests, with the RUN of the informe
/// social's example.
fn rosa() -> Value {
    json!({"nombre": "Rosa Elena Parra Vergara", "identificacion": "7.654.321-6"})
}

/// The derivación's example for Rosa, to `to`, sharing `shared` folios.
fn derivacion_to(to: &str, shared: &[&str]) -> Value {
    let mut data = example_now("derivacion");
    data["usuario"] = rosa();
    data["oficina_destino"] = json!(to);
    let object = data.as_object_mut().expect("object");
    object.remove("protocolo");
    if shared.is_empty() {
        object.remove("documentos_compartidos");
    } else {
        data["documentos_compartidos"] = shared.iter().map(|folio| json!({"folio": folio})).collect();
    }
    data
}

/// The contrarreferencia's example answering `folio`, for Rosa.
fn contrarreferencia_of(folio: &str) -> Value {
    let mut data = example_now("contrarreferencia");
    data["usuario"] = rosa();
    data["derivacion"] = json!(folio);
    data
}

/// Issues through the API as the holder of `token`; the answer's JSON.
async fn issue(service: &Service, token: &str, form: &str, data: &Value) -> Value {
    let answer = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(token),
            Some(json!({"form": form, "data": data})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{form}: {}", answer.text());
    answer.json()["document"].clone()
}

/// Tries to issue through the API; the refusal's problems as one text.
async fn refused(service: &Service, token: &str, form: &str, data: &Value) -> String {
    let answer = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(token),
            Some(json!({"form": form, "data": data})),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{form}: {}",
        answer.text()
    );
    answer.json()["error"]["problems"].to_string()
}

/// The three offices, a firmante of each with an API token, and a
/// capturista of B.
struct Offices {
    a: String,
    b: String,
    c: String,
    b_capturista: String,
}

async fn offices(service: &Service) -> Offices {
    for (code, name, admin) in [
        (B, "Unidad de Subsidios Sociales", "admin.subsidios"),
        (C, "Oficina del Registro Social de Hogares", "admin.rsh"),
    ] {
        service
            .state
            .accounts
            .create_office(code, name, admin)
            .await
            .expect("office");
    }
    let mut tokens = Vec::new();
    for (office, name, role) in [
        (A, "asistente.a", Role::Firmante),
        (B, "jefe.b", Role::Firmante),
        (C, "jefa.c", Role::Administrador),
        (B, "operador.b", Role::Capturista),
    ] {
        let (user, _) = service.user(office, name, role).await;
        tokens.push(service.token(&user).await);
    }
    let mut tokens = tokens.into_iter();
    let mut next = || tokens.next().expect("token");
    Offices {
        a: next(),
        b: next(),
        c: next(),
        b_capturista: next(),
    }
}

fn folios(documents: &Value) -> Vec<String> {
    let mut folios: Vec<String> = documents
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d["document"]["folio"].as_str().expect("folio").to_owned())
        .collect();
    folios.sort();
    folios
}

async fn a_derivacion_reaches_only_its_office_with_only_what_it_shares(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = offices(&service).await;

    // A: an informe social it shares, another it keeps, and the derivación.
    let mut informe = example_now("informe-social");
    informe["usuario"] = rosa();
    let shared = issue(&service, &staff.a, "informe-social", &informe).await;
    informe["motivo_informe"] = json!("Evaluación de la situación de salud del grupo familiar");
    let kept = issue(&service, &staff.a, "informe-social", &informe).await;
    let shared_folio = shared["folio"].as_str().expect("folio");
    let derivacion = issue(
        &service,
        &staff.a,
        "derivacion",
        &derivacion_to(B, &[shared_folio]),
    )
    .await;
    let id = public_id(&derivacion["id"]);
    let folio = derivacion["folio"].as_str().expect("folio").to_owned();

    // B finds it in its inbox, sent and not yet received.
    let inbox = service
        .api("GET", "/api/v1/derivaciones", Some(&staff.b), None)
        .await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.text());
    let received = inbox.json()["recibidas"].clone();
    assert_eq!(received.as_array().map(Vec::len), Some(1), "{received}");
    assert_eq!(received[0]["folio"], json!(folio));
    assert_eq!(received[0]["estado"], "enviada");
    assert_eq!(received[0]["from_office"], A);

    // Opening it marks it received; it shows exactly the derivación and
    // the informe shared, not the one kept.
    let opened = service
        .api("GET", &format!("/api/v1/derivaciones/{id}"), Some(&staff.b), None)
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    let opened = opened.json();
    assert_eq!(opened["referral"]["estado"], "recibida");
    let mut expected = vec![folio.clone(), shared_folio.to_owned()];
    expected.sort();
    assert_eq!(folios(&opened["documents"]), expected);
    assert!(
        !opened
            .to_string()
            .contains(kept["folio"].as_str().expect("folio"))
    );
    let pdf = service
        .api(
            "GET",
            &format!(
                "/api/v1/derivaciones/{id}/documentos/{}/pdf",
                shared["id"].as_str().expect("id")
            ),
            Some(&staff.b),
            None,
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text());
    assert!(pdf.bytes.starts_with(b"%PDF"));
    // What was not shared stays A's alone, through the referral and directly.
    for uri in [
        format!(
            "/api/v1/derivaciones/{id}/documentos/{}/pdf",
            kept["id"].as_str().expect("id")
        ),
        format!("/api/v1/documents/{}", shared["id"].as_str().expect("id")),
        format!("/api/v1/documents/{id}"),
        format!(
            "/api/v1/expedientes/{}",
            derivacion["expediente_id"].as_str().expect("id")
        ),
    ] {
        let answer = service.api("GET", &uri, Some(&staff.b), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}: {}", answer.text());
    }

    // C, a sibling office, sees nothing: not the inbox entry, not the
    // referral, not its documents; 404 as for any other office's document.
    let inbox = service
        .api("GET", "/api/v1/derivaciones", Some(&staff.c), None)
        .await
        .json();
    assert_eq!(inbox["recibidas"], json!([]));
    assert_eq!(inbox["enviadas"], json!([]));
    for uri in [
        format!("/api/v1/derivaciones/{id}"),
        format!("/api/v1/derivaciones/{id}/documentos/{id}/pdf"),
        format!(
            "/api/v1/derivaciones/{id}/documentos/{}/pdf",
            shared["id"].as_str().expect("id")
        ),
    ] {
        let answer = service.api("GET", &uri, Some(&staff.c), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}: {}", answer.text());
        assert!(!answer.text().contains("Rosa"), "{uri} leaks data");
    }
    // Nor can C answer it: the derivación was not sent to C.
    let problems = refused(
        &service,
        &staff.c,
        "contrarreferencia",
        &contrarreferencia_of(&folio),
    )
    .await;
    assert!(
        problems.contains("derivacion") && problems.contains("ni se le compartió"),
        "{problems}"
    );
    // A derivación A sent to C is not B's to cite.
    let to_c = issue(&service, &staff.a, "derivacion", &derivacion_to(C, &[])).await;
    let problems = refused(
        &service,
        &staff.b,
        "contrarreferencia",
        &contrarreferencia_of(to_c["folio"].as_str().expect("folio")),
    )
    .await;
    assert!(problems.contains("ni se le compartió"), "{problems}");
    // And a document B was shared is not a derivación to answer.
    let problems = refused(
        &service,
        &staff.b,
        "contrarreferencia",
        &contrarreferencia_of(shared_folio),
    )
    .await;
    assert!(problems.contains("otro formulario"), "{problems}");

    // B answers; the contrarreferencia is B's document, citing A's.
    let answer = issue(
        &service,
        &staff.b,
        "contrarreferencia",
        &contrarreferencia_of(&folio),
    )
    .await;
    let answer_folio = answer["folio"].as_str().expect("folio").to_owned();
    assert!(answer_folio.starts_with(B), "{answer_folio}");
    let own = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}", answer["id"].as_str().expect("id")),
            Some(&staff.b),
            None,
        )
        .await
        .json();
    assert_eq!(own["cites"][0]["folio"], json!(folio), "{own}");
    assert_eq!(own["cites"][0]["office_code"], A);
    // Answered once: a second answer is refused while the first stands.
    let problems = refused(
        &service,
        &staff.b,
        "contrarreferencia",
        &contrarreferencia_of(&folio),
    )
    .await;
    assert!(
        problems.contains(&format!(
            "ya fue respondida con la contrarreferencia {answer_folio}"
        )),
        "{problems}"
    );

    // A sees the answer in the derivación's expediente and can read it.
    let expediente = service
        .api(
            "GET",
            &format!(
                "/api/v1/expedientes/{}",
                derivacion["expediente_id"].as_str().expect("id")
            ),
            Some(&staff.a),
            None,
        )
        .await;
    assert_eq!(expediente.status, StatusCode::OK, "{}", expediente.text());
    let referrals = expediente.json()["referrals"].clone();
    let this = referrals
        .as_array()
        .expect("referrals")
        .iter()
        .find(|r| r["folio"] == json!(folio))
        .unwrap_or_else(|| panic!("the derivación in its expediente: {referrals}"))
        .clone();
    assert_eq!(this["estado"], "respondida");
    assert_eq!(this["answer_folio"], json!(answer_folio));
    let seen = service
        .api("GET", &format!("/api/v1/derivaciones/{id}"), Some(&staff.a), None)
        .await
        .json();
    assert!(folios(&seen["documents"]).contains(&answer_folio), "{seen}");
    let pdf = service
        .api(
            "GET",
            &format!(
                "/api/v1/derivaciones/{id}/documentos/{}/pdf",
                answer["id"].as_str().expect("id")
            ),
            Some(&staff.a),
            None,
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    let cited_by = service
        .api("GET", &format!("/api/v1/documents/{id}"), Some(&staff.a), None)
        .await
        .json();
    assert_eq!(
        cited_by["cited_by"][0]["folio"],
        json!(answer_folio),
        "{cited_by}"
    );
    // B's expediente of the answer lists the referral too.
    let b_expediente = service
        .api(
            "GET",
            &format!(
                "/api/v1/expedientes/{}",
                answer["expediente_id"].as_str().expect("id")
            ),
            Some(&staff.b),
            None,
        )
        .await
        .json();
    assert_eq!(
        b_expediente["referrals"][0]["folio"],
        json!(folio),
        "{b_expediente}"
    );

    // Every share, reception, answer and cross-office view is in the
    // audit trail, and in both expedientes' histories.
    let a_row = fixture.archive.document(&folio).await.expect("derivación");
    let a_history: Vec<String> = fixture
        .archive
        .expediente_events(a_row.expediente_row_id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "derivacion.enviada",
        "derivacion.recibida",
        "derivacion.documento_consultado",
        "derivacion.respondida",
    ] {
        assert!(a_history.iter().any(|a| a == action), "{action} in {a_history:?}");
    }
    let b_archive = fixture.archive.for_office(Office::new(B, "Subsidios"));
    let b_row = b_archive
        .document(&answer_folio)
        .await
        .expect("contrarreferencia");
    let b_history: Vec<String> = b_archive
        .expediente_events(b_row.expediente_row_id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        b_history.iter().any(|a| a == "derivacion.respondida"),
        "{b_history:?}"
    );
    // What of another office's document was seen, data or PDF, by whom.
    let views = |row_id: i64| {
        let archive = &fixture.archive;
        async move {
            let mut seen: Vec<(String, String)> = archive
                .document_events(row_id)
                .await
                .expect("events")
                .into_iter()
                .filter(|e| e.action == "derivacion.documento_consultado")
                .map(|e| {
                    let details: Value = serde_json::from_str(&e.details).expect("details");
                    let view = details["vista"].as_str().unwrap_or("").to_owned();
                    (e.office_code.unwrap_or_default(), view)
                })
                .collect();
            seen.sort();
            seen
        }
    };
    let both = |office: &str| {
        vec![
            (office.to_owned(), "datos".to_owned()),
            (office.to_owned(), "pdf".to_owned()),
        ]
    };
    assert_eq!(
        views(b_row.row_id).await,
        both(A),
        "A read B's answer through the API, then its PDF"
    );
    let shared_row = fixture.archive.document(shared_folio).await.expect("informe");
    assert_eq!(
        views(shared_row.row_id).await,
        both(B),
        "B read the informe shared, then its PDF"
    );
    // The derivación itself, read by B through the API: its data seen once.
    let derivacion_row = fixture.archive.document(&folio).await.expect("derivación");
    assert!(
        views(derivacion_row.row_id)
            .await
            .contains(&(B.to_owned(), "datos".to_owned())),
        "B's read of the derivación"
    );

    // The staff pages: B's inbox lists it, C finds no such referral.
    let (_, b_password) = service.user(B, "operadora.web", Role::Capturista).await;
    let mut b_web = service.browser("operadora.web", &b_password).await;
    let page = b_web.get("/derivaciones").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&folio), "{}", page.text());
    let page = b_web.get(&format!("/derivaciones/{id}")).await;
    assert!(
        page.text().contains(shared_folio) && page.text().contains("respondida"),
        "{}",
        page.text()
    );
    assert!(!page.text().contains(kept["folio"].as_str().expect("folio")));
    let (_, c_password) = service.user(C, "operador.rsh", Role::Capturista).await;
    let mut c_web = service.browser("operador.rsh", &c_password).await;
    assert_eq!(
        c_web.get(&format!("/derivaciones/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!c_web.get("/derivaciones").await.text().contains(&folio));
}
crate::archive_conformance!(a_derivacion_reaches_only_its_office_with_only_what_it_shares);

/// Starts the correction of `document` as the holder of `token`, with
/// `data`, and sends it on: the answer to the sending.
async fn correct_and_send(
    service: &Service,
    token: &str,
    document: &Value,
    data: &Value,
) -> crate::http::Answer {
    let uri = format!(
        "/api/v1/documents/{}/correct",
        document["id"].as_str().expect("id")
    );
    let started = service.api("POST", &uri, Some(token), None).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text());
    let id = public_id(&started.json()["id"]);
    let changed = service
        .api(
            "PUT",
            &format!("/api/v1/drafts/{id}"),
            Some(token),
            Some(json!({"data": data})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    service
        .api("POST", &format!("/api/v1/drafts/{id}/submit"), Some(token), None)
        .await
}

async fn correcting_another_answer_does_not_answer_a_derivacion_already_answered(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = offices(&service).await;
    let first = issue(&service, &staff.a, "derivacion", &derivacion_to(B, &[])).await;
    let second = issue(&service, &staff.a, "derivacion", &derivacion_to(B, &[])).await;
    let first_folio = first["folio"].as_str().expect("folio").to_owned();
    let second_folio = second["folio"].as_str().expect("folio").to_owned();
    let x = issue(
        &service,
        &staff.b,
        "contrarreferencia",
        &contrarreferencia_of(&first_folio),
    )
    .await;
    let y = issue(
        &service,
        &staff.b,
        "contrarreferencia",
        &contrarreferencia_of(&second_folio),
    )
    .await;
    let x_folio = x["folio"].as_str().expect("folio").to_owned();

    // Y corrected to cite the first derivación: X answers it already.
    let sent = correct_and_send(&service, &staff.b, &y, &contrarreferencia_of(&first_folio)).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", sent.text());
    assert!(
        sent.text()
            .contains(&format!("ya fue respondida con la contrarreferencia {x_folio}")),
        "{}",
        sent.text()
    );
    // X corrected, still citing it, answers it again.
    let sent = correct_and_send(&service, &staff.b, &x, &contrarreferencia_of(&first_folio)).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
}
crate::archive_conformance!(correcting_another_answer_does_not_answer_a_derivacion_already_answered);

async fn two_answers_sent_at_once_to_one_derivacion_issue_one(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = offices(&service).await;
    // B's expediente of the person exists before the race.
    let opening = issue(&service, &staff.a, "derivacion", &derivacion_to(B, &[])).await;
    let opening = opening["folio"].as_str().expect("folio").to_owned();
    issue(
        &service,
        &staff.b,
        "contrarreferencia",
        &contrarreferencia_of(&opening),
    )
    .await;
    for round in 0..3 {
        let derivacion = issue(&service, &staff.a, "derivacion", &derivacion_to(B, &[])).await;
        let folio = derivacion["folio"].as_str().expect("folio").to_owned();
        let body = Some(json!({"form": "contrarreferencia", "data": contrarreferencia_of(&folio)}));
        let (one, other) = tokio::join!(
            service.api("POST", "/api/v1/documents", Some(&staff.b), body.clone()),
            service.api("POST", "/api/v1/documents", Some(&staff.b), body.clone()),
        );
        let mut statuses = [one.status, other.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY],
            "round {round}: {} / {}",
            one.text(),
            other.text()
        );
        let loser = if one.status == StatusCode::CREATED {
            &other
        } else {
            &one
        };
        assert!(loser.text().contains(&folio), "{}", loser.text());
    }
}
crate::archive_conformance!(two_answers_sent_at_once_to_one_derivacion_issue_one);

async fn an_answer_whose_issuance_failed_answers_nothing(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = offices(&service).await;
    let derivacion = issue(&service, &staff.a, "derivacion", &derivacion_to(B, &[])).await;
    let id = public_id(&derivacion["id"]);
    let folio = derivacion["folio"].as_str().expect("folio").to_owned();
    let b_archive = fixture
        .archive
        .for_office(Office::new(B, "Unidad de Subsidios Sociales"));
    let data = contrarreferencia_of(&folio);
    let order = sello::archive::IssueOrder {
        issued_at: service.state.issuer.now_in(b_archive.office()),
        ..crate::order("contrarreferencia", &data, None, None)
    };
    let failed = b_archive
        .issue(&order, |_| Err(IssueError::Other("sin papel en la firma".into())))
        .await;
    assert!(failed.is_err(), "the answer's issuance fails");

    // The referring office sees no answer, and no document of it.
    let seen = service
        .api("GET", &format!("/api/v1/derivaciones/{id}"), Some(&staff.a), None)
        .await
        .json();
    assert_ne!(seen["referral"]["estado"], "respondida", "{seen}");
    assert!(seen["referral"]["answer_folio"].is_null(), "{seen}");
    assert_eq!(folios(&seen["documents"]), vec![folio.clone()], "{seen}");
    // The receiving office is offered to answer it, and does.
    let (_, password) = service.user(B, "operadora.b", Role::Capturista).await;
    let mut web = service.browser("operadora.b", &password).await;
    let page = web.get(&format!("/derivaciones/{id}")).await.text();
    assert!(page.contains("Responder con una contrarreferencia"), "{page}");
    let answer = issue(&service, &staff.b, "contrarreferencia", &data).await;
    let seen = service
        .api("GET", &format!("/api/v1/derivaciones/{id}"), Some(&staff.a), None)
        .await
        .json();
    assert_eq!(seen["referral"]["answer_folio"], answer["folio"], "{seen}");
}
crate::archive_conformance!(an_answer_whose_issuance_failed_answers_nothing);

/// The archive's refusal's problems as one text.
fn problems_of(error: ArchiveError) -> String {
    match error {
        ArchiveError::Issue(IssueError::Invalid(problems)) => problems
            .0
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect::<Vec<_>>()
            .join("\n"),
        other => panic!("refused for its data, not {other}"),
    }
}

async fn a_derivacion_goes_to_another_office_of_the_installation_and_shares_only_its_case(fixture: &Fixture) {
    record_office(&fixture.archive, B).await;
    let on_22 = |mut data: Value| {
        data["fecha_derivacion"] = json!("2026-11-20");
        data
    };
    let to_self = fixture
        .issue_on("derivacion", &on_22(derivacion_to(A, &[])), 22, None)
        .await
        .err()
        .map(problems_of)
        .expect("refused");
    assert!(
        to_self.contains("oficina_destino") && to_self.contains("esta misma oficina"),
        "{to_self}"
    );
    let unknown = fixture
        .issue_on("derivacion", &on_22(derivacion_to("NADIE", &[])), 22, None)
        .await
        .err()
        .map(problems_of)
        .expect("refused");
    assert!(unknown.contains("no existe la oficina «NADIE»"), "{unknown}");
    // A document of another person, in another expediente, is not the
    // case's to share; nor is a folio the office never issued.
    let other = fixture.issue("informe-social", &example("informe-social")).await;
    let mut someone_else = on_22(derivacion_to(B, &[&other.folio, "DIF-SLP/IN/2026/9999"]));
    someone_else["usuario"] =
        json!({"nombre": "María Angélica Fuentes Sepúlveda", "identificacion": "14.876.321-6"});
    let shared = fixture
        .issue_on("derivacion", &someone_else, 22, None)
        .await
        .err()
        .map(problems_of)
        .expect("refused");
    assert!(
        shared.contains("documentos_compartidos[1].folio")
            && shared.contains("ni nombra a la persona derivada"),
        "{shared}"
    );
    assert!(
        shared.contains("documentos_compartidos[2].folio") && shared.contains("no está en el archivo"),
        "{shared}"
    );
    // Nothing refused was recorded.
    assert!(fixture.archive.referrals_sent().await.expect("sent").is_empty());
}
crate::archive_conformance!(a_derivacion_goes_to_another_office_of_the_installation_and_shares_only_its_case);

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

async fn a_referral_is_due_by_its_protocol_and_overdue_without_an_answer(fixture: &Fixture) {
    record_office(&fixture.archive, B).await;
    let mut protocolo = example("protocolo-atencion");
    protocolo["plazo_respuesta"] = json!(2);
    let protocolo = fixture.issue("protocolo-atencion", &protocolo).await;
    // Issued on Sunday 22 November 2026: two business days, Tuesday 24.
    let mut data = derivacion_to(B, &[]);
    data["fecha_derivacion"] = json!("2026-11-20");
    data["protocolo"] = json!(protocolo.folio);
    let cited = fixture.issue("derivacion", &data).await;
    let unprotocolled = {
        let mut data = data.clone();
        data.as_object_mut().expect("object").remove("protocolo");
        fixture.issue("derivacion", &data).await
    };
    let b = fixture.archive.for_office(Office::new(B, "Subsidios"));
    let received = b.referrals_received().await.expect("inbox");
    let by_folio = |folio: &str| {
        received
            .iter()
            .find(|r| r.folio == folio)
            .unwrap_or_else(|| panic!("{folio} in B's inbox"))
            .clone()
    };
    let with_protocol = by_folio(&cited.folio);
    assert_eq!(with_protocol.due_on, "2026-11-24");
    // Without a protocol, the form's 5 business days: Friday 27.
    assert_eq!(by_folio(&unprotocolled.folio).due_on, "2026-11-27");
    assert_eq!(with_protocol.state(day("2026-11-24")), ReferralState::Enviada);
    assert_eq!(with_protocol.state(day("2026-11-25")), ReferralState::Vencida);
    let opened = b.open_referral(with_protocol.id, "jefe.b").await.expect("opened");
    assert_eq!(opened.state(day("2026-11-23")), ReferralState::Recibida);
    assert_eq!(opened.received_by.as_deref(), Some("jefe.b"));
    // Opening again changes nothing, and A's opening marks nothing.
    let again = fixture
        .archive
        .open_referral(with_protocol.id, "asistente.a")
        .await
        .expect("A's look");
    assert_eq!(again.received_by.as_deref(), Some("jefe.b"));
    // Answered late, it is answered.
    let mut answer = contrarreferencia_of(&cited.folio);
    answer["fecha_respuesta"] = json!("2026-11-22");
    answer["fecha_atencion"] = json!("2026-11-21");
    let issued = issue_into(&b, &fixture.key, "contrarreferencia", &answer, 22, None)
        .await
        .expect("answered");
    let answered = b.referral(with_protocol.id).await.expect("referral");
    assert_eq!(answered.state(day("2026-12-30")), ReferralState::Respondida);
    // Annulled, the answer answers nothing: overdue again, and it may be
    // answered anew.
    b.annul(
        &issued.record().folio,
        "Se respondió la derivación equivocada",
        "jefe.b",
        None,
    )
    .await
    .expect("annulled");
    let reopened = b.referral(with_protocol.id).await.expect("referral");
    assert_eq!(reopened.state(day("2026-11-30")), ReferralState::Vencida);
    issue_into(&b, &fixture.key, "contrarreferencia", &answer, 22, None)
        .await
        .expect("answered again");
    assert_eq!(
        b.referral(with_protocol.id)
            .await
            .expect("referral")
            .state(day("2026-11-30")),
        ReferralState::Respondida
    );
}
crate::archive_conformance!(a_referral_is_due_by_its_protocol_and_overdue_without_an_answer);

/// What a derivación says of where it goes, what it shares and when it is
/// due is what the archive recorded in its stored data when it took the
/// folio: the receiving office by the name the installation registers, each
/// shared document by its form and issue day, and the due day the referral
/// row keeps, computed once. Nothing typed can say otherwise.
async fn a_derivacion_prints_what_the_archive_recorded_of_its_sending(fixture: &Fixture) {
    record_office(&fixture.archive, B).await;
    let mut informe = example("informe-social");
    informe["usuario"] = rosa();
    let informe = fixture
        .issue_on("informe-social", &informe, 20, None)
        .await
        .expect("informe");
    let informe = informe.record().clone();
    let mut protocolo = example("protocolo-atencion");
    protocolo["plazo_respuesta"] = json!(2);
    let protocolo = fixture.issue("protocolo-atencion", &protocolo).await;
    let mut data = derivacion_to(B, &[informe.folio.as_str()]);
    data["fecha_derivacion"] = json!("2026-11-20");
    data["protocolo"] = json!(protocolo.folio);
    data["jefatura_destino"] = json!("Sr. Rodrigo Valenzuela Tapia, Jefe de Subsidios");
    let derivacion = fixture.issue("derivacion", &data).await;

    // Stored: what the archive found, beside what was typed.
    let stored: Value = serde_json::from_str(&derivacion.data).expect("data");
    let sent = &stored["envio"];
    assert_eq!(
        sent["oficina"],
        json!({"clave": B, "nombre": format!("Oficina {B}")})
    );
    assert_eq!(
        sent["compartidos"],
        json!([{"folio": informe.folio, "formulario": "Informe social", "fecha": "2026-11-20"}])
    );
    let b = fixture.archive.for_office(Office::new(B, "Subsidios"));
    let referral = b
        .referrals_received()
        .await
        .expect("inbox")
        .into_iter()
        .find(|r| r.folio == derivacion.folio)
        .expect("in B's inbox");
    // Issued on Sunday 22 November 2026: two business days, Tuesday 24.
    assert_eq!(referral.due_on, "2026-11-24");
    assert_eq!(
        sent["plazo"],
        json!({"dias_habiles": 2, "vence": referral.due_on})
    );

    // Printed: exactly that.
    let pdf = fixture.archive.pdf(&derivacion).await.expect("pdf");
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &pdf).expect("write");
    let text = crate::pdf_text(file.path())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for said in [
        format!("Unidad receptora: Oficina {B} (oficina {B})"),
        "A la atención de: Sr. Rodrigo Valenzuela Tapia, Jefe de Subsidios (según quien deriva)".to_owned(),
        format!(
            "Informe social, folio {} del 20 de noviembre de 2026",
            informe.folio
        ),
        "Plazo de respuesta: 2 días hábiles, hasta el 24 de noviembre de 2026".to_owned(),
    ] {
        assert!(text.contains(&said), "«{said}» in: {text}");
    }

    // A unit typed by the clerk is no field of the form: refused.
    let mut typed = data.clone();
    typed["unidad_destino"] = json!("Unidad de Vivienda");
    let refused = fixture.issue_on("derivacion", &typed, 22, None).await;
    assert!(
        matches!(refused, Err(ArchiveError::Issue(IssueError::Invalid(ref p))) if p.mentions("unidad_destino")),
        "{:?}",
        refused.err()
    );
}
crate::archive_conformance!(a_derivacion_prints_what_the_archive_recorded_of_its_sending);

/// Seed 002's GSL flow through the API: the protocolo de atención
/// between the units (drafted, signed by the jefaturas on paper, approved
/// and issued by the DIDECO), a derivación citing it from Asistencia
/// Social to Subsidios Sociales with the informe social, its reception,
/// and the contrarreferencia through its own trámite (drafted by an
/// operador, signed by the jefatura), seen back in the referring case.
async fn the_gsl_referral_flow_runs_through_the_api(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = offices(&service).await;
    let (capturista, _) = service.user(A, "operadora.a", Role::Capturista).await;
    let a_capturista = service.token(&capturista).await;

    // The protocol: drafted, the units' jefaturas sign the printed paper,
    // the DIDECO approves with the last signature, which issues it.
    let mut protocolo = example_now("protocolo-atencion");
    protocolo["plazo_respuesta"] = json!(3);
    let direct = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&staff.a),
            Some(json!({"form": "protocolo-atencion", "data": protocolo})),
        )
        .await;
    assert_eq!(
        direct.status,
        StatusCode::CONFLICT,
        "the units sign first: {}",
        direct.text()
    );
    let id = draft(&service, &a_capturista, "protocolo-atencion", &protocolo).await;
    step(&service, &a_capturista, id, "submit", None, StatusCode::OK).await;
    let finished = service
        .api(
            "POST",
            &format!("/api/v1/drafts/{id}/finish"),
            Some(&a_capturista),
            Some(json!({"on_paper": true})),
        )
        .await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.text());
    let approved = step(&service, &staff.a, id, "sign", None, StatusCode::CREATED).await;
    let protocolo = approved["issued"]["document"].clone();
    let protocolo_folio = protocolo["folio"].as_str().expect("folio").to_owned();
    let stored = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}", protocolo["id"].as_str().expect("id")),
            Some(&staff.a),
            None,
        )
        .await
        .json();
    assert_eq!(
        stored["data"]["aprobador_nombre"], "Persona asistente.a",
        "{stored}"
    );
    let pending: Vec<String> = stored["document"]["paper_pending"]
        .as_array()
        .expect("pending")
        .iter()
        .map(|p| p.as_str().expect("text").to_owned())
        .collect();
    assert_eq!(pending, ["unidades[1]", "unidades[2]", "unidades[3]"]);

    // The informe social and the derivación citing the protocol.
    let mut informe = example_now("informe-social");
    informe["usuario"] = rosa();
    let informe = issue(&service, &staff.a, "informe-social", &informe).await;
    let mut data = derivacion_to(B, &[informe["folio"].as_str().expect("folio")]);
    data["protocolo"] = json!(protocolo_folio);
    let derivacion = issue(&service, &staff.a, "derivacion", &data).await;
    let referral = public_id(&derivacion["id"]);
    let sent = service
        .api("GET", "/api/v1/derivaciones", Some(&staff.a), None)
        .await
        .json();
    let issued_on = sent["enviadas"][0]["issued_on"].as_str().expect("date");
    let expected_due = sello::forms::business_days_after(day(issued_on), 3).to_string();
    assert_eq!(sent["enviadas"][0]["due_on"], json!(expected_due), "{sent}");
    assert_eq!(sent["enviadas"][0]["to_office"], B);

    // B's operador opens it and drafts the answer; the jefatura signs it.
    let opened = service
        .api(
            "GET",
            &format!("/api/v1/derivaciones/{referral}"),
            Some(&staff.b_capturista),
            None,
        )
        .await;
    assert_eq!(
        opened.json()["referral"]["estado"],
        "recibida",
        "{}",
        opened.text()
    );
    let folio = derivacion["folio"].as_str().expect("folio");
    let answer_draft = draft(
        &service,
        &staff.b_capturista,
        "contrarreferencia",
        &contrarreferencia_of(folio),
    )
    .await;
    step(
        &service,
        &staff.b_capturista,
        answer_draft,
        "submit",
        None,
        StatusCode::OK,
    )
    .await;
    let signed = step(
        &service,
        &staff.b,
        answer_draft,
        "sign",
        None,
        StatusCode::CREATED,
    )
    .await;
    let answer = signed["issued"]["document"].clone();
    let pdf = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}/pdf", answer["id"].as_str().expect("id")),
            Some(&staff.b),
            None,
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);

    // A's case shows it answered, with B's answer among its documents.
    let seen = service
        .api(
            "GET",
            &format!("/api/v1/derivaciones/{referral}"),
            Some(&staff.a),
            None,
        )
        .await
        .json();
    assert_eq!(seen["referral"]["estado"], "respondida", "{seen}");
    assert_eq!(seen["referral"]["answer_folio"], answer["folio"]);
    let expediente = service
        .api(
            "GET",
            &format!(
                "/api/v1/expedientes/{}",
                derivacion["expediente_id"].as_str().expect("id")
            ),
            Some(&staff.a),
            None,
        )
        .await
        .json();
    assert_eq!(
        expediente["referrals"][0]["answer_folio"], answer["folio"],
        "{expediente}"
    );
}
crate::archive_conformance!(the_gsl_referral_flow_runs_through_the_api);

/// An annulled derivación reads «anulada» to the office it went to (its
/// inbox, its page, the API), offers no answer, and no longer serves the
/// documents it shared.
async fn an_annulled_derivacion_reads_annulled_and_shares_nothing_more(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = offices(&service).await;
    // B hears of the derivaciones it receives, with their persons.
    let (b_admin, _) = service.user(B, "admin.webhooks.b", Role::Administrador).await;
    let b_admin = service.token(&b_admin).await;
    let subscribed = service
        .api(
            "POST",
            "/api/v1/webhooks",
            Some(&b_admin),
            Some(json!({"url": "https://8.8.8.8/hook", "events": ["referral.sent"], "scope": "datos"})),
        )
        .await;
    assert_eq!(subscribed.status, StatusCode::CREATED, "{}", subscribed.text());
    let mut informe = example_now("informe-social");
    informe["usuario"] = rosa();
    let shared = issue(&service, &staff.a, "informe-social", &informe).await;
    let shared_folio = shared["folio"].as_str().expect("folio");
    let derivacion = issue(
        &service,
        &staff.a,
        "derivacion",
        &derivacion_to(B, &[shared_folio]),
    )
    .await;
    let id = public_id(&derivacion["id"]);
    let folio = derivacion["folio"].as_str().expect("folio").to_owned();
    let shared_pdf = format!(
        "/api/v1/derivaciones/{id}/documentos/{}/pdf",
        shared["id"].as_str().expect("id")
    );
    // B opens it and reads the informe, while it is in force.
    let opened = service
        .api("GET", &format!("/api/v1/derivaciones/{id}"), Some(&staff.b), None)
        .await;
    assert_eq!(opened.json()["referral"]["estado"], "recibida");
    let pdf = service.api("GET", &shared_pdf, Some(&staff.b), None).await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text());
    // Its page offers the answer, begun with what the derivación says.
    let (_, b_password) = service.user(B, "operadora.web", Role::Capturista).await;
    let mut b_web = service.browser("operadora.web", &b_password).await;
    let answer_link = format!("/formularios/contrarreferencia?derivacion={id}");
    let page = b_web.get(&format!("/derivaciones/{id}")).await.text();
    assert!(page.contains(&answer_link), "{page}");
    let begun = b_web.get(&answer_link).await.text();
    assert!(
        begun.contains(&format!("value=\"{folio}\"")) && begun.contains("Rosa Elena Parra Vergara"),
        "{begun}"
    );
    // The receiving unit as the derivación printed it: B's registered name.
    assert!(
        begun.contains("value=\"Unidad de Subsidios Sociales\""),
        "{begun}"
    );
    // Reading the derivación's data into the answer is recorded.
    let row = fixture.archive.document(&folio).await.expect("derivación").row_id;
    let events = fixture.archive.document_events(row).await.expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.action == "derivacion.documento_consultado"
                && e.actor == "operadora.web"
                && e.details.contains("\"datos\"")),
        "{events:?}"
    );

    let store = fixture.archive.store();
    let delivery: i64 = sqlx::query_scalar(
        "SELECT d.id FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         WHERE e.office_code = $1 AND e.kind = 'referral.sent'",
    )
    .bind(B)
    .fetch_one(store.pool())
    .await
    .expect("B's delivery");
    let sent_to_b = async || {
        let outgoing = sello::archive::webhooks::outgoing(store, delivery)
            .await
            .expect("read")
            .expect("the delivery");
        sello::webhooks::body_of(store, &outgoing).await.expect("body")
    };
    let body = sent_to_b().await;
    assert!(
        body.to_string().contains("Rosa Elena Parra Vergara"),
        "while in force: {body}"
    );

    fixture
        .archive
        .annul(&folio, "Derivada a la oficina equivocada", "asistente.a", None)
        .await
        .expect("annulled");
    // Sent again (a retry, or by hand) once annulled: no longer B's to see.
    let body = sent_to_b().await;
    assert!(body["data"]["document"]["persons"].is_null(), "{body}");
    assert!(!body.to_string().contains("Rosa Elena"), "{body}");

    let inbox = service
        .api("GET", "/api/v1/derivaciones", Some(&staff.b), None)
        .await
        .json();
    assert_eq!(inbox["recibidas"][0]["estado"], "anulada", "{inbox}");
    let opened = service
        .api("GET", &format!("/api/v1/derivaciones/{id}"), Some(&staff.b), None)
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    let opened = opened.json();
    assert_eq!(opened["referral"]["estado"], "anulada", "{opened}");
    assert_eq!(
        folios(&opened["documents"]),
        vec![folio.clone()],
        "only the derivación"
    );
    let pdf = service.api("GET", &shared_pdf, Some(&staff.b), None).await;
    assert_eq!(pdf.status, StatusCode::NOT_FOUND, "{}", pdf.text());
    assert!(pdf.text().contains("está anulada"), "{}", pdf.text());
    // The office that referred still sees what it shared: its own.
    let pdf = service.api("GET", &shared_pdf, Some(&staff.a), None).await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text());

    // The staff pages say so and offer no answer.
    let list = b_web.get("/derivaciones").await.text();
    assert!(list.contains("anulada") && !list.contains(">enviada<"), "{list}");
    let page = b_web.get(&format!("/derivaciones/{id}")).await.text();
    assert!(page.contains("anulada"), "{page}");
    assert!(!page.contains("Responder con una contrarreferencia"), "{page}");
    assert!(!page.contains(shared_folio), "{page}");
    let web_pdf = b_web
        .get(&format!(
            "/derivaciones/{id}/documentos/{}",
            shared["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(web_pdf.status, StatusCode::NOT_FOUND);
}
crate::archive_conformance!(an_annulled_derivacion_reads_annulled_and_shares_nothing_more);

/// The export of an expediente that referred a case carries the
/// contrarreferencia another office issued in answer, as its history shows
/// it: apart, said to be that office's, its export recorded as a view of
/// it. Its persons are the people of the case, not the office's staff a
/// document names (the Asistente Social who wrote the informe).
async fn an_export_carries_the_answers_of_other_offices_and_only_the_persons_of_the_case(fixture: &Fixture) {
    use std::io::Read as _;
    record_office(&fixture.archive, B).await;
    let mut informe = example("informe-social");
    informe["usuario"] = rosa();
    let informe = fixture.issue("informe-social", &informe).await;
    let mut data = derivacion_to(B, &[informe.folio.as_str()]);
    data["fecha_derivacion"] = json!("2026-11-20");
    let derivacion = fixture.issue("derivacion", &data).await;
    assert_eq!(derivacion.expediente_id, informe.expediente_id, "Rosa's case");
    let b = fixture.archive.for_office(Office::new(B, "Subsidios"));
    let mut answer = contrarreferencia_of(&derivacion.folio);
    answer["fecha_respuesta"] = json!("2026-11-22");
    answer["fecha_atencion"] = json!("2026-11-21");
    let answer = issue_into(&b, &fixture.key, "contrarreferencia", &answer, 22, None)
        .await
        .expect("answered")
        .record()
        .clone();

    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("expediente.zip");
    fixture
        .archive
        .export_expediente(derivacion.expediente_id, &out, "archivista")
        .await
        .expect("export");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).expect("zip")).expect("zip");
    let mut read = |name: &str| {
        let mut bytes = Vec::new();
        zip.by_name(name)
            .unwrap_or_else(|_| panic!("{name} in the export"))
            .read_to_end(&mut bytes)
            .expect("read");
        bytes
    };
    let manifest: Value = serde_json::from_slice(&read("manifest.json")).expect("JSON");

    // The answer, apart from the expediente's own documents.
    let answers = manifest["respuestas_de_otras_oficinas"]
        .as_array()
        .expect("answers");
    assert_eq!(answers.len(), 1, "{manifest}");
    let entry = &answers[0];
    assert_eq!(entry["folio"], json!(answer.folio));
    assert_eq!(entry["emitido_por_otra_oficina"], B);
    assert_eq!(entry["responde_a_la_derivacion"], json!(derivacion.folio));
    let pdf = read(entry["archivo"].as_str().expect("file"));
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(json!(sello::archive::sha256_hex(&pdf)), entry["sha256"]);
    assert!(
        !manifest["documentos"]
            .as_array()
            .expect("documents")
            .iter()
            .any(|d| d["folio"] == json!(answer.folio)),
        "not one of the expediente's own: {manifest}"
    );
    let sums = String::from_utf8(read("SHA256SUMS")).expect("utf-8");
    assert!(sums.contains(entry["archivo"].as_str().expect("file")), "{sums}");
    let seen = fixture
        .archive
        .document_events(answer.row_id)
        .await
        .expect("events");
    assert!(
        seen.iter().any(|e| e.action == "derivacion.documento_consultado"
            && e.actor == "archivista"
            && e.details.contains("\"exportacion\"")),
        "{seen:?}"
    );

    // The persons: Rosa and her household, not the Asistente Social who
    // wrote the informe.
    let persons: Vec<&str> = manifest["personas"]
        .as_array()
        .expect("persons")
        .iter()
        .filter_map(|p| p["identity"].as_str())
        .collect();
    assert!(persons.contains(&"7654321-6"), "{manifest}");
    assert!(persons.contains(&"16543210-K"), "{manifest}");
    assert!(!persons.contains(&"13456789-9"), "{manifest}");
}
crate::archive_conformance!(an_export_carries_the_answers_of_other_offices_and_only_the_persons_of_the_case);
