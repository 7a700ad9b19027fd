//! What a form's documents grant, declared in its `form.toml` under
//! `[padron]`: whose the service is, where they live, what the service is
//! and when it was given. Sello builds a programme's padrón de
//! beneficiarios from the issued documents of the forms that declare it
//! (seed 000, E0027 producto 6), so the register says what the archive
//! holds rather than what a clerk typed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::spec::{FieldSpec, FieldType};

/// The `[padron]` table of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Person fields naming the beneficiary, in order: the first filled in
    /// is the beneficiary (`["beneficiario", "solicitante"]`).
    pub persona: Vec<String>,
    /// The text field with an address: the beneficiary's, unless
    /// `domicilio_de` says whose it is.
    pub domicilio: String,
    /// The person field whose address `domicilio` is, when the form
    /// records only that person's (the solicitante's): a beneficiary who
    /// is someone else has no address in the document, and the padrón
    /// says «no consta» rather than print another person's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domicilio_de: Option<String>,
    /// The text or option field naming the service given (`apoyo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicio: Option<String>,
    /// The service in words, when the form grants always the same one
    /// (`Descuento del 50 % en transporte`); before the field's value when
    /// both are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicio_texto: Option<String>,
    /// The date field of the day the service was given; the document's
    /// issue date when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fecha: Option<String>,
}

/// One beneficiary as a document grants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub nombre: String,
    /// The identity number as written, if the document has one.
    pub identificacion: Option<String>,
    pub domicilio: Option<String>,
    pub servicio: String,
    /// `YYYY-MM-DD`, if the form declares the field and it is filled in.
    pub fecha: Option<String>,
}

impl Grant {
    /// Checks the declaration against the form's fields; the error names
    /// the key and the field.
    pub(super) fn check(&self, fields: &[FieldSpec]) -> Result<(), String> {
        let field = |key: &str, name: &str| {
            fields
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| format!("[padron]: «{key}»: el campo «{name}» no existe"))
        };
        if self.persona.is_empty() {
            return Err("[padron]: «persona» nombra al menos un campo de persona".into());
        }
        for name in &self.persona {
            if !matches!(field("persona", name)?.kind, FieldType::Person { .. }) {
                return Err(format!("[padron]: «persona»: «{name}» no es un campo de persona"));
            }
        }
        let is_text = |f: &FieldSpec| matches!(f.kind, FieldType::Text { .. } | FieldType::Enum { .. });
        if !is_text(field("domicilio", &self.domicilio)?) {
            return Err(format!(
                "[padron]: «domicilio»: «{}» no es de texto",
                self.domicilio
            ));
        }
        if let Some(name) = &self.domicilio_de
            && !self.persona.contains(name)
        {
            return Err(format!("[padron]: «domicilio_de»: «{name}» no está en «persona»"));
        }
        match (&self.servicio, &self.servicio_texto) {
            (None, None) => return Err("[padron]: falta «servicio» o «servicio_texto»".into()),
            (Some(name), _) if !is_text(field("servicio", name)?) => {
                return Err(format!("[padron]: «servicio»: «{name}» no es de texto"));
            }
            _ => {}
        }
        if let Some(name) = &self.fecha
            && !matches!(field("fecha", name)?.kind, FieldType::Date)
        {
            return Err(format!("[padron]: «fecha»: «{name}» no es una fecha"));
        }
        Ok(())
    }

    /// The beneficiary a document's `data` grants the service to; `None`
    /// when none of its person fields is filled in.
    pub fn read(&self, data: &Value) -> Option<Granted> {
        let text = |name: &str| {
            data.get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (field, person) = self.persona.iter().find_map(|name| {
            let person = data.get(name)?;
            let nombre = person.get("nombre")?.as_str()?.trim();
            (!nombre.is_empty()).then_some((name, person))
        })?;
        // Only the beneficiary's own address: another person's is not theirs.
        let domicilio = match &self.domicilio_de {
            Some(whose) if whose != field => None,
            _ => text(&self.domicilio),
        };
        let identificacion = person
            .get("identificacion")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let servicio = match (&self.servicio_texto, self.servicio.as_deref().and_then(text)) {
            (Some(fixed), Some(value)) => format!("{fixed}: {value}"),
            (Some(fixed), None) => fixed.clone(),
            (None, value) => value.unwrap_or_default(),
        };
        Some(Granted {
            nombre: person.get("nombre")?.as_str()?.trim().to_owned(),
            identificacion,
            domicilio,
            servicio,
            fecha: self.fecha.as_deref().and_then(text),
        })
    }
}

/// A follow-up a form's documents owe, declared under `[[seguimiento]]`:
/// a document of another form (`cierra`) that cites this one's folio in its
/// field `cita` must be issued by a due date, `dias` after the first of the
/// `vence` dates filled in (or after the issue date). Seed 004: the acuse
/// de entrega closes an authorised apoyo, the constancia de asistencia a
/// comisión, the monthly renewal a resguardo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// What is owed, as the clerk reads it: «Acuse de entrega del apoyo».
    pub etiqueta: String,
    /// Date fields the count starts from, the first filled in; the issue
    /// date when none is.
    #[serde(default)]
    pub vence: Vec<String>,
    #[serde(default)]
    pub dias: u32,
    /// The form whose document closes it, and its field citing the folio.
    pub cierra: String,
    pub cita: String,
    /// `lista.columna`: each row of that table owes its own closing
    /// document, named by that column (`comisionados.nombre`: every person
    /// commissioned hands in their own constancia); without it the
    /// document owes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub por_persona: Option<String>,
    /// With `por_persona`: the closing form's person field naming whose
    /// obligation it closes, who must be one of those rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    /// Fields both forms have that the closing document must say as the
    /// document it closes does (`evento`, `fecha_evento`): the archive
    /// refuses to issue one that contradicts it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coinciden: Vec<String>,
}

/// A follow-up seen from the form that closes it, as the catalog gathers
/// it from the owing form's `[[seguimiento]]`: what the archive checks when
/// a closing document is issued against the document it cites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closes {
    /// The owing form, and the closing form's field citing its document.
    pub formulario: String,
    pub cita: String,
    /// The owing document's table and column naming who owes, and the
    /// closing form's person field.
    pub por_persona: Option<(String, String, String)>,
    pub coinciden: Vec<String>,
}

impl FollowUp {
    pub(super) fn check(&self, fields: &[FieldSpec]) -> Result<(), String> {
        if self.etiqueta.trim().is_empty() {
            return Err("[[seguimiento]]: «etiqueta» está vacía".into());
        }
        for name in &self.vence {
            let field = fields
                .iter()
                .find(|f| &f.name == name)
                .ok_or_else(|| format!("[[seguimiento]]: «vence»: el campo «{name}» no existe"))?;
            if !matches!(field.kind, FieldType::Date) {
                return Err(format!("[[seguimiento]]: «vence»: «{name}» no es una fecha"));
            }
        }
        if self.dias > 3_650 {
            return Err("[[seguimiento]]: «dias» es de hasta 3650".into());
        }
        match (&self.por_persona, &self.persona) {
            (Some(_), None) | (None, Some(_)) => {
                return Err("[[seguimiento]]: «por_persona» y «persona» van juntos".into());
            }
            _ => {}
        }
        if let Some(path) = &self.por_persona {
            self.owing_column(fields).ok_or_else(|| {
                format!("[[seguimiento]]: «por_persona»: «{path}» no es una columna de texto de una tabla")
            })?;
        }
        for name in &self.coinciden {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(format!(
                    "[[seguimiento]]: «coinciden»: el campo «{name}» no existe"
                ));
            }
        }
        Ok(())
    }

    /// `por_persona` as (table, column), when the table has that text column.
    fn owing_column(&self, fields: &[FieldSpec]) -> Option<(String, String)> {
        let (table, column) = self.por_persona.as_deref()?.split_once('.')?;
        let field = fields.iter().find(|f| f.name == table)?;
        let FieldType::List { columns, .. } = &field.kind else {
            return None;
        };
        columns
            .iter()
            .any(|c| c.name == column && matches!(c.kind, FieldType::Text { .. }))
            .then(|| (table.to_owned(), column.to_owned()))
    }

    /// The names, as written, of the rows of a document with `data` that
    /// each owe their own closing document; `None` when it owes one.
    pub fn owed_by(&self, data: &Value) -> Option<Vec<String>> {
        let (table, column) = self.por_persona.as_deref()?.split_once('.')?;
        Some(
            data.get(table)
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|row| row.get(column)?.as_str())
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect(),
        )
    }

    /// The same follow-up from the closing form's side, checked against
    /// its fields: `cita` a `documento` field that may cite `owing`,
    /// `persona` a person field, `coinciden` fields it has too.
    pub(super) fn closes(&self, owing: &str, closing: &[FieldSpec]) -> Result<Closes, String> {
        let at = format!("[[seguimiento]] que cierra «{}»", self.cierra);
        let cites = closing.iter().any(|f| {
            f.name == self.cita
                && matches!(&f.kind, FieldType::Document { forms, .. } if forms.iter().any(|c| c.id.as_str() == owing))
        });
        if !cites {
            return Err(format!(
                "{at}: «cita»: «{}» no es allí un campo documento que cite este formulario",
                self.cita
            ));
        }
        let por_persona = match (&self.por_persona, &self.persona) {
            (Some(path), Some(person)) => {
                if !closing
                    .iter()
                    .any(|f| &f.name == person && matches!(f.kind, FieldType::Person { .. }))
                {
                    return Err(format!(
                        "{at}: «persona»: «{person}» no es allí un campo de persona"
                    ));
                }
                let (table, column) = path.split_once('.').unwrap_or_default();
                Some((table.to_owned(), column.to_owned(), person.clone()))
            }
            _ => None,
        };
        for name in &self.coinciden {
            if !closing.iter().any(|f| &f.name == name) {
                return Err(format!("{at}: «coinciden»: el campo «{name}» no existe allí"));
            }
        }
        Ok(Closes {
            formulario: owing.to_owned(),
            cita: self.cita.clone(),
            por_persona,
            coinciden: self.coinciden.clone(),
        })
    }

    /// The day it falls due for a document with `data`, issued on `issued_on`.
    pub fn due(&self, data: &Value, issued_on: chrono::NaiveDate) -> chrono::NaiveDate {
        let start = self
            .vence
            .iter()
            .filter_map(|name| data.get(name)?.as_str())
            .find_map(|text| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
            .unwrap_or(issued_on);
        start + chrono::Days::new(u64::from(self.dias))
    }
}

/// Where, in the data of a form with `[conteo]`, the archive records what
/// it counted when it took the folio: the listas de asistencia in force of
/// the period (and group) and what they add up to. Never typed: the
/// document prints its counts from here.
pub const COUNT_RECORD_FIELD: &str = "conteo";

/// The `[conteo]` table of a form whose documents report the sessions and
/// attendance of a period (seed 000, E0028 productos 1 y 2): its period's
/// date fields and, optionally, its text field naming the group whose
/// listas count (the listas' `grupo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Count {
    pub desde: String,
    pub hasta: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grupo: Option<String>,
}

impl Count {
    pub(super) fn check(&self, fields: &[FieldSpec]) -> Result<(), String> {
        for name in [&self.desde, &self.hasta] {
            if !fields
                .iter()
                .any(|f| &f.name == name && matches!(f.kind, FieldType::Date))
            {
                return Err(format!("[conteo]: «{name}» no es un campo de fecha"));
            }
        }
        if let Some(name) = &self.grupo
            && !fields
                .iter()
                .any(|f| &f.name == name && matches!(f.kind, FieldType::Text { .. }))
        {
            return Err(format!("[conteo]: «grupo»: «{name}» no es un campo de texto"));
        }
        if fields.iter().any(|f| f.name == COUNT_RECORD_FIELD) {
            return Err(format!(
                "[conteo]: el campo «{COUNT_RECORD_FIELD}» lo registra el archivo al emitir"
            ));
        }
        Ok(())
    }
}

/// `data` without what the archive counted ([`COUNT_RECORD_FIELD`]), for a
/// form with `[conteo]`: the data as typed, to be checked against the
/// form's fields or taken up again for a correction.
pub fn without_count(form_counts: bool, data: &Value) -> Value {
    match data {
        Value::Object(fields) if form_counts && fields.contains_key(COUNT_RECORD_FIELD) => {
            let mut typed = fields.clone();
            typed.remove(COUNT_RECORD_FIELD);
            Value::Object(typed)
        }
        _ => data.clone(),
    }
}
