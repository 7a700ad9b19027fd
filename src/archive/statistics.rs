//! The figures an office and its coordinators read (issue 25, point 3):
//! how many documents were issued in a period, by office, form, month and
//! state, and by territory (comuna, distrito, corregimiento) where a form
//! carries one. Counted by the database (`GROUP BY`), over the
//! `documents_statistics` index (migration 0016), so a hundred thousand
//! documents are never read into memory.
//!
//! Every count takes the *set* of offices to add up: the caller decides
//! which offices the person may see (today their own; a coordinator's
//! offices once offices have a hierarchy). Only issued documents count: a
//! folio annulled while it was being issued never was a document.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{ArchiveError, Status};
use crate::db::Store;

/// What to count: the offices to add up, the period (the offices' days,
/// both included) and, if given, one form.
#[derive(Debug, Clone)]
pub struct CountFilter<'a> {
    pub offices: &'a [String],
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub form: Option<&'a str>,
}

/// How many documents of one office, form, month and state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentCount {
    pub office_code: String,
    pub form: String,
    /// `YYYY-MM`, the office's month of issue.
    pub month: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub documents: i64,
}

/// The territorial divisions forms carry, by the name of their field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Division {
    /// Chile (`chile.comuna`).
    Comuna,
    /// Panamá (`panama.distrito`).
    Distrito,
    /// Panamá (`panama.corregimiento`).
    Corregimiento,
}

impl Division {
    pub const ALL: [Division; 3] = [Division::Comuna, Division::Distrito, Division::Corregimiento];

    /// The name of the field, and of the division in Spanish.
    pub fn as_str(self) -> &'static str {
        match self {
            Division::Comuna => "comuna",
            Division::Distrito => "distrito",
            Division::Corregimiento => "corregimiento",
        }
    }
}

/// How many documents of one office and form name one territory, by state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerritoryCount {
    pub division: Division,
    pub office_code: String,
    pub form: String,
    /// As typed, without surrounding spaces; empty when the document has none.
    pub name: String,
    pub status: Status,
    pub documents: i64,
}

#[derive(sqlx::FromRow)]
struct TerritoryRow {
    office_code: String,
    form: String,
    name: Option<String>,
    #[sqlx(try_from = "String")]
    status: Status,
    documents: i64,
}

/// `$first`, `$first+1`, … for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The condition every count shares, with its parameters from `$1`: the
/// offices, the period, the form if one, and issued documents only.
fn condition(filter: &CountFilter<'_>) -> String {
    let offices = filter.offices.len();
    let mut sql = format!(
        "office_code IN ({}) AND issued_on >= ${} AND issued_on <= ${} \
         AND code_hash IS NOT NULL AND status <> 'reservado'",
        placeholders(1, offices),
        offices + 1,
        offices + 2
    );
    if filter.form.is_some() {
        sql.push_str(&format!(" AND form = ${}", offices + 3));
    }
    sql
}

/// The parameters of [`condition`], in its order.
fn bind_condition<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    filter: &CountFilter<'q>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for office in filter.offices {
        query = query.bind(office.as_str());
    }
    query = query
        .bind(filter.from.format("%Y-%m-%d").to_string())
        .bind(filter.to.format("%Y-%m-%d").to_string());
    if let Some(form) = filter.form {
        query = query.bind(form);
    }
    query
}

/// The documents of `filter` counted by office, form, month and state, in
/// that order. No office: nothing.
pub async fn count_documents(
    store: &Store,
    filter: &CountFilter<'_>,
) -> Result<Vec<DocumentCount>, ArchiveError> {
    if filter.offices.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT office_code, form, substr(issued_on, 1, 7) AS month, status, COUNT(*) AS documents \
         FROM documents WHERE {} GROUP BY office_code, form, substr(issued_on, 1, 7), status \
         ORDER BY office_code, form, month, status",
        condition(filter)
    );
    let query = bind_condition(sqlx::query_as::<_, DocumentCount>(&sql), filter);
    Ok(query.fetch_all(store.pool()).await?)
}

/// The documents of `filter` whose form carries `division`'s field (one of
/// `forms`), counted by office, form, the territory named and state.
pub async fn count_by_territory(
    store: &Store,
    filter: &CountFilter<'_>,
    division: Division,
    forms: &[&str],
) -> Result<Vec<TerritoryCount>, ArchiveError> {
    let forms: Vec<&str> = forms
        .iter()
        .copied()
        .filter(|f| filter.form.is_none_or(|only| only == *f))
        .collect();
    if filter.offices.is_empty() || forms.is_empty() {
        return Ok(Vec::new());
    }
    let field = store.dialect().data_field(division.as_str());
    let first_form = filter.offices.len() + 3 + usize::from(filter.form.is_some());
    let sql = format!(
        "SELECT office_code, form, TRIM({field}) AS name, status, COUNT(*) AS documents \
         FROM documents WHERE {} AND form IN ({}) GROUP BY office_code, form, TRIM({field}), status",
        condition(filter),
        placeholders(first_form, forms.len())
    );
    let mut query = bind_condition(sqlx::query_as::<_, TerritoryRow>(&sql), filter);
    for form in &forms {
        query = query.bind(*form);
    }
    let rows = query.fetch_all(store.pool()).await?;
    let mut counts: Vec<TerritoryCount> = rows
        .into_iter()
        .map(|row| TerritoryCount {
            division,
            office_code: row.office_code,
            form: row.form,
            name: row.name.unwrap_or_default(),
            status: row.status,
            documents: row.documents,
        })
        .collect();
    counts.sort_by(|a, b| {
        (&a.office_code, &a.form, &a.name, a.status.as_str()).cmp(&(
            &b.office_code,
            &b.form,
            &b.name,
            b.status.as_str(),
        ))
    });
    Ok(counts)
}

/// Counts added up by one key (a form, a month, a state…), in the key's
/// order, each with its documents by state: issued and in force,
/// annulled, replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByState {
    pub emitidos: i64,
    pub anulados: i64,
    pub reemplazados: i64,
}

impl ByState {
    pub fn total(&self) -> i64 {
        self.emitidos + self.anulados + self.reemplazados
    }

    /// Adds `documents` of `status`.
    pub fn add(&mut self, status: Status, documents: i64) {
        match status {
            Status::Emitido => self.emitidos += documents,
            Status::Anulado => self.anulados += documents,
            Status::Reemplazado => self.reemplazados += documents,
            Status::Reservado => {}
        }
    }
}

/// `counts` added up by the key `key` picks.
pub fn totals_by<'a, T>(
    counts: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&'a T) -> String,
    status: impl Fn(&'a T) -> (Status, i64),
) -> BTreeMap<String, ByState>
where
    T: 'a,
{
    let mut totals: BTreeMap<String, ByState> = BTreeMap::new();
    for count in counts {
        let (state, documents) = status(count);
        totals.entry(key(count)).or_default().add(state, documents);
    }
    totals
}

/// The months from `from`'s to `to`'s, `YYYY-MM`: a month without
/// documents still has its place in a chart.
pub fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    use chrono::Datelike as _;
    let mut months = Vec::new();
    let (mut year, mut month) = (from.year(), from.month());
    while (year, month) <= (to.year(), to.month()) {
        months.push(format!("{year:04}-{month:02}"));
        (year, month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_month_of_a_period_is_listed_across_years() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(
            months_between(day(2025, 11, 20), day(2026, 2, 1)),
            ["2025-11", "2025-12", "2026-01", "2026-02"]
        );
        assert_eq!(months_between(day(2026, 3, 5), day(2026, 3, 6)), ["2026-03"]);
        assert!(months_between(day(2026, 4, 1), day(2026, 3, 1)).is_empty());
    }

    #[test]
    fn totals_add_each_state_apart() {
        let count = |form: &str, status, documents| DocumentCount {
            office_code: "A".into(),
            form: form.into(),
            month: "2026-11".into(),
            status,
            documents,
        };
        let counts = [
            count("a", Status::Emitido, 3),
            count("a", Status::Anulado, 1),
            count("b", Status::Reemplazado, 2),
            count("b", Status::Emitido, 5),
        ];
        let totals = totals_by(&counts, |c| c.form.clone(), |c| (c.status, c.documents));
        assert_eq!(
            totals["a"],
            ByState {
                emitidos: 3,
                anulados: 1,
                reemplazados: 0
            }
        );
        assert_eq!(totals["b"].total(), 7);
    }
}
