//! Follow-ups with due dates (issue 25, point 2): what the documents in
//! force still owe, as their forms declare it in `[[seguimiento]]`, and is
//! not yet closed by a document in force of the closing form that cites
//! their folio. Read from the archive each time: nothing to keep in step.
//!
//! A closing document is matched by the folio in its data, not by its row
//! in `document_citations`: where the field is a `documento` (the acuse's
//! oficio de autorización, the constancia's oficio de comisión) the archive
//! refused any folio that is not an issued, current document of the right
//! form, so the two agree; the folio in the data also closes what documents
//! issued before those fields cited, and text fields such as the renewal's
//! `oficio_anterior`, which may name a resguardo on paper.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};
use serde::Serialize;
use serde_json::Value;

use crate::archive::{Archive, ArchiveError};
use crate::forms::Catalog;

/// How far back documents are read for what they owe.
const LOOK_BACK_DAYS: u64 = 3 * 366;

/// Something owed by a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Due {
    /// The folio of the document that owes it.
    pub folio: String,
    pub formulario: String,
    /// What is owed: «Acuse de entrega del apoyo».
    pub etiqueta: String,
    /// The form of the document that closes it.
    pub cierra: String,
    /// The day it falls due, `YYYY-MM-DD`.
    pub vence: String,
    /// Past its day on `today`.
    pub vencido: bool,
}

/// What falls due by `today` plus `ahead` days and is not closed, the most
/// overdue first.
pub async fn pending(
    archive: &Archive,
    catalog: &Catalog,
    today: NaiveDate,
    ahead: u64,
) -> Result<Vec<Due>, ArchiveError> {
    let window = (today - Days::new(LOOK_BACK_DAYS), today);
    let horizon = today + Days::new(ahead);
    let mut owed: Vec<(Due, &str, &str)> = Vec::new();
    for form in catalog.iter().filter(|f| !f.seguimiento.is_empty()) {
        archive
            .for_each_issued(&[form.id.as_str()], window, true, |document| {
                let data: Value = serde_json::from_str(&document.data).unwrap_or(Value::Null);
                let issued_on = NaiveDate::parse_from_str(&document.issued_on, "%Y-%m-%d").unwrap_or(today);
                for follow_up in &form.seguimiento {
                    let due = follow_up.due(&data, issued_on);
                    if due <= horizon {
                        let item = Due {
                            folio: document.folio.clone(),
                            formulario: form.id.to_string(),
                            etiqueta: follow_up.etiqueta.clone(),
                            cierra: follow_up.cierra.clone(),
                            vence: due.to_string(),
                            vencido: due < today,
                        };
                        owed.push((item, follow_up.cierra.as_str(), follow_up.cita.as_str()));
                    }
                }
                Ok(())
            })
            .await?;
    }
    // The folios each closing form's documents in force cite, by field.
    let mut closed: HashMap<(&str, &str), HashSet<String>> = HashMap::new();
    for &(_, form, field) in &owed {
        if closed.contains_key(&(form, field)) {
            continue;
        }
        let mut cited = HashSet::new();
        archive
            .for_each_issued(&[form], (window.0, horizon.max(today)), true, |document| {
                let data: Value = serde_json::from_str(&document.data).unwrap_or(Value::Null);
                if let Some(folio) = data.get(field).and_then(Value::as_str) {
                    cited.insert(folio.trim().to_owned());
                }
                Ok(())
            })
            .await?;
        closed.insert((form, field), cited);
    }
    let mut pending: Vec<Due> = owed
        .into_iter()
        .filter(|(item, form, field)| {
            !closed
                .get(&(*form, *field))
                .is_some_and(|c| c.contains(&item.folio))
        })
        .map(|(item, _, _)| item)
        .collect();
    pending.sort_by(|a, b| a.vence.cmp(&b.vence).then_with(|| a.folio.cmp(&b.folio)));
    Ok(pending)
}
