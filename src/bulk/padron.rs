//! The padrón of a lote: the documents listing everyone a bulk run issued a
//! document to, in row order, with each folio. The office files it as the
//! record of the run. A big lote's padrón comes in tomos of at most
//! [`TOMO_ROWS`] rows, as a register book does, so each renders in a few
//! seconds and a few hundred MB. Each tomo is issued like any document,
//! once for its set of documents however many times it is asked for.

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::IssuedRow;
use crate::archive::{Archive, ArchiveError, DocumentRecord, IssueOrder, Issued, request_sha256};
use crate::forms::FormSpec;
use crate::issuer::Issuer;

/// The form of the padrón.
pub const PADRON_FORM: &str = "padron-lote";

/// The most rows a tomo lists: a 10,000-row table takes Typst about 700 MB
/// and a 51,717-row one 3.6 GB.
pub const TOMO_ROWS: usize = 5_000;

/// The longest spreadsheet name the padrón prints (its field's limit).
const PLANILLA_MAX: usize = 200;

/// What a lote's padrón says of it.
pub struct Lote<'a> {
    /// The form of its documents.
    pub form: &'a FormSpec,
    /// The spreadsheet they came from.
    pub file_name: &'a str,
    /// The day they are dated: the first, when they span several.
    pub date: NaiveDate,
    /// The last day they are dated, when it is not `date` (a lote issued
    /// past midnight, or over more than one day).
    pub until: Option<NaiveDate>,
    /// Its documents, in row order.
    pub rows: &'a [IssuedRow],
}

/// Who issues the padrón: name and cargo it is signed with, and the
/// account recorded in the audit trail.
pub struct Responsible<'a> {
    pub name: &'a str,
    pub cargo: &'a str,
    pub actor: &'a str,
}

/// Issues the padrón of `lote`, tomo by tomo, with `padron_form`, telling
/// `issued` of each tomo issued now; returns the tomos' records in order.
/// The padrón of the same documents is returned, not issued again; a tomo
/// that fails leaves those before it issued, and asking again issues the
/// rest.
pub async fn issue_padron(
    issuer: &Issuer,
    issued: &(dyn Fn(&IssueOrder<'_>, &Issued) + Sync),
    archive: &Archive,
    padron_form: &FormSpec,
    lote: &Lote<'_>,
    responsible: &Responsible<'_>,
    issued_at: DateTime<Tz>,
) -> Result<Vec<DocumentRecord>, ArchiveError> {
    if lote.rows.is_empty() {
        return Err(ArchiveError::Refused(
            "el lote no emitió ningún documento: no hay padrón que emitir".into(),
        ));
    }
    let tomos: Vec<&[IssuedRow]> = lote.rows.chunks(TOMO_ROWS).collect();
    let mut records = Vec::with_capacity(tomos.len());
    for (index, rows) in tomos.iter().enumerate() {
        let numbering = (index + 1, tomos.len());
        let data = tomo_data(lote, rows, numbering, responsible);
        let key = tomo_key(lote.rows, numbering);
        let order = IssueOrder {
            form: padron_form,
            data: &data,
            issued_at,
            actor: responsible.actor,
            expediente_id: None,
            idempotency_key: Some(&key),
            draft: None,
            endorsements: Vec::new(),
            on_paper: Vec::new(),
        };
        let result = issuer
            .issue(archive, &order, (responsible.name, responsible.cargo))
            .await;
        if let Ok(tomo @ Issued::New { .. }) = &result {
            issued(&order, tomo);
        }
        records.push(issued_or_existing(archive, &key, result).await?);
    }
    Ok(records)
}

/// The data of tomo `number` (of `count`) listing `rows`.
fn tomo_data(
    lote: &Lote<'_>,
    rows: &[IssuedRow],
    (number, count): (usize, usize),
    responsible: &Responsible<'_>,
) -> Value {
    let listed: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut entry = json!({"linea": row.line.to_string(), "folio": row.folio});
            if let Some(person) = &row.person {
                entry["nombre"] = json!(person.name);
                entry["identificacion"] = json!(person.identity);
            }
            entry
        })
        .collect();
    let mut data = json!({
        "documento": lote.form.title,
        "fecha_emision": lote.date.format("%Y-%m-%d").to_string(),
        "emitidos": listed,
        "responsable_nombre": responsible.name,
    });
    if let Some(until) = lote.until.filter(|until| *until != lote.date) {
        data["fecha_hasta"] = json!(until.format("%Y-%m-%d").to_string());
    }
    if count > 1 {
        data["tomo"] = json!(format!("{number} de {count}"));
        // The count goes on from the tomo before, as in a register book.
        data["primer_numero"] = json!((number - 1) * TOMO_ROWS + 1);
    }
    let file_name: String = lote.file_name.trim().chars().take(PLANILLA_MAX).collect();
    if !file_name.is_empty() {
        data["planilla"] = json!(file_name);
    }
    if !responsible.cargo.trim().is_empty() {
        data["responsable_cargo"] = json!(responsible.cargo.trim());
    }
    data
}

/// A tomo's idempotency key: the whole lote's documents, in any order, and
/// which tomo it is. The same documents give the same padrón, whichever
/// way the spreadsheet was sorted; a lote that grew gets a new padrón.
fn tomo_key(lote: &[IssuedRow], (number, count): (usize, usize)) -> String {
    // The database's keys, as before public ids: a padrón asked again
    // after an upgrade is still the one issued.
    let mut ids: Vec<i64> = lote.iter().map(|row| row.row_id).collect();
    ids.sort_unstable();
    let keyed = if count == 1 {
        json!(ids)
    } else {
        json!({"documentos": ids, "tomo": number, "de": count})
    };
    let hash = request_sha256(PADRON_FORM, &keyed);
    format!("padron-lote-{}", &hash[..40])
}

/// A tomo's record once issued. Asked again on another day or by someone
/// else, its data differ but its documents do not: the tomo already issued
/// for them is the answer.
async fn issued_or_existing(
    archive: &Archive,
    key: &str,
    issued: Result<Issued, ArchiveError>,
) -> Result<DocumentRecord, ArchiveError> {
    match issued {
        Ok(issued) => Ok(issued.record().clone()),
        Err(ArchiveError::IdempotencyConflict(_)) => match archive.document_by_idempotency_key(key).await? {
            Some(existing) if existing.status.is_current() => Ok(existing),
            Some(existing) => Err(ArchiveError::Refused(format!(
                "este tomo del padrón ya se emitió como {}, que hoy está {}",
                existing.folio, existing.status
            ))),
            // Not visible yet: someone else's request is issuing it.
            None => Err(ArchiveError::InProgress(key.to_owned())),
        },
        Err(error) => Err(error),
    }
}
