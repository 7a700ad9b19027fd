//! The archive's side of the transparency log, one for the installation:
//! each issuance, annulment and replacement appends one entry, in the transaction that makes it, so that
//! nothing is issued without its entry and no entry exists without its
//! document. An entry is text rebuilt from the document's rows alone
//! (`entry_text`), which is how `verify_log` recomputes the log from the
//! archive; it holds hashes, the folio, the form, times and the key id,
//! never a name, an identity number, the data or the verification code.
//!
//! The entry text, one `key value` line each, in this order:
//! `sello/registro/v1`, `evento`, `oficina`, `folio`, `formulario`,
//! `sha256`, `codigo-sha256`; then `emitido` and `clave` for an issuance, or
//! `anulado` and `categoria` (and `reemplazado-por`, `reemplazo-sha256` for a
//! replacement). An entry appended late, by the one-time backfill of
//! documents an archive held before it had a log (`backfill`), ends with
//! the line `alta-tardia anterior-al-registro`: the log never claims that
//! such an event was logged when it happened. Which entries are late is
//! recorded apart (`log_backfill`), so `verify_log` fails on a mark added
//! or removed; and the mark is part of the leaf hash, so a published
//! checkpoint pins it too.

use sqlx::AnyConnection;

use super::audit::hex;
use super::blobs::sha256_hex;
use super::{Archive, ArchiveError};
use crate::tlog::merkle::{self, Hash};

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEvent {
    Emision,
    Anulacion,
    Reemplazo,
}

impl LogEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Emision => "emision",
            Self::Anulacion => "anulacion",
            Self::Reemplazo => "reemplazo",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Emision, Self::Anulacion, Self::Reemplazo]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

/// One stored entry of the log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub index: u64,
    pub document_id: i64,
    pub event: LogEvent,
    pub entry: String,
    pub leaf_hash: Hash,
}

/// The first difference `verify_log` found between the log and the archive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogProblem {
    #[error("entrada {index}: {message}")]
    Entry { index: u64, message: String },
    #[error("el documento {folio} no tiene su entrada de {event} en el registro")]
    Missing { folio: String, event: &'static str },
}

type EntryRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The line that ends an entry appended late by the backfill.
pub const LATE_MARK: &str = "alta-tardia anterior-al-registro\n";

/// The entry text of `event` for the document, from its rows as they are;
/// `late` if appended by the backfill.
async fn entry_text(
    conn: &mut AnyConnection,
    document_id: i64,
    event: LogEvent,
    late: bool,
) -> Result<Option<String>, ArchiveError> {
    let row: Option<EntryRow> = sqlx::query_as(
        "SELECT d.office_code, d.folio, d.form, d.pdf_sha256, d.code_hash, d.issued_at, d.annulled_at, \
         d.annul_category, r.folio, r.pdf_sha256, \
         (SELECT s.key_id FROM signatures s WHERE s.document_id = d.id ORDER BY s.id LIMIT 1) \
         FROM documents d LEFT JOIN documents r ON r.id = d.replaced_by WHERE d.id = $1",
    )
    .bind(document_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((office, folio, form, pdf, code, issued_at, annulled_at, category, by_folio, by_pdf, key)) = row
    else {
        return Ok(None);
    };
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut text = format!(
        "sello/registro/v1\nevento {}\noficina {office}\nfolio {folio}\nformulario {form}\nsha256 {}\ncodigo-sha256 {}\n",
        event.as_str(),
        value(&pdf),
        value(&code),
    );
    match event {
        LogEvent::Emision => text.push_str(&format!("emitido {issued_at}\nclave {}\n", value(&key))),
        LogEvent::Anulacion | LogEvent::Reemplazo => {
            text.push_str(&format!(
                "anulado {}\ncategoria {}\n",
                value(&annulled_at),
                value(&category)
            ));
            if event == LogEvent::Reemplazo {
                text.push_str(&format!(
                    "reemplazado-por {}\nreemplazo-sha256 {}\n",
                    value(&by_folio),
                    value(&by_pdf)
                ));
            }
        }
    }
    if late {
        text.push_str(LATE_MARK);
    }
    Ok(Some(text))
}

/// Appends the entry of `event` for the document, inside the transaction
/// that made it; returns its index.
pub(super) async fn append(
    conn: &mut AnyConnection,
    document_id: i64,
    event: LogEvent,
) -> Result<u64, ArchiveError> {
    append_entry(conn, document_id, event, false).await
}

async fn append_entry(
    conn: &mut AnyConnection,
    document_id: i64,
    event: LogEvent,
    late: bool,
) -> Result<u64, ArchiveError> {
    let entry = entry_text(conn, document_id, event, late)
        .await?
        .ok_or_else(|| ArchiveError::DocumentNotFound(document_id.to_string()))?;
    // The row update takes PostgreSQL's row lock on the log's size (and
    // SQLite's write lock is already held), so indexes are never shared.
    sqlx::query("UPDATE log_size SET size = size + 1 WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    let (size,): (i64,) = sqlx::query_as("SELECT size FROM log_size WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let index = size - 1;
    sqlx::query(
        "INSERT INTO log_entries (idx, document_id, event, entry, leaf_hash) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(index)
    .bind(document_id)
    .bind(event.as_str())
    .bind(&entry)
    .bind(hex(&merkle::leaf_hash(entry.as_bytes())))
    .execute(&mut *conn)
    .await?;
    Ok(index as u64)
}

fn parse_hash(text: &str) -> Option<Hash> {
    data_encoding::HEXLOWER
        .decode(text.as_bytes())
        .ok()
        .and_then(|h| Hash::try_from(h).ok())
}

impl Archive {
    /// The installation's log entries (of every office), in order.
    pub async fn log_entries(&self) -> Result<Vec<LogEntry>, ArchiveError> {
        let rows: Vec<(i64, i64, String, String, String)> =
            sqlx::query_as("SELECT idx, document_id, event, entry, leaf_hash FROM log_entries ORDER BY idx")
                .fetch_all(self.store.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(index, document_id, event, entry, leaf)| LogEntry {
                index: index as u64,
                document_id,
                event: LogEvent::parse(&event).unwrap_or(LogEvent::Emision),
                entry,
                // A stored hash that does not parse is kept as zeros, which
                // `verify_log` reports; readers of the tree see a wrong head.
                leaf_hash: parse_hash(&leaf).unwrap_or([0; 32]),
            })
            .collect())
    }

    /// The leaf hashes of the log, in order: the tree.
    pub async fn log_leaves(&self) -> Result<Vec<Hash>, ArchiveError> {
        Ok(self
            .log_entries()
            .await?
            .into_iter()
            .map(|e| e.leaf_hash)
            .collect())
    }

    /// How many entries the log has.
    pub async fn log_size(&self) -> Result<u64, ArchiveError> {
        let (size,): (i64,) = sqlx::query_as("SELECT size FROM log_size WHERE id = 1")
            .fetch_one(self.store.pool())
            .await?;
        Ok(size as u64)
    }

    /// The index of the entry of `event` for the document whose verification
    /// code has this hash, if it has one.
    pub async fn log_index_of(&self, code_hash: &str, event: LogEvent) -> Result<Option<u64>, ArchiveError> {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT l.idx FROM log_entries l JOIN documents d ON d.id = l.document_id \
             WHERE d.code_hash = $1 AND l.event = $2",
        )
        .bind(code_hash)
        .bind(event.as_str())
        .fetch_optional(self.store.pool())
        .await?;
        Ok(found.map(|(index,)| index as u64))
    }

    /// Appends, once, the entries of the documents issued, annulled or
    /// replaced before the archive had a log, marked late
    /// ([`LATE_MARK`]): the issuances in document order, then the
    /// annulments and replacements in the order they were made. Runs in one
    /// transaction that first clears `log_backfill.pending`, so that it
    /// happens once: a concurrent instance waits on that row and then finds
    /// nothing pending, and a failure leaves it pending for the next open.
    /// It records the indexes it appended, which `verify_log` holds the
    /// marks to. Returns how many entries it appended.
    pub async fn backfill_log(&self) -> Result<u64, ArchiveError> {
        let (pending,): (i64,) = sqlx::query_as("SELECT pending FROM log_backfill WHERE id = 1")
            .fetch_one(self.store.pool())
            .await?;
        if pending == 0 {
            return Ok(0);
        }
        let mut tx = self.store.pool().begin().await?;
        let claimed = sqlx::query("UPDATE log_backfill SET pending = 0 WHERE id = 1 AND pending = 1")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if claimed == 0 {
            return Ok(0);
        }
        let documents: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, status, annulled_at FROM documents \
             WHERE status <> 'reservado' AND pdf_sha256 IS NOT NULL ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let logged: Vec<(i64, String)> = sqlx::query_as("SELECT document_id, event FROM log_entries")
            .fetch_all(&mut *tx)
            .await?;
        let missing = |id: i64, event: LogEvent| !logged.iter().any(|(d, e)| *d == id && e == event.as_str());
        let (from,): (i64,) = sqlx::query_as("SELECT size FROM log_size WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let mut later = Vec::new();
        let mut appended = 0;
        for (id, status, annulled_at) in &documents {
            if missing(*id, LogEvent::Emision) {
                append_entry(&mut tx, *id, LogEvent::Emision, true).await?;
                appended += 1;
            }
            let event = match status.as_str() {
                "anulado" => LogEvent::Anulacion,
                "reemplazado" => LogEvent::Reemplazo,
                _ => continue,
            };
            if missing(*id, event) {
                later.push((annulled_at.clone().unwrap_or_default(), *id, event));
            }
        }
        later.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        for (_, id, event) in later {
            append_entry(&mut tx, id, event, true).await?;
            appended += 1;
        }
        sqlx::query("UPDATE log_backfill SET late_from = $1, late_to = $2 WHERE id = 1")
            .bind(from)
            .bind(from + appended)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(appended as u64)
    }

    /// Recomputes the log from the archive: every entry's text
    /// from its document's rows (with the late mark exactly on the entries
    /// the backfill appended, as `log_backfill` records them), its leaf hash, its PDF's hash from the blob
    /// store, the indexes without gaps; and every issued or annulled
    /// document has its entries. Returns the log's size, or the first
    /// difference, naming the entry.
    pub async fn verify_log(&self) -> Result<Result<u64, LogProblem>, ArchiveError> {
        let entries = self.log_entries().await?;
        let raw: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT idx, event, leaf_hash FROM log_entries ORDER BY idx")
                .fetch_all(self.store.pool())
                .await?;
        let mut conn = self.store.pool().acquire().await?;
        // Which entries the backfill appended: those carry the late mark,
        // and no other may.
        let (late_from, late_to): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT late_from, late_to FROM log_backfill WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?;
        let late_range = late_from.unwrap_or(0) as u64..late_to.unwrap_or(0) as u64;
        for (position, (entry, (_, event, leaf))) in entries.iter().zip(&raw).enumerate() {
            let problem = |message: String| {
                Ok(Err(LogProblem::Entry {
                    index: entry.index,
                    message,
                }))
            };
            if entry.index != position as u64 {
                return problem(format!(
                    "falta la entrada {position}; el registro no puede tener huecos"
                ));
            }
            if LogEvent::parse(event).is_none() {
                return problem(format!("evento «{event}» desconocido"));
            }
            if parse_hash(leaf) != Some(merkle::leaf_hash(entry.entry.as_bytes())) {
                return problem("su hash de hoja no es el de su texto".into());
            }
            let late = late_range.contains(&entry.index);
            let Some(expected) = entry_text(&mut conn, entry.document_id, entry.event, late).await? else {
                return problem("su documento no está en el archivo".into());
            };
            if expected != entry.entry {
                return problem("su texto no coincide con el documento archivado".into());
            }
            let pdf = entry
                .entry
                .lines()
                .find_map(|l| l.strip_prefix("sha256 "))
                .unwrap_or_default();
            match self.blobs.get(pdf).await {
                Ok(bytes) if sha256_hex(&bytes) == pdf => {}
                Ok(_) => return problem("el PDF archivado no tiene el SHA-256 de la entrada".into()),
                Err(_) => return problem("falta el PDF archivado".into()),
            }
        }
        let documents: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, folio, status, pdf_sha256 FROM documents WHERE status <> 'reservado' ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (id, folio, status, pdf) in documents {
            if pdf.is_none() {
                // A folio annulled before it was issued: nothing was issued.
                continue;
            }
            let has = |event: LogEvent| entries.iter().any(|e| e.document_id == id && e.event == event);
            let wanted = match status.as_str() {
                "anulado" => Some(LogEvent::Anulacion),
                "reemplazado" => Some(LogEvent::Reemplazo),
                _ => None,
            };
            for event in [Some(LogEvent::Emision), wanted].into_iter().flatten() {
                if !has(event) {
                    return Ok(Err(LogProblem::Missing {
                        folio,
                        event: event.as_str(),
                    }));
                }
            }
        }
        Ok(Ok(entries.len() as u64))
    }
}
