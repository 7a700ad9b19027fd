//! The statistics as the staff page and the API show them (issue 25,
//! point 3): the period and form asked for, checked; the counts of
//! `archive::statistics` for the offices the person may see, added up by
//! form, month, state, office and territory; and the same numbers as CSV.

use std::collections::BTreeMap;

use chrono::{Datelike as _, Months, NaiveDate};

use super::AppState;
use crate::accounts::{AccountError, User};
use crate::archive::ArchiveError;
use crate::archive::statistics::{
    self, ByState, CountFilter, Division, DocumentCount, TerritoryCount, months_between, totals_by,
};
use crate::forms::Catalog;

/// The longest period counted: a chart of ten years has 120 months.
const PERIOD_MAX_MONTHS: u32 = 120;

/// What was asked for, checked: the period and, if one, the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureFilter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub form: Option<String>,
}

impl FigureFilter {
    /// From the request's text: `desde` and `hasta` (`YYYY-MM-DD`; by
    /// default the twelve months up to `today`) and `formulario` (one of
    /// the catalog, or every form). The error names the field, in Spanish.
    pub fn parse(
        catalog: &Catalog,
        today: NaiveDate,
        desde: Option<&str>,
        hasta: Option<&str>,
        formulario: Option<&str>,
    ) -> Result<Self, String> {
        let day = |name: &str, text: &str| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| format!("{name}: «{text}» no es una fecha; escriba 2026-11-22"))
        };
        let to = match given(hasta) {
            Some(text) => day("hasta", text)?,
            None => today,
        };
        let from = match given(desde) {
            Some(text) => day("desde", text)?,
            None => year_before(to),
        };
        if from > to {
            return Err("desde: el primer día va antes del último (hasta)".into());
        }
        if from
            .checked_add_months(Months::new(PERIOD_MAX_MONTHS))
            .is_some_and(|limit| to >= limit)
        {
            return Err(format!(
                "hasta: el periodo puede abarcar hasta {} años",
                PERIOD_MAX_MONTHS / 12
            ));
        }
        let form = match given(formulario).map(str::trim) {
            None => None,
            Some(id) => match catalog.get(id) {
                Some(form) => Some(form.id.to_string()),
                None => return Err(format!("formulario: el catálogo no tiene «{id}»")),
            },
        };
        Ok(Self { from, to, form })
    }
}

/// `text`, unless it is missing or blank.
fn given(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

/// The first day of the month eleven months before `day`'s: a year of
/// whole months, this one included.
fn year_before(day: NaiveDate) -> NaiveDate {
    let first = day.with_day(1).unwrap_or(day);
    first.checked_sub_months(Months::new(11)).unwrap_or(first)
}

/// The offices whose documents `user` sees counted, added up: their own
/// and every office under it (a coordinator's province). This is the one
/// place that decides it; counts carry no personal data, so reading them
/// is not recorded as a view of another office.
pub async fn offices_counted_for(state: &AppState, user: &User) -> Result<Vec<String>, AccountError> {
    state.accounts.visible_offices(user).await
}

/// The counts of a filter, over a set of offices.
#[derive(Debug, Clone)]
pub struct Figures {
    pub filter: FigureFilter,
    pub offices: Vec<String>,
    /// By office, form, month and state.
    pub documents: Vec<DocumentCount>,
    /// By division, office, form, territory and state, for the forms that
    /// carry a division's field.
    pub territories: Vec<TerritoryCount>,
}

/// The forms of the catalog with a field named as `division`.
fn forms_with(catalog: &Catalog, division: Division) -> Vec<&str> {
    catalog
        .iter()
        .filter(|f| f.fields.iter().any(|field| field.name == division.as_str()))
        .map(|f| f.id.as_str())
        .collect()
}

impl Figures {
    /// Counts `filter` over `offices`.
    pub async fn gather(
        state: &AppState,
        offices: Vec<String>,
        filter: FigureFilter,
    ) -> Result<Self, ArchiveError> {
        let store = state.archive.store();
        let counting = CountFilter {
            offices: &offices,
            from: filter.from,
            to: filter.to,
            form: filter.form.as_deref(),
        };
        let documents = statistics::count_documents(store, &counting).await?;
        let mut territories = Vec::new();
        for division in Division::ALL {
            let forms = forms_with(&state.catalog, division);
            territories.extend(statistics::count_by_territory(store, &counting, division, &forms).await?);
        }
        Ok(Self {
            filter,
            offices,
            documents,
            territories,
        })
    }

    pub fn total(&self) -> ByState {
        let mut total = ByState::default();
        for count in &self.documents {
            total.add(count.status, count.documents);
        }
        total
    }

    pub fn by_form(&self) -> BTreeMap<String, ByState> {
        totals_by(&self.documents, |c| c.form.clone(), |c| (c.status, c.documents))
    }

    pub fn by_office(&self) -> BTreeMap<String, ByState> {
        totals_by(
            &self.documents,
            |c| c.office_code.clone(),
            |c| (c.status, c.documents),
        )
    }

    /// Every month of the period, those without documents included.
    pub fn by_month(&self) -> Vec<(String, ByState)> {
        let mut counted = totals_by(&self.documents, |c| c.month.clone(), |c| (c.status, c.documents));
        months_between(self.filter.from, self.filter.to)
            .into_iter()
            .map(|month| {
                let counts = counted.remove(&month).unwrap_or_default();
                (month, counts)
            })
            .collect()
    }

    /// By division, then territory name.
    pub fn by_territory(&self) -> BTreeMap<(Division, String), ByState> {
        let mut totals: BTreeMap<(Division, String), ByState> = BTreeMap::new();
        for count in &self.territories {
            totals
                .entry((count.division, count.name.clone()))
                .or_default()
                .add(count.status, count.documents);
        }
        totals
    }

    /// The counts by office, form, month and state as a spreadsheet.
    pub fn documents_csv(&self, catalog: &Catalog) -> Vec<u8> {
        let rows = self.documents.iter().map(|c| {
            vec![
                c.office_code.clone(),
                c.form.clone(),
                form_title(catalog, &c.form).to_owned(),
                c.month.clone(),
                c.status.as_str().to_owned(),
                c.documents.to_string(),
            ]
        });
        crate::csv_out::for_spreadsheets(
            &["Oficina", "Formulario", "Título", "Mes", "Estado", "Documentos"],
            rows,
        )
    }

    /// The counts by territory as a spreadsheet.
    pub fn territories_csv(&self, catalog: &Catalog) -> Vec<u8> {
        let rows = self.territories.iter().map(|c| {
            vec![
                c.office_code.clone(),
                c.form.clone(),
                form_title(catalog, &c.form).to_owned(),
                c.division.as_str().to_owned(),
                c.name.clone(),
                c.status.as_str().to_owned(),
                c.documents.to_string(),
            ]
        });
        crate::csv_out::for_spreadsheets(
            &[
                "Oficina",
                "Formulario",
                "Título",
                "División",
                "Territorio",
                "Estado",
                "Documentos",
            ],
            rows,
        )
    }

    /// The name of the CSV file of `table` for this filter.
    pub fn file_name(&self, table: &str) -> String {
        let form = self
            .filter
            .form
            .as_deref()
            .map(|f| format!("-{f}"))
            .unwrap_or_default();
        format!(
            "estadisticas-{table}-{}-{}{form}.csv",
            self.filter.from, self.filter.to
        )
    }
}

/// A form's title, or its id if the catalog no longer has it.
pub fn form_title<'a>(catalog: &'a Catalog, form: &'a str) -> &'a str {
    catalog.get(form).map_or(form, |f| f.title.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms")).expect("catalog")
    }

    #[test]
    fn a_period_is_checked_and_defaults_to_a_year_of_whole_months() {
        let catalog = catalog();
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
        let filter = FigureFilter::parse(&catalog, today, None, Some(""), None).expect("default");
        assert_eq!(filter.from, NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"));
        assert_eq!(filter.to, today);
        let error = FigureFilter::parse(&catalog, today, Some("2026-13-01"), None, None).unwrap_err();
        assert!(error.starts_with("desde:"), "{error}");
        let error = FigureFilter::parse(&catalog, today, Some("2026-12-08"), None, None).unwrap_err();
        assert!(error.starts_with("desde:"), "{error}");
        let error = FigureFilter::parse(&catalog, today, Some("1990-01-01"), None, None).unwrap_err();
        assert!(error.starts_with("hasta:"), "{error}");
        let error = FigureFilter::parse(&catalog, today, None, None, Some("no-existe")).unwrap_err();
        assert!(error.starts_with("formulario:"), "{error}");
        let filter = FigureFilter::parse(&catalog, today, None, None, Some(" derivacion ")).expect("form");
        assert_eq!(filter.form.as_deref(), Some("derivacion"));
    }

    #[test]
    fn the_forms_that_carry_a_territory_are_found_in_the_catalog() {
        let catalog = catalog();
        assert!(forms_with(&catalog, Division::Comuna).contains(&"derivacion"));
        assert!(forms_with(&catalog, Division::Corregimiento).contains(&"constancia-visita"));
        assert!(!forms_with(&catalog, Division::Comuna).contains(&"oficio-comision"));
    }
}
