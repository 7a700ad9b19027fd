//! The padrones in force and whether the archive changed since each was
//! integrated, for the registers page: a clerk sees which one to issue
//! again. Nothing is issued here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::padron::{self, PADRON_FORM, PadronRequest};
use super::version::{keys_of, tomo_key, version_of};
use crate::archive::{Archive, ArchiveError, DocumentRecord};
use crate::forms::Catalog;

/// A padrón whose version in force the archive holds.
#[derive(Debug)]
pub struct PadronInForce {
    pub programa: String,
    pub localidad: Option<String>,
    /// Its period, `YYYY-MM-DD`.
    pub desde: String,
    pub hasta: String,
    pub version: i64,
    /// Its cut-off day, `YYYY-MM-DD`.
    pub corte: String,
    /// Its tomos in force, in order.
    pub tomos: Vec<DocumentRecord>,
    pub archivo: Since,
}

/// What the archive did since the version in force was integrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// It would list the same documents today.
    Unchanged,
    /// It would not: documents that grant the service in its period were
    /// issued (`nuevos`), or annulled or replaced (`anulados`), after it.
    Changed { nuevos: usize, anulados: usize },
    /// What it prints does not rebuild the request it was integrated
    /// from (the catalog's forms changed since): it cannot be said.
    Unknown,
}

/// The key a register's versions share: `registro-`, 24 hex digits, `-`.
const PREFIX_LEN: usize = "registro-".len() + 24 + 1;

/// Every padrón with tomos in force, and whether the archive changed since.
/// Reads the archive once for each (as integrating it does).
pub async fn padrones(archive: &Archive, catalog: &Catalog) -> Result<Vec<PadronInForce>, ArchiveError> {
    let mut registers: BTreeMap<String, Vec<(usize, String, DocumentRecord)>> = BTreeMap::new();
    for (key, record) in archive.documents_keyed_under("registro-").await? {
        if record.form != PADRON_FORM || !record.status.is_current() {
            continue;
        }
        let (Some(prefix), Some(rest)) = (key.get(..PREFIX_LEN), key.get(PREFIX_LEN..)) else {
            continue;
        };
        let Some(parts) = tomo_key(rest) else {
            continue;
        };
        let (index, content) = (parts.index, parts.content.to_owned());
        registers
            .entry(prefix.to_owned())
            .or_default()
            .push((index, content, record));
    }
    let mut found = Vec::new();
    for (prefix, mut tomos) in registers {
        tomos.sort_by_key(|(index, _, record)| (*index, record.row_id));
        let content = tomos[0].1.clone();
        let tomos: Vec<DocumentRecord> = tomos.into_iter().map(|(_, _, record)| record).collect();
        let data: Value = serde_json::from_str(&tomos[0].data).unwrap_or_default();
        let text = |name: &str| {
            data.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut padron = PadronInForce {
            programa: text("programa"),
            localidad: Some(text("localidad")).filter(|l| !l.is_empty()),
            desde: text("periodo_inicio"),
            hasta: text("periodo_fin"),
            version: version_of(&tomos[0]),
            corte: text("fecha_corte"),
            tomos,
            archivo: Since::Unknown,
        };
        padron.archivo = since(archive, catalog, &padron, &text("origen"), (&prefix, &content)).await?;
        found.push(padron);
    }
    Ok(found)
}

/// Whether the padrón would list other documents today: the request it
/// was integrated from, rebuilt from what it prints, must be the one its
/// key says (else `Unknown`).
async fn since(
    archive: &Archive,
    catalog: &Catalog,
    padron: &PadronInForce,
    origen: &str,
    (prefix, content): (&str, &str),
) -> Result<Since, ArchiveError> {
    let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    let (Some(from), Some(to)) = (day(&padron.desde), day(&padron.hasta)) else {
        return Ok(Since::Unknown);
    };
    let titles: Vec<&str> = origen.split("; ").collect();
    let request = PadronRequest {
        programa: &padron.programa,
        localidad: padron.localidad.as_deref(),
        forms: catalog
            .iter()
            .filter(|f| f.padron.is_some() && titles.contains(&f.title.as_str()))
            .collect(),
        from,
        to,
    };
    // A padrón issued before its locality was part of which one it is was
    // keyed without it.
    let definition = padron::definition(&request);
    let mut before_locality = definition.clone();
    if let Some(fields) = before_locality.as_object_mut() {
        fields.remove("localidad");
    }
    if ![definition, before_locality]
        .iter()
        .any(|d| keys_of(d, &Value::Null).0 == prefix)
    {
        return Ok(Since::Unknown);
    }
    let first = &padron.tomos[0];
    let integrated = archive.reserved_at(first.row_id).await?;
    let grants = padron::grants_of(&request);
    let ids: Vec<&str> = request.forms.iter().map(|f| f.id.as_str()).collect();
    let (mut cited, mut nuevos, mut anulados) = (Vec::new(), 0, 0);
    archive
        .for_each_issued(&ids, padron::window(&request), false, |document| {
            if padron::granted_in_period(&grants, &request, &document).is_none() {
                return Ok(());
            }
            if document.status.is_current() {
                cited.push(document.row_id);
                // Its folio was taken after the padrón's.
                nuevos += usize::from(document.row_id > first.row_id);
            } else if document.row_id < first.row_id
                && document
                    .annulled_at
                    .as_deref()
                    .is_some_and(|at| at > integrated.as_str())
            {
                anulados += 1;
            }
            Ok(())
        })
        .await?;
    cited.sort_unstable();
    Ok(if keys_of(&Value::Null, &json!(cited)).1 == content {
        Since::Unchanged
    } else {
        Since::Changed { nuevos, anulados }
    })
}
