//! Field declarations shared through `forms/_lib/fields/`: what a form
//! that `use`s one gets, and what the catalog refuses to load.

use std::fs;
use std::path::Path;

use crate::helpers::{CATALOG, forms_dir};
use sello::forms::{Catalog, CatalogError};

/// The `use = "…"` references of `[[fields]]` entries, columns included.
fn uses(fields: Option<&toml::Value>) -> Vec<String> {
    let fields = fields
        .and_then(|f| f.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    fields
        .iter()
        .flat_map(|field| {
            let own = field.get("use").and_then(|u| u.as_str()).map(str::to_owned);
            own.into_iter().chain(uses(field.get("columns")))
        })
        .collect()
}

fn read_toml(path: &Path) -> toml::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A shared field saves copies only if two forms or more use it.
#[test]
fn every_shared_field_is_used_by_two_forms_or_more() {
    let mut used: Vec<String> = Vec::new();
    for form in CATALOG.iter() {
        let declared = read_toml(&forms_dir().join(form.id.as_str()).join("form.toml"));
        used.extend(uses(declared.get("fields")));
    }
    let mut shared = Vec::new();
    for entry in fs::read_dir(forms_dir().join("_lib/fields")).expect("_lib/fields exists") {
        let path = entry.expect("an entry").path();
        let Some(group) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".toml"))
        else {
            continue;
        };
        for field in read_toml(&path)["fields"].as_array().expect("[[fields]]") {
            shared.push(format!("{group}.{}", field["name"].as_str().expect("a name")));
        }
    }
    assert!(shared.len() >= 10, "{shared:?}");
    let alone: Vec<_> = shared
        .iter()
        .filter(|r| used.iter().filter(|u| u == r).count() < 2)
        .collect();
    assert!(
        alone.is_empty(),
        "shared fields used by fewer than two forms: {alone:?}"
    );
}

/// A catalog folder with the real shared fields and one form declared by
/// `fields` (TOML `[[fields]]` entries).
fn catalog_with(fields: &str) -> Result<Catalog, CatalogError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = dir.path().join("_lib/fields");
    fs::create_dir_all(&lib).expect("mkdir");
    for entry in fs::read_dir(forms_dir().join("_lib/fields")).expect("_lib/fields") {
        let path = entry.expect("an entry").path();
        fs::copy(&path, lib.join(path.file_name().expect("a name"))).expect("copy");
    }
    let form = dir.path().join("oficio-prueba");
    fs::create_dir_all(&form).expect("mkdir");
    fs::write(form.join("template.typ"), "").expect("write");
    fs::write(
        form.join("form.toml"),
        format!("id = \"oficio-prueba\"\ntitle = \"Prueba\"\nfamily = \"oficio\"\nseed = \"004\"\n{fields}"),
    )
    .expect("write");
    Catalog::load(dir.path())
}

fn refusal(fields: &str) -> String {
    match catalog_with(fields) {
        Ok(_) => panic!("the catalog loaded a form with {fields}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_form_loads_with_the_shared_fields_it_uses() {
    let catalog = catalog_with(
        "[[fields]]\nuse = \"oficio.lugar_expedicion\"\ncriterion = \"004 · Actividad 6\"\n\
         [[fields]]\nuse = \"oficio.ccp\"\n",
    )
    .expect("loads");
    let form = catalog.get("oficio-prueba").expect("loaded");
    let names: Vec<_> = form.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["lugar_expedicion", "ccp"]);
    assert_eq!(form.fields[0].criterion.as_deref(), Some("004 · Actividad 6"));
}

#[test]
fn an_unknown_shared_field_is_a_load_error_naming_the_form_and_the_field() {
    let message = refusal("[[fields]]\nuse = \"oficio.folio_anterior\"\n");
    assert!(message.contains("oficio-prueba"), "{message}");
    assert!(
        message.contains("oficio.folio_anterior") && message.contains("_lib/fields/oficio.toml"),
        "{message}"
    );
    let message = refusal("[[fields]]\nuse = \"dif.ccp\"\n");
    assert!(message.contains("no hay campos compartidos «dif»"), "{message}");
}

#[test]
fn a_shared_field_declared_again_is_a_load_error_naming_the_form_and_the_field() {
    let message = refusal(
        "[[fields]]\nuse = \"oficio.ccp\"\n\
         [[fields]]\nname = \"ccp\"\nlabel = \"Copias\"\ntype = \"text\"\n",
    );
    assert!(message.contains("oficio-prueba"), "{message}");
    assert!(message.contains("campo «ccp» declarado dos veces"), "{message}");
}

#[test]
fn a_form_cannot_change_the_limits_of_a_shared_field() {
    let message = refusal("[[fields]]\nuse = \"oficio.iniciales\"\nmax_length = 200\n");
    assert!(
        message.contains("oficio-prueba")
            && message.contains("iniciales")
            && message.contains("«max_length»"),
        "{message}"
    );
}
