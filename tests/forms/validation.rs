//! Invalid data is refused before rendering, every problem at once, each
//! with the path of its field and a Spanish message.

use serde_json::{Value, json};

use crate::helpers::{CATALOG, example, form, issue_day};
use sello::forms::{Catalog, Problems, validate};

fn problems(id: &str, data: &Value) -> Problems {
    validate(form(id), data, issue_day()).expect_err("the data should be refused")
}

fn with(id: &str, path: &[&str], value: Value) -> Value {
    let mut data = example(id);
    let mut slot = &mut data;
    for key in path {
        slot = match key.parse::<usize>() {
            Ok(index) => &mut slot[index],
            Err(_) => &mut slot[*key],
        };
    }
    *slot = value;
    data
}

fn assert_refused(id: &str, path: &[&str], value: Value, expected_path: &str, words: &str) {
    let found = problems(id, &with(id, path, value.clone()));
    let problem = found
        .0
        .iter()
        .find(|p| p.path == expected_path)
        .unwrap_or_else(|| panic!("{id}: {value} at {path:?} not reported at {expected_path}: {found:?}"));
    assert!(
        problem.message.contains(words),
        "message «{}» lacks «{words}»",
        problem.message
    );
}

#[test]
fn every_example_is_valid() {
    for form in CATALOG.iter() {
        if let Err(problems) = validate(form, &example(form.id.as_str()), issue_day()) {
            panic!("{}: {problems}", form.id);
        }
    }
}

#[test]
fn removing_each_required_field_is_refused_by_name() {
    for form in CATALOG.iter() {
        for field in form.fields.iter().filter(|f| f.required) {
            let mut data = example(form.id.as_str());
            data.as_object_mut().expect("object").remove(&field.name);
            let found = validate(form, &data, issue_day()).expect_err("refused");
            let problem =
                found.0.iter().find(|p| p.path == field.name).unwrap_or_else(|| {
                    panic!("{}: removing {} not reported: {found:?}", form.id, field.name)
                });
            assert!(problem.message.contains(&field.label), "{}", problem.message);
            assert!(problem.message.contains("obligatorio"), "{}", problem.message);
        }
    }
}

#[test]
fn text_must_be_a_single_line_of_text_within_its_length() {
    assert_refused(
        "oficio-comision",
        &["evento"],
        json!(42),
        "evento",
        "debe ser texto",
    );
    assert_refused(
        "oficio-comision",
        &["evento"],
        json!("a\nb"),
        "evento",
        "una sola línea",
    );
    assert_refused(
        "oficio-comision",
        &["evento"],
        json!("x".repeat(251)),
        "evento",
        "hasta 250 caracteres",
    );
    assert_refused(
        "oficio-comision",
        &["evento"],
        json!("   "),
        "evento",
        "obligatorio",
    );
}

#[test]
fn long_text_must_be_text() {
    assert_refused(
        "informe-final",
        &["analisis"],
        json!(["párrafo"]),
        "analisis",
        "debe ser texto",
    );
}

#[test]
fn dates_are_iso_and_real() {
    for bad in ["03/12/2026", "2026-02-30", "2026-2-3", "mañana"] {
        assert_refused(
            "oficio-comision",
            &["fecha_evento"],
            json!(bad),
            "fecha_evento",
            "2026-11-22",
        );
    }
}

#[test]
fn times_are_hours_and_minutes() {
    assert_refused(
        "oficio-comision",
        &["hora_evento"],
        json!("9:30"),
        "hora_evento",
        "09:30",
    );
    assert_refused(
        "oficio-comision",
        &["hora_evento"],
        json!("25:00"),
        "hora_evento",
        "09:30",
    );
}

#[test]
fn integers_are_whole_and_in_range() {
    let path = &["asistentes", "1", "edad"];
    assert_refused(
        "lista-asistencia",
        path,
        json!(33.5),
        "asistentes[2].edad",
        "entero",
    );
    assert_refused(
        "lista-asistencia",
        path,
        json!("33"),
        "asistentes[2].edad",
        "entero",
    );
    assert_refused(
        "lista-asistencia",
        path,
        json!(130),
        "asistentes[2].edad",
        "mayor que 120",
    );
    assert_refused(
        "lista-asistencia",
        path,
        json!(-1),
        "asistentes[2].edad",
        "menor que 0",
    );
}

#[test]
fn enums_accept_only_their_values_and_list_them() {
    assert_refused(
        "carta-compromiso",
        &["profesional_cargo"],
        json!("Psicólogo"),
        "profesional_cargo",
        "Gestor Familiar, Apoyo Familiar Integral",
    );
}

#[test]
fn persons_need_a_name_and_a_valid_identity_number() {
    let id = "carta-compromiso";
    assert_refused(
        id,
        &["representante", "identificacion"],
        json!("15.432.876-8"),
        "representante.identificacion",
        "dígito verificador",
    );
    assert_refused(
        id,
        &["representante", "nombre"],
        json!(""),
        "representante.nombre",
        "obligatorio",
    );
    assert_refused(
        id,
        &["representante"],
        json!("Carolina Muñoz"),
        "representante",
        "nombre",
    );
    assert_refused(
        id,
        &["representante", "alias"],
        json!("Caro"),
        "representante.alias",
        "no tiene ese campo",
    );
}

#[test]
fn tables_check_their_rows_and_columns() {
    let id = "oficio-comision";
    assert_refused(id, &["comisionados"], json!([]), "comisionados", "obligatorio");
    assert_refused(
        id,
        &["comisionados", "0"],
        json!("Lucía"),
        "comisionados[1]",
        "objeto",
    );
    assert_refused(
        id,
        &["comisionados", "1", "apodo"],
        json!("Pepe"),
        "comisionados[2].apodo",
        "no tiene ese campo",
    );
    assert_refused(
        id,
        &["comisionados", "1", "cargo"],
        Value::Null,
        "comisionados[2].cargo",
        "obligatorio",
    );
    let too_many = json!(
        (0..31)
            .map(|_| json!({"nombre": "A", "cargo": "B"}))
            .collect::<Vec<_>>()
    );
    assert_refused(id, &["comisionados"], too_many, "comisionados", "hasta 30 filas");
}

#[test]
fn unknown_fields_are_refused() {
    assert_refused(
        "informe-final",
        &["observaciones"],
        json!("x"),
        "observaciones",
        "no tiene ese campo",
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let mut data = with("lista-asistencia", &["fecha"], json!("ayer"));
    data["motivo"] = Value::Null;
    data["asistentes"][0]["nombre"] = json!("");
    let found = problems("lista-asistencia", &data);
    for path in ["fecha", "motivo", "asistentes[1].nombre"] {
        assert!(found.mentions(path), "{path} missing from {found:?}");
    }
}

#[test]
fn data_that_is_not_an_object_is_refused() {
    let found = problems("informe-final", &json!(["no", "es", "un", "objeto"]));
    assert_eq!(found.0.len(), 1);
    assert!(found.0[0].message.contains("objeto JSON"));
}

#[test]
fn money_keeps_two_decimals_and_is_not_negative() {
    let dir = tempfile::tempdir().expect("temp dir");
    let form_dir = dir.path().join("cotizacion");
    std::fs::create_dir_all(&form_dir).expect("mkdir");
    std::fs::write(form_dir.join("template.typ"), "").expect("write");
    std::fs::write(
        form_dir.join("form.toml"),
        "id = \"cotizacion\"\ntitle = \"Cotización\"\nfamily = \"oficio\"\nseed = \"004\"\n\
         [[fields]]\nname = \"monto\"\nlabel = \"Monto aprobado\"\ntype = \"money\"\nmax = 50000\n",
    )
    .expect("write");
    let catalog = Catalog::load(dir.path()).expect("loads");
    let form = catalog.get("cotizacion").expect("present");
    assert!(validate(form, &json!({"monto": 1500.5}), issue_day()).is_ok());
    assert!(validate(form, &json!({"monto": "1500.50"}), issue_day()).is_ok());
    for (bad, words) in [
        (json!(1500.555), "dos decimales"),
        (json!("1,500"), "dos decimales"),
        (json!(-3), "menor que 0.00"),
        (json!(50000.01), "mayor que 50000.00"),
    ] {
        let found = validate(form, &json!({ "monto": bad }), issue_day()).expect_err("refused");
        assert_eq!(found.0[0].path, "monto");
        assert!(
            found.0[0].message.contains(words),
            "{bad}: {}",
            found.0[0].message
        );
    }
}

#[test]
fn characters_no_font_can_print_are_refused_by_field() {
    let id = "lista-asistencia";
    assert_refused(
        id,
        &["asistentes", "0", "nombre"],
        json!("Wáng 王"),
        "asistentes[1].nombre",
        "U+738B",
    );
    assert_refused(id, &["motivo"], json!("Reunión\u{0007}"), "motivo", "U+0007");
    // Accents, ñ, emoji sequences and tabs in long text are all printable.
    let mut data = example(id);
    data["asistentes"][0]["nombre"] = json!("Ñuñoa Güemes ❤️ 👨‍👩‍👧 Ü");
    assert!(validate(form(id), &data, issue_day()).is_ok());
}
