//! The `sello` command as a clerk or a script uses it.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::helpers::forms_dir;

fn sello(args: &[&str], stdin: Option<&str>) -> Output {
    sello_in(&forms_dir(), args, stdin)
}

fn sello_in(forms: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sello"))
        .args(args)
        .env("SELLO_FORMS_DIR", forms)
        .env("SELLO_TIME_ZONE", "America/Mexico_City")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sello binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("sello finishes")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_lists_the_subcommands() {
    let output = sello(&["--help"], None);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("forms") && text.contains("render"), "{text}");
}

#[test]
fn forms_lists_one_line_per_form() {
    let output = sello(&["forms"], None);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("oficio-comision"))
        .expect("oficio listed");
    assert!(
        line.contains("oficio") && line.contains("Oficio de comisión"),
        "{line}"
    );
    let forms = std::fs::read_dir(forms_dir())
        .expect("forms dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('_'))
        })
        .count();
    assert_eq!(text.lines().count(), forms);
}

#[test]
fn forms_json_is_machine_readable() {
    let output = sello(&["forms", "--json"], None);
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let entry = list
        .as_array()
        .expect("array")
        .iter()
        .find(|f| f["id"] == "padron-beneficiarios")
        .expect("listed");
    assert_eq!(entry["family"], "padrón");
}

#[test]
fn forms_show_gives_each_field_with_its_criterion() {
    let output = sello(&["forms", "show", "informe-final"], None);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("conclusiones — Conclusiones [texto largo"),
        "{text}"
    );
    assert!(
        text.contains("criterio: E0028 · Producto 2 · especifica conclusiones"),
        "{text}"
    );

    let output = sello(&["forms", "show", "informe-final", "--json"], None);
    let form: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let field = form["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "periodo_inicio")
        .expect("field");
    assert_eq!(field["type"], "date");
    assert_eq!(field["required"], true);
    assert_eq!(field["criterion"], "E0028 · Producto 2 · indica el periodo");
}

#[test]
fn render_writes_a_pdf_and_exits_zero() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("oficio.pdf");
    let data = forms_dir().join("oficio-comision/example.json");
    let output = sello(
        &[
            "render",
            "oficio-comision",
            "--data",
            data.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(std::fs::read(&out).expect("pdf written").starts_with(b"%PDF-"));
}

#[test]
fn render_reads_data_from_stdin_and_is_reproducible_with_at() {
    let dir = tempfile::tempdir().expect("temp");
    let data = std::fs::read_to_string(forms_dir().join("informe-final/example.json")).expect("example");
    let mut pdfs = Vec::new();
    for name in ["a.pdf", "b.pdf"] {
        let out = dir.path().join(name);
        let output = sello(
            &[
                "render",
                "informe-final",
                "--data",
                "-",
                "--out",
                out.to_str().expect("utf-8"),
                "--at",
                "2026-11-22T10:00:00-06:00",
            ],
            Some(&data),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        pdfs.push(std::fs::read(out).expect("written"));
    }
    assert!(pdfs[0] == pdfs[1], "same data and --at gave different PDFs");
}

#[test]
fn invalid_data_exits_two_listing_every_problem_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("x.pdf");
    let output = sello(
        &[
            "render",
            "lista-asistencia",
            "--data",
            "-",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        Some(r#"{"motivo": "Reunión", "fecha": "18/11/2026", "asistentes": [{"nombre": ""}]}"#),
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    for expected in [
        "fecha: «Fecha de la reunión» debe ser una fecha",
        "asistentes[1].nombre:",
        "lugar:",
        "promotor:",
    ] {
        assert!(err.contains(expected), "«{expected}» missing from:\n{err}");
    }
    assert!(!out.exists(), "a PDF was written from invalid data");
}

#[test]
fn malformed_json_names_line_and_column() {
    let output = sello(
        &[
            "render",
            "informe-final",
            "--data",
            "-",
            "--out",
            "/tmp/never.pdf",
        ],
        Some("{\n  \"programa\": ,\n}"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("línea 2"), "{}", stderr(&output));
}

#[test]
fn an_unknown_form_exits_two_and_lists_the_forms() {
    let output = sello(
        &[
            "render",
            "oficio-inexistente",
            "--data",
            "-",
            "--out",
            "/tmp/never.pdf",
        ],
        Some("{}"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("oficio-comision"), "{}", stderr(&output));
}

#[test]
fn a_bad_setting_fails_fast_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_sello"))
        .args(["forms"])
        .env("SELLO_FORMS_DIR", forms_dir())
        .env("SELLO_BASE_URL", "sello.dif.gob.mx")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("SELLO_BASE_URL"), "{}", stderr(&output));
}

#[test]
fn a_broken_template_is_an_internal_error_with_its_location() {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::create_dir_all(dir.path().join("_lib")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("roto")).expect("mkdir");
    std::fs::write(dir.path().join("roto/template.typ"), "#let = 1\n").expect("write");
    std::fs::write(
        dir.path().join("roto/form.toml"),
        "id = \"roto\"\ntitle = \"Roto\"\nfamily = \"ficha\"\nseed = \"x\"\n\
         [[fields]]\nname = \"a\"\nlabel = \"A\"\ntype = \"text\"\nrequired = false\n",
    )
    .expect("write");
    let out = dir.path().join("roto.pdf");
    let output = sello_in(
        dir.path(),
        &[
            "render",
            "roto",
            "--data",
            "-",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        Some("{}"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("forms/roto/template.typ:1:"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
}
