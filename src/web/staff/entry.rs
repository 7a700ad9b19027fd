//! The entry form of a form, generated from its `form.toml`, and the way
//! back from the posted fields to the form's JSON. Each input is named by
//! the same path validation uses (`comisionados[2].nombre`, rows from 1),
//! so every problem lands next to its field.
//!
//! Long because every kind of field is drawn here with what assistive
//! technology needs of it (its name, whether it is required, its help and
//! its error linked), and read back from the post in the same file, so the
//! two cannot drift apart.

use std::collections::{BTreeSet, HashMap};

use maud::{Markup, html};
use serde_json::{Map, Value};

use crate::forms::{FieldSpec, FieldType, FormSpec, Problem, normalize_identity};

/// Blank rows offered after the filled ones of a table.
const BLANK_ROWS: usize = 2;
/// Blank rows offered when the clerk asks for more.
const MORE_ROWS: usize = 8;

/// The posted fields, by name.
pub struct Posted(HashMap<String, String>);

impl Posted {
    pub fn new(pairs: &[(String, String)]) -> Self {
        Posted(pairs.iter().cloned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The form's data: blank inputs and blank table rows left out, so a
    /// missing required field is reported as missing.
    pub fn data(&self, form: &FormSpec) -> Value {
        Value::Object(self.object(&form.fields, ""))
    }

    fn object(&self, fields: &[FieldSpec], prefix: &str) -> Map<String, Value> {
        fields
            .iter()
            .filter_map(|field| {
                let path = format!("{prefix}{}", field.name);
                self.value(field, &path).map(|value| (field.name.clone(), value))
            })
            .collect()
    }

    fn value(&self, field: &FieldSpec, path: &str) -> Option<Value> {
        match &field.kind {
            FieldType::Person { identity, .. } => {
                let person: Map<String, Value> = ["nombre", "identificacion"]
                    .into_iter()
                    .filter_map(|part| {
                        let text = self.text(&format!("{path}.{part}"))?;
                        // Typed as people type it (lowercase, dots, spaces), kept as it is checked.
                        let text = match part {
                            "identificacion" => normalize_identity(*identity, &text),
                            _ => text,
                        };
                        Some((part.to_owned(), Value::String(text)))
                    })
                    .collect();
                (!person.is_empty()).then_some(Value::Object(person))
            }
            FieldType::List { columns, .. } => {
                let rows: Vec<Value> = self
                    .row_numbers(path)
                    .into_iter()
                    .map(|n| self.object(columns, &format!("{path}[{n}].")))
                    .filter(|row| !row.is_empty())
                    .map(Value::Object)
                    .collect();
                (!rows.is_empty()).then_some(Value::Array(rows))
            }
            FieldType::Integer { .. } => {
                let text = self.text(path)?;
                // Not a number: kept as typed, so validation says what is wrong.
                Some(
                    text.parse::<i64>()
                        .map(Value::from)
                        .unwrap_or(Value::String(text)),
                )
            }
            FieldType::LongText { .. } => self
                .get(path)
                .filter(|text| !text.trim().is_empty())
                .map(|text| Value::String(text.replace("\r\n", "\n").trim_end().to_owned())),
            _ => self.text(path).map(Value::String),
        }
    }

    /// A single-line input, trimmed; `None` when blank.
    fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    }

    /// The row numbers posted for a table, in order.
    fn row_numbers(&self, path: &str) -> BTreeSet<usize> {
        let prefix = format!("{path}[");
        self.0
            .keys()
            .filter_map(|key| key.strip_prefix(&prefix))
            .filter_map(|rest| rest.split(']').next()?.parse().ok())
            .collect()
    }
}

/// The inputs of `form`, filled with `data`, each followed by its problems.
/// `more_rows` names the table whose clerk asked for more rows.
pub fn fields(form: &FormSpec, data: &Value, problems: &[Problem], more_rows: Option<&str>) -> Markup {
    html! {
        @for field in &form.fields {
            (field_input(form, field, data.get(&field.name), &field.name, problems, more_rows))
        }
    }
}

/// The id of the message under the input `path`, which the input points
/// to (`aria-describedby`) and the summary on top links to.
fn error_id(path: &str) -> String {
    format!("error-{path}")
}

fn help_id(path: &str) -> String {
    format!("ayuda-{path}")
}

fn has_problem(problems: &[Problem], path: &str) -> bool {
    problems.iter().any(|p| p.path == path)
}

fn problems_at(problems: &[Problem], path: &str) -> Markup {
    let mine: Vec<&Problem> = problems.iter().filter(|p| p.path == path).collect();
    html! {
        @if !mine.is_empty() {
            p.error-campo id=(error_id(path)) {
                @for (i, problem) in mine.iter().enumerate() { @if i > 0 { br; } (problem.message) }
            }
        }
    }
}

/// The summary of problems on top of the entry form: each one a link to
/// its field, so a keyboard or screen-reader user goes straight there.
pub fn problem_summary(problems: &[Problem]) -> Markup {
    html! {
        @if !problems.is_empty() {
            div.nota.error #resumen-errores role="alert" tabindex="-1" {
                strong { "Revise estos datos:" }
                ul { @for problem in problems { li { a href={"#" (problem.path)} { (problem.message) } } } }
            }
        }
    }
}

/// How an input is named and described to assistive technology.
struct Described<'a> {
    /// The accessible name where no `<label>` names the input (a table
    /// cell: its column and row).
    name: Option<String>,
    required: bool,
    help: bool,
    problems: &'a [Problem],
}

impl Described<'_> {
    fn described_by(&self, path: &str) -> Option<String> {
        let ids: Vec<String> = [
            self.help.then(|| help_id(path)),
            has_problem(self.problems, path).then(|| error_id(path)),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

fn field_input(
    form: &FormSpec,
    field: &FieldSpec,
    value: Option<&Value>,
    path: &str,
    problems: &[Problem],
    more_rows: Option<&str>,
) -> Markup {
    let text = value.map(plain).unwrap_or_default();
    let help = !field.help.is_empty();
    html! {
        div class=[has_problem(problems, path).then_some("campo-error")] {
            @match &field.kind {
                FieldType::Person { identity_required, .. } => {
                    fieldset #(path) aria-describedby=[help.then(|| help_id(path))] {
                        legend { (field.label) @if field.required { " *" } }
                        @if help { span.ayuda id=(help_id(path)) { (field.help) } }
                        @let name_path = format!("{path}.nombre");
                        @let id_path = format!("{path}.identificacion");
                        @let name_error = has_problem(problems, &name_path);
                        @let id_error = has_problem(problems, &id_path);
                        label for=(name_path) { "Nombre" @if field.required { " *" } }
                        input id=(name_path) name=(name_path) maxlength="200" autocomplete="off"
                            required[field.required] aria-invalid=[name_error.then_some("true")]
                            aria-describedby=[name_error.then(|| error_id(&name_path))]
                            value=(value.and_then(|v| v.get("nombre")).map(plain).unwrap_or_default());
                        (problems_at(problems, &name_path))
                        label for=(id_path) { "Identificación" @if *identity_required { " *" } }
                        input id=(id_path) name=(id_path) maxlength="40" autocapitalize="characters" autocomplete="off"
                            required[*identity_required && field.required] aria-invalid=[id_error.then_some("true")]
                            aria-describedby=[id_error.then(|| error_id(&id_path))]
                            value=(value.and_then(|v| v.get("identificacion")).map(plain).unwrap_or_default());
                        (problems_at(problems, &id_path))
                    }
                }
                FieldType::List { max_rows, columns, .. } => {
                    fieldset #(path) aria-describedby=[help.then(|| help_id(path))] {
                        legend { (field.label) @if field.required { " *" } }
                        @if help { span.ayuda id=(help_id(path)) { (field.help) } }
                        @let rows = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
                        @let blank = if more_rows == Some(path) { MORE_ROWS } else { BLANK_ROWS };
                        @let shown = (rows.len() + blank).min(*max_rows).max(1);
                        div.tabla-desplazable {
                            table {
                                thead { tr { th scope="col" { "#" } @for column in columns { th scope="col" { (column.label) @if column.required { " *" } } } } }
                                tbody {
                                    @for n in 1..=shown {
                                        tr {
                                            th scope="row" { (n) }
                                            @for column in columns {
                                                @let cell_path = format!("{path}[{n}].{}", column.name);
                                                td {
                                                    (cell_input(column, rows.get(n - 1).and_then(|r| r.get(&column.name)), &cell_path, n, problems))
                                                    (problems_at(problems, &cell_path))
                                                    @if matches!(column.kind, FieldType::Person { .. }) {
                                                        (problems_at(problems, &format!("{cell_path}.nombre")))
                                                        (problems_at(problems, &format!("{cell_path}.identificacion")))
                                                    }
                                                }
                                            }
                                        }
                                        @let row_path = format!("{path}[{n}]");
                                        @if has_problem(problems, &row_path) {
                                            tr #(row_path) { td colspan=(columns.len() + 1) { (problems_at(problems, &row_path)) } }
                                        }
                                    }
                                }
                            }
                        }
                        @if shown < *max_rows {
                            // Back at this table once the page comes again with its rows.
                            button.secundario type="submit" name="_accion" value={"filas:" (path)}
                                formaction={"/formularios/" (form.id.as_str()) "#" (path)} formnovalidate { "Más filas" }
                        }
                        (problems_at(problems, path))
                    }
                }
                _ => {
                    label for=(path) { (field.label) @if field.required { " *" } }
                    @if help { span.ayuda id=(help_id(path)) { (field.help) } }
                    (scalar_input(field, &text, path, &Described { name: None, required: field.required, help, problems }))
                    (problems_at(problems, path))
                }
            }
        }
    }
}

/// A table cell, named by its column and row: a person column takes its
/// name and number side by side.
fn cell_input(
    column: &FieldSpec,
    value: Option<&Value>,
    path: &str,
    row: usize,
    problems: &[Problem],
) -> Markup {
    match &column.kind {
        FieldType::Person { .. } => {
            let name_path = format!("{path}.nombre");
            let id_path = format!("{path}.identificacion");
            let name_error = has_problem(problems, &name_path);
            let id_error = has_problem(problems, &id_path);
            html! {
                input id=(name_path) name=(name_path) autocomplete="off"
                    aria-label={"Nombre (" (column.label) "), fila " (row)} placeholder="Nombre"
                    aria-invalid=[name_error.then_some("true")] aria-describedby=[name_error.then(|| error_id(&name_path))]
                    value=(value.and_then(|v| v.get("nombre")).map(plain).unwrap_or_default());
                input id=(id_path) name=(id_path) autocomplete="off" autocapitalize="characters"
                    aria-label={"Identificación (" (column.label) "), fila " (row)} placeholder="Identificación"
                    aria-invalid=[id_error.then_some("true")] aria-describedby=[id_error.then(|| error_id(&id_path))]
                    value=(value.and_then(|v| v.get("identificacion")).map(plain).unwrap_or_default());
            }
        }
        // A row left blank is dropped, so a cell is never `required` by itself.
        _ => scalar_input(
            column,
            &value.map(plain).unwrap_or_default(),
            path,
            &Described {
                name: Some(format!("{}, fila {row}", column.label)),
                required: false,
                help: false,
                problems,
            },
        ),
    }
}

/// The longest folio a `documento` field takes.
const DOCUMENT_FOLIO_MAX: usize = crate::forms::DOCUMENT_FOLIO_MAX;

fn scalar_input(field: &FieldSpec, text: &str, path: &str, described: &Described<'_>) -> Markup {
    let name = described.name.as_deref();
    let by = described.described_by(path);
    let invalid = has_problem(described.problems, path).then_some("true");
    let required = described.required;
    html! {
        @match &field.kind {
            FieldType::LongText { max_length, .. } => {
                textarea id=(path) name=(path) maxlength=(max_length) aria-label=[name] required[required]
                    aria-describedby=[by] aria-invalid=[invalid] { (text) }
            }
            FieldType::Text { max_length, .. } => {
                input id=(path) name=(path) maxlength=(max_length) aria-label=[name] required[required]
                    aria-describedby=[by] aria-invalid=[invalid] value=(text);
            }
            FieldType::Document { .. } => {
                input id=(path) name=(path) maxlength=(DOCUMENT_FOLIO_MAX) aria-label=[name] required[required]
                    aria-describedby=[by] aria-invalid=[invalid] value=(text)
                    placeholder="Folio, como DIF/CA/2026/0001";
            }
            FieldType::Date => {
                input id=(path) name=(path) type="date" aria-label=[name] required[required]
                    aria-describedby=[by] aria-invalid=[invalid] value=(text);
            }
            FieldType::Time => {
                input id=(path) name=(path) type="time" aria-label=[name] required[required]
                    aria-describedby=[by] aria-invalid=[invalid] value=(text);
            }
            FieldType::Integer { min, max } => {
                input id=(path) name=(path) type="number" step="1" min=[min] max=[max] aria-label=[name]
                    required[required] aria-describedby=[by] aria-invalid=[invalid] value=(text);
            }
            FieldType::Money { .. } => {
                input id=(path) name=(path) inputmode="decimal" placeholder="0.00" aria-label=[name]
                    required[required] aria-describedby=[by] aria-invalid=[invalid] value=(text);
            }
            FieldType::Enum { values } => {
                select id=(path) name=(path) aria-label=[name] required[required]
                    aria-describedby=[by] aria-invalid=[invalid] {
                    option value="" { "— Elija —" }
                    @for option in values { option value=(option) selected[option == text] { (option) } }
                }
            }
            FieldType::Person { .. } | FieldType::List { .. } => {}
        }
    }
}

/// A document's data to read, each field under its label, tables as tables.
pub fn read_only(form: &FormSpec, data: &Value) -> Markup {
    html! {
        dl.datos {
            @for field in &form.fields {
                @if let Some(value) = data.get(&field.name).filter(|v| !v.is_null()) {
                    dt { (field.label) }
                    dd { (read_only_value(field, value, form.money_style())) }
                }
            }
        }
    }
}

/// What a reviewer approves, first: the fields the form declares in
/// `resumen` (the amount, the budget line, the supplier). Empty when it
/// declares none.
pub fn summary(form: &FormSpec, data: &Value) -> Markup {
    html! {
        @if !form.resumen.is_empty() {
            dl.datos.resumen {
                @for field in form.resumen.iter().filter_map(|name| form.fields.iter().find(|f| &f.name == name)) {
                    dt { (field.label) }
                    dd {
                        @match data.get(&field.name).filter(|v| !v.is_null()) {
                            Some(value) => (read_only_value(field, value, form.money_style())),
                            None => em { "(sin dato)" },
                        }
                    }
                }
            }
        }
    }
}

/// A stored value as the page shows it: amounts with their currency and
/// cents as the document prints them, the rest as stored.
fn read_only_value(field: &FieldSpec, value: &Value, money: crate::forms::MoneyStyle) -> Markup {
    match &field.kind {
        FieldType::List { columns, .. } => html! {
            div.tabla-desplazable {
                table {
                    thead { tr { @for column in columns { th scope="col" { (column.label) } } } }
                    tbody {
                        @for row in value.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                            tr { @for column in columns { td { (row.get(&column.name).map(|v| read_only_value(column, v, money)).unwrap_or_default()) } } }
                        }
                    }
                }
            }
        },
        FieldType::Person { .. } => {
            let name = value.get("nombre").map(plain).unwrap_or_default();
            let number = value.get("identificacion").map(plain).unwrap_or_default();
            html! { (name) @if !number.is_empty() { " (" (number) ")" } }
        }
        FieldType::Money { .. } => {
            html! { (crate::forms::money_text(value, money).unwrap_or_else(|| plain(value))) }
        }
        _ => html! { (plain(value)) },
    }
}

/// A JSON value as the text of an input.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted::new(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>(),
        )
    }

    fn catalog_form(id: &str) -> FormSpec {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        let catalog = crate::forms::Catalog::load(&root).expect("catalog");
        catalog.get(id).expect("form").clone()
    }

    #[test]
    fn posted_fields_become_the_forms_json_without_blanks() {
        let form = catalog_form("oficio-comision");
        let data = posted(&[
            ("lugar_expedicion", "  Soledad, S.L.P. "),
            ("comisionados[1].nombre", "Lucía"),
            ("comisionados[1].cargo", "Auxiliar"),
            ("comisionados[2].nombre", ""),
            ("comisionados[2].cargo", ""),
            ("comisionados[3].nombre", "José"),
            ("conductor.nombre", "Ramiro"),
            ("conductor.identificacion", ""),
            ("objeto", "Línea uno\r\nLínea dos\r\n"),
            ("fecha_regreso", ""),
        ])
        .data(&form);
        assert_eq!(
            data,
            json!({
                "lugar_expedicion": "Soledad, S.L.P.",
                "comisionados": [{"nombre": "Lucía", "cargo": "Auxiliar"}, {"nombre": "José"}],
                "objeto": "Línea uno\nLínea dos",
                "conductor": {"nombre": "Ramiro"},
            })
        );
    }

    #[test]
    fn an_identity_number_is_kept_as_it_is_checked() {
        let form = catalog_form("oficio-autorizacion-apoyo");
        let data = posted(&[
            ("beneficiario.nombre", "Rosa"),
            ("beneficiario.identificacion", " goml 850312msprpr09 "),
        ])
        .data(&form);
        assert_eq!(data["beneficiario"]["identificacion"], "GOML850312MSPRPR09");
    }

    #[test]
    fn a_field_with_a_problem_is_marked_and_points_to_its_message() {
        let form = catalog_form("oficio-comision");
        let problems = vec![Problem {
            path: "comisionados[2].cargo".into(),
            message: "«Cargo» es obligatorio y está vacío".into(),
        }];
        let html = fields(&form, &json!({}), &problems, None).into_string();
        let input = html
            .split("<input")
            .find(|i| i.contains("name=\"comisionados[2].cargo\""))
            .expect("the cell");
        assert!(input.contains("aria-invalid=\"true\""), "{input}");
        assert!(
            input.contains("aria-describedby=\"error-comisionados[2].cargo\""),
            "{input}"
        );
        assert!(input.contains("aria-label=\"Cargo, fila 2\""), "{input}");
        assert!(html.contains("id=\"error-comisionados[2].cargo\""));
        // A field with a label is named by it, not by an aria-label.
        let place = html
            .split("<input")
            .find(|i| i.contains("name=\"lugar_expedicion\""))
            .expect("the place");
        assert!(!place.contains("aria-label"), "{place}");
        assert!(place.contains(" required"), "{place}");
        let summary = problem_summary(&problems).into_string();
        assert!(summary.contains("href=\"#comisionados[2].cargo\""), "{summary}");
    }

    #[test]
    fn markup_typed_in_a_field_is_shown_as_text() {
        let form = catalog_form("oficio-comision");
        let data = json!({"evento": "<script>alert(1)</script>"});
        let html = fields(&form, &data, &[], None).into_string();
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn each_problem_is_shown_next_to_its_field() {
        let form = catalog_form("oficio-comision");
        let problems = vec![Problem {
            path: "comisionados[1].cargo".into(),
            message: "«Cargo» es obligatorio y está vacío".into(),
        }];
        let html = fields(
            &form,
            &json!({"comisionados": [{"nombre": "Ana"}]}),
            &problems,
            None,
        )
        .into_string();
        let input = html.find("name=\"comisionados[1].cargo\"").expect("cell");
        let error = html.find("«Cargo» es obligatorio").expect("error");
        assert!(error > input, "the error follows its input");
    }
}
