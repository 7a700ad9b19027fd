//! The offices' hierarchy (seed 003: Coordinación nacional → coordinador
//! provincial → Supervisor → Promotor social): an account reads the
//! offices under its own, read only and recorded in their audit trails;
//! sibling offices stay as apart as ever; a supervisor granted the visado
//! of an office under theirs gives it, and the document says who and from
//! which office; no office ends up under itself.

use axum::http::StatusCode;
use sello::accounts::{NewUser, Role, User};
use serde_json::{Value, json};

use crate::http::Service;
use crate::in_person::{base64, draw, drawn_png};
use crate::workflows::{draft, issued_pdf_text, step};
use crate::{Fixture, example_now, public_id};

const INSTALLATION: &str = "DIF-SLP";
const NATIONAL: &str = "NAC";
const PROVINCE: &str = "PRV-COCLE";
const PROVINCE_NAME: &str = "Coordinación provincial de Coclé";
const OTHER_PROVINCE: &str = "PRV-VERAGUAS";
const A: &str = "DIST-PENONOME";
const B: &str = "DIST-AGUADULCE";
const C: &str = "DIST-SANTIAGO";

/// National over two provinces; A and B under Coclé, C under Veraguas.
/// Placed through the API by the installation's administrator.
async fn hierarchy(service: &Service) -> String {
    let (admin, _) = service
        .user(INSTALLATION, "instalacion", Role::Administrador)
        .await;
    let admin = service.token(&admin).await;
    for (code, name) in [
        (NATIONAL, "Coordinación nacional de Acompañamiento Familiar"),
        (PROVINCE, PROVINCE_NAME),
        (OTHER_PROVINCE, "Coordinación provincial de Veraguas"),
        (A, "Distrito de Penonomé"),
        (B, "Distrito de Aguadulce"),
        (C, "Distrito de Santiago"),
    ] {
        service
            .state
            .accounts
            .create_office(code, name, &format!("admin.{}", code.to_lowercase()))
            .await
            .expect("office");
    }
    for (code, parent) in [
        (PROVINCE, NATIONAL),
        (OTHER_PROVINCE, NATIONAL),
        (A, PROVINCE),
        (B, PROVINCE),
        (C, OTHER_PROVINCE),
    ] {
        let answer = service
            .api(
                "PUT",
                &format!("/api/v1/offices/{code}/parent"),
                Some(&admin),
                Some(json!({"parent": parent})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        assert_eq!(answer.json()["parent"], parent);
    }
    admin
}

/// A firmante of `office` issues an oficio de comisión through the API.
async fn issued_in(service: &Service, office: &str) -> Value {
    let (firmante, _) = service
        .user(
            office,
            &format!("firma.{}", office.to_lowercase()),
            Role::Firmante,
        )
        .await;
    let token = service.token(&firmante).await;
    let answer = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&token),
            Some(json!({"form": "oficio-comision", "data": example_now("oficio-comision")})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["document"].clone()
}

fn text_of(value: &Value) -> String {
    value.as_str().expect("text").to_owned()
}

/// The actions and details of a document's audit trail in its office.
async fn document_trail(service: &Service, office: &str, folio: &str) -> Vec<(String, String, String)> {
    let archive = service.state.archive_of_office(office).await.expect("archive");
    let document = archive.document(folio).await.expect("document");
    archive
        .document_events(document.row_id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.action, e.actor, e.details))
        .collect()
}

async fn status_in(service: &Service, office: &str, folio: &str) -> String {
    let archive = service.state.archive_of_office(office).await.expect("archive");
    archive
        .document(folio)
        .await
        .expect("document")
        .status
        .as_str()
        .to_owned()
}

async fn a_provincial_coordinator_reads_the_province_and_changes_nothing_in_it(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    hierarchy(&service).await;
    let in_a = issued_in(&service, A).await;
    let in_b = issued_in(&service, B).await;
    let in_c = issued_in(&service, C).await;
    let (coordinator, password) = service.user(PROVINCE, "coordinadora", Role::Firmante).await;
    let token = service.token(&coordinator).await;

    assert_eq!(
        service
            .state
            .accounts
            .visible_offices(&coordinator)
            .await
            .expect("offices"),
        [PROVINCE, B, A]
    );
    let offices = service.api("GET", "/api/v1/offices", Some(&token), None).await;
    let codes: Vec<String> = offices
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|o| text_of(&o["code"]))
        .collect();
    assert_eq!(codes, [PROVINCE, B, A]);

    // A's and B's documents, PDFs and expedientes read; C's are not there.
    for document in [&in_a, &in_b] {
        let id = public_id(&document["id"]);
        let answer = service
            .api("GET", &format!("/api/v1/documents/{id}"), Some(&token), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        assert_eq!(answer.json()["document"]["folio"], document["folio"]);
        let pdf = service
            .api("GET", &format!("/api/v1/documents/{id}/pdf"), Some(&token), None)
            .await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert!(pdf.bytes.starts_with(b"%PDF"));
        let expediente = public_id(&document["expediente_id"]);
        let answer = service
            .api(
                "GET",
                &format!("/api/v1/expedientes/{expediente}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
    let c_id = public_id(&in_c["id"]);
    for uri in [
        format!("/api/v1/documents/{c_id}"),
        format!("/api/v1/documents/{c_id}/pdf"),
        format!("/api/v1/expedientes/{}", public_id(&in_c["expediente_id"])),
    ] {
        let answer = service.api("GET", &uri, Some(&token), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
    }

    // The province's figures add up A and B, never C; a district sees only itself.
    let figures = service
        .api("GET", "/api/v1/estadisticas", Some(&token), None)
        .await;
    assert_eq!(figures.status, StatusCode::OK, "{}", figures.text());
    let figures = figures.json();
    assert_eq!(figures["oficinas"], json!([PROVINCE, B, A]), "{figures}");
    let mut counted: Vec<(String, i64)> = figures["por_oficina"]
        .as_array()
        .expect("offices")
        .iter()
        .map(|o| {
            (
                text_of(&o["clave"]),
                o["documentos"]["total"].as_i64().expect("total"),
            )
        })
        .collect();
    counted.sort();
    assert_eq!(counted, [(B.to_owned(), 1), (A.to_owned(), 1)], "{figures}");
    assert_eq!(figures["total"]["total"], 1 + 1, "{figures}");
    let (district, _) = service.user(A, "jefa.penonome", Role::Archivista).await;
    let district = service.token(&district).await;
    let own = service
        .api("GET", "/api/v1/estadisticas", Some(&district), None)
        .await;
    assert_eq!(own.json()["oficinas"], json!([A]), "{}", own.text());
    assert_eq!(own.json()["total"]["total"], 1, "{}", own.text());

    // One search across the province: A and B, never C.
    let search = service
        .api("GET", "/api/v1/search?q=Lucia", Some(&token), None)
        .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.text());
    let search = search.json();
    assert_eq!(search["total"], 2, "{search}");
    let mut found: Vec<String> = search["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| text_of(&h["office"]))
        .collect();
    found.sort();
    assert_eq!(found, [B, A]);
    let only_a = service
        .api(
            "GET",
            &format!("/api/v1/search?q=Lucia&office={A}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(only_a.json()["total"], 1);
    let asked_c = service
        .api(
            "GET",
            &format!("/api/v1/search?q=Lucia&office={C}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(asked_c.status, StatusCode::BAD_REQUEST, "{}", asked_c.text());

    // Reading is all: no annulment there, and what they issue is their own office's.
    let folio_a = text_of(&in_a["folio"]);
    let annul = service
        .api(
            "POST",
            &format!("/api/v1/documents/{}/annul", public_id(&in_a["id"])),
            Some(&token),
            Some(json!({"reason": "desde la provincia"})),
        )
        .await;
    assert_eq!(annul.status, StatusCode::FORBIDDEN, "{}", annul.text());
    assert_eq!(annul.json()["error"]["code"], "read_only");
    assert_eq!(status_in(&service, A, &folio_a).await, "emitido");
    let annul_c = service
        .api(
            "POST",
            &format!("/api/v1/documents/{c_id}/annul"),
            Some(&token),
            Some(json!({"reason": "ajeno"})),
        )
        .await;
    assert_eq!(annul_c.status, StatusCode::NOT_FOUND, "{}", annul_c.text());
    let own = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&token),
            Some(json!({"form": "oficio-comision", "data": example_now("oficio-comision")})),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text());
    let own_folio = text_of(&own.json()["document"]["folio"]);
    assert_eq!(status_in(&service, PROVINCE, &own_folio).await, "emitido");
    let a_archive = service.state.archive_of_office(A).await.expect("archive");
    assert!(
        a_archive.document(&own_folio).await.is_err(),
        "issued in the province, not in A"
    );

    // Every view across offices is in the trail of the office seen; C's has none.
    let trail = document_trail(&service, A, &folio_a).await;
    let views: Vec<&(String, String, String)> = trail
        .iter()
        .filter(|(action, ..)| action == "consulta.otra_oficina")
        .collect();
    assert!(
        views.iter().any(|(_, actor, details)| actor == "coordinadora"
            && details.contains(PROVINCE)
            && details.contains("\"vista\":\"documento\"")),
        "{trail:?}"
    );
    assert!(
        views
            .iter()
            .any(|(_, _, details)| details.contains("\"vista\":\"pdf\"")),
        "{trail:?}"
    );
    let trail_c = document_trail(&service, C, &text_of(&in_c["folio"])).await;
    assert!(
        !trail_c
            .iter()
            .any(|(action, ..)| action == "consulta.otra_oficina"),
        "{trail_c:?}"
    );

    // Nothing is seen upwards or sideways: A reads neither the province nor B.
    let a_firmante = service
        .state
        .accounts
        .user_by_username(&format!("firma.{}", A.to_lowercase()))
        .await
        .expect("user");
    let a_token = service.token(&a_firmante).await;
    for document in [&own.json()["document"], &in_b] {
        let id = public_id(&document["id"]);
        let answer = service
            .api("GET", &format!("/api/v1/documents/{id}"), Some(&a_token), None)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }
    let search_a = service
        .api("GET", "/api/v1/search?q=Lucia", Some(&a_token), None)
        .await;
    assert_eq!(search_a.json()["total"], 1);

    // The staff app: read, marked as another office's, with nothing to change.
    let mut browser = service.browser("coordinadora", &password).await;
    let page = browser
        .get(&format!("/documentos/{}", public_id(&in_a["id"])))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("su oficina lo consulta, sin modificarlo"), "{html}");
    assert!(!html.contains("Anular documento") && !html.contains("Corregir con un documento nuevo"));
    assert_eq!(
        browser.get(&format!("/documentos/{c_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    // Their own oficio and A's and B's; none of C's.
    let results = browser.get("/buscar?q=Lucia").await.text();
    assert!(
        results.contains("3 documento(s)") && results.contains(A) && results.contains(B),
        "{results}"
    );
    assert!(!results.contains(C), "{results}");
    let refused = browser
        .post(
            "/",
            &format!("/documentos/{}/anular", public_id(&in_a["id"])),
            &[("motivo", "desde la provincia")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(status_in(&service, A, &folio_a).await, "emitido");
}
crate::archive_conformance!(a_provincial_coordinator_reads_the_province_and_changes_nothing_in_it);

/// An account of `office` with its own name and cargo, and its API token.
async fn account(
    service: &Service,
    office: &str,
    username: &str,
    name: &str,
    cargo: &str,
    role: Role,
) -> (User, String) {
    let (user, one_time) = service
        .state
        .accounts
        .create_user(
            office,
            &NewUser {
                username: username.into(),
                display_name: name.into(),
                cargo: cargo.into(),
                role,
            },
        )
        .await
        .expect("user");
    service
        .state
        .accounts
        .change_password(user.id, &one_time, &format!("{username}-contraseña-propia"))
        .await
        .expect("password");
    let token = service.token(&user).await;
    (user, token)
}

async fn a_supervisor_granted_the_visado_endorses_a_promotors_acta_and_it_says_from_where(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    hierarchy(&service).await;
    let (_, promotor) = account(
        &service,
        A,
        "promotor",
        "Edwin Batista",
        "Promotor Social",
        Role::Capturista,
    )
    .await;
    let (_, director) = account(
        &service,
        A,
        "jefe.distrito",
        "Rosa Quintero",
        "Jefa de distrito",
        Role::Firmante,
    )
    .await;
    let (supervisor, supervisora) = account(
        &service,
        PROVINCE,
        "supervisora",
        "Maritza Rodríguez Castillo",
        "Supervisora de Promotores Sociales",
        Role::Revisor,
    )
    .await;
    let (_, coordinator) = account(
        &service,
        PROVINCE,
        "coordinador",
        "Ariel Pinzón",
        "Coordinador provincial",
        Role::Firmante,
    )
    .await;
    let (outsider, _) = account(
        &service,
        C,
        "revisora.c",
        "Otra Revisora",
        "Supervisora",
        Role::Revisor,
    )
    .await;

    let acta = example_now("acta-comite-familia");
    let members = acta["miembros"].as_array().expect("members").len();
    let id = draft(&service, &promotor, "acta-comite-familia", &acta).await;
    step(&service, &promotor, id, "submit", None, StatusCode::OK).await;
    for n in 1..=members {
        let (status, body) = draw(
            &service,
            &promotor,
            id,
            &format!("miembros[{n}]"),
            &drawn_png(420, 140, 2),
            true,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    step(&service, &promotor, id, "finish", None, StatusCode::OK).await;

    // Without a grant, the draft of an office below is not theirs to see or endorse.
    let hidden = service
        .api("GET", &format!("/api/v1/drafts/{id}"), Some(&supervisora), None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    step(&service, &supervisora, id, "approve", None, StatusCode::NOT_FOUND).await;

    // Grants: only a visado's roles, only in an office under the account's.
    let accounts = &service.state.accounts;
    let refused = accounts
        .grant(&supervisor, A, Role::Firmante, "instalacion")
        .await;
    assert!(refused.is_err_and(|e| e.to_string().contains("visado")));
    let refused = accounts.grant(&outsider, A, Role::Revisor, "instalacion").await;
    assert!(refused.is_err_and(|e| e.to_string().contains(A)));
    let refused = accounts.grant(&supervisor, C, Role::Revisor, "instalacion").await;
    assert!(refused.is_err_and(|e| e.to_string().contains(C)));
    let (_, admin_password) = service
        .user(INSTALLATION, "admin.visados", Role::Administrador)
        .await;
    let mut admin = service.browser("admin.visados", &admin_password).await;
    let granted = admin
        .post(
            &format!("/admin/oficinas/{A}"),
            &format!("/admin/oficinas/{A}/visado"),
            &[("usuario", "supervisora"), ("rol", "revisor")],
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text());
    assert!(
        granted.text().contains("Maritza Rodríguez Castillo"),
        "the page lists the grant"
    );

    // The coordinator holds no grant: still nothing to endorse or sign there.
    step(&service, &coordinator, id, "approve", None, StatusCode::NOT_FOUND).await;
    step(&service, &coordinator, id, "sign", None, StatusCode::NOT_FOUND).await;

    // The draft awaits the supervisor in their inbox, said of which office.
    let waiting = crate::workflows::inbox(&service, &supervisora).await;
    let item = crate::workflows::in_inbox(&waiting, id).expect("in the supervisor's inbox");
    assert_eq!(item["office"], A);
    assert!(crate::workflows::inbox(&service, &coordinator).await.is_empty());

    // The supervisor gives the visado, and only that.
    let seen = service
        .api("GET", &format!("/api/v1/drafts/{id}"), Some(&supervisora), None)
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text());
    let approved = step(
        &service,
        &supervisora,
        id,
        "approve",
        Some("Conformación del Comité revisada en campo"),
        StatusCode::OK,
    )
    .await;
    let visado = approved["draft"]["history"]
        .as_array()
        .expect("history")
        .iter()
        .find(|s| s["action"] == "visado")
        .expect("the visado")
        .clone();
    assert_eq!(visado["name"], "Maritza Rodríguez Castillo");
    assert_eq!(
        visado["cargo"],
        format!("Supervisora de Promotores Sociales — {PROVINCE_NAME} ({PROVINCE})")
    );
    let event = approved["draft"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "borrador.visado")
        .expect("the visado's event")
        .clone();
    assert_eq!(event["actor"], "supervisora");
    assert!(
        text_of(&event["details"]).contains(&format!("\"desde_oficina\":\"{PROVINCE}\"")),
        "{event}"
    );
    step(&service, &supervisora, id, "sign", None, StatusCode::FORBIDDEN).await;

    // The district signs and issues; the printed visado says who and from where.
    let issued = step(&service, &director, id, "sign", None, StatusCode::CREATED).await;
    let document = &issued["issued"]["document"];
    let text = issued_pdf_text(&service, &director, fixture, document).await;
    let compact: String = text.split_whitespace().collect();
    assert!(compact.contains("MaritzaRodríguezCastillo"), "{text}");
    assert!(
        compact.contains(&format!("({PROVINCE})")) && compact.contains("CoordinaciónprovincialdeCoclé"),
        "{text}"
    );
    assert!(compact.contains("RosaQuintero"), "{text}");

    // The staff app too: the draft's page offers the supervisor the visado, and takes it.
    let id2 = draft(&service, &promotor, "acta-comite-familia", &acta).await;
    step(&service, &promotor, id2, "submit", None, StatusCode::OK).await;
    for n in 1..=members {
        let (status, body) = draw(
            &service,
            &promotor,
            id2,
            &format!("miembros[{n}]"),
            &drawn_png(420, 140, 2),
            true,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    step(&service, &promotor, id2, "finish", None, StatusCode::OK).await;
    let mut browser = service
        .browser("supervisora", "supervisora-contraseña-propia")
        .await;
    // The issued acta, read from the province: its signatures drawn in
    // person open there as on the district's own page.
    let acta_id = public_id(&document["id"]);
    let acta_page = browser.get(&format!("/documentos/{acta_id}")).await;
    assert_eq!(acta_page.status, StatusCode::OK);
    let acta_html = acta_page.text();
    let link = format!("/documentos/{acta_id}/firmas/");
    let start = acta_html.find(&link).expect("a hand signature's link");
    let signature: String = acta_html[start..].chars().take_while(|c| *c != '"').collect();
    let image = browser.get(&signature).await;
    assert_eq!(image.status, StatusCode::OK, "{signature}");
    assert!(
        image.bytes.starts_with(b"\x89PNG"),
        "{signature} is the drawn PNG"
    );
    let home = browser.get("/").await.text();
    assert!(
        home.contains(&format!("/borradores/{id2}")) && home.contains(&format!("({A})")),
        "{home}"
    );
    let page = browser.get(&format!("/borradores/{id2}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Dar visto bueno"), "{}", page.text());
    let done = browser
        .post(
            &format!("/borradores/{id2}"),
            &format!("/borradores/{id2}/paso"),
            &[("_accion", "aprobar"), ("motivo", "")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(
        crate::workflows::step_of(&service, &director, id2)
            .await
            .as_deref(),
        Some("emision")
    );

    // Taken back, the grant opens nothing.
    assert!(accounts.revoke_grant(&supervisor, A).await.expect("revoked"));
    let hidden = service
        .api("GET", &format!("/api/v1/drafts/{id2}"), Some(&supervisora), None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
}
crate::archive_conformance!(a_supervisor_granted_the_visado_endorses_a_promotors_acta_and_it_says_from_where);

async fn a_granted_visado_takes_no_in_person_step_in_the_office_below(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    hierarchy(&service).await;
    let (_, promotor) = account(
        &service,
        A,
        "promotor",
        "Edwin Batista",
        "Promotor Social",
        Role::Capturista,
    )
    .await;
    let (supervisor, supervisora) = account(
        &service,
        PROVINCE,
        "supervisora",
        "Maritza Rodríguez Castillo",
        "Supervisora de Promotores Sociales",
        Role::Revisor,
    )
    .await;
    (service.state.accounts)
        .grant(&supervisor, A, Role::Revisor, "instalacion")
        .await
        .expect("grant");
    let acta = example_now("acta-comite-familia");
    let id = draft(&service, &promotor, "acta-comite-familia", &acta).await;
    step(&service, &promotor, id, "submit", None, StatusCode::OK).await;

    // At the members' signatures, the supervisor sees the draft but holds
    // no tablet, declares no paper signatures and returns nothing.
    let mut browser = service
        .browser("supervisora", "supervisora-contraseña-propia")
        .await;
    let page = browser.get(&format!("/borradores/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        !page.text().contains("firma-presencial") && !page.text().contains("Firmarán en papel"),
        "{}",
        page.text()
    );
    let png = format!("data:image/png;base64,{}", base64(&drawn_png(420, 140, 2)));
    let pad = browser
        .post(
            &format!("/borradores/{id}"),
            &format!("/borradores/{id}/firma-presencial"),
            &[
                ("firmante", "miembros[1]"),
                ("imagen", &png),
                ("consentimiento", "si"),
            ],
        )
        .await;
    assert_eq!(pad.status, StatusCode::FORBIDDEN, "{}", pad.text());
    assert!(pad.text().contains("visado"), "{}", pad.text());
    for action in ["papel", "continuar", "rechazar"] {
        let refused = browser
            .post(
                &format!("/borradores/{id}"),
                &format!("/borradores/{id}/paso"),
                &[("_accion", action), ("motivo", "Devuelto desde la provincia")],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{action}: {}",
            refused.text()
        );
    }
    let paper = service
        .api(
            "POST",
            &format!("/api/v1/drafts/{id}/finish"),
            Some(&supervisora),
            Some(json!({"on_paper": true})),
        )
        .await;
    assert_eq!(paper.status, StatusCode::FORBIDDEN, "{}", paper.text());
    step(
        &service,
        &supervisora,
        id,
        "reject",
        Some("Devuelto desde la provincia"),
        StatusCode::FORBIDDEN,
    )
    .await;

    // Nothing was recorded: still at the members' signatures, none drawn,
    // no step taken since it was sent.
    let seen = service
        .api("GET", &format!("/api/v1/drafts/{id}"), Some(&promotor), None)
        .await
        .json();
    assert_eq!(seen["step"]["id"], "firmas-miembros", "{seen}");
    let hand = seen["hand_signers"].as_array().expect("hand signers");
    assert!(hand.iter().all(|h| h["signature"].is_null()), "{seen}");
    let actions: Vec<&str> = seen["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|s| s["action"].as_str())
        .collect();
    assert_eq!(actions, ["enviado"], "{seen}");
}
crate::archive_conformance!(a_granted_visado_takes_no_in_person_step_in_the_office_below);

async fn no_office_ends_up_under_itself(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let admin = hierarchy(&service).await;
    let cycle = service
        .api(
            "PUT",
            &format!("/api/v1/offices/{NATIONAL}/parent"),
            Some(&admin),
            Some(json!({"parent": A})),
        )
        .await;
    assert_eq!(cycle.status, StatusCode::BAD_REQUEST, "{}", cycle.text());
    let message = text_of(&cycle.json()["error"]["message"]);
    assert!(
        message.contains(NATIONAL) && message.contains(A) && message.contains("ciclo"),
        "{message}"
    );
    let itself = service
        .api(
            "PUT",
            &format!("/api/v1/offices/{A}/parent"),
            Some(&admin),
            Some(json!({"parent": A})),
        )
        .await;
    assert_eq!(itself.status, StatusCode::BAD_REQUEST);
    assert!(text_of(&itself.json()["error"]["message"]).contains("sí misma"));
    assert_eq!(
        service.state.accounts.parent_of(NATIONAL).await.expect("parent"),
        None
    );

    // The staff page refuses it too, naming the offices.
    let (_, password) = service.user(INSTALLATION, "admin.web", Role::Administrador).await;
    let mut browser = service.browser("admin.web", &password).await;
    let page = browser
        .post(
            &format!("/admin/oficinas/{PROVINCE}"),
            &format!("/admin/oficinas/{PROVINCE}/superior"),
            &[("superior", B)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    assert!(page.text().contains("ciclo") && page.text().contains(B));
    assert_eq!(
        service
            .state
            .accounts
            .parent_of(PROVINCE)
            .await
            .expect("parent")
            .as_deref(),
        Some(NATIONAL)
    );

    // Only the installation's administrators place offices.
    let (district_admin, _) = service.user(A, "admin.distrito", Role::Administrador).await;
    let district_admin = service.token(&district_admin).await;
    let refused = service
        .api(
            "PUT",
            &format!("/api/v1/offices/{A}/parent"),
            Some(&district_admin),
            Some(json!({"parent": null})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        service
            .state
            .accounts
            .parent_of(A)
            .await
            .expect("parent")
            .as_deref(),
        Some(PROVINCE)
    );
}
crate::archive_conformance!(no_office_ends_up_under_itself);

async fn visados_between_offices_are_granted_and_taken_back_through_the_api(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let admin = hierarchy(&service).await;
    let (supervisor, _) = account(
        &service,
        PROVINCE,
        "supervisora",
        "Maritza Rodríguez Castillo",
        "Supervisora de Promotores Sociales",
        Role::Revisor,
    )
    .await;
    let grant = |office: &str| format!("/api/v1/offices/{office}/grants/supervisora");
    let put = |office: String, role: &'static str, token: String| {
        let service = &service;
        async move {
            service
                .api("PUT", &office, Some(&token), Some(json!({"rol": role})))
                .await
        }
    };

    // Only a visado's roles, only in an office under the account's own.
    let signing = put(grant(A), "firmante", admin.clone()).await;
    assert_eq!(signing.status, StatusCode::BAD_REQUEST, "{}", signing.text());
    assert!(text_of(&signing.json()["error"]["message"]).contains("visado"));
    let sideways = put(grant(C), "revisor", admin.clone()).await;
    assert_eq!(sideways.status, StatusCode::BAD_REQUEST, "{}", sideways.text());
    assert!(text_of(&sideways.json()["error"]["message"]).contains(C));
    // A district's administrator does not arrange grants.
    let (district_admin, _) = service.user(A, "admin.penonome", Role::Administrador).await;
    let district_admin = service.token(&district_admin).await;
    let refused = put(grant(A), "revisor", district_admin.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert_eq!(
        service
            .state
            .accounts
            .grant_in(&supervisor, A)
            .await
            .expect("grant"),
        None
    );

    let granted = put(grant(A), "revisor", admin.clone()).await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.text());
    assert_eq!(
        service
            .state
            .accounts
            .grant_in(&supervisor, A)
            .await
            .expect("grant"),
        Some(Role::Revisor)
    );
    let listed = service
        .api("GET", &format!("/api/v1/offices/{A}/grants"), Some(&admin), None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let listed = listed.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["usuario"], "supervisora");
    assert_eq!(listed[0]["desde_oficina"], PROVINCE);
    assert_eq!(listed[0]["rol"], "revisor");
    let hidden = service
        .api(
            "GET",
            &format!("/api/v1/offices/{A}/grants"),
            Some(&district_admin),
            None,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN);

    let revoked = service.api("DELETE", &grant(A), Some(&admin), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
    assert_eq!(
        service
            .state
            .accounts
            .grant_in(&supervisor, A)
            .await
            .expect("grant"),
        None
    );
    let again = service.api("DELETE", &grant(A), Some(&admin), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text());
    let listed = service
        .api("GET", &format!("/api/v1/offices/{A}/grants"), Some(&admin), None)
        .await;
    assert_eq!(listed.json(), json!([]));
}
crate::archive_conformance!(visados_between_offices_are_granted_and_taken_back_through_the_api);
