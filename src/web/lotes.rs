//! What a bulk job does, for both ways in: the staff pages
//! (`staff::bulk`, `staff::lote`) and the API (`api::lotes`) only read
//! their request and show the answer. Starting a job (read and check the
//! spreadsheet off the async workers, then issue its rows in the
//! background), finding a job of the caller's office, and issuing its
//! padrón are here, once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::AppState;
use super::jobs::Job;
use crate::accounts::{AccountError, User};
use crate::archive::ArchiveError;
use crate::bulk::{self, Checked, RowOutcome, RunEvent, RunOrder};
use crate::public_id::PublicId;

/// The largest spreadsheet accepted: 51,717 families fit in a few MB.
pub const UPLOAD_MAX: usize = 50 * 1024 * 1024;

/// A spreadsheet sent to be issued (or only checked).
pub struct Upload {
    pub form_id: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Only check: issue nothing.
    pub dry_run: bool,
    /// The people its documents name sign the printed paper.
    pub on_paper: bool,
}

/// Why a lote was not started, or its padrón not issued.
#[derive(Debug, thiserror::Error)]
pub enum LoteError {
    #[error("no existe el formulario «{0}»")]
    UnknownForm(String),
    /// A form with people who sign in person, without `on_paper`: its
    /// title and what the workflow says.
    #[error("«{title}» {message}")]
    InPerson { title: String, message: String },
    /// What to correct, in Spanish.
    #[error("{0}")]
    Refused(String),
    /// Another spreadsheet or lote of the office is under way.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("generador aleatorio del sistema: {0}")]
    Random(#[from] getrandom::Error),
}

/// Reads and checks `upload` as a lote of `user`'s office and, unless it
/// is a dry run or no row is ready, starts issuing its rows in the
/// background. The job is returned at once; its counters follow the run.
pub async fn start(state: &Arc<AppState>, user: &User, upload: Upload) -> Result<Arc<Job>, LoteError> {
    let Upload {
        form_id,
        file_name,
        bytes,
        dry_run,
        on_paper,
    } = upload;
    let spec = state
        .catalog
        .get(&form_id)
        .ok_or_else(|| LoteError::UnknownForm(form_id.clone()))?;
    bulk::refuse_reviewed(spec).map_err(LoteError::Refused)?;
    // Validating skips nothing; issuing must say who signs on paper.
    spec.workflow
        .check_in_person(on_paper || dry_run)
        .map_err(|message| LoteError::InPerson {
            title: spec.title.clone(),
            message: message.to_string(),
        })?;
    if bytes.is_empty() {
        return Err(LoteError::Refused("Elija la planilla (.csv o .xlsx).".into()));
    }
    let office = user.office_code.clone();
    // The lote's date is the office's, in its own time zone.
    let archive = state.archive_for(user).await?;
    let issued_at = state.issuer.now_in(archive.office());
    let when = crate::forms::IssueDate::issued(&issued_at);
    let Some(reading) = state.jobs.begin_reading(&office) else {
        return Err(LoteError::Busy(
            "Ya hay una planilla en revisión en su oficina; espere a que termine y vuelva a subirla.".into(),
        ));
    };
    let checked = {
        let (spec, name) = (Arc::new(spec.clone()), file_name.clone());
        off_the_workers(move || {
            let _reading = reading;
            check_upload(&spec, &name, &bytes, when)
        })
        .await
    };
    let Checked {
        total_rows,
        unused_columns,
        ready,
        problems,
    } = match checked {
        Some(Ok(checked)) => checked,
        Some(Err(message)) => return Err(LoteError::Refused(format!("{file_name}: {message}"))),
        None => {
            tracing::error!("la lectura de una planilla se interrumpió por un error interno");
            return Err(LoteError::Refused(format!(
                "{file_name}: no se pudo leer la planilla; guárdela de nuevo como .xlsx o .csv y vuelva a subirla."
            )));
        }
    };
    if !dry_run && !ready.is_empty() && state.jobs.running(&office) {
        return Err(LoteError::Busy(
            "Ya hay un lote emitiéndose en su oficina; espere a que termine.".into(),
        ));
    }
    let job = state.jobs.add(|id| Job {
        id,
        office_code: office.clone(),
        form: spec.id.to_string(),
        file_name: file_name.clone(),
        on_paper,
        started: std::time::Instant::now(),
        total_rows,
        unused_columns,
        valid_rows: if dry_run { 0 } else { ready.len() },
        issued_at,
        done: Default::default(),
        finished: AtomicBool::new(dry_run || ready.is_empty()),
        problems: std::sync::Mutex::new(problems),
        documents: Default::default(),
        padron: Default::default(),
        failure: Default::default(),
    })?;
    tracing::info!(job.id = %job.id, rows = total_rows, "lote recibido");
    if !job.is_finished() {
        let (state, user, spec) = (Arc::clone(state), user.clone(), Arc::new(spec.clone()));
        let job = Arc::clone(&job);
        // Driven on a blocking thread of its own: the pipeline's future is
        // not `Send`, and the service's workers stay free for requests.
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            handle.block_on(async move {
                if let Err(message) = run(&state, &user, spec, ready, &job).await
                    && let Ok(mut failure) = job.failure.lock()
                {
                    *failure = Some(message);
                }
                job.finished.store(true, Ordering::Release);
                tracing::info!(job.id = %job.id, "lote terminado");
            })
        });
    }
    Ok(job)
}

/// A job of `user`'s office by the id in an address; a malformed id is as
/// missing as another office's job.
pub fn office_job(state: &AppState, user: &User, id: &str) -> Option<Arc<Job>> {
    let id = PublicId::parse(id).ok()?;
    state.jobs.get(&user.office_code, id)
}

/// Issues the padrón of a finished job, signed by `user` (once: asked
/// again, it is the same), and records its tomos on the job.
pub async fn issue_padron(
    state: &AppState,
    user: &User,
    job: &Job,
) -> Result<Vec<(PublicId, String)>, LoteError> {
    let documents = job.documents_in_order();
    let (Some(issued_form), Some(padron_form)) =
        (state.catalog.get(&job.form), state.catalog.get(bulk::PADRON_FORM))
    else {
        return Err(LoteError::UnknownForm(bulk::PADRON_FORM.to_owned()));
    };
    if documents.is_empty() {
        return Err(LoteError::Refused(
            "El lote no emitió ningún documento: no hay padrón que emitir.".into(),
        ));
    }
    let archive = state.archive_for(user).await?;
    let responsible = bulk::Responsible {
        name: &user.display_name,
        cargo: &user.cargo,
        actor: &user.username,
    };
    let lote = bulk::Lote {
        form: issued_form,
        file_name: &job.file_name,
        date: job.issued_at.date_naive(),
        rows: &documents,
    };
    // The issuer counts each tomo it issues.
    let tomos = bulk::issue_padron(
        &state.issuer,
        &|_, _| {},
        &archive,
        padron_form,
        &lote,
        &responsible,
        state.issuer.now_in(archive.office()),
    )
    .await?;
    let tomos: Vec<(PublicId, String)> = tomos.iter().map(|t| (t.id, t.folio.clone())).collect();
    if let Ok(mut padron) = job.padron.lock() {
        *padron = tomos.clone();
    }
    Ok(tomos)
}

/// Reads the spreadsheet `name` and checks every row against `spec`.
fn check_upload(
    spec: &crate::forms::FormSpec,
    name: &str,
    bytes: &[u8],
    when: crate::forms::IssueDate,
) -> Result<Checked, String> {
    let sheet = bulk::read_upload(name, bytes)?;
    bulk::check_sheet(spec, &sheet, None, None, when).map_err(|e| e.to_string())
}

/// Runs `work` on the blocking pool, off the workers that answer requests;
/// `None` if it panicked, which fails this request and no other.
async fn off_the_workers<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    // The task fails only by panicking (or if the service is stopping).
    tokio::task::spawn_blocking(work).await.ok()
}

/// Issues the rows of a job, holding the data folder's bulk lock.
async fn run(
    state: &AppState,
    user: &User,
    form: Arc<crate::forms::FormSpec>,
    ready: Vec<bulk::ReadyRow>,
    job: &Job,
) -> Result<(), String> {
    let archive = state.archive_for(user).await.map_err(|e| e.to_string())?;
    let order = RunOrder {
        form,
        rows: ready,
        responsible: bulk::Responsible {
            name: &user.display_name,
            cargo: &user.cargo,
            actor: &user.username,
        },
        issued_at: job.issued_at,
        on_paper: job.on_paper,
        workers: None,
    };
    let stop = AtomicBool::new(false);
    let events: &(dyn Fn(RunEvent<'_>) + Send + Sync) = &|event| match event {
        RunEvent::Recovered(_) => {}
        RunEvent::Row(outcome) => {
            job.done.fetch_add(1, Ordering::Relaxed);
            match outcome {
                RowOutcome::Issued(row) | RowOutcome::AlreadyIssued(row) => {
                    if let Ok(mut documents) = job.documents.lock() {
                        documents.push(row.clone());
                    }
                }
                RowOutcome::Failed(problem) => {
                    if let Ok(mut problems) = job.problems.lock() {
                        problems.push(problem.clone());
                    }
                }
            }
        }
    };
    bulk::run_lote(
        &state.issuer,
        archive,
        &state.config.data_dir,
        order,
        &stop,
        events,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_reading_fails_the_upload_and_not_the_service() {
        let panicked = off_the_workers(|| -> usize { panic!("a reader's bug") }).await;
        assert!(panicked.is_none());
        assert_eq!(off_the_workers(|| 2 + 2).await, Some(4), "the pool goes on");
    }
}
