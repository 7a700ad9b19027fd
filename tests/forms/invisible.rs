//! Printed = stored: text that would print differently from how it is
//! stored and searched is refused, naming the field.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::{CATALOG, example, forms_dir, issue_day};
use sello::forms::{FieldType, validate};

/// Prints «Juan Fernando Pérez»; stored, it reads «Juan odnanreF Pérez».
const REVERSED: &str = "Juan \u{202E}odnanreF\u{202C} Pérez";

#[test]
fn a_name_with_a_bidi_override_is_refused_naming_the_field() {
    let id = "carta-compromiso";
    let mut data = example(id);
    data["representante"]["nombre"] = json!(REVERSED);
    let problems = validate(crate::helpers::form(id), &data, issue_day()).expect_err("refused");
    let problem = problems
        .0
        .iter()
        .find(|p| p.path == "representante.nombre")
        .unwrap_or_else(|| panic!("not reported at representante.nombre: {problems:?}"));
    assert!(
        problem.message.contains("control de dirección del texto")
            && problem.message.contains("U+202E")
            && problem.message.contains("escríbalo de nuevo"),
        "{}",
        problem.message
    );
}

#[test]
fn every_text_field_of_every_form_refuses_a_zero_width_space() {
    for form in CATALOG.iter() {
        let id = form.id.as_str();
        for field in &form.fields {
            if !matches!(field.kind, FieldType::Text { .. } | FieldType::LongText { .. }) {
                continue;
            }
            let mut data = example(id);
            data[field.name.as_str()] = json!("Casa\u{200B}ejidal");
            let problems = validate(form, &data, issue_day()).expect_err("refused");
            assert!(
                problems
                    .0
                    .iter()
                    .any(|p| p.path == field.name && p.message.contains("U+200B")),
                "{id}.{}: {problems:?}",
                field.name
            );
        }
    }
}

#[test]
fn sello_issue_refuses_the_reversed_name_with_exit_two_and_the_field() {
    let mut data: Value = example("oficio-comision");
    data["conductor"]["nombre"] = json!(REVERSED);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sello"))
        .args(["issue", "oficio-comision", "--data", "-", "--at", "2026-11-22"])
        .env("SELLO_FORMS_DIR", forms_dir())
        .env("SELLO_TIME_ZONE", "America/Mexico_City")
        .env("SELLO_DATA_DIR", dir.path())
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sello binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data.to_string().as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("sello finishes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("conductor.nombre:") && stderr.contains("control de dirección"),
        "{stderr}"
    );
    // Refused before anything was created: no key, no archive.
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "sello issue left files behind"
    );
}
