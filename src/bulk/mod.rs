//! Bulk issuance: one signed, archived document per row of a spreadsheet.
//! Every row is validated first and each problem reported with its line,
//! column and a Spanish message; the valid rows are issued with folios in
//! row order, rendering and signing on every core, with a bounded number
//! in flight. Each row's idempotency key comes from its form and data, so
//! a rerun (after fixing the bad rows, or after a crash) issues only what
//! is missing.
//!
//! Here: preparing the rows (validation, each row's key) and the CSVs a
//! run hands back. Issuing them in order on every core is `pipeline`'s.

pub mod approval;
pub mod chunks;
mod input;
pub mod limits;
pub mod lotes;
mod mapping;
mod merged;
mod padron;
mod pipeline;
mod run;
mod xlsx;

pub use input::{InputError, Sheet, read_csv, read_sheet, read_upload};
pub use mapping::{Mapping, MappingFile};
pub use merged::merged_pdf;
pub use padron::{Lote, PADRON_FORM, Responsible, TOMO_ROWS, issue_padron};
pub use pipeline::{BulkIssuer, Clock, IssuedRow, Reserving, RowOutcome, SEARCH_BATCH, system_clock};
pub use run::{CheckError, Checked, RunError, RunEvent, RunOrder, check_cases, check_sheet, run_lote};

use serde_json::Value;

use crate::archive::{normal_identity, request_sha256};
use crate::forms::{FormSpec, IssueDate, validate};
use crate::public_id::PublicId;

/// What every bulk idempotency key starts with.
pub const KEY_PREFIX: &str = "lote-";

/// A row ready to issue.
#[derive(Debug, Clone)]
pub struct ReadyRow {
    /// The line in the clerk's file.
    pub line: usize,
    pub data: Value,
    /// The public id of the expediente to file it in.
    pub expediente: Option<PublicId>,
    /// Its idempotency key (see [`row_key`]).
    pub key: String,
    /// The document its lote reserved for it (its folio), once reserved:
    /// the one its chunk completes, and no other under the same key.
    pub reserved: Option<i64>,
}

/// Something wrong with a row, as the clerk fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    pub column: String,
    pub message: String,
    /// The person the row names, when it names one: the clerk finds the
    /// row by it in the CSV of problems.
    pub person: Option<String>,
}

/// Refuses a form whose workflow asks for more than one signature (a
/// visado, an approval, a second signer): its documents are issued one by
/// one through their steps, never in bulk or from the terminal. And one
/// Sello builds itself from the archive (`interno`), never from a sheet
/// or a JSON file.
pub fn refuse_reviewed(form: &FormSpec) -> Result<(), String> {
    form.refuse_internal()?;
    if form.workflow.allows_direct_issue(crate::accounts::Role::Firmante) {
        Ok(())
    } else {
        Err(format!(
            "«{}» se emite tras su trámite ({}), uno por uno desde la aplicación web o la API",
            form.id,
            form.workflow.describe_review()
        ))
    }
}

/// Validates every row as of the run's issue date; returns those ready
/// and every problem found.
pub fn prepare(
    form: &FormSpec,
    sheet: &Sheet,
    mapping: &Mapping,
    expediente_column: Option<usize>,
    when: IssueDate,
) -> (Vec<ReadyRow>, Vec<RowProblem>) {
    let mut ready: Vec<ReadyRow> = Vec::new();
    let mut problems = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (line, cells) in &sheet.rows {
        let broken: Vec<RowProblem> = sheet
            .cell_errors
            .iter()
            .filter(|(l, _, _)| l == line)
            .map(|(_, column, error)| RowProblem {
                line: *line,
                column: sheet.headers.get(*column).cloned().unwrap_or_default(),
                message: format!(
                    "la celda tiene un error de la planilla ({error}); corrija su fórmula o su valor"
                ),
                person: None,
            })
            .collect();
        if !broken.is_empty() {
            problems.extend(broken);
            continue;
        }
        if cells
            .iter()
            .skip(sheet.headers.len())
            .any(|c| !c.trim().is_empty())
        {
            problems.push(RowProblem {
                line: *line,
                column: String::new(),
                message: format!(
                    "la fila tiene más columnas ({}) que el encabezado ({}): ¿un separador dentro de una celda sin comillas?",
                    cells.len(),
                    sheet.headers.len()
                ),
                person: None,
            });
            continue;
        }
        let data = mapping.row_data(form, cells);
        let person = form.person_concerned(&data);
        let mut row_problems: Vec<RowProblem> = match validate(form, &data, when) {
            Ok(()) => Vec::new(),
            Err(found) => found
                .0
                .into_iter()
                .map(|p| RowProblem {
                    line: *line,
                    column: mapping.column_of(&p.path),
                    message: p.message,
                    person: person.clone(),
                })
                .collect(),
        };
        let expediente = match expediente_column {
            None => None,
            Some(column) => {
                let text = cells.get(column).map(|c| c.trim()).unwrap_or_default();
                match PublicId::parse(text) {
                    Ok(id) => Some(id),
                    Err(_) => {
                        row_problems.push(RowProblem {
                            line: *line,
                            column: sheet.headers.get(column).cloned().unwrap_or_default(),
                            message: format!(
                                "«{text}» no es el identificador de un expediente (32 letras y dígitos, como en su página)"
                            ),
                            person: person.clone(),
                        });
                        None
                    }
                }
            }
        };
        if row_problems.is_empty() {
            let key = row_key(form, &data, expediente);
            if let Some(first) = seen.get(&key) {
                problems.push(RowProblem {
                    line: *line,
                    column: String::new(),
                    message: format!(
                        "repite la línea {first}: se emite un solo documento por persona y datos"
                    ),
                    person,
                });
                continue;
            }
            seen.insert(key.clone(), *line);
            ready.push(ReadyRow {
                line: *line,
                data,
                expediente,
                key,
                reserved: None,
            });
        } else {
            problems.extend(row_problems);
        }
    }
    (ready, problems)
}

/// The stable key of a row: the same form, data and expediente are the
/// same document. Spacing and the dots of identity numbers do not count,
/// so a file re-saved by Excel still finds what it issued.
pub fn row_key(form: &FormSpec, data: &Value, expediente: Option<PublicId>) -> String {
    fn canonical(value: &Value, identity: bool) -> Value {
        match value {
            Value::String(text) if identity => Value::String(normal_identity(text)),
            Value::String(text) => Value::String(text.split_whitespace().collect::<Vec<_>>().join(" ")),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), canonical(v, k == "identificacion")))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| canonical(v, false)).collect()),
            other => other.clone(),
        }
    }
    let keyed = serde_json::json!({"datos": canonical(data, false), "expediente": expediente});
    let hash = request_sha256(form.id.as_str(), &keyed);
    format!("{KEY_PREFIX}{}", &hash[..40])
}

/// The documents of a run, in row order, as a CSV for the office's records
/// and for handing out: `linea;folio;verificacion;nombre`.
pub fn issued_csv(rows: &[IssuedRow]) -> Vec<u8> {
    // The person's name, so the clerk finds each row without the spreadsheet beside it.
    crate::csv_out::for_spreadsheets(
        &["linea", "folio", "verificacion", "nombre"],
        rows.iter().map(|row| {
            vec![
                row.line.to_string(),
                row.folio.clone(),
                row.url.clone(),
                row.person.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
            ]
        }),
    )
}

/// The problems as a CSV the clerk opens beside the spreadsheet to fix it:
/// `linea;columna;problema;nombre` (the person the row names, when it
/// names one), separated by semicolons and in UTF-8 with a BOM, as Excel
/// in Spanish opens it. A column's name is the clerk's own header, which
/// may begin like a formula: it is written as text.
pub fn problems_csv(problems: &[RowProblem]) -> Vec<u8> {
    crate::csv_out::for_spreadsheets(
        &["linea", "columna", "problema", "nombre"],
        problems.iter().map(|problem| {
            vec![
                problem.line.to_string(),
                problem.column.clone(),
                problem.message.clone(),
                problem.person.clone().unwrap_or_default(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> FormSpec {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        crate::forms::Catalog::load(&root)
            .expect("catalog")
            .get("carta-compromiso")
            .expect("form")
            .clone()
    }

    /// The day the examples are issued on in the tests.
    fn on_test_day() -> IssueDate {
        IssueDate::On(chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date"))
    }

    /// The example as one spreadsheet row, under the fields' names.
    fn sheet(rows: usize) -> Sheet {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms/carta-compromiso/example.json");
        let example: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("JSON");
        let mut headers = Vec::new();
        let mut cells = Vec::new();
        for (name, value) in example.as_object().expect("object") {
            match value {
                Value::Object(parts) => {
                    for (part, text) in parts {
                        headers.push(format!("{name}.{part}"));
                        cells.push(text.as_str().expect("text").to_owned());
                    }
                }
                other => {
                    headers.push(name.clone());
                    cells.push(other.as_str().expect("text").to_owned());
                }
            }
        }
        Sheet {
            headers,
            rows: (0..rows).map(|i| (i + 2, cells.clone())).collect(),
            cell_errors: Vec::new(),
        }
    }

    #[test]
    fn a_spreadsheet_error_in_a_cell_is_reported_not_printed() {
        let form = form();
        let mut sheet = sheet(2);
        sheet.rows[1].1[0] = "#N/A".into();
        sheet.cell_errors.push((3, 0, "#N/A".into()));
        let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
        let (ready, problems) = prepare(&form, &sheet, &mapping, None, on_test_day());
        assert_eq!(ready.iter().map(|r| r.line).collect::<Vec<_>>(), [2]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 3);
        assert_eq!(problems[0].column, sheet.headers[0]);
        assert!(problems[0].message.contains("#N/A"), "{problems:?}");
    }

    #[test]
    fn a_listado_and_a_problems_csv_are_text_to_a_spreadsheet() {
        let issued = [IssuedRow {
            line: 2,
            id: PublicId::generate().expect("random"),
            row_id: 1,
            folio: "=1+1".into(),
            url: "@SUM(1)".into(),
            person: Some(crate::archive::NamedPerson {
                role: "representante".into(),
                name: "=2+2".into(),
                identity: String::new(),
            }),
        }];
        let listado = String::from_utf8(issued_csv(&issued)).expect("UTF-8");
        assert_eq!(
            listado,
            "\u{feff}linea;folio;verificacion;nombre\n2;'=1+1;'@SUM(1);'=2+2\n"
        );
        let problems = [RowProblem {
            line: 3,
            column: "-2+3".into(),
            message: "+cmd|' /C calc'!A0".into(),
            person: Some("=Ana".into()),
        }];
        let report = String::from_utf8(problems_csv(&problems)).expect("UTF-8");
        assert_eq!(
            report,
            "\u{feff}linea;columna;problema;nombre\n3;'-2+3;'+cmd|' /C calc'!A0;'=Ana\n"
        );
    }

    #[test]
    fn the_same_family_twice_in_a_file_is_issued_once() {
        let form = form();
        let mut sheet = sheet(3);
        // The third row differs only in spacing and the dots of the RUN.
        let id = sheet
            .headers
            .iter()
            .position(|h| h == "representante.identificacion")
            .expect("column");
        sheet.rows[2].1[id] = sheet.rows[2].1[id].replace('.', "");
        sheet.rows[2].1[0] = format!("  {}  ", sheet.rows[2].1[0]);
        let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
        let (ready, problems) = prepare(&form, &sheet, &mapping, None, on_test_day());
        assert_eq!(ready.len(), 1);
        let lines: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines.iter().all(|(_, m)| m.starts_with("repite la línea 2")),
            "{lines:?}"
        );
    }
}
