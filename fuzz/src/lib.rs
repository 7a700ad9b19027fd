//! The bodies of the fuzz targets: one function per parser of outside input,
//! each feeding arbitrary bytes to Sello's public API. The libFuzzer targets
//! in `fuzz/fuzz_targets/` call them (`scripts/fuzz` runs those), and the
//! smoke test in `tests/signing/fuzz_smoke.rs` runs every one on every seed
//! in `fuzz/corpus/` and a few thousand mutations of them, on stable.
//!
//! A target fails by panicking: on a panic in Sello, or when an invariant
//! checked here does not hold.

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate};
use sello::bulk::limits::{MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS};
use sello::bulk::{Sheet, read_upload};
use sello::code::VerificationCode;
use sello::forms::{Catalog, IssueDate, validate, warnings};
use sello::keys::{KeyStatus, TrustedKeys, parse_certificate};
use sello::pdf::{Entry, Object, PdfFile, verify_cms, verify_pdf};

/// A target: it panics on an input that shows a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name `cargo fuzz` knows it by (and its corpus
/// folder's name).
pub const TARGETS: &[(&str, Target)] = &[
    ("pdf_parser", pdf_parser),
    ("pdf_verify", pdf_verify),
    ("cms", cms),
    ("qr_payload", qr_payload),
    ("verification_code", verification_code),
    ("csv", csv),
    ("xlsx", xlsx),
    ("form_data", form_data),
];

/// The public example keys: the Ed25519 one active, the P-256 one retired,
/// so both the trusted and the retired paths are reachable.
fn trusted() -> &'static TrustedKeys {
    static KEYS: OnceLock<TrustedKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = TrustedKeys::default();
        let active = include_bytes!("../../keys-example/ed25519/certificado.pem");
        let retired = include_bytes!("../../keys-example/p256/certificado.pem");
        let since = DateTime::from_timestamp(1_767_225_600, 0).expect("a valid instant");
        for (pem, status) in [
            (&active[..], KeyStatus::Active),
            (&retired[..], KeyStatus::Retired { since }),
        ] {
            let certificate = parse_certificate(pem).expect("the example certificates parse");
            keys.add(certificate, status)
                .expect("the example keys are supported");
        }
        keys
    })
}

/// The project's form catalog, found above this crate's manifest (the
/// repository root, or its parent when built as the fuzz crate).
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("forms"))
            .find(|forms| forms.join("_lib").is_dir())
            .expect("the forms folder is above the manifest");
        Catalog::load(&root).expect("the catalog loads")
    })
}

/// The cross-reference chain, every object each revision points at, the
/// catalog and first page; and every object read writes back as itself,
/// since signing copies dictionaries from one revision to the next.
pub fn pdf_parser(data: &[u8]) {
    let Ok(file) = PdfFile::parse(data) else {
        return;
    };
    for revision in &file.revisions {
        for (number, entry) in &revision.entries {
            if let Entry::InUse { offset, generation } = entry
                && let Ok(object) = file.object_at(*offset, (*number, *generation))
            {
                assert_writes_back(&object);
            }
        }
    }
    if let Ok(root) = file.root()
        && let Ok(catalog) = file.dict(&Object::Ref(root.0, root.1))
    {
        let _ = file.first_page(&catalog);
    }
}

fn assert_writes_back(object: &Object) {
    let mut written = b"1 0 obj\n".to_vec();
    object.write(&mut written);
    written.extend_from_slice(b"\nendobj\n");
    let alone = PdfFile {
        bytes: &written,
        revisions: Vec::new(),
    };
    match alone.object_at(0, (1, 0)) {
        Ok(read) => assert_eq!(&read, object, "an object reads back differently once written"),
        Err(e) => panic!("a written object does not read back: {e}"),
    }
}

/// The whole verifier, against the example keys.
pub fn pdf_verify(data: &[u8]) {
    if let Ok(report) = verify_pdf(data, trusted()) {
        // A verdict of valid needs a signature covering the whole file.
        if report.is_valid() {
            assert!(report.signatures.iter().any(|s| s.covers_whole_file));
        }
    }
}

/// A CMS signature followed by the bytes it signs: the input is split after
/// its first DER element, so a seed can carry a signature that verifies.
pub fn cms(data: &[u8]) {
    let (signature, content) = data.split_at(der_length(data).min(data.len()));
    let _ = verify_cms(signature, &[content]);
}

/// The length of the DER element at the start of `data`, header included,
/// as its header states it (0 when there is no readable header).
fn der_length(data: &[u8]) -> usize {
    let [_tag, first, rest @ ..] = data else {
        return 0;
    };
    if *first < 0x80 {
        return 2 + *first as usize;
    }
    let count = (*first & 0x7f) as usize;
    if count == 0 || count > 4 || rest.len() < count {
        return 0;
    }
    let length = rest[..count].iter().fold(0usize, |n, b| (n << 8) | *b as usize);
    2 + count + length
}

/// The text a QR holds, read as the verification page reads it.
pub fn qr_payload(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sello::qr::verify(text, trusted());
    }
}

/// A typed verification code: whatever parses prints as a code that parses
/// back to the same one.
pub fn verification_code(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = VerificationCode::parse(text) {
        let printed = code.display();
        assert!(
            VerificationCode::parse(&printed) == Ok(code),
            "a code does not read back from its printed form"
        );
    }
}

/// An uploaded `.csv`.
pub fn csv(data: &[u8]) {
    if let Ok(sheet) = read_upload("planilla.csv", data) {
        assert_within_limits(&sheet, false);
    }
}

/// An uploaded `.xlsx`: the input itself when it is a zip archive;
/// otherwise a worksheet's XML and, after a NUL byte, its shared strings,
/// packed into a workbook with the right checksums, so that mutations reach
/// the XML readers instead of stopping at the zip's CRC.
pub fn xlsx(data: &[u8]) {
    let packed;
    let file = if data.starts_with(b"PK") {
        data
    } else {
        packed = workbook(data);
        &packed
    };
    if let Ok(sheet) = read_upload("planilla.xlsx", file) {
        assert_within_limits(&sheet, true);
    }
}

#[path = "../../tests/support/xlsx_package.rs"]
mod xlsx_package;

/// The smallest workbook around a sheet and, if `parts` has a NUL byte,
/// shared strings (what follows it).
pub fn workbook(parts: &[u8]) -> Vec<u8> {
    let (sheet, strings) = match parts.iter().position(|b| *b == 0) {
        Some(at) => (&parts[..at], Some(&parts[at + 1..])),
        None => (parts, None),
    };
    let fixed = xlsx_package::package_parts(strings.is_some());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut write = |name: &str, bytes: &[u8]| {
        zip.start_file(name, options)
            .and_then(|()| std::io::Write::write_all(&mut zip, bytes).map_err(Into::into))
            .expect("writing to memory");
    };
    for (name, text) in &fixed {
        write(name, text.as_bytes());
    }
    write("xl/worksheets/sheet1.xml", sheet);
    if let Some(strings) = strings {
        write("xl/sharedStrings.xml", strings);
    }
    zip.finish().expect("writing to memory").into_inner()
}

fn assert_within_limits(sheet: &Sheet, cells_bounded: bool) {
    assert!(sheet.headers.len() <= MAX_COLUMNS);
    assert!(sheet.rows.len() <= MAX_ROWS);
    for (_, cells) in &sheet.rows {
        assert!(cells.len() <= MAX_COLUMNS);
        if cells_bounded {
            assert!(cells.iter().all(|c| c.chars().count() <= MAX_CELL_CHARS));
        }
    }
}

/// Any JSON, validated against every form of the catalog, for a document
/// issued on a fixed day and for a draft.
pub fn form_data(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let day = NaiveDate::from_ymd_opt(2026, 3, 16).expect("a valid date");
    for form in catalog().iter() {
        for when in [IssueDate::On(day), IssueDate::NotBefore(day)] {
            let _ = validate(form, &value, when);
            let _ = warnings(form, &value, when);
        }
    }
}
