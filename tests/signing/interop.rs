//! Independent validators accept Sello's signatures: pyHanko for both
//! algorithms, Poppler's pdfsig for P-256, and qpdf finds the file sound.

use std::process::Command;

use sello::keys::KeyAlgorithm;
use sello::pdf::{SignatureRequest, sign_pdf};

use crate::helpers::{TestKey, issue_time, issue_with, write_temp};

fn pyhanko(pdf: &[u8], certs: &[&std::path::Path]) -> String {
    let file = write_temp(pdf);
    let mut command = Command::new("pyhanko");
    command.args(["sign", "validate", "--pretty-print"]);
    for cert in certs {
        command.arg("--trust").arg(cert);
    }
    let output = command
        .arg(file.path())
        .output()
        .expect("pyhanko is installed by the README's test command");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn pyhanko_validates_ed25519_and_p256_signatures_covering_the_whole_file() {
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::P256] {
        let key = TestKey::example(algorithm);
        let pdf = issue_with(&key.key, "oficio-comision").pdf;
        let report = pyhanko(&pdf, &[&key.cert_path()]);
        assert!(
            report.contains("The signature is judged VALID"),
            "{algorithm:?}:\n{report}"
        );
        assert!(
            report.contains("The signature covers the entire file"),
            "{algorithm:?}:\n{report}"
        );
        assert!(
            report.contains("The signer's certificate is trusted"),
            "{algorithm:?}:\n{report}"
        );
    }
}

#[test]
fn pyhanko_accepts_a_second_signature_under_the_certification() {
    let office = TestKey::example(KeyAlgorithm::Ed25519);
    let director = TestKey::example(KeyAlgorithm::P256);
    let pdf = issue_with(&office.key, "lista-asistencia").pdf;
    let signed = sign_pdf(
        &pdf,
        &SignatureRequest {
            key: &director.key,
            signer: "Mtra. Guadalupe Torres Medina",
            cargo: "Directora",
            signing_time: issue_time(),
        },
    )
    .expect("signs");
    let report = pyhanko(&signed, &[&office.cert_path(), &director.cert_path()]);
    assert_eq!(
        report.matches("The signature is judged VALID").count(),
        2,
        "{report}"
    );
    assert!(
        report.contains("compatible with the current document modification policy"),
        "{report}"
    );
    assert!(
        report.contains("The signature covers the entire file"),
        "{report}"
    );
}

#[test]
fn pyhanko_rejects_a_tampered_file() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let mut pdf = issue_with(&key.key, "oficio-comision").pdf;
    let middle = pdf.len() / 3;
    pdf[middle] ^= 0x01;
    let report = pyhanko(&pdf, &[&key.cert_path()]);
    assert!(!report.contains("The signature is judged VALID"), "{report}");
}

#[test]
fn poppler_pdfsig_validates_p256_signatures() {
    let key = TestKey::example(KeyAlgorithm::P256);
    let file = write_temp(&issue_with(&key.key, "oficio-comision").pdf);
    let output = Command::new("pdfsig")
        .arg(file.path())
        .output()
        .expect("pdfsig (poppler-utils) runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Signature Validation: Signature is Valid."),
        "{text}"
    );
    assert!(text.contains("Total document signed"), "{text}");
    assert!(text.contains("ETSI.CAdES.detached"), "{text}");
}

#[test]
fn signed_files_pass_qpdf_check() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let file = write_temp(&issue_with(&key.key, "carta-compromiso").pdf);
    let output = Command::new("qpdf")
        .arg("--check")
        .arg(file.path())
        .output()
        .expect("qpdf runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
