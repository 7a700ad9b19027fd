//! The padrón de beneficiarios of a programme for a period, built from the
//! documents in force that grant its service (the forms that declare
//! `[padron]`): one row per person, with their name, domicilio, the
//! service and the day it was given, and the folio of every document that
//! grants it to them. Annulled and replaced documents are not counted.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::refused;
use super::version::{self, Issuing, Register, Version};
use crate::archive::{ArchiveError, ListedDocument, normal_identity};
use crate::forms::{Catalog, FormSpec, Grant, Granted};

/// The form the padrón is issued with.
pub const PADRON_FORM: &str = "padron-programa";

/// The most rows a tomo lists. A quarter of a lote padrón's tomo
/// (`bulk::TOMO_ROWS`): this padrón's rows are wider (domicilio, servicio,
/// folios), and its tomos render two at a time, one a core
/// (`version::TOMOS_AT_ONCE`), each holding Typst's memory of its layout
/// (about 150 MB for 1,250 rows) until it is done.
pub const TOMO_ROWS: usize = 1_250;

/// The longest a cell of the padrón may be (its fields' limits).
const CELL_MAX: usize = 600;

/// Which padrón: the programme, the forms that grant it, the period.
pub struct PadronRequest<'a> {
    /// As it heads the padrón and names its expediente.
    pub programa: &'a str,
    pub localidad: Option<&'a str>,
    /// Forms whose documents grant the service; each declares `[padron]`.
    pub forms: Vec<&'a FormSpec>,
    /// The days the service was given, both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One beneficiary of the padrón.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub nombre: String,
    pub identificacion: Option<String>,
    pub domicilio: Option<String>,
    /// The services given, each once, in the order given.
    pub servicios: Vec<String>,
    /// The first day a service was given in the period.
    pub fecha: String,
    /// Every document that grants it, in the order given.
    pub folios: Vec<String>,
    /// Their database keys, which key the padrón's version.
    row_ids: Vec<i64>,
}

/// The forms of `catalog` named by `ids`, each of which must grant
/// something; by default, every form that does.
pub fn granting_forms<'c>(catalog: &'c Catalog, ids: &[String]) -> Result<Vec<&'c FormSpec>, ArchiveError> {
    if ids.is_empty() {
        let all: Vec<&FormSpec> = catalog.iter().filter(|f| f.padron.is_some()).collect();
        return Ok(all);
    }
    ids.iter()
        .map(|id| {
            let form = catalog
                .get(id)
                .ok_or_else(|| refused(format!("formulario: «{id}» no está en el catálogo")))?;
            if form.padron.is_none() {
                return Err(refused(format!(
                    "formulario: «{id}» no otorga un servicio (su form.toml no declara [padron])"
                )));
            }
            Ok(form)
        })
        .collect()
}

/// The rows of the padrón, in the order the first service was given; one
/// per person (by identity number, or by name where there is none).
pub async fn rows(
    archive: &crate::archive::Archive,
    request: &PadronRequest<'_>,
) -> Result<Vec<Row>, ArchiveError> {
    if request.from > request.to {
        return Err(refused("periodo: el inicio es posterior al fin"));
    }
    let ids: Vec<&str> = request.forms.iter().map(|f| f.id.as_str()).collect();
    let grants = grants_of(request);
    let mut found: Vec<Row> = Vec::new();
    let mut by_person: HashMap<String, usize> = HashMap::new();
    archive
        .for_each_issued(&ids, window(request), true, |document| {
            let Some((granted, fecha)) = granted_in_period(&grants, request, &document) else {
                return Ok(());
            };
            let person = match &granted.identificacion {
                Some(id) => format!("id:{}", normal_identity(id)),
                None => format!("nombre:{}", granted.nombre.to_lowercase()),
            };
            match by_person.get(&person) {
                Some(&at) => {
                    let row = &mut found[at];
                    if !row.servicios.contains(&granted.servicio) {
                        row.servicios.push(granted.servicio);
                    }
                    if fecha < row.fecha {
                        row.fecha = fecha;
                    }
                    // The latest document says where they live now.
                    if granted.domicilio.is_some() {
                        row.domicilio = granted.domicilio;
                    }
                    row.folios.push(document.folio);
                    row.row_ids.push(document.row_id);
                }
                None => {
                    by_person.insert(person, found.len());
                    found.push(Row {
                        nombre: granted.nombre,
                        identificacion: granted.identificacion,
                        domicilio: granted.domicilio,
                        servicios: vec![granted.servicio],
                        fecha,
                        folios: vec![document.folio],
                        row_ids: vec![document.row_id],
                    });
                }
            }
            Ok(())
        })
        .await?;
    found.sort_by(|a, b| {
        a.fecha
            .cmp(&b.fecha)
            .then_with(|| a.row_ids[0].cmp(&b.row_ids[0]))
    });
    Ok(found)
}

/// What each form of the request grants, by form.
pub(super) fn grants_of<'r>(request: &PadronRequest<'r>) -> HashMap<&'r str, &'r Grant> {
    request
        .forms
        .iter()
        .filter_map(|f| Some((f.id.as_str(), f.padron.as_ref()?)))
        .collect()
}

/// The days whose documents may grant a service in the period: the
/// service's day may be a date of the form (a delivery) that falls outside
/// the days it was issued, so a year either side, filtered by the day.
pub(super) fn window(request: &PadronRequest<'_>) -> (NaiveDate, NaiveDate) {
    let slack = chrono::Days::new(366);
    (request.from - slack, request.to + slack)
}

/// What `document` grants and the day it was given, if that day falls in
/// the period.
pub(super) fn granted_in_period(
    grants: &HashMap<&str, &Grant>,
    request: &PadronRequest<'_>,
    document: &ListedDocument,
) -> Option<(Granted, String)> {
    let grant = grants.get(document.form.as_str())?;
    let data = serde_json::from_str::<Value>(&document.data).ok()?;
    let granted = grant.read(&data)?;
    let fecha = granted.fecha.clone().unwrap_or(document.issued_on.clone());
    NaiveDate::parse_from_str(&fecha, "%Y-%m-%d")
        .is_ok_and(|day| request.from <= day && day <= request.to)
        .then_some((granted, fecha))
}

/// Which padrón it is: what its versions share. The locality it prints is
/// part of it: asked for another, it is another padrón, never the one that
/// prints the first. (Without one the key is left out, as it was before
/// the locality was part of it.)
pub(super) fn definition(request: &PadronRequest<'_>) -> Value {
    let mut ids: Vec<&str> = request.forms.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    let mut definition = json!({
        "registro": "padron",
        "programa": request.programa.trim(),
        "formularios": ids,
        "desde": request.from.to_string(),
        "hasta": request.to.to_string(),
    });
    if let Some(localidad) = localidad(request) {
        definition["localidad"] = json!(localidad);
    }
    definition
}

fn localidad<'r>(request: &PadronRequest<'r>) -> Option<&'r str> {
    request.localidad.map(str::trim).filter(|l| !l.is_empty())
}

/// Builds the padrón from the archive and issues it, in tomos of
/// [`TOMO_ROWS`] when large, as a new version when what it lists changed.
pub async fn issue(
    issuing: &Issuing<'_>,
    catalog: &Catalog,
    request: &PadronRequest<'_>,
) -> Result<(Version, usize), ArchiveError> {
    issue_in_tomos_of(issuing, catalog, request, TOMO_ROWS).await
}

/// [`issue`], with at most `tomo_rows` rows a tomo. A set of tomos of
/// another size replaces the one before as a new version, even when the
/// archive did not change.
pub async fn issue_in_tomos_of(
    issuing: &Issuing<'_>,
    catalog: &Catalog,
    request: &PadronRequest<'_>,
    tomo_rows: usize,
) -> Result<(Version, usize), ArchiveError> {
    let tomo_rows = tomo_rows.max(1);
    let form = catalog
        .get(PADRON_FORM)
        .ok_or_else(|| refused(format!("el catálogo no tiene el formulario «{PADRON_FORM}»")))?;
    let programa = request.programa.trim();
    if programa.is_empty() || programa.chars().count() > 200 {
        return Err(refused(
            "programa: escriba el nombre del programa (hasta 200 caracteres)",
        ));
    }
    if request.forms.is_empty() {
        return Err(refused(
            "formulario: ningún formulario del catálogo otorga un servicio",
        ));
    }
    let rows = rows(issuing.archive, request).await?;
    if rows.is_empty() {
        return Err(refused(
            "el archivo no tiene documentos vigentes que otorguen el servicio en el periodo: no hay padrón que emitir",
        ));
    }
    let definition = definition(request);
    let localidad = localidad(request);
    let mut cited: Vec<i64> = rows.iter().flat_map(|r| r.row_ids.iter().copied()).collect();
    cited.sort_unstable();
    let origen: Vec<&str> = request.forms.iter().map(|f| f.title.as_str()).collect();
    let count = rows.len().div_ceil(tomo_rows);
    let (total, origen) = (rows.len(), clip(&origen.join("; ")));
    let rows = &rows;
    let tomo = move |index: usize| {
        let chunk = &rows[index * tomo_rows..((index + 1) * tomo_rows).min(rows.len())];
        let mut data = json!({
            "programa": programa,
            "periodo_inicio": request.from.to_string(),
            "periodo_fin": request.to.to_string(),
            "fecha_corte": issuing.at.date_naive().to_string(),
            "origen": origen,
            "total": total,
            "beneficiarios": chunk.iter().map(row_data).collect::<Vec<_>>(),
            "responsable_nombre": issuing.name,
        });
        if let Some(localidad) = localidad {
            data["localidad"] = json!(localidad);
        }
        if !issuing.cargo.trim().is_empty() {
            data["responsable_cargo"] = json!(issuing.cargo.trim());
        }
        if count > 1 {
            data["tomo"] = json!(format!("{} de {}", index + 1, count));
            data["primer_numero"] = json!(index * tomo_rows + 1);
        }
        data
    };
    let register = Register {
        form,
        definition,
        content: json!(cited),
        count,
        tomo: Box::new(tomo),
    };
    let version = version::issue(issuing, register).await?;
    Ok((version, rows.len()))
}

fn row_data(row: &Row) -> Value {
    let mut entry = json!({
        "nombre": clip(&row.nombre),
        "servicio": clip(&row.servicios.join("; ")),
        "fecha": row.fecha,
        // Every one: the padrón says each row cites each document.
        "folios": row.folios.join(", "),
    });
    if let Some(id) = &row.identificacion {
        entry["identificacion"] = json!(id.chars().take(40).collect::<String>());
    }
    if let Some(domicilio) = &row.domicilio {
        entry["domicilio"] = json!(domicilio.chars().take(300).collect::<String>());
    }
    entry
}

/// A cell within its field's limit: what does not fit ends in «…».
fn clip(text: &str) -> String {
    if text.chars().count() <= CELL_MAX {
        text.to_owned()
    } else {
        text.chars().take(CELL_MAX - 1).chain(['…']).collect()
    }
}
