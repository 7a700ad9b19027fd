//! A real headless Chromium, through chromedriver: log in, change the
//! one-time password, fill and issue an oficio de comisión, open its
//! verification link, see «Válido», annul it, reload and see «Anulado»;
//! then, at tablet size, a family's representative draws their signature
//! on the pad with a pen and it is printed in the issued PDF. axe-core
//! checks every page it visits. The helpers are shared with `staff_app`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::server::{Server, free_port};

/// chromedriver on a free port, stopped on drop.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub(crate) fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; ./scripts/test installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn chromium(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    let mut options = json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1400", "--lang=es"]
    });
    if Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// Runs axe-core (vendored by `./scripts/test` from npm, see
/// `AXE_CORE_JS`) over the page the browser shows, for the WCAG 2.x A
/// and AA rules, and fails with what it found. WebDriver's scripts are not
/// bound by the page's CSP, so the page itself needs no change to be checked.
pub(crate) async fn axe(client: &Client, page: &str) {
    let violations = axe_violations(client).await;
    assert!(
        violations.is_empty(),
        "axe-core finds {} violation(s) on {page}:\n{}",
        violations.len(),
        serde_json::to_string_pretty(&violations).unwrap_or_default()
    );
}

/// What axe-core finds wrong on the page the browser shows: each rule
/// broken, with a few of the elements that break it.
pub(crate) async fn axe_violations(client: &Client) -> Vec<serde_json::Value> {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let source = SOURCE.get_or_init(|| {
        let path = std::env::var("AXE_CORE_JS")
            .unwrap_or_else(|_| panic!("AXE_CORE_JS names axe.min.js; ./scripts/test installs it from npm"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    });
    let loaded = client
        .execute(
            &format!("{source}\n;return typeof window.axe === 'object';"),
            vec![],
        )
        .await
        .expect("axe-core loads");
    assert_eq!(loaded, json!(true), "axe-core defines window.axe");
    let violations = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.axe.run(document, {runOnly: {type: 'tag', values:
                 ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})
               .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))))
               .catch(e => done([{id: 'axe-error', help: String(e)}]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    violations.as_array().cloned().unwrap_or_default()
}

/// Where screenshots go: kept after the test, to be looked at.
pub(crate) fn screenshot_dir() -> PathBuf {
    let dir = crate::root().join("target").join("capturas-e2e");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

pub(crate) async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
    assert!(png.len() > 5_000, "{name} has content ({} bytes)", png.len());
    let path = screenshot_dir().join(name);
    std::fs::write(&path, &png).expect("screenshot saved");
    path
}

pub(crate) async fn fill(client: &Client, name: &str, text: &str) {
    let field = client
        .find(Locator::Css(&format!("[name=\"{name}\"]")))
        .await
        .unwrap_or_else(|_| panic!("field {name}"));
    let kind = field.attr("type").await.ok().flatten().unwrap_or_default();
    if kind == "date" || kind == "time" {
        // Typing into date inputs depends on the browser's locale; set them directly.
        client
            .execute(
                "document.getElementsByName(arguments[0])[0].value = arguments[1];",
                vec![json!(name), json!(text)],
            )
            .await
            .expect("set date");
    } else {
        // A blank form may come with what the office typed last (the place, the signer).
        if field.tag_name().await.is_ok_and(|tag| tag != "select") {
            field.clear().await.expect("clear");
        }
        field.send_keys(text).await.expect("type");
    }
}

pub(crate) async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"))
        .click()
        .await
        .expect("click");
}

/// Waits for the browser to arrive at a path starting with `prefix`: a
/// click returns before the page it leads to has loaded.
pub(crate) async fn arrive(client: &Client, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = client.current_url().await.expect("url");
        let ready = client
            .execute("return document.readyState", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(|s| s == "complete"))
            .unwrap_or(false);
        if url.path().starts_with(prefix) && ready {
            return url.to_string();
        }
        assert!(Instant::now() < deadline, "still at {url}, expected {prefix}…");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn body_text(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

/// The example's fields of `form`, as the entry form names its inputs.
pub(crate) fn example_fields(form: &str) -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(crate::root().join(format!("forms/{form}/example.json"))).expect("example");
    crate::entry_fields::entry_fields(&serde_json::from_str(&text).expect("JSON"))
}

/// The body of a plain HTTP GET with a cookie; the service answers with a
/// length, not in chunks.
pub(crate) fn http_get(url: &str, cookie: &str) -> Vec<u8> {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").expect("http");
    let (host, path) = rest.split_at(rest.find('/').expect("path"));
    let mut stream = std::net::TcpStream::connect(host).expect("connects");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answer");
    let body = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end")
        + 4;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer[..body])
    );
    answer[body..].to_vec()
}

/// Draws a signature on the pad with a pen, as a person would: a few
/// strokes across the middle of the canvas.
async fn draw_on_pad(client: &Client) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, PenActions, PointerAction};
    let pad = client
        .find(Locator::Css("canvas.pad"))
        .await
        .expect("the signature pad");
    let mut pen = PenActions::new("lapiz".into());
    for stroke in [-30i64, 0, 25] {
        pen = pen
            .then(PointerAction::MoveToElement {
                element: pad.clone(),
                duration: None,
                x: -220,
                y: stroke,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            });
        for step in 0..22 {
            let rise = if step % 2 == 0 { -9 } else { 11 };
            pen = pen.then(PointerAction::MoveBy {
                duration: Some(Duration::from_millis(15)),
                x: 20,
                y: rise,
            });
        }
        pen = pen.then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    }
    client.perform_actions(pen).await.expect("the pen draws");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_director_issues_verifies_and_annuls_in_a_real_browser() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let client = chromium(&driver).await;
    let base = &server.base_url;

    // First login with the one-time password leads to choosing one's own.
    client.goto(&format!("{base}/")).await.expect("home");
    arrive(&client, "/entrar").await;
    fill(&client, "usuario", "admin").await;
    fill(&client, "contrasena", &server.admin_password).await;
    screenshot(&client, "01-entrar.png").await;
    axe(&client, "/entrar").await;
    click(&client, "form button").await;
    arrive(&client, "/contrasena").await;
    fill(&client, "actual", &server.admin_password).await;
    fill(&client, "nueva", "directora de pruebas 2026").await;
    fill(&client, "repetida", "directora de pruebas 2026").await;
    click(&client, "main form button").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(".nota.ok"))
        .await
        .expect("the password was saved");
    let home = arrive(&client, "/").await;
    assert_eq!(
        home,
        format!("{base}/?aviso=contrasena"),
        "the password was accepted"
    );
    assert!(body_text(&client).await.contains("Contraseña guardada."));
    axe(&client, "/ (inicio)").await;

    // The office's administration, where it says who uploads lotes.
    client
        .goto(&format!("{base}/admin"))
        .await
        .expect("administration");
    arrive(&client, "/admin").await;
    assert!(body_text(&client).await.contains("Emisión por lotes"));
    axe(&client, "/admin").await;

    // Fill the oficio de comisión and issue it.
    client
        .goto(&format!("{base}/formularios/oficio-comision"))
        .await
        .expect("form");
    for (name, value) in example_fields("oficio-comision") {
        fill(&client, &name, &value).await;
    }
    screenshot(&client, "02-formulario.png").await;
    axe(&client, "/formularios/oficio-comision").await;
    click(&client, "button[value=emitir]").await;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("span.estado.emitido"))
        .await
        .expect("the document page of the issued document");
    let document_url = arrive(&client, "/documentos/").await;
    let page = body_text(&client).await;
    assert!(page.contains("DIF/OF/2026/0001"), "{page}");
    screenshot(&client, "03-documento.png").await;
    axe(&client, "/documentos/… (emitido)").await;

    // The verification link is the QR's: printed in the PDF, public, «Válido».
    let link = client
        .find(Locator::Css("a[href*=\"/v/\"]"))
        .await
        .expect("verification link")
        .attr("href")
        .await
        .expect("href")
        .expect("href");
    assert!(link.starts_with(&format!("{base}/v/")), "{link}");
    let code = link.rsplit('/').next().expect("code").to_owned();
    client.goto(&link).await.expect("verification page");
    let verification = body_text(&client).await;
    assert!(verification.contains("Válido"), "{verification}");
    assert!(
        !verification.contains("Lucía"),
        "the public page shows no personal data"
    );
    screenshot(&client, "04-verificacion-valido.png").await;
    axe(&client, "/v/… (válido)").await;

    // Annul it with a reason (the category left at its first choice); the
    // same link now says «Anulado» and the category, not the reason. On a tablet.
    client.set_window_size(820, 1180).await.expect("tablet size");
    client.goto(&document_url).await.expect("document");
    fill(&client, "motivo", "Se corrigió la fecha del evento").await;
    click(&client, "button.peligro").await;
    // Annulling cannot be undone: one more, explicit, press.
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("input[name=confirmar]"))
        .await
        .expect("the confirmation step");
    assert!(body_text(&client).await.contains("no se puede deshacer"));
    axe(&client, "/documentos/…/anular (confirmación)").await;
    click(&client, "button.peligro").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("span.estado.anulado"))
        .await
        .expect("the document page shows it annulled");
    screenshot(&client, "05-documento-anulado.png").await;
    axe(&client, "/documentos/… (anulado)").await;
    let page = body_text(&client).await;
    assert!(page.contains("anulado"), "{page}");
    client.goto(&link).await.expect("verification page");
    client.refresh().await.expect("reload");
    let verification = body_text(&client).await;
    assert!(verification.contains("Anulado"), "{verification}");
    assert!(verification.contains("Error en los datos"), "{verification}");
    assert!(
        !verification.contains("Se corrigió la fecha del evento"),
        "{verification}"
    );
    screenshot(&client, "06-verificacion-anulado.png").await;
    axe(&client, "/v/… (anulado)").await;

    // On the tablet, a declaración de no participación: sent on, the
    // representative signs on the pad with a pen and consents; issued.
    client
        .goto(&format!("{base}/formularios/declaracion-no-participacion"))
        .await
        .expect("form");
    for (name, value) in example_fields("declaracion-no-participacion") {
        fill(&client, &name, &value).await;
    }
    click(&client, "button[value=enviar]").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("canvas.pad"))
        .await
        .expect("the signature pad");
    let draft_url = arrive(&client, "/borradores/").await;
    axe(&client, "/borradores/… (firmas en persona)").await;
    // An empty pad is not sent.
    click(&client, "input[name=consentimiento]").await;
    click(&client, "form.firma-en-pantalla button[type=submit]").await;
    assert!(
        client
            .find(Locator::Css(".aviso-vacio:not([hidden])"))
            .await
            .is_ok(),
        "an empty pad says the signature is missing"
    );
    draw_on_pad(&client).await;
    screenshot(&client, "07-firma-en-pantalla.png").await;
    click(&client, "form.firma-en-pantalla button[type=submit]").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("img.firma-dada"))
        .await
        .expect("the drawn signature is shown");
    assert_eq!(client.current_url().await.expect("url").as_str(), draft_url);
    click(&client, "button[value=continuar]").await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("button[value=firmar]"))
        .await
        .expect("the signature step");
    click(&client, "button[value=firmar]").await;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("span.estado.emitido"))
        .await
        .expect("the issued declaración");
    let declaration = arrive(&client, "/documentos/").await;
    screenshot(&client, "08-declaracion-emitida.png").await;
    axe(&client, "/documentos/… (declaración)").await;
    // The PDF, downloaded with the browser's session.
    let session = client
        .get_named_cookie("sello_sesion")
        .await
        .expect("session cookie")
        .value()
        .to_owned();
    client.close().await.expect("close");
    let pdf = http_get(&format!("{declaration}/pdf"), &format!("sello_sesion={session}"));
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let file = server.data_dir.path().join("declaracion.pdf");
    std::fs::write(&file, &pdf).expect("write");
    let listing = Command::new("pdfimages")
        .arg("-list")
        .arg(&file)
        .output()
        .expect("pdfimages");
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing.lines().any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.get(2) == Some(&"image") && cols.get(3) == Some(&"600") && cols.get(4) == Some(&"200")
        }),
        "the drawn signature is in the PDF:\n{listing}"
    );
    let text = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(String::from_utf8_lossy(&text.stdout).contains("Firmó en pantalla"));

    // The log says what happened, with no names, codes or folios.
    let log = server.log();
    assert!(log.contains("documento emitido"), "{log}");
    for secret in [
        code.as_str(),
        "Lucía",
        "Ramiro",
        "DIF/OF/2026/0001",
        "directora de pruebas",
    ] {
        let after_start = log.split("Sello escucha").nth(1).unwrap_or_default();
        assert!(
            !after_start.contains(secret),
            "the log contains «{secret}»:\n{after_start}"
        );
    }
    let (clean, took) = server.stop();
    assert!(clean, "sello serve stops cleanly on SIGTERM");
    assert!(took < Duration::from_secs(10), "{took:?}");
}
