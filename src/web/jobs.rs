//! Bulk lotes started from the web app, run from the job queue: a lote
//! and its rows are stored when uploaded (`bulk::lotes`), and whichever
//! instance claims its job issues it, recording each row's outcome as it
//! goes. The instance that received the upload starts at once; every
//! instance also looks for due lotes now and then, so that a lote whose
//! instance died (its lease ran out) or was cut short by a restart is
//! taken over and finished. Rows are idempotent and the office's bulk lock
//! lets one run issue at a time, so the run that takes over annuls what
//! the dead one left reserved («emisión interrumpida») and issues the rest
//! in row order.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::archive::{BulkLockError, Office};
use crate::bulk::lotes::{self, LOTE_JOB, LoteRecord};
use crate::bulk::{self, RowOutcome, RunError, RunEvent, RunOrder};
use crate::queue::{Backoff, Claimed, Queue};

use super::AppState;

/// How long a lote's holder keeps it without renewing: the most a lote
/// waits for another instance after its own died.
pub const LOTE_LEASE: Duration = Duration::from_secs(20);

/// Outcomes recorded together while a lote runs.
const OUTCOME_BATCH: usize = 64;

/// What this process keeps of the web's lotes: whose spreadsheet is being
/// read, and whether it is running a lote now.
#[derive(Debug, Default)]
pub struct Jobs {
    /// Offices with a spreadsheet being read and checked.
    reading: Arc<Mutex<HashSet<String>>>,
    /// Set while this process runs lotes (one at a time).
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

/// Runs the lotes that are due, in the background, unless this process is
/// running them already. Driven on a blocking thread of its own: the
/// pipeline's future is not `Send`, and the service's workers stay free
/// for requests.
pub fn run_due_lotes(state: &Arc<AppState>) {
    if state.jobs.working.swap(true, Ordering::AcqRel) {
        return;
    }
    let state = Arc::clone(state);
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        handle.block_on(async {
            match Queue::new(state.archive.store().clone()) {
                Ok(queue) => loop {
                    match queue.claim(LOTE_JOB, LOTE_LEASE).await {
                        Ok(Some(job)) => run_claimed(&state, &queue, job).await,
                        Ok(None) => break,
                        Err(error) => {
                            tracing::warn!(error = %error, "no se pudo tomar un lote de la cola");
                            break;
                        }
                    }
                },
                Err(error) => tracing::warn!(error = %error, "no se pudo tomar un lote de la cola"),
            }
        });
        state.jobs.working.store(false, Ordering::Release);
    });
}

/// Every `every`, looks for lotes due: left by a restart, or by an
/// instance that died.
pub async fn poll_lotes(state: Arc<AppState>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        run_due_lotes(&state);
    }
}

/// Issues the pending rows of the lote `job` names, as long as this
/// process holds the job's lease.
async fn run_claimed(state: &AppState, queue: &Queue, job: Claimed) {
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
    tracing::info!(job.id = job.id, job.attempt = job.attempt, "lote tomado");
    let alive = queue.keep_alive(&job, LOTE_LEASE);
    let stop = AtomicBool::new(false);
    let ran = issue_lote(state, &lote, &alive, &stop).await;
    if alive.lost() {
        // Another instance holds it now and records what follows.
        tracing::warn!(job.id = job.id, "el lote pasó a otra instancia");
        return;
    }
    drop(alive);
    match ran {
        Err(RunFailure::Busy) => {
            let wait = Backoff {
                first: Duration::from_secs(2),
                max: Duration::from_secs(10),
            };
            let _ = queue
                .fail(&job, "otro lote de la oficina se está emitiendo", wait)
                .await;
        }
        Err(RunFailure::Store(error)) => {
            tracing::warn!(job.id = job.id, error = %error, "un lote no pudo registrar su avance");
            let _ = queue.fail(&job, &error, Backoff::default()).await;
        }
        Err(RunFailure::Refused(message)) => {
            let _ = lotes::finish(store, lote.id, Some(message.as_str())).await;
            let _ = queue.complete(&job, None).await;
        }
        Ok(()) => {
            let _ = lotes::finish(store, lote.id, None).await;
            let _ = queue.complete(&job, None).await;
            tracing::info!(job.id = job.id, "lote terminado");
        }
    }
}

enum RunFailure {
    /// The office's bulk lock is held by another run: later.
    Busy,
    /// What the run did could not be recorded: try again.
    Store(String),
    /// The lote cannot run (its form is gone, the renderer failed).
    Refused(String),
}

async fn issue_lote(
    state: &AppState,
    lote: &LoteRecord,
    alive: &crate::queue::KeepAlive,
    stop: &AtomicBool,
) -> Result<(), RunFailure> {
    let store = state.archive.store();
    let store_failure = |e: lotes::LoteError| RunFailure::Store(e.to_string());
    let Some(form) = state.catalog.get(&lote.form) else {
        return Err(RunFailure::Refused(format!(
            "el formulario «{}» ya no está en el catálogo",
            lote.form
        )));
    };
    let rows = lotes::pending_rows(store, lote.id).await.map_err(store_failure)?;
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
        issued_at: lote.issued_at,
        on_paper: lote.on_paper,
        workers: None,
    };
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
    let events = |event: RunEvent<'_>| {
        if alive.lost() {
            stop.store(true, Ordering::Relaxed);
        }
        if let RunEvent::Row(outcome) = event {
            let _ = sender.send(outcome.clone());
        }
    };
    let ran = bulk::run_lote(
        &state.issuer,
        archive,
        &state.config.data_dir,
        order,
        stop,
        &events,
    )
    .await;
    drop(sender);
    let unrecorded = writer.await.ok().flatten();
    match ran {
        Err(RunError::Lock(BulkLockError::Busy)) => Err(RunFailure::Busy),
        Err(RunError::Lock(BulkLockError::Archive(error)) | RunError::Archive(error)) => {
            Err(RunFailure::Store(error.to_string()))
        }
        Err(RunError::Renderer(error)) => Err(RunFailure::Refused(format!("generador de PDF: {error}"))),
        Ok(_) if stop.load(Ordering::Relaxed) => Err(RunFailure::Store("el plazo del lote se perdió".into())),
        Ok(_) => match unrecorded {
            Some(error) => Err(RunFailure::Store(error)),
            None => Ok(()),
        },
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
}
