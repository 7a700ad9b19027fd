//! Every form's example renders, and the PDF says everything it must.

use crate::helpers::{CATALOG, example, pdf_text, qpdf_check, render, required_values, squash};

#[test]
fn the_first_five_forms_are_in_the_catalog() {
    for id in [
        "oficio-comision",
        "carta-compromiso",
        "lista-asistencia",
        "padron-beneficiarios",
        "informe-final",
    ] {
        assert!(CATALOG.get(id).is_some(), "{id} is missing");
    }
}

#[test]
fn every_example_renders_with_every_required_value_in_its_text() {
    for form in CATALOG.iter() {
        let data = example(form.id.as_str());
        let text = pdf_text(&render(form.id.as_str(), &data));
        let values = required_values(&form.fields, &data);
        assert!(
            !values.is_empty(),
            "{}: the example fills no required field",
            form.id
        );
        // A field the account that takes a step fills is not shown typed
        // in the preview: the block shows where the account's name goes.
        let filled_by_an_account = |path: &str| {
            form.fields
                .iter()
                .any(|f| f.name == path && f.filled_by.is_some())
        };
        for (path, alternatives) in values {
            if filled_by_an_account(&path) {
                continue;
            }
            assert!(
                alternatives.iter().any(|v| text.contains(&squash(v))),
                "{}: {path} = {alternatives:?} is not in the PDF text:\n{text}",
                form.id
            );
        }
    }
}

#[test]
fn every_draft_says_so_on_every_page() {
    for form in CATALOG.iter() {
        let pdf = render(form.id.as_str(), &example(form.id.as_str()));
        let pages = crate::helpers::page_count(&pdf);
        let text = pdf_text(&pdf);
        assert_eq!(
            text.matches("BORRADOR — sin validez oficial").count(),
            pages,
            "{}: draft notice count differs from {pages} pages",
            form.id
        );
        for page in 1..=pages {
            assert!(
                text.contains(&format!("Página {page} de {pages}")),
                "{}: page {page}",
                form.id
            );
        }
    }
}

#[test]
fn every_example_passes_qpdf_check() {
    for form in CATALOG.iter() {
        let pdf = render(form.id.as_str(), &example(form.id.as_str()));
        if let Err(complaint) = qpdf_check(&pdf) {
            panic!("{}: qpdf --check failed:\n{complaint}", form.id);
        }
    }
}

#[test]
fn the_letterhead_and_the_long_spanish_date_are_printed() {
    let text = pdf_text(&render("oficio-comision", &example("oficio-comision")));
    assert!(
        text.contains("Sistema para el Desarrollo Integral de la Familia"),
        "{text}"
    );
    // Issued on 2026-11-22 (see helpers::issue_time).
    assert!(text.contains("a 22 de noviembre de 2026."), "{text}");
    assert!(text.contains("Oficio núm.: se asigna al emitir"), "{text}");
}

#[test]
fn the_carta_compromiso_comes_in_two_copies() {
    let text = pdf_text(&render("carta-compromiso", &example("carta-compromiso")));
    assert!(text.contains("Ejemplar para la familia"), "{text}");
    assert!(text.contains("Ejemplar para la carpeta familiar"), "{text}");
}
