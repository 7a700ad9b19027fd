//! The office letterhead: institution, office, address and logo from the
//! configuration, on every page.

use std::process::Command;

use chrono::TimeZone;
use serde_json::Value;

use crate::helpers::{example, form, forms_dir, pdf_text};
use sello::config::Config;
use sello::render::{DocumentContext, Renderer};

/// A 1×1 RGB PNG, the smallest logo there is.
const PNG: [u8; 69] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xDE, 0x00,
    0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x90, 0xD7, 0x72, 0x01, 0x00, 0x00, 0xF9,
    0x00, 0x8E, 0x47, 0xD4, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
    0x82,
];

fn render_with(settings: &[(&str, &str)], id: &str, data: &Value) -> Vec<u8> {
    let mut env = vec![("SELLO_FORMS_DIR".to_owned(), forms_dir().display().to_string())];
    env.extend(settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = Config::from_sources(None, env).expect("valid settings");
    let at = config
        .time_zone
        .with_ymd_and_hms(2026, 3, 9, 9, 0, 0)
        .single()
        .expect("time");
    Renderer::new(&config)
        .expect("renderer")
        .render(form(id), data, &DocumentContext::draft(at))
        .expect("renders")
        .pdf
}

fn image_count(pdf: &[u8]) -> usize {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().expect("temp");
    std::fs::write(file.path(), pdf).expect("write");
    let output = Command::new("pdfimages")
        .arg("-list")
        .arg(file.path())
        .output()
        .expect("pdfimages (poppler) runs");
    // Two header lines, then one line per image.
    String::from_utf8_lossy(&output.stdout).lines().skip(2).count()
}

#[test]
fn the_configured_office_heads_every_page() {
    let settings = [
        ("SELLO_INSTITUTION", "Ilustre Municipalidad de La Pintana"),
        ("SELLO_OFFICE_NAME", "Dirección de Desarrollo Comunitario"),
        ("SELLO_ADDRESS", "Av. Santa Rosa 12975, La Pintana"),
        ("SELLO_TIME_ZONE", "America/Santiago"),
    ];
    let pdf = render_with(&settings, "carta-compromiso", &example("carta-compromiso"));
    let text = pdf_text(&pdf);
    for (_, value) in settings.iter().take(3) {
        assert_eq!(
            text.matches(value).count(),
            crate::helpers::page_count(&pdf),
            "«{value}» not on every page"
        );
    }
}

#[test]
fn a_png_logo_is_placed_in_the_letterhead() {
    let dir = tempfile::tempdir().expect("temp");
    let logo = dir.path().join("escudo.png");
    std::fs::write(&logo, PNG).expect("write logo");
    let data = example("informe-final");
    let without = render_with(&[], "informe-final", &data);
    let with = render_with(
        &[("SELLO_LOGO", logo.to_str().expect("utf-8"))],
        "informe-final",
        &data,
    );
    assert_eq!(image_count(&without), 0);
    assert!(image_count(&with) >= 1, "no image in the PDF");
}

#[test]
fn an_svg_logo_renders() {
    let dir = tempfile::tempdir().expect("temp");
    let logo = dir.path().join("escudo.svg");
    std::fs::write(&logo, r##"<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80"><circle cx="40" cy="40" r="36" fill="#1f2a44"/></svg>"##).expect("write");
    let data = example("oficio-comision");
    let with = render_with(
        &[("SELLO_LOGO", logo.to_str().expect("utf-8"))],
        "oficio-comision",
        &data,
    );
    assert_ne!(with, render_with(&[], "oficio-comision", &data));
}
