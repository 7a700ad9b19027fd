//! Keys, a renderer and issued documents for the signing tests.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::TimeZone;
use chrono_tz::Tz;
use sello::config::Config;
use sello::forms::Catalog;
use sello::keys::{KeyAlgorithm, KeyStatus, OfficeKey, TrustedKeys};
use sello::pdf::VerifyReport;
use sello::render::Renderer;
use sello::signed_pdf::{IssueRequest, IssuedDocument, issue};
use serde_json::Value;

pub const BASE_URL: &str = "https://sello.dif-soledad.gob.mx";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}

pub fn config() -> Config {
    let env = [(
        "SELLO_FORMS_DIR".to_owned(),
        root().join("forms").display().to_string(),
    )];
    Config::from_sources(None, env).expect("valid configuration")
}

pub static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(&root().join("forms")).expect("catalog"));
pub static RENDERER: LazyLock<Renderer> = LazyLock::new(|| Renderer::new(&config()).expect("renderer"));

/// A copy of an example key with its private key made private (git keeps no
/// file modes), kept alive as long as the key.
pub struct TestKey {
    pub key: OfficeKey,
    pub dir: tempfile::TempDir,
}

impl TestKey {
    pub fn example(algorithm: KeyAlgorithm) -> Self {
        let name = match algorithm {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::P256 => "p256",
        };
        let dir = tempfile::tempdir().expect("temp dir");
        for file in ["clave.pem", "certificado.pem"] {
            std::fs::copy(
                root().join("keys-example").join(name).join(file),
                dir.path().join(file),
            )
            .expect("copy key");
        }
        make_private(&dir.path().join("clave.pem"));
        Self {
            key: OfficeKey::load(dir.path()).expect("example key loads"),
            dir,
        }
    }

    pub fn generated(algorithm: KeyAlgorithm, office: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = OfficeKey::generate(&dir.path().join("k"), office, algorithm).expect("generate");
        Self { key, dir }
    }

    pub fn cert_path(&self) -> PathBuf {
        let direct = self.dir.path().join("certificado.pem");
        if direct.exists() {
            direct
        } else {
            self.dir.path().join("k/certificado.pem")
        }
    }

    pub fn trusted(&self) -> TrustedKeys {
        let mut trusted = TrustedKeys::default();
        trusted
            .add(self.key.certificate.clone(), KeyStatus::Active)
            .expect("trust");
        trusted
    }
}

pub fn make_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

pub fn example(id: &str) -> Value {
    let text = std::fs::read_to_string(root().join("forms").join(id).join("example.json")).expect("example");
    serde_json::from_str(&text).expect("JSON")
}

pub fn issue_time() -> chrono::DateTime<Tz> {
    chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 11, 22, 10, 30, 0)
        .single()
        .expect("time")
}

/// The request that issues form `id` with `data`, signed by the directora.
pub fn request<'a>(id: &str, data: &'a Value) -> IssueRequest<'a> {
    IssueRequest {
        form: CATALOG.get(id).expect("form"),
        data,
        issued_at: issue_time(),
        folio: None,
        signer: "Mtra. Guadalupe Torres Medina",
        cargo: "Directora del Sistema DIF Municipal",
        endorsements: &[],
        hand_signatures: &[],
        on_paper: &[],
        citations: &[],
    }
}

pub fn issue_with(key: &OfficeKey, id: &str) -> IssuedDocument {
    let data = example(id);
    issue(&RENDERER, key, BASE_URL, &request(id, &data)).expect("issues")
}

/// An issued oficio, signed with the example Ed25519 key.
pub fn issued_oficio() -> (TestKey, Vec<u8>) {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let pdf = issue_with(&key.key, "oficio-comision").pdf;
    (key, pdf)
}

pub fn verify(pdf: &[u8], trusted: &TrustedKeys) -> VerifyReport {
    sello::pdf::verify_pdf(pdf, trusted).expect("readable PDF")
}

/// Asserts the file is not reported valid, whatever the reason.
pub fn assert_not_valid(pdf: &[u8], trusted: &TrustedKeys, what: &str) {
    // An unreadable file is not valid either.
    if let Ok(report) = sello::pdf::verify_pdf(pdf, trusted) {
        assert!(!report.is_valid(), "{what}: reported valid: {report:?}");
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("present")
}

pub fn write_temp(pdf: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().expect("temp");
    std::fs::write(file.path(), pdf).expect("write");
    file
}

/// Appends an incremental update that replaces or adds `objects`
/// (number, body), as an attacker with a text editor would.
pub fn append_update(pdf: &[u8], objects: &[(u32, String)]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pdf);
    let prev = text
        .rfind("startxref")
        .map(|at| {
            text[at + 9..]
                .split_whitespace()
                .next()
                .expect("offset")
                .to_owned()
        })
        .expect("startxref");
    let trailer_at = text.rfind("trailer").expect("trailer");
    let trailer = &text[trailer_at..];
    let root = trailer
        .split("/Root")
        .nth(1)
        .expect("root")
        .split('R')
        .next()
        .expect("ref")
        .trim()
        .to_owned()
        + " R";
    let size: u32 = trailer
        .split("/Size")
        .nth(1)
        .expect("size")
        .split(|c: char| !c.is_ascii_digit() && c != ' ')
        .next()
        .expect("n")
        .trim()
        .parse()
        .expect("size");
    let mut out = pdf.to_vec();
    let mut offsets = Vec::new();
    for (number, body) in objects {
        offsets.push((*number, out.len()));
        out.extend_from_slice(format!("{number} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n");
    for (number, offset) in &offsets {
        out.extend_from_slice(format!("{number} 1\n{offset:010} 00000 n \n").as_bytes());
    }
    let max = objects.iter().map(|(n, _)| n + 1).max().unwrap_or(0).max(size);
    out.extend_from_slice(
        format!("trailer\n<</Size {max} /Root {root} /Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}
