//! A bulk run as both ways in run it, the command line and the web app:
//! a spreadsheet checked against its form, then its valid rows issued
//! under the office's bulk lock. Only how the spreadsheet arrives and
//! where the outcomes go differ between them.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::DateTime;
use chrono_tz::Tz;

use super::{
    BulkIssuer, KEY_PREFIX, Mapping, MappingFile, ReadyRow, Responsible, RowOutcome, RowProblem, Sheet,
    prepare,
};
use crate::archive::{Archive, ArchiveError, BulkLockError};
use crate::forms::{FormSpec, IssueDate};
use crate::issuer::Issuer;

/// A spreadsheet checked against a form: the rows ready to issue and every
/// problem of the others.
#[derive(Debug)]
pub struct Checked {
    pub total_rows: usize,
    /// Columns no field reads.
    pub unused_columns: Vec<String>,
    pub ready: Vec<ReadyRow>,
    pub problems: Vec<RowProblem>,
}

/// Why a spreadsheet's columns cannot be read as the form's fields.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The columns do not fill the form's fields as asked.
    #[error("{0}")]
    Mapping(String),
    /// There is no column by the name the expedientes are read from.
    #[error("no hay una columna «{0}»")]
    NoExpedienteColumn(String),
}

/// Reads `sheet`'s columns as `form`'s fields (as `mapping` says, or by
/// each field's name or label) and checks every row as of `when`. With
/// `expediente_by`, each row's expediente is the id in that column.
pub fn check_sheet(
    form: &FormSpec,
    sheet: &Sheet,
    mapping: Option<&MappingFile>,
    expediente_by: Option<&str>,
    when: IssueDate,
) -> Result<Checked, CheckError> {
    let mapping = Mapping::new(form, &sheet.headers, mapping).map_err(CheckError::Mapping)?;
    let expediente_column = match expediente_by {
        Some(name) => Some(
            sheet
                .headers
                .iter()
                .position(|h| h.trim() == name.trim())
                .ok_or_else(|| CheckError::NoExpedienteColumn(name.to_owned()))?,
        ),
        None => None,
    };
    let (ready, problems) = prepare(form, sheet, &mapping, expediente_column, when);
    Ok(Checked {
        total_rows: sheet.rows.len(),
        unused_columns: mapping.unused_headers().into_iter().map(str::to_owned).collect(),
        ready,
        problems,
    })
}

/// Checks the ready rows against the archive as it stands (what their
/// `documento` fields cite, the order of their expedientes, the
/// identifications in them), without taking a folio: a dry run reports
/// what issuing would refuse. Rows that pass stay ready.
pub async fn check_cases(
    archive: &Archive,
    form: &FormSpec,
    rows: Vec<ReadyRow>,
    issued_at: DateTime<Tz>,
) -> Result<(Vec<ReadyRow>, Vec<RowProblem>), ArchiveError> {
    let (mut ready, mut problems) = (Vec::new(), Vec::new());
    for row in rows {
        match archive
            .check_case(form, &row.data, issued_at, row.expediente, None)
            .await
        {
            Ok(_) => ready.push(row),
            Err(ArchiveError::Issue(crate::signed_pdf::IssueError::Invalid(found))) => {
                problems.extend(found.0.into_iter().map(|p| RowProblem {
                    line: row.line,
                    column: p.path,
                    message: p.message,
                    person: form.person_concerned(&row.data),
                }));
            }
            Err(other) => return Err(other),
        }
    }
    Ok((ready, problems))
}

/// What a run issues, for whom and how.
pub struct RunOrder<'a> {
    pub form: Arc<FormSpec>,
    pub rows: Vec<ReadyRow>,
    /// Who signs every document and who is recorded as issuing it.
    pub responsible: Responsible<'a>,
    pub issued_at: DateTime<Tz>,
    /// With a clock, each row is dated the moment its folio is taken, in
    /// `issued_at`'s time zone (see [`BulkIssuer::dated_by`]); without
    /// one, every row is dated `issued_at`.
    pub clock: Option<super::Clock>,
    /// The people each document names to sign in person sign its paper.
    pub on_paper: bool,
    /// Documents rendered at once; by default, one per core.
    pub workers: Option<usize>,
}

/// What a run tells as it goes.
pub enum RunEvent<'a> {
    /// Folios a killed earlier run left reserved, now recorded as annulled
    /// (their rows are issued by this run).
    Recovered(&'a [String]),
    /// A row is done.
    Row(&'a RowOutcome),
}

/// Why a run did not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Another run of the office holds its bulk lock, or it could not be
    /// taken.
    #[error(transparent)]
    Lock(BulkLockError),
    #[error(transparent)]
    Archive(ArchiveError),
    /// The office's renderer could not be made.
    #[error("generador de PDF: {0}")]
    Renderer(std::io::Error),
}

/// Issues `order`'s rows into `archive`'s office, holding the office's
/// bulk lock (kept under `data_dir` on SQLite): one run at a time per
/// office, so every bulk reservation left unfinished is the remains of a
/// killed run, recorded first, except the folios a lote reserved for its
/// rows and its chunks will complete (`chunks`). Stops taking rows when `stop` is set;
/// `events` hears of what was recovered and of every row done. Returns
/// the rows' outcomes in row order.
pub async fn run_lote(
    issuer: &Issuer,
    archive: Archive,
    data_dir: &Path,
    order: RunOrder<'_>,
    stop: &AtomicBool,
    events: &(dyn Fn(RunEvent<'_>) + Send + Sync),
) -> Result<Vec<RowOutcome>, RunError> {
    let lock = archive.lock_bulk(data_dir).await.map_err(RunError::Lock)?;
    let recovered = archive
        .recover_interrupted_keyed(KEY_PREFIX, std::time::Duration::ZERO)
        .await
        .map_err(RunError::Archive)?;
    if !recovered.is_empty() {
        events(RunEvent::Recovered(&recovered));
    }
    let bulk = bulk_issuer(issuer, archive, &order)
        .await
        .map_err(RunError::Renderer)?;
    let outcomes = bulk
        .issue_rows(order.form, order.rows, stop, &|outcome| {
            events(RunEvent::Row(outcome))
        })
        .await;
    drop(lock);
    Ok(outcomes)
}

/// The issuer of `order`'s rows into `archive`'s office, as every run sets
/// it up: the office's letterhead, the key signing at each moment, its
/// time-stamps and validation data.
pub(super) async fn bulk_issuer(
    issuer: &Issuer,
    archive: Archive,
    order: &RunOrder<'_>,
) -> Result<BulkIssuer, std::io::Error> {
    let renderer = issuer.renderer_for(&archive).await?;
    let mut bulk = BulkIssuer::new(
        archive,
        renderer,
        issuer.key(),
        issuer.base_url(),
        &order.responsible,
        order.issued_at,
    )
    .signing_with(issuer.signing_keys())
    .signed_on_paper(order.on_paper)
    .with_timestamps(issuer.timestamps().cloned())
    .with_long_term(issuer.long_term().cloned());
    if let Some(clock) = &order.clock {
        bulk = bulk.dated_by(Arc::clone(clock));
    }
    if let Some(workers) = order.workers {
        bulk = bulk.with_workers(workers);
    }
    Ok(bulk)
}
