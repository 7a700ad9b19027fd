//! Each office its own identity: an office the administrator creates with
//! its institution, address, time zone and country prints them, and
//! nothing of the installation's; the configured office keeps printing the
//! configuration's. Changing an office's identity changes what it issues
//! next.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, FixedOffset, Offset};
use chrono_tz::Tz;
use sello::accounts::Role;
use serde_json::{Value, json};

use crate::http::{Browser, Service, service_config};
use crate::{Fixture, example};

const INSTALLATION: [(&str, &str); 5] = [
    (
        "SELLO_INSTITUTION",
        "Sistema Municipal DIF de Soledad de Graciano Sánchez",
    ),
    (
        "SELLO_OFFICE_NAME",
        "Procuraduría de Protección de Niñas, Niños y Adolescentes",
    ),
    (
        "SELLO_ADDRESS",
        "Calle Juárez 100, Centro, Soledad de Graciano Sánchez, S.L.P.",
    ),
    ("SELLO_TIME_ZONE", "America/Mexico_City"),
    ("SELLO_COUNTRY", "MX"),
];

/// The Chilean office, as its administrator's form names its fields.
const LA_PINTANA: [(&str, &str); 7] = [
    ("clave", "MUNI-LP"),
    ("nombre", "Dirección de Desarrollo Comunitario"),
    ("institucion", "Municipalidad de La Pintana"),
    ("domicilio", "Av. Santa Rosa 12975, La Pintana"),
    ("zona_horaria", "America/Santiago"),
    ("pais", "CL"),
    ("administrador", "admin.lapintana"),
];

/// A 1×1 RGB PNG, the smallest logo there is.
const PNG: [u8; 69] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xDE, 0x00,
    0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x90, 0xD7, 0x72, 0x01, 0x00, 0x00, 0xF9,
    0x00, 0x8E, 0x47, 0xD4, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
    0x82,
];

/// The installation's service, with an administrator of the configured
/// office logged in.
async fn installation(fixture: &Fixture) -> (Service, String) {
    let service = Service::with_config(fixture, service_config(&INSTALLATION)).await;
    let (_, password) = service
        .user("DIF-SLP", "admin.instalacion", Role::Administrador)
        .await;
    (service, password)
}

async fn create_la_pintana(admin: &mut Browser<'_>) {
    let created = admin.post("/admin", "/admin/oficinas", &LA_PINTANA).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert!(
        created.text().contains("Oficina MUNI-LP creada"),
        "{}",
        created.text()
    );
}

/// What a firmante of `office` issues through the API: its record and the
/// PDF's text, whitespace folded.
struct Issued {
    document: Value,
    code: String,
    text: String,
    pdf: Vec<u8>,
}

async fn issue_in(service: &Service, token: &str, data: Value) -> Issued {
    let answer = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(token),
            Some(json!({"form": "oficio-comision", "data": data})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let document = answer.json()["document"].clone();
    let code = answer.json()["code"].as_str().expect("code").to_owned();
    let pdf = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}/pdf", crate::public_id(&document["id"])),
            Some(token),
            None,
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("documento.pdf");
    std::fs::write(&path, &pdf.bytes).expect("write");
    let text = crate::pdf_text(&path)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Issued {
        document,
        code,
        text,
        pdf: pdf.bytes,
    }
}

async fn firmante_token(service: &Service, office: &str, username: &str) -> String {
    let (user, _) = service.user(office, username, Role::Firmante).await;
    service.token(&user).await
}

/// The moment a document was issued, as stored, with the offset it was
/// stored with.
fn issued_at(document: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(document["issued_at"].as_str().expect("issued_at")).expect("RFC 3339")
}

/// "1 de diciembre de 2026", as the letter prints its date.
fn long_date(at: &DateTime<FixedOffset>) -> String {
    sello::forms::long_date(at.date_naive())
}

/// The offset `zone` had at the moment `at`.
fn offset_in(zone: Tz, at: &DateTime<FixedOffset>) -> FixedOffset {
    at.with_timezone(&zone).offset().fix()
}

fn pdf_creation_date(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("d.pdf");
    std::fs::write(&path, pdf).expect("write");
    let output = std::process::Command::new("pdfinfo")
        .arg("-isodates")
        .arg(&path)
        .output()
        .expect("pdfinfo (poppler) runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("CreationDate:"))
        .expect("a creation date")
        .trim()
        .to_owned()
}

fn image_count(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("d.pdf");
    std::fs::write(&path, pdf).expect("write");
    let output = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages (poppler) runs");
    // Two header lines, then one line per image.
    String::from_utf8_lossy(&output.stdout).lines().skip(2).count()
}

async fn two_offices_print_their_own_letterhead_institution_and_time_zone(fixture: &Fixture) {
    let (service, password) = installation(fixture).await;
    let mut admin = service.browser("admin.instalacion", &password).await;
    create_la_pintana(&mut admin).await;

    let mexico = firmante_token(&service, "DIF-SLP", "firmante.soledad").await;
    let chile = firmante_token(&service, "MUNI-LP", "firmante.lapintana").await;
    let soledad = issue_in(&service, &mexico, example("oficio-comision")).await;
    let mut data = example("oficio-comision");
    data["lugar_expedicion"] = json!("La Pintana");
    let pintana = issue_in(&service, &chile, data).await;

    // Each letterhead is its own office's, and nothing of the other's.
    let own_lines = |fields: &[(&str, &str)], names: &[&str]| -> Vec<String> {
        fields
            .iter()
            .filter(|(name, _)| names.contains(name))
            .map(|(_, value)| (*value).to_owned())
            .collect()
    };
    let soledad_lines = own_lines(
        &INSTALLATION,
        &["SELLO_INSTITUTION", "SELLO_OFFICE_NAME", "SELLO_ADDRESS"],
    );
    let pintana_lines = own_lines(&LA_PINTANA, &["institucion", "nombre", "domicilio"]);
    assert_eq!((soledad_lines.len(), pintana_lines.len()), (3, 3));
    for line in &soledad_lines {
        assert!(
            soledad.text.contains(line.as_str()),
            "«{line}» missing:\n{}",
            soledad.text
        );
        assert!(
            !pintana.text.contains(line.as_str()),
            "«{line}» on La Pintana's:\n{}",
            pintana.text
        );
    }
    for line in &pintana_lines {
        assert!(
            pintana.text.contains(line.as_str()),
            "«{line}» missing:\n{}",
            pintana.text
        );
        assert!(
            !soledad.text.contains(line.as_str()),
            "«{line}» on Soledad's:\n{}",
            soledad.text
        );
    }

    // Each is issued in its own time zone: the stored moment carries the
    // zone's offset, and so does the PDF's own date.
    let (at_soledad, at_pintana) = (issued_at(&soledad.document), issued_at(&pintana.document));
    assert_eq!(
        *at_soledad.offset(),
        offset_in(chrono_tz::America::Mexico_City, &at_soledad)
    );
    assert_eq!(
        *at_pintana.offset(),
        offset_in(chrono_tz::America::Santiago, &at_pintana)
    );
    assert_ne!(
        at_soledad.offset(),
        at_pintana.offset(),
        "Santiago is never Mexico City's time"
    );
    for (issued, at) in [(&soledad, at_soledad), (&pintana, at_pintana)] {
        // pdfinfo prints the offset in hours: -03, -06.
        let local = at.format("%Y-%m-%dT%H:%M:%S%:::z").to_string();
        assert_eq!(pdf_creation_date(&issued.pdf), local);
    }

    // The date line is each country's, with the date of its own zone.
    let mexican = format!(
        "Soledad de Graciano Sánchez, S.L.P., a {}.",
        long_date(&at_soledad)
    );
    assert!(
        soledad.text.contains(&mexican),
        "«{mexican}» missing:\n{}",
        soledad.text
    );
    let chilean = format!("La Pintana, {}.", long_date(&at_pintana));
    assert!(
        pintana.text.contains(&chilean),
        "«{chilean}» missing:\n{}",
        pintana.text
    );

    // The public verification names the issuing office.
    let public = service
        .api(
            "GET",
            &format!("/api/v1/verification/{}", pintana.code),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(public["office_name"], LA_PINTANA[1].1);
}
crate::archive_conformance!(two_offices_print_their_own_letterhead_institution_and_time_zone);

async fn the_constancia_of_a_chilean_offices_tramite_is_in_santiago_time(fixture: &Fixture) {
    use crate::workflows::{draft, step};

    let (service, password) = installation(fixture).await;
    let mut admin = service.browser("admin.instalacion", &password).await;
    create_la_pintana(&mut admin).await;
    let (clerk, _) = service
        .user("MUNI-LP", "auxiliar.lapintana", Role::Capturista)
        .await;
    let clerk = service.token(&clerk).await;
    let director = firmante_token(&service, "MUNI-LP", "firmante.lapintana").await;

    let id = draft(&service, &clerk, "oficio-comision", &example("oficio-comision")).await;
    step(&service, &clerk, id, "submit", None, StatusCode::OK).await;
    let signed = step(&service, &director, id, "sign", None, StatusCode::CREATED).await;
    let document = &signed["issued"]["document"];
    let at = issued_at(document);
    assert_eq!(*at.offset(), offset_in(chrono_tz::America::Santiago, &at));

    let pdf = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}/pdf", crate::public_id(&document["id"])),
            Some(&director),
            None,
        )
        .await;
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("documento.pdf");
    std::fs::write(&path, &pdf.bytes).expect("write");
    let text = crate::pdf_text(&path);
    assert!(text.contains("Constancia del trámite"), "{text}");
    // The signature's row says when, as a clock in La Pintana read it.
    let santiago = at.format("%d/%m/%Y %H:%M").to_string();
    let mexico = at
        .with_timezone(&chrono_tz::America::Mexico_City)
        .format("%d/%m/%Y %H:%M")
        .to_string();
    assert!(text.contains(&santiago), "«{santiago}» missing:\n{text}");
    assert!(
        !text.contains(&mexico),
        "«{mexico}» is Mexico City's time:\n{text}"
    );
}
crate::archive_conformance!(the_constancia_of_a_chilean_offices_tramite_is_in_santiago_time);

async fn an_office_prints_its_new_identity_and_logo_as_soon_as_they_change(fixture: &Fixture) {
    let (service, password) = installation(fixture).await;
    let mut admin = service.browser("admin.instalacion", &password).await;
    create_la_pintana(&mut admin).await;
    let chile = firmante_token(&service, "MUNI-LP", "firmante.lapintana").await;
    let before = issue_in(&service, &chile, example("oficio-comision")).await;
    assert!(
        before.text.contains("Municipalidad de La Pintana"),
        "{}",
        before.text
    );

    let page = admin.get("/admin/oficinas/MUNI-LP").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Av. Santa Rosa 12975"), "{}", page.text());
    let changed = admin
        .post(
            "/admin/oficinas/MUNI-LP",
            "/admin/oficinas/MUNI-LP",
            &[
                ("nombre", "Programa Familias"),
                ("institucion", "Ilustre Municipalidad de La Pintana"),
                (
                    "domicilio",
                    "Av. Santa Rosa 12975, La Pintana, Región Metropolitana",
                ),
                ("zona_horaria", "America/Santiago"),
                ("pais", "CL"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());

    // A file that only says it is an image is refused for what its bytes are.
    let refused = upload_logo(&service, &mut admin, b"GIF89a no es PNG".to_vec()).await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.1);
    assert!(refused.1.contains("PNG, JPEG o SVG"), "{}", refused.1);
    let accepted = upload_logo(&service, &mut admin, PNG.to_vec()).await;
    assert_eq!(accepted.0, StatusCode::OK, "{}", accepted.1);

    let after = issue_in(&service, &chile, example("oficio-comision")).await;
    for line in [
        "Ilustre Municipalidad de La Pintana",
        "Programa Familias",
        "Región Metropolitana",
    ] {
        assert!(after.text.contains(line), "«{line}» missing:\n{}", after.text);
    }
    assert!(
        !after.text.contains("Dirección de Desarrollo Comunitario"),
        "the old name is gone:\n{}",
        after.text
    );
    assert!(
        image_count(&after.pdf) > image_count(&before.pdf),
        "the logo is in the letterhead"
    );

    // The configured office's identity is the configuration's, not the page's.
    let configured = admin
        .post(
            "/admin/oficinas/DIF-SLP",
            "/admin/oficinas/DIF-SLP",
            &[("nombre", "Otra"), ("institucion", "Otra institución")],
        )
        .await;
    assert_eq!(configured.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mexico = firmante_token(&service, "DIF-SLP", "firmante.soledad").await;
    let soledad = issue_in(&service, &mexico, example("oficio-comision")).await;
    assert!(soledad.text.contains(INSTALLATION[0].1), "{}", soledad.text);
    assert!(!soledad.text.contains("Otra institución"), "{}", soledad.text);

    // Another office's administrator manages no office.
    let (_, theirs) = service.user("MUNI-LP", "otra.admin", Role::Administrador).await;
    let mut stranger = service.browser("otra.admin", &theirs).await;
    assert_eq!(
        stranger.get("/admin/oficinas/MUNI-LP").await.status,
        StatusCode::FORBIDDEN
    );
}
crate::archive_conformance!(an_office_prints_its_new_identity_and_logo_as_soon_as_they_change);

/// Uploads `bytes` as La Pintana's logo, named and typed as a PNG.
async fn upload_logo(service: &Service, admin: &mut Browser<'_>, bytes: Vec<u8>) -> (StatusCode, String) {
    let csrf = admin.csrf_token("/admin/oficinas/MUNI-LP").await;
    let boundary = "limite-de-prueba";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"logotipo\"; filename=\"escudo.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post("/admin/oficinas/MUNI-LP/logotipo")
        .header(header::COOKIE, admin.cookie_header())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    let answer = service.send(request).await;
    (answer.status, answer.text())
}

/// An office recorded before offices had identities reads as the
/// installation's, so it prints what it printed before.
#[tokio::test]
async fn an_office_from_before_identities_keeps_the_installations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = ["INSERT INTO offices (code, name) VALUES ('DIF-OTRA', 'Otra oficina')"];
    let url = crate::upgrade::old_sqlite_archive(dir.path(), 6, &seed).await;
    let store = sello::archive::Store::open(&url).await.expect("upgrades");
    let office = sello::accounts::Accounts::new(store)
        .office("DIF-OTRA")
        .await
        .expect("reads")
        .expect("kept");
    assert_eq!(office.name, "Otra oficina");
    assert_eq!(office.identity, sello::office::OfficeIdentity::default());
}
