//! Dates against the calendar and against the day the document is issued.
//!
//! The issue date is not form data: it is the moment the office signs. A
//! draft does not have one yet; it will be issued today or later, so a rule
//! is checked on a draft only where no later day could satisfy it.

use chrono::{DateTime, Datelike, Days, NaiveDate};
use chrono_tz::Tz;
use serde_json::Value;

use super::rules::{label, rows, text};
use super::spec::{Family, FormSpec};
use super::validate::{Problem, parse_date};

/// The earliest and latest years a date field accepts: a birth date, a
/// session or a trip outside them is a typing mistake.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2100;

/// The day a document is issued, as far as validation can know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueDate {
    /// Issued on this day, in the office's time zone.
    On(NaiveDate),
    /// A draft, to be issued on this day (today, in the office's time zone)
    /// or later.
    NotBefore(NaiveDate),
}

impl IssueDate {
    /// A document issued at `at`.
    pub fn issued(at: &DateTime<Tz>) -> Self {
        Self::On(at.date_naive())
    }

    /// A draft looked at `now`: issued today or later.
    pub fn draft(now: &DateTime<Tz>) -> Self {
        Self::NotBefore(now.date_naive())
    }
}

/// The month names: the only list of them. The templates read it from
/// their context (`meses`), so a document, a page and a message name a
/// month alike.
pub const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// "2026-12-01" → "1 de diciembre de 2026", as the documents print it.
pub fn long_date(date: NaiveDate) -> String {
    format!(
        "{} de {} de {}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

/// What is wrong with a well-formed date's year, if anything.
pub(super) fn year_problem(label: &str, date: NaiveDate) -> Option<String> {
    (!(FIRST_YEAR..=LAST_YEAR).contains(&date.year())).then(|| {
        format!(
            "«{label}» tiene el año {:04}: las fechas deben estar entre los años {FIRST_YEAR} y {LAST_YEAR}; revise el año",
            date.year()
        )
    })
}

/// "la fecha de emisión del oficio", by the form's family.
fn of_document(family: Family) -> &'static str {
    match family {
        Family::Oficio => "la fecha de emisión del oficio",
        Family::Carta => "la fecha de emisión de la carta",
        Family::Acta => "la fecha de emisión del acta",
        Family::Lista => "la fecha de emisión de la lista",
        Family::Padron => "la fecha de emisión del padrón",
        Family::Plan => "la fecha de emisión del plan",
        Family::Ficha => "la fecha de emisión de la ficha",
        Family::Informe => "la fecha de emisión del informe",
    }
}

/// Which side of the issue date a rule keeps its dates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// On the issue date or after it (a trip, a delivery, an event).
    NotBefore,
    /// On the issue date or before it (a request, a session, an approval).
    NotAfter,
}

/// What is wrong with `date` (of the field labelled `label`) on `side` of
/// the issue date, no more than `days` away from it when given.
fn issue_problem(
    side: Side,
    days: Option<u32>,
    label: &str,
    date: NaiveDate,
    when: IssueDate,
    family: Family,
) -> Option<String> {
    let document = of_document(family);
    let shown = format!("«{label}» ({})", long_date(date));
    match (side, when) {
        (Side::NotBefore, IssueDate::On(issue)) => {
            if date < issue {
                return Some(format!(
                    "{shown} no puede ser anterior a {document} ({})",
                    long_date(issue)
                ));
            }
            let days = days?;
            let limit = issue.checked_add_days(Days::new(days.into()))?;
            (date > limit).then(|| {
                format!(
                    "{shown} no puede ser más de {days} días posterior a {document} ({}); revise el año",
                    long_date(issue)
                )
            })
        }
        (Side::NotBefore, IssueDate::NotBefore(today)) => (date < today).then(|| {
            format!(
                "{shown} ya pasó: no puede ser anterior a {document}, que será hoy ({}) o después",
                long_date(today)
            )
        }),
        (Side::NotAfter, IssueDate::On(issue)) => {
            if date > issue {
                return Some(format!(
                    "{shown} no puede ser posterior a {document} ({})",
                    long_date(issue)
                ));
            }
            let days = days?;
            let limit = issue.checked_sub_days(Days::new(days.into()))?;
            (date < limit).then(|| {
                format!(
                    "{shown} no puede ser más de {days} días anterior a {document} ({}); revise el año",
                    long_date(issue)
                )
            })
        }
        // Issued later, the document may still come on or after a date yet
        // to come: only the window can already be missed.
        (Side::NotAfter, IssueDate::NotBefore(today)) => {
            let days = days?;
            let limit = today.checked_sub_days(Days::new(days.into()))?;
            (date < limit).then(|| {
                format!(
                    "{shown} no puede ser más de {days} días anterior a {document}, que será hoy ({}) o después; revise el año",
                    long_date(today)
                )
            })
        }
    }
}

/// The dates at `path` (`name`, or `list[].column` row by row), each with
/// the path the clerk sees (`list[2].column`).
fn dates_at<'a>(data: &'a Value, path: &str) -> Vec<(String, &'a str)> {
    match path.split_once("[].") {
        Some((list, column)) => rows(data, list)
            .iter()
            .enumerate()
            .filter_map(|(i, row)| text(row, column).map(|v| (format!("{list}[{}].{column}", i + 1), v)))
            .collect(),
        None => text(data, path)
            .map(|v| (path.to_owned(), v))
            .into_iter()
            .collect(),
    }
}

pub(super) fn check_issue_side(
    form: &FormSpec,
    data: &Value,
    when: IssueDate,
    (side, dated, days): (Side, &[String], Option<u32>),
    found: &mut Vec<Problem>,
) {
    for path in dated {
        let field_label = label(&form.fields, path);
        for (shown, value) in dates_at(data, path) {
            // A malformed date or year is the field's own problem.
            let Some(date) = parse_date(value) else { continue };
            if year_problem(&field_label, date).is_some() {
                continue;
            }
            if let Some(message) = issue_problem(side, days, &field_label, date, when, form.family) {
                found.push(Problem { path: shown, message });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    fn problem(side: Side, days: Option<u32>, date: &str, when: IssueDate) -> Option<String> {
        issue_problem(side, days, "Fecha", day(date), when, Family::Oficio)
    }

    #[test]
    fn a_date_on_the_issue_day_is_on_either_side_of_it() {
        let on = IssueDate::On(day("2026-12-01"));
        assert_eq!(problem(Side::NotBefore, Some(0), "2026-12-01", on), None);
        assert_eq!(problem(Side::NotAfter, Some(0), "2026-12-01", on), None);
    }

    #[test]
    fn the_window_counts_days_from_the_issue_date() {
        let on = IssueDate::On(day("2026-12-01"));
        assert_eq!(problem(Side::NotBefore, Some(30), "2026-12-31", on), None);
        let late = problem(Side::NotBefore, Some(30), "2027-01-01", on).expect("refused");
        assert!(late.contains("más de 30 días posterior"), "{late}");
        assert_eq!(problem(Side::NotAfter, Some(30), "2026-11-01", on), None);
        let early = problem(Side::NotAfter, Some(30), "2026-10-31", on).expect("refused");
        assert!(early.contains("más de 30 días anterior"), "{early}");
    }

    #[test]
    fn a_draft_is_refused_only_where_no_later_issue_day_would_do() {
        let draft = IssueDate::NotBefore(day("2026-12-01"));
        let past = problem(Side::NotBefore, None, "2026-11-30", draft).expect("refused");
        assert!(
            past.contains("ya pasó") && past.contains("1 de diciembre de 2026"),
            "{past}"
        );
        // Issued later, a trip far ahead may fall inside the window.
        assert_eq!(problem(Side::NotBefore, Some(30), "2027-06-01", draft), None);
        // Issued later, a session next week is in the past.
        assert_eq!(problem(Side::NotAfter, None, "2026-12-08", draft), None);
        assert!(problem(Side::NotAfter, Some(30), "2026-10-31", draft).is_some());
    }

    #[test]
    fn years_outside_1900_to_2100_are_refused() {
        for (date, refused) in [
            ("0001-01-01", true),
            ("1899-12-31", true),
            ("1900-01-01", false),
            ("2100-12-31", false),
            ("9999-12-31", true),
        ] {
            assert_eq!(year_problem("Fecha", day(date)).is_some(), refused, "{date}");
        }
    }

    #[test]
    fn long_dates_are_spanish() {
        assert_eq!(long_date(day("2026-12-01")), "1 de diciembre de 2026");
    }
}
