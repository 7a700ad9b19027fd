//! The padrón of a lote: one document listing everyone a bulk run issued a
//! document to, in row order, with each folio. The office files it as the
//! record of the run; it is issued like any document, once per set of
//! documents however many times it is asked for.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::IssuedRow;
use crate::archive::{Archive, ArchiveError, DocumentRecord, Issued, request_sha256};
use crate::forms::FormSpec;

/// The form of the padrón.
pub const PADRON_FORM: &str = "padron-lote";

/// The longest spreadsheet name the padrón prints (its field's limit).
const PLANILLA_MAX: usize = 200;

/// Who the padrón says issued the lote.
pub struct Responsible<'a> {
    pub name: &'a str,
    pub cargo: &'a str,
}

/// The padrón's data for the documents `rows` of `form`, issued on `date`
/// from the spreadsheet `file_name`.
pub fn padron_data(
    form: &FormSpec,
    file_name: &str,
    date: NaiveDate,
    rows: &[IssuedRow],
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
        "documento": form.title,
        "fecha_emision": date.format("%Y-%m-%d").to_string(),
        "emitidos": listed,
        "responsable_nombre": responsible.name,
    });
    let file_name: String = file_name.trim().chars().take(PLANILLA_MAX).collect();
    if !file_name.is_empty() {
        data["planilla"] = json!(file_name);
    }
    if !responsible.cargo.trim().is_empty() {
        data["responsable_cargo"] = json!(responsible.cargo.trim());
    }
    data
}

/// The padrón's idempotency key: the same documents give the same padrón.
pub fn padron_key(rows: &[IssuedRow]) -> String {
    // The same documents from a reordered spreadsheet are the same padrón.
    let mut ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    ids.sort_unstable();
    let hash = request_sha256(PADRON_FORM, &json!(ids));
    format!("padron-lote-{}", &hash[..40])
}

/// The padrón's record once issued. Asked again on another day or by
/// someone else, its data differ but its documents do not: the padrón
/// already issued for them is the answer.
pub async fn issued_or_existing(
    archive: &Archive,
    key: &str,
    issued: Result<Issued, ArchiveError>,
) -> Result<DocumentRecord, ArchiveError> {
    match issued {
        Ok(issued) => Ok(issued.record().clone()),
        Err(ArchiveError::IdempotencyConflict(_)) => match archive.document_by_idempotency_key(key).await? {
            Some(existing) if existing.status == "emitido" => Ok(existing),
            Some(existing) => Err(ArchiveError::Refused(format!(
                "el padrón de estos documentos ya se emitió como {}, que hoy está {}",
                existing.folio, existing.status
            ))),
            // Not visible yet: someone else's request is issuing it.
            None => Err(ArchiveError::InProgress(key.to_owned())),
        },
        Err(error) => Err(error),
    }
}
