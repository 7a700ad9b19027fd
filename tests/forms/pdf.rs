//! Properties of the PDF itself: reproducible, PDF/A-3b, data attached.

use serde_json::json;

use crate::helpers::{RENDERER, attachment, example, form, render};
use sello::render::DocumentContext;

#[test]
fn the_same_data_and_issue_time_give_the_same_bytes() {
    let data = example("informe-final");
    let first = render("informe-final", &data);
    // Something else in between, so nothing depends on what rendered last.
    render("oficio-comision", &example("oficio-comision"));
    let second = render("informe-final", &data);
    assert!(first == second, "two renders of the same document differ");
}

#[test]
fn a_different_issue_time_gives_a_different_pdf() {
    let data = example("oficio-comision");
    let form = form("oficio-comision");
    let later = crate::helpers::issue_time() + chrono::Duration::days(1);
    let a = render("oficio-comision", &data);
    let b = RENDERER
        .render(form, &data, &DocumentContext::draft(later))
        .expect("renders")
        .pdf;
    assert_ne!(a, b);
}

#[test]
fn the_pdf_declares_pdf_a_3b() {
    let pdf = render("lista-asistencia", &example("lista-asistencia"));
    let text = String::from_utf8_lossy(&pdf);
    let part_3 = text.contains("<pdfaid:part>3</pdfaid:part>") || text.contains("pdfaid:part=\"3\"");
    let level_b = text.contains("<pdfaid:conformance>B</pdfaid:conformance>")
        || text.contains("pdfaid:conformance=\"B\"");
    assert!(
        part_3 && level_b,
        "no PDF/A-3b identification in the XMP metadata"
    );
}

#[test]
fn the_document_data_is_attached_as_json() {
    let mut data = example("oficio-comision");
    data["evento"] = json!("Reunión de seguimiento «Mesa 4»");
    let pdf = render("oficio-comision", &data);
    let attached = attachment(&pdf, "data.json").expect("a data.json attachment");
    let attached: serde_json::Value = serde_json::from_slice(&attached).expect("attachment is JSON");
    assert_eq!(attached, data);
}
