//! Sello's verifier reads signatures it did not make: pyHanko's CAdES
//! signature, whose signing-certificate-v2 names the certificate by its
//! issuer and serial number as well as its hash (the optional
//! `issuerSerial`), was once reported as unreadable.

use std::path::PathBuf;
use std::process::Command;

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Any, Encode as _, Reader as _, SliceReader, Tag, Tagged as _};
use sello::keys::{KeyAlgorithm, KeyId, KeyStatus, load_certificate};
use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;

use crate::helpers::{TestKey, find, issue_with, verify, write_temp};

/// id-aa-signingCertificateV2 (RFC 5035).
const SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// Another office's key and self-signed certificate, made with OpenSSL as
/// a third party would make them.
struct ForeignKey {
    dir: tempfile::TempDir,
    certificate: Certificate,
}

impl ForeignKey {
    fn new(algorithm: KeyAlgorithm) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let key_args: &[&str] = match algorithm {
            KeyAlgorithm::Ed25519 => &["-algorithm", "ed25519"],
            KeyAlgorithm::P256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        };
        let key = dir.path().join("clave.pem");
        let cert = dir.path().join("certificado.pem");
        openssl(
            Command::new("openssl")
                .arg("genpkey")
                .args(key_args)
                .arg("-out")
                .arg(&key),
        );
        openssl(
            Command::new("openssl")
                .args([
                    "req",
                    "-new",
                    "-x509",
                    "-subj",
                    "/CN=Otra oficina",
                    "-days",
                    "30",
                    "-key",
                ])
                .arg(&key)
                .arg("-out")
                .arg(&cert),
        );
        let certificate = load_certificate(&cert).expect("OpenSSL's certificate");
        Self { dir, certificate }
    }

    fn key_path(&self) -> PathBuf {
        self.dir.path().join("clave.pem")
    }

    fn cert_path(&self) -> PathBuf {
        self.dir.path().join("certificado.pem")
    }
}

fn openssl(command: &mut Command) {
    let output = command
        .output()
        .expect("openssl is installed by the README's test command");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `pdf` with one more signature, made by pyHanko with `key` as a PAdES
/// (CAdES-detached) signature in a new field.
fn pyhanko_sign(pdf: &[u8], key: &ForeignKey) -> Vec<u8> {
    let input = write_temp(pdf);
    let output = tempfile::Builder::new().suffix(".pdf").tempfile().expect("temp");
    let run = Command::new("pyhanko")
        .args([
            "sign",
            "addsig",
            "--field",
            "Firma de otra oficina",
            "--use-pades",
            "pemder",
        ])
        .arg("--key")
        .arg(key.key_path())
        .arg("--cert")
        .arg(key.cert_path())
        .arg("--no-pass")
        .arg(input.path())
        .arg(output.path())
        .output()
        .expect("pyhanko is installed by the README's test command");
    assert!(
        run.status.success(),
        "pyhanko signs: {}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read(output.path()).expect("signed file")
}

/// The CMS of the last signature in `pdf`: its `/Contents`, without the
/// zero padding after the DER.
fn last_cms(pdf: &[u8]) -> ContentInfo {
    let at = find(pdf, b"/Contents") + b"/Contents".len();
    let open = at + pdf[at..].iter().position(|b| *b == b'<').expect("hex string");
    let close = open
        + pdf[open..]
            .iter()
            .position(|b| *b == b'>')
            .expect("hex string end");
    let hex = std::str::from_utf8(&pdf[open + 1..close]).expect("hex");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect();
    let mut reader = SliceReader::new(&bytes).expect("reader");
    reader.decode().expect("a CMS ContentInfo")
}

/// The fields of the first ESSCertIDv2 of the signer's signing-certificate-v2.
fn first_ess_cert_id(content_info: &ContentInfo) -> Vec<Any> {
    let signed_data: SignedData = content_info.content.decode_as().expect("SignedData");
    let signer = signed_data.signer_infos.0.iter().next().expect("a signer");
    let attribute = signer
        .signed_attrs
        .as_ref()
        .expect("signed attributes")
        .iter()
        .find(|a| a.oid == SIGNING_CERTIFICATE_V2)
        .expect("signing-certificate-v2");
    let value = attribute.values.get(0).expect("a value");
    // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, … }
    let fields: Vec<Any> = value.decode_as().expect("SigningCertificateV2");
    let certs: Vec<Any> = fields[0].decode_as().expect("certs");
    certs[0].decode_as().expect("ESSCertIDv2")
}

#[test]
fn a_pyhanko_signature_naming_its_issuer_and_serial_is_read_and_its_key_found_unknown() {
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::P256] {
        let office = TestKey::example(KeyAlgorithm::Ed25519);
        let other = ForeignKey::new(algorithm);
        let issued = issue_with(&office.key, "oficio-comision").pdf;
        let pdf = pyhanko_sign(&issued, &other);

        // pyHanko's ESSCertIDv2 carries issuerSerial, naming the signer's
        // certificate: this is the case being tested.
        let ess = first_ess_cert_id(&last_cms(&pdf));
        let [.., hash, issuer_serial] = &ess[..] else {
            panic!("{algorithm:?}: an ESSCertIDv2 without issuerSerial: {ess:?}");
        };
        assert_eq!(hash.tag(), Tag::OctetString, "{algorithm:?}: certHash");
        assert_eq!(issuer_serial.tag(), Tag::Sequence, "{algorithm:?}: issuerSerial");
        let issuer_serial: Vec<Any> = issuer_serial.decode_as().expect("IssuerSerial");
        let serial = other.certificate.tbs_certificate().serial_number();
        assert_eq!(
            issuer_serial[1].to_der().expect("DER"),
            serial.to_der().expect("DER"),
            "{algorithm:?}: issuerSerial names the signer's certificate"
        );
        let cert_der = other.certificate.to_der().expect("DER");
        let hash: OctetString = hash.decode_as().expect("certHash");
        assert_eq!(
            hash.as_bytes(),
            Sha256::digest(&cert_der).as_slice(),
            "{algorithm:?}: certHash is the certificate's SHA-256"
        );

        // Read, not «ilegible»: the CMS verifies, and the one thing wrong is
        // that the key is not one the office vouches for.
        let report = verify(&pdf, &office.trusted());
        assert_eq!(report.signatures.len(), 2, "{algorithm:?}: {report:?}");
        assert!(
            report.signatures[0].valid,
            "{algorithm:?}: the office's own: {report:?}"
        );
        let foreign = &report.signatures[1];
        assert!(!foreign.valid, "{algorithm:?}: {foreign:?}");
        assert_eq!(
            foreign.problem.as_deref(),
            Some("la clave que firmó no es una clave conocida de la oficina"),
            "{algorithm:?}: {foreign:?}"
        );
        let other_id = KeyId::of_certificate(&other.certificate).expect("key id");
        assert_eq!(foreign.key_id, Some(other_id.to_string()), "{algorithm:?}");
        assert_eq!(foreign.algorithm, Some(algorithm));
        assert_eq!(foreign.office.as_deref(), Some("Otra oficina"), "{algorithm:?}");
        assert!(foreign.covers_whole_file, "{algorithm:?}");
        assert!(!report.is_valid(), "{algorithm:?}: {report:?}");

        // Once that key is trusted too, the same signature holds.
        let mut both = office.trusted();
        both.add(other.certificate.clone(), KeyStatus::Active)
            .expect("trust");
        let report = verify(&pdf, &both);
        assert!(report.signatures[1].valid, "{algorithm:?}: {report:?}");
    }
}
