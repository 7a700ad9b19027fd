//! A long value typed in one piece (a URL, an e-mail, a folio) wraps
//! inside its cell or margin on every form, and prints as it is stored.

use serde_json::{Value, json};

use crate::helpers::{CATALOG, example, pdf_text, render, word_boxes};
use sello::forms::FieldSpec;
use sello::forms::FieldType;

/// Sixty characters without a space, in wide capitals, after a folio's
/// «DIF/»: nowhere a line may break on its own but after the slash.
const LONG: &str = "DIF/MARIA.GUADALUPE.HERNANDEZ.LOREDO@SOLEDADDEGRACIANOSANCHEZ.GOB.MX";

/// The page's side margins, as `documento()` sets them (2.4 cm, or 1.8 cm
/// in landscape), in points.
fn side_margin(width: f64, height: f64) -> f64 {
    let cm = if width > height { 1.8 } else { 2.4 };
    cm / 2.54 * 72.0
}

/// `LONG`, cut to what the field admits (60 characters at most).
fn long_for(max_length: usize, min_length: Option<usize>) -> String {
    let n = max_length.min(60);
    assert!(min_length.unwrap_or(0) <= n, "min_length above 60");
    LONG.chars().take(n).collect()
}

/// Puts a long unbroken value in every text field of `fields` within
/// `object` (the first row of each table, and each person's name); returns
/// the values put.
fn lengthen(fields: &[FieldSpec], object: &mut Value, put: &mut Vec<String>) {
    for field in fields {
        let slot = &mut object[field.name.as_str()];
        match &field.kind {
            FieldType::Text {
                min_length,
                max_length,
            } => {
                let value = long_for(*max_length, *min_length);
                *slot = json!(value);
                put.push(value);
            }
            FieldType::LongText { max_length, .. } if slot.is_string() => {
                let value = long_for(*max_length, None);
                let text = format!("Véase {value} para el detalle.");
                if text.chars().count() <= *max_length {
                    *slot = json!(text);
                    put.push(value);
                }
            }
            FieldType::Person { .. } if slot.is_object() => {
                let value = long_for(200, None);
                slot["nombre"] = json!(value);
                put.push(value);
            }
            FieldType::List { columns, .. } => {
                if let Some(row) = slot.get_mut(0) {
                    lengthen(columns, row, put);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn a_sixty_character_word_in_every_text_field_stays_inside_the_page() {
    for form in CATALOG.iter() {
        let id = form.id.as_str();
        let mut data = example(id);
        let mut put = Vec::new();
        lengthen(&form.fields, &mut data, &mut put);
        assert!(!put.is_empty(), "{id}: no text field lengthened");
        let pdf = render(id, &data);
        for page in word_boxes(&pdf) {
            // Typst lets a final comma or period hang a little into the
            // margin, as typesetters do; a word that does not wrap runs far past.
            let limit = page.width - side_margin(page.width, page.height) + 4.0;
            for word in &page.words {
                assert!(
                    word.x_max <= limit && word.x_min >= 0.0,
                    "{id}: «{}» runs from {:.1} to {:.1} pt, past the right margin at {limit:.1} pt",
                    word.text,
                    word.x_min,
                    word.x_max
                );
            }
        }
        // Broken across lines, not changed: every character is printed.
        let printed: String = pdf_text(&pdf).split_whitespace().collect();
        for value in put.iter().filter(|v| v.chars().count() >= 24) {
            assert!(
                printed.contains(value.as_str()),
                "{id}: «{value}» is not printed as stored"
            );
        }
    }
}
