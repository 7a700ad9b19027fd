//! Which column feeds which field. By default a column matches a field by
//! its name or its label, ignoring case, accents, and the spaces, `_` and
//! dashes between words («Fecha de firma» or «fecha_firma» → `fecha_firma`),
//! but no other character: `=fecha_firma()` matches nothing; a person's parts
//! by `representante.nombre` / `representante.identificacion`. A mapping
//! file says it explicitly: `[columnas] familia_id = "ID Familia"`.
//!
//! Long because its unit tests live beside it: the matching rules are
//! easiest to check next to the code, which itself is under 270 lines.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::forms::{FieldType, FormSpec};

/// A field (or a person's part) and the column that feeds it.
#[derive(Debug, Clone)]
struct Feed {
    /// `familia_id`, `representante.nombre`.
    path: String,
    column: usize,
}

/// How a sheet's columns become a form's data.
#[derive(Debug, Clone)]
pub struct Mapping {
    feeds: Vec<Feed>,
    headers: Vec<String>,
}

/// A mapping file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    pub columnas: BTreeMap<String, String>,
}

/// A header or a name as compared. Case and accents do not count, nor the
/// spaces, `_` and dashes between words; every other character does, a
/// leading or trailing dash included, so a header written as a formula
/// (`=fecha_firma()`, `-fecha_firma`) names no field.
fn key(text: &str) -> String {
    let is_gap = |c: char| c.is_whitespace() || c == '_';
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let mut key = String::with_capacity(folded.len());
    let mut gap = false;
    for c in folded.trim_matches(is_gap).chars() {
        if is_gap(c) || (c == '-' && !key.is_empty()) {
            gap = true;
            continue;
        }
        if gap {
            key.push('_');
            gap = false;
        }
        key.push(c);
    }
    if gap {
        // A dash the header ends with.
        key.push('-');
    }
    key
}

/// The paths the sheet may feed, each with the names a column may have.
fn targets(form: &FormSpec) -> Result<Vec<(String, Vec<String>, bool)>, String> {
    let mut targets = Vec::new();
    for field in &form.fields {
        match &field.kind {
            FieldType::List { .. } => {
                if field.required {
                    return Err(format!(
                        "«{}» tiene la tabla «{}»: se emite uno por uno, no por lotes",
                        form.title, field.label
                    ));
                }
            }
            FieldType::Person { .. } => {
                for (part, label) in [("nombre", "Nombre"), ("identificacion", "Identificación")] {
                    let path = format!("{}.{part}", field.name);
                    let names = vec![
                        path.clone(),
                        format!("{}_{part}", field.name),
                        format!("{label} ({})", field.label),
                        format!("{} {label}", field.label),
                    ];
                    let required = field.required && (part == "nombre");
                    targets.push((path, names, required));
                }
            }
            _ => targets.push((
                field.name.clone(),
                vec![field.name.clone(), field.label.clone()],
                field.required,
            )),
        }
    }
    Ok(targets)
}

impl Mapping {
    /// Matches `headers` to `form`'s fields, by `explicit` if given. Fails
    /// naming what is missing or unknown, before any row is read.
    pub fn new(form: &FormSpec, headers: &[String], explicit: Option<&MappingFile>) -> Result<Self, String> {
        let targets = targets(form)?;
        let column_named = |name: &str| headers.iter().position(|h| key(h) == key(name));
        let mut feeds = Vec::new();
        match explicit {
            Some(file) => {
                for (path, header) in &file.columnas {
                    if !targets.iter().any(|(p, _, _)| p == path) {
                        let known: Vec<&str> = targets.iter().map(|(p, _, _)| p.as_str()).collect();
                        return Err(format!(
                            "mapeo: «{path}» no es un campo de «{}»; los campos son: {}",
                            form.title,
                            known.join(", ")
                        ));
                    }
                    let column = column_named(header).ok_or_else(|| {
                        format!("mapeo: no hay una columna «{header}» (para «{path}») en el archivo")
                    })?;
                    feeds.push(Feed {
                        path: path.clone(),
                        column,
                    });
                }
            }
            None => {
                for (path, names, _) in &targets {
                    if let Some(column) = names.iter().find_map(|n| column_named(n)) {
                        feeds.push(Feed {
                            path: path.clone(),
                            column,
                        });
                    }
                }
            }
        }
        let missing: Vec<&str> = targets
            .iter()
            .filter(|(path, _, required)| *required && !feeds.iter().any(|f| &f.path == path))
            .map(|(path, _, _)| path.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "faltan columnas para los campos obligatorios: {}. Nombre las columnas como los campos (o sus etiquetas) o use --map",
                missing.join(", ")
            ));
        }
        Ok(Self {
            feeds,
            headers: headers.to_vec(),
        })
    }

    /// One row's data for the form: blank cells left out, numbers of
    /// integer fields as numbers, `dd/mm/aaaa` dates as `aaaa-mm-dd`.
    pub fn row_data(&self, form: &FormSpec, cells: &[String]) -> Value {
        let mut data = Map::new();
        for feed in &self.feeds {
            let Some(text) = cells.get(feed.column).map(|c| c.trim()).filter(|c| !c.is_empty()) else {
                continue;
            };
            match feed.path.split_once('.') {
                Some((field, part)) => {
                    let person = data
                        .entry(field.to_owned())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(person) = person {
                        person.insert(part.to_owned(), Value::String(text.to_owned()));
                    }
                }
                None => {
                    let kind = form.fields.iter().find(|f| f.name == feed.path).map(|f| &f.kind);
                    data.insert(feed.path.clone(), typed(kind, text));
                }
            }
        }
        Value::Object(data)
    }

    /// The columns no field reads: a misspelt header would otherwise leave
    /// an optional field silently empty.
    pub fn unused_headers(&self) -> Vec<&str> {
        self.headers
            .iter()
            .enumerate()
            .filter(|(i, h)| !h.trim().is_empty() && !self.feeds.iter().any(|f| f.column == *i))
            .map(|(_, h)| h.as_str())
            .collect()
    }

    /// The column a problem's path points to, for the report.
    pub fn column_of(&self, path: &str) -> String {
        let field = path.split(['.', '[']).next().unwrap_or(path);
        self.feeds
            .iter()
            .find(|f| f.path == path)
            .or_else(|| {
                self.feeds
                    .iter()
                    .find(|f| f.path.split('.').next() == Some(field))
            })
            .and_then(|f| self.headers.get(f.column).cloned())
            .unwrap_or_default()
    }
}

fn typed(kind: Option<&FieldType>, text: &str) -> Value {
    match kind {
        Some(FieldType::Integer { .. }) => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_owned())),
        Some(FieldType::Date) => Value::String(iso_date(text)),
        Some(FieldType::Time) => Value::String(hour_minute(text)),
        _ => Value::String(text.to_owned()),
    }
}

/// `9:30` or `09:30:00` → `09:30`; anything else as typed.
fn hour_minute(text: &str) -> String {
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        [h, m] | [h, m, _] if h.len() <= 2 && m.len() == 2 => match (h.parse::<u32>(), m.parse::<u32>()) {
            (Ok(h), Ok(m)) if h < 24 && m < 60 => format!("{h:02}:{m:02}"),
            _ => text.to_owned(),
        },
        _ => text.to_owned(),
    }
}

/// `20/11/2026` or `20-11-2026` → `2026-11-20`; a bare Excel day number
/// (a date cell that lost its format) → its date; anything else as typed.
fn iso_date(text: &str) -> String {
    // Only numbers a date cell could hold (1927 to 2100): «2026» typed
    // alone is a mistake to report, not 1905-07-18.
    if let Ok(serial) = text.parse::<i64>()
        && (10_000..=73_415).contains(&serial)
        && let Some(epoch) = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
    {
        return (epoch + chrono::Duration::days(serial)).to_string();
    }
    let parts: Vec<&str> = text.split(['/', '-']).collect();
    match parts.as_slice() {
        [day, month, year] if year.len() == 4 && day.len() <= 2 && month.len() <= 2 => {
            match (day.parse::<u32>(), month.parse::<u32>(), year.parse::<i32>()) {
                (Ok(d), Ok(m), Ok(y)) => chrono::NaiveDate::from_ymd_opt(y, m, d)
                    .map_or_else(|| text.to_owned(), |date| date.to_string()),
                _ => text.to_owned(),
            }
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(id: &str) -> FormSpec {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        crate::forms::Catalog::load(&root)
            .expect("catalog")
            .get(id)
            .expect("form")
            .clone()
    }

    #[test]
    fn columns_match_fields_by_name_or_label_and_dates_become_iso() {
        let form = form("carta-compromiso");
        let headers: Vec<String> = [
            "Comuna",
            "Fecha de firma",
            "familia_id",
            "Representante Nombre",
            "representante.identificacion",
        ]
        .map(String::from)
        .to_vec();
        let error = Mapping::new(&form, &headers, None).expect_err("missing required columns");
        assert!(error.contains("familia_nombre"), "{error}");
        let file: MappingFile = toml::from_str(
            "[columnas]\ncomuna = \"Comuna\"\nfecha_firma = \"Fecha de firma\"\nfamilia_id = \"familia_id\"\n\
             \"representante.nombre\" = \"Representante Nombre\"\n",
        )
        .expect("toml");
        let mapping = Mapping::new(&form, &headers, Some(&file));
        assert!(mapping.is_err(), "still missing familia_nombre and others");
        let row = [
            "La Pintana",
            "20/11/2026",
            "FAM-1",
            "Carolina Muñoz",
            "15.432.876-9",
        ]
        .map(String::from);
        let partial = Mapping {
            feeds: (0..5)
                .map(|i| Feed {
                    path: [
                        "comuna",
                        "fecha_firma",
                        "familia_id",
                        "representante.nombre",
                        "representante.identificacion",
                    ][i]
                        .into(),
                    column: i,
                })
                .collect(),
            headers: headers.clone(),
        };
        assert_eq!(
            partial.row_data(&form, &row),
            serde_json::json!({
                "comuna": "La Pintana", "fecha_firma": "2026-11-20", "familia_id": "FAM-1",
                "representante": {"nombre": "Carolina Muñoz", "identificacion": "15.432.876-9"}
            })
        );
        assert_eq!(
            partial.column_of("representante.identificacion"),
            "representante.identificacion"
        );
        assert_eq!(partial.column_of("fecha_firma"), "Fecha de firma");
    }

    #[test]
    fn dates_written_as_clerks_write_them_become_iso() {
        assert_eq!(iso_date("20/11/2026"), "2026-11-20");
        assert_eq!(iso_date("5-1-2026"), "2026-01-05");
        assert_eq!(iso_date("46346"), "2026-11-20");
        assert_eq!(iso_date("31/02/2026"), "31/02/2026");
        assert_eq!(iso_date("2026-11-20"), "2026-11-20");
        assert_eq!(iso_date("2026"), "2026", "a year alone is not a date");
        assert_eq!(hour_minute("9:30"), "09:30");
        assert_eq!(hour_minute("09:30:00"), "09:30");
        assert_eq!(hour_minute("25:00"), "25:00");
    }

    #[test]
    fn columns_no_field_reads_are_named() {
        let form = form("carta-compromiso");
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms/carta-compromiso/example.json");
        let example: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("JSON");
        let mut headers: Vec<String> = Vec::new();
        for (name, value) in example.as_object().expect("object") {
            match value.as_object() {
                Some(parts) => headers.extend(parts.keys().map(|p| format!("{name}.{p}"))),
                None => headers.push(name.clone()),
            }
        }
        headers.push("Observaciones".into());
        headers.push("Fecha  de   firma".into());
        let mapping = Mapping::new(&form, &headers, None).expect("mapping");
        // «Fecha  de   firma» is the label of `fecha_firma`, but the column
        // named `fecha_firma` already feeds it: both extra columns are unread.
        assert_eq!(mapping.unused_headers(), ["Observaciones", "Fecha  de   firma"]);
        assert_eq!(key("Fecha  de   firma"), key("Fecha de firma"));
    }

    #[test]
    fn a_header_written_as_a_formula_names_no_field() {
        for header in [
            "=fecha_firma()",
            "=fecha_firma",
            "+fecha_firma",
            "-fecha_firma",
            "@fecha_firma",
            "fecha_firma-",
            "\t=fecha_firma",
            "fecha_firma()",
        ] {
            assert_ne!(key(header), key("fecha_firma"), "{header:?}");
        }
        for header in [
            "Fecha de firma",
            "FECHA DE FIRMA",
            "fecha-de-firma",
            " Fecha  de\u{a0}firma ",
            "Fécha de fírma",
        ] {
            assert_eq!(key(header), key("Fecha de firma"), "{header:?}");
        }
        assert_eq!(key("fecha_firma"), key("Fecha firma"));
        assert_eq!(key("Nombre (Representante)"), key("nombre (representante)"));

        let form = form("carta-compromiso");
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms/carta-compromiso/example.json");
        let example: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("JSON");
        let mut headers: Vec<String> = Vec::new();
        for (name, value) in example.as_object().expect("object") {
            match value.as_object() {
                Some(parts) => headers.extend(parts.keys().map(|p| format!("{name}.{p}"))),
                None if name == "fecha_firma" => headers.push("=fecha_firma()".into()),
                None => headers.push(name.clone()),
            }
        }
        // `fecha_firma` is optional here or required: either way the
        // formula is not its column.
        match Mapping::new(&form, &headers, None) {
            Ok(mapping) => {
                assert_eq!(mapping.column_of("fecha_firma"), "");
                assert!(mapping.unused_headers().contains(&"=fecha_firma()"));
            }
            Err(error) => assert!(error.contains("fecha_firma"), "{error}"),
        }
    }

    #[test]
    fn a_form_with_a_required_table_is_not_issued_in_bulk() {
        let error = Mapping::new(&form("oficio-comision"), &[], None).expect_err("table");
        assert!(error.contains("tabla"), "{error}");
    }
}
