//! Lotes kept in the database (migration 0021): what a web upload asked
//! for, its rows and what became of each, so that any instance shows its
//! page and serves its downloads, and the instances share its work. Its
//! run starts as a job of the queue ([`LOTE_JOB`], which reserves its
//! folios and splits it into chunks: `chunks`) enqueued in the same
//! transaction as the lote.
//!
//! Long because a lote's rows are written and read back in one shape:
//! what is stored (a row, its outcome, a problem) is next to what reads it.

use chrono::DateTime;
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::{IssuedRow, ReadyRow, RowOutcome, RowProblem};
use crate::archive::persons_in;
use crate::db::{Store, Tx};
use crate::forms::FormSpec;
use crate::public_id::PublicId;
use crate::queue::{NewJob, Queue, QueueError};

/// The queue's kind of a lote's run; its payload is `{"lote": id}`.
pub const LOTE_JOB: &str = "lote";

/// Claims of a lote's run before it is given up: each claim either
/// finishes it, finds the office busy with another lote, or finds its
/// holder died.
pub(super) const LOTE_ATTEMPTS: u32 = 1000;

/// Why a lote could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LoteError {
    #[error("base de datos: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("lote {0}: {1}")]
    Corrupt(i64, String),
}

/// A lote to record.
pub struct NewLote<'a> {
    pub public_id: PublicId,
    pub office_code: &'a str,
    pub form: &'a str,
    pub file_name: &'a str,
    pub on_paper: bool,
    pub issued_at: DateTime<Tz>,
    pub total_rows: usize,
    pub unused_columns: &'a [String],
    pub signer: &'a str,
    pub cargo: &'a str,
    pub actor: &'a str,
    /// Prepared by someone who does not sign its form: stored, not run,
    /// until the role that signs approves it (`bulk::approval`).
    pub awaiting_approval: bool,
    /// The rows to issue; none for a dry run.
    pub rows: &'a [ReadyRow],
    pub problems: &'a [RowProblem],
}

/// A lote as stored.
#[derive(Debug, Clone)]
pub struct LoteRecord {
    pub id: i64,
    pub public_id: PublicId,
    pub office_code: String,
    pub form: String,
    pub file_name: String,
    pub on_paper: bool,
    pub issued_at: DateTime<Tz>,
    pub total_rows: usize,
    pub valid_rows: usize,
    pub unused_columns: Vec<String>,
    pub signer: String,
    pub cargo: String,
    pub actor: String,
    /// Milliseconds since 1970, as the queue counts.
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub failure: Option<String>,
    /// The tomos of its padrón: (document, folio).
    pub padron: Vec<(PublicId, String)>,
    /// Waiting for the role that signs its form to approve it.
    pub awaiting_approval: bool,
    /// Who uploaded and sent it, when someone else approved it.
    pub prepared_by: Option<String>,
    /// Who approved it (and signed its documents), and when.
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

impl LoteRecord {
    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }
}

const LOTE_COLUMNS: &str = "id, public_id, office_code, form, file_name, on_paper, issued_at, time_zone, \
     total_rows, valid_rows, unused_columns, signer, cargo, actor, created_at, finished_at, failure, padron, \
     awaiting_approval, prepared_by, approved_by, approved_at";

#[derive(sqlx::FromRow)]
struct LoteRow {
    id: i64,
    public_id: PublicId,
    office_code: String,
    form: String,
    file_name: String,
    on_paper: i64,
    issued_at: String,
    time_zone: String,
    total_rows: i64,
    valid_rows: i64,
    unused_columns: String,
    signer: String,
    cargo: String,
    actor: String,
    created_at: i64,
    finished_at: Option<i64>,
    failure: Option<String>,
    padron: Option<String>,
    awaiting_approval: i64,
    prepared_by: Option<String>,
    approved_by: Option<String>,
    approved_at: Option<i64>,
}

impl TryFrom<LoteRow> for LoteRecord {
    type Error = LoteError;

    fn try_from(row: LoteRow) -> Result<Self, LoteError> {
        let corrupt = |what: String| LoteError::Corrupt(row.id, what);
        let zone: Tz = row
            .time_zone
            .parse()
            .map_err(|_| corrupt(format!("zona horaria «{}»", row.time_zone)))?;
        let issued_at = DateTime::parse_from_rfc3339(&row.issued_at)
            .map_err(|e| corrupt(format!("fecha: {e}")))?
            .with_timezone(&zone);
        let unused_columns =
            serde_json::from_str(&row.unused_columns).map_err(|e| corrupt(format!("columnas: {e}")))?;
        let padron: Vec<(String, String)> = match &row.padron {
            Some(text) => serde_json::from_str(text).map_err(|e| corrupt(format!("padrón: {e}")))?,
            None => Vec::new(),
        };
        let padron = padron
            .into_iter()
            .map(|(id, folio)| Ok((PublicId::parse(&id).map_err(|_| corrupt("padrón".into()))?, folio)))
            .collect::<Result<_, LoteError>>()?;
        Ok(Self {
            id: row.id,
            public_id: row.public_id,
            office_code: row.office_code,
            form: row.form,
            file_name: row.file_name,
            on_paper: row.on_paper != 0,
            issued_at,
            total_rows: usize::try_from(row.total_rows).unwrap_or(0),
            valid_rows: usize::try_from(row.valid_rows).unwrap_or(0),
            unused_columns,
            signer: row.signer,
            cargo: row.cargo,
            actor: row.actor,
            created_at: row.created_at,
            finished_at: row.finished_at,
            failure: row.failure,
            padron,
            awaiting_approval: row.awaiting_approval != 0,
            prepared_by: row.prepared_by,
            approved_by: row.approved_by,
            approved_at: row.approved_at,
        })
    }
}

/// Records `lote`, its rows and problems, and (when it has rows) enqueues
/// its run, in one transaction; returns its id. A lote with no rows to
/// issue is finished at once; one awaiting approval is enqueued when it
/// is approved.
pub async fn create_lote(store: &Store, lote: &NewLote<'_>) -> Result<i64, LoteError> {
    let now = crate::queue::now_ms();
    let mut tx = store.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO lotes (public_id, office_code, form, file_name, on_paper, issued_at, time_zone, \
         total_rows, valid_rows, unused_columns, signer, cargo, actor, created_at, \
         awaiting_approval, prepared_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(lote.public_id)
    .bind(lote.office_code)
    .bind(lote.form)
    .bind(lote.file_name)
    .bind(i64::from(lote.on_paper))
    .bind(lote.issued_at.to_rfc3339())
    .bind(lote.issued_at.timezone().name())
    .bind(count(lote.total_rows))
    .bind(count(lote.rows.len()))
    .bind(json!(lote.unused_columns).to_string())
    .bind(lote.signer)
    .bind(lote.cargo)
    .bind(lote.actor)
    .bind(now)
    .bind(i64::from(lote.awaiting_approval))
    .bind(lote.awaiting_approval.then_some(lote.actor))
    .fetch_one(&mut *tx)
    .await?;
    for row in lote.rows {
        sqlx::query(
            "INSERT INTO lote_rows (lote_id, line, data, expediente, row_key) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(count(row.line))
        .bind(row.data.to_string())
        .bind(row.expediente.map(|e| e.to_string()))
        .bind(&row.key)
        .execute(&mut *tx)
        .await?;
    }
    for problem in lote.problems {
        insert_problem(&mut tx, id, problem).await?;
    }
    if lote.rows.is_empty() {
        // Nothing to issue: finished already.
        mark_finished(&mut tx, id, None).await?;
    } else if lote.awaiting_approval {
        let sent = crate::archive::NewEvent {
            actor: lote.actor.to_owned(),
            action: "lote.enviado",
            office_code: Some(lote.office_code.to_owned()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details: json!({ "lote": lote.public_id.to_string(), "filas": lote.rows.len() }),
        };
        crate::archive::audit::append_event(&mut tx, sent).await?;
    } else {
        enqueue_run(&mut tx, id, lote.public_id).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Enqueues the run of the lote `id`: whichever instance claims it issues
/// its rows.
pub(super) async fn enqueue_run(tx: &mut Tx, id: i64, public_id: PublicId) -> Result<(), LoteError> {
    let job = NewJob::new(LOTE_JOB, json!({ "lote": id }))
        .max_attempts(LOTE_ATTEMPTS)
        .in_group(&public_id.to_string());
    Queue::enqueue_in(tx, &job).await?;
    Ok(())
}

async fn insert_problem(tx: &mut Tx, lote: i64, problem: &RowProblem) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lote_problems (lote_id, line, column_name, message, person) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(lote)
    .bind(count(problem.line))
    .bind(&problem.column)
    .bind(&problem.message)
    .bind(&problem.person)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn line_of(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// The lote of `office` by its public id.
pub async fn lote_of_office(
    store: &Store,
    office: &str,
    public_id: PublicId,
) -> Result<Option<LoteRecord>, LoteError> {
    let sql = format!("SELECT {LOTE_COLUMNS} FROM lotes WHERE public_id = $1 AND office_code = $2");
    let row: Option<LoteRow> = sqlx::query_as(&sql)
        .bind(public_id)
        .bind(office)
        .fetch_optional(store.pool())
        .await?;
    row.map(LoteRecord::try_from).transpose()
}

/// The lote by its key (a job's payload names it so).
pub async fn lote_by_id(store: &Store, id: i64) -> Result<Option<LoteRecord>, LoteError> {
    let sql = format!("SELECT {LOTE_COLUMNS} FROM lotes WHERE id = $1");
    let row: Option<LoteRow> = sqlx::query_as(&sql).bind(id).fetch_optional(store.pool()).await?;
    row.map(LoteRecord::try_from).transpose()
}

/// The latest lotes of `office`, newest first, with how many rows each
/// has done.
pub async fn lotes_of_office(store: &Store, office: &str) -> Result<Vec<(LoteRecord, usize)>, LoteError> {
    let sql = format!(
        "SELECT {LOTE_COLUMNS} FROM lotes WHERE office_code = $1 ORDER BY created_at DESC, id DESC LIMIT 50"
    );
    let rows: Vec<LoteRow> = sqlx::query_as(&sql).bind(office).fetch_all(store.pool()).await?;
    let mut lotes = Vec::new();
    for row in rows {
        let lote = LoteRecord::try_from(row)?;
        let done = done_rows(store, lote.id).await?;
        lotes.push((lote, done));
    }
    Ok(lotes)
}

/// Whether `office` has a lote still being issued (one waiting for
/// approval is not being issued).
pub async fn office_busy(store: &Store, office: &str) -> Result<bool, LoteError> {
    let busy: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM lotes WHERE office_code = $1 AND finished_at IS NULL AND awaiting_approval = 0",
    )
    .bind(office)
    .fetch_one(store.pool())
    .await?;
    Ok(busy > 0)
}

/// Whether the lote is finished (issued, failed or given up).
pub async fn is_finished(store: &Store, lote: i64) -> Result<bool, LoteError> {
    let finished: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM lotes WHERE id = $1 AND finished_at IS NOT NULL")
            .bind(lote)
            .fetch_one(store.pool())
            .await?;
    Ok(finished > 0)
}

/// How many of the lote's rows are done, issued or failed.
pub async fn done_rows(store: &Store, lote: i64) -> Result<usize, LoteError> {
    let done: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM lote_rows WHERE lote_id = $1 AND outcome IS NOT NULL")
            .bind(lote)
            .fetch_one(store.pool())
            .await?;
    Ok(line_of(done))
}

/// How far a lote got, counted in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoteCounts {
    /// Rows done, issued or failed.
    pub done: usize,
    /// Problems found, when checked or when issued.
    pub problems: usize,
    /// Documents issued, or found issued by an earlier run.
    pub documents: usize,
}

/// The lote's counts, without reading its rows.
pub async fn counts(store: &Store, lote: i64) -> Result<LoteCounts, LoteError> {
    let (done, documents): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(outcome), COUNT(CASE WHEN outcome = 'emitido' THEN 1 END) FROM lote_rows \
         WHERE lote_id = $1",
    )
    .bind(lote)
    .fetch_one(store.pool())
    .await?;
    let problems: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lote_problems WHERE lote_id = $1")
        .bind(lote)
        .fetch_one(store.pool())
        .await?;
    Ok(LoteCounts {
        done: line_of(done),
        problems: line_of(problems),
        documents: line_of(documents),
    })
}

/// The rows not done yet, in row order.
pub async fn pending_rows(store: &Store, lote: i64) -> Result<Vec<ReadyRow>, LoteError> {
    pending_rows_within(store, lote, 0, i64::MAX).await
}

/// The rows not done yet whose line is in `first..=last`, in row order.
pub async fn pending_rows_within(
    store: &Store,
    lote: i64,
    first: i64,
    last: i64,
) -> Result<Vec<ReadyRow>, LoteError> {
    // Line, data, expediente, key and the document reserved for it.
    type StoredRow = (i64, String, Option<String>, String, Option<i64>);
    let rows: Vec<StoredRow> = sqlx::query_as(
        "SELECT line, data, expediente, row_key, document_id FROM lote_rows \
         WHERE lote_id = $1 AND outcome IS NULL AND line >= $2 AND line <= $3 ORDER BY line",
    )
    .bind(lote)
    .bind(first)
    .bind(last)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(line, data, expediente, key, reserved)| {
            let data: Value = serde_json::from_str(&data)
                .map_err(|e| LoteError::Corrupt(lote, format!("fila {line}: {e}")))?;
            let expediente = expediente
                .map(|e| PublicId::parse(&e))
                .transpose()
                .map_err(|_| LoteError::Corrupt(lote, format!("fila {line}: expediente")))?;
            Ok(ReadyRow {
                line: line_of(line),
                data,
                expediente,
                key,
                reserved,
            })
        })
        .collect()
}

/// Every problem of the lote, by line.
pub async fn problems(store: &Store, lote: i64) -> Result<Vec<RowProblem>, LoteError> {
    let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT line, column_name, message, person FROM lote_problems WHERE lote_id = $1 ORDER BY line",
    )
    .bind(lote)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(line, column, message, person)| RowProblem {
            line: line_of(line),
            column,
            message,
            person,
        })
        .collect())
}

/// Its documents in row order; `form` names the persons of each, for the
/// lote's padrón.
pub async fn documents(
    store: &Store,
    lote: i64,
    form: Option<&FormSpec>,
) -> Result<Vec<IssuedRow>, LoteError> {
    let rows: Vec<(i64, String, i64, String, String, String)> = sqlx::query_as(
        "SELECT line, data, document_id, document, folio, url FROM lote_rows \
         WHERE lote_id = $1 AND outcome = 'emitido' ORDER BY line",
    )
    .bind(lote)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(line, data, row_id, document, folio, url)| {
            let corrupt = |what: &str| LoteError::Corrupt(lote, format!("fila {line}: {what}"));
            let person = match form {
                Some(form) => {
                    let data: Value = serde_json::from_str(&data).map_err(|_| corrupt("datos"))?;
                    persons_in(form, &data).into_iter().next()
                }
                None => None,
            };
            Ok(IssuedRow {
                line: line_of(line),
                id: PublicId::parse(&document).map_err(|_| corrupt("documento"))?,
                row_id,
                folio,
                url,
                person,
            })
        })
        .collect()
}

/// Records what became of some rows, in one transaction.
pub async fn record_outcomes(store: &Store, lote: i64, outcomes: &[RowOutcome]) -> Result<(), LoteError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin_write().await?;
    for outcome in outcomes {
        match outcome {
            RowOutcome::Issued(row) | RowOutcome::AlreadyIssued(row) => {
                // A row a cut-off holder had failed, issued by the holder
                // after it: issued, and no longer among the problems.
                sqlx::query(
                    "DELETE FROM lote_problems WHERE lote_id = $1 AND line = $2 AND EXISTS \
                     (SELECT 1 FROM lote_rows WHERE lote_id = $1 AND line = $2 AND outcome = 'fallido')",
                )
                .bind(lote)
                .bind(count(row.line))
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE lote_rows SET outcome = 'emitido', document_id = $1, document = $2, folio = $3, \
                     url = $4 WHERE lote_id = $5 AND line = $6",
                )
                .bind(row.row_id)
                .bind(row.id.to_string())
                .bind(&row.folio)
                .bind(&row.url)
                .bind(lote)
                .bind(count(row.line))
                .execute(&mut *tx)
                .await?;
            }
            RowOutcome::Failed(problem) => {
                // A row a killed run had failed is failed once.
                let changed = sqlx::query(
                    "UPDATE lote_rows SET outcome = 'fallido' WHERE lote_id = $1 AND line = $2 \
                     AND outcome IS NULL",
                )
                .bind(lote)
                .bind(count(problem.line))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 1 {
                    insert_problem(&mut tx, lote, problem).await?;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Marks the lote finished, with why it could not run if it could not.
pub async fn finish(store: &Store, lote: i64, failure: Option<&str>) -> Result<(), LoteError> {
    let mut tx = store.begin_write().await?;
    mark_finished(&mut tx, lote, failure).await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the lote finished in `tx`, unless it was already, and records
/// its `lote.finished` webhook event in the same transaction: every way a
/// lote ends (issued, failed, given up, sent back, nothing to issue) goes
/// through here. Returns whether it finished it now.
pub(super) async fn mark_finished(tx: &mut Tx, lote: i64, failure: Option<&str>) -> Result<bool, LoteError> {
    let finished =
        sqlx::query("UPDATE lotes SET finished_at = $1, failure = $2 WHERE id = $3 AND finished_at IS NULL")
            .bind(crate::queue::now_ms())
            .bind(failure)
            .bind(lote)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    if finished == 1 {
        crate::archive::webhooks::lote_finished(tx, lote, failure).await?;
    }
    Ok(finished == 1)
}

/// Ends, failed, every unfinished lote one of whose jobs the queue gave
/// up: its attempts ran out in its run (`web::jobs` ends the lote then
/// too) or at a claim, after its holder had died on every attempt, when
/// nobody was left to end it. Otherwise the lote would show as running
/// forever and keep its office from starting another. Returns those
/// lotes.
pub async fn fail_given_up(store: &Store) -> Result<Vec<i64>, LoteError> {
    let given_up: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT l.id, j.last_error FROM lotes l JOIN jobs j ON j.group_key = l.public_id \
         WHERE l.finished_at IS NULL AND j.state = 'failed' AND j.kind IN ($1, $2) ORDER BY l.id, j.id",
    )
    .bind(LOTE_JOB)
    .bind(super::chunks::CHUNK_JOB)
    .fetch_all(store.pool())
    .await?;
    let mut ended: Vec<i64> = Vec::new();
    for (lote, why) in given_up {
        if ended.last() == Some(&lote) {
            continue;
        }
        let why = why.unwrap_or_else(|| "la instancia que lo tenía dejó de responder".into());
        finish(store, lote, Some(&format!("no se terminó de emitir: {why}"))).await?;
        ended.push(lote);
    }
    Ok(ended)
}

/// The first and last days the lote's documents are dated, if it issued
/// any.
pub async fn issue_days(
    store: &Store,
    lote: i64,
) -> Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>, LoteError> {
    let (first, last): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT MIN(d.issued_on), MAX(d.issued_on) FROM lote_rows r JOIN documents d ON d.id = r.document_id \
         WHERE r.lote_id = $1 AND r.outcome = 'emitido'",
    )
    .bind(lote)
    .fetch_one(store.pool())
    .await?;
    let day = |text: String| {
        text.parse::<chrono::NaiveDate>()
            .map_err(|_| LoteError::Corrupt(lote, format!("fecha de emisión «{text}»")))
    };
    match (first, last) {
        (Some(first), Some(last)) => Ok(Some((day(first)?, day(last)?))),
        _ => Ok(None),
    }
}

/// Records the tomos of the lote's padrón.
pub async fn set_padron(store: &Store, lote: i64, tomos: &[(PublicId, String)]) -> Result<(), LoteError> {
    let listed: Vec<(String, &str)> = tomos.iter().map(|(id, f)| (id.to_string(), f.as_str())).collect();
    sqlx::query("UPDATE lotes SET padron = $1 WHERE id = $2")
        .bind(json!(listed).to_string())
        .bind(lote)
        .execute(store.pool())
        .await?;
    Ok(())
}
