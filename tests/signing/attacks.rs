//! The known attacks on PDF signatures. None may ever be reported valid.

use sello::keys::{KeyAlgorithm, KeyStatus, TrustedKeys};
use sello::pdf::{Object, PdfFile, SignatureRequest, sign_pdf};

use crate::helpers::{TestKey, append_update, assert_not_valid, find, issue_time, issued_oficio, verify};

#[test]
fn an_intact_issued_document_is_valid() {
    let (key, pdf) = issued_oficio();
    let report = verify(&pdf, &key.trusted());
    assert!(report.is_valid(), "{report:?}");
    assert!(report.signatures[0].covers_whole_file);
}

#[test]
fn any_byte_changed_inside_the_signed_ranges_is_caught() {
    let (key, pdf) = issued_oficio();
    let trusted = key.trusted();
    // Every 97th byte, plus the first and last ones: header, fonts, content,
    // the signature dictionary, the trailer.
    let positions = (0..pdf.len())
        .step_by(97)
        .chain([0, pdf.len() - 1, pdf.len() - 10]);
    for position in positions {
        let mut tampered = pdf.clone();
        tampered[position] ^= 0x01;
        assert_not_valid(&tampered, &trusted, &format!("bit flipped at byte {position}"));
    }
}

#[test]
fn bytes_appended_after_the_signature_are_reported() {
    let (key, pdf) = issued_oficio();
    for tail in [&b"\n% trailing comment\n"[..], b" ", b"%%EOF\n"] {
        let mut appended = pdf.clone();
        appended.extend_from_slice(tail);
        let report = verify(&appended, &key.trusted());
        assert!(!report.is_valid(), "{tail:?} appended: reported valid");
        assert!(report.modification.is_some() || report.signatures.iter().any(|s| !s.covers_whole_file));
    }
}

/// Rewrites the /ByteRange array in place (same width, space padded).
fn with_byte_range(pdf: &[u8], range: &str) -> Vec<u8> {
    let at = find(pdf, b"/ByteRange ") + b"/ByteRange ".len();
    let width = pdf[at..].iter().position(|b| *b == b'/').expect("next key");
    assert!(range.len() <= width, "replacement too long");
    let mut out = pdf.to_vec();
    let padded = format!("{range:<width$}");
    out[at..at + width].copy_from_slice(padded.as_bytes());
    out
}

fn byte_range(pdf: &[u8]) -> [i64; 4] {
    let at = find(pdf, b"/ByteRange [") + b"/ByteRange [".len();
    let end = at + pdf[at..].iter().position(|b| *b == b']').expect("]");
    let numbers: Vec<i64> = std::str::from_utf8(&pdf[at..end])
        .expect("ascii")
        .split_whitespace()
        .map(|n| n.parse().expect("int"))
        .collect();
    [numbers[0], numbers[1], numbers[2], numbers[3]]
}

#[test]
fn a_byte_range_that_does_not_cover_exactly_everything_but_contents_is_refused() {
    let (key, pdf) = issued_oficio();
    let trusted = key.trusted();
    let [_, a, b, c] = byte_range(&pdf);
    let cases = [
        ("does not start at 0", format!("[1 {} {b} {c}]", a - 1)),
        ("does not reach the end", format!("[0 {a} {b} {}]", c - 10)),
        ("reaches past the end", format!("[0 {a} {b} {}]", c + 10)),
        (
            "overlapping ranges",
            format!("[0 {a} {} {}]", a - 20, c + b - a + 20),
        ),
        ("gap wider than /Contents", format!("[0 {} {b} {c}]", a - 3)),
        ("gap narrower than /Contents", format!("[0 {} {b} {c}]", a + 2)),
        (
            "gap ends inside /Contents",
            format!("[0 {a} {} {}]", b - 2, c + 2),
        ),
        ("three numbers", format!("[0 {a} {b}]")),
        ("negative length", format!("[0 {a} {b} -{c}]")),
    ];
    for (what, range) in cases {
        assert_not_valid(&with_byte_range(&pdf, &range), &trusted, what);
    }
}

#[test]
fn a_missing_empty_or_malformed_contents_or_byte_range_is_refused() {
    let (key, pdf) = issued_oficio();
    let trusted = key.trusted();
    let rename = |from: &[u8], to: &[u8]| {
        let mut out = pdf.clone();
        let at = find(&out, from);
        out[at..at + to.len()].copy_from_slice(to);
        out
    };
    assert_not_valid(
        &rename(b"/Contents <", b"/Contentz <"),
        &trusted,
        "missing /Contents",
    );
    assert_not_valid(
        &rename(b"/ByteRange [", b"/ByteRangX ["),
        &trusted,
        "missing /ByteRange",
    );
    assert_not_valid(
        &rename(b"/ByteRange [", b"/ByteRange ("),
        &trusted,
        "/ByteRange not an array",
    );

    let [_, a, b, _] = byte_range(&pdf);
    let (a, b) = (a as usize, b as usize);
    let mut empty = pdf.clone();
    empty[a + 1..b - 1].fill(b'0');
    assert_not_valid(&empty, &trusted, "/Contents all zeros");
    let mut not_hex = pdf.clone();
    not_hex[a + 1..a + 3].copy_from_slice(b"ZZ");
    assert_not_valid(&not_hex, &trusted, "/Contents not hex");
    let mut padding = pdf.clone();
    padding[b - 3] = b'1';
    assert_not_valid(&padding, &trusted, "bytes hidden in the /Contents padding");
}

/// The first page's object number and dictionary text, from the signed file.
fn first_page(pdf: &[u8]) -> (u32, sello::pdf::Dict) {
    let file = PdfFile::parse(pdf).expect("parses");
    let root = file.root().expect("root");
    let catalog = file.dict(&Object::Ref(root.0, root.1)).expect("catalog");
    let (page_ref, page) = file.first_page(&catalog).expect("page");
    (page_ref.0, page)
}

fn text_of(dict: &sello::pdf::Dict) -> String {
    let mut out = Vec::new();
    dict.write(&mut out);
    String::from_utf8(out).expect("ascii")
}

fn next_number(pdf: &[u8]) -> u32 {
    let file = PdfFile::parse(pdf).expect("parses");
    file.trailer().int("Size").expect("size") as u32
}

#[test]
fn an_update_after_the_last_signature_that_adds_an_annotation_is_refused() {
    let (key, pdf) = issued_oficio();
    let (page_number, mut page) = first_page(&pdf);
    let note = next_number(&pdf);
    let mut annots = page
        .get("Annots")
        .and_then(Object::as_array)
        .map(<[Object]>::to_vec)
        .unwrap_or_default();
    annots.push(Object::Ref(note, 0));
    page.set("Annots", Object::Array(annots));
    let attacked = append_update(
        &pdf,
        &[
            (note, "<</Type /Annot /Subtype /FreeText /Rect [100 100 400 150] /Contents (Monto: $99,999.00) /DA (/Helv 12 Tf)>>".into()),
            (page_number, text_of(&page)),
        ],
    );
    let report = verify(&attacked, &key.trusted());
    assert!(!report.is_valid());
    assert!(report.modification.is_some(), "{report:?}");
}

#[test]
fn an_update_after_the_last_signature_that_adds_a_page_is_refused() {
    let (key, pdf) = issued_oficio();
    let file = PdfFile::parse(&pdf).expect("parses");
    let root = file.root().expect("root");
    let catalog = file.dict(&Object::Ref(root.0, root.1)).expect("catalog");
    let pages_ref = catalog.reference("Pages").expect("pages");
    let mut pages = file
        .dict(&Object::Ref(pages_ref.0, pages_ref.1))
        .expect("pages dict");
    let new_page = next_number(&pdf);
    let mut kids = pages
        .get("Kids")
        .and_then(Object::as_array)
        .expect("kids")
        .to_vec();
    kids.push(Object::Ref(new_page, 0));
    pages.set("Kids", Object::Array(kids));
    pages.set("Count", Object::int_of(2));
    let attacked = append_update(
        &pdf,
        &[
            (
                new_page,
                format!(
                    "<</Type /Page /Parent {} 0 R /MediaBox [0 0 612 792]>>",
                    pages_ref.0
                ),
            ),
            (pages_ref.0, text_of(&pages)),
        ],
    );
    assert_not_valid(&attacked, &key.trusted(), "page added after signing");
}

#[test]
fn an_update_that_replaces_an_object_is_refused() {
    let (key, pdf) = issued_oficio();
    let file = PdfFile::parse(&pdf).expect("parses");
    let info = file.trailer().reference("Info").expect("info");
    let attacked = append_update(
        &pdf,
        &[(info.0, "<</Title (Oficio alterado) /Author (Otro)>>".into())],
    );
    let report = verify(&attacked, &key.trusted());
    assert!(!report.is_valid());
    assert!(report.modification.is_some());
}

/// Found by fuzzing the verifier: an update whose trailer names no
/// catalog went unchecked, so whatever it replaced was reported valid.
#[test]
fn an_update_whose_trailer_has_no_readable_root_is_refused() {
    let (key, pdf) = issued_oficio();
    let file = PdfFile::parse(&pdf).expect("parses");
    let info = file.trailer().reference("Info").expect("info");
    let updated = append_update(&pdf, &[(info.0, "<</Title (Oficio alterado)>>".into())]);
    let trailer = find(&updated, b"trailer");
    for root in ["/Boot", "/Root (x) /Root"] {
        let mut attacked = updated[..trailer].to_vec();
        let rest = String::from_utf8_lossy(&updated[trailer..]).replacen("/Root", root, 1);
        attacked.extend_from_slice(rest.as_bytes());
        let report = verify(&attacked, &key.trusted());
        assert!(!report.is_valid(), "{root}: {report:?}");
        assert!(report.modification.is_some(), "{root}: {report:?}");
    }
}

#[test]
fn a_change_hidden_between_two_valid_signatures_is_refused() {
    let (key, pdf) = issued_oficio();
    let file = PdfFile::parse(&pdf).expect("parses");
    let info = file.trailer().reference("Info").expect("info");
    let altered = append_update(&pdf, &[(info.0, "<</Title (Oficio alterado)>>".into())]);
    let director = TestKey::generated(KeyAlgorithm::Ed25519, "Directora");
    let resigned = sign_pdf(
        &altered,
        &SignatureRequest {
            key: &director.key,
            signer: "Directora",
            cargo: "Directora",
            signing_time: issue_time(),
        },
    )
    .expect("signs");
    let mut trusted = key.trusted();
    trusted
        .add(director.key.certificate.clone(), KeyStatus::Active)
        .expect("trust");
    let report = verify(&resigned, &trusted);
    assert!(!report.is_valid(), "{report:?}");
    assert!(report.modification.is_some());
}

#[test]
fn a_second_signature_by_a_known_key_keeps_the_document_valid() {
    let (key, pdf) = issued_oficio();
    let director = TestKey::generated(KeyAlgorithm::P256, "Directora");
    let signed = sign_pdf(
        &pdf,
        &SignatureRequest {
            key: &director.key,
            signer: "Directora",
            cargo: "Directora",
            signing_time: issue_time(),
        },
    )
    .expect("signs");
    assert!(signed.starts_with(&pdf), "the earlier bytes must stay untouched");
    let mut trusted = key.trusted();
    trusted
        .add(director.key.certificate.clone(), KeyStatus::Active)
        .expect("trust");
    let report = verify(&signed, &trusted);
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(report.signatures.len(), 2);
    assert!(!report.signatures[0].covers_whole_file && report.signatures[1].covers_whole_file);
}

#[test]
fn a_signature_from_an_unknown_key_is_refused() {
    let (_, pdf) = issued_oficio();
    let stranger = TestKey::generated(KeyAlgorithm::Ed25519, "Otra oficina");
    let report = verify(&pdf, &stranger.trusted());
    assert!(!report.is_valid());
    assert!(
        report.signatures[0]
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("no es una clave conocida")
    );
    assert!(!verify(&pdf, &TrustedKeys::default()).is_valid());
}

#[test]
fn a_retired_key_vouches_only_for_what_it_signed_before_retirement() {
    let (key, pdf) = issued_oficio(); // signed now, whatever its issue date
    let retired = |since| {
        let mut trusted = TrustedKeys::default();
        trusted
            .add(key.key.certificate.clone(), KeyStatus::Retired { since })
            .expect("trust");
        trusted
    };
    let after = chrono::Utc::now() + chrono::Duration::days(1);
    let before = chrono::Utc::now() - chrono::Duration::days(1);
    assert!(
        verify(&pdf, &retired(after)).is_valid(),
        "signed before retirement"
    );
    let report = verify(&pdf, &retired(before));
    assert!(!report.is_valid());
    assert!(
        report.signatures[0]
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("retirada")
    );
}

#[test]
fn no_hex_digit_of_the_signature_can_change_unnoticed() {
    let (key, pdf) = issued_oficio();
    let trusted = key.trusted();
    let [_, a, b, _] = byte_range(&pdf);
    let hex = &pdf[a as usize + 1..b as usize - 1];
    let used = hex.len() - hex.iter().rev().take_while(|c| **c == b'0').count();
    for position in a as usize + 1..a as usize + 1 + used + 4 {
        let mut tampered = pdf.clone();
        tampered[position] = if tampered[position] == b'7' { b'E' } else { b'7' };
        assert_not_valid(
            &tampered,
            &trusted,
            &format!("hex digit {} of the CMS", position - a as usize - 1),
        );
    }
}
