//! Every form's declaration, as the catalog loads it, is the one recorded
//! in `tests/forms/specs/`: a change to a form, or to a field several forms
//! share, shows in every form it reaches.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::CATALOG;

/// Set to record `tests/forms/specs/` anew after changing a form on purpose.
const RECORD: &str = "SELLO_RECORD_SPECS";

fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/forms/specs")
}

/// Every form's declaration, with its shared fields taken in, is the one
/// recorded: changing a shared field shows in every form that uses it.
#[test]
fn every_form_declares_the_fields_recorded_for_it() {
    let record = std::env::var_os(RECORD).is_some();
    let mut changed = Vec::new();
    for form in CATALOG.iter() {
        let path = specs_dir().join(format!("{}.json", form.id));
        let spec = serde_json::to_value(form).expect("a form serializes");
        if record {
            let text = serde_json::to_string_pretty(&spec).expect("JSON") + "\n";
            fs::write(&path, text).expect("write the recorded spec");
            continue;
        }
        let recorded: Value = fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        if recorded != spec {
            changed.push(form.id.to_string());
        }
    }
    let recorded: Vec<String> = fs::read_dir(specs_dir())
        .expect("tests/forms/specs exists")
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_owned)
        })
        .filter(|id| CATALOG.get(id).is_none())
        .collect();
    assert!(
        changed.is_empty() && recorded.is_empty(),
        "declarations that differ from tests/forms/specs/: {changed:?}; recorded forms that no longer \
         exist: {recorded:?} (if the change is meant, record them again with {RECORD}=1)"
    );
}

/// Every form a clerk may start says the country and programme it is
/// grouped under in the list of new documents (`programa`), so none falls
/// into «Otros».
#[test]
fn every_offered_form_declares_its_country_and_programme() {
    let countries = ["México · ", "Chile · ", "Panamá · "];
    let missing: Vec<String> = CATALOG
        .iter()
        .filter(|form| !form.interno)
        .filter(|form| !countries.iter().any(|c| form.programa.starts_with(c)))
        .map(|form| format!("{}: «{}»", form.id, form.programa))
        .collect();
    assert!(missing.is_empty(), "forms without «País · Programa»: {missing:?}");
}
