//! Long tables: the header repeats on every page and no row is split.

use serde_json::{Value, json};

use crate::helpers::{example, page_count, page_text, render, structure_types};

fn padron(rows: usize) -> Value {
    let mut data = example("padron-beneficiarios");
    data["beneficiarios"] = (1..=rows)
        .map(|i| {
            json!({
                "nombre": format!("Beneficiaria Número {i} Hernández"),
                // Long enough to wrap, so a split row would show.
                "domicilio": format!("Calle Prolongación Ignacio Zaragoza número {i}, interior B, entre Calle Miguel Hidalgo y Costilla y Calle José María Morelos y Pavón, a espaldas del mercado municipal y frente a la cancha de usos múltiples, Colonia Centro Histórico, Localidad {i}"),
                "servicio": "Despensa",
                "fecha": "2026-05-04",
            })
        })
        .collect();
    data
}

#[test]
fn a_long_padron_repeats_its_header_and_never_splits_a_row() {
    let rows = 120;
    let pdf = render("padron-beneficiarios", &padron(rows));
    let pages = page_count(&pdf);
    assert!(pages >= 3, "expected several pages, got {pages}");
    let texts: Vec<String> = (1..=pages).map(|p| page_text(&pdf, p)).collect();
    for (i, text) in texts.iter().enumerate() {
        assert!(
            text.contains("No. Nombre CURP Domicilio Servicio Fecha"),
            "page {} has no header:\n{text}",
            i + 1
        );
    }
    for i in 1..=rows {
        let name = format!("Beneficiaria Número {i} Hernández");
        let page = texts
            .iter()
            .position(|t| t.contains(&name))
            .unwrap_or_else(|| panic!("row {i} is on no page"));
        assert!(
            texts[page].contains(&format!("Calle Prolongación Ignacio Zaragoza número {i}, interior B, entre Calle Miguel Hidalgo y Costilla y Calle José María Morelos y Pavón, a espaldas del mercado municipal y frente a la cancha de usos múltiples, Colonia Centro Histórico, Localidad {i}")),
            "row {i} is split across pages"
        );
    }
}

#[test]
fn a_padron_is_a_table_to_a_screen_reader() {
    // Striped like a grid, tagged as a table: its header cells head each
    // column. Drawn with a grid it was tagged as loose divisions, which
    // PDF/UA's checks let pass.
    for id in ["padron-programa", "padron-lote", "padron-beneficiarios"] {
        let kinds = structure_types(&render(id, &example(id)));
        for kind in ["Table", "TR", "TH", "TD"] {
            assert!(kinds.contains(kind), "{id}: no {kind} in {kinds:?}");
        }
    }
}

/// The hand-typed list says what it is: captured by the office, not the
/// padrón Sello integrates from its archive, with a cut-off date its
/// typist declared.
#[test]
fn the_typed_list_of_beneficiaries_says_it_was_captured_by_the_office() {
    let text = crate::helpers::pdf_text(&render("padron-beneficiarios", &example("padron-beneficiarios")));
    assert!(text.contains("RELACIÓN DE BENEFICIARIOS"), "{text}");
    assert!(text.contains("Capturada por la oficina"), "{text}");
    assert!(
        text.contains("Sello no la integró de los documentos de su archivo"),
        "{text}"
    );
    assert!(text.contains("Corte declarado"), "{text}");
    assert!(!text.to_lowercase().contains("padrón de beneficiarios"), "{text}");
}
