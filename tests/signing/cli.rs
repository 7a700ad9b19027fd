//! The signing commands as an office uses them: keys generate, issue, sign,
//! verify (a PDF or a QR), with their exit codes.

use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::{TestKey, root};
use sello::keys::KeyAlgorithm;

fn sello(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
    command
        .current_dir(dir)
        .args(args)
        .env("SELLO_FORMS_DIR", root().join("forms"))
        .env("SELLO_DATA_DIR", dir.join("data"))
        .env("SELLO_BASE_URL", "https://sello.example");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("sello runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `sello issue oficio-comision` of the example into `out`.
fn issue_oficio(dir: &Path, out: &Path, env: &[(&str, &str)]) -> Output {
    let data = example_data();
    sello(
        dir,
        &[
            "issue",
            "oficio-comision",
            "--data",
            &data,
            "--out",
            out.to_str().expect("utf-8"),
        ],
        env,
    )
}

fn example_data() -> String {
    root()
        .join("forms/oficio-comision/example.json")
        .display()
        .to_string()
}

#[test]
fn keys_generate_writes_a_private_key_and_a_certificate_and_prints_the_key_id() {
    let dir = tempfile::tempdir().expect("temp");
    for algorithm in ["ed25519", "p256"] {
        let out = dir.path().join(algorithm);
        let output = sello(
            dir.path(),
            &[
                "keys",
                "generate",
                "--out",
                out.to_str().expect("utf-8"),
                "--name",
                "DIF Soledad",
                "--algorithm",
                algorithm,
            ],
            &[],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let key_id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        assert_eq!(key_id.len(), 16);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("clave.pem"))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let key = sello::keys::OfficeKey::load(&out).expect("loads");
        assert_eq!(key.key_id.to_string(), key_id);
        assert_eq!(key.subject_name(), "DIF Soledad");
        let again = sello(
            dir.path(),
            &[
                "keys",
                "generate",
                "--out",
                out.to_str().expect("utf-8"),
                "--name",
                "X",
            ],
            &[],
        );
        assert_eq!(again.status.code(), Some(2), "must not overwrite a key");
    }
}

#[test]
fn a_private_key_others_can_read_is_refused() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            key.dir.path().join("clave.pem"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
    }
    let error = sello::keys::OfficeKey::load(key.dir.path()).expect_err("refused");
    assert!(error.to_string().contains("chmod 600"), "{error}");
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("o.pdf");
    let output = issue_oficio(
        dir.path(),
        &out,
        &[("SELLO_SIGNING_KEY", key.dir.path().to_str().expect("utf-8"))],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("otros usuarios pueden leer"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
}

#[test]
fn the_first_issue_without_a_key_generates_one_and_says_so() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("o.pdf");
    let first = issue_oficio(dir.path(), &out, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("se generó una nueva"),
        "{}",
        stderr(&first)
    );
    assert!(dir.path().join("data/claves/oficina/clave.pem").exists());
    let second = issue_oficio(dir.path(), &out, &[]);
    assert_eq!(second.status.code(), Some(0));
    assert!(!stderr(&second).contains("se generó"), "{}", stderr(&second));
    // The printed code is the one on the document.
    let code = String::from_utf8_lossy(&second.stdout).trim().to_owned();
    assert!(sello::code::VerificationCode::parse(&code).is_ok(), "{code}");

    let verified = sello(dir.path(), &["verify", out.to_str().expect("utf-8")], &[]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(said.contains("VÁLIDA"), "{said}");
    // The office's key seals it: the verifier names the seal's holder, and
    // no person as the one who signed.
    assert!(said.contains("  Sello electrónico de "), "{said}");
    assert!(!said.contains("Firmante"), "{said}");
}

#[test]
fn verify_exits_one_for_a_tampered_file_and_two_for_a_non_pdf() {
    let dir = tempfile::tempdir().expect("temp");
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let mut pdf = crate::helpers::issue_with(&key.key, "oficio-comision").pdf;
    let cert = key.cert_path();
    let path = dir.path().join("o.pdf");
    std::fs::write(&path, &pdf).expect("write");
    let ok = sello(
        dir.path(),
        &[
            "verify",
            path.to_str().expect("utf-8"),
            "--cert",
            cert.to_str().expect("utf-8"),
            "--json",
        ],
        &[],
    );
    assert_eq!(ok.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("JSON");
    assert_eq!(report["signatures"][0]["valid"], true);
    assert_eq!(report["signatures"][0]["algorithm"], "ed25519");

    let unknown = sello(dir.path(), &["verify", path.to_str().expect("utf-8")], &[]);
    assert_eq!(
        unknown.status.code(),
        Some(1),
        "without the office certificate the key is unknown"
    );

    let middle = pdf.len() / 2;
    pdf[middle] ^= 0x20;
    std::fs::write(&path, &pdf).expect("write");
    let tampered = sello(
        dir.path(),
        &[
            "verify",
            path.to_str().expect("utf-8"),
            "--cert",
            cert.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(tampered.status.code(), Some(1));

    let text = dir.path().join("nota.pdf");
    std::fs::write(&text, "no soy un PDF").expect("write");
    let not_pdf = sello(dir.path(), &["verify", text.to_str().expect("utf-8")], &[]);
    assert_eq!(not_pdf.status.code(), Some(2));
}

#[test]
fn sign_adds_a_signature_and_refuses_documents_sello_did_not_issue() {
    let dir = tempfile::tempdir().expect("temp");
    let office = TestKey::example(KeyAlgorithm::Ed25519);
    let director = TestKey::example(KeyAlgorithm::P256);
    let issued = dir.path().join("issued.pdf");
    std::fs::write(
        &issued,
        crate::helpers::issue_with(&office.key, "oficio-comision").pdf,
    )
    .expect("write");
    let office_key = office.dir.path().to_str().expect("utf-8").to_owned();
    let signed = dir.path().join("signed.pdf");
    let output = sello(
        dir.path(),
        &[
            "sign",
            issued.to_str().expect("utf-8"),
            "--key",
            director.dir.path().to_str().expect("utf-8"),
            "--signer",
            "Mtra. Guadalupe Torres Medina",
            "--cargo",
            "Directora",
            "--out",
            signed.to_str().expect("utf-8"),
        ],
        &[("SELLO_SIGNING_KEY", &office_key)],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = sello(
        dir.path(),
        &[
            "verify",
            signed.to_str().expect("utf-8"),
            "--cert",
            director.cert_path().to_str().expect("utf-8"),
            "--json",
        ],
        &[("SELLO_SIGNING_KEY", &office_key)],
    );
    assert_eq!(
        report.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&report.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).expect("JSON");
    // The key's holder signs, as its certificate names it; the person who
    // signed with it is said as what they did.
    let added = &report["signatures"][1];
    assert!(added["office"].is_string(), "{added}");
    assert_eq!(added["signer"], added["office"], "{added}");
    assert_eq!(
        added["reason"],
        "Emitido por Mtra. Guadalupe Torres Medina, Directora"
    );

    // A draft is not an issued document.
    let draft = dir.path().join("draft.pdf");
    let rendered = sello(
        dir.path(),
        &[
            "render",
            "oficio-comision",
            "--data",
            &example_data(),
            "--out",
            draft.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(rendered.status.code(), Some(0));
    let refused = sello(
        dir.path(),
        &[
            "sign",
            draft.to_str().expect("utf-8"),
            "--key",
            director.dir.path().to_str().expect("utf-8"),
            "--signer",
            "X",
            "--cargo",
            "Y",
            "--out",
            dir.path().join("x.pdf").to_str().expect("utf-8"),
        ],
        &[("SELLO_SIGNING_KEY", &office_key)],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("no es un documento emitido por Sello"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn verify_qr_checks_the_payload_offline() {
    let dir = tempfile::tempdir().expect("temp");
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let issued = crate::helpers::issue_with(&key.key, "oficio-comision");
    let cert = key.cert_path();
    let ok = sello(
        dir.path(),
        &[
            "verify",
            "--qr",
            &issued.qr_link,
            "--cert",
            cert.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let printed = String::from_utf8_lossy(&ok.stdout);
    assert!(
        printed.contains("oficio-comision") && printed.contains("2026-11-22"),
        "{printed}"
    );
    let mut tampered = issued.qr_link.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let bad = sello(
        dir.path(),
        &[
            "verify",
            "--qr",
            &tampered,
            "--cert",
            cert.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn verify_labels_a_time_stamp_it_could_not_check_as_unverified() {
    let tsa = crate::tsa::Tsa::start_with(crate::tsa::TsaKind::P256);
    let dir = tempfile::tempdir().expect("temp");
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let data = crate::helpers::example("oficio-comision");
    let request = crate::helpers::request("oficio-comision", &data);
    let client = sello::pdf::TsaClient::new(vec![tsa.url()], std::time::Duration::from_secs(5));
    let document = sello::signed_pdf::issue_stamped(
        &crate::helpers::RENDERER,
        &key.key,
        crate::helpers::BASE_URL,
        &request,
        Some(&client),
    )
    .expect("issues");
    assert!(document.timestamp.is_some(), "stamped");
    let path = dir.path().join("o.pdf");
    std::fs::write(&path, &document.pdf).expect("write");
    let cert = key.cert_path();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            path.to_str().expect("utf-8"),
            "--cert",
            cert.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        let output = sello(dir.path(), &args, &[]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // Without the TSA's root the token proves nothing: its time and TSA
    // are only what it says.
    let text = verify(&[]);
    assert!(
        text.contains("Sello de tiempo (no verificado, según el propio sello): "),
        "{text}"
    );
    let root = tsa.root_pem();
    let text = verify(&["--tsa-root", root.to_str().expect("utf-8")]);
    assert!(text.contains("  Sello de tiempo: "), "{text}");
    assert!(!text.contains("(no verificado"), "{text}");
}

#[test]
fn sign_with_the_installation_s_own_key_waits_for_a_rotation_under_way() {
    let dir = tempfile::tempdir().expect("temp");
    let issued = dir.path().join("issued.pdf");
    let output = issue_oficio(dir.path(), &issued, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let claves = dir.path().join("data/claves");
    let own = claves.join("oficina");
    assert!(own.join("certificado.pem").exists(), "the installation's key");
    let signed = dir.path().join("signed.pdf");
    let rotating = sello::keys::KeyTurns::in_folder(&claves)
        .rotating()
        .expect("rotation's turn");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
    command
        .current_dir(dir.path())
        .args([
            "sign",
            issued.to_str().expect("utf-8"),
            "--key",
            own.to_str().expect("utf-8"),
            "--signer",
            "Lic. Ana Ruiz",
            "--cargo",
            "Directora",
            "--out",
            signed.to_str().expect("utf-8"),
        ])
        .env("SELLO_FORMS_DIR", root().join("forms"))
        .env("SELLO_DATA_DIR", dir.path().join("data"))
        .env("SELLO_BASE_URL", "https://sello.example")
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("sello runs");
    std::thread::sleep(std::time::Duration::from_secs(2));
    // While the rotation holds its turn, nothing is signed with the key.
    let waiting = child.try_wait().expect("status").is_none();
    drop(rotating);
    let output = child.wait_with_output().expect("sello ends");
    assert!(waiting, "signed during a rotation: {}", stderr(&output));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(signed.exists());
}

/// `sello` run as an archivist runs it: in a folder of their own, with no
/// configuration file and no `SELLO_*` settings.
fn sello_outside(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
    command.current_dir(dir).args(args);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SELLO_")) {
        command.env_remove(name);
    }
    command
}

#[test]
fn an_archivist_verifies_an_exported_pdf_with_the_certificate_bundle_alone() {
    let office = tempfile::tempdir().expect("temp");
    let issued = office.path().join("oficio.pdf");
    let output = issue_oficio(office.path(), &issued, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The bundle an expediente's export carries: the root, then the keys.
    let config = sello::config::Config::from_sources(
        None,
        [
            (
                "SELLO_FORMS_DIR".to_owned(),
                root().join("forms").display().to_string(),
            ),
            (
                "SELLO_DATA_DIR".to_owned(),
                office.path().join("data").display().to_string(),
            ),
        ],
    )
    .expect("config");
    let bundle = sello::keys::trusted_keys(&config)
        .expect("trusted")
        .certificates_pem();
    assert_eq!(
        bundle.matches("BEGIN CERTIFICATE").count(),
        2,
        "root and key: {bundle}"
    );

    let archivist = tempfile::tempdir().expect("temp");
    std::fs::write(archivist.path().join("certificado.pem"), &bundle).expect("write");
    std::fs::copy(&issued, archivist.path().join("oficio.pdf")).expect("copy");
    let verified = sello_outside(
        archivist.path(),
        &["verify", "--cert", "certificado.pem", "oficio.pdf"],
    )
    .output()
    .expect("sello runs");
    let said = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(verified.status.code(), Some(0), "{said}{}", stderr(&verified));
    assert!(
        said.contains("VÁLIDA") && said.contains("auténtico e íntegro"),
        "{said}"
    );
    assert!(
        said.contains("no quiere decir vigente"),
        "authentic is not current: {said}"
    );

    // Without the bundle nothing vouches for the key, and it says so
    // rather than looking for an installation.
    let unknown = sello_outside(archivist.path(), &["verify", "oficio.pdf"])
        .output()
        .expect("sello runs");
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
    assert!(!stderr(&unknown).contains("forms_dir"), "{}", stderr(&unknown));

    // Piped into a reader that stops at once (`| head`): no panic.
    let mut child = sello_outside(
        archivist.path(),
        &["verify", "--cert", "certificado.pem", "oficio.pdf"],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("sello runs");
    drop(child.stdout.take());
    let closed = child.wait_with_output().expect("sello ends");
    assert!(!stderr(&closed).contains("panicked"), "{}", stderr(&closed));
    assert_eq!(closed.status.code(), Some(0), "{}", stderr(&closed));
}
