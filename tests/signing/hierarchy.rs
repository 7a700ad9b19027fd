//! The office's root, its signing keys and its CRL as an installation lives
//! them: the first run makes a root and a key it certifies, the service's
//! address names the CRL, a rotation revokes the old key, and both Sello's
//! verifier (trusting only the root and the CRL, as an outsider would) and
//! pyHanko (fetching the CRL from that address) judge a document signed
//! after the revocation invalid. With `[timestamp]` configured, a document
//! time-stamped before its key was revoked as compromised stays valid for
//! both (pyHanko's AdES validation), and one without a time-stamp, or
//! stamped after, does not.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::root;

/// An installation in a folder, whose base URL is a loopback address where
/// its `claves` folder is served, so `<base>/crl/<id>.crl` is its CRL file.
struct Installation {
    dir: tempfile::TempDir,
    base_url: String,
    server: Child,
}

impl Drop for Installation {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Installation {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let claves = dir.path().join("data/claves");
        std::fs::create_dir_all(&claves).expect("claves");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let server = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
                "--directory",
            ])
            .arg(&claves)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 serves the CRL folder");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the CRL server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            dir,
            base_url: format!("http://127.0.0.1:{port}"),
            server,
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn sello(&self, args: &[&str], env: &[(&str, &Path)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
        command
            .current_dir(self.dir.path())
            .args(args)
            .env("SELLO_FORMS_DIR", root().join("forms"))
            .env("SELLO_DATA_DIR", self.path("data"))
            .env("SELLO_BASE_URL", &self.base_url);
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("sello runs")
    }

    fn issue(&self, name: &str, env: &[(&str, &Path)]) -> PathBuf {
        let out = self.path(name);
        let data = root().join("forms/oficio-comision/example.json");
        let output = self.sello(
            &[
                "issue",
                "oficio-comision",
                "--data",
                data.to_str().expect("utf-8"),
                "--out",
                out.to_str().expect("utf-8"),
            ],
            env,
        );
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        out
    }

    /// The one root certificate, and its CRL.
    fn root_files(&self) -> (PathBuf, PathBuf) {
        let roots: Vec<PathBuf> = std::fs::read_dir(self.path("data/claves/autoridades"))
            .expect("authorities folder")
            .flatten()
            .map(|e| e.path())
            .collect();
        let [certificate] = roots.as_slice() else {
            panic!("one root: {roots:?}");
        };
        let id = certificate
            .file_stem()
            .expect("name")
            .to_str()
            .expect("utf-8")
            .to_owned();
        (
            certificate.clone(),
            self.path(&format!("data/claves/crl/{id}.crl")),
        )
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `sello verify` from a folder of its own, trusting only the root and its
/// CRL: what an auditor holding the office's published files sees.
fn outsider_verifies(pdf: &Path, root_cert: &Path, crl: &Path) -> (Option<i32>, serde_json::Value) {
    let outsider = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(outsider.path())
        .env("SELLO_FORMS_DIR", root().join("forms"))
        .env("SELLO_DATA_DIR", outsider.path().join("data"))
        .args(["verify", "--json", "--cert"])
        .arg(root_cert)
        .arg("--crl")
        .arg(crl)
        .arg(pdf)
        .output()
        .expect("sello runs");
    let report =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("JSON report: {}", text(&output)));
    (output.status.code(), report)
}

fn pyhanko(pdf: &Path, root_cert: &Path) -> String {
    let output = Command::new("pyhanko")
        .args(["sign", "validate", "--pretty-print", "--trust"])
        .arg(root_cert)
        .arg(pdf)
        .output()
        .expect("pyhanko is installed by the README's test command");
    text(&output)
}

#[test]
fn a_rotation_revokes_the_old_key_for_what_it_signs_afterwards() {
    let office = Installation::new();
    let before = office.issue("antes.pdf", &[]);
    // The first run made the root, the key it certifies and an empty CRL.
    assert!(office.path("data/claves/raiz/clave.pem").exists());
    assert!(office.path("data/claves/oficina/emisor.pem").exists());
    let (root_cert, crl) = office.root_files();
    assert!(crl.exists(), "the first CRL is published with the root");

    let (code, report) = outsider_verifies(&before, &root_cert, &crl);
    assert_eq!(code, Some(0), "{report:#}");
    let signature = &report["signatures"][0];
    assert_eq!(
        signature["root_key_id"],
        root_cert.file_stem().expect("id").to_str().expect("utf-8")
    );
    assert!(
        signature["revocation"]
            .as_str()
            .is_some_and(|r| r.starts_with("no revocada según la CRL n.º 1")),
        "{report:#}"
    );
    let judged = pyhanko(&before, &root_cert);
    assert!(judged.contains("The signature is judged VALID"), "{judged}");
    assert!(judged.contains("The signer's certificate is trusted"), "{judged}");

    // Someone keeps a copy of the key; the office rotates.
    let kept = office.path("guardada");
    std::fs::create_dir_all(&kept).expect("copy");
    for file in ["clave.pem", "certificado.pem", "emisor.pem"] {
        std::fs::copy(office.path("data/claves/oficina").join(file), kept.join(file)).expect("copy");
    }
    let rotated = office.sello(&["keys", "rotate"], &[]);
    assert_eq!(rotated.status.code(), Some(0), "{}", text(&rotated));
    std::thread::sleep(Duration::from_millis(1100)); // signing times have whole seconds
    let after = office.issue("despues.pdf", &[("SELLO_SIGNING_KEY", &kept)]);
    let fresh = office.issue("nuevo.pdf", &[]);

    let (code, report) = outsider_verifies(&before, &root_cert, &crl);
    assert_eq!(code, Some(0), "signed before the rotation: {report:#}");
    assert!(
        report["signatures"][0]["revocation"]
            .as_str()
            .is_some_and(|r| r.contains("reemplazada por rotación") && r.contains("después de esta firma")),
        "{report:#}"
    );
    let (code, report) = outsider_verifies(&after, &root_cert, &crl);
    assert_eq!(code, Some(1), "signed after the rotation: {report:#}");
    assert!(
        report["signatures"][0]["problem"]
            .as_str()
            .is_some_and(|p| p.contains("no puede firmar después")),
        "{report:#}"
    );
    let (code, report) = outsider_verifies(&fresh, &root_cert, &crl);
    assert_eq!(code, Some(0), "the new key, same root: {report:#}");

    // pyHanko fetches the CRL from the address in the certificate.
    let judged = pyhanko(&after, &root_cert);
    assert!(!judged.contains("The signature is judged VALID"), "{judged}");
    assert!(judged.to_lowercase().contains("revoked"), "{judged}");
    let judged = pyhanko(&fresh, &root_cert);
    assert!(judged.contains("The signature is judged VALID"), "{judged}");

    // Found compromised later: then not even what it signed before holds,
    // since nothing but a timestamp proves when it was signed.
    let old_id = report_key_id(&before, &root_cert, &crl);
    let revoked = office.sello(&["keys", "revoke", &old_id], &[]);
    assert_eq!(revoked.status.code(), Some(0), "{}", text(&revoked));
    let (code, report) = outsider_verifies(&before, &root_cert, &crl);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["signatures"][0]["problem"]
            .as_str()
            .is_some_and(|p| p.contains("comprometida") && p.contains("sello de tiempo")),
        "{report:#}"
    );
    // The new key is untouched by the old one's revocation.
    let (code, report) = outsider_verifies(&fresh, &root_cert, &crl);
    assert_eq!(code, Some(0), "{report:#}");
}

fn report_key_id(pdf: &Path, root_cert: &Path, crl: &Path) -> String {
    let (_, report) = outsider_verifies(pdf, root_cert, crl);
    report["signatures"][0]["key_id"]
        .as_str()
        .expect("key id")
        .to_owned()
}

#[test]
fn without_the_root_a_rotation_is_refused_and_nothing_changes() {
    let office = Installation::new();
    office.issue("uno.pdf", &[]);
    let key_before = std::fs::read(office.path("data/claves/oficina/clave.pem")).expect("key");
    // The root goes offline, as the first run tells.
    std::fs::rename(office.path("data/claves/raiz"), office.path("usb-raiz")).expect("move");
    let refused = office.sello(&["keys", "rotate"], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("no está aquí la raíz"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        std::fs::read(office.path("data/claves/oficina/clave.pem")).expect("key"),
        key_before
    );
    // Brought back from where it is kept, it rotates.
    let usb = office.path("usb-raiz");
    let rotated = office.sello(&["keys", "rotate", "--raiz", usb.to_str().expect("utf-8")], &[]);
    assert_eq!(rotated.status.code(), Some(0), "{}", text(&rotated));
    assert_ne!(
        std::fs::read(office.path("data/claves/oficina/clave.pem")).expect("key"),
        key_before
    );
    let renewed = office.sello(&["keys", "crl", "--raiz", usb.to_str().expect("utf-8")], &[]);
    assert_eq!(renewed.status.code(), Some(0), "{}", text(&renewed));
    assert!(text(&renewed).contains("n.º 3"), "{}", text(&renewed));
}

/// `sello verify` as an outsider who also trusts the TSA's root.
fn outsider_verifies_stamped(
    pdf: &Path,
    root_cert: &Path,
    crl: &Path,
    tsa_root: &Path,
) -> (Option<i32>, serde_json::Value) {
    let outsider = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(outsider.path())
        .env("SELLO_FORMS_DIR", root().join("forms"))
        .env("SELLO_DATA_DIR", outsider.path().join("data"))
        .args(["verify", "--json", "--cert"])
        .arg(root_cert)
        .arg("--crl")
        .arg(crl)
        .arg("--tsa-root")
        .arg(tsa_root)
        .arg(pdf)
        .output()
        .expect("sello runs");
    let report =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("JSON report: {}", text(&output)));
    (output.status.code(), report)
}

/// pyHanko's `validate` (`how`), or `adesverify`: ETSI EN 319 102-1
/// validation, which judges a signature at the time its time-stamp proves.
fn pyhanko_trusting(how: &str, pdf: &Path, roots: &[&Path]) -> String {
    let mut command = Command::new("pyhanko");
    command.args(["sign", how, "--pretty-print"]);
    for root in roots {
        command.arg("--trust").arg(root);
    }
    text(
        &command
            .arg(pdf)
            .output()
            .expect("pyhanko is installed by the README's test command"),
    )
}

#[test]
fn a_verified_timestamp_keeps_valid_what_a_key_signed_before_it_was_compromised() {
    let office = Installation::new();
    let tsa = crate::tsa::Tsa::start_with(crate::tsa::TsaKind::RsaSha256);
    let (url, tsa_root) = (tsa.url(), tsa.root_pem());
    let stamping = [
        ("SELLO_TIMESTAMP_TSA", Path::new(&url)),
        ("SELLO_TIMESTAMP_TRUSTED_ROOTS", tsa_root.as_path()),
    ];
    // `sello issue` with [timestamp] configured: a B-T document.
    let stamped = office.issue("sellado.pdf", &stamping);
    let unstamped = office.issue("sin-sello.pdf", &[]);
    let (root_cert, crl) = office.root_files();

    let judged = pyhanko_trusting("validate", &stamped, &[&root_cert, &tsa_root]);
    assert!(judged.contains("The signature is judged VALID"), "{judged}");
    assert!(judged.contains("Signature timestamp token"), "{judged}");
    assert!(judged.contains("The TSA certificate is trusted."), "{judged}");
    let verified = office.sello(&["verify", stamped.to_str().expect("utf-8")], &stamping);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    assert!(
        text(&verified).contains("Sello de tiempo verificado: la TSA lleva a la raíz de confianza"),
        "the configured TSA roots are used by default: {}",
        text(&verified)
    );
    let (code, report) = outsider_verifies_stamped(&stamped, &root_cert, &crl, &tsa_root);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["signatures"][0]["timestamp_verified"], true, "{report:#}");

    // A copy of the key is kept; the key is found compromised, from now.
    let kept = office.path("guardada");
    std::fs::create_dir_all(&kept).expect("copy");
    for file in ["clave.pem", "certificado.pem", "emisor.pem"] {
        std::fs::copy(office.path("data/claves/oficina").join(file), kept.join(file)).expect("copy");
    }
    std::thread::sleep(Duration::from_millis(1100)); // revocation times have whole seconds
    let rotated = office.sello(&["keys", "rotate", "--compromiso"], &[]);
    assert_eq!(rotated.status.code(), Some(0), "{}", text(&rotated));
    std::thread::sleep(Duration::from_millis(1100));
    let kept_and_stamping = [stamping[0], stamping[1], ("SELLO_SIGNING_KEY", kept.as_path())];
    let late = office.issue("tarde.pdf", &kept_and_stamping);

    // Signed and stamped before the compromise: still valid, for both.
    let (code, report) = outsider_verifies_stamped(&stamped, &root_cert, &crl, &tsa_root);
    assert_eq!(code, Some(0), "{report:#}");
    assert!(
        report["signatures"][0]["revocation"].as_str().is_some_and(
            |r| r.contains("comprometida") && r.contains("un sello de tiempo prueba que firmó antes")
        ),
        "{report:#}"
    );
    // pyHanko's AdES validation (ETSI EN 319 102-1) judges it at the time
    // its time-stamp proves; its plain `validate` judges at the present.
    let judged = pyhanko_trusting("adesverify", &stamped, &[&root_cert, &tsa_root]);
    assert!(judged.contains("The signature is judged VALID"), "{judged}");

    // Without a time-stamp, or stamped after the compromise: invalid.
    let (code, report) = outsider_verifies_stamped(&unstamped, &root_cert, &crl, &tsa_root);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["signatures"][0]["problem"]
            .as_str()
            .is_some_and(|p| p.contains("comprometida") && p.contains("ningún sello de tiempo")),
        "{report:#}"
    );
    let (code, report) = outsider_verifies_stamped(&late, &root_cert, &crl, &tsa_root);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["signatures"][0]["timestamp_verified"], true, "{report:#}");
    let judged = pyhanko_trusting("adesverify", &unstamped, &[&root_cert, &tsa_root]);
    assert!(judged.contains("The signature is judged INVALID"), "{judged}");
    assert!(judged.contains("revoked"), "{judged}");
    let judged = pyhanko_trusting("adesverify", &late, &[&root_cert, &tsa_root]);
    assert!(judged.contains("The signature is judged INVALID"), "{judged}");

    // An outsider who does not trust the TSA's root has no proof of when
    // it was signed, and Sello says why.
    let (code, report) = outsider_verifies(&stamped, &root_cert, &crl);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["signatures"][0]["timestamp_check"]
            .as_str()
            .is_some_and(|c| c.contains("no verificado") && c.contains("no hay raíces")),
        "{report:#}"
    );
}
