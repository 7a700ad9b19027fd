//! The rules the seeds state across fields, declared in `form.toml` under
//! `[[rules]]`: dates in order and on the right side of the issue date, sums and counts that must agree, lists that
//! must cover every option, fields required by another's value, values
//! that must not repeat, and a few rules of the Programa Familias that need
//! code (family composition, the order of precedence of the cash-transfer
//! recipient, an adult representative).
//!
//! Long because each kind of rule is declared, checked when the form
//! loads and applied to data here, so a rule is read in one place.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::dates::{IssueDate, Side, check_issue_side};
use super::spec::{FieldSpec, FieldType, FormSpec};
use super::validate::{Problem, is_blank, parse_date};

/// A rule, checked against the form's fields when the form is loaded.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Rule {
    /// Dates or times, where filled in, in this order; `list[].column`
    /// entries are checked row by row.
    Order { fields: Vec<String>, strict: bool },
    /// Dates, where filled in, on the issue date or after it (and, with
    /// `days`, no more than that many days after it): what the document
    /// authorises or announces has not happened yet.
    NotBeforeIssue {
        fields: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        days: Option<u32>,
    },
    /// Dates, where filled in, on the issue date or before it (and, with
    /// `days`, no more than that many days before it): what the document
    /// records had happened when it was signed.
    NotAfterIssue {
        fields: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        days: Option<u32>,
    },
    /// The integer fields add up to `equals`.
    Sum { fields: Vec<String>, equals: String },
    /// The table `list` has as many rows as the integer field `equals`.
    Count { list: String, equals: String },
    /// Every option of the enum `column` appears in some row of `list`.
    Covers { list: String, column: String },
    /// `field` is required when `when` has the value `is`.
    RequiredIf { field: String, when: String, is: String },
    /// No two rows of `list` share a value (or identity number) in `column`.
    Unique { list: String, column: String },
    /// Programa Familias: the counts of members by age agree with the list
    /// of members, one head of household, representative and recipient
    /// among the members.
    ComposicionFamiliar,
    /// Programa Familias: the cash-transfer recipient follows the order of
    /// precedence (a warning naming the rule when it is skipped).
    PrelacionCobrador,
    /// Programa Familias: the representative who signs is an adult, unless
    /// the family is made only of minors.
    RepresentanteAdulto,
}

/// A rule with the severity and message the form gives it.
#[derive(Debug, Clone, Serialize)]
pub struct DeclaredRule {
    #[serde(flatten)]
    pub rule: Rule,
    /// A warning does not stop issuance; it is shown to the clerk.
    pub warning: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    #[serde(rename = "type")]
    kind: String,
    fields: Option<Vec<String>>,
    equals: Option<String>,
    list: Option<String>,
    column: Option<String>,
    field: Option<String>,
    when: Option<String>,
    is: Option<String>,
    #[serde(default)]
    strict: bool,
    days: Option<u32>,
    #[serde(default)]
    warning: bool,
    message: Option<String>,
}

impl RawRule {
    pub(super) fn check(self, fields: &[FieldSpec]) -> Result<DeclaredRule, String> {
        let need = |value: Option<String>, key: &str| {
            value.ok_or_else(|| format!("la regla «{}» necesita «{key}»", self.kind))
        };
        if self.days.is_some() && !self.kind.ends_with("_issue") {
            return Err(format!("«days» no aplica a una regla «{}»", self.kind));
        }
        let rule = match self.kind.as_str() {
            "order" => {
                let list_fields = self.fields.clone().unwrap_or_default();
                if list_fields.len() < 2 {
                    return Err("la regla «order» necesita al menos dos campos".into());
                }
                for path in &list_fields {
                    match lookup(fields, path)?.kind {
                        FieldType::Date | FieldType::Time => {}
                        _ => return Err(format!("«{path}» no es una fecha ni una hora")),
                    }
                }
                let lists: Vec<&str> = list_fields
                    .iter()
                    .filter_map(|p| p.split_once("[].").map(|(l, _)| l))
                    .collect();
                if lists.windows(2).any(|w| w[0] != w[1]) {
                    return Err("una regla «order» solo puede recorrer una tabla".into());
                }
                Rule::Order {
                    fields: list_fields,
                    strict: self.strict,
                }
            }
            "not_before_issue" | "not_after_issue" => {
                let dated = self.fields.clone().unwrap_or_default();
                if dated.is_empty() {
                    return Err(format!("la regla «{}» necesita «fields»", self.kind));
                }
                for path in &dated {
                    if !matches!(lookup(fields, path)?.kind, FieldType::Date) {
                        return Err(format!("«{path}» no es una fecha"));
                    }
                }
                if self.kind == "not_before_issue" {
                    Rule::NotBeforeIssue {
                        fields: dated,
                        days: self.days,
                    }
                } else {
                    Rule::NotAfterIssue {
                        fields: dated,
                        days: self.days,
                    }
                }
            }
            "sum" => {
                let parts = self.fields.clone().unwrap_or_default();
                let equals = need(self.equals.clone(), "equals")?;
                for path in parts.iter().chain([&equals]) {
                    integer_field(fields, path)?;
                }
                Rule::Sum {
                    fields: parts,
                    equals,
                }
            }
            "count" => {
                let list = need(self.list.clone(), "list")?;
                let equals = need(self.equals.clone(), "equals")?;
                list_columns(fields, &list)?;
                integer_field(fields, &equals)?;
                Rule::Count { list, equals }
            }
            "covers" => {
                let list = need(self.list.clone(), "list")?;
                let column = need(self.column.clone(), "column")?;
                match list_columns(fields, &list)?
                    .iter()
                    .find(|c| c.name == column)
                    .map(|c| &c.kind)
                {
                    Some(FieldType::Enum { .. }) => {}
                    _ => return Err(format!("«{list}[].{column}» no es una columna de opciones")),
                }
                Rule::Covers { list, column }
            }
            "required_if" => {
                let field = need(self.field.clone(), "field")?;
                let when = need(self.when.clone(), "when")?;
                let is = need(self.is.clone(), "is")?;
                lookup(fields, &field)?;
                lookup(fields, &when)?;
                Rule::RequiredIf { field, when, is }
            }
            "unique" => {
                let list = need(self.list.clone(), "list")?;
                let column = need(self.column.clone(), "column")?;
                if !list_columns(fields, &list)?.iter().any(|c| c.name == column) {
                    return Err(format!("«{list}» no tiene la columna «{column}»"));
                }
                Rule::Unique { list, column }
            }
            "composicion_familiar" => Rule::ComposicionFamiliar,
            "prelacion_cobrador" => Rule::PrelacionCobrador,
            "representante_adulto" => Rule::RepresentanteAdulto,
            other => return Err(format!("tipo de regla desconocido «{other}»")),
        };
        Ok(DeclaredRule {
            rule,
            warning: self.warning,
            message: self.message,
        })
    }
}

/// The field at `path` (`name` or `list[].column`).
fn lookup<'a>(fields: &'a [FieldSpec], path: &str) -> Result<&'a FieldSpec, String> {
    match path.split_once("[].") {
        Some((list, column)) => list_columns(fields, list)?
            .iter()
            .find(|c| c.name == column)
            .ok_or_else(|| format!("«{list}» no tiene la columna «{column}»")),
        None => fields
            .iter()
            .find(|f| f.name == path)
            .ok_or_else(|| format!("no existe el campo «{path}»")),
    }
}

fn list_columns<'a>(fields: &'a [FieldSpec], list: &str) -> Result<&'a [FieldSpec], String> {
    match fields.iter().find(|f| f.name == list).map(|f| &f.kind) {
        Some(FieldType::List { columns, .. }) => Ok(columns),
        _ => Err(format!("«{list}» no es una tabla del formulario")),
    }
}

fn integer_field(fields: &[FieldSpec], path: &str) -> Result<(), String> {
    match lookup(fields, path)?.kind {
        FieldType::Integer { .. } => Ok(()),
        _ => Err(format!("«{path}» no es un número entero")),
    }
}

/// What the rules found: errors refuse the data, warnings are shown.
#[derive(Debug, Default)]
pub struct RuleFindings {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// Checks every rule of `form` against data already checked field by
/// field, as of the day it is issued.
pub fn check(form: &FormSpec, data: &Value, when: IssueDate) -> RuleFindings {
    let fields = &form.fields;
    let mut findings = RuleFindings::default();
    for declared in &form.rules {
        let mut found = Vec::new();
        let mut skipped = Vec::new();
        match &declared.rule {
            Rule::NotBeforeIssue { fields: dated, days } => {
                check_issue_side(form, data, when, (Side::NotBefore, dated, *days), &mut found)
            }
            Rule::NotAfterIssue { fields: dated, days } => {
                check_issue_side(form, data, when, (Side::NotAfter, dated, *days), &mut found)
            }
            rule => check_rule(rule, fields, data, &mut found, &mut skipped),
        }
        findings.warnings.extend(skipped);
        for mut problem in found {
            if let Some(message) = &declared.message {
                problem.message = format!("{message} ({})", problem.message);
            }
            if declared.warning {
                findings.warnings.push(problem);
            } else {
                findings.errors.push(problem);
            }
        }
    }
    findings
}

pub(super) fn label(fields: &[FieldSpec], path: &str) -> String {
    lookup(fields, path)
        .map(|f| f.label.clone())
        .unwrap_or_else(|_| path.to_owned())
}

pub(super) fn text<'a>(data: &'a Value, name: &str) -> Option<&'a str> {
    data.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

pub(super) fn rows<'a>(data: &'a Value, list: &str) -> &'a [Value] {
    data.get(list)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `found` gets what breaks the rule; `skipped` what a named rule only warns about.
fn check_rule(
    rule: &Rule,
    fields: &[FieldSpec],
    data: &Value,
    found: &mut Vec<Problem>,
    skipped: &mut Vec<Problem>,
) {
    let mut fail = |path: String, message: String| found.push(Problem { path, message });
    match rule {
        Rule::Order {
            fields: chain,
            strict,
        } => {
            let list = chain
                .iter()
                .find_map(|p| p.split_once("[].").map(|(l, _)| l.to_owned()));
            let row_count = list.as_deref().map_or(1, |l| rows(data, l).len().max(1));
            for row in 0..row_count {
                let mut previous: Option<(String, &str)> = None;
                for path in chain {
                    let (value, shown) = match path.split_once("[].") {
                        Some((l, column)) => (
                            rows(data, l).get(row).and_then(|r| text(r, column)),
                            format!("{l}[{}].{column}", row + 1),
                        ),
                        None => (text(data, path), path.clone()),
                    };
                    let Some(value) = value else { continue };
                    if let Some((before_path, before)) = &previous {
                        let wrong = if *strict {
                            value <= *before
                        } else {
                            value < *before
                        };
                        if wrong {
                            let relation = if *strict {
                                "debe ser posterior a"
                            } else {
                                "no puede ser anterior a"
                            };
                            // A row's date before a field of the document: say which row.
                            let row = match (before_path.split_once('['), shown.contains('[')) {
                                (Some((_, rest)), false) => rest
                                    .split_once(']')
                                    .map_or(String::new(), |(n, _)| format!(" de la fila {n}")),
                                _ => String::new(),
                            };
                            fail(
                                shown.clone(),
                                format!(
                                    "«{}» ({value}) {relation} «{}»{row} ({before})",
                                    label(fields, path),
                                    label(fields, &plain(before_path))
                                ),
                            );
                        }
                    }
                    previous = Some((shown, value));
                }
            }
        }
        Rule::Sum {
            fields: parts,
            equals,
        } => {
            let values: Option<Vec<i64>> = parts
                .iter()
                .map(|p| data.get(p).and_then(Value::as_i64))
                .collect();
            if let (Some(values), Some(total)) = (values, data.get(equals).and_then(Value::as_i64)) {
                let sum: i64 = values.iter().sum();
                if sum != total {
                    let names: Vec<String> =
                        parts.iter().map(|p| format!("«{}»", label(fields, p))).collect();
                    fail(
                        equals.clone(),
                        format!(
                            "«{}» es {total}, pero {} suman {sum}",
                            label(fields, equals),
                            names.join(" y ")
                        ),
                    );
                }
            }
        }
        Rule::Count { list, equals } => {
            if let Some(expected) = data.get(equals).and_then(Value::as_i64) {
                let actual = rows(data, list).len() as i64;
                if actual != expected {
                    fail(
                        equals.clone(),
                        format!(
                            "«{}» es {expected}, pero «{}» tiene {actual} fila(s)",
                            label(fields, equals),
                            label(fields, list)
                        ),
                    );
                }
            }
        }
        Rule::Covers { list, column } => {
            if let Ok(FieldType::Enum { values }) =
                lookup(fields, &format!("{list}[].{column}")).map(|f| &f.kind)
            {
                let present: Vec<&str> = rows(data, list).iter().filter_map(|r| text(r, column)).collect();
                let missing: Vec<&str> = values
                    .iter()
                    .map(String::as_str)
                    .filter(|v| !present.contains(v))
                    .collect();
                if !missing.is_empty() {
                    fail(
                        list.clone(),
                        format!(
                            "«{}» debe incluir todas las opciones de «{}»; faltan: {}",
                            label(fields, list),
                            label(fields, &format!("{list}[].{column}")),
                            missing.join(", ")
                        ),
                    );
                }
            }
        }
        Rule::RequiredIf { field, when, is } => {
            if text(data, when) == Some(is.as_str()) && is_blank(data.get(field)) {
                fail(
                    field.clone(),
                    format!(
                        "«{}» es obligatorio cuando «{}» es «{is}»",
                        label(fields, field),
                        label(fields, when)
                    ),
                );
            }
        }
        Rule::Unique { list, column } => {
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (i, row) in rows(data, list).iter().enumerate() {
                let key = match row.get(column) {
                    Some(Value::Object(person)) => person
                        .get("identificacion")
                        .and_then(Value::as_str)
                        .map(normalize_id),
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_lowercase()),
                    _ => None,
                };
                let Some(key) = key else { continue };
                if let Some(first) = seen.insert(key, i + 1) {
                    fail(
                        format!("{list}[{}].{column}", i + 1),
                        format!(
                            "«{}» se repite: es el mismo de la fila {first}",
                            label(fields, &format!("{list}[].{column}"))
                        ),
                    );
                }
            }
        }
        // Checked with the issue date, in `check`.
        Rule::NotBeforeIssue { .. } | Rule::NotAfterIssue { .. } => {}
        Rule::ComposicionFamiliar => super::familias::composicion(data, found),
        Rule::PrelacionCobrador => super::familias::prelacion(data, found, skipped),
        Rule::RepresentanteAdulto => super::familias::representante_adulto(data, found),
    }
}

fn plain(path: &str) -> String {
    // `list[3].column` → `list[].column`, to find its label.
    match (path.find('['), path.find(']')) {
        (Some(open), Some(close)) if open < close => format!("{}[]{}", &path[..open], &path[close + 1..]),
        _ => path.to_owned(),
    }
}

/// An identity number compared without dots, hyphens, spaces or case.
pub(super) fn normalize_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_uppercase()
}

/// Whole years between a birth date and a date.
pub(super) fn age_at(birth: &str, on: &str) -> Option<i32> {
    let birth: NaiveDate = parse_date(birth)?;
    let on: NaiveDate = parse_date(on)?;
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    Some(years)
}
