//! The staff app as clerks and reviewers use it on an 800 px tablet, in a
//! real headless Chromium: a wide form's tables scroll in their box and
//! the page does not (measured in the browser), Enter in a field saves
//! the draft instead of adding rows, «Más filas» comes back to its table,
//! an accountant sees the amount, budget line and supplier before giving
//! the visado, and a mistyped code on the public page is called a typing
//! error. axe-core checks every page visited.

use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{Driver, arrive, axe, body_text, chromium, click, example_fields, fill, screenshot};
use crate::server::Server;

/// The tablet of the user test: 800 × 1280.
const TABLET: (u32, u32) = (800, 1280);

/// Logs in with a one-time password and chooses `new`, ending at home.
async fn first_login(client: &Client, base: &str, user: &str, one_time: &str, new: &str) {
    client.goto(&format!("{base}/entrar")).await.expect("login");
    fill(client, "usuario", user).await;
    fill(client, "contrasena", one_time).await;
    click(client, "main form button").await;
    arrive(client, "/contrasena").await;
    axe(client, "/contrasena").await;
    fill(client, "actual", one_time).await;
    fill(client, "nueva", new).await;
    fill(client, "repetida", new).await;
    click(client, "main form button").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(".nota.ok"))
        .await
        .expect("the password was saved");
}

/// An account made with `sello users create` on the server's data, as an
/// administrator would; its one-time password.
fn create_user(server: &Server, username: &str, name: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sello"))
        .args([
            "users",
            "create",
            "--username",
            username,
            "--name",
            name,
            "--role",
            role,
        ])
        .current_dir(server.data_dir.path())
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .env("SELLO_DATA_DIR", server.data_dir.path().join("datos"))
        .output()
        .expect("sello users create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

/// How far the page scrolls sideways: 0 when nothing overflows it.
/// Waits for the page whose address ends in `#fragment`, loaded.
async fn arrive_at_fragment(client: &Client, fragment: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let url = client.current_url().await.expect("url");
        if url.fragment() == Some(fragment) {
            return arrive(client, url.path()).await;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still at {url}, expected #{fragment}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The folio a document's page shows.
async fn folio_shown(client: &Client) -> String {
    let folio = client
        .execute(
            "return [...document.querySelectorAll('dl dt')].find(d => d.textContent === 'Folio').nextElementSibling.textContent;",
            vec![],
        )
        .await
        .expect("the folio");
    folio.as_str().expect("text").trim().to_owned()
}

async fn page_overflow(client: &Client) -> i64 {
    client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .expect("measure")
        .as_i64()
        .expect("a number")
}

/// Presses Tab from the top of the page until the focus reaches an element
/// matching `last` (or gives up after `most` presses); each stop as the
/// element's name (or its text) and its position in the page.
async fn tab_through(client: &Client, last: &str, most: usize) -> Vec<(String, f64, f64)> {
    client
        .execute("window.scrollTo(0, 0); document.activeElement.blur();", vec![])
        .await
        .expect("start at the top");
    let body = client.find(Locator::Css("body")).await.expect("body");
    body.send_keys("\u{E004}").await.expect("Tab");
    let mut stops = Vec::new();
    for _ in 0..most {
        let stop = client
            .execute(
                "const e = document.activeElement; const box = e.getBoundingClientRect();
                 return [e.getAttribute('name') || e.textContent.trim().slice(0, 40),
                         box.top + window.scrollY, box.left, e.matches(arguments[0]),
                         e.classList.contains('por-omision')];",
                vec![json!(last)],
            )
            .await
            .expect("the focused element");
        let name = stop[0].as_str().unwrap_or_default().to_owned();
        assert_ne!(stop[4], json!(true), "the hidden default button takes no focus");
        stops.push((
            name,
            stop[1].as_f64().unwrap_or(0.0),
            stop[2].as_f64().unwrap_or(0.0),
        ));
        if stop[3] == json!(true) {
            return stops;
        }
        let focused = client.active_element().await.expect("focus");
        focused.send_keys("\u{E004}").await.expect("Tab");
    }
    panic!("Tab never reached {last}: {stops:?}");
}

async fn number(client: &Client, script: &str) -> f64 {
    client
        .execute(script, vec![])
        .await
        .expect("script")
        .as_f64()
        .unwrap_or_else(|| panic!("a number from {script}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerks_and_reviewers_work_on_a_tablet_with_every_page_accessible() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let client = chromium(&driver).await;
    let base = &server.base_url;
    client
        .set_window_size(TABLET.0, TABLET.1)
        .await
        .expect("tablet size");
    first_login(
        &client,
        base,
        "admin",
        &server.admin_password,
        "directora de pruebas 2026",
    )
    .await;
    axe(&client, "/ (inicio)").await;

    // The list of forms: grouped by programme, searchable, without the
    // forms Sello fills itself.
    client.goto(&format!("{base}/formularios")).await.expect("forms");
    let list = body_text(&client).await;
    assert!(list.contains("Chile · Programa Familias"), "{list}");
    assert!(!list.contains("Padrón de documentos emitidos en lote"), "{list}");
    axe(&client, "/formularios").await;
    fill(&client, "q", "caracterizacion").await;
    click(&client, "form[role=search] button").await;
    arrive(&client, "/formularios").await;
    let found = body_text(&client).await;
    assert!(found.contains("Caracterización"), "{found}");
    assert!(!found.contains("Oficio de comisión"), "{found}");
    axe(&client, "/formularios?q=caracterizacion").await;

    // The widest form on the tablet: its tables scroll inside their box,
    // the page itself does not, and the «Sexo» select is wide enough to read.
    client
        .goto(&format!("{base}/formularios/caracterizacion-familia"))
        .await
        .expect("form");
    arrive(&client, "/formularios/caracterizacion-familia").await;
    let overflow = page_overflow(&client).await;
    assert!(
        overflow <= 0,
        "the page scrolls sideways by {overflow} px at 800 px"
    );
    let select = number(
        &client,
        "return document.querySelector('select[name$=\".sexo\"]').getBoundingClientRect().width;",
    )
    .await;
    assert!(select >= 100.0, "the «Sexo» select is {select} px wide");
    let scrolls = client
        .execute(
            "return [...document.querySelectorAll('.tabla-desplazable')]
                .some(b => b.scrollWidth > b.clientWidth && getComputedStyle(b).overflowX === 'auto');",
            vec![],
        )
        .await
        .expect("measure");
    assert_eq!(scrolls, json!(true), "a wide table scrolls inside its box");
    let shot = screenshot(&client, "10-tableta-caracterizacion.png").await;
    eprintln!("captura: {}", shot.display());
    axe(&client, "/formularios/caracterizacion-familia").await;

    // «Más filas» comes back to its own table, not to the top of the page.
    let table = client
        .find(Locator::Css("button[value^=\"filas:\"]"))
        .await
        .expect("a «Más filas» button")
        .attr("value")
        .await
        .expect("value")
        .expect("value");
    let table = table.trim_start_matches("filas:").to_owned();
    click(&client, "button[value^=\"filas:\"]").await;
    // The address before the click has the same path: wait for the answer's.
    let url = arrive_at_fragment(&client, &table).await;
    assert!(url.contains("/formularios/caracterizacion-familia"), "{url}");
    let scrolled = number(&client, "return window.scrollY;").await;
    assert!(
        scrolled > 200.0,
        "the page came back at its table, scrolled {scrolled} px"
    );
    assert!(
        page_overflow(&client).await <= 0,
        "more rows do not widen the page"
    );
    let shot = screenshot(&client, "12-tableta-tabla-integrantes.png").await;
    eprintln!("captura: {}", shot.display());
    axe(&client, "/formularios/caracterizacion-familia#… (más filas)").await;

    // Enter in a text field saves the draft; it never presses «Más filas».
    client
        .goto(&format!("{base}/formularios/caracterizacion-familia"))
        .await
        .expect("form");
    arrive(&client, "/formularios/caracterizacion-familia").await;
    let count_rows = "return document.querySelectorAll('.tabla-desplazable tbody tr').length;";
    let rows = number(&client, count_rows).await;
    let field = client
        .find(Locator::Css("input[name=domicilio]"))
        .await
        .expect("domicilio");
    field
        .send_keys("Pasaje Los Aromos 123\u{E007}")
        .await
        .expect("type and Enter");
    arrive(&client, "/borradores/").await;
    let saved = body_text(&client).await;
    assert!(saved.contains("Preparado por"), "Enter saved the draft: {saved}");
    assert_eq!(number(&client, count_rows).await, rows, "Enter added no rows");
    // Times as people read them, as everywhere: «actualizado el 07/12/2026 10:31».
    let when = saved.split("actualizado el ").nth(1).expect("when it was saved");
    let shape: String = when
        .chars()
        .take(16)
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "99/99/9999 99:99", "{saved}");
    axe(&client, "/borradores/… (elaboración)").await;

    // Keyboard only: from the top, Tab reaches the skip link first, then
    // every field of the form once, in the order they are read (top to
    // bottom, left to right in a row), and the buttons after them.
    client
        .goto(&format!("{base}/formularios/oficio-comision"))
        .await
        .expect("form");
    arrive(&client, "/formularios/oficio-comision").await;
    let stops = tab_through(&client, "button[value=emitir]", 200).await;
    assert_eq!(stops[0].0, "Saltar al contenido", "{stops:?}");
    let fields = client
        .execute(
            "return [...document.querySelectorAll('main form.tarjeta [name]')]
                .filter(e => e.type !== 'hidden' && !e.classList.contains('por-omision') && !e.disabled)
                .map(e => e.getAttribute('name'));",
            vec![],
        )
        .await
        .expect("the form's fields");
    let mut fields: Vec<String> = serde_json::from_value(fields).expect("names");
    // The buttons at the end all send «_accion»: compared as one, like below.
    fields.dedup();
    let mut reached: Vec<&(String, f64, f64)> =
        stops.iter().filter(|(name, ..)| fields.contains(name)).collect();
    // A date or time takes one stop per part (day, month, year, picker):
    // consecutive stops in one field are that field once.
    reached.dedup_by(|later, earlier| later.0 == earlier.0);
    let reached_names: Vec<&str> = reached.iter().map(|(name, ..)| name.as_str()).collect();
    assert_eq!(reached_names, fields, "every field once, in the page's order");
    for pair in reached.windows(2) {
        let (a, a_top, a_left) = pair[0];
        let (b, b_top, b_left) = pair[1];
        assert!(
            *b_top > *a_top + 1.0 || ((*b_top - *a_top).abs() <= 1.0 && *b_left > *a_left),
            "Tab goes from «{a}» to «{b}», which is read before it: {stops:?}"
        );
    }
    let first_field = stops
        .iter()
        .position(|(name, ..)| fields.contains(name))
        .expect("a field");
    assert!(
        stops[first_field..]
            .iter()
            .all(|(name, ..)| !name.contains("Nuevo documento")),
        "the menu comes before the form, not inside it: {stops:?}"
    );

    // Seed 004's chain: the solicitud is issued first, and the oficio that
    // authorises its apoyo cites it by the folio Sello gave it.
    client
        .goto(&format!("{base}/formularios/solicitud-apoyo"))
        .await
        .expect("form");
    // Its five requisitos need more rows than a blank form shows.
    click(&client, "button[value=\"filas:requisitos\"]").await;
    arrive(&client, "/formularios/solicitud-apoyo").await;
    for (name, value) in example_fields("solicitud-apoyo") {
        fill(&client, &name, &value).await;
    }
    click(&client, "button[value=emitir]").await;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("span.estado.emitido"))
        .await
        .expect("the solicitud's page, issued");
    let solicitud_url = arrive(&client, "/documentos/").await;
    let solicitud_folio = folio_shown(&client).await;

    // The clerk (here the administrator) sends a quote on; the accountant
    // sees what they approve before the button that approves it.
    client
        .goto(&format!("{base}/formularios/oficio-autorizacion-apoyo"))
        .await
        .expect("form");
    for (name, value) in example_fields("oficio-autorizacion-apoyo") {
        fill(&client, &name, &value).await;
    }
    fill(&client, "folio_solicitud", &solicitud_folio).await;
    click(&client, "button[value=enviar]").await;
    let draft = arrive(&client, "/borradores/").await;
    let one_time = create_user(&server, "contadora", "Rosa Contreras Díaz", "contador");
    let accountant = chromium(&driver).await;
    accountant
        .set_window_size(TABLET.0, TABLET.1)
        .await
        .expect("tablet size");
    first_login(
        &accountant,
        base,
        "contadora",
        &one_time,
        "contadora de pruebas 2026",
    )
    .await;
    let home = body_text(&accountant).await;
    assert!(home.contains("Oficio de autorización de apoyo"), "{home}");
    assert!(
        home.contains("José Luis Martínez Rodríguez"),
        "the inbox names the person: {home}"
    );
    assert!(home.contains("hace "), "the inbox says how long it waits: {home}");
    axe(&accountant, "/ (contadora)").await;
    accountant.goto(&draft).await.expect("review");
    arrive(&accountant, "/borradores/").await;
    let top_of = |css: &str| format!("return document.querySelector('{css}').getBoundingClientRect().top;");
    let amount_at = number(
        &accountant,
        "return [...document.querySelectorAll('dl.resumen dd')].find(d => d.textContent.includes('985.5')).getBoundingClientRect().top;",
    )
    .await;
    let approve_at = number(&accountant, &top_of("button[value=aprobar]")).await;
    assert!(
        amount_at < approve_at,
        "the amount ({amount_at}) comes before the approval ({approve_at})"
    );
    let review = body_text(&accountant).await;
    for shown in [
        "Lo que se aprueba",
        "$985.50",
        "4411 Ayudas sociales a personas",
        "Óptica Visión Potosina",
    ] {
        assert!(review.contains(shown), "the review shows «{shown}»: {review}");
    }
    let shot = screenshot(&accountant, "11-revision-contadora.png").await;
    eprintln!("captura: {}", shot.display());
    axe(&accountant, "/borradores/… (revisión)").await;
    click(&accountant, "button[value=aprobar]").await;
    accountant
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("section.tramite"))
        .await
        .expect("the draft's page again");
    let after = body_text(&accountant).await;
    assert!(after.contains("Dio su visto bueno"), "{after}");
    assert!(after.contains("Rosa Contreras Díaz"), "{after}");
    accountant.close().await.expect("close");

    // The director signs (not the one who prepared it: the page says so);
    // the oficio links to its solicitud and the solicitud to the oficio.
    let one_time = create_user(&server, "directora", "Laura Méndez Torres", "firmante");
    let director = chromium(&driver).await;
    director
        .set_window_size(TABLET.0, TABLET.1)
        .await
        .expect("tablet size");
    first_login(
        &director,
        base,
        "directora",
        &one_time,
        "directora de pruebas 2026",
    )
    .await;
    director.goto(&draft).await.expect("the draft");
    arrive(&director, "/borradores/").await;
    click(&director, "button[value=firmar]").await;
    if director
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("span.estado.emitido"))
        .await
        .is_err()
    {
        panic!("the oficio was not issued: {}", body_text(&director).await);
    }
    arrive(&director, "/documentos/").await;
    let oficio_folio = folio_shown(&director).await;
    let oficio = body_text(&director).await;
    let cites = oficio
        .split("Documentos que cita")
        .nth(1)
        .expect("a section of what it cites");
    assert!(
        cites.contains(&solicitud_folio),
        "the oficio cites {solicitud_folio}: {oficio}"
    );
    assert!(
        !cites.contains(" del 20"),
        "the cited document's day reads dd/mm/aaaa: {cites}"
    );
    assert!(
        oficio.contains("Laura Méndez Torres"),
        "signed by the director: {oficio}"
    );
    axe(&director, "/documentos/… (oficio que cita)").await;
    director
        .find(Locator::XPath(&format!(
            "//main//li/a[contains(., '{solicitud_folio}')]"
        )))
        .await
        .expect("a link to the solicitud")
        .click()
        .await
        .expect("follow it");
    let followed = arrive(&director, "/documentos/").await;
    let path = |url: &str| url.split(['?', '#']).next().unwrap_or_default().to_owned();
    assert_eq!(
        path(&followed),
        path(&solicitud_url),
        "the link leads to the solicitud"
    );
    let solicitud = body_text(&director).await;
    let cited_by = solicitud
        .split("Lo citan")
        .nth(1)
        .expect("a section of what cites it");
    assert!(
        cited_by.contains(&oficio_folio),
        "the solicitud is cited by {oficio_folio}: {solicitud}"
    );
    axe(&director, "/documentos/… (solicitud citada)").await;
    director.close().await.expect("close");

    // The public page: a well-formed code not issued here is «No
    // encontrado»; one character misread is a typing error, with how to
    // read the code from the paper.
    let unknown = "0000-0000-0000-0000-0000-0000-000";
    let misread = "0000-0000-0000-0000-0000-0800-000";
    client.goto(&format!("{base}/v")).await.expect("lookup");
    axe(&client, "/v").await;
    fill(&client, "codigo", unknown).await;
    click(&client, "main form button").await;
    arrive(&client, "/v/").await;
    let answer = body_text(&client).await;
    assert!(answer.contains("No encontrado"), "{answer}");
    axe(&client, "/v/… (no encontrado)").await;
    client.goto(&format!("{base}/v")).await.expect("lookup");
    fill(&client, "codigo", misread).await;
    click(&client, "main form button").await;
    arrive(&client, "/v/").await;
    let answer = body_text(&client).await;
    assert!(answer.contains("error de escritura"), "{answer}");
    assert!(answer.contains("Cómo leer el código del papel"), "{answer}");
    assert!(!answer.contains("no es un documento emitido"), "{answer}");
    axe(&client, "/v/… (mal escrito)").await;
    // The checker can fail: an image without its text is found.
    client
        .execute(
            "document.querySelector('main').appendChild(document.createElement('img')).src = '/favicon.svg';",
            vec![],
        )
        .await
        .expect("plant an image without alt");
    let found = crate::browser::axe_violations(&client).await;
    assert!(
        found.iter().any(|v| v["id"] == "image-alt"),
        "axe-core reports the image without alt: {found:?}"
    );
    client.close().await.expect("close");
}
