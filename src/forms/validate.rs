//! Checks a document's data against its form before anything is rendered.
//!
//! Every problem is collected (a clerk fixes them all in one pass), each with
//! the path of the field (`asistentes[3].nombre`, rows counted from 1 as the
//! clerk sees them) and a Spanish message that names the field by its label.
//!
//! Long because every field type's checks are here, in one pass over the
//! data, so that all the problems come out together, with their tests.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use super::dates::{self, IssueDate};
use super::identity;
use super::invisible;
use super::rules;
use super::spec::{FieldSpec, FieldType, FormSpec};
use crate::fonts::printable;

/// The longest folio a `documento` field takes: longer than any folio
/// format prints.
pub const DOCUMENT_FOLIO_MAX: usize = 60;

/// One thing wrong with the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Where: `comisionados[2].nombre`; empty for the document as a whole.
    pub path: String,
    /// What, in Spanish, for the person who typed it.
    pub message: String,
}

/// Everything wrong with the data, in the order of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Whether any problem is about `path` exactly.
    pub fn mentions(&self, path: &str) -> bool {
        self.0.iter().any(|p| p.path == path)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Checks `data` against `form`, field by field and then the form's rules,
/// some of which relate its dates to the day it is issued (`when`);
/// returns every problem found.
pub fn validate(form: &FormSpec, data: &Value, when: IssueDate) -> Result<(), Problems> {
    let mut problems = Vec::new();
    match data {
        Value::Object(object) => {
            check_object(&form.fields, object, "", &mut problems);
            problems.extend(rules::check(form, data, when).errors);
        }
        _ => problems.push(Problem {
            path: String::new(),
            message: "los datos deben ser un objeto JSON con los campos del formulario".into(),
        }),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

/// What the form's rules warn about in data that is otherwise valid: shown
/// to the clerk, who may go on.
pub fn warnings(form: &FormSpec, data: &Value, when: IssueDate) -> Vec<Problem> {
    rules::check(form, data, when).warnings
}

fn check_object(
    fields: &[FieldSpec],
    object: &Map<String, Value>,
    prefix: &str,
    problems: &mut Vec<Problem>,
) {
    for field in fields {
        let path = format!("{prefix}{}", field.name);
        check_field(field, object.get(&field.name), &path, problems);
    }
    for key in object.keys() {
        if !fields.iter().any(|f| &f.name == key) {
            problems.push(Problem {
                path: format!("{prefix}{key}"),
                message: "este formulario no tiene ese campo; revise el nombre".into(),
            });
        }
    }
}

pub(super) fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(rows)) => rows.is_empty(),
        Some(_) => false,
    }
}

fn check_field(field: &FieldSpec, value: Option<&Value>, path: &str, problems: &mut Vec<Problem>) {
    let label = &field.label;
    let mut fail = |message: String| {
        problems.push(Problem {
            path: path.to_owned(),
            message,
        })
    };
    if is_blank(value) {
        if field.required {
            fail(format!("«{label}» es obligatorio y está vacío"));
        }
        return;
    }
    let Some(value) = value else { return };
    match &field.kind {
        FieldType::Text {
            min_length,
            max_length,
        } => match value.as_str() {
            Some(text) if text.contains(['\n', '\r']) => {
                fail(format!("«{label}» debe ocupar una sola línea"))
            }
            Some(text) => check_length(label, text, *min_length, *max_length).map_or((), fail),
            None => fail(format!("«{label}» debe ser texto")),
        },
        FieldType::LongText {
            min_length,
            max_length,
        } => match value.as_str() {
            Some(text) => check_length(label, text, *min_length, *max_length).map_or((), fail),
            None => fail(format!("«{label}» debe ser texto")),
        },
        FieldType::Date => match value.as_str().and_then(parse_date) {
            Some(date) => dates::year_problem(label, date).map_or((), fail),
            None => fail(format!(
                "«{label}» debe ser una fecha válida escrita como 2026-11-22 (año-mes-día)"
            )),
        },
        FieldType::Time => {
            if !value.as_str().is_some_and(is_time) {
                fail(format!(
                    "«{label}» debe ser una hora escrita como 09:30 (de 00:00 a 23:59)"
                ));
            }
        }
        FieldType::Integer { min, max } => match value.as_i64() {
            Some(n) => check_range(label, n, *min, *max, |n| n.to_string()).map_or((), fail),
            None => fail(format!("«{label}» debe ser un número entero, sin decimales")),
        },
        FieldType::Money { min_cents, max_cents } => match parse_cents(value) {
            Some(cents) => {
                check_range(label, cents, min_cents.or(Some(0)), *max_cents, cents_text).map_or((), fail)
            }
            None => fail(format!(
                "«{label}» debe ser un importe con hasta dos decimales, como 1500.50"
            )),
        },
        FieldType::Enum { values } => {
            if !value.as_str().is_some_and(|v| values.iter().any(|a| a == v)) {
                fail(format!("«{label}» debe ser una de: {}", values.join(", ")))
            }
        }
        FieldType::Person {
            identity,
            identity_required,
            ..
        } => check_person(field, value, *identity, *identity_required, path, problems),
        FieldType::List {
            min_rows,
            max_rows,
            columns,
        } => check_rows(label, value, *min_rows, *max_rows, columns, path, problems),
        // Only its shape here: whether the folio names a document the
        // office may cite is the archive's to say (`archive::case`).
        FieldType::Document { .. } => match value.as_str() {
            Some(text) if text.contains(['\n', '\r']) => fail(format!(
                "«{label}» es el folio de un documento, en una sola línea"
            )),
            Some(text) => check_length(label, text, None, DOCUMENT_FOLIO_MAX).map_or((), fail),
            None => fail(format!(
                "«{label}» debe ser el folio de un documento, como DIF/CA/2026/0001"
            )),
        },
    }
}

fn check_length(label: &str, text: &str, min: Option<usize>, max: usize) -> Option<String> {
    if let Some((c, what)) = invisible::find(text) {
        return Some(format!(
            "«{label}» contiene {what} (U+{:04X}), un carácter invisible: lo impreso no \
             coincidiría con lo que se guarda y se busca; escríbalo de nuevo, sin copiarlo y pegarlo",
            c as u32
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| !matches!(c, '\n' | '\r' | '\t') && !printable(*c))
    {
        return Some(format!(
            "«{label}» contiene el carácter «{}» (U+{:04X}), que no se puede imprimir; quítelo o reemplácelo",
            c.escape_default(),
            c as u32
        ));
    }
    let length = text.trim().chars().count();
    if length > max {
        return Some(format!(
            "«{label}» admite hasta {max} caracteres y tiene {length}"
        ));
    }
    match min {
        Some(min) if length < min => Some(format!(
            "«{label}» debe tener al menos {min} caracteres y tiene {length}"
        )),
        _ => None,
    }
}

fn check_range(
    label: &str,
    n: i64,
    min: Option<i64>,
    max: Option<i64>,
    show: impl Fn(i64) -> String,
) -> Option<String> {
    match (min, max) {
        (Some(min), _) if n < min => Some(format!("«{label}» no puede ser menor que {}", show(min))),
        (_, Some(max)) if n > max => Some(format!("«{label}» no puede ser mayor que {}", show(max))),
        _ => None,
    }
}

/// Parses an ISO date strictly: four-digit year, two-digit month and day.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shape
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

fn is_time(text: &str) -> bool {
    let b = text.as_bytes();
    let two_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    b.len() == 5
        && b[2] == b':'
        && two_digits(&b[..2])
        && two_digits(&b[3..])
        && text[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && text[3..].parse::<u8>().is_ok_and(|m| m < 60)
}

/// Reads an amount given as a JSON number or a decimal string, in cents.
/// A money field's value in cents, as validation reads it; `None` when it
/// is not an amount with at most two decimals.
pub fn money_cents(value: &Value) -> Option<i64> {
    parse_cents(value)
}

fn parse_cents(value: &Value) -> Option<i64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 13
        || fraction.len() > 2
        || !all_digits(whole)
        || !all_digits(fraction)
    {
        return None;
    }
    let cents = whole.parse::<i64>().ok()? * 100 + format!("{fraction:0<2}").parse::<i64>().ok()?;
    Some(if negative { -cents } else { cents })
}

fn cents_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

fn check_person(
    field: &FieldSpec,
    value: &Value,
    identity: super::IdentityKind,
    identity_required: bool,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(person) = value.as_object() else {
        problems.push(Problem {
            path: path.to_owned(),
            message: format!(
                "«{}» debe indicar «nombre» e «identificacion» de la persona",
                field.label
            ),
        });
        return;
    };
    let name = FieldSpec {
        filled_by: None,
        name: "nombre".into(),
        label: format!("Nombre ({})", field.label),
        help: String::new(),
        required: true,
        criterion: None,
        kind: FieldType::Text {
            min_length: None,
            max_length: 200,
        },
    };
    let number = FieldSpec {
        filled_by: None,
        name: "identificacion".into(),
        label: format!("Identificación ({})", field.label),
        required: identity_required,
        kind: FieldType::Text {
            min_length: None,
            max_length: 40,
        },
        ..name.clone()
    };
    let before = problems.len();
    check_object(&[name, number], person, &format!("{path}."), problems);
    let number_ok = problems.len() == before;
    if let (true, Some(text)) = (number_ok, person.get("identificacion").and_then(Value::as_str))
        && !text.trim().is_empty()
        && let Err(message) = identity::check(identity, text.trim())
    {
        // Said of whom: in a table of twelve people, the name finds the row.
        let whose = person.get("nombre").and_then(Value::as_str).map(str::trim);
        let message = match whose.filter(|n| !n.is_empty()) {
            Some(name) => format!("«{}» de {name}: {message}", field.label),
            None => format!("«{}»: {message}", field.label),
        };
        problems.push(Problem {
            path: format!("{path}.identificacion"),
            message,
        });
    }
}

fn check_rows(
    label: &str,
    value: &Value,
    min_rows: usize,
    max_rows: usize,
    columns: &[FieldSpec],
    path: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(rows) = value.as_array() else {
        problems.push(Problem {
            path: path.to_owned(),
            message: format!("«{label}» debe ser una lista de filas"),
        });
        return;
    };
    if rows.len() < min_rows || rows.len() > max_rows {
        let message = if rows.len() < min_rows {
            format!(
                "«{label}» debe tener al menos {min_rows} fila(s) y tiene {}",
                rows.len()
            )
        } else {
            format!("«{label}» admite hasta {max_rows} filas y tiene {}", rows.len())
        };
        problems.push(Problem {
            path: path.to_owned(),
            message,
        });
    }
    for (index, row) in rows.iter().enumerate() {
        let row_path = format!("{path}[{}]", index + 1);
        match row.as_object() {
            Some(object) => check_object(columns, object, &format!("{row_path}."), problems),
            None => problems.push(Problem {
                path: row_path,
                message: format!("cada fila de «{label}» debe ser un objeto con sus columnas"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_parsed_strictly() {
        assert!(parse_date("2026-11-22").is_some());
        for bad in [
            "2026-2-3",
            "22/11/2026",
            "2026-02-30",
            "2026-11-22T10:00",
            " 2026-11-22",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn amounts_keep_their_cents_exactly() {
        assert_eq!(parse_cents(&serde_json::json!(1500.5)), Some(150_050));
        assert_eq!(parse_cents(&serde_json::json!("0.07")), Some(7));
        assert_eq!(parse_cents(&serde_json::json!(12)), Some(1_200));
        assert_eq!(parse_cents(&serde_json::json!("1.234")), None);
        assert_eq!(parse_cents(&serde_json::json!("1,5")), None);
    }

    #[test]
    fn times_are_between_midnight_and_one_minute_to() {
        assert!(is_time("09:30") && is_time("23:59") && is_time("00:00"));
        assert!(!is_time("24:00") && !is_time("9:30") && !is_time("09:60") && !is_time("+9:30"));
    }
}
