//! The procedures of seed 004 (DIF Municipal, Auxiliar de Área) end to end
//! through the API: each step taken by the role the form's workflow names
//! and refused to the others, a rejection back to the drafter with its
//! reason, the last signature issuing a PDF that carries every visado and
//! signature, and the audit trail showing every step in order.

use axum::http::StatusCode;
use sello::accounts::Role;
use sello::public_id::PublicId;
use serde_json::{Value, json};

use crate::Fixture;
use crate::http::Service;

const OFFICE: &str = "DIF-SLP";

/// The staff of a DIF office, each with an API token.
pub struct Staff {
    pub auxiliar: String,
    pub contador: String,
    pub directora: String,
    pub revisor: String,
    pub otra_auxiliar: String,
}

pub async fn staff(service: &Service) -> Staff {
    let mut tokens = Vec::new();
    for (name, role) in [
        ("auxiliar", Role::Capturista),
        ("contador", Role::Contador),
        ("directora", Role::Firmante),
        ("revisor", Role::Revisor),
        ("otra.auxiliar", Role::Capturista),
    ] {
        let (user, _) = service.user(OFFICE, name, role).await;
        tokens.push(service.token(&user).await);
    }
    let mut tokens = tokens.into_iter();
    let mut next = || tokens.next().expect("token");
    Staff {
        auxiliar: next(),
        contador: next(),
        directora: next(),
        revisor: next(),
        otra_auxiliar: next(),
    }
}

/// Starts a draft of `form` with `data`; returns its id.
pub async fn draft(service: &Service, token: &str, form: &str, data: &Value) -> PublicId {
    let answer = service
        .api(
            "POST",
            "/api/v1/drafts",
            Some(token),
            Some(json!({"form": form, "data": data})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    crate::public_id(&answer.json()["id"])
}

/// Takes `action` on draft `id`, expecting `status`; returns the answer's JSON.
pub async fn step(
    service: &Service,
    token: &str,
    id: PublicId,
    action: &str,
    reason: Option<&str>,
    status: StatusCode,
) -> Value {
    let body = reason.map(|r| json!({"reason": r}));
    let answer = service
        .api(
            "POST",
            &format!("/api/v1/drafts/{id}/{action}"),
            Some(token),
            body,
        )
        .await;
    assert_eq!(answer.status, status, "{action} on draft {id}: {}", answer.text());
    answer.json()
}

/// The step a draft is at, or `None` once issued.
pub async fn step_of(service: &Service, token: &str, id: PublicId) -> Option<String> {
    let answer = service
        .api("GET", &format!("/api/v1/drafts/{id}"), Some(token), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["step"]["id"].as_str().map(str::to_owned)
}

/// The drafts in a user's inbox, by id.
pub async fn inbox(service: &Service, token: &str) -> Vec<Value> {
    let answer = service.api("GET", "/api/v1/inbox", Some(token), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json().as_array().expect("list").clone()
}

pub fn in_inbox(items: &[Value], id: PublicId) -> Option<&Value> {
    items.iter().find(|i| i["draft"] == id.to_string())
}

/// The audit actions about a draft and its document, in order.
pub async fn trail(service: &Service, token: &str, id: PublicId) -> Vec<String> {
    let answer = service
        .api("GET", &format!("/api/v1/drafts/{id}"), Some(token), None)
        .await;
    answer.json()["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect()
}

/// The issued document's PDF as text, after checking its signature.
pub async fn issued_pdf_text(service: &Service, token: &str, fixture: &Fixture, document: &Value) -> String {
    let id = crate::public_id(&document["id"]);
    let answer = service
        .api("GET", &format!("/api/v1/documents/{id}/pdf"), Some(token), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let mut trusted = sello::keys::TrustedKeys::default();
    trusted
        .add(fixture.key.certificate.clone(), sello::keys::KeyStatus::Active)
        .expect("trust");
    let report = sello::pdf::verify_pdf(&answer.bytes, &trusted).expect("parses");
    assert!(report.is_valid(), "the issued PDF verifies");
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &answer.bytes).expect("write");
    crate::assert_qpdf_check(file.path());
    crate::pdf_text(file.path())
}

async fn a_request_for_support_is_quoted_approved_against_the_budget_and_authorised(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;

    // The request: the clerk registers it, the director authorises follow-up.
    let request = draft(
        &service,
        &staff.auxiliar,
        "solicitud-apoyo",
        &crate::example_now("solicitud-apoyo"),
    )
    .await;
    step(&service, &staff.auxiliar, request, "submit", None, StatusCode::OK).await;
    step(
        &service,
        &staff.contador,
        request,
        "sign",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    let signed = step(
        &service,
        &staff.directora,
        request,
        "sign",
        None,
        StatusCode::CREATED,
    )
    .await;
    let request_folio = signed["issued"]["document"]["folio"]
        .as_str()
        .expect("folio")
        .to_owned();

    // The authorisation cannot be issued in one go: it needs the budget's approval.
    let mut quote = crate::example_now("oficio-autorizacion-apoyo");
    quote["folio_solicitud"] = json!(request_folio);
    quote["monto"] = json!(9800.0);
    let direct = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&staff.directora),
            Some(json!({"form": "oficio-autorizacion-apoyo", "data": quote})),
        )
        .await;
    assert_eq!(direct.status, StatusCode::CONFLICT, "{}", direct.text());
    assert_eq!(direct.json()["error"]["code"], "workflow_required");
    assert!(direct.text().contains("contador"), "{}", direct.text());

    // A draft's own key is Sello's: no client may take it.
    let taken = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&staff.directora),
            Some(json!({"form": "oficio-comision", "data": crate::example_now("oficio-comision")})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CREATED);
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/documents")
        .header("authorization", format!("Bearer {}", staff.directora))
        .header("content-type", "application/json")
        .header("idempotency-key", "borrador-2");
    request = request.header("accept", "application/json");
    let body = json!({"form": "oficio-comision", "data": crate::example_now("oficio-comision")}).to_string();
    let squatted = service
        .send(request.body(axum::body::Body::from(body)).expect("request"))
        .await;
    assert_eq!(squatted.status, StatusCode::BAD_REQUEST, "{}", squatted.text());

    // A quote citing a solicitud the office never issued is not sent on.
    let mut unknown = quote.clone();
    unknown["folio_solicitud"] = json!(format!("{}0999", &request_folio[..request_folio.len() - 4]));
    let stray = draft(&service, &staff.auxiliar, "oficio-autorizacion-apoyo", &unknown).await;
    let refused = step(
        &service,
        &staff.auxiliar,
        stray,
        "submit",
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .to_string();
    assert!(
        refused.contains("folio_solicitud") && refused.contains("no está en el archivo de esta oficina"),
        "{refused}"
    );

    // Four eyes: the accountant who writes a quote does not approve it.
    let own = draft(&service, &staff.contador, "oficio-autorizacion-apoyo", &quote).await;
    step(&service, &staff.contador, own, "submit", None, StatusCode::OK).await;
    let refused = step(
        &service,
        &staff.contador,
        own,
        "approve",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .expect("message")
            .contains("usted preparó"),
        "{refused}"
    );

    // The clerk quotes and sends it to the accountant.
    let id = draft(&service, &staff.auxiliar, "oficio-autorizacion-apoyo", &quote).await;
    assert_eq!(
        step_of(&service, &staff.auxiliar, id).await.as_deref(),
        Some("cotizacion")
    );
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    assert!(in_inbox(&inbox(&service, &staff.contador).await, id).is_some());
    assert!(in_inbox(&inbox(&service, &staff.directora).await, id).is_none());
    // Sent on, the quote cannot be changed, nor skipped, nor taken by others.
    let edit = service
        .api(
            "PUT",
            &format!("/api/v1/drafts/{id}"),
            Some(&staff.auxiliar),
            Some(json!({"data": quote})),
        )
        .await;
    assert_eq!(edit.status, StatusCode::CONFLICT, "{}", edit.text());
    step(&service, &staff.directora, id, "sign", None, StatusCode::CONFLICT).await;
    step(
        &service,
        &staff.directora,
        id,
        "approve",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    step(
        &service,
        &staff.revisor,
        id,
        "approve",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    step(
        &service,
        &staff.auxiliar,
        id,
        "approve",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;

    // The accountant rejects it, with a reason that is required.
    step(
        &service,
        &staff.contador,
        id,
        "reject",
        None,
        StatusCode::CONFLICT,
    )
    .await;
    let reason = "El monto excede la partida 4410; cotice con otro proveedor";
    step(
        &service,
        &staff.contador,
        id,
        "reject",
        Some(reason),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        step_of(&service, &staff.auxiliar, id).await.as_deref(),
        Some("cotizacion")
    );
    let mine = inbox(&service, &staff.auxiliar).await;
    assert_eq!(
        in_inbox(&mine, id).expect("back to the drafter")["returned_because"],
        reason
    );
    assert!(in_inbox(&inbox(&service, &staff.otra_auxiliar).await, id).is_none());
    assert!(in_inbox(&inbox(&service, &staff.contador).await, id).is_none());

    // Corrected and sent again, approved, then authorised and issued.
    quote["monto"] = json!(7450.5);
    let edit = service
        .api(
            "PUT",
            &format!("/api/v1/drafts/{id}"),
            Some(&staff.auxiliar),
            Some(json!({"data": quote})),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text());
    // The history says what changed, by its label, and not the amounts.
    let events = service
        .api(
            "GET",
            &format!("/api/v1/drafts/{id}"),
            Some(&staff.auxiliar),
            None,
        )
        .await
        .json()["events"]
        .clone();
    let changed = (events.as_array().expect("events").iter())
        .find(|e| e["action"] == "borrador.modificado")
        .expect("the edit is recorded");
    assert_eq!(changed["details"], r#"{"campos":["Monto autorizado"]}"#);
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    step(
        &service,
        &staff.contador,
        id,
        "approve",
        Some("Partida 4410 con suficiencia"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        step_of(&service, &staff.auxiliar, id).await.as_deref(),
        Some("autorizacion")
    );
    assert!(in_inbox(&inbox(&service, &staff.directora).await, id).is_some());
    step(&service, &staff.contador, id, "sign", None, StatusCode::FORBIDDEN).await;
    let issued = step(&service, &staff.directora, id, "sign", None, StatusCode::CREATED).await;
    let document = &issued["issued"]["document"];
    assert_eq!(document["status"], "emitido");
    assert_eq!(issued["draft"]["document"], document["id"]);
    assert!(issued["draft"]["step"].is_null());
    assert!(in_inbox(&inbox(&service, &staff.directora).await, id).is_none());
    // Issued once: a second signature is refused.
    step(&service, &staff.directora, id, "sign", None, StatusCode::CONFLICT).await;

    // The PDF carries the approval and the signature, with the corrected amount.
    let text = issued_pdf_text(&service, &staff.directora, fixture, document).await;
    assert!(text.contains("Constancia del trámite"), "{text}");
    assert!(
        text.contains("Aprobación de la cotización conforme al presupuesto"),
        "{text}"
    );
    assert!(
        text.contains("Persona contador") && text.contains("Dio su visto bueno"),
        "{text}"
    );
    assert!(
        text.contains("Persona directora") && text.contains("Firmó electrónicamente"),
        "{text}"
    );
    assert!(
        text.contains("$7,450.50") && !text.contains("$9,800.00"),
        "{text}"
    );
    // It cites the solicitud by the folio Sello gave it, checked and dated,
    // and the two documents link to each other.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!("registrada con folio {request_folio} del ")),
        "{words}"
    );
    let get = |reference: String| {
        let service = &service;
        let token = staff.revisor.clone();
        async move {
            let answer = service
                .api(
                    "GET",
                    &format!("/api/v1/documents/{reference}"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
            answer.json()
        }
    };
    let authorisation = get(crate::public_id(&document["id"]).to_string()).await;
    assert_eq!(authorisation["cites"][0]["folio"], request_folio.as_str());
    assert_eq!(authorisation["cites"][0]["field"], "folio_solicitud");
    assert_eq!(authorisation["cites"][0]["form"], "solicitud-apoyo");
    let solicitud = get(crate::public_id(&authorisation["cites"][0]["document"]).to_string()).await;
    assert_eq!(solicitud["cited_by"][0]["document"], document["id"]);
    assert_eq!(solicitud["cites"], json!([]));

    // Delivery: the beneficiary signs the acknowledgement on the tablet;
    // both papers are archived in the beneficiary's expediente.
    let acknowledgement = json!({"kind": "pantalla", "purpose": "Acuse de recibo del apoyo",
        "media_type": "image/png", "content_base64": data_encoding::BASE64.encode(&crate::in_person::drawn_png(600, 200, 2)),
        "name": "José Luis Martínez Rodríguez", "consent": true, "device": "Tableta de Recepción"});
    let delivered = service
        .api(
            "POST",
            &format!(
                "/api/v1/documents/{}/hand-signatures",
                crate::public_id(&document["id"])
            ),
            Some(&staff.auxiliar),
            Some(acknowledgement),
        )
        .await;
    assert_eq!(delivered.status, StatusCode::CREATED, "{}", delivered.text());
    let expediente = service
        .api(
            "GET",
            &format!(
                "/api/v1/expedientes/{}",
                crate::public_id(&document["expediente_id"])
            ),
            Some(&staff.revisor),
            None,
        )
        .await
        .json();
    let folios: Vec<&str> = expediente["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d["folio"].as_str().expect("folio"))
        .collect();
    assert!(
        folios.contains(&request_folio.as_str())
            && folios.contains(&document["folio"].as_str().expect("folio")),
        "{folios:?}"
    );

    // Every step is in the audit trail, in order: issuance, then delivery.
    assert_eq!(
        trail(&service, &staff.auxiliar, id).await,
        [
            "borrador.enviado",
            "borrador.rechazado",
            "borrador.modificado",
            "borrador.enviado",
            "borrador.visado",
            "borrador.firmado",
            "documento.emitido",
            "firma_autografa.en_pantalla"
        ]
    );
    let history = service
        .api(
            "GET",
            &format!("/api/v1/drafts/{id}"),
            Some(&staff.contador),
            None,
        )
        .await
        .json();
    let steps = history["history"].as_array().expect("history");
    assert_eq!(steps[1]["note"], reason);
    assert_eq!(steps[3]["step"], "aprobacion-presupuesto");
    // The document's own trail includes its draft's steps.
    let document_id = crate::row_of(&fixture.archive, &document["id"]).await;
    let events = fixture
        .archive
        .document_events(document_id)
        .await
        .expect("events");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.first(), Some(&"borrador.enviado"));
    assert!(actions.contains(&"borrador.visado"));
    let audit = fixture.archive.verify_audit().await.expect("audit");
    assert!(audit.broken.is_none(), "the chain holds: {:?}", audit.broken);
}
crate::archive_conformance!(a_request_for_support_is_quoted_approved_against_the_budget_and_authorised);

/// Drafts `form`'s example and sends it; checks who may not sign; has
/// the director send it back once with a reason the drafter sees, then
/// sign it; checks the PDF carries the signature and the trail every
/// step. Returns the issued document.
async fn drafted_sent_and_signed(
    service: &Service,
    fixture: &Fixture,
    staff: &Staff,
    form: &str,
    data: &Value,
) -> Value {
    let id = draft(service, &staff.auxiliar, form, data).await;
    step(service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    for other in [&staff.auxiliar, &staff.contador, &staff.revisor] {
        step(service, other, id, "sign", None, StatusCode::FORBIDDEN).await;
        step(
            service,
            other,
            id,
            "reject",
            Some("No me toca"),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let reason = "Revise la fecha antes de enviarlo";
    step(
        service,
        &staff.directora,
        id,
        "reject",
        Some(reason),
        StatusCode::OK,
    )
    .await;
    let returned = inbox(service, &staff.auxiliar).await;
    assert_eq!(
        in_inbox(&returned, id).expect("back to the drafter")["returned_because"],
        reason
    );
    step(service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    let issued = step(service, &staff.directora, id, "sign", None, StatusCode::CREATED).await;
    assert_eq!(
        trail(service, &staff.auxiliar, id).await,
        [
            "borrador.enviado",
            "borrador.rechazado",
            "borrador.enviado",
            "borrador.firmado",
            "documento.emitido"
        ]
    );
    let document = issued["issued"]["document"].clone();
    let text = issued_pdf_text(service, &staff.directora, fixture, &document).await;
    assert!(
        text.contains("Persona directora") && text.contains("Firmó electrónicamente"),
        "{text}"
    );
    document
}

async fn transport_letters_are_authorised_and_their_weekly_report_is_not_drafted(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let letter = drafted_sent_and_signed(
        &service,
        fixture,
        &staff,
        "oficio-estrella-blanca",
        &crate::example_now("oficio-estrella-blanca"),
    )
    .await;
    let text = issued_pdf_text(&service, &staff.directora, fixture, &letter).await;
    assert!(text.contains("Autorización del apoyo de transporte"), "{text}");

    // The weekly report that lists it is Sello's to build from the archive
    // once the week is over (`registros.rs`); nobody drafts it.
    let refused = service
        .api(
            "POST",
            "/api/v1/drafts",
            Some(&staff.auxiliar),
            Some(json!({"form": "reporte-semanal-oficios", "data": crate::example_now("reporte-semanal-oficios")})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
}
crate::archive_conformance!(transport_letters_are_authorised_and_their_weekly_report_is_not_drafted);

async fn nobody_fills_by_hand_a_form_sello_builds_from_the_archive(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let (_, password) = service.user(OFFICE, "directora.web", Role::Firmante).await;
    let mut web = service.browser("directora.web", &password).await;
    for form in ["padron-lote", "padron-programa", "reporte-semanal-oficios"] {
        let blank = web.get(&format!("/formularios/{form}")).await;
        assert_eq!(blank.status, StatusCode::BAD_REQUEST, "{form}: {}", blank.text());
        assert!(blank.text().contains("lo arma Sello"), "{form}: {}", blank.text());
        let data = crate::example_now(form);
        let mut fields: Vec<(String, String)> = vec![("_accion".into(), "emitir".into())];
        if let Some(object) = data.as_object() {
            for (name, value) in object {
                if let Some(text) = value.as_str() {
                    fields.push((name.clone(), text.to_owned()));
                }
            }
        }
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let sent = web.post("/", &format!("/formularios/{form}"), &refs).await;
        assert_eq!(sent.status, StatusCode::BAD_REQUEST, "{form}: {}", sent.text());
        for (uri, token) in [
            ("/api/v1/drafts", &staff.auxiliar),
            ("/api/v1/documents", &staff.directora),
        ] {
            let refused = service
                .api(
                    "POST",
                    uri,
                    Some(token),
                    Some(json!({"form": form, "data": data})),
                )
                .await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{form} {uri}: {}",
                refused.text()
            );
        }
    }
    let listed = web.get("/formularios").await.text();
    assert!(!listed.contains("/formularios/padron-lote"), "{listed}");
}
crate::archive_conformance!(nobody_fills_by_hand_a_form_sello_builds_from_the_archive);

async fn a_functional_aid_rejected_by_the_director_returns_to_its_drafter(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let data = crate::example_now("oficio-ayuda-funcional");
    let id = draft(&service, &staff.auxiliar, "oficio-ayuda-funcional", &data).await;
    // Another clerk's draft is not in this one's inbox; it is in its author's.
    assert!(in_inbox(&inbox(&service, &staff.auxiliar).await, id).is_some());
    assert!(in_inbox(&inbox(&service, &staff.otra_auxiliar).await, id).is_none());
    // Invalid data is not sent on.
    let mut broken = data.clone();
    broken.as_object_mut().expect("object").remove("beneficiario");
    let broken_id = draft(&service, &staff.auxiliar, "oficio-ayuda-funcional", &broken).await;
    let refused = step(
        &service,
        &staff.auxiliar,
        broken_id,
        "submit",
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        refused["error"]["problems"].to_string().contains("beneficiario"),
        "{refused}"
    );

    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    let reason = "Falta el estudio socioeconómico del beneficiario";
    step(
        &service,
        &staff.directora,
        id,
        "reject",
        Some(reason),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        in_inbox(&inbox(&service, &staff.auxiliar).await, id).expect("returned")["returned_because"],
        reason
    );
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    let issued = step(&service, &staff.directora, id, "sign", None, StatusCode::CREATED).await;
    assert_eq!(issued["issued"]["document"]["form"], "oficio-ayuda-funcional");
    assert_eq!(
        trail(&service, &staff.auxiliar, id).await,
        [
            "borrador.enviado",
            "borrador.rechazado",
            "borrador.enviado",
            "borrador.firmado",
            "documento.emitido"
        ]
    );
}
crate::archive_conformance!(a_functional_aid_rejected_by_the_director_returns_to_its_drafter);

async fn a_staff_commission_is_drafted_by_the_clerk_and_authorised_by_the_director(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let document = drafted_sent_and_signed(
        &service,
        fixture,
        &staff,
        "oficio-comision",
        &crate::example_now("oficio-comision"),
    )
    .await;
    let text = issued_pdf_text(&service, &staff.directora, fixture, &document).await;
    assert!(text.contains("Autorización de la comisión"), "{text}");
    // Another office cannot see the draft nor act on it.
    service
        .state
        .accounts
        .create_office("DIF-SOL", "DIF Soledad", "admin.soledad")
        .await
        .expect("office");
    let (outsider, _) = service.user("DIF-SOL", "ajena", Role::Firmante).await;
    let outsider = service.token(&outsider).await;
    let id = draft(
        &service,
        &staff.auxiliar,
        "oficio-comision",
        &crate::example_now("oficio-comision"),
    )
    .await;
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    step(&service, &outsider, id, "sign", None, StatusCode::NOT_FOUND).await;
    let seen = service
        .api("GET", &format!("/api/v1/drafts/{id}"), Some(&outsider), None)
        .await;
    assert_eq!(seen.status, StatusCode::NOT_FOUND);
    assert!(in_inbox(&inbox(&service, &outsider).await, id).is_none());
}
crate::archive_conformance!(a_staff_commission_is_drafted_by_the_clerk_and_authorised_by_the_director);
