//! Bulk lotes started from the web app, run from the job queue: a lote
//! and its rows are stored when uploaded (`bulk::lotes`), and its work is
//! jobs of the queue that any instance claims. The lote's job reserves
//! the folios of its rows in row order, a chunk after another, under the
//! office's bulk lock; each chunk reserved becomes a job that any instance
//! claims to issue those rows with those folios (`bulk::chunks`), so
//! several instances issue one lote at once. The instance that received
//! the upload starts at once; every instance also looks for due jobs now
//! and then, so that work whose instance died (its lease ran out) or was
//! cut short by a restart is taken over and finished, with the folios it
//! had reserved.
//! Long because each way a lote's job can end (done, refused, retried,
//! given up, stranded by a death between steps) is handled here, beside
//! the loop that claims the jobs, so that no lote is left running.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::archive::{Archive, BulkLockError, Office};
use crate::bulk::chunks::{self, CHUNK_JOB, ChunkError};
use crate::bulk::lotes::{self, LOTE_JOB, LoteRecord};
use crate::bulk::{self, RowOutcome, RunOrder};
use crate::queue::{Backoff, Claimed, Queue, Retry};

use super::AppState;

/// How long a lote's holder keeps it without renewing: the most a lote
/// waits for another instance after its own died.
pub const LOTE_LEASE: Duration = Duration::from_secs(20);

/// How long the chunks' loop waits for a chunk this process is reserving.
const CHUNK_WAIT: Duration = Duration::from_millis(250);

/// Outcomes recorded together while a lote runs.
const OUTCOME_BATCH: usize = 64;

/// What this process keeps of the web's lotes: whose spreadsheet is being
/// read, and whether it is reserving a lote's folios or issuing a chunk
/// now.
#[derive(Debug, Default)]
pub struct Jobs {
    /// Offices with a spreadsheet being read and checked.
    reading: Arc<Mutex<HashSet<String>>>,
    /// Set while this process reserves a lote's folios (one at a time).
    reserving: AtomicBool,
    /// Set while this process issues chunks (one at a time: a chunk
    /// already renders on every core).
    working: AtomicBool,
}

/// An office's spreadsheet being read: the next may be read once it drops.
#[derive(Debug)]
pub struct Reading {
    offices: Arc<Mutex<HashSet<String>>>,
    office: String,
}

impl Drop for Reading {
    fn drop(&mut self) {
        if let Ok(mut offices) = self.offices.lock() {
            offices.remove(&self.office);
        }
    }
}

impl Jobs {
    /// Starts reading a spreadsheet of `office`, unless one of its
    /// spreadsheets is being read: one at a time per office, so uploads
    /// sent together (a double click, a script) cannot take every thread.
    pub fn begin_reading(&self, office: &str) -> Option<Reading> {
        let mut offices = self.reading.lock().ok()?;
        offices.insert(office.to_owned()).then(|| Reading {
            offices: Arc::clone(&self.reading),
            office: office.to_owned(),
        })
    }
}

/// Runs the lotes' jobs that are due, in the background: reserving one
/// lote's folios and issuing one chunk, each unless this process is doing
/// it already. Driven on blocking threads of their own: the pipeline's
/// future is not `Send`, and the service's workers stay free for requests.
pub fn run_due_lotes(state: &Arc<AppState>) {
    if !state.jobs.reserving.swap(true, Ordering::AcqRel) {
        on_own_thread(state, LOTE_JOB, |state| &state.jobs.reserving);
    }
    if !state.jobs.working.swap(true, Ordering::AcqRel) {
        on_own_thread(state, CHUNK_JOB, |state| &state.jobs.working);
    }
}

/// Claims jobs of `kind` and runs them until none is due, then clears
/// `busy`.
fn on_own_thread(state: &Arc<AppState>, kind: &'static str, busy: fn(&AppState) -> &AtomicBool) {
    let state = Arc::clone(state);
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        handle.block_on(async {
            match Queue::new(state.archive.store().clone()) {
                Ok(queue) => loop {
                    match queue.claim(kind, LOTE_LEASE).await {
                        Ok(Some(job)) => run_claimed(&state, &queue, job).await,
                        // While this process reserves a lote, its next chunk
                        // is coming: a wake-up sent as this loop was ending
                        // would be lost where no poller runs.
                        Ok(None) if kind == CHUNK_JOB && state.jobs.reserving.load(Ordering::Acquire) => {
                            tokio::time::sleep(CHUNK_WAIT).await;
                        }
                        Ok(None) => break,
                        Err(error) => {
                            tracing::warn!(error = %error, "no se pudo tomar un lote de la cola");
                            break;
                        }
                    }
                },
                Err(error) => tracing::warn!(error = %error, "no se pudo tomar un lote de la cola"),
            }
            // A lote whose job the queue gave up at a claim (its holder
            // died on every attempt) is ended here: nothing else would.
            match lotes::fail_given_up(state.archive.store()).await {
                Ok(ended) => {
                    for lote in ended {
                        tracing::warn!(lote.id = lote, "un lote agotó sus intentos");
                    }
                }
                Err(error) => tracing::warn!(error = %error, "no se pudieron cerrar los lotes abandonados"),
            }
        });
        busy(&state).store(false, Ordering::Release);
    });
}

/// Every `every`, looks for lotes' jobs due: new chunks, or work left by
/// a restart or by an instance that died; and finishes any lote left
/// with no job at all.
pub async fn poll_lotes(state: Arc<AppState>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match chunks::finish_stranded(state.archive.store()).await {
            Ok(0) => {}
            Ok(lotes) => tracing::warn!(lotes, "lotes sin trabajos pendientes cerrados"),
            Err(error) => tracing::warn!(error = %error, "no se pudieron revisar los lotes detenidos"),
        }
        run_due_lotes(&state);
    }
}

/// Does the work of `job` (a lote's reservation or one of its chunks) on
/// the lote it names, as long as this process holds the job's lease.
async fn run_claimed(state: &Arc<AppState>, queue: &Queue, job: Claimed) {
    let store = state.archive.store();
    let lote = match job.payload["lote"].as_i64() {
        Some(id) => lotes::lote_by_id(store, id).await,
        None => Ok(None),
    };
    let lote = match lote {
        Ok(Some(lote)) if !lote.is_finished() => lote,
        Ok(_) => {
            let _ = queue.complete(&job, None).await;
            return;
        }
        Err(error) => {
            tracing::warn!(job.id = job.id, error = %error, "no se pudo leer un lote");
            let _ = queue.fail(&job, &error.to_string(), Backoff::default()).await;
            return;
        }
    };
    tracing::info!(job.id = job.id, job.kind = %job.kind, job.attempt = job.attempt, "trabajo de lote tomado");
    let alive = queue.keep_alive(&job, LOTE_LEASE);
    let stop = AtomicBool::new(false);
    let ran = match job.payload["chunk"].as_i64() {
        Some(chunk) => issue_chunk(state, &lote, chunk, &alive, &stop).await,
        None => reserve_lote(state, &lote, &alive).await,
    };
    if alive.lost() {
        // Another instance holds it now and records what follows.
        tracing::warn!(job.id = job.id, "el trabajo del lote pasó a otra instancia");
        return;
    }
    drop(alive);
    match ran {
        Err(RunFailure::Busy) => {
            let wait = Backoff {
                first: Duration::from_secs(2),
                max: Duration::from_secs(10),
            };
            give_back(
                queue,
                store,
                &job,
                lote.id,
                "otra corrida de la oficina está reservando folios",
                wait,
            )
            .await;
        }
        Err(RunFailure::Store(error)) => {
            tracing::warn!(job.id = job.id, error = %error, "un lote no pudo registrar su avance");
            give_back(queue, store, &job, lote.id, &error, Backoff::default()).await;
        }
        Err(RunFailure::Refused(message)) => {
            let _ = lotes::finish(store, lote.id, Some(message.as_str())).await;
            let _ = queue.complete(&job, None).await;
        }
        Ok(()) => match complete_and_finish(queue, store, &job, lote.id).await {
            Ok(true) => tracing::info!(lote.id = lote.id, "lote terminado"),
            Ok(false) => {}
            // The job stays claimed: once its lease runs out it is run
            // again, finds nothing left to do and finishes the lote then.
            Err(error) => tracing::warn!(lote.id = lote.id, error = %error, "no se pudo cerrar un lote"),
        },
    }
}

/// Completes `job` and, if it was the last of its lote with work, marks
/// the lote finished, in one transaction: a death between the two would
/// leave the lote running forever and its office busy.
async fn complete_and_finish(
    queue: &Queue,
    store: &crate::db::Store,
    job: &Claimed,
    lote: i64,
) -> Result<bool, String> {
    let mut tx = store.begin_write().await.map_err(|e| e.to_string())?;
    queue.complete_in(&mut tx, job).await.map_err(|e| e.to_string())?;
    let finished = chunks::finish_if_done(&mut tx, lote)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(finished)
}

/// Gives `job` back to the queue for a later attempt. When its attempts
/// have run out the lote ends, failed, saying why: otherwise it would show
/// as running forever and keep its office from starting another.
async fn give_back(
    queue: &Queue,
    store: &crate::db::Store,
    job: &Claimed,
    lote: i64,
    why: &str,
    backoff: Backoff,
) {
    if let Ok(Retry::GaveUp) = queue.fail(job, why, backoff).await {
        tracing::warn!(job.id = job.id, lote.id = lote, "un lote agotó sus intentos");
        let failure = format!("se agotaron los intentos de emitirlo: {why}");
        let _ = lotes::finish(store, lote, Some(&failure)).await;
    }
}

enum RunFailure {
    /// The office's bulk lock is held by another run: later.
    Busy,
    /// What the run did could not be recorded: try again.
    Store(String),
    /// The lote cannot run (its form is gone).
    Refused(String),
}

impl From<ChunkError> for RunFailure {
    fn from(error: ChunkError) -> Self {
        match error {
            ChunkError::Lock(BulkLockError::Busy) => Self::Busy,
            // The office's letterhead could not be read (a disk, a share):
            // another attempt, as for the store.
            ChunkError::Renderer(error) => Self::Store(format!("generador de PDF: {error}")),
            other => Self::Store(other.to_string()),
        }
    }
}

/// What every job of `lote` issues with: its form, its office's archive,
/// who signs and when; `rows` to go.
async fn order_of<'a>(
    state: &AppState,
    lote: &'a LoteRecord,
    rows: Vec<bulk::ReadyRow>,
) -> Result<(Archive, RunOrder<'a>), RunFailure> {
    let Some(form) = state.catalog.get(&lote.form) else {
        return Err(RunFailure::Refused(format!(
            "el formulario «{}» ya no está en el catálogo",
            lote.form
        )));
    };
    let office = state
        .accounts
        .office(&lote.office_code)
        .await
        .map_err(|e| RunFailure::Store(e.to_string()))?
        .unwrap_or_else(|| Office::new(&lote.office_code, &lote.office_code));
    let archive = state.archive.for_office(office);
    let order = RunOrder {
        form: Arc::new(form.clone()),
        rows,
        responsible: bulk::Responsible {
            name: &lote.signer,
            cargo: &lote.cargo,
            actor: &lote.actor,
        },
        // The lote's date gives the time zone: each row is dated the day
        // it is issued, which may be later than the day it was uploaded
        // or approved, or past midnight.
        issued_at: lote.issued_at,
        clock: Some(bulk::system_clock()),
        on_paper: lote.on_paper,
        workers: None,
    };
    Ok((archive, order))
}

/// Reserves the folios of the lote's rows not yet in a chunk.
async fn reserve_lote(
    state: &Arc<AppState>,
    lote: &LoteRecord,
    alive: &crate::queue::KeepAlive,
) -> Result<(), RunFailure> {
    let store = state.archive.store();
    // Its rows are read under the office's bulk lock.
    let (archive, order) = order_of(state, lote, Vec::new()).await?;
    // Each chunk reserved may start here at once; others poll for it.
    let chunk_ready = || run_due_lotes(state);
    let reserved = chunks::reserve_lote(
        &state.issuer,
        archive,
        &state.config.data_dir,
        lote,
        order,
        &|| alive.lost(),
        &chunk_ready,
    )
    .await?;
    if reserved {
        return Ok(());
    }
    // A lote finished meanwhile (a chunk failed it) has nothing left to
    // reserve.
    let finished = lotes::is_finished(store, lote.id)
        .await
        .map_err(|e| RunFailure::Store(e.to_string()))?;
    if finished {
        Ok(())
    } else {
        Err(RunFailure::Store("el plazo del lote se perdió".into()))
    }
}

/// Issues the pending rows of one chunk of the lote.
async fn issue_chunk(
    state: &Arc<AppState>,
    lote: &LoteRecord,
    chunk: i64,
    alive: &crate::queue::KeepAlive,
    stop: &AtomicBool,
) -> Result<(), RunFailure> {
    let store = state.archive.store();
    let rows = chunks::chunk_rows(store, lote.id, chunk)
        .await
        .map_err(|e| RunFailure::Store(e.to_string()))?;
    let (archive, order) = order_of(state, lote, rows).await?;
    // Outcomes are written in batches beside the run, not in its way.
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<RowOutcome>();
    let writer = {
        let store = store.clone();
        let lote_id = lote.id;
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(OUTCOME_BATCH);
            let mut failure = None;
            while receiver.recv_many(&mut batch, OUTCOME_BATCH).await > 0 {
                if let Err(error) = lotes::record_outcomes(&store, lote_id, &batch).await {
                    failure = Some(error.to_string());
                }
                batch.clear();
            }
            failure
        })
    };
    let done = |outcome: &RowOutcome| {
        if alive.lost() {
            stop.store(true, Ordering::Relaxed);
        }
        let _ = sender.send(outcome.clone());
    };
    let ran = chunks::issue_chunk(&state.issuer, archive, order, stop, &done).await;
    drop(sender);
    let unrecorded = writer.await.ok().flatten();
    ran?;
    if stop.load(Ordering::Relaxed) {
        return Err(RunFailure::Store("el plazo del lote se perdió".into()));
    }
    match unrecorded {
        Some(error) => Err(RunFailure::Store(error)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_office_reads_one_spreadsheet_at_a_time_and_others_are_not_held_up() {
        let jobs = Jobs::default();
        let first = jobs.begin_reading("DIF-SLP").expect("the first");
        assert!(jobs.begin_reading("DIF-SLP").is_none(), "the second waits");
        let other = jobs.begin_reading("DIF-LEJOS");
        assert!(other.is_some(), "another office reads its own");
        drop(first);
        assert!(jobs.begin_reading("DIF-SLP").is_some(), "once the first is read");
    }

    #[test]
    fn a_chunk_whose_renderer_cannot_be_made_is_tried_again_and_does_not_end_its_lote() {
        let unreadable_logo = std::io::Error::new(std::io::ErrorKind::TimedOut, "logo");
        assert!(matches!(
            RunFailure::from(ChunkError::Renderer(unreadable_logo)),
            RunFailure::Store(_)
        ));
        assert!(matches!(
            RunFailure::from(ChunkError::Lock(BulkLockError::Busy)),
            RunFailure::Busy
        ));
    }
}
