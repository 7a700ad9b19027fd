//! The public verification page, `/v/<code>`: status and the minimum
//! about the document, never personal data; unknown and malformed codes
//! answered alike; private headers on every answer.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use sello::app::Application;
use sello::signed_pdf::IssuedDocument;
use tower::ServiceExt as _;

use crate::{Fixture, example};

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get(fixture: &Fixture, uri: &str) -> Answer {
    send(fixture, Request::get(uri).body(Body::empty()).expect("request")).await
}

/// Posts `bytes` as the file of the page's comparison form.
async fn upload(fixture: &Fixture, uri: &str, bytes: &[u8]) -> Answer {
    let boundary = "sello-prueba-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"doc.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post(uri)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    send(fixture, request).await
}

async fn send(fixture: &Fixture, request: Request<Body>) -> Answer {
    let mut trusted = sello::keys::TrustedKeys::default();
    trusted
        .add(fixture.key.certificate.clone(), sello::keys::KeyStatus::Active)
        .expect("trust");
    let app = Application::builder(&crate::config())
        .archive(fixture.archive.clone())
        .key(fixture.key.clone())
        .trusted(trusted)
        .log_key(sello::keys::LogKey::in_memory("sello.test/log".into()).expect("log key"))
        .build()
        .await
        .expect("the service is assembled");
    let response = app.router().oneshot(request).await.expect("answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

async fn issue(fixture: &Fixture, form: &str) -> (sello::archive::DocumentRecord, IssuedDocument) {
    match fixture
        .issue_on(form, &example(form), 22, None)
        .await
        .expect("issues")
    {
        sello::archive::Issued::New { record, document } => (record, *document),
        sello::archive::Issued::Existing(_) => unreachable!("no idempotency key"),
    }
}

async fn the_page_says_valid_annulled_or_replaced_and_shows_no_personal_data(fixture: &Fixture) {
    let (carta, issued) = issue(fixture, "carta-compromiso").await;
    let path = format!("/v/{}", issued.code.display());
    let page = get(fixture, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Válido"), "{}", page.body);
    assert!(page.body.contains(&carta.folio));
    assert!(page.body.contains("Carta de Compromiso"));
    assert!(page.body.contains("22 de noviembre de 2026"));
    assert!(page.body.contains(carta.pdf_sha256.as_deref().expect("sha")));
    assert!(page.body.contains("Mtra. Guadalupe Torres Medina"));
    // She issued it with the office's seal: the page does not say she signed.
    assert!(page.body.contains("Emitido por"), "{}", page.body);
    assert!(!page.body.contains("Firmado por"), "{}", page.body);
    assert!(page.body.len() < 30 * 1024, "{} bytes", page.body.len());
    assert!(!page.body.contains("<script"));
    // Nothing about the family: names, RUN, address, family id.
    let data = example("carta-compromiso");
    for private in [
        data["representante"]["nombre"].as_str(),
        data["representante"]["identificacion"].as_str(),
        data["domicilio"].as_str(),
        data["familia_id"].as_str(),
        data["familia_nombre"].as_str(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            !page.body.contains(&sello::web::escape(private)),
            "the page shows «{private}»"
        );
    }
    for (name, value) in [
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-robots-tag", "noindex, nofollow"),
    ] {
        assert_eq!(
            page.headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name}"
        );
    }

    // Replaced: the page says so and links to the current document.
    let (correction, correction_issued) = issue(fixture, "carta-compromiso").await;
    fixture
        .archive
        .annul(
            &carta.folio,
            "Datos de la familia corregidos",
            "director",
            Some(&correction.folio),
        )
        .await
        .expect("replace");
    let page = get(fixture, &path).await;
    assert!(page.body.contains("Reemplazado"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("/v/{}", correction_issued.code.display()))
    );
    assert!(
        page.body.contains("Reemplazado por otro documento"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Datos de la familia corregidos"),
        "the reason stays in the archive"
    );

    // Annulled.
    fixture
        .archive
        .annul(&correction.folio, "Firmada por error", "director", None)
        .await
        .expect("annul");
    let page = get(fixture, &format!("/v/{}", correction_issued.code.display())).await;
    assert!(
        page.body.contains("Anulado") && page.body.contains("Otro motivo"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Firmada por error"), "{}", page.body);
    assert!(!page.body.contains("Válido"));
}
crate::archive_conformance!(the_page_says_valid_annulled_or_replaced_and_shows_no_personal_data);

async fn an_unknown_code_is_not_found_and_a_mistyped_one_says_so(fixture: &Fixture) {
    let (_, issued) = issue(fixture, "oficio-comision").await;
    let unknown = sello::code::VerificationCode::generate()
        .expect("random")
        .display();
    // One character of the issued document's code misread: its check
    // character catches it, and the page says it is a typing mistake.
    let printed = issued.code.display();
    let misread = {
        let mut bytes = printed.clone().into_bytes();
        bytes[5] = if bytes[5] == b'7' { b'8' } else { b'7' };
        String::from_utf8(bytes).expect("ascii")
    };
    let not_found = get(fixture, &format!("/v/{unknown}")).await;
    let answers = [
        not_found,
        get(fixture, &format!("/v/{misread}")).await,
        get(fixture, "/v/esto-no-es-un-codigo").await,
        get(fixture, "/v/%3Cscript%3E").await,
    ];
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(
            answer.headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
    }
    assert!(answers[0].body.contains("No encontrado"), "{}", answers[0].body);
    assert!(
        answers[0]
            .body
            .contains("no es un documento emitido por esta oficina")
    );
    for answer in &answers[1..] {
        assert!(answer.body.contains("error de escritura"), "{}", answer.body);
        assert!(
            answer.body.contains("Cómo leer el código del papel"),
            "{}",
            answer.body
        );
        assert!(
            !answer.body.contains("no es un documento emitido"),
            "{}",
            answer.body
        );
        assert!(!answer.body.contains("<script>"), "{}", answer.body);
    }
    assert!(
        answers[1].body.contains("no coincide con el último"),
        "{}",
        answers[1].body
    );
    // Typed in the box, a malformed code and an unknown one take the same
    // path: a redirect to their page, which answers as above.
    for (typed, answer) in [(unknown.as_str(), &answers[0]), (misread.as_str(), &answers[1])] {
        let redirect = get(fixture, &format!("/v?codigo={typed}")).await;
        assert_eq!(redirect.status, StatusCode::SEE_OTHER, "{typed}");
        let target = redirect.headers["location"].to_str().expect("ascii").to_owned();
        assert_eq!(get(fixture, &target).await.body, answer.body);
    }
    // A code typed in lower case, without dashes, leads to the document.
    let typed = issued.code.display().replace('-', "").to_lowercase();
    let redirect = get(fixture, &format!("/v?codigo={typed}")).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert_eq!(
        redirect.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/v/{}", issued.code.display()).as_str())
    );
    let empty = get(fixture, "/v").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("<form"));
    assert_eq!(get(fixture, "/healthz").await.status, StatusCode::OK);
}
crate::archive_conformance!(an_unknown_code_is_not_found_and_a_mistyped_one_says_so);

async fn the_link_in_the_qr_leads_to_the_document_page(fixture: &Fixture) {
    let (record, issued) = issue(fixture, "oficio-comision").await;
    let (address, _payload) = issued.qr_link.split_once('#').expect("payload in the fragment");
    let path = address.strip_prefix(crate::BASE_URL).expect("under the base URL");
    let page = get(fixture, path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&record.folio));
    // The QR spells the check symbols `~` and `=` as `%7E` and `%3D`: the
    // page reads a percent-encoded symbol as the symbol, whichever it is.
    let printed = issued.code.display();
    let (head, symbol) = printed.split_at(printed.len() - 1);
    let encoded = format!("/v/{head}%{:02X}", symbol.as_bytes()[0]);
    let page = get(fixture, &encoded).await;
    assert_eq!(page.status, StatusCode::OK, "{encoded}");
    assert!(page.body.contains(&record.folio));
}
crate::archive_conformance!(the_link_in_the_qr_leads_to_the_document_page);

async fn an_uploaded_pdf_is_compared_with_the_original(fixture: &Fixture) {
    let (_, issued) = issue(fixture, "oficio-comision").await;
    let path = format!("/v/{}", issued.code.display());
    let original = upload(fixture, &path, &issued.pdf).await;
    assert_eq!(original.status, StatusCode::OK);
    assert!(
        original.body.contains("idéntico, byte por byte"),
        "{}",
        original.body
    );
    assert!(
        original.body.contains("firma(s) digital(es) son válidas"),
        "{}",
        original.body
    );

    // One byte changed inside the signed range.
    let mut altered = issued.pdf.clone();
    let at = altered.len() / 3;
    altered[at] ^= 0x20;
    let answer = upload(fixture, &path, &altered).await;
    assert!(answer.body.contains("no es idéntico"), "{}", answer.body);
    assert!(!answer.body.contains("son válidas."), "{}", answer.body);

    let not_pdf = upload(fixture, &path, b"esto no es un PDF").await;
    assert!(
        not_pdf.body.contains("no es idéntico") && not_pdf.body.contains("no es un PDF"),
        "{}",
        not_pdf.body
    );
    let unknown = sello::code::VerificationCode::generate()
        .expect("random")
        .display();
    assert_eq!(
        upload(fixture, &format!("/v/{unknown}"), &issued.pdf)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
crate::archive_conformance!(an_uploaded_pdf_is_compared_with_the_original);

async fn no_answer_may_be_framed_by_another_site(fixture: &Fixture) {
    let (_, issued) = issue(fixture, "oficio-comision").await;
    let code = issued.code.display();
    let pages = [
        "/v".to_owned(),
        format!("/v/{code}"),
        "/v/esto-no-es-un-codigo".to_owned(),
        format!("/v?codigo={code}"),
        "/entrar".to_owned(),
        "/estilo.css".to_owned(),
        "/healthz".to_owned(),
        "/api/v1/documents".to_owned(),
    ];
    for page in &pages {
        let answer = get(fixture, page).await;
        let policy = answer
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(policy.contains("frame-ancestors 'none'"), "{page}: «{policy}»");
        assert_eq!(policy.matches("frame-ancestors").count(), 1, "{page}: «{policy}»");
        assert_eq!(
            answer
                .headers
                .get("x-frame-options")
                .and_then(|v| v.to_str().ok()),
            Some("DENY"),
            "{page}"
        );
    }
    // The verification page keeps its own policy beside it, which lets it
    // load its icon from Sello and nothing from anywhere else.
    let page = get(fixture, &format!("/v/{code}")).await;
    let policy = page.headers["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(policy.contains("img-src 'self';"), "{policy}");
    assert!(
        page.body
            .contains(r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#),
        "{}",
        page.body
    );
}
crate::archive_conformance!(no_answer_may_be_framed_by_another_site);

async fn an_annulment_publishes_its_category_never_its_reason(fixture: &Fixture) {
    use sello::accounts::Role;
    use serde_json::json;
    let service = crate::http::Service::new(fixture).await;
    let (user, _) = service.user("DIF-SLP", "directora", Role::Firmante).await;
    let token = service.token(&user).await;
    let (carta, issued) = issue(fixture, "carta-compromiso").await;
    let uri = format!("/api/v1/documents/{}/annul", carta.id);
    // A reason naming the beneficiary, as a clerk might write it.
    let reason = "La Sra. Rosa Elena Quispe Mamani, RUN 12.345.678-5, pidió corregir su domicilio";
    let unknown = service
        .api(
            "POST",
            &uri,
            Some(&token),
            Some(json!({"reason": reason, "category": "porque si"})),
        )
        .await;
    assert_eq!(unknown.status.as_u16() / 100, 4, "{}", unknown.text());
    let message = unknown.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("error_en_los_datos") && message.contains("categoría"),
        "{message}"
    );
    let annulled = service
        .api(
            "POST",
            &uri,
            Some(&token),
            Some(json!({"reason": reason, "category": "a_solicitud_del_interesado"})),
        )
        .await;
    assert_eq!(annulled.status, StatusCode::OK, "{}", annulled.text());
    // The office keeps the reason…
    assert_eq!(annulled.json()["annul_reason"], reason);
    // …the public sees only the category, on the page and through the API.
    let page = get(fixture, &format!("/v/{}", issued.code.display())).await;
    assert!(page.body.contains("A solicitud del interesado"), "{}", page.body);
    let public = service
        .api(
            "GET",
            &format!("/api/v1/verification/{}", issued.code.display()),
            None,
            None,
        )
        .await;
    assert_eq!(
        public.json()["annul_category"],
        "a_solicitud_del_interesado",
        "{}",
        public.text()
    );
    for private in ["Rosa", "Quispe", "12.345.678-5", "domicilio"] {
        assert!(!page.body.contains(private), "the page shows «{private}»");
        assert!(!public.text().contains(private), "the API shows «{private}»");
    }
}
crate::archive_conformance!(an_annulment_publishes_its_category_never_its_reason);
