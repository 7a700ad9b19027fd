//! Shared set-up: the real catalog, one renderer per test binary, and PDF
//! inspection through the same tools an archivist would use (poppler, qpdf).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;
use sello::config::Config;
use sello::forms::{Catalog, FieldType, FormSpec, IssueDate, SignerValue, StepKind};
use sello::keys::{KeyAlgorithm, OfficeKey};
use sello::render::{CitedDocument, DocumentContext, Endorsement, Renderer};
use sello::signed_pdf::{IssueRequest, issue};
use serde_json::Value;

pub fn forms_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("forms")
}

pub fn config_for(forms_dir: &Path) -> Config {
    let env = [("SELLO_FORMS_DIR".to_owned(), forms_dir.display().to_string())];
    Config::from_sources(None, env).expect("test configuration is valid")
}

pub static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(&forms_dir()).expect("the catalog loads"));

pub static RENDERER: LazyLock<Renderer> =
    LazyLock::new(|| Renderer::new(&config_for(&forms_dir())).expect("the renderer starts"));

pub fn form(id: &str) -> &'static FormSpec {
    CATALOG
        .get(id)
        .unwrap_or_else(|| panic!("form {id} is in the catalog"))
}

pub fn example(id: &str) -> Value {
    let path = forms_dir().join(id).join("example.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("example.json exists"))
        .expect("example.json is JSON")
}

pub fn issue_time() -> DateTime<Tz> {
    chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 11, 22, 10, 30, 0)
        .single()
        .expect("a valid time")
}

/// The examples' issue day: validation as of the day they are issued on.
pub fn issue_day() -> IssueDate {
    IssueDate::issued(&issue_time())
}

/// Validates (as issued on [`issue_time`]) and renders a draft, panicking
/// with the reasons if either fails.
pub fn render(id: &str, data: &Value) -> Vec<u8> {
    let form = form(id);
    if let Err(problems) = sello::forms::validate(form, data, issue_day()) {
        panic!("{id}: data refused:\n{problems}");
    }
    RENDERER
        .render(form, data, &DocumentContext::draft(issue_time()))
        .unwrap_or_else(|e| panic!("{id}: {e}"))
        .pdf
}

/// The office key that signs the documents these tests issue, made once
/// per test binary in a folder that lives as long as it.
static KEY: LazyLock<(tempfile::TempDir, OfficeKey)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = OfficeKey::generate(&dir.path().join("clave"), "DIF Soledad", KeyAlgorithm::Ed25519)
        .expect("a key is generated");
    (dir, key)
});

/// The folio the archive would give the document: its family's series.
pub fn folio_for(form: &FormSpec) -> String {
    let (series, _) = sello::archive::series_of(form.family);
    sello::archive::FolioFormat::default()
        .folio("DIF-SLP", series, 2026, 137)
        .to_string()
}

/// Every `firma` and `visado` step of the form's workflow, taken by an
/// account, as the trámite records them before the document is issued.
/// The person the data names for a step (in the fields its account fills)
/// is the one who takes it; other steps are taken by the directora.
pub fn endorsements_for(form: &FormSpec, data: &Value) -> Vec<Endorsement> {
    let typed = |step: &str, value: SignerValue| {
        form.fields
            .iter()
            .find(|f| {
                f.filled_by
                    .as_ref()
                    .is_some_and(|by| by.step == step && by.value == value)
            })
            .and_then(|f| data.get(&f.name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    form.workflow
        .steps()
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Firma | StepKind::Visado))
        .map(|s| Endorsement {
            paso_id: s.id.clone(),
            paso: s.label.clone(),
            tipo: s.kind,
            nombre: typed(&s.id, SignerValue::Nombre)
                .unwrap_or_else(|| "Mtra. Guadalupe Torres Medina".to_owned()),
            cargo: typed(&s.id, SignerValue::Cargo)
                .unwrap_or_else(|| "Directora del Sistema DIF Municipal".to_owned()),
            fecha_hora: issue_time().to_rfc3339(),
        })
        .collect()
}

/// `data` and the citations an archive would have resolved for it: a
/// document that cites another is issued only from an archive, which
/// resolves the folio; these tests issue without one (the archive's tests
/// issue real citations). An optional citation is left out; a required
/// one (the oficio an acuse or a constancia closes) is taken as resolved,
/// as the typed folio issued on the 20th of November.
pub fn as_resolved(form: &FormSpec, data: &Value) -> (Value, Vec<CitedDocument>) {
    let mut data = data.clone();
    let mut resolved = Vec::new();
    if let Some(object) = data.as_object_mut() {
        for field in &form.fields {
            let FieldType::Document { forms, .. } = &field.kind else {
                continue;
            };
            if !field.required {
                object.remove(&field.name);
                continue;
            }
            let folio = object.get(&field.name).and_then(Value::as_str);
            let folio = folio.unwrap_or_else(|| panic!("{}: «{}» is required", form.id, field.name));
            resolved.push(CitedDocument {
                field: field.name.clone(),
                folio: folio.to_owned(),
                fecha: "2026-11-20".into(),
                formulario: forms[0].name().to_owned(),
            });
        }
        // A derivación's sending, as the archive records it in the data
        // when it takes the folio: its office registered as typed, each
        // shared folio an Informe social of the 10th, due a week later.
        if let Some(rule) = &form.derivacion {
            let office = object.get(&rule.oficina).cloned().unwrap_or_default();
            let shared: Vec<serde_json::Value> = rule
                .compartidos
                .as_ref()
                .and_then(|table| object.get(table))
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .map(|row| {
                    serde_json::json!({
                        "folio": row.get("folio"),
                        "formulario": "Informe social",
                        "fecha": "2026-11-10",
                    })
                })
                .collect();
            object.insert(
                sello::forms::REFERRAL_RECORD_FIELD.to_owned(),
                serde_json::json!({
                    "oficina": {"clave": office, "nombre": "Unidad de Subsidios Sociales"},
                    "compartidos": shared,
                    "plazo": {"dias_habiles": rule.plazo_dias, "vence": "2026-11-27"},
                }),
            );
        }
        // A report of sessions, the count the archive records when it
        // takes the folio (two listas).
        if form.conteo.is_some() {
            object.insert(
                sello::forms::COUNT_RECORD_FIELD.to_owned(),
                serde_json::json!({
                    "sesiones": 2, "asistencias": 41, "personas": 30, "grupo": null,
                    "listas": [
                        {"folio": "DIF/LI/2026/0031", "fecha": "2026-09-03", "asistentes": 23},
                        {"folio": "DIF/LI/2026/0047", "fecha": "2026-10-08", "asistentes": 18},
                    ],
                }),
            );
        }
    }
    (data, resolved)
}

/// Issues `data` as the trámite does at its last step: with its folio,
/// verification code, QR and seal, every `firma` and `visado` step taken
/// (the fields the accounts fill, filled from them) and the people who
/// sign in person signing the printed paper. Panics if it is refused.
pub fn issue_as_tramite(id: &str, data: &Value) -> Vec<u8> {
    let form = form(id);
    let endorsements = endorsements_for(form, data);
    let (data, citations) = as_resolved(form, data);
    let data = sello::tramites::signed_data(form, &data, &endorsements);
    let on_paper = sello::forms::paper_signers(form, &data);
    let request = IssueRequest {
        form,
        data: &data,
        issued_at: issue_time(),
        folio: Some(folio_for(form)),
        signer: "Mtra. Guadalupe Torres Medina",
        cargo: "Directora del Sistema DIF Municipal",
        endorsements: &endorsements,
        hand_signatures: &[],
        on_paper: &on_paper,
        citations: &citations,
    };
    issue(&RENDERER, &KEY.1, "https://sello.dif-soledad.gob.mx", &request)
        .unwrap_or_else(|e| panic!("{id}: not issued: {e}"))
        .pdf
}

fn write_temp(pdf: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), pdf).expect("write temp pdf");
    file
}

fn run_tool(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("{program} is needed by the tests (the README's test command installs it): {e}")
    })
}

/// The PDF's text as poppler extracts it, whitespace collapsed to single spaces.
pub fn pdf_text(pdf: &[u8]) -> String {
    let file = write_temp(pdf);
    let path = file.path().to_str().expect("utf-8 temp path");
    let output = run_tool("pdftotext", &["-raw", "-enc", "UTF-8", path, "-"]);
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    squash(&rejoin_hyphens(&String::from_utf8_lossy(&output.stdout)))
}

/// Spanish typography repeats a hyphen at the start of the next line when a
/// compound word breaks there ("técnico-⏎-profesional"); read it as one.
fn rejoin_hyphens(text: &str) -> String {
    text.replace("-\n-", "-")
}

pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `qpdf --check`: Ok, or qpdf's complaint.
pub fn qpdf_check(pdf: &[u8]) -> Result<(), String> {
    let file = write_temp(pdf);
    let path = file.path().to_str().expect("utf-8 temp path");
    let output = run_tool("qpdf", &["--check", path]);
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The structure types of the PDF's tag tree (`Table`, `TH`, `P`…), each
/// once, read from qpdf's uncompressed rewrite of it.
pub fn structure_types(pdf: &[u8]) -> std::collections::BTreeSet<String> {
    let file = write_temp(pdf);
    let path = file.path().to_str().expect("utf-8 temp path");
    let output = run_tool("qpdf", &["--qdf", "--object-streams=disable", path, "-"]);
    assert!(output.status.success(), "qpdf failed");
    let text = String::from_utf8_lossy(&output.stdout);
    text.split("/S /")
        .skip(1)
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_alphanumeric()).next())
        .filter(|kind| !kind.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The bytes of a file attached to the PDF, read back by qpdf.
pub fn attachment(pdf: &[u8], name: &str) -> Option<Vec<u8>> {
    let file = write_temp(pdf);
    let path = file.path().to_str().expect("utf-8 temp path");
    let output = run_tool("qpdf", &[&format!("--show-attachment={name}"), path]);
    output.status.success().then_some(output.stdout)
}

/// Page count, from poppler.
pub fn page_count(pdf: &[u8]) -> usize {
    let file = write_temp(pdf);
    let path = file.path().to_str().expect("utf-8 temp path");
    let output = run_tool("pdfinfo", &[path]);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("Pages:")
                .map(|n| n.trim().parse().expect("a number"))
        })
        .expect("pdfinfo prints Pages")
}

/// "2026-12-03" as it may be printed: long in prose, short in tables.
pub fn date_forms(iso: &str) -> [String; 2] {
    let date = chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d").expect("ISO date");
    let parts: Vec<u32> = iso.split('-').map(|p| p.parse().expect("ISO date")).collect();
    [
        sello::forms::long_date(date),
        format!("{:02}/{:02}/{}", parts[2], parts[1], parts[0]),
    ]
}

/// An amount as it may be printed: as given, or as `dinero` formats it
/// ("$1,850.50"), or in Chilean pesos ("$1.850").
pub fn money_forms(amount: &Value) -> Vec<String> {
    let text = match amount {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let cents = (text.parse::<f64>().unwrap_or(0.0) * 100.0).round() as i64;
    let group = |n: i64, sep: char| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    };
    vec![
        text,
        format!("${}.{:02}", group(cents / 100, ','), cents % 100),
        format!("${}", group(cents / 100, '.')),
    ]
}

/// Every required value of `data`, as alternatives of how it may be printed.
pub fn required_values(fields: &[sello::forms::FieldSpec], data: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for field in fields.iter().filter(|f| f.required) {
        let Some(value) = data.get(&field.name) else {
            continue;
        };
        let name = field.name.clone();
        match (&field.kind, value) {
            (FieldType::Date, Value::String(s)) => out.push((name, date_forms(s).to_vec())),
            (FieldType::Money { .. }, amount) => out.push((name, money_forms(amount))),
            (FieldType::Person { .. }, Value::Object(p)) => {
                for key in ["nombre", "identificacion"] {
                    if let Some(Value::String(s)) = p.get(key) {
                        out.push((format!("{name}.{key}"), vec![s.clone()]));
                    }
                }
            }
            (FieldType::List { columns, .. }, Value::Array(rows)) => {
                for (i, row) in rows.iter().enumerate() {
                    for (path, alternatives) in required_values(columns, row) {
                        out.push((format!("{name}[{}].{path}", i + 1), alternatives));
                    }
                }
            }
            (_, Value::String(s)) => out.push((name, vec![s.clone()])),
            (_, Value::Number(n)) => out.push((name, vec![n.to_string()])),
            _ => {}
        }
    }
    out
}

/// The text of one page (1-based), whitespace collapsed.
pub fn page_text(pdf: &[u8], page: usize) -> String {
    let file = write_temp(pdf);
    let path = file.path().to_str().expect("utf-8 temp path");
    let page = page.to_string();
    let output = run_tool(
        "pdftotext",
        &["-raw", "-enc", "UTF-8", "-f", &page, "-l", &page, path, "-"],
    );
    squash(&rejoin_hyphens(&String::from_utf8_lossy(&output.stdout)))
}

/// A word as poppler places it on the page, in points from the top left.
pub struct WordBox {
    pub text: String,
    pub x_min: f64,
    pub x_max: f64,
}

/// A page's size and the words on it.
pub struct PageBoxes {
    pub width: f64,
    pub height: f64,
    pub words: Vec<WordBox>,
}

/// Every word of every page with its box (`pdftotext -bbox`).
pub fn word_boxes(pdf: &[u8]) -> Vec<PageBoxes> {
    let file = write_temp(pdf);
    let path = file.path().to_str().expect("utf-8 temp path");
    let output = run_tool("pdftotext", &["-bbox", "-enc", "UTF-8", path, "-"]);
    assert!(output.status.success(), "pdftotext -bbox failed");
    let html = String::from_utf8_lossy(&output.stdout);
    let attribute = |tag: &str, name: &str| -> f64 {
        let start = tag
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name} in {tag}"))
            + name.len()
            + 2;
        let end = start + tag[start..].find('"').expect("closing quote");
        tag[start..end].parse().expect("a number")
    };
    let mut pages: Vec<PageBoxes> = Vec::new();
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            pages.push(PageBoxes {
                width: attribute(line, "width"),
                height: attribute(line, "height"),
                words: Vec::new(),
            });
        } else if line.starts_with("<word ") {
            let text_start = line.find('>').expect("tag end") + 1;
            let text_end = line.rfind("</word>").expect("word end");
            pages
                .last_mut()
                .expect("a page before its words")
                .words
                .push(WordBox {
                    text: line[text_start..text_end].to_owned(),
                    x_min: attribute(line, "xMin"),
                    x_max: attribute(line, "xMax"),
                });
        }
    }
    assert!(!pages.is_empty(), "pdftotext found no pages");
    pages
}

/// A 1×1 RGB PNG: the smallest logo, or drawn signature, there is.
pub const TINY_PNG: [u8; 69] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xDE, 0x00,
    0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x90, 0xD7, 0x72, 0x01, 0x00, 0x00, 0xF9,
    0x00, 0x8E, 0x47, 0xD4, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
    0x82,
];

/// A draft of `id` rendered under the installation's `settings` (as
/// `SELLO_*` variables), with `hand_signatures` drawn by their signers.
pub fn render_draft_with(
    settings: &[(&str, &str)],
    id: &str,
    data: &Value,
    hand_signatures: Vec<(String, Vec<u8>)>,
) -> Vec<u8> {
    let mut env = vec![("SELLO_FORMS_DIR".to_owned(), forms_dir().display().to_string())];
    env.extend(settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = Config::from_sources(None, env).expect("valid settings");
    let at = config
        .time_zone
        .with_ymd_and_hms(2026, 3, 9, 9, 0, 0)
        .single()
        .expect("time");
    Renderer::new(&config)
        .expect("renderer")
        .render(
            form(id),
            data,
            &DocumentContext::draft(at).with_hand_signatures(hand_signatures),
        )
        .expect("renders")
        .pdf
}

/// How many images `pdf` holds, as poppler lists them.
pub fn image_count(pdf: &[u8]) -> usize {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().expect("temp");
    std::fs::write(file.path(), pdf).expect("write");
    let output = Command::new("pdfimages")
        .arg("-list")
        .arg(file.path())
        .output()
        .expect("pdfimages (poppler) runs");
    // Two header lines, then one line per image.
    String::from_utf8_lossy(&output.stdout).lines().skip(2).count()
}
