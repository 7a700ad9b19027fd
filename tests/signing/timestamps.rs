//! RFC 3161 time-stamps from a real TSA on loopback (certomancer): the
//! signature's token verifies, its imprint is the signature's, pyHanko
//! reports it, and a TSA outage issues the document without one. A token
//! is proof of its time only when its own signature holds and its TSA
//! chains to a trusted root: tokens of every family real TSAs sign with
//! (RSA PKCS#1 v1.5 and PSS, ECDSA P-256 and P-384, Ed25519; ESSCertID from
//! certomancer, ESSCertIDv2 from `openssl ts`) are checked, and a broken
//! signature, a foreign root or an altered TSTInfo prove nothing.

use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::Decode;
use sello::keys::KeyAlgorithm;
use sello::pdf::{TsaClient, prove_timestamp, read_token};
use sello::signed_pdf::{IssuedDocument, issue_stamped};

use crate::helpers::{BASE_URL, RENDERER, TestKey, example, request, verify, write_temp};
use crate::tsa::{Tsa, TsaKind};

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

/// The certificates of a PEM file.
fn certificates(path: &std::path::Path) -> Vec<x509_cert::Certificate> {
    x509_cert::Certificate::load_pem_chain(&std::fs::read(path).expect("pem")).expect("certificates")
}

/// `token` with one byte of its SignerInfo's signature value flipped.
fn with_broken_signature(token: &[u8]) -> Vec<u8> {
    let content_info = ContentInfo::from_der(token).expect("token");
    let signed_data: SignedData = content_info.content.decode_as().expect("signed data");
    let signature = signed_data
        .signer_infos
        .0
        .iter()
        .next()
        .expect("signer")
        .signature
        .as_bytes()
        .to_vec();
    let at = find(token, &signature) + signature.len() / 2;
    let mut broken = token.to_vec();
    broken[at] ^= 0x01;
    broken
}

/// `token` with one byte of its TSTInfo (the stamped content) changed: a
/// byte of the imprint of `data` it carries.
fn with_altered_tst_info(token: &[u8], data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let at = find(token, &sha2::Sha256::digest(data));
    let mut altered = token.to_vec();
    altered[at] ^= 0x01;
    altered
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("found")
}

#[test]
fn tokens_of_every_family_real_tsas_sign_with_are_proven_against_their_root_only() {
    let stranger = Tsa::start_with(TsaKind::RsaSha256);
    let foreign_root = certificates(&stranger.root_pem());
    for kind in [
        TsaKind::RsaSha256,
        TsaKind::RsaSha512,
        TsaKind::RsaPss,
        TsaKind::P256,
        TsaKind::P256Sha384,
        TsaKind::P384,
        TsaKind::Ed25519,
    ] {
        let tsa = Tsa::start_with(kind);
        let root = certificates(&tsa.root_pem());
        let stamp = client(&[tsa.url()]).stamp(b"valor de la firma").expect("stamped");
        let proof = prove_timestamp(&stamp.token, &root).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(proof.time, stamp.time, "{kind:?}");
        assert!(
            proof.tsa.contains("Sellado de tiempo de prueba"),
            "{kind:?}: {proof:?}"
        );
        assert!(proof.root.contains("Raiz de prueba"), "{kind:?}: {proof:?}");

        let error = prove_timestamp(&with_broken_signature(&stamp.token), &root).unwrap_err();
        assert!(
            error.contains("firma del sello de tiempo no es válida"),
            "{kind:?}: {error}"
        );
        let error =
            prove_timestamp(&with_altered_tst_info(&stamp.token, b"valor de la firma"), &root).unwrap_err();
        assert!(error.contains("alterado"), "{kind:?}: {error}");
        // Another TSA's root (same names, other keys) vouches for nothing.
        let error = prove_timestamp(&stamp.token, &foreign_root).unwrap_err();
        assert!(error.contains("no es de confianza"), "{kind:?}: {error}");
        let error = prove_timestamp(&stamp.token, &[]).unwrap_err();
        assert!(error.contains("no hay raíces"), "{kind:?}: {error}");
        // The TSA's own certificate may be what is trusted.
        if let Err(e) = prove_timestamp(&stamp.token, &certificates(&tsa.tsa_pem())) {
            panic!("{kind:?}: {e}");
        }
    }
}

#[test]
fn an_openssl_token_bound_by_ess_cert_id_v2_is_proven() {
    // certomancer's PKI (root, and a TSA certificate with the critical
    // timeStamping EKU), and `openssl ts -reply` signing with that key:
    // OpenSSL binds the certificate with ESSCertIDv2 (SHA-256).
    let tsa = Tsa::start_with(TsaKind::RsaSha256);
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    std::fs::write(dir.path().join("firma.bin"), b"valor de la firma").expect("data");
    let config = format!(
        "[ tsa ]\ndefault_tsa = una\n[ una ]\nserial = {serial}\nsigner_cert = {cert}\nsigner_key = {key}\n\
         signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\ness_cert_id_alg = sha256\n",
        serial = dir.path().join("serial").display(),
        cert = tsa.tsa_pem().display(),
        key = tsa.tsa_key().display(),
    );
    std::fs::write(dir.path().join("tsa.cnf"), config).expect("config");
    std::fs::write(dir.path().join("serial"), "01\n").expect("serial");
    run(&[
        "ts",
        "-query",
        "-data",
        "firma.bin",
        "-sha256",
        "-cert",
        "-out",
        "q.tsq",
    ]);
    run(&[
        "ts",
        "-reply",
        "-config",
        "tsa.cnf",
        "-queryfile",
        "q.tsq",
        "-token_out",
        "-out",
        "token.der",
    ]);
    let token = std::fs::read(dir.path().join("token.der")).expect("token");
    let content_info = ContentInfo::from_der(&token).expect("token");
    let signed_data: SignedData = content_info.content.decode_as().expect("signed data");
    let attributes = signed_data
        .signer_infos
        .0
        .iter()
        .next()
        .expect("signer")
        .signed_attrs
        .clone()
        .expect("attrs");
    assert!(
        attributes
            .iter()
            .any(|a| a.oid.to_string() == "1.2.840.113549.1.9.16.2.47"),
        "OpenSSL wrote signing-certificate-v2"
    );
    let root = certificates(&tsa.root_pem());
    read_token(&token, b"valor de la firma").expect("its imprint is the data's");
    prove_timestamp(&token, &root).expect("proven");
    let error = prove_timestamp(&with_broken_signature(&token), &root).unwrap_err();
    assert!(
        error.contains("firma del sello de tiempo no es válida"),
        "{error}"
    );

    // OpenSSL writes no `tsa` field: the TSA is named by the certificate
    // that signed, wherever the (sorted) certificate set puts it.
    let mut extra = root.clone();
    extra.extend(strangers(2));
    let padded = with_certificates(&token, extra);
    let first = carried(&padded)[0].tbs_certificate().subject().to_string();
    assert!(!first.contains("Sellado de tiempo de prueba"), "{first}");
    let stamp = read_token(&padded, b"valor de la firma").expect("its imprint is the data's");
    assert!(stamp.tsa.contains("Sellado de tiempo de prueba"), "{}", stamp.tsa);
    let proof = prove_timestamp(&padded, &root).expect("proven");
    assert_eq!(proof.tsa, stamp.tsa);
}

#[test]
fn a_tsa_whose_certificate_does_not_mark_its_time_stamping_use_critical_proves_nothing() {
    let tsa = Tsa::start_with(TsaKind::P256EkuNotCritical);
    let stamp = client(&[tsa.url()]).stamp(b"firma").expect("the TSA answers");
    let error = prove_timestamp(&stamp.token, &certificates(&tsa.root_pem())).unwrap_err();
    assert!(error.contains("timeStamping, único y crítico"), "{error}");
}

#[test]
fn a_broken_token_in_a_signed_document_proves_nothing_and_the_report_says_why() {
    let tsa = Tsa::start_with(TsaKind::RsaSha256);
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let document = issue_with_tsa(&key, &client(&[tsa.url()]));
    let stamp = document.timestamp.clone().expect("stamped");
    let mut trusted = key.trusted();
    for root in certificates(&tsa.root_pem()) {
        trusted.add_tsa_root(root);
    }
    let report = verify(&document.pdf, &trusted);
    assert!(report.is_valid(), "{report:?}");
    let signature = &report.signatures[0];
    assert!(signature.timestamp_verified, "{signature:?}");
    assert!(
        signature
            .timestamp_check
            .as_deref()
            .is_some_and(|c| c.starts_with("verificado") && c.contains("Raiz de prueba")),
        "{signature:?}"
    );

    // The token is outside the bytes the document's signature covers: a
    // byte flipped in its signature leaves the document signed, but the
    // time-stamp no longer proves anything.
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
    let (good, bad) = (hex(&stamp.token), hex(&with_broken_signature(&stamp.token)));
    let at = find(&document.pdf, good.as_bytes());
    let mut tampered = document.pdf.clone();
    tampered[at..at + bad.len()].copy_from_slice(bad.as_bytes());
    let report = verify(&tampered, &trusted);
    let signature = &report.signatures[0];
    assert!(
        report.is_valid(),
        "the document's own signature still holds: {report:?}"
    );
    assert!(!signature.timestamp_verified, "{signature:?}");
    assert!(
        signature.timestamp_check.as_deref().is_some_and(
            |c| c.starts_with("no verificado") && c.contains("firma del sello de tiempo no es válida")
        ),
        "{signature:?}"
    );

    // Without the TSA's root, the same good token proves nothing either.
    let report = verify(&document.pdf, &key.trusted());
    let signature = &report.signatures[0];
    assert!(!signature.timestamp_verified, "{signature:?}");
    assert!(
        signature
            .timestamp_check
            .as_deref()
            .is_some_and(|c| c.contains("no hay raíces")),
        "{signature:?}"
    );
}

#[test]
fn a_client_with_roots_takes_no_token_its_roots_do_not_vouch_for() {
    let tsa = Tsa::start_with(TsaKind::P256);
    let stranger = Tsa::start_with(TsaKind::P256);
    let trusting = |pem: &std::path::Path| {
        TsaClient::with_roots(vec![tsa.url()], Duration::from_secs(5), certificates(pem))
    };
    trusting(&tsa.root_pem())
        .stamp(b"firma")
        .expect("its own root vouches for it");
    let error = trusting(&stranger.root_pem()).stamp(b"firma").unwrap_err();
    assert!(error.contains("no es de confianza"), "{error}");
}

/// `token` with `extra` added to its (unsigned) certificate set.
fn with_certificates(token: &[u8], extra: Vec<x509_cert::Certificate>) -> Vec<u8> {
    use der::Encode;
    let content_info = ContentInfo::from_der(token).expect("token");
    let mut signed_data: SignedData = content_info.content.decode_as().expect("signed data");
    let set = signed_data
        .certificates
        .get_or_insert_with(|| cms::signed_data::CertificateSet(Default::default()));
    for certificate in extra {
        set.0
            .insert(cms::cert::CertificateChoices::Certificate(certificate))
            .expect("a new certificate");
    }
    ContentInfo {
        content_type: content_info.content_type,
        content: der::Any::encode_from(&signed_data).expect("encodes"),
    }
    .to_der()
    .expect("encodes")
}

/// Certificates of `count` keys made for the purpose.
fn strangers(count: usize) -> Vec<x509_cert::Certificate> {
    (0..count)
        .map(|i| {
            TestKey::generated(KeyAlgorithm::Ed25519, &format!("Ajena {i}"))
                .key
                .certificate
                .clone()
        })
        .collect()
}

#[test]
fn a_token_carrying_too_many_certificates_is_refused_before_any_chain_is_built() {
    let tsa = Tsa::start_with(TsaKind::P256);
    let root = certificates(&tsa.root_pem());
    let stamp = client(&[tsa.url()]).stamp(b"firma").expect("stamped");
    // A few more certificates than a chain needs still verify…
    prove_timestamp(&with_certificates(&stamp.token, strangers(3)), &root).expect("a handful is fine");
    // …a pile of them is refused, saying why.
    let error = prove_timestamp(&with_certificates(&stamp.token, strangers(12)), &root).unwrap_err();
    assert!(error.contains("demasiados certificados"), "{error}");
    let mut huge = stamp.token.clone();
    huge.resize(70 * 1024, 0);
    let error = prove_timestamp(&huge, &root).unwrap_err();
    assert!(error.contains("demasiado grande"), "{error}");
}

/// TimeStampResp as far as a man in the middle needs it.
#[derive(der::Sequence)]
struct Answer {
    status: der::Any,
    #[asn1(optional = "true")]
    token: Option<der::Any>,
}

/// A man in the middle on the way to `upstream` (an http TSA): each answer
/// comes back with `extra` added to its token's certificates, which no
/// signature covers. Returns its URL.
fn padding_proxy(upstream: String, extra: Vec<x509_cert::Certificate>) -> String {
    use der::Encode;
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/tsa", listener.local_addr().expect("address"));
    let address = upstream
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(host, path)| (host.to_owned(), format!("/{path}")))
        .expect("an http URL");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            let body = loop {
                let read = stream.read(&mut buffer).expect("request");
                request.extend_from_slice(&buffer[..read]);
                let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().expect("length"));
                if request.len() >= end + 4 + length {
                    break request[end + 4..end + 4 + length].to_vec();
                }
            };
            let mut upstream = std::net::TcpStream::connect(&address.0).expect("upstream");
            write!(
                upstream,
                "POST {} HTTP/1.0\r\nHost: {}\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\n\r\n",
                address.1,
                address.0,
                body.len()
            )
            .expect("forward");
            upstream.write_all(&body).expect("forward");
            let mut answer = Vec::new();
            upstream.read_to_end(&mut answer).expect("answer");
            let end = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
            let mut reply = Answer::from_der(&answer[end..]).expect("a TimeStampResp");
            let token = reply.token.take().expect("granted").to_der().expect("token");
            let padded = with_certificates(&token, extra.clone());
            reply.token = Some(der::Any::from_der(&padded).expect("token"));
            let reply = reply.to_der().expect("encodes");
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply; charset=binary\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            )
            .expect("reply");
            stream.write_all(&reply).expect("reply");
        }
    });
    url
}

/// The certificates a token carries, in the order they are stored.
fn carried(token: &[u8]) -> Vec<x509_cert::Certificate> {
    let content_info = ContentInfo::from_der(token).expect("token");
    let signed_data: SignedData = content_info.content.decode_as().expect("signed data");
    signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_tsa_is_named_by_the_certificate_that_signed_the_token_not_the_first_carried() {
    let tsa = Tsa::start_with(TsaKind::P256);
    let root = certificates(&tsa.root_pem());
    let mut extra = root.clone();
    extra.extend(strangers(2));
    let proxy = padding_proxy(tsa.url(), extra);
    let padded = client(std::slice::from_ref(&proxy))
        .stamp(b"firma")
        .expect("stamped");
    let named = |c: &x509_cert::Certificate| c.tbs_certificate().subject().to_string();
    // A SET OF is stored sorted: the TSA's certificate is not first.
    let first = named(&carried(&padded.token)[0]);
    assert!(!first.contains("Sellado de tiempo de prueba"), "{first}");
    assert!(
        padded.tsa.contains("Sellado de tiempo de prueba"),
        "{}",
        padded.tsa
    );

    // What the archive keeps (the issued document's stamp) and /v shows
    // (the verification report) name the TSA's certificate.
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let trusting = TsaClient::with_roots(vec![proxy], Duration::from_secs(5), root.clone());
    let document = issue_with_tsa(&key, &trusting);
    let stamp = document.timestamp.clone().expect("stamped");
    assert!(stamp.tsa.contains("Sellado de tiempo de prueba"), "{}", stamp.tsa);
    let mut trusted = key.trusted();
    for root in root {
        trusted.add_tsa_root(root);
    }
    let report = verify(&document.pdf, &trusted);
    let signature = &report.signatures[0];
    assert!(signature.timestamp_verified, "{signature:?}");
    assert!(
        signature
            .timestamp_tsa
            .as_deref()
            .is_some_and(|tsa| tsa.contains("Sellado de tiempo de prueba") && !tsa.contains("Raiz")),
        "{signature:?}"
    );
}

#[test]
fn a_tsa_answer_padded_with_certificates_still_gives_a_stamped_document() {
    let tsa = Tsa::start_with(TsaKind::P256);
    let root = certificates(&tsa.root_pem());
    let proxy = padding_proxy(tsa.url(), strangers(100));
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    for client in [
        client(std::slice::from_ref(&proxy)),
        TsaClient::with_roots(vec![proxy.clone()], Duration::from_secs(5), root.clone()),
    ] {
        let document = issue_with_tsa(&key, &client);
        let stamp = document.timestamp.clone().expect("B-T: the token's chain fits");
        assert!(
            carried(&stamp.token).len() <= 2,
            "{:?}",
            carried(&stamp.token).len()
        );
        let mut trusted = key.trusted();
        for root in root.clone() {
            trusted.add_tsa_root(root);
        }
        let report = verify(&document.pdf, &trusted);
        assert!(report.is_valid(), "{report:?}");
        assert!(report.signatures[0].timestamp_verified, "{report:?}");
    }
}
