//! RFC 3161 time-stamps from a real TSA on loopback (certomancer): the
//! signature's token verifies, its imprint is the signature's, pyHanko
//! reports it, and a TSA outage issues the document without one.

use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use sello::keys::KeyAlgorithm;
use sello::pdf::{TsaClient, read_token};
use sello::signed_pdf::{IssuedDocument, issue_stamped};

use crate::helpers::{BASE_URL, RENDERER, TestKey, example, request, verify, write_temp};
use crate::tsa::Tsa;

fn issue_with_tsa(key: &TestKey, tsa: &TsaClient) -> IssuedDocument {
    let data = example("oficio-comision");
    let request = request("oficio-comision", &data);
    issue_stamped(&RENDERER, &key.key, BASE_URL, &request, Some(tsa)).expect("issues")
}

fn client(urls: &[String]) -> TsaClient {
    TsaClient::new(urls.to_vec(), Duration::from_secs(5))
}

#[test]
fn a_signature_stamped_by_a_real_tsa_verifies_and_pyhanko_reports_the_timestamp() {
    let tsa = Tsa::start();
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let before = Utc::now();
    let document = issue_with_tsa(&key, &client(&[tsa.url()]));
    let stamp = document.timestamp.clone().expect("the TSA answered");
    // The TSA's clock, not the issue time given to the document.
    assert!(
        stamp.time >= before - chrono::Duration::seconds(5),
        "{}",
        stamp.time
    );
    assert!(
        stamp.time <= Utc::now() + chrono::Duration::seconds(5),
        "{}",
        stamp.time
    );

    let report = verify(&document.pdf, &key.trusted());
    assert!(report.is_valid(), "{report:?}");
    let signature = &report.signatures[0];
    assert_eq!(signature.timestamp_time, Some(stamp.time));
    assert!(
        signature
            .timestamp_tsa
            .as_deref()
            .is_some_and(|tsa| tsa.contains("Sellado de tiempo de prueba")),
        "{signature:?}"
    );

    let file = write_temp(&document.pdf);
    let output = Command::new("pyhanko")
        .args(["sign", "validate", "--pretty-print", "--trust"])
        .arg(key.cert_path())
        .arg("--trust")
        .arg(tsa.root_pem())
        .arg(file.path())
        .output()
        .expect("pyhanko is installed by scripts/test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("The signature is judged VALID"), "{text}");
    // pyHanko reports the same time-stamp, checked and chained to the TSA's root.
    let reported = format!(
        "Signature timestamp token: {}",
        stamp.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
    );
    assert!(text.contains(&reported), "{reported}:\n{text}");
    assert!(
        text.contains("The timestamp token is cryptographically sound."),
        "{text}"
    );
    assert!(text.contains("The TSA certificate is trusted."), "{text}");
}

#[test]
fn a_token_s_imprint_is_checked_against_the_stamped_bytes() {
    let tsa = Tsa::start();
    let stamp = client(&[tsa.url()]).stamp(b"valor de la firma").expect("stamped");
    assert!(read_token(&stamp.token, b"valor de la firma").is_ok());
    let error = read_token(&stamp.token, b"otro valor").unwrap_err();
    assert!(error.contains("huella no coincide"), "{error}");
}

#[test]
fn tsas_are_tried_in_order_until_one_answers() {
    let tsa = Tsa::start();
    let mut down = Tsa::start();
    let down_url = down.url();
    down.stop();
    let stamp = client(&[down_url, tsa.url()])
        .stamp(b"firma")
        .expect("the second TSA answers");
    assert!(stamp.tsa.contains("Sellado de tiempo de prueba"), "{}", stamp.tsa);
}

#[test]
fn with_every_tsa_down_the_document_is_issued_awaiting_its_timestamp() {
    let mut tsa = Tsa::start();
    let url = tsa.url();
    tsa.stop();
    let key = TestKey::example(KeyAlgorithm::P256);
    let document = issue_with_tsa(&key, &client(&[url]));
    assert!(document.timestamp.is_none());
    let report = verify(&document.pdf, &key.trusted());
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(report.signatures[0].timestamp_time, None);
    assert_eq!(report.signatures[0].timestamp_tsa, None);
}
