//! Hostile files end in bounded time with an error or "not valid", never a
//! panic: cyclic /Prev chains, deep nesting, huge lengths, thousands of
//! revisions, truncation.

use std::time::{Duration, Instant};

use crate::helpers::{assert_not_valid, issued_oficio};
use sello::keys::TrustedKeys;

/// A minimal PDF whose one object is `body`, with a valid xref.
fn tiny_pdf(body: &str, trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let object_at = out.len();
    out.extend_from_slice(format!("1 0 obj\n{body}\nendobj\n").as_bytes());
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 2\n0000000000 65535 f \n{object_at:010} 00000 n \ntrailer\n<</Size 2 /Root 1 0 R{trailer_extra}>>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

fn bounded(what: &str, pdf: &[u8]) {
    let started = Instant::now();
    assert_not_valid(pdf, &TrustedKeys::default(), what);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{what}: took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_cyclic_prev_chain_is_an_error() {
    let pdf = tiny_pdf("<</Type /Catalog>>", "");
    let text = String::from_utf8(pdf).expect("ascii");
    let xref: usize = text
        .rsplit("startxref\n")
        .next()
        .expect("tail")
        .lines()
        .next()
        .expect("n")
        .parse()
        .expect("offset");
    bounded(
        "/Prev to itself",
        tiny_pdf("<</Type /Catalog>>", &format!(" /Prev {xref}")).as_slice(),
    );
    bounded(
        "/Prev forward",
        tiny_pdf("<</Type /Catalog>>", " /Prev 999999").as_slice(),
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep_array = format!("{}1{}", "[".repeat(200_000), "]".repeat(200_000));
    bounded("deep arrays", &tiny_pdf(&deep_array, ""));
    let deep_dict = format!("{}1{}", "<</A ".repeat(100_000), ">>".repeat(100_000));
    bounded("deep dictionaries", &tiny_pdf(&deep_dict, ""));
}

#[test]
fn a_huge_length_is_never_trusted() {
    bounded(
        "huge /Length",
        &tiny_pdf(
            "<</Length 99999999999999 /Type /Catalog>>\nstream\nx\nendstream",
            "",
        ),
    );
}

#[test]
fn thousands_of_revisions_end_in_bounded_time() {
    let mut pdf = tiny_pdf("<</Type /Catalog>>", "");
    let mut prev = String::from_utf8_lossy(&pdf)
        .rsplit("startxref\n")
        .next()
        .expect("t")
        .lines()
        .next()
        .expect("n")
        .parse::<usize>()
        .expect("o");
    for _ in 0..3_000 {
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 0\ntrailer\n<</Size 2 /Root 1 0 R /Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        prev = xref;
    }
    bounded("3,000 revisions", &pdf);
}

#[test]
fn huge_xref_counts_are_refused() {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 4000000000\ntrailer\n<</Size 2>>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    bounded("xref claiming four billion objects", &pdf);
}

#[test]
fn truncated_and_garbled_signed_files_never_panic() {
    let (key, pdf) = issued_oficio();
    for cut in [
        10,
        100,
        pdf.len() / 3,
        pdf.len() / 2,
        pdf.len() - 2000,
        pdf.len() - 30,
        pdf.len() - 1,
    ] {
        assert_not_valid(&pdf[..cut], &key.trusted(), &format!("truncated at {cut}"));
    }
    let mut garbled = pdf.clone();
    let tail = garbled.len() - 400;
    garbled[tail..].iter_mut().for_each(|b| *b = b'[');
    assert_not_valid(&garbled, &key.trusted(), "garbled trailer");
    assert!(sello::pdf::verify_pdf(b"GIF89a not a pdf", &key.trusted()).is_err());
    assert!(sello::pdf::verify_pdf(b"", &key.trusted()).is_err());
}
