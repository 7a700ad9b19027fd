//! Issuing the ready rows of a run, with folios in row order, rendering
//! and signing on every core with a bounded number of rows in flight, and
//! indexing what was issued for search in batches. The folios are taken
//! as the rows go ([`BulkIssuer::issue_rows`]), or were reserved before,
//! in row order, for a lote's chunk ([`BulkIssuer::reserve_row`], then
//! [`BulkIssuer::issue_reserved`]).
//!
//! Long because both ways share one row's path (its folio settled, then
//! rendered, signed and completed, or its folio annulled), which reads
//! best in one place.

/// Rows in flight (reserved, rendering or being stored) per worker.
const IN_FLIGHT_PER_WORKER: usize = 3;

/// Documents indexed for search together (see [`Archive::index_queued`]):
/// a few seconds of a run, so a search finds them soon after.
pub const SEARCH_BATCH: usize = 256;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::StreamExt as _;

use super::{ReadyRow, Responsible, RowProblem};
use crate::archive::{
    Archive, ArchiveError, DocumentRecord, IssueOrder, NamedPerson, Reservation, persons_in,
};
use crate::forms::{FormSpec, IssueDate, validate};
use crate::issuer::ReservedDocument;
use crate::keys::{OfficeKey, SigningKeys};
use crate::pdf::TsaClient;
use crate::public_id::PublicId;
use crate::render::Renderer;
use crate::signed_pdf::{LongTermSources, issue_long_term};

/// What tells a run the time: each row is dated the moment its folio is
/// taken, as read from it (the system's clock, or a test's).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system's clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// What issues the rows: the office's archive, its letterhead and key,
/// who signs and when. Made by [`BulkIssuer::new`] (or by [`run_lote`],
/// which takes the office's bulk lock first), so every run sets the same
/// things.
pub struct BulkIssuer {
    archive: Archive,
    renderer: Arc<Renderer>,
    /// Each row takes the key that signs at that moment: a run of hours
    /// follows a rotation made meanwhile.
    keys: Arc<SigningKeys>,
    base_url: String,
    /// Time-stamps each signature when set (the issuer's one client).
    timestamps: Option<TsaClient>,
    /// The validation data each document embeds, with TSAs configured.
    long_term: Option<Arc<LongTermSources>>,
    signer: String,
    cargo: String,
    actor: String,
    /// The run's date, and the time zone of every row's.
    issued_at: DateTime<Tz>,
    /// With a clock, each row is dated the moment its folio is taken
    /// instead of on `issued_at`: a lote run on a later day than it was
    /// uploaded (or approved), or running past midnight, dates each
    /// document the day it is issued.
    clock: Option<Clock>,
    /// Documents rendered at once.
    workers: usize,
    /// Documents indexed for search together ([`SEARCH_BATCH`]).
    search_batch: usize,
    /// The people each document names to sign in person sign its printed
    /// paper: recorded on every document, which then awaits its scan.
    on_paper: bool,
}

/// A row's document.
#[derive(Debug, Clone)]
pub struct IssuedRow {
    pub line: usize,
    pub id: PublicId,
    /// The database's key: what the lote's padrón is keyed by.
    pub row_id: i64,
    pub folio: String,
    /// Where it is verified (its QR's link).
    pub url: String,
    /// The first person the document names, for the padrón of the lote.
    pub person: Option<NamedPerson>,
}

impl IssuedRow {
    fn of(row: &ReadyRow, form: &FormSpec, record: crate::archive::DocumentRecord) -> Self {
        Self {
            line: row.line,
            id: record.id,
            row_id: record.row_id,
            folio: record.folio,
            url: record.verification_url.unwrap_or_default(),
            person: persons_in(form, &row.data).into_iter().next(),
        }
    }
}

/// How a row ended.
#[derive(Debug, Clone)]
pub enum RowOutcome {
    Issued(IssuedRow),
    /// Issued by an earlier run of the same rows.
    AlreadyIssued(IssuedRow),
    Failed(RowProblem),
}

impl BulkIssuer {
    /// Issues into `archive` with `renderer` (the letterhead of its
    /// office) and `key`, verification links under `base_url`, signed and
    /// recorded for `responsible`, dated `issued_at`. Renders one document
    /// per core, indexes [`SEARCH_BATCH`] at a time and records no paper
    /// signatures, unless told otherwise.
    pub fn new(
        archive: Archive,
        renderer: Arc<Renderer>,
        key: Arc<OfficeKey>,
        base_url: &str,
        responsible: &Responsible<'_>,
        issued_at: DateTime<Tz>,
    ) -> Self {
        Self {
            archive,
            renderer,
            keys: Arc::new(SigningKeys::fixed(key)),
            base_url: base_url.to_owned(),
            timestamps: None,
            long_term: None,
            signer: responsible.name.to_owned(),
            cargo: responsible.cargo.to_owned(),
            actor: responsible.actor.to_owned(),
            issued_at,
            clock: None,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            search_batch: SEARCH_BATCH,
            on_paper: false,
        }
    }

    /// Dates each row the moment its folio is taken, as `clock` tells
    /// it, in the time zone of the run's date; its data is validated as of
    /// that day before the folio is taken.
    pub fn dated_by(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Signs each row with the key `keys` holds at that moment.
    pub fn signing_with(mut self, keys: Arc<SigningKeys>) -> Self {
        self.keys = keys;
        self
    }

    /// Time-stamps every signature through `timestamps` (PAdES B-T); a
    /// document none of its TSAs stamps is issued without (B-B).
    pub fn with_timestamps(mut self, timestamps: Option<TsaClient>) -> Self {
        self.timestamps = timestamps;
        self
    }

    /// Embeds each document's validation data from `long_term` (PAdES B-LT).
    pub fn with_long_term(mut self, long_term: Option<Arc<LongTermSources>>) -> Self {
        self.long_term = long_term;
        self
    }

    /// Renders `workers` documents at once.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Indexes for search `documents` at a time.
    pub fn with_search_batch(mut self, documents: usize) -> Self {
        self.search_batch = documents;
        self
    }

    /// Whether the people each document names to sign in person sign its
    /// printed paper.
    pub fn signed_on_paper(mut self, on_paper: bool) -> Self {
        self.on_paper = on_paper;
        self
    }

    /// Issues `rows` in order; `progress` is told of each row done. Stops
    /// taking new rows when `stop` is set (Ctrl-C), finishing those under way.
    pub async fn issue_rows(
        &self,
        form: Arc<FormSpec>,
        rows: Vec<ReadyRow>,
        stop: &AtomicBool,
        progress: &(dyn Fn(&RowOutcome) + Send + Sync),
    ) -> Vec<RowOutcome> {
        self.issue(form, rows, Folios::Take, stop, progress).await
    }

    /// Issues `rows` whose folios [`BulkIssuer::reserve_row`] reserved
    /// (here or in another instance), each with its own reserved folio:
    /// a row found issued already (by a holder of its chunk that died, or
    /// was cut off, after completing it) is reported as such, never issued
    /// again. As [`BulkIssuer::issue_rows`] otherwise.
    pub async fn issue_reserved(
        &self,
        form: Arc<FormSpec>,
        rows: Vec<ReadyRow>,
        stop: &AtomicBool,
        progress: &(dyn Fn(&RowOutcome) + Send + Sync),
    ) -> Vec<RowOutcome> {
        self.issue(form, rows, Folios::Reserved, stop, progress).await
    }

    /// Reserves the folio of `row` (recording its document as `reservado`),
    /// for [`BulkIssuer::issue_reserved`] to complete later: called row
    /// after row, folios follow row order. A row reserved already for it
    /// (`row.reserved`, by an earlier attempt of the same lote) keeps its
    /// folio; a reservation under its key made by anything else is not
    /// taken for its own. A row that may not be issued (the archive
    /// refuses it, or it was issued before) takes no folio and is done.
    pub async fn reserve_row(&self, form: &FormSpec, row: &ReadyRow, lote: i64) -> Reserving {
        let at = self.now();
        let reserved = match self.refused_on(form, row, at).await {
            Some(refused) => Err(refused),
            None => {
                self.archive
                    .reserve_for(&self.order(form, row, at), Some((lote, row.line)))
                    .await
            }
        };
        let reserved = match reserved {
            Err(ArchiveError::InProgress(key)) => match row.reserved {
                Some(id) => match self.archive.reservation_by_id(form, id).await {
                    Ok(Some(reservation)) => Ok(Ok(reservation)),
                    Ok(None) => Err(ArchiveError::InProgress(key)),
                    Err(error) => Err(error),
                },
                None => Err(ArchiveError::InProgress(key)),
            },
            other => other,
        };
        match self.settled(form, row, reserved).await {
            Ok(reservation) => Reserving::Reserved(reservation.document_id),
            Err(outcome) => Reserving::Done(outcome),
        }
    }

    async fn issue(
        &self,
        form: Arc<FormSpec>,
        rows: Vec<ReadyRow>,
        folios: Folios,
        stop: &AtomicBool,
        progress: &(dyn Fn(&RowOutcome) + Send + Sync),
    ) -> Vec<RowOutcome> {
        let workers = self.workers.max(1);
        // Rendering takes a core each; the database's waits (fsync) take
        // none, so more rows are in flight than cores render at once.
        let rendering = tokio::sync::Semaphore::new(workers);
        let rendering = &rendering;
        // Reserving one by one keeps folios in row order; `buffer_unordered`
        // pulls a reservation only when a slot is free, which bounds memory.
        let reserved = futures::stream::iter(rows)
            .take_while(|_| std::future::ready(!stop.load(Ordering::Relaxed)))
            .then(|row| {
                let form = Arc::clone(&form);
                async move {
                    let reserved = match folios {
                        Folios::Take => {
                            let at = self.now();
                            match self.refused_on(&form, &row, at).await {
                                Some(refused) => Err(refused),
                                None => self.archive.reserve(&self.order(&form, &row, at)).await,
                            }
                        }
                        Folios::Reserved => self.reserved(&form, &row).await,
                    };
                    (row, reserved)
                }
            });
        // What a killed run left unindexed, first.
        index_for_search(&self.archive).await;
        let mut unindexed = 0;
        let mut indexing: Option<tokio::task::JoinHandle<()>> = None;
        let mut outcomes = Vec::new();
        let finished = reserved
            .map(|(row, reserved)| {
                let form = Arc::clone(&form);
                async move { self.finish(form, row, reserved, rendering).await }
            })
            .buffer_unordered(workers * IN_FLIGHT_PER_WORKER);
        let mut finished = std::pin::pin!(finished);
        while let Some(outcome) = finished.next().await {
            if matches!(outcome, RowOutcome::Issued(_)) {
                unindexed += 1;
            }
            // Beside the rows, not in their way: a row stopped midway here
            // could hold the write lock the batch waits for.
            if unindexed >= self.search_batch && indexing.as_ref().is_none_or(|task| task.is_finished()) {
                let archive = self.archive.clone();
                indexing = Some(tokio::spawn(async move { index_for_search(&archive).await }));
                unindexed = 0;
            }
            progress(&outcome);
            outcomes.push(outcome);
        }
        // The run is done when all it issued can be found.
        if let Some(task) = indexing {
            let _ = task.await;
        }
        index_for_search(&self.archive).await;
        outcomes.sort_by_key(|o| match o {
            RowOutcome::Issued(row) | RowOutcome::AlreadyIssued(row) => row.line,
            RowOutcome::Failed(problem) => problem.line,
        });
        outcomes
    }

    /// The moment a row taking its folio now is dated.
    fn now(&self) -> DateTime<Tz> {
        match &self.clock {
            Some(clock) => clock().with_timezone(&self.issued_at.timezone()),
            None => self.issued_at,
        }
    }

    /// Why `row`'s data may not take a folio `at` (a date it holds may
    /// have passed since the file was checked): the refusal that fails the
    /// row. A row reserved or issued before, on its own day, stands.
    async fn refused_on(&self, form: &FormSpec, row: &ReadyRow, at: DateTime<Tz>) -> Option<ArchiveError> {
        let country = self.renderer.country();
        let found = validate(&form.for_country(country), &row.data, IssueDate::issued(&at)).err()?;
        let reserved = match row.reserved {
            Some(id) => self.archive.reservation_by_id(form, id).await,
            None => Ok(None),
        };
        let issued = self.archive.document_by_idempotency_key(&row.key).await;
        match (reserved, issued) {
            (Ok(None), Ok(None)) => Some(ArchiveError::Issue(crate::signed_pdf::IssueError::Invalid(found))),
            (Err(error), _) | (_, Err(error)) => Some(error),
            _ => None,
        }
    }

    /// The archive's order for a row dated `issued_at`.
    fn order<'a>(&'a self, form: &'a FormSpec, row: &'a ReadyRow, issued_at: DateTime<Tz>) -> IssueOrder<'a> {
        IssueOrder {
            form,
            data: &row.data,
            issued_at,
            actor: &self.actor,
            expediente_id: row.expediente,
            idempotency_key: Some(&row.key),
            draft: None,
            // A lote is sealed by the office's key; no account signs it.
            endorsements: Vec::new(),
            on_paper: if self.on_paper {
                crate::forms::paper_signers(form, &row.data)
            } else {
                Vec::new()
            },
        }
    }

    /// The folio reserved for `row` earlier (the very document its lote
    /// recorded), or the document it became.
    async fn reserved(&self, form: &FormSpec, row: &ReadyRow) -> Reserved {
        let Some(id) = row.reserved else {
            return Err(ArchiveError::Refused(
                "esta fila no tiene folio reservado; súbala de nuevo en otro lote".into(),
            ));
        };
        if let Some(reservation) = self.archive.reservation_by_id(form, id).await? {
            return Ok(Ok(reservation));
        }
        match self.archive.document_by_idempotency_key(&row.key).await? {
            Some(existing) if existing.row_id == id => Ok(Err(existing)),
            // Its folio was annulled (its issuance failed, and the outcome
            // was not recorded before the holder died): never taken again
            // out of row order.
            _ => Err(ArchiveError::Refused(
                "el folio reservado para esta fila se anuló antes de emitirse; súbala de nuevo en otro lote"
                    .into(),
            )),
        }
    }

    /// The reservation to render, or how the row ended without one.
    async fn settled(
        &self,
        form: &FormSpec,
        row: &ReadyRow,
        reserved: Reserved,
    ) -> Result<Reservation, RowOutcome> {
        let failed = |message: String| {
            RowOutcome::Failed(RowProblem {
                line: row.line,
                column: String::new(),
                message,
                person: form.person_concerned(&row.data),
            })
        };
        // The same row re-saved with other spacing or dots: its key says it
        // is the document already issued, though the bytes differ.
        let reserved = match reserved {
            Err(ArchiveError::IdempotencyConflict(_)) => {
                match self.archive.document_by_idempotency_key(&row.key).await {
                    Ok(Some(existing)) => Ok(Err(existing)),
                    Ok(None) => Err(ArchiveError::IdempotencyConflict(row.key.clone())),
                    Err(error) => Err(error),
                }
            }
            other => other,
        };
        match reserved {
            Ok(Ok(reservation)) => Ok(reservation),
            Ok(Err(existing)) if !existing.status.is_current() => Err(failed(format!(
                "esta fila ya se emitió como {}, que hoy está {}; para emitirla de nuevo cambie algún dato",
                existing.folio, existing.status
            ))),
            Ok(Err(existing)) => Err(RowOutcome::AlreadyIssued(IssuedRow::of(row, form, existing))),
            Err(error) => Err(failed(error.to_string())),
        }
    }

    async fn finish(
        &self,
        form: Arc<FormSpec>,
        row: ReadyRow,
        reserved: Reserved,
        rendering: &tokio::sync::Semaphore,
    ) -> RowOutcome {
        let failed = |message: String| {
            RowOutcome::Failed(RowProblem {
                line: row.line,
                column: String::new(),
                message,
                person: form.person_concerned(&row.data),
            })
        };
        let reservation = match self.settled(&form, &row, reserved).await {
            Ok(reservation) => reservation,
            Err(outcome) => return outcome,
        };
        // The date its reservation recorded, here or in another instance.
        let issued_at = reservation.issued_at.with_timezone(&self.issued_at.timezone());
        let order = self.order(&form, &row, issued_at);
        let permit = rendering.acquire().await;
        let rendered = {
            let (renderer, keys, base_url, timestamps, long_term) = (
                Arc::clone(&self.renderer),
                Arc::clone(&self.keys),
                self.base_url.clone(),
                self.timestamps.clone(),
                self.long_term.clone(),
            );
            let reserved = ReservedDocument::new(&order, &reservation, (&self.signer, &self.cargo));
            let form = Arc::clone(&form);
            on_render_pool(move || {
                let request = reserved.request(&form);
                // Held until signed: a rotation waits for this signature.
                let key = keys
                    .for_signing()
                    .map_err(|e| crate::signed_pdf::IssueError::Other(format!("clave de firma: {e}")))?;
                issue_long_term(
                    &renderer,
                    &key,
                    &base_url,
                    &request,
                    timestamps.as_ref(),
                    long_term.as_deref(),
                )
            })
            .await
        };
        drop(permit);
        let document = match rendered {
            Ok(Ok(document)) => document,
            Ok(Err(error)) => {
                let _ = self
                    .archive
                    .abandon(&reservation, &format!("emisión fallida: {error}"))
                    .await;
                return failed(error.to_string());
            }
            Err(interrupted) => {
                let _ = self.archive.abandon(&reservation, "emisión fallida").await;
                return failed(interrupted);
            }
        };
        match self
            .archive
            .complete_in_batch(&reservation, &order, &document)
            .await
        {
            Ok(record) => RowOutcome::Issued(IssuedRow::of(&row, &form, record)),
            Err(error) => {
                let _ = self
                    .archive
                    .abandon(&reservation, &format!("emisión fallida: {error}"))
                    .await;
                // Another holder of its chunk (this one's lease had run
                // out) completed this very folio first: it is issued once.
                if let Ok(Some(existing)) = self.archive.document_by_idempotency_key(&row.key).await
                    && existing.row_id == reservation.document_id
                    && existing.status.is_current()
                {
                    return RowOutcome::AlreadyIssued(IssuedRow::of(&row, &form, existing));
                }
                failed(error.to_string())
            }
        }
    }
}

/// A row's folio as it was settled: reserved, or the document its key
/// names.
type Reserved = Result<Result<Reservation, DocumentRecord>, ArchiveError>;

/// Where a run's folios come from.
#[derive(Debug, Clone, Copy)]
enum Folios {
    /// Taken row after row as the run goes.
    Take,
    /// Reserved before, for a lote's chunk.
    Reserved,
}

/// What [`BulkIssuer::reserve_row`] did with a row.
#[derive(Debug)]
pub enum Reserving {
    /// Its folio is reserved, now or before: this document.
    Reserved(i64),
    /// It took no folio: this is how it ended.
    Done(RowOutcome),
}

/// Indexes the documents issued so far for search. If it fails they stay
/// issued and queued, and the next batch (or the next start) indexes them.
async fn index_for_search(archive: &Archive) {
    if let Err(error) = archive.index_queued().await {
        tracing::warn!(error = %error, "no se pudieron indexar para la búsqueda los documentos emitidos");
    }
}

/// Runs `work` on rayon's pool, where Typst lays out a document's pages in
/// parallel. A render there that splits its pages keeps both halves on its
/// own thread when the others are busy, instead of waking another thread
/// and waiting for it: on two cores, a fifth more cartas per second.
async fn on_render_pool<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (done, outcome) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        // A panic in rayon's pool would abort the process: it fails the row.
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
    });
    match outcome.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) | Err(_) => Err("la emisión se interrumpió por un error interno".to_owned()),
    }
}
