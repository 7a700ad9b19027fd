//! What an issued document looks like: no draft mark, the code and link on
//! every page, the office's seal, the data attached and hashed.

use std::process::Command;

use sello::code::VerificationCode;
use sello::keys::KeyAlgorithm;
use sha2::{Digest, Sha256};

use crate::helpers::{TestKey, issue_with, write_temp};

fn text_of(pdf: &[u8]) -> String {
    let file = write_temp(pdf);
    let output = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(file.path())
        .arg("-")
        .output()
        .expect("pdftotext");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn an_issued_document_carries_its_code_and_link_on_every_page_and_no_draft_mark() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let issued = issue_with(&key.key, "carta-compromiso");
    let text = text_of(&issued.pdf);
    assert!(issued.pages >= 2);
    assert!(!text.contains("BORRADOR"), "{text}");
    let code = issued.code.display();
    assert_eq!(
        text.matches(&code).count(),
        2 * issued.pages,
        "code and link on each page:\n{text}"
    );
    assert_eq!(text.matches(&issued.url).count(), issued.pages, "{text}");
    assert!(issued.url.starts_with(crate::helpers::BASE_URL));
    // Issued without a trámite, no person signed it: the key seals it,
    // named as its certificate names its holder (not the letterhead's
    // office, «DIF Municipal», which holds no key of its own), and no
    // signature block claims an electronic signature.
    assert_eq!(
        text.matches(&format!(
            "Sello electrónico de Oficina de ejemplo (NO USAR EN PRODUCCIÓN) · 22 de noviembre de 2026 · clave {}",
            key.key.key_id
        ))
        .count(),
        1,
        "{text}"
    );
    assert!(!text.contains("Firmado electrónicamente"), "{text}");
    assert_eq!(VerificationCode::parse(&code), Ok(issued.code));
}

#[test]
fn every_issue_gets_a_new_code() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let first = issue_with(&key.key, "oficio-comision");
    let second = issue_with(&key.key, "oficio-comision");
    assert_ne!(first.code, second.code);
}

#[test]
fn the_attached_data_is_what_the_qr_hash_vouches_for() {
    let key = TestKey::example(KeyAlgorithm::P256);
    let issued = issue_with(&key.key, "lista-asistencia");
    let file = write_temp(&issued.pdf);
    let output = Command::new("qpdf")
        .arg("--show-attachment=data.json")
        .arg(file.path())
        .output()
        .expect("qpdf");
    assert!(output.status.success());
    let hash: [u8; 32] = Sha256::digest(&output.stdout).into();
    assert_eq!(hash, issued.data_sha256);
    let attached: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(attached, crate::helpers::example("lista-asistencia"));
}

#[test]
fn the_qr_is_small_enough_for_a_phone_camera_on_paper() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let issued = issue_with(&key.key, "oficio-ayuda-funcional");
    // Version 11 is 61 modules, 69 with the quiet zone: at 2.9 cm, 0.42 mm
    // per module.
    assert_eq!(issued.qr_version, 11, "QR version {}", issued.qr_version);
}

#[test]
fn the_signature_names_the_seal_s_holder_and_not_the_person_who_issued() {
    // The office's key seals the document the directora issued: the
    // signature dictionary's /Name is whoever signs (PDF 32000-1, 12.8.1),
    // the key's holder as its certificate names it, never the directora,
    // who holds no key. Who issued goes in /Reason, said as what it is.
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let issued = issue_with(&key.key, "oficio-comision");
    let report = sello::pdf::verify_pdf(&issued.pdf, &key.trusted()).expect("verifies");
    let signature = &report.signatures[0];
    assert!(signature.valid, "{signature:?}");
    let holder = "Oficina de ejemplo (NO USAR EN PRODUCCIÓN)";
    assert_eq!(signature.office.as_deref(), Some(holder));
    assert_eq!(signature.signer, holder, "{signature:?}");
    assert_eq!(
        signature.reason.as_deref(),
        Some("Emitido por Mtra. Guadalupe Torres Medina, Directora del Sistema DIF Municipal"),
        "{signature:?}"
    );
}
