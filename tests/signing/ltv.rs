//! Long-term validation (PAdES B-LT, B-LTA) against a real TSA with a CRL
//! on loopback (certomancer): a document issued with its DSS validates in
//! pyHanko's AdES long-term validation with every server stopped; a
//! document time-stamp added later is reported by pyHanko and by Sello.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use sello::config::Config;
use sello::keys::{OfficeKey, crl_dir, office_key, trusted_keys};
use sello::pdf::{TsaClient, add_document_timestamp, stored_validation_data, verify_pdf};
use sello::signed_pdf::{IssuedDocument, LongTermSources, issue_long_term};

use crate::helpers::{RENDERER, example, request, root, write_temp};
use crate::ltv_pki::CrlTsa;

/// An installation in a temporary folder: its root, its signing key
/// certified by it, and the root's CRL on disk.
struct Installation {
    config: Config,
    key: OfficeKey,
    _dir: tempfile::TempDir,
}

fn installation() -> Installation {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = [
        ("SELLO_FORMS_DIR", root().join("forms").display().to_string()),
        ("SELLO_DATA_DIR", dir.path().display().to_string()),
        // Nothing listens there: the CRL must come from the document.
        ("SELLO_BASE_URL", "http://127.0.0.1:9".to_owned()),
    ];
    let config = Config::from_sources(None, env.map(|(k, v)| (k.to_owned(), v))).expect("config");
    let (key, _notice) = office_key(&config).expect("office key");
    Installation {
        config,
        key,
        _dir: dir,
    }
}

fn issue(installation: &Installation, tsa: &TsaClient) -> IssuedDocument {
    let data = example("oficio-comision");
    let sources = LongTermSources::new(crl_dir(&installation.config), Duration::from_secs(5));
    issue_long_term(
        &RENDERER,
        &installation.key,
        "http://127.0.0.1:9",
        &request("oficio-comision", &data),
        Some(tsa),
        Some(&sources),
    )
    .expect("issues")
}

/// The office's root certificate as a PEM file.
fn office_root(installation: &Installation, dir: &Path) -> std::path::PathBuf {
    let root = installation.key.chain.first().expect("a root-certified key");
    let pem = der::EncodePem::to_pem(root, der::pem::LineEnding::LF).expect("pem");
    let path = dir.join("raiz.pem");
    std::fs::write(&path, pem).expect("write root");
    path
}

/// pyHanko's AdES validation with long-term data (ETSI EN 319 102-1):
/// revocation information is required, and none can be fetched.
fn pyhanko_ades(pdf: &[u8], trust: &[&Path]) -> (bool, String) {
    let file = write_temp(pdf);
    let mut command = Command::new("pyhanko");
    command.args(["sign", "adesverify", "--pretty-print"]);
    for path in trust {
        command.arg("--trust").arg(path);
    }
    let output = command
        .arg(file.path())
        .output()
        .expect("pyhanko is installed by scripts/test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success() && text.contains("judged VALID"), text)
}

/// The PDF/A-3b and PDF/UA-1 rules each of `pdfs` breaks, by name, as
/// `page-validation` (installed by `scripts/test`) judges.
fn conformance_failures(pdfs: &[(&str, &[u8])]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut script = String::from("import page\n");
    for (name, pdf) in pdfs {
        let path = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&path, pdf).expect("write");
        script.push_str(&format!(
            "for profile in ('3b', 'ua1'):\n    r = page.validate_pdf({:?}, profile=profile)\n    \
             if not r.is_compliant: print({name:?}, profile, sorted({{f.rule_id for f in r.failures}}))\n",
            path.display().to_string()
        ));
    }
    let output = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_document_issued_with_its_dss_validates_long_term_offline_in_pyhanko() {
    let installation = installation();
    let mut tsa = CrlTsa::start(Utc::now() + chrono::Duration::days(3650));
    let client = TsaClient::new(vec![tsa.url()], Duration::from_secs(5));
    let document = issue(&installation, &client);
    assert!(document.timestamp.is_some() && !document.awaiting_timestamp);
    // The DSS went in before the signature, which covers the whole file:
    // the issued document is PDF/A-3b and PDF/UA-1 as it was.
    let report = verify_pdf(
        &document.pdf,
        &trusted_keys(&installation.config).expect("trusted"),
    )
    .expect("reads");
    assert!(report.signatures[0].covers_whole_file, "{report:?}");
    assert_eq!(
        conformance_failures(&[("b-lt", &document.pdf)]),
        Vec::<String>::new()
    );

    let dss = stored_validation_data(&document.pdf).expect("dss");
    // The signing certificate, the office's root and the TSA's certificate;
    // the office's CRL (from disk) and the TSA's (from its distribution point).
    assert!(dss.certificates.len() >= 3, "{}", dss.certificates.len());
    assert_eq!(dss.crls.len(), 2);
    let report = verify_pdf(
        &document.pdf,
        &trusted_keys(&installation.config).expect("trusted"),
    )
    .expect("reads");
    assert!(report.is_valid() && report.validation_data, "{report:?}");

    let dir = tempfile::tempdir().expect("temp dir");
    let office_root = office_root(&installation, dir.path());
    let tsa_root = tsa.root_pem();
    // Every server stopped: the TSA, its CRLs, and the office's base URL
    // never had one.
    tsa.stop();
    let (valid, text) = pyhanko_ades(&document.pdf, &[&office_root, &tsa_root]);
    assert!(valid, "{text}");

    // The same document signed without a DSS cannot find revocation data
    // offline.
    let bare = issue_long_term(
        &RENDERER,
        &installation.key,
        "http://127.0.0.1:9",
        &request("oficio-comision", &example("oficio-comision")),
        None,
        None,
    )
    .expect("issues");
    assert!(
        stored_validation_data(&bare.pdf)
            .expect("reads")
            .certificates
            .is_empty()
    );
    let (valid, text) = pyhanko_ades(&bare.pdf, &[&office_root, &tsa_root]);
    assert!(!valid, "without its DSS it must not validate offline:\n{text}");
}

#[test]
fn a_document_timestamp_added_later_is_reported_by_pyhanko_and_sello() {
    let installation = installation();
    let mut down = CrlTsa::start(Utc::now() + chrono::Duration::days(3650));
    let down_url = down.url();
    down.stop();
    let issued = issue(
        &installation,
        &TsaClient::new(vec![down_url], Duration::from_secs(2)),
    );
    assert!(issued.timestamp.is_none() && issued.awaiting_timestamp);

    let mut tsa = CrlTsa::start(Utc::now() + chrono::Duration::days(3650));
    let client = TsaClient::new(vec![tsa.url()], Duration::from_secs(5));
    let (stamped, stamp) = add_document_timestamp(&issued.pdf, &client).expect("stamped");
    assert!(stamped.starts_with(&issued.pdf));
    // With the new time-stamp's own validation data after it, as the
    // archive's retry adds it, the document is still PDF/A-3b and PDF/UA-1.
    let sources = LongTermSources::new(crl_dir(&installation.config), Duration::from_secs(5));
    let completed = sources.complete(stamped.clone()).expect("dss");
    assert!(completed.len() > stamped.len(), "the TSA's chain and CRL added");
    // page-validation 0.11.0 requires every signature's /ByteRange to reach
    // the end of the file, so any revision after a signature (a document
    // time-stamp, as here; a co-signature with `sello sign` alike) trips
    // that one rule on the earlier signature. ISO 19005-2/-3 §6.4.3 with
    // ISO 32000's incremental updates, as veraPDF reads it, asks the range
    // to reach the end of the signature's own revision, which it does.
    // Nothing else may fail.
    assert_eq!(
        conformance_failures(&[
            ("emitido", &issued.pdf),
            ("sellado", &stamped),
            ("completo", &completed)
        ]),
        vec![
            "sellado 3b ['PDFA3B-SIGNATURE-BYTERANGE-001']".to_owned(),
            "completo 3b ['PDFA3B-SIGNATURE-BYTERANGE-001']".to_owned(),
        ]
    );
    let trusted = trusted_keys(&installation.config).expect("trusted");
    let report = verify_pdf(&stamped, &trusted).expect("reads");
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(report.document_timestamps.len(), 1);
    assert_eq!(report.document_timestamps[0].time, Some(stamp.time));

    // One byte of the signed revision changed: the time-stamp's imprint no
    // longer matches, and the signature fails too.
    let mut tampered = stamped.clone();
    let at = issued.pdf.len() / 2;
    tampered[at] ^= 0x01;
    if let Ok(report) = verify_pdf(&tampered, &trusted) {
        assert!(!report.is_valid());
        assert!(report.document_timestamps.iter().all(|t| !t.valid), "{report:?}");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let office_root = office_root(&installation, dir.path());
    let file = write_temp(&stamped);
    let output = Command::new("pyhanko")
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
            "--trust",
        ])
        .arg(&office_root)
        .arg("--trust")
        .arg(tsa.root_pem())
        .arg(file.path())
        .output()
        .expect("pyhanko");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("judged VALID"), "{text}");
    assert!(
        text.contains("signature maintenance") || text.contains("signing and form filling"),
        "{text}"
    );

    // Sello's command line reports it.
    let out = Command::new(env!("CARGO_BIN_EXE_sello"))
        .arg("verify")
        .arg(file.path())
        .arg("--tsa-root")
        .arg(tsa.root_pem())
        .env("SELLO_FORMS_DIR", root().join("forms"))
        .env("SELLO_DATA_DIR", installation.config.data_dir.clone())
        .output()
        .expect("sello runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Sello de tiempo del documento: "), "{said}");
    assert!(said.contains("Sellado de tiempo con CRL"), "{said}");
    assert!(
        said.contains("verificado: la TSA lleva a la raíz de confianza"),
        "{said}"
    );

    // With the new time-stamp's validation data after it (PAdES B-LTA),
    // pyHanko's long-term validation holds with every server stopped.
    let tsa_root = tsa.root_pem();
    tsa.stop();
    let (valid, text) = pyhanko_ades(&completed, &[&office_root, &tsa_root]);
    assert!(valid, "{text}");
    // The document time-stamp itself validated, as proof of existence.
    assert!(!text.contains("without past proof of existence"), "{text}");
    // Without its validation data it does not, offline.
    let (_, text) = pyhanko_ades(&stamped, &[&office_root, &tsa_root]);
    assert!(text.contains("without past proof of existence"), "{text}");
}
