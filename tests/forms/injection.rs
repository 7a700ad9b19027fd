//! User data is data: whatever a person types prints literally and can
//! never run as Typst code or read a file.

use serde_json::json;

use crate::helpers::{example, pdf_text, render, squash};

const HOSTILE: [(&str, &str); 5] = [
    ("evento", "#read(\"/etc/passwd\")"),
    ("lugar_evento", "#eval(\"1+1\") y #import \"/etc/hostname\": *"),
    (
        "objeto",
        "Barra \\ invertida, \\\\doble, \"comillas\" y 'simples', ] [ } { ) ( 😀🇲🇽",
    ),
    ("vehiculo", "*Juan* _x_ $y$ <l> @r ] ["),
    (
        "lugar_expedicion",
        "#set page(width: 1cm) = Título // comentario /* y */",
    ),
];

#[test]
fn markup_and_code_in_user_data_print_literally() {
    let mut data = example("oficio-comision");
    for (field, value) in HOSTILE {
        data[field] = json!(value);
    }
    data["comisionados"][0]["nombre"] = json!("*Juan* _x_ $y$ <l> @r ] [");
    let text = pdf_text(&render("oficio-comision", &data));
    for (field, value) in HOSTILE {
        assert!(
            text.contains(&squash(value)),
            "{field}: «{value}» not printed literally:\n{text}"
        );
    }
    assert!(text.contains("C. *Juan* _x_ $y$ <l> @r ] ["), "{text}");
    assert!(
        !text.contains("root:"),
        "the contents of /etc/passwd reached the PDF"
    );
}

#[test]
fn hostile_data_changes_nothing_but_the_text() {
    // The layout instructions in the data must not apply: a page 1 cm wide
    // would push the oficio to dozens of pages.
    let mut data = example("oficio-comision");
    data["lugar_expedicion"] = json!("#set page(width: 1cm)");
    let pages = crate::helpers::page_count(&render("oficio-comision", &data));
    assert!(pages <= 2, "hostile data changed the layout: {pages} pages");
}
