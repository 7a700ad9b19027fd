//! The QR's offline payload: what it vouches for, and tampering refused.

use chrono::NaiveDate;
use data_encoding::BASE32_NOPAD;
use sello::keys::KeyAlgorithm;
use sello::qr::{QrError, link, signed_payload, verify};

use crate::helpers::TestKey;

const HASH: [u8; 32] = [7; 32];

fn payload(key: &TestKey) -> String {
    signed_payload(
        &key.key,
        "oficio-comision",
        Some("DIF-SLP/OF/2026/0142"),
        NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
        &HASH,
    )
}

#[test]
fn a_payload_vouches_for_form_folio_date_key_and_data() {
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::P256] {
        let key = TestKey::example(algorithm);
        let text = link("https://sello.example", "ABCD", &payload(&key));
        let claims = verify(&text, &key.trusted()).expect("valid");
        assert_eq!(claims.form, "oficio-comision");
        assert_eq!(claims.folio.as_deref(), Some("DIF-SLP/OF/2026/0142"));
        assert_eq!(claims.issued_on.to_string(), "2026-11-22");
        assert_eq!(claims.key_id, key.key.key_id.to_string());
        assert_eq!(claims.data_sha256, "07".repeat(32));
        // The payload alone works too.
        assert!(verify(&payload(&key), &key.trusted()).is_ok());
    }
}

#[test]
fn a_link_whose_check_symbol_is_percent_encoded_verifies_offline() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    for (symbol, spelled) in [('~', "%7E"), ('=', "%3D")] {
        let code = format!("0EFT-3M7D-EPXJ-BEGB-JCEZ-5NHS-KW{symbol}");
        let text = link("https://sello.example", &code, &payload(&key));
        assert!(text.contains(&format!("/v/0EFT-3M7D-EPXJ-BEGB-JCEZ-5NHS-KW{spelled}#")));
        assert_eq!(
            verify(&text, &key.trusted()).expect("valid").form,
            "oficio-comision"
        );
    }
}

#[test]
fn any_flipped_bit_is_refused() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let bytes = BASE32_NOPAD.decode(payload(&key).as_bytes()).expect("base32");
    for position in 0..bytes.len() {
        for bit in [0x01, 0x80] {
            let mut tampered = bytes.clone();
            tampered[position] ^= bit;
            let text = BASE32_NOPAD.encode(&tampered);
            assert!(
                verify(&text, &key.trusted()).is_err(),
                "byte {position} bit {bit:#x} accepted"
            );
        }
    }
}

#[test]
fn an_unknown_key_is_refused() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let other = TestKey::generated(KeyAlgorithm::Ed25519, "Otra");
    assert!(matches!(
        verify(&payload(&key), &other.trusted()),
        Err(QrError::UnknownKey(_))
    ));
}

#[test]
fn a_reserialised_payload_is_refused() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let text = payload(&key);
    for variant in [
        text.to_lowercase(),
        format!("{text}===="),
        format!("{text}A"),
        text.replace('A', "a"),
    ] {
        if variant != text {
            assert!(verify(&variant, &key.trusted()).is_err(), "{variant} accepted");
        }
    }
}

#[test]
fn the_qr_of_an_issued_document_carries_no_personal_data() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let issued = crate::helpers::issue_with(&key.key, "carta-compromiso");
    let (address, payload) = issued.qr_link.split_once('#').expect("payload in the fragment");
    // The check symbols ~ and = travel percent-encoded, so the link stays
    // alphanumeric in the QR; the page reads them as the symbols.
    let address = address.replace("%7E", "~").replace("%3D", "=");
    assert_eq!(address, issued.url);
    let bytes = BASE32_NOPAD.decode(payload.as_bytes()).expect("base32");
    let example = crate::helpers::example("carta-compromiso");
    for personal in [
        "Carolina",
        "Muñoz",
        "15.432.876-9",
        "Pasaje Los Aromos",
        "FAM-13112-004578",
    ] {
        assert!(
            example.to_string().contains(personal),
            "the example has {personal}"
        );
        assert!(
            !bytes.windows(personal.len()).any(|w| w == personal.as_bytes()),
            "{personal} is in the QR"
        );
        assert!(!issued.qr_link.contains(personal));
    }
    let claims = verify(&issued.qr_link, &key.trusted()).expect("valid");
    assert_eq!(
        claims.data_sha256,
        issued
            .data_sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
}

/// What a phone reads off a printed page: the page rasterised at 300 dpi
/// (a cheap printer's resolution) and scanned with zbar.
fn scanned_qr_codes(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("d.pdf");
    std::fs::write(&path, pdf).expect("write");
    let raster = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "300"])
        .arg(&path)
        .arg(dir.path().join("pagina"))
        .status()
        .expect("pdftoppm runs");
    assert!(raster.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pages.sort();
    pages
        .iter()
        .map(|page| {
            let output = std::process::Command::new("zbarimg")
                .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
                .arg(page)
                .output()
                .expect("zbarimg runs");
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        })
        .collect()
}

#[test]
fn every_printed_page_carries_a_qr_that_scans_to_the_signed_link() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let issued = crate::helpers::issue_with(&key.key, "carta-compromiso");
    assert!(issued.pages >= 2, "the carta comes in two copies");
    let scanned = scanned_qr_codes(&issued.pdf);
    assert_eq!(scanned.len(), issued.pages);
    for text in &scanned {
        assert_eq!(text, &issued.qr_link, "what each page's QR holds");
        let claims = verify(text, &key.trusted()).expect("the scanned payload verifies");
        assert_eq!(claims.form, "carta-compromiso");
    }
}
