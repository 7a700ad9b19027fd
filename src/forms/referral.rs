//! Referrals between offices (seed 002: referencia y contrarreferencia),
//! as a form declares them. A form whose documents refer a case to
//! another office of the installation says under `[derivacion]` which of
//! its fields names that office, which table lists the documents it
//! shares and where its deadline comes from; a form whose documents
//! answer one says under `[contrarreferencia]` which `documento` field
//! cites the derivación it answers. The archive does the rest.

use serde::{Deserialize, Serialize};

use super::spec::{FieldSpec, FieldType};

/// The field of a cited protocolo de atención that holds the business
/// days the receiving office has to answer.
pub const PROTOCOL_DEADLINE_FIELD: &str = "plazo_respuesta";

/// The column of the `compartidos` table that holds each shared folio.
pub const SHARED_FOLIO_COLUMN: &str = "folio";

/// Where, in a derivación's data, the archive puts what it recorded when it
/// took the folio: the receiving office as the installation registers it
/// (`oficina`: `clave`, `nombre`), each shared document as it was issued
/// (`compartidos`: `folio`, `formulario`, `fecha`) and the deadline the
/// referral row stores (`plazo`: `dias_habiles`, `vence`). Never typed: the
/// data a clerk sends cannot carry it, and the document prints these from
/// here, so what it says of them is what the archive stored.
pub const REFERRAL_RECORD_FIELD: &str = "envio";

/// `data` without what the archive filled in ([`REFERRAL_RECORD_FIELD`]),
/// for a form that refers: the data as the clerk typed it, to be checked
/// against the form's fields or taken up again for a correction.
pub fn typed_data(form_refers: bool, data: &serde_json::Value) -> std::borrow::Cow<'_, serde_json::Value> {
    match data {
        serde_json::Value::Object(fields) if form_refers && fields.contains_key(REFERRAL_RECORD_FIELD) => {
            let mut typed = fields.clone();
            typed.remove(REFERRAL_RECORD_FIELD);
            std::borrow::Cow::Owned(serde_json::Value::Object(typed))
        }
        _ => std::borrow::Cow::Borrowed(data),
    }
}

/// The `[derivacion]` table of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referral {
    /// The text field with the code of the receiving office.
    pub oficina: String,
    /// The table whose `folio` column names the documents of the office
    /// the derivación shares with the receiving office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartidos: Option<String>,
    /// The `documento` field citing the protocolo de atención whose
    /// `plazo_respuesta` (business days) sets the due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocolo: Option<String>,
    /// Business days to answer when no protocol is cited.
    pub plazo_dias: u32,
    /// Every form's title by id, from the catalog: what a shared
    /// document is called on the derivación.
    #[serde(skip)]
    pub form_titles: std::collections::BTreeMap<String, String>,
}

/// The `[contrarreferencia]` table of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The `documento` field citing the derivación it answers.
    pub derivacion: String,
}

fn field<'f>(fields: &'f [FieldSpec], table: &str, key: &str, name: &str) -> Result<&'f FieldSpec, String> {
    fields
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| format!("[{table}]: «{key}»: el campo «{name}» no existe"))
}

impl Referral {
    /// Checks the declaration against the form's fields.
    pub(super) fn check(&self, fields: &[FieldSpec]) -> Result<(), String> {
        let office = field(fields, "derivacion", "oficina", &self.oficina)?;
        if !matches!(office.kind, FieldType::Text { .. }) || !office.required {
            return Err(format!(
                "[derivacion]: «oficina»: el campo «{}» debe ser de texto y obligatorio",
                self.oficina
            ));
        }
        if let Some(name) = &self.compartidos {
            let table = field(fields, "derivacion", "compartidos", name)?;
            let has_folio = match &table.kind {
                FieldType::List { columns, .. } => columns
                    .iter()
                    .any(|c| c.name == SHARED_FOLIO_COLUMN && matches!(c.kind, FieldType::Text { .. })),
                _ => false,
            };
            if !has_folio {
                return Err(format!(
                    "[derivacion]: «compartidos»: el campo «{name}» debe ser una tabla con una columna \
                     de texto «{SHARED_FOLIO_COLUMN}»"
                ));
            }
        }
        if let Some(name) = &self.protocolo {
            let cited = field(fields, "derivacion", "protocolo", name)?;
            if !matches!(cited.kind, FieldType::Document { .. }) {
                return Err(format!(
                    "[derivacion]: «protocolo»: el campo «{name}» debe ser un documento"
                ));
            }
        }
        if fields.iter().any(|f| f.name == REFERRAL_RECORD_FIELD) {
            return Err(format!(
                "[derivacion]: el campo «{REFERRAL_RECORD_FIELD}» es lo que el archivo registra al emitir; \
                 ningún campo de una derivación se llama así"
            ));
        }
        if !(1..=60).contains(&self.plazo_dias) {
            return Err("[derivacion]: «plazo_dias» va de 1 a 60 días hábiles".into());
        }
        Ok(())
    }
}

impl Answer {
    /// Checks the declaration against the form's fields.
    pub(super) fn check(&self, fields: &[FieldSpec]) -> Result<(), String> {
        let cited = field(fields, "contrarreferencia", "derivacion", &self.derivacion)?;
        if !matches!(cited.kind, FieldType::Document { .. }) || !cited.required {
            return Err(format!(
                "[contrarreferencia]: «derivacion»: el campo «{}» debe ser un documento obligatorio",
                self.derivacion
            ));
        }
        Ok(())
    }
}

/// The day `days` business days (Monday to Friday) after `from`.
/// Holidays are not known to Sello: a protocol counting them says so in
/// its own days.
pub fn business_days_after(from: chrono::NaiveDate, days: u32) -> chrono::NaiveDate {
    use chrono::Datelike;
    let mut day = from;
    let mut left = days;
    while left > 0 {
        day = day.succ_opt().unwrap_or(day);
        if day.weekday().number_from_monday() <= 5 {
            left -= 1;
        }
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn business_days_skip_the_weekend() {
        // Wednesday 18 November 2026 plus 5 business days: Wednesday 25.
        assert_eq!(business_days_after(date("2026-11-18"), 5), date("2026-11-25"));
        // Friday plus one: Monday.
        assert_eq!(business_days_after(date("2026-11-20"), 1), date("2026-11-23"));
        // Saturday plus one: Monday.
        assert_eq!(business_days_after(date("2026-11-21"), 1), date("2026-11-23"));
    }
}
