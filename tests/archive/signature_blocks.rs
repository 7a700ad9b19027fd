//! Every form's example issued through its workflow, each step taken by an
//! account of the role it names: every signature block says only what
//! happened. An electronic signature only under the account that signed,
//! a visto bueno only under the account that gave it, an empty line under
//! whoever signs the printed paper, and the office's seal once; the names
//! typed for the signers give way to the accounts'.

use axum::http::StatusCode;
use sello::accounts::Role;
use sello::forms::{Catalog, FormSpec, StepKind};
use serde_json::{Value, json};

use crate::Fixture;
use crate::http::Service;
use crate::workflows::{Staff, draft, staff, step};

const SIGNED: &str = "Firmado electrónicamente el";
const ENDORSED: &str = "Visto bueno electrónico dado el";
const DRAWN: &str = "Firma autógrafa recabada en pantalla";
const SEAL: &str = "Sello electrónico de ";

/// The PDF's text in the order it was written: each signature block's
/// lines together, even when blocks stand side by side.
fn raw_text(pdf: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), pdf).expect("write");
    let output = std::process::Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(file.path())
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a block tied to a step may say above the account that takes it:
/// what that account does, never a role («Promotor Social», «Profesional
/// del Programa») the account may not hold, nor an act («Registró») that
/// someone else did.
const STEP_HEADINGS: &[&str] = &[
    "A t e n t a m e n t e",
    "Autoriza",
    "Aprobó conforme al presupuesto",
    "Aprueba",
    "Vo. Bo.",
    "Por la institución",
    "Entregó",
    "Recibió y archiva",
    "Responde",
    "Emitió el padrón",
];

/// The heading printed just before `name` in `block`, whichever of
/// `STEP_HEADINGS` it is (a date in parentheses after it aside).
fn step_heading(block: &str, name: &str) -> Option<&'static str> {
    let before = block[..block.find(name)?].trim_end();
    let before = match before
        .strip_suffix(')')
        .and_then(|b| b.rfind(" (").map(|at| &b[..at]))
    {
        Some(undated) => undated.trim_end(),
        None => before,
    };
    STEP_HEADINGS.iter().copied().find(|h| before.ends_with(h))
}

/// The token of the account that takes a step of `role`.
fn taker(staff: &Staff, role: Role) -> &str {
    match role {
        Role::Contador => &staff.contador,
        Role::Revisor => &staff.revisor,
        Role::Firmante | Role::Administrador => &staff.directora,
        _ => &staff.otra_auxiliar,
    }
}

/// The display name the test service gives each account.
fn name_of(role: Role) -> &'static str {
    match role {
        Role::Contador => "Persona contador",
        Role::Revisor => "Persona revisor",
        _ => "Persona directora",
    }
}

/// Drafts the form's example (citing documents issued for it), takes every step (the people it names
/// sign on paper) and returns the issued document and its PDF.
async fn through_its_workflow(
    fixture: &Fixture,
    service: &Service,
    staff: &Staff,
    form: &FormSpec,
) -> (Value, Vec<u8>) {
    let data = crate::citing_issued(fixture, form, &crate::example_now(form.id.as_str())).await;
    let id = draft(service, &staff.auxiliar, form.id.as_str(), &data).await;
    step(service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    let mut issued = None;
    for taken in &form.workflow.steps()[1..] {
        let answer = match taken.kind {
            StepKind::Visado => {
                step(
                    service,
                    taker(staff, taken.role),
                    id,
                    "approve",
                    None,
                    StatusCode::OK,
                )
                .await
            }
            StepKind::Presencial => {
                let answer = service
                    .api(
                        "POST",
                        &format!("/api/v1/drafts/{id}/finish"),
                        Some(&staff.auxiliar),
                        Some(json!({"on_paper": true})),
                    )
                    .await;
                assert_eq!(answer.status, StatusCode::OK, "{}: {}", form.id, answer.text());
                answer.json()
            }
            StepKind::Firma => {
                let last = form.workflow.after(&taken.id).is_none();
                let status = if last { StatusCode::CREATED } else { StatusCode::OK };
                step(service, taker(staff, taken.role), id, "sign", None, status).await
            }
            StepKind::Captura => unreachable!("only the first step is captura"),
        };
        if answer["issued"].is_object() {
            issued = Some(answer["issued"]["document"].clone());
        }
    }
    let document = issued.unwrap_or_else(|| panic!("{}: the last signature issues it", form.id));
    let pdf = service
        .api(
            "GET",
            &format!("/api/v1/documents/{}/pdf", crate::public_id(&document["id"])),
            Some(&staff.directora),
            None,
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    (document, pdf.bytes.to_vec())
}

/// The text of each signature block that makes a claim, up to the claim:
/// from the end of the block before it, at most 220 characters back.
fn blocks_claiming<'a>(text: &'a str, claim: &str) -> Vec<&'a str> {
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(claim).map(|i| i + from) {
        let mut start = at.saturating_sub(220);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        for earlier in [SIGNED, ENDORSED, DRAWN] {
            if let Some(end) = text[start..at].rfind(earlier) {
                start = start + end + earlier.len();
            }
        }
        blocks.push(&text[start..at]);
        from = at + claim.len();
    }
    blocks
}

/// Every text of `value`, nested ones too.
fn texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| texts(v, out)),
        _ => {}
    }
}

/// The names the clerk typed in the fields the accounts fill
/// (`director_nombre`) that the rest of the data does not also name.
fn typed_signers(form: &FormSpec) -> Vec<String> {
    let example = crate::example_now(form.id.as_str());
    let mut elsewhere = Vec::new();
    for (name, value) in example.as_object().into_iter().flatten() {
        if !form
            .fields
            .iter()
            .any(|f| &f.name == name && f.filled_by.is_some())
        {
            texts(value, &mut elsewhere);
        }
    }
    form.fields
        .iter()
        .filter(|f| {
            f.filled_by
                .as_ref()
                .is_some_and(|by| by.value == sello::forms::SignerValue::Nombre)
        })
        .filter_map(|f| example.get(&f.name).and_then(Value::as_str))
        .filter(|name| !elsewhere.iter().any(|text| text.contains(name)))
        .map(str::to_owned)
        .collect()
}

async fn every_signature_block_says_only_what_happened(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let catalog = Catalog::load(std::path::Path::new("forms")).expect("catalog");
    let mut electronic_blocks = 0;
    // A form that comes after another in its expediente (the Plan after
    // the Carta, in the examples' same family) is issued after them.
    let mut forms: Vec<&FormSpec> = catalog.iter().collect();
    forms.sort_by_key(|f| {
        f.expediente
            .as_ref()
            .is_some_and(|r| !r.after.is_empty() || !r.requires.is_empty())
    });
    for form in forms {
        if form.interno {
            // Sello builds it itself from the archive (a lote's padrón, a
            // register); nobody drafts it.
            continue;
        }
        let (document, pdf) = through_its_workflow(fixture, &service, &staff, form).await;
        let text = raw_text(&pdf);
        let typed = typed_signers(form);
        let signer = name_of(Role::Firmante);
        for block in blocks_claiming(&text, SIGNED) {
            assert!(
                block.contains(signer),
                "{}: an electronic signature under someone who did not sign: «{block}»",
                form.id
            );
            assert!(
                step_heading(block, signer).is_some(),
                "{}: the account that signed under a heading that is not what it did: «{block}»",
                form.id
            );
            for name in &typed {
                assert!(
                    !block.contains(name.as_str()),
                    "{}: «{name}» typed, not signed: «{block}»",
                    form.id
                );
            }
            electronic_blocks += 1;
        }
        let endorsers: Vec<&str> = form
            .workflow
            .steps()
            .iter()
            .filter(|s| s.kind == StepKind::Visado)
            .map(|s| name_of(s.role))
            .collect();
        for block in blocks_claiming(&text, ENDORSED) {
            assert!(
                endorsers.iter().any(|name| block.contains(name)),
                "{}: a visto bueno under someone who did not give it: «{block}»",
                form.id
            );
            assert!(
                endorsers.iter().any(|name| step_heading(block, name).is_some()),
                "{}: a visto bueno under a heading that is not what its account did: «{block}»",
                form.id
            );
        }
        assert_eq!(
            text.matches(DRAWN).count(),
            0,
            "{}: nobody drew a signature",
            form.id
        );
        assert_eq!(
            text.matches(SEAL).count(),
            1,
            "{}: the office's seal, once",
            form.id
        );
        // The typed names of whoever signs electronically give way to the
        // accounts', in the data kept too.
        let stored = service
            .api(
                "GET",
                &format!("/api/v1/documents/{}", crate::public_id(&document["id"])),
                Some(&staff.directora),
                None,
            )
            .await
            .json();
        for field in form.fields.iter().filter(|f| f.filled_by.is_some()) {
            let Some(by) = &field.filled_by else { continue };
            let Some(step) = form.workflow.step(&by.step) else {
                continue;
            };
            let value = stored["data"][&field.name].as_str().unwrap_or_default();
            match by.value {
                sello::forms::SignerValue::Nombre => {
                    assert_eq!(value, name_of(step.role), "{}: {}", form.id, field.name);
                    assert!(text.contains(value), "{}: {value} printed", form.id);
                }
                sello::forms::SignerValue::Cargo => {
                    assert_eq!(value, "Directora del Sistema DIF Municipal", "{}", form.id)
                }
                sello::forms::SignerValue::Fecha => assert_eq!(value.len(), 10, "{}", form.id),
            }
        }
        for name in &typed {
            assert!(
                !text.contains(name.as_str()),
                "{}: «{name}» was typed for the signer but is still printed",
                form.id
            );
        }
        // Whoever the document names to sign in person signs the paper.
        let pending = stored["document"]["paper_pending"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            !pending.is_empty(),
            form.workflow.signs_in_person(),
            "{}: awaiting its signed paper: {pending:?}",
            form.id
        );
    }
    // Every form a person fills that ties a block to a signing step (the
    // internal registers are built, not walked; a typed person's block is
    // signed by hand): the walk above really reached them.
    assert!(
        electronic_blocks >= 11,
        "blocks tied to a signature step: {electronic_blocks}"
    );
}
crate::archive_conformance!(every_signature_block_says_only_what_happened);
