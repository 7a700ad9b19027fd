//! The weekly report of oficios (seed 004, «Oficios de Estrella Blanca»,
//! actividad 8: «archivar los oficios y generar reporte semanal»), built
//! from the archive: every oficio issued in the week, Monday to Sunday, in
//! folio order, the annulled ones marked and keeping their folio, as
//! `reporte-semanal-oficios` lists them.

use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Value, json};

use super::refused;
use super::version::{self, Issuing, Register, Version};
use crate::archive::{ArchiveError, Status};
use crate::forms::{Catalog, Family, FormSpec};

/// The form the report is issued with.
pub const REPORT_FORM: &str = "reporte-semanal-oficios";

/// The most oficios one report lists (its table's limit).
const ROWS_MAX: usize = 500;

/// Which report: the week (any of its days) and which oficios.
pub struct WeekRequest<'a> {
    pub day: NaiveDate,
    /// The forms whose oficios it lists; every oficio of the catalog if empty.
    pub forms: Vec<&'a FormSpec>,
    pub area: Option<&'a str>,
}

/// Monday and Sunday of the week of `day`.
pub fn week_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = day - Days::new(u64::from(day.weekday().num_days_from_monday()));
    (monday, monday + Days::new(6))
}

/// The oficio forms of `catalog` named by `ids`, or all of them.
pub fn oficio_forms<'c>(catalog: &'c Catalog, ids: &[String]) -> Result<Vec<&'c FormSpec>, ArchiveError> {
    if ids.is_empty() {
        return Ok(catalog.iter().filter(|f| f.family == Family::Oficio).collect());
    }
    ids.iter()
        .map(|id| {
            catalog
                .get(id)
                .filter(|f| f.family == Family::Oficio)
                .ok_or_else(|| refused(format!("formulario: «{id}» no es un oficio del catálogo")))
        })
        .collect()
}

/// One oficio as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub folio: String,
    pub tipo: &'static str,
    pub beneficiario: String,
    pub fecha: String,
    pub anulado: bool,
    pub observaciones: Option<String>,
    row_id: i64,
}

/// The oficios issued in the week of `request.day`, in folio order.
pub async fn oficios(
    archive: &crate::archive::Archive,
    request: &WeekRequest<'_>,
) -> Result<Vec<Listed>, ArchiveError> {
    let ids: Vec<&str> = request.forms.iter().map(|f| f.id.as_str()).collect();
    let mut found = Vec::new();
    archive
        .for_each_issued(&ids, week_of(request.day), false, |document| {
            let data: Value = serde_json::from_str(&document.data).unwrap_or(Value::Null);
            let observaciones = match document.status {
                Status::Reemplazado => document
                    .replaced_by_folio
                    .as_ref()
                    .map(|f| format!("Reemplazado por {f}")),
                _ => None,
            };
            found.push(Listed {
                tipo: kind_of(&document.form, &data),
                beneficiario: addressee(&data),
                fecha: document.issued_on,
                anulado: !document.status.is_current(),
                observaciones,
                folio: document.folio,
                row_id: document.row_id,
            });
            Ok(())
        })
        .await?;
    Ok(found)
}

/// Builds the report of the week from the archive and issues it, as a new
/// version when an oficio of the week was issued or annulled since.
pub async fn issue(
    issuing: &Issuing<'_>,
    catalog: &Catalog,
    request: &WeekRequest<'_>,
) -> Result<(Version, Vec<Listed>), ArchiveError> {
    let form = catalog
        .get(REPORT_FORM)
        .ok_or_else(|| refused(format!("el catálogo no tiene el formulario «{REPORT_FORM}»")))?;
    let (monday, sunday) = week_of(request.day);
    if sunday > issuing.at.date_naive() {
        return Err(refused(format!(
            "semana: la semana del {monday} al {sunday} no ha terminado; el reporte se genera terminada la semana"
        )));
    }
    let listed = oficios(issuing.archive, request).await?;
    if listed.is_empty() {
        return Err(refused(format!(
            "no se emitió ningún oficio en la semana del {monday} al {sunday}: no hay reporte que generar"
        )));
    }
    if listed.len() > ROWS_MAX {
        return Err(refused(format!(
            "la semana tiene {} oficios; un reporte lista hasta {ROWS_MAX}: genérelo por formulario",
            listed.len()
        )));
    }
    let cargo = issuing.cargo.trim();
    if cargo.is_empty() {
        return Err(refused(
            "el reporte dice el cargo de quien lo elabora, y esta cuenta no tiene cargo: regístrelo en la cuenta",
        ));
    }
    let mut ids: Vec<&str> = request.forms.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    let definition = json!({"registro": "semanal", "lunes": monday.to_string(), "formularios": ids});
    let content: Vec<Value> = listed.iter().map(|l| json!([l.row_id, l.anulado])).collect();
    let mut data = json!({
        "semana_inicio": monday.to_string(),
        "semana_fin": sunday.to_string(),
        "oficios": listed.iter().map(row_data).collect::<Vec<_>>(),
        "elaboro_nombre": issuing.name,
        "elaboro_cargo": cargo,
    });
    if let Some(area) = request.area.map(str::trim).filter(|a| !a.is_empty()) {
        data["area"] = json!(area);
    }
    let register = Register::single(form, definition, json!(content), data);
    let version = version::issue(issuing, register).await?;
    Ok((version, listed))
}

fn row_data(listed: &Listed) -> Value {
    let mut row = json!({
        "folio": listed.folio,
        "tipo": listed.tipo,
        "beneficiario": listed.beneficiario,
        "fecha": listed.fecha,
        "estado": if listed.anulado { "Anulado" } else { "Emitido" },
    });
    if let Some(note) = &listed.observaciones {
        row["observaciones"] = json!(note);
    }
    row
}

/// The report's type of an oficio, from its form (and, for an ayuda
/// funcional, whether it is a resguardo or a renewal).
fn kind_of(form: &str, data: &Value) -> &'static str {
    match form {
        "oficio-estrella-blanca" => "Estrella Blanca (50 % de descuento)",
        "oficio-ayuda-funcional" if data.get("tipo").and_then(Value::as_str) == Some("Renovación") => {
            "Renovación de ayuda funcional"
        }
        "oficio-ayuda-funcional" => "Resguardo de ayuda funcional",
        "oficio-autorizacion-apoyo" => "Autorización de apoyo",
        "oficio-comision" => "Comisión",
        _ => "Otro",
    }
}

/// Whom an oficio is for: its beneficiary, its applicant, the first person
/// commissioned, or its addressee.
fn addressee(data: &Value) -> String {
    let name_in = |value: Option<&Value>| {
        value
            .and_then(|v| v.get("nombre"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    };
    name_in(data.get("beneficiario"))
        .or_else(|| name_in(data.get("solicitante")))
        .or_else(|| {
            let people = data.get("comisionados").and_then(Value::as_array)?;
            let first = name_in(people.first())?;
            Some(match people.len() {
                1 => first,
                n => format!("{first} y {} más", n - 1),
            })
        })
        .or_else(|| {
            data.get("destinatario_nombre")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .map(|name| name.chars().take(150).collect())
        .unwrap_or_else(|| "—".into())
}
