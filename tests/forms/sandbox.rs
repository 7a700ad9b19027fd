//! A template sees only its own folder, the shared library and the data.

use std::fs;
use std::path::Path;

use serde_json::json;

use crate::helpers::{config_for, forms_dir};
use sello::forms::Catalog;
use sello::render::{DocumentContext, RenderError, Renderer};

/// A forms folder with the real `_lib` and the given test forms.
fn forms_with(forms: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = dir.path().join("_lib");
    fs::create_dir_all(&lib).expect("mkdir _lib");
    fs::copy(forms_dir().join("_lib/sello.typ"), lib.join("sello.typ")).expect("copy lib");
    for (id, template) in forms {
        let form = dir.path().join(id);
        fs::create_dir_all(&form).expect("mkdir form");
        fs::write(form.join("template.typ"), template).expect("write template");
        fs::write(
            form.join("form.toml"),
            format!(
                "id = \"{id}\"\ntitle = \"Prueba\"\nfamily = \"ficha\"\nseed = \"pruebas\"\n\
                 [[fields]]\nname = \"nota\"\nlabel = \"Nota\"\ntype = \"text\"\nrequired = false\n"
            ),
        )
        .expect("write form.toml");
    }
    dir
}

fn render_in(dir: &Path, id: &str) -> Result<Vec<u8>, RenderError> {
    let renderer = Renderer::new(&config_for(dir)).expect("renderer");
    let catalog = Catalog::load(dir).expect("catalog");
    let form = catalog.get(id).expect("form");
    renderer
        .render(
            form,
            &json!({}),
            &DocumentContext::draft(crate::helpers::issue_time()),
        )
        .map(|r| r.pdf)
}

fn template_error(dir: &Path, id: &str) -> String {
    match render_in(dir, id) {
        Err(RenderError::Template(lines)) => lines.join("\n"),
        other => panic!(
            "{id}: expected a template error, got {:?}",
            other.map(|pdf| pdf.len())
        ),
    }
}

#[test]
fn a_template_cannot_read_files_of_the_machine() {
    let dir = forms_with(&[
        ("lee-sistema", "#read(\"/etc/passwd\")\n"),
        ("sube", "#read(\"../../../../etc/passwd\")\n"),
    ]);
    for id in ["lee-sistema", "sube"] {
        let error = template_error(dir.path(), id);
        assert!(error.contains(&format!("forms/{id}/template.typ:1:")), "{error}");
    }
}

#[test]
fn a_template_cannot_read_another_forms_folder() {
    let dir = forms_with(&[
        ("curioso", "#read(\"/forms/vecino/secreto.txt\")\n"),
        ("vecino", "Hola"),
    ]);
    fs::write(dir.path().join("vecino/secreto.txt"), "secreto").expect("write");
    let error = template_error(dir.path(), "curioso");
    assert!(error.contains("forms/curioso/template.typ:1:"), "{error}");
}

#[cfg(unix)]
#[test]
fn a_symlink_leading_out_of_the_folder_is_refused() {
    let dir = forms_with(&[("enlace", "#read(\"clave.txt\")\n")]);
    let outside = tempfile::NamedTempFile::new().expect("temp");
    fs::write(outside.path(), "fuera").expect("write");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("enlace/clave.txt")).expect("symlink");
    let error = template_error(dir.path(), "enlace");
    assert!(error.contains("forms/enlace/template.typ:1:"), "{error}");
}

#[test]
fn a_template_reads_its_own_folder_and_the_library() {
    let template = "#import \"../_lib/sello.typ\": *\n#show: documento\n#read(\"nota.txt\") #fecha-larga(\"2026-01-05\")\n";
    let dir = forms_with(&[("propio", template)]);
    fs::write(dir.path().join("propio/nota.txt"), "Nota propia del formulario").expect("write");
    let pdf = render_in(dir.path(), "propio").expect("renders");
    let text = crate::helpers::pdf_text(&pdf);
    assert!(
        text.contains("Nota propia del formulario 5 de enero de 2026"),
        "{text}"
    );
}

#[test]
fn packages_are_not_available() {
    let dir = forms_with(&[("paquete", "#import \"@preview/cetz:0.3.0\": *\n")]);
    let error = template_error(dir.path(), "paquete");
    assert!(error.contains("forms/paquete/template.typ:1:"), "{error}");
}

#[test]
fn template_errors_point_at_the_line_and_column() {
    let dir = forms_with(&[("roto", "Primera línea\n#let x = (1, 2\n")]);
    let error = template_error(dir.path(), "roto");
    assert!(error.contains("forms/roto/template.typ:2:"), "{error}");
}
