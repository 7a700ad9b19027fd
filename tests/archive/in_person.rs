//! Signatures of people who have no key, through the API: the Programa
//! Familias entry session (seed 001, S1) signed by the family's
//! representative on the professional's screen or on paper; scans and
//! acknowledgements after issue; and corrections that replace a document.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::Fixture;
use crate::http::Service;
use crate::workflows::{draft, in_inbox, inbox, issued_pdf_text, staff, step, step_of, trail};

/// A drawing of `w`×`h` pixels with a signature-like stroke, as a pad's PNG.
pub fn drawn_png(w: u32, h: u32, strokes: u32) -> Vec<u8> {
    let mut pixels = vec![0u8; (w * h * 4) as usize];
    for x in 20..w - 20 {
        for s in 0..strokes {
            let y = h / 2 + ((x as f32 / 17.0 + s as f32).sin() * (h as f32 / 4.0)) as u32;
            let at = ((y * w + x) * 4) as usize;
            pixels[at..at + 4].copy_from_slice(&[10, 10, 60, 255]);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("header");
    writer.write_image_data(&pixels).expect("pixels");
    drop(writer);
    out
}

pub fn base64(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

pub async fn draw(
    service: &Service,
    token: &str,
    id: sello::public_id::PublicId,
    signer: &str,
    png: &[u8],
    consent: bool,
) -> (StatusCode, Value) {
    let answer = service
        .api(
            "POST",
            &format!("/api/v1/drafts/{id}/hand-signatures"),
            Some(token),
            Some(json!({"signer": signer, "png_base64": base64(png), "consent": consent, "device": "Tableta Lenovo M8"})),
        )
        .await;
    (answer.status, answer.json())
}

/// The images of a PDF `pdfimages -list` shows with this width and height.
fn images_sized(pdf: &[u8], width: u32, height: u32) -> usize {
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), pdf).expect("write");
    let out = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(file.path())
        .output()
        .expect("pdfimages runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .filter(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            cols.get(2) == Some(&"image")
                && cols.get(3) == Some(&width.to_string().as_str())
                && cols.get(4) == Some(&height.to_string().as_str())
        })
        .count()
}

async fn pdf_of(service: &Service, token: &str, document: &Value) -> Vec<u8> {
    let id = crate::public_id(&document["id"]);
    service
        .api("GET", &format!("/api/v1/documents/{id}/pdf"), Some(token), None)
        .await
        .bytes
}

async fn the_family_entry_session_is_signed_by_its_representative(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let (apoyo, jefa) = (&staff.auxiliar, &staff.directora);

    // Carta de compromiso: the representative signs on the professional's screen.
    let carta = crate::example_now("carta-compromiso");
    let representative = carta["representante"]["nombre"]
        .as_str()
        .expect("name")
        .to_owned();
    let id = draft(&service, apoyo, "carta-compromiso", &carta).await;
    step(&service, apoyo, id, "submit", None, StatusCode::OK).await;
    assert_eq!(
        step_of(&service, apoyo, id).await.as_deref(),
        Some("firma-representante")
    );
    assert!(in_inbox(&inbox(&service, apoyo).await, id).is_some());
    step(&service, jefa, id, "sign", None, StatusCode::CONFLICT).await;
    let missing = step(&service, apoyo, id, "finish", None, StatusCode::CONFLICT).await;
    assert!(
        missing["error"]["message"]
            .as_str()
            .expect("message")
            .contains(&representative),
        "{missing}"
    );

    let signature = drawn_png(600, 200, 3);
    let (status, refused) = draw(&service, apoyo, id, "representante", &signature, false).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .expect("message")
            .contains("consentimiento")
    );
    let (status, refused) = draw(
        &service,
        apoyo,
        id,
        "representante",
        &drawn_png(600, 200, 0),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .expect("message")
            .contains("vacío")
    );
    let (status, _) = draw(&service, apoyo, id, "profesional_nombre", &signature, true).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, drawn) = draw(&service, apoyo, id, "representante", &signature, true).await;
    assert_eq!(status, StatusCode::CREATED, "{drawn}");
    assert_eq!(
        drawn["hand_signers"][0]["signer"]["name"],
        representative.as_str()
    );
    assert_eq!(
        drawn["hand_signers"][0]["signature"]["device"],
        "Tableta Lenovo M8"
    );
    step(&service, apoyo, id, "finish", None, StatusCode::OK).await;
    // Once the step is over, a late drawing from another tablet is refused.
    let (late, _) = draw(&service, apoyo, id, "representante", &signature, true).await;
    assert_eq!(late, StatusCode::CONFLICT);
    step(&service, apoyo, id, "sign", None, StatusCode::FORBIDDEN).await;
    let issued = step(&service, jefa, id, "sign", None, StatusCode::CREATED).await;
    let document = &issued["issued"]["document"];

    // The drawing is printed in both copies, and recorded.
    let pdf = pdf_of(&service, jefa, document).await;
    assert_eq!(images_sized(&pdf, 600, 200), 2, "the signature in each copy");
    let text = issued_pdf_text(&service, jefa, fixture, document).await;
    assert!(
        text.contains("Firmó en pantalla") && text.contains(&representative),
        "{text}"
    );
    let record = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}", crate::public_id(&document["id"])),
            Some(jefa),
            None,
        )
        .await
        .json();
    let hand = record["hand_signatures"].as_array().expect("hand signatures");
    assert_eq!(hand.len(), 1);
    assert_eq!(
        (hand[0]["kind"].as_str(), hand[0]["consent"].as_bool()),
        (Some("pantalla"), Some(true))
    );
    assert_eq!(
        trail(&service, apoyo, id).await,
        [
            "borrador.enviado",
            "firma_autografa.en_pantalla",
            "borrador.firmas_presenciales",
            "borrador.firmado",
            "documento.emitido"
        ]
    );

    // Caracterización: no hand signature; the professional's and the office's.
    let characterisation = draft(
        &service,
        apoyo,
        "caracterizacion-familia",
        &crate::example_now("caracterizacion-familia"),
    )
    .await;
    step(&service, apoyo, characterisation, "submit", None, StatusCode::OK).await;
    step(
        &service,
        jefa,
        characterisation,
        "sign",
        None,
        StatusCode::CREATED,
    )
    .await;

    // Plan de intervención: signed again by the representative, who first
    // smudged it and signed anew; a rejection voids the signature given.
    let plan = draft(
        &service,
        apoyo,
        "plan-intervencion",
        &crate::example_now("plan-intervencion"),
    )
    .await;
    step(&service, apoyo, plan, "submit", None, StatusCode::OK).await;
    assert_eq!(
        draw(
            &service,
            apoyo,
            plan,
            "representante",
            &drawn_png(500, 180, 1),
            true
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        draw(&service, apoyo, plan, "representante", &signature, true)
            .await
            .0,
        StatusCode::CREATED
    );
    step(&service, apoyo, plan, "finish", None, StatusCode::OK).await;
    step(
        &service,
        jefa,
        plan,
        "reject",
        Some("Falta la sesión comunitaria"),
        StatusCode::OK,
    )
    .await;
    step(&service, apoyo, plan, "submit", None, StatusCode::OK).await;
    step(&service, apoyo, plan, "finish", None, StatusCode::CONFLICT).await;
    assert_eq!(
        draw(&service, apoyo, plan, "representante", &signature, true)
            .await
            .0,
        StatusCode::CREATED
    );
    step(&service, apoyo, plan, "finish", None, StatusCode::OK).await;
    let issued = step(&service, jefa, plan, "sign", None, StatusCode::CREATED).await;
    let pdf = pdf_of(&service, jefa, &issued["issued"]["document"]).await;
    assert_eq!(
        images_sized(&pdf, 500, 180),
        0,
        "the smudged drawing is not printed"
    );
    assert_eq!(images_sized(&pdf, 600, 200), 2, "the last drawing in each copy");

    // Declaración de no participación: signed on paper, its scan attached.
    let declaration = draft(
        &service,
        apoyo,
        "declaracion-no-participacion",
        &crate::example_now("declaracion-no-participacion"),
    )
    .await;
    step(&service, apoyo, declaration, "submit", None, StatusCode::OK).await;
    let answer = service
        .api(
            "POST",
            &format!("/api/v1/drafts/{declaration}/finish"),
            Some(apoyo),
            Some(json!({"on_paper": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let issued = step(&service, jefa, declaration, "sign", None, StatusCode::CREATED).await;
    let document = issued["issued"]["document"].clone();
    let pdf = pdf_of(&service, jefa, &document).await;
    assert_eq!(
        images_sized(&pdf, 600, 200),
        0,
        "nothing drawn: a line to sign on paper"
    );
    let scan = pdf.clone();
    let attach = |media: &str, kind: &str| {
        json!({"kind": kind, "purpose": "Declaración firmada en papel", "media_type": media,
               "content_base64": base64(&scan), "name": representative})
    };
    // By folio, its slashes escaped as a client must.
    let uri = format!(
        "/api/v1/documents/{}/hand-signatures",
        document["folio"].as_str().expect("folio").replace('/', "%2F")
    );
    let wrong = service
        .api("POST", &uri, Some(apoyo), Some(attach("image/jpeg", "papel")))
        .await;
    assert_eq!(wrong.status, StatusCode::CONFLICT, "{}", wrong.text());
    let drawn_as_pdf = service
        .api(
            "POST",
            &uri,
            Some(apoyo),
            Some(attach("application/pdf", "pantalla")),
        )
        .await;
    assert_eq!(
        drawn_as_pdf.status,
        StatusCode::CONFLICT,
        "{}",
        drawn_as_pdf.text()
    );
    let attached = service
        .api(
            "POST",
            &uri,
            Some(apoyo),
            Some(attach("application/pdf", "papel")),
        )
        .await;
    assert_eq!(attached.status, StatusCode::CREATED, "{}", attached.text());
    let scans = attached.json()["hand_signatures"]
        .as_array()
        .expect("list")
        .clone();
    assert_eq!(scans.len(), 1);
    let file = service
        .api(
            "GET",
            &format!("{uri}/{}", crate::public_id(&scans[0]["id"])),
            Some(staff.revisor.as_str()),
            None,
        )
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.bytes, scan, "the scan comes back as uploaded");
    let archivist_events = fixture
        .archive
        .document_events(crate::row_of(&fixture.archive, &document["id"]).await)
        .await
        .expect("events");
    assert_eq!(
        archivist_events.last().map(|e| e.action.as_str()),
        Some("firma_autografa.en_papel")
    );
}
crate::archive_conformance!(the_family_entry_session_is_signed_by_its_representative);

async fn a_functional_aid_is_renewed_each_month_by_its_custodian(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let id = draft(
        &service,
        &staff.auxiliar,
        "oficio-ayuda-funcional",
        &crate::example_now("oficio-ayuda-funcional"),
    )
    .await;
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    let issued = step(&service, &staff.directora, id, "sign", None, StatusCode::CREATED).await;
    let folio = crate::public_id(&issued["issued"]["document"]["id"]).to_string();
    let uri = format!("/api/v1/documents/{folio}/hand-signatures");
    for month in ["diciembre de 2026", "enero de 2027"] {
        let renewal = json!({"kind": "pantalla", "purpose": format!("Renovación mensual del resguardo, {month}"),
            "media_type": "image/png", "content_base64": base64(&drawn_png(600, 200, 2)),
            "name": "Casa de Salud Las Flores, por su encargada", "consent": true, "device": "Tableta de Recepción"});
        let answer = service
            .api("POST", &uri, Some(&staff.auxiliar), Some(renewal))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    }
    let record = service
        .api(
            "GET",
            &format!("/api/v1/documents/{folio}"),
            Some(&staff.auxiliar),
            None,
        )
        .await
        .json();
    let purposes: Vec<&str> = record["hand_signatures"]
        .as_array()
        .expect("list")
        .iter()
        .map(|h| h["purpose"].as_str().expect("purpose"))
        .collect();
    assert_eq!(
        purposes,
        [
            "Renovación mensual del resguardo, diciembre de 2026",
            "Renovación mensual del resguardo, enero de 2027"
        ]
    );
    // An archivist reads but does not attach; an annulled document takes no more.
    let (archivist, _) = service
        .user("DIF-SLP", "archivo", sello::accounts::Role::Archivista)
        .await;
    let archivist = service.token(&archivist).await;
    let late = json!({"kind": "papel", "purpose": "Renovación", "media_type": "image/png",
        "content_base64": base64(&drawn_png(600, 200, 2))});
    assert_eq!(
        service
            .api("POST", &uri, Some(&archivist), Some(late.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    fixture
        .archive
        .annul(&folio, "Ayuda devuelta", "directora", None)
        .await
        .expect("annul");
    assert_eq!(
        service
            .api("POST", &uri, Some(&staff.auxiliar), Some(late))
            .await
            .status,
        StatusCode::CONFLICT
    );
}
crate::archive_conformance!(a_functional_aid_is_renewed_each_month_by_its_custodian);

async fn a_correction_replaces_the_document_it_corrects(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let mut data = crate::example_now("oficio-comision");
    let id = draft(&service, &staff.auxiliar, "oficio-comision", &data).await;
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    let first =
        step(&service, &staff.directora, id, "sign", None, StatusCode::CREATED).await["issued"]["document"]
            .clone();
    let folio = crate::public_id(&first["id"]).to_string();

    let uri = format!("/api/v1/documents/{folio}/correct");
    let correction = service.api("POST", &uri, Some(&staff.auxiliar), None).await;
    assert_eq!(correction.status, StatusCode::CREATED, "{}", correction.text());
    let correction = correction.json();
    assert_eq!(correction["replaces"], first["id"]);
    // The data as issued: who signed is the account that did.
    data["director_nombre"] = json!("Persona directora");
    assert_eq!(correction["data"], data);
    let again = service
        .api("POST", &uri, Some(&staff.otra_auxiliar), None)
        .await
        .json();
    assert_eq!(
        again["id"], correction["id"],
        "one correction under way at a time"
    );
    let draft_id = crate::public_id(&correction["id"]);

    data["lugar_evento"] = json!("Auditorio del DIF Estatal, San Luis Potosí");
    let put = service
        .api(
            "PUT",
            &format!("/api/v1/drafts/{draft_id}"),
            Some(&staff.auxiliar),
            Some(json!({"data": data})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    step(
        &service,
        &staff.auxiliar,
        draft_id,
        "submit",
        None,
        StatusCode::OK,
    )
    .await;
    let second = step(
        &service,
        &staff.directora,
        draft_id,
        "sign",
        None,
        StatusCode::CREATED,
    )
    .await["issued"]["document"]
        .clone();
    assert_ne!(second["folio"], first["folio"]);

    let old = service
        .api(
            "GET",
            &format!("/api/v1/documents/{folio}"),
            Some(&staff.auxiliar),
            None,
        )
        .await
        .json();
    assert_eq!(old["document"]["status"], "reemplazado");
    assert_eq!(old["document"]["replaced_by"], second["id"]);
    // The public page of the old one points to the new one.
    let code = old["document"]["verification_url"]
        .as_str()
        .expect("url")
        .rsplit('/')
        .next()
        .expect("code")
        .to_owned();
    let public = service.api("GET", &format!("/v/{code}"), None, None).await.text();
    assert!(
        public.contains("Reemplazado") && public.contains(second["folio"].as_str().expect("folio")),
        "{public}"
    );
    // A replaced document is not corrected again.
    assert_eq!(
        service
            .api("POST", &uri, Some(&staff.auxiliar), None)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let events = fixture
        .archive
        .document_events(crate::row_of(&fixture.archive, &first["id"]).await)
        .await
        .expect("events");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.ends_with(&["documento.en_correccion", "documento.reemplazado"]),
        "{actions:?}"
    );
    // The transparency log has the correction's issuance, then the
    // replacement of the document it corrects, both matching the archive.
    let entries = fixture.archive.log_entries().await.expect("log");
    let events: Vec<sello::archive::LogEvent> = entries.iter().map(|e| e.event).collect();
    assert!(
        events.ends_with(&[
            sello::archive::LogEvent::Emision,
            sello::archive::LogEvent::Reemplazo
        ]),
        "{events:?}"
    );
    assert!(fixture.archive.verify_log().await.expect("log").is_ok());
    // Two corrections of the new one asked at the same moment meet in one draft.
    let current = crate::public_id(&second["id"]).to_string();
    let (a, b) = tokio::join!(
        fixture
            .archive
            .start_correction(&current, 1, "ana", "elaboracion"),
        fixture
            .archive
            .start_correction(&current, 1, "luis", "elaboracion"),
    );
    assert_eq!(a.expect("one"), b.expect("the same"));
}
crate::archive_conformance!(a_correction_replaces_the_document_it_corrects);

async fn a_committee_acta_is_signed_by_every_member_and_endorsed_by_the_supervisor(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let acta = crate::example_now("acta-comite-familia");
    let members: Vec<String> = acta["miembros"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["persona"]["nombre"].as_str().expect("name").to_owned())
        .collect();
    let id = draft(&service, &staff.auxiliar, "acta-comite-familia", &acta).await;
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    // Each member signs on the promoter's tablet, one after another.
    for n in 1..=members.len() {
        let (status, body) = draw(
            &service,
            &staff.auxiliar,
            id,
            &format!("miembros[{n}]"),
            &drawn_png(420, 140, 2),
            true,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let still: Vec<&Value> = body["hand_signers"]
            .as_array()
            .expect("signers")
            .iter()
            .filter(|s| s["signature"].is_null())
            .collect();
        assert_eq!(still.len(), members.len() - n);
    }
    step(&service, &staff.auxiliar, id, "finish", None, StatusCode::OK).await;
    // The supervisor's Vo. Bo. comes before the signature; not the director's to give.
    step(
        &service,
        &staff.directora,
        id,
        "approve",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    step(&service, &staff.directora, id, "sign", None, StatusCode::CONFLICT).await;
    step(
        &service,
        &staff.revisor,
        id,
        "approve",
        Some("Conformación revisada"),
        StatusCode::OK,
    )
    .await;
    let issued = step(&service, &staff.directora, id, "sign", None, StatusCode::CREATED).await;
    let document = &issued["issued"]["document"];
    let pdf = pdf_of(&service, &staff.directora, document).await;
    assert_eq!(
        images_sized(&pdf, 420, 140),
        members.len(),
        "one drawing per member"
    );
    let text = issued_pdf_text(&service, &staff.directora, fixture, document).await;
    for member in &members {
        assert!(text.contains(member.as_str()), "{member}: {text}");
    }
    assert_eq!(text.matches("Firmó en pantalla").count(), members.len(), "{text}");
    assert!(
        text.contains("Vo. Bo. del Supervisor") && text.contains("Dio su visto bueno"),
        "{text}"
    );
    let actions = trail(&service, &staff.auxiliar, id).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "firma_autografa.en_pantalla")
            .count(),
        members.len()
    );
    assert_eq!(
        actions
            .iter()
            .rev()
            .take(4)
            .rev()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "borrador.firmas_presenciales",
            "borrador.visado",
            "borrador.firmado",
            "documento.emitido"
        ]
    );
}
crate::archive_conformance!(a_committee_acta_is_signed_by_every_member_and_endorsed_by_the_supervisor);

/// A multipart form with text fields and one file.
fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "firma-Xq8Vd2LrT0";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    let (name, media_type, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; filename=\"{name}\"\r\n\
             Content-Type: {media_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn the_staff_pages_carry_a_draft_through_its_steps_and_take_scans(fixture: &Fixture) {
    use axum::body::Body;
    use axum::http::{Request, header};
    use sello::accounts::Role;

    let service = Service::new(fixture).await;
    let (_, clerk) = service.user("DIF-SLP", "auxiliar.web", Role::Capturista).await;
    let (_, accountant) = service.user("DIF-SLP", "contador.web", Role::Contador).await;
    let (_, director) = service.user("DIF-SLP", "directora.web", Role::Firmante).await;

    // The clerk sends the quote from the entry form; it cannot be issued from there.
    let mut auxiliar = service.browser("auxiliar.web", &clerk).await;
    let blank = auxiliar
        .get("/formularios/oficio-autorizacion-apoyo")
        .await
        .text();
    assert!(blank.contains("Enviar a «Aprobación de la cotización conforme al presupuesto»"));
    assert!(!blank.contains("value=\"emitir\""));
    let mut fields = crate::entry_fields::entry_fields(&crate::example_now("oficio-autorizacion-apoyo"));
    fields.push(("_accion".into(), "enviar".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let sent = auxiliar
        .post(
            "/formularios/oficio-autorizacion-apoyo",
            "/formularios/oficio-autorizacion-apoyo",
            &pairs,
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let draft_page = sent.location();

    // The accountant finds it at home, sees the buttons of their step, and
    // cannot reject it without a reason.
    let mut contador = service.browser("contador.web", &accountant).await;
    let home = contador.get("/").await.text();
    assert!(
        home.contains("Pendientes para usted") && home.contains(&draft_page),
        "{home}"
    );
    let review = contador.get(&draft_page).await.text();
    // What is approved comes first, before the button that approves it.
    let summary = review
        .find("Lo que se aprueba")
        .expect("the summary of what is approved");
    let button = review.find("Dar visto bueno").expect("the approval");
    for shown in [
        "985.5",
        "4411 Ayudas sociales a personas",
        "Óptica Visión Potosina",
    ] {
        let at = review
            .find(shown)
            .unwrap_or_else(|| panic!("«{shown}» on the review page"));
        assert!(
            summary < at && at < button,
            "«{shown}» between the summary's title and the button"
        );
    }
    assert!(
        review.contains("Dar visto bueno") && review.contains("Rechazar y devolver"),
        "{review}"
    );
    let step_uri = format!("{draft_page}/paso");
    let no_reason = contador
        .post(
            &draft_page,
            &step_uri,
            &[("_accion", "rechazar"), ("motivo", " ")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::CONFLICT);
    assert!(
        no_reason.text().contains("Motivo: escriba por qué se rechaza"),
        "{}",
        no_reason.text()
    );
    // The director may look, but the visado is not theirs.
    let mut directora = service.browser("directora.web", &director).await;
    let forbidden = directora
        .post(&draft_page, &step_uri, &[("_accion", "aprobar")])
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let approved = contador
        .post(
            &draft_page,
            &step_uri,
            &[("_accion", "aprobar"), ("motivo", "Hay suficiencia")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    let preview = directora.get(&format!("{draft_page}/vista-previa")).await;
    assert!(
        preview.bytes.starts_with(b"%PDF-"),
        "a preview to read before signing"
    );
    let signed = directora
        .post(&draft_page, &step_uri, &[("_accion", "firmar")])
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());
    let document_page = signed.location();
    assert!(document_page.starts_with("/documentos/"), "{document_page}");

    // The clerk attaches the scan of the signed acknowledgement.
    let page = auxiliar.get(&document_page).await.text();
    assert!(page.contains("Firmas en persona y escaneos"), "{page}");
    let csrf = crate::http::hidden_value(&page, "_csrf").expect("csrf");
    let scan = drawn_png(600, 200, 2);
    let send = |auxiliar: &crate::http::Browser<'_>, csrf: &str, media: &str| {
        let (kind, body) = multipart(
            &[
                ("_csrf", csrf),
                ("proposito", "Acuse de recibo del apoyo"),
                ("nombre", "Solicitante"),
            ],
            ("acuse.png", media, &scan),
        );
        Request::post(format!("{document_page}/firmas"))
            .header(header::COOKIE, auxiliar.cookie_header())
            .header(header::CONTENT_TYPE, kind)
            .body(Body::from(body))
            .expect("request")
    };
    assert_eq!(
        service.send(send(&auxiliar, "otro", "image/png")).await.status,
        StatusCode::FORBIDDEN
    );
    let mislabeled = service.send(send(&auxiliar, &csrf, "application/pdf")).await;
    assert_eq!(
        mislabeled.status,
        StatusCode::BAD_REQUEST,
        "{}",
        mislabeled.text()
    );
    let attached = service.send(send(&auxiliar, &csrf, "image/png")).await;
    assert_eq!(attached.status, StatusCode::SEE_OTHER, "{}", attached.text());
    let page = auxiliar.get(&document_page).await.text();
    assert!(
        page.contains("Acuse de recibo del apoyo") && page.contains("En papel, escaneado"),
        "{page}"
    );
    let link_start = page
        .find(&format!("{document_page}/firmas/"))
        .expect("link to the scan");
    let link: String = page[link_start..].chars().take_while(|c| *c != '"').collect();
    assert_eq!(auxiliar.get(&link).await.bytes, scan);

    // A monthly renewal drawn on the document page's pad, with consent.
    let drawing = format!("data:image/png;base64,{}", base64(&drawn_png(600, 200, 2)));
    let uri = format!("{document_page}/firma-en-pantalla");
    let renewal = [
        ("proposito", "Renovación de diciembre"),
        ("nombre", "Encargada de la Casa de Salud"),
        ("imagen", drawing.as_str()),
    ];
    let without_consent = auxiliar.post(&document_page, &uri, &renewal).await;
    assert_eq!(without_consent.status, StatusCode::BAD_REQUEST);
    assert!(
        without_consent.text().contains("Consentimiento"),
        "{}",
        without_consent.text()
    );
    let mut consented = renewal.to_vec();
    consented.push(("consentimiento", "si"));
    let drawn = auxiliar.post(&document_page, &uri, &consented).await;
    assert_eq!(drawn.status, StatusCode::SEE_OTHER, "{}", drawn.text());
    let page = auxiliar.get(&document_page).await.text();
    assert!(
        page.contains("Renovación de diciembre") && page.contains("En pantalla"),
        "{page}"
    );
}
crate::archive_conformance!(the_staff_pages_carry_a_draft_through_its_steps_and_take_scans);

/// An acta left to be signed on paper: its page names who still signs,
/// by name, not by the data's keys (`miembros[3]`); and its promoter
/// signs by hand in their own block, never under the director's name.
async fn the_signatures_pending_on_paper_are_named_by_person(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let acta = crate::example_now("acta-comite-familia");
    let members: Vec<String> = acta["miembros"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["persona"]["nombre"].as_str().expect("name").to_owned())
        .collect();
    let id = draft(&service, &staff.auxiliar, "acta-comite-familia", &acta).await;
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    let finished = service
        .api(
            "POST",
            &format!("/api/v1/drafts/{id}/finish"),
            Some(&staff.auxiliar),
            Some(json!({"on_paper": true})),
        )
        .await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.text());
    step(&service, &staff.revisor, id, "approve", None, StatusCode::OK).await;
    let issued = step(&service, &staff.directora, id, "sign", None, StatusCode::CREATED).await;
    let document = &issued["issued"]["document"];
    let (_, password) = service
        .user("DIF-SLP", "promotora.web", sello::accounts::Role::Capturista)
        .await;
    let mut web = service.browser("promotora.web", &password).await;
    let page = web
        .get(&format!("/documentos/{}", crate::public_id(&document["id"])))
        .await
        .text();
    let pending = page
        .split("Pendiente: se firma a mano en papel (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("the signatures pending on paper: {page}"));
    assert_eq!(pending, members.join(", "));

    let text = issued_pdf_text(&service, &staff.directora, fixture, document).await;
    // The promoter's block keeps the promoter's cargo and cédula: it was
    // not given to the account that signed the emission.
    let cedula = acta["promotor"]["identificacion"].as_str().expect("cédula");
    assert!(
        text.contains(&format!("Promotor Social · cédula {cedula}")),
        "the promoter's own block: {text}"
    );
}
crate::archive_conformance!(the_signatures_pending_on_paper_are_named_by_person);
