//! One lote issued by many instances at once (migration 0025). The lote's
//! job ([`super::lotes::LOTE_JOB`]) reserves the folios of its rows in row
//! order, [`CHUNK_ROWS`] at a time, under the office's bulk lock; as each
//! chunk's rows are reserved it becomes a job of its own ([`CHUNK_JOB`])
//! that any instance claims, to render, sign and complete those very
//! reservations, while the next chunk is being reserved. A chunk whose
//! holder dies is claimed again (its lease runs out) and its holder
//! completes the same folios: every valid row keeps the folio its place in
//! the file gave it. Only a folio whose issuance fails (its document could
//! not be rendered, signed or stored) is annulled, «emisión fallida», as
//! in any run.
//!
//! The bulk lock now only keeps two reservations (a lote's, or a run of
//! `sello bulk`, which reserves as it issues) from interleaving: the
//! chunks, which reserve nothing, run beside anything.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::json;

use super::lotes::{self, LOTE_ATTEMPTS, LoteError, LoteRecord, count};
use super::run::bulk_issuer;
use super::{KEY_PREFIX, Reserving, RowOutcome, RunOrder};
use crate::archive::{Archive, ArchiveError, BulkLockError};
use crate::db::{Store, Tx};
use crate::issuer::Issuer;
use crate::queue::{NewJob, Queue};

/// The queue's kind of a lote's chunk; its payload is
/// `{"lote": id, "chunk": n}`.
pub const CHUNK_JOB: &str = "lote-tramo";

/// Rows of a chunk: a few minutes of one instance's work, so that a dead
/// instance leaves little to resume and the others share a lote evenly.
pub const CHUNK_ROWS: usize = 200;

/// Why a lote's reservation or a chunk did not run through.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    /// Another run of the office is reserving folios, or the lock could
    /// not be taken.
    #[error(transparent)]
    Lock(BulkLockError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Lote(#[from] LoteError),
    /// The office's renderer could not be made.
    #[error("generador de PDF: {0}")]
    Renderer(std::io::Error),
}

/// A chunk of a lote: its rows are those with a line in
/// `first_line..=last_line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub number: i64,
    pub first_line: i64,
    pub last_line: i64,
}

/// Reserves, in row order, the folios of the lote's rows not yet in a
/// chunk (read once the office's bulk lock is held, into `order`), holding
/// that lock; records each row's reserved document, and enqueues each
/// chunk once its rows are reserved and tells `chunk_ready`. A row the
/// archive refuses, or finds issued before, takes no folio: its outcome is
/// recorded at once. Stops between rows once `stop` says so, and between
/// chunks once the lote is finished (failed meanwhile); returns whether
/// every row was reserved. Safe to run again after it stopped or its
/// instance died: a row whose reservation was recorded keeps its folio.
pub async fn reserve_lote(
    issuer: &Issuer,
    archive: Archive,
    data_dir: &Path,
    lote: &LoteRecord,
    mut order: RunOrder<'_>,
    stop: &(dyn Fn() -> bool + Send + Sync),
    chunk_ready: &(dyn Fn() + Send + Sync),
) -> Result<bool, ChunkError> {
    let store = archive.store().clone();
    let lock = archive.lock_bulk(data_dir).await.map_err(ChunkError::Lock)?;
    // Read under the lock: an earlier holder may have added chunks until
    // it let go.
    order.rows = unchunked_rows(&store, lote.id).await?;
    // What a killed `sello bulk` left reserved; a lote's waiting folios
    // are not among them.
    let recovered = archive
        .recover_interrupted_keyed(KEY_PREFIX, std::time::Duration::ZERO)
        .await?;
    if !recovered.is_empty() {
        tracing::warn!(
            folios = recovered.len(),
            "folios de una corrida masiva interrumpida anulados («emisión interrumpida»)"
        );
    }
    let bulk = bulk_issuer(issuer, archive, &order)
        .await
        .map_err(ChunkError::Renderer)?;
    // Read under the lock: a holder cut off before it (whose lease this
    // attempt took over) may have added chunks since `order` was read.
    let chunks = chunks_of(&store, lote.id).await?;
    if let Some(last) = chunks.last() {
        order.rows.retain(|row| count(row.line) > last.last_line);
    }
    for (next, rows) in (chunks.len() as i64..).zip(order.rows.chunks(CHUNK_ROWS)) {
        if lotes::is_finished(&store, lote.id).await? {
            return Ok(false);
        }
        let mut done = Vec::new();
        for row in rows {
            if stop() {
                return Ok(false);
            }
            // A new reservation names its row in its own transaction.
            match bulk.reserve_row(&order.form, row, lote.id).await {
                Reserving::Reserved(_) => {}
                Reserving::Done(outcome) => done.push(outcome),
            }
        }
        lotes::record_outcomes(&store, lote.id, &done).await?;
        let (first, last) = (rows[0].line, rows[rows.len() - 1].line);
        add_chunk(&store, lote, next, count(first), count(last)).await?;
        chunk_ready();
    }
    mark_reserved(&store, lote.id).await?;
    drop(lock);
    Ok(true)
}

/// Issues a chunk's rows (`order.rows`), each with the folio reserved for
/// it; `done` hears of every row. Stops taking rows when `stop` is set.
pub async fn issue_chunk(
    issuer: &Issuer,
    archive: Archive,
    order: RunOrder<'_>,
    stop: &AtomicBool,
    done: &(dyn Fn(&RowOutcome) + Send + Sync),
) -> Result<Vec<RowOutcome>, ChunkError> {
    let bulk = bulk_issuer(issuer, archive, &order)
        .await
        .map_err(ChunkError::Renderer)?;
    Ok(bulk
        .issue_reserved(Arc::clone(&order.form), order.rows, stop, done)
        .await)
}

/// The lote's chunks so far, in order.
pub async fn chunks_of(store: &Store, lote: i64) -> Result<Vec<Chunk>, LoteError> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT chunk, first_line, last_line FROM lote_chunks WHERE lote_id = $1 ORDER BY chunk",
    )
    .bind(lote)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(number, first_line, last_line)| Chunk {
            number,
            first_line,
            last_line,
        })
        .collect())
}

/// The lote's rows not yet in a chunk (and not done), in row order.
pub async fn unchunked_rows(store: &Store, lote: i64) -> Result<Vec<super::ReadyRow>, LoteError> {
    let after = chunks_of(store, lote)
        .await?
        .last()
        .map_or(0, |chunk| chunk.last_line + 1);
    lotes::pending_rows_within(store, lote, after, i64::MAX).await
}

/// The rows of the chunk not done yet, in row order.
pub async fn chunk_rows(store: &Store, lote: i64, number: i64) -> Result<Vec<super::ReadyRow>, LoteError> {
    let chunk = chunks_of(store, lote)
        .await?
        .into_iter()
        .find(|c| c.number == number)
        .ok_or_else(|| LoteError::Corrupt(lote, format!("no tiene el tramo {number}")))?;
    lotes::pending_rows_within(store, lote, chunk.first_line, chunk.last_line).await
}

/// Records the chunk and enqueues its job, in one transaction.
async fn add_chunk(
    store: &Store,
    lote: &LoteRecord,
    number: i64,
    first: i64,
    last: i64,
) -> Result<(), LoteError> {
    let mut tx = store.begin_write().await?;
    sqlx::query("INSERT INTO lote_chunks (lote_id, chunk, first_line, last_line) VALUES ($1, $2, $3, $4)")
        .bind(lote.id)
        .bind(number)
        .bind(first)
        .bind(last)
        .execute(&mut *tx)
        .await?;
    let job = NewJob::new(CHUNK_JOB, json!({ "lote": lote.id, "chunk": number }))
        .max_attempts(LOTE_ATTEMPTS)
        .in_group(&lote.public_id.to_string());
    Queue::enqueue_in(&mut tx, &job).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that every row of the lote has its folio (or is done).
async fn mark_reserved(store: &Store, lote: i64) -> Result<(), LoteError> {
    sqlx::query("UPDATE lotes SET reserved_at = $1 WHERE id = $2 AND reserved_at IS NULL")
        .bind(crate::queue::now_ms())
        .bind(lote)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Marks the lote finished, in `tx`, if every row was reserved and every
/// row is done; whichever of its jobs ends last does, in the transaction
/// that completes that job, so no lote is left running with nothing left
/// to run it. Returns whether it did.
pub async fn finish_if_done(tx: &mut Tx, lote: i64) -> Result<bool, LoteError> {
    let done: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM lotes WHERE id = $1 AND finished_at IS NULL AND reserved_at IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM lote_rows WHERE lote_id = $1 AND outcome IS NULL)",
    )
    .bind(lote)
    .fetch_one(&mut **tx)
    .await?;
    if done == 0 {
        return Ok(false);
    }
    lotes::mark_finished(tx, lote, None).await
}

/// A lote still running with no job of its left to run it (its job gave
/// up and its holder died before marking it, or an earlier version left
/// it so), over `l`.
const NO_JOB_LEFT: &str = "l.finished_at IS NULL AND l.awaiting_approval = 0 AND NOT EXISTS \
     (SELECT 1 FROM jobs j WHERE j.group_key = l.public_id AND j.state IN ('queued', 'running'))";

/// Why a lote with no job left ended, as its page shows it.
const NO_JOB_LEFT_FAILURE: &str =
    "dejó de emitirse sin terminar; suba de nuevo la planilla para emitir las filas que faltan";

/// Finishes every lote left running with no job to run it, so none keeps
/// its office busy forever: issued if every row was reserved and is done,
/// failed otherwise. Returns how many it finished.
pub async fn finish_stranded(store: &Store) -> Result<usize, LoteError> {
    let stranded: Vec<i64> = sqlx::query_scalar(&format!("SELECT l.id FROM lotes l WHERE {NO_JOB_LEFT}"))
        .fetch_all(store.pool())
        .await?;
    let mut finished = 0;
    for lote in stranded {
        let mut tx = store.begin_write().await?;
        // Again in the transaction that finishes it.
        let still: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM lotes l WHERE l.id = $1 AND {NO_JOB_LEFT}"
        ))
        .bind(lote)
        .fetch_one(&mut *tx)
        .await?;
        if still > 0
            && (finish_if_done(&mut tx, lote).await?
                || lotes::mark_finished(&mut tx, lote, Some(NO_JOB_LEFT_FAILURE)).await?)
        {
            finished += 1;
        }
        tx.commit().await?;
    }
    Ok(finished)
}
