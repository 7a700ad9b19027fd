//! The office letterhead: institution, office, address and logo from the
//! configuration, on every page.

use crate::helpers::{TINY_PNG, example, image_count, pdf_text, render_draft_with};

#[test]
fn the_configured_office_heads_every_page() {
    let settings = [
        ("SELLO_INSTITUTION", "Ilustre Municipalidad de La Pintana"),
        ("SELLO_OFFICE_NAME", "Dirección de Desarrollo Comunitario"),
        ("SELLO_ADDRESS", "Av. Santa Rosa 12975, La Pintana"),
        ("SELLO_TIME_ZONE", "America/Santiago"),
    ];
    let pdf = render_draft_with(
        &settings,
        "carta-compromiso",
        &example("carta-compromiso"),
        Vec::new(),
    );
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
    std::fs::write(&logo, TINY_PNG).expect("write logo");
    let data = example("informe-final");
    let without = render_draft_with(&[], "informe-final", &data, Vec::new());
    let with = render_draft_with(
        &[("SELLO_LOGO", logo.to_str().expect("utf-8"))],
        "informe-final",
        &data,
        Vec::new(),
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
    let with = render_draft_with(
        &[("SELLO_LOGO", logo.to_str().expect("utf-8"))],
        "oficio-comision",
        &data,
        Vec::new(),
    );
    assert_ne!(with, render_draft_with(&[], "oficio-comision", &data, Vec::new()));
}
