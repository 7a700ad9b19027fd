//! Unit tests of the revisions Sello appends after a signature: the DSS
//! as `dss.rs` writes it and a document time-stamp are accepted; a
//! revision that smuggles any other change in with them is refused
//! (`dss_rules.rs`, `verify.rs`).

use chrono::Utc;

use crate::keys::{KeyAlgorithm, KeyStatus, OfficeKey, TrustedKeys};
use crate::pdf::doc_timestamp::add_with;
use crate::pdf::dss::{ValidationData, add_validation_data};
use crate::pdf::file::PdfFile;
use crate::pdf::increment::{Increment, next_number};
use crate::pdf::object::{Dict, Object};
use crate::pdf::sign::{SignatureRequest, sign_pdf};
use crate::pdf::tsp::TimeStamp;
use crate::pdf::verify::{VerifyReport, verify_pdf};

/// A one-page PDF with a classic cross-reference table, as Typst writes.
fn document() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        "<< /Length 8 >>\nstream\nBT ET q Q\nendstream",
    ];
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    pdf
}

struct Signed {
    pdf: Vec<u8>,
    key: OfficeKey,
    trusted: TrustedKeys,
    _dir: tempfile::TempDir,
}

fn signed() -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let key = OfficeKey::generate(&dir.path().join("k"), "Oficina", KeyAlgorithm::Ed25519).unwrap();
    let request = SignatureRequest {
        key: &key,
        signer: "Ana López",
        cargo: "Directora",
        signing_time: Utc::now().with_timezone(&chrono_tz::America::Mexico_City),
    };
    let pdf = sign_pdf(&document(), &request).unwrap();
    let mut trusted = TrustedKeys::default();
    trusted.add(key.certificate.clone(), KeyStatus::Active).unwrap();
    Signed {
        pdf,
        key,
        trusted,
        _dir: dir,
    }
}

fn check(pdf: &[u8], trusted: &TrustedKeys) -> VerifyReport {
    verify_pdf(pdf, trusted).expect("readable")
}

fn with_dss(signed: &Signed) -> Vec<u8> {
    let mut data = ValidationData::default();
    data.add_certificate(signed.key.certificate_der.clone());
    add_validation_data(&signed.pdf, &data)
        .unwrap()
        .expect("something new")
}

/// Appends one revision writing `objects` (number, object or stream
/// bytes), keeping the catalog.
fn append(pdf: &[u8], objects: &[(u32, Result<Object, Vec<u8>>)]) -> Vec<u8> {
    let file = PdfFile::parse(pdf).unwrap();
    let trailer = file.trailer().clone();
    let root = file.root().unwrap();
    let size = next_number(&file).unwrap();
    let mut update = Increment::start(pdf, &file);
    let mut highest = size;
    for (number, object) in objects {
        match object {
            Ok(object) => update.object(*number, object),
            Err(bytes) => update.stream(*number, bytes),
        }
        highest = highest.max(number + 1);
    }
    update.finish(&trailer, root, highest)
}

fn catalog_of(pdf: &[u8]) -> ((u32, u16), Dict) {
    let file = PdfFile::parse(pdf).unwrap();
    let root = file.root().unwrap();
    (root, file.dict(&Object::Ref(root.0, root.1)).unwrap())
}

#[test]
fn validation_data_added_as_sello_writes_it_keeps_the_document_valid() {
    let signed = signed();
    let pdf = with_dss(&signed);
    assert!(pdf.starts_with(&signed.pdf), "an incremental update");
    let report = check(&pdf, &signed.trusted);
    assert!(report.is_valid(), "{report:?}");
    assert!(report.validation_data);
    // A second update extends the store; nothing new adds nothing.
    let mut more = ValidationData::default();
    more.add_certificate(signed.key.certificate_der.clone());
    assert!(add_validation_data(&pdf, &more).unwrap().is_none());
    let (_, catalog) = catalog_of(&pdf);
    let dss_number = catalog.reference("DSS").unwrap().0;
    let other = OfficeKey::generate(&signed._dir.path().join("o"), "Otra", KeyAlgorithm::P256).unwrap();
    more.add_certificate(other.certificate_der.clone());
    let extended = add_validation_data(&pdf, &more)
        .unwrap()
        .expect("one more certificate");
    let (_, catalog) = catalog_of(&extended);
    assert_eq!(
        catalog.reference("DSS").unwrap().0,
        dss_number,
        "the same DSS, rewritten"
    );
    assert!(check(&extended, &signed.trusted).is_valid());
    let stored = crate::pdf::stored_validation_data(&extended).unwrap();
    assert_eq!(
        stored.certificates,
        vec![signed.key.certificate_der.clone(), other.certificate_der]
    );
}

#[test]
fn a_dss_revision_that_changes_anything_else_is_refused() {
    let signed = signed();
    let pdf = with_dss(&signed);
    let (root, catalog) = catalog_of(&pdf);
    let file = PdfFile::parse(&pdf).unwrap();
    let dss_ref = catalog.reference("DSS").unwrap();
    let dss = file.dict(&Object::Ref(dss_ref.0, dss_ref.1)).unwrap();
    let size = next_number(&file).unwrap();
    let refused = |smuggled: Vec<u8>, what: &str| {
        let report = check(&smuggled, &signed.trusted);
        assert!(
            report.modification.is_some() && !report.is_valid(),
            "{what}: {report:?}"
        );
    };

    // The catalog gains something besides /DSS.
    let mut opened = catalog.clone();
    opened.set(
        "OpenAction",
        Object::Array(vec![Object::Ref(3, 0), Object::name_of("Fit")]),
    );
    refused(append(&pdf, &[(root.0, Ok(Object::Dict(opened)))]), "catalog");

    // The page changes alongside a new certificate.
    let mut page = file.dict(&Object::Ref(3, 0)).unwrap();
    page.set("Rotate", Object::int_of(90));
    let mut grown = dss.clone();
    let mut certs = grown.get("Certs").and_then(Object::as_array).unwrap().to_vec();
    certs.push(Object::Ref(size, 0));
    grown.set("Certs", Object::Array(certs.clone()));
    refused(
        append(
            &pdf,
            &[
                (size, Err(signed.key.certificate_der.clone())),
                (dss_ref.0, Ok(Object::Dict(grown.clone()))),
                (3, Ok(Object::Dict(page))),
            ],
        ),
        "page",
    );

    // A "certificate" stream that is something else.
    refused(
        append(
            &pdf,
            &[
                (size, Err(b"BT /F1 12 Tf (otro texto) Tj ET".to_vec())),
                (dss_ref.0, Ok(Object::Dict(grown.clone()))),
            ],
        ),
        "not a certificate",
    );

    // The DSS lists the page's content stream.
    let mut pointing = dss.clone();
    let mut listed = dss.get("Certs").and_then(Object::as_array).unwrap().to_vec();
    listed.push(Object::Ref(4, 0));
    pointing.set("Certs", Object::Array(listed));
    refused(
        append(&pdf, &[(dss_ref.0, Ok(Object::Dict(pointing)))]),
        "existing object",
    );

    // Earlier validation data dropped.
    let mut emptied = dss.clone();
    emptied.set("Certs", Object::Array(vec![Object::Ref(size, 0)]));
    refused(
        append(
            &pdf,
            &[
                (size, Err(signed.key.certificate_der.clone())),
                (dss_ref.0, Ok(Object::Dict(emptied))),
            ],
        ),
        "dropped",
    );

    // An entry Sello does not write in the DSS.
    let mut with_vri = dss.clone();
    with_vri.set("OCSPs", Object::Array(Vec::new()));
    refused(
        append(&pdf, &[(dss_ref.0, Ok(Object::Dict(with_vri)))]),
        "unknown key",
    );

    // The same certificate stream, once more, is accepted: it only adds.
    let accepted = append(
        &pdf,
        &[
            (size, Err(signed.key.certificate_der.clone())),
            (dss_ref.0, Ok(Object::Dict(grown))),
        ],
    );
    assert!(check(&accepted, &signed.trusted).is_valid());
}

fn fake_stamp(_: &[u8]) -> Result<TimeStamp, String> {
    Ok(TimeStamp {
        token: vec![0x30, 0x03, 0x02, 0x01, 0x05],
        time: Utc::now(),
        tsa: "TSA de prueba".into(),
    })
}

#[test]
fn a_document_timestamp_revision_is_accepted_exactly_and_its_token_checked() {
    let signed = signed();
    let (pdf, _) = add_with(&signed.pdf, fake_stamp).unwrap();
    assert!(pdf.starts_with(&signed.pdf));
    let report = check(&pdf, &signed.trusted);
    // The revision is Sello's; the token is no time-stamp of these bytes.
    assert_eq!(report.modification, None, "{report:?}");
    assert_eq!(report.document_timestamps.len(), 1);
    assert!(!report.document_timestamps[0].valid);
    assert!(!report.is_valid());

    // A time-stamp revision that also changes the catalog is refused.
    let file = PdfFile::parse(&pdf).unwrap();
    let (root, catalog) = catalog_of(&pdf);
    let stamp_number = next_number(&PdfFile::parse(&signed.pdf).unwrap()).unwrap();
    let stamp = file.dict(&Object::Ref(stamp_number, 0)).unwrap();
    assert_eq!(stamp.name("Type"), Some(&b"DocTimeStamp"[..]));
    let size = next_number(&file).unwrap();
    let mut opened = catalog.clone();
    opened.set(
        "OpenAction",
        Object::Array(vec![Object::Ref(3, 0), Object::name_of("Fit")]),
    );
    let mut second = stamp.clone();
    second.remove("ByteRange");
    second.remove("Contents");
    let smuggled = append(
        &pdf,
        &[
            (size, Ok(Object::Dict(second))),
            (root.0, Ok(Object::Dict(opened))),
        ],
    );
    let report = check(&smuggled, &signed.trusted);
    assert!(report.modification.is_some(), "{report:?}");

    // Nor one that also puts something on a page.
    let mut page = file.dict(&Object::Ref(3, 0)).unwrap();
    page.set("Annots", Object::Array(vec![Object::Ref(size + 1, 0)]));
    let mut link = Dict::default();
    link.set("Type", Object::name_of("Annot"));
    link.set("Subtype", Object::name_of("Link"));
    link.set("Rect", Object::Array(vec![Object::int_of(0); 4]));
    let mut third = stamp.clone();
    third.remove("ByteRange");
    third.remove("Contents");
    let smuggled = append(
        &pdf,
        &[
            (size, Ok(Object::Dict(third))),
            (size + 1, Ok(Object::Dict(link))),
            (3, Ok(Object::Dict(page))),
        ],
    );
    let report = check(&smuggled, &signed.trusted);
    assert!(report.modification.is_some(), "{report:?}");
}
