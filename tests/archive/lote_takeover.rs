//! A lote's work taken over by another instance, in one process against
//! one database (either engine): a chunk holder cut off (its lease ran out,
//! as when its process is paused) that resumes while another finishes the
//! same chunk; a reservation that died partway and is resumed elsewhere;
//! a row a cut-off holder failed and its successor issued; a lote whose
//! job gave up, which ends failed and frees its office; and each row dated
//! the day it is issued, not the day the lote was uploaded.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::TimeZone as _;
use sello::archive::DocumentRecord;
use sello::bulk::chunks::{self, CHUNK_JOB, CHUNK_ROWS};
use sello::bulk::lotes::{self, LOTE_JOB, LoteRecord, NewLote};
use sello::bulk::{
    Clock, Mapping, ReadyRow, Responsible, RowOutcome, RowProblem, RunOrder, prepare, read_csv, row_key,
};
use sello::forms::FormSpec;
use sello::issuer::Issuer;
use sello::public_id::PublicId;
use sello::queue::{Claimed, Queue, QueueError};
use serde_json::{Value, json};

use crate::Fixture;

const OFFICE: &str = "DIF-SLP";

/// `count` valid rows of Cartas de Compromiso, each of its own family.
fn carta_rows(count: usize) -> (Arc<FormSpec>, Vec<ReadyRow>) {
    let form = Arc::new(crate::CATALOG.get("carta-compromiso").expect("form").clone());
    let sheet = read_csv(&crate::bulk::csv_bytes(&crate::bulk::rows(count, &[]), false)).expect("csv");
    let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
    let (ready, problems) = prepare(
        &form,
        &sheet,
        &mapping,
        None,
        sello::forms::IssueDate::issued(&crate::at(22)),
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(ready.len(), count);
    (form, ready)
}

/// The lote of `rows` as an upload stores it, dated `issued_at`; its run
/// is enqueued.
async fn new_lote(
    fixture: &Fixture,
    form: &FormSpec,
    rows: &[ReadyRow],
    issued_at: chrono::DateTime<chrono_tz::Tz>,
) -> LoteRecord {
    let store = fixture.archive.store();
    let lote = NewLote {
        public_id: PublicId::generate().expect("random"),
        office_code: OFFICE,
        form: form.id.as_str(),
        file_name: "familias.csv",
        on_paper: false,
        issued_at,
        total_rows: rows.len(),
        unused_columns: &[],
        signer: "Mtra. Guadalupe Torres Medina",
        cargo: "Directora",
        actor: "lucia",
        awaiting_approval: false,
        rows,
        problems: &[],
    };
    let id = lotes::create_lote(store, &lote).await.expect("lote");
    lotes::lote_by_id(store, id).await.expect("read").expect("lote")
}

/// Who signs and issues the lote's documents, as its upload recorded.
fn responsible(lote: &LoteRecord) -> Responsible<'_> {
    Responsible {
        name: &lote.signer,
        cargo: &lote.cargo,
        actor: &lote.actor,
    }
}

/// A lote and what an instance runs its jobs with.
struct Run<'f> {
    fixture: &'f Fixture,
    issuer: Issuer,
    /// The data folder, where the office's bulk lock is taken.
    data_dir: tempfile::TempDir,
    form: Arc<FormSpec>,
    lote: LoteRecord,
}

impl<'f> Run<'f> {
    /// The lote of `rows` as an upload stores it, dated `issued_at`.
    async fn new(
        fixture: &'f Fixture,
        form: Arc<FormSpec>,
        rows: &[ReadyRow],
        issued_at: chrono::DateTime<chrono_tz::Tz>,
    ) -> Self {
        Self {
            fixture,
            issuer: Issuer::new(&crate::config(), fixture.key.clone()).expect("issuer"),
            data_dir: tempfile::tempdir().expect("temp"),
            lote: new_lote(fixture, &form, rows, issued_at).await,
            form,
        }
    }

    /// What a job of the lote runs `rows` with, each dated by `clock`
    /// when there is one.
    fn order(&self, rows: Vec<ReadyRow>, clock: Option<Clock>) -> RunOrder<'_> {
        RunOrder {
            form: Arc::clone(&self.form),
            rows,
            responsible: responsible(&self.lote),
            issued_at: self.lote.issued_at,
            clock,
            on_paper: self.lote.on_paper,
            workers: Some(2),
        }
    }

    /// Reserves the folios of the rows in no chunk yet, as the lote's job
    /// does, until `stop` says; whether it reserved them all.
    async fn reserve(&self, stop: &(dyn Fn() -> bool + Send + Sync), clock: Option<Clock>) -> bool {
        let store = self.fixture.archive.store();
        let rows = chunks::unchunked_rows(store, self.lote.id).await.expect("rows");
        chunks::reserve_lote(
            &self.issuer,
            self.fixture.archive.clone(),
            self.data_dir.path(),
            &self.lote,
            self.order(rows, clock),
            stop,
            &|| {},
        )
        .await
        .expect("reserving")
    }

    /// The words `record`'s PDF prints, one space apart.
    async fn printed_words(&self, record: &DocumentRecord) -> String {
        let pdf = self.fixture.archive.pdf(record).await.expect("pdf");
        let path = self.data_dir.path().join(format!("{}.pdf", record.id));
        std::fs::write(&path, pdf).expect("write");
        let text = crate::pdf_text(&path);
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Issues `rows` of a chunk, as the chunk's job does.
    async fn issue(&self, rows: Vec<ReadyRow>, clock: Option<Clock>) -> Vec<RowOutcome> {
        let stop = AtomicBool::new(false);
        let order = self.order(rows, clock);
        chunks::issue_chunk(&self.issuer, self.fixture.archive.clone(), order, &stop, &|_| {})
            .await
            .expect("issued")
    }
}

/// The office's documents: (number, folio, status, idempotency key, issued_on).
async fn documents(fixture: &Fixture) -> Vec<(i64, String, String, Option<String>, String)> {
    sqlx::query_as(
        "SELECT number, folio, status, idempotency_key, issued_on FROM documents \
         WHERE office_code = $1 ORDER BY number",
    )
    .bind(OFFICE)
    .fetch_all(fixture.archive.store().pool())
    .await
    .expect("documents")
}

/// The lote's rows: (line, outcome, document row, folio).
async fn lote_rows(fixture: &Fixture, lote: i64) -> Vec<(i64, Option<String>, Option<i64>, Option<String>)> {
    sqlx::query_as("SELECT line, outcome, document_id, folio FROM lote_rows WHERE lote_id = $1 ORDER BY line")
        .bind(lote)
        .fetch_all(fixture.archive.store().pool())
        .await
        .expect("lote rows")
}

/// The number of the folio reserved (or issued) for each row of the lote,
/// in row order.
async fn numbers_by_line(fixture: &Fixture, lote: i64) -> Vec<(i64, i64)> {
    sqlx::query_as(
        "SELECT r.line, d.number FROM lote_rows r JOIN documents d \
         ON d.idempotency_key = r.row_key AND d.office_code = $2 WHERE r.lote_id = $1 ORDER BY r.line",
    )
    .bind(lote)
    .bind(OFFICE)
    .fetch_all(fixture.archive.store().pool())
    .await
    .expect("numbers")
}

/// Claims the next job of `kind` for `queue`'s holder with a lease that
/// soon runs out, as a paused or dead holder's does.
async fn claim_briefly(queue: &Queue, kind: &str) -> Claimed {
    queue
        .claim(kind, Duration::from_millis(100))
        .await
        .expect("claim")
        .expect("a job")
}

/// Waits until a lease [`claim_briefly`] took has run out.
async fn lease_runs_out() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// A chunk's holder whose lease ran out (its process paused, or cut off
/// from the database) resumes while the instance that took the chunk over
/// issues the same rows: both render, but each folio is completed once,
/// by whichever comes first, and the other finds the row issued; every
/// row is issued exactly once with the folio its place gave it, and the
/// cut-off holder can no longer record anything in the queue.
async fn a_cut_off_chunk_holder_and_its_successor_issue_each_row_once(fixture: &Fixture) {
    let store = fixture.archive.store().clone();
    let (form, ready) = carta_rows(6);
    let run = Run::new(fixture, form, &ready, crate::at(22)).await;
    let lote = &run.lote;
    assert!(run.reserve(&|| false, None).await);

    // The first holder claims the chunk and is cut off past its lease;
    // the second takes it over.
    let first = Queue::with_holder(store.clone(), "pausada");
    let second = Queue::with_holder(store.clone(), "sucesora");
    let cut_off = claim_briefly(&first, CHUNK_JOB).await;
    lease_runs_out().await;
    let taken_over = second
        .claim(CHUNK_JOB, Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("the chunk again");
    assert_eq!((taken_over.id, taken_over.attempt), (cut_off.id, 2));

    // Both issue the chunk at once: the first resumes unaware.
    let chunk = cut_off.payload["chunk"].as_i64().expect("chunk");
    let rows_first = chunks::chunk_rows(&store, lote.id, chunk).await.expect("rows");
    let rows_second = chunks::chunk_rows(&store, lote.id, chunk).await.expect("rows");
    assert_eq!(rows_first.len(), 6);
    let (by_first, by_second) = tokio::join!(run.issue(rows_first, None), run.issue(rows_second, None));
    // As each instance records what it saw.
    lotes::record_outcomes(&store, lote.id, &by_first)
        .await
        .expect("record");
    lotes::record_outcomes(&store, lote.id, &by_second)
        .await
        .expect("record");

    // Each row: one document, the same for both, issued by one of them.
    let mut issued_now = 0;
    let mut seen = BTreeSet::new();
    for (a, b) in by_first.iter().zip(&by_second) {
        let document = |outcome: &RowOutcome| match outcome {
            RowOutcome::Issued(row) | RowOutcome::AlreadyIssued(row) => (row.line, row.row_id),
            RowOutcome::Failed(problem) => panic!("a row failed: {problem:?}"),
        };
        assert_eq!(document(a), document(b), "both name the same document");
        issued_now += [a, b]
            .iter()
            .filter(|o| matches!(o, RowOutcome::Issued(_)))
            .count();
        seen.insert(document(a).1);
    }
    assert_eq!(issued_now, 6, "each folio completed by one holder only");
    assert_eq!(seen.len(), 6);
    let documents = documents(fixture).await;
    assert_eq!(documents.len(), 6, "nothing issued twice: {documents:?}");
    assert!(
        documents.iter().all(|d| d.2 == "emitido"),
        "no folio annulled or left reserved: {documents:?}"
    );
    let numbers: Vec<i64> = numbers_by_line(fixture, lote.id)
        .await
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(numbers, (1..=6).collect::<Vec<_>>(), "folios in row order");
    let recorded = lote_rows(fixture, lote.id).await;
    assert!(
        recorded
            .iter()
            .all(|(_, outcome, document, _)| outcome.as_deref() == Some("emitido")
                && document.is_some_and(|d| seen.contains(&d))),
        "{recorded:?}"
    );
    // One log entry per document: a folio completed twice would add one.
    assert_eq!(fixture.archive.verify_log().await.expect("log"), Ok(6));

    // The cut-off holder's writes to the queue are refused; the successor's
    // are not.
    let lost = |r: Result<(), QueueError>| matches!(r, Err(QueueError::LeaseLost(_)));
    assert!(lost(first.extend(&cut_off, Duration::from_secs(60)).await));
    assert!(lost(
        first
            .progress(&cut_off, &json!({"hechas": 6}), Duration::from_secs(60))
            .await
    ));
    assert!(lost(first.complete(&cut_off, None).await));
    second
        .complete(&taken_over, None)
        .await
        .expect("the successor completes");
    assert!(
        first
            .fail(&cut_off, "tarde", sello::queue::Backoff::default())
            .await
            .is_err(),
        "nor may it fail the job"
    );
    let mut tx = store.pool().begin().await.expect("begin");
    let ended = chunks::finish_if_done(&mut tx, lote.id).await.expect("finish");
    tx.commit().await.expect("commit");
    assert!(ended, "the lote ends");
    let report = fixture.archive.fsck(false).await.expect("fsck");
    assert!(report.is_clean(), "{report:?}");
    assert!(report.interrupted.is_empty(), "{report:?}");
    // Both did render the same rows: each loser's PDF is stored and left
    // unreferenced (an orphan `fsck --repair` quarantines).
    assert!(!report.orphans.is_empty(), "the two holders raced: {report:?}");
}
crate::archive_conformance!(a_cut_off_chunk_holder_and_its_successor_issue_each_row_once);

/// The lote's job dies after reserving a chunk and part of the next; the
/// instance that takes the job over goes on from there: the rows reserved
/// keep their folios (nothing reserved twice, none annulled), the rest
/// follow in row order with no gap, each chunk is enqueued once, and
/// every row is filed in its family's expediente.
async fn a_reservation_that_died_partway_is_resumed_in_row_order(fixture: &Fixture) {
    let store = fixture.archive.store().clone();
    let total = CHUNK_ROWS + 5;
    let (form, ready) = carta_rows(total);
    let run = Run::new(fixture, form, &ready, crate::at(22)).await;
    let lote = &run.lote;

    let dies = Queue::with_holder(store.clone(), "muere");
    let job = claim_briefly(&dies, LOTE_JOB).await;
    // It reserves the first chunk and three rows of the second, then stops
    // between two rows (a kill within a row's transaction rolls it back).
    let taken = AtomicUsize::new(0);
    let stop = || taken.fetch_add(1, Ordering::SeqCst) >= CHUNK_ROWS + 3;
    assert!(!run.reserve(&stop, None).await);
    let after_death = documents(fixture).await;
    assert_eq!(after_death.len(), CHUNK_ROWS + 3);
    assert_eq!(chunks::chunks_of(&store, lote.id).await.expect("chunks").len(), 1);

    // Its lease runs out; another instance takes the job over.
    lease_runs_out().await;
    let successor = Queue::with_holder(store.clone(), "sucesora");
    let again = successor
        .claim(LOTE_JOB, Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("the lote's job again");
    assert_eq!((again.id, again.attempt), (job.id, 2));
    let rows = chunks::unchunked_rows(&store, lote.id).await.expect("rows");
    assert_eq!(rows.len(), 5, "only the rows not in a chunk");
    assert!(run.reserve(&|| false, None).await);
    successor.complete(&again, None).await.expect("complete");
    assert!(matches!(
        dies.complete(&job, None).await,
        Err(QueueError::LeaseLost(_))
    ));

    let documents = documents(fixture).await;
    assert_eq!(documents.len(), total, "nothing reserved twice");
    assert!(
        documents.iter().all(|d| d.2 == "reservado"),
        "none annulled («emisión interrumpida»): a lote's waiting folios are not a killed run's"
    );
    // The folios reserved before the death kept their numbers.
    for (before, now) in after_death.iter().zip(&documents) {
        assert_eq!((&before.1, &before.3), (&now.1, &now.3));
    }
    let by_line = numbers_by_line(fixture, lote.id).await;
    let lines: Vec<i64> = by_line.iter().map(|(l, _)| *l).collect();
    let numbers: Vec<i64> = by_line.iter().map(|(_, n)| *n).collect();
    assert_eq!(lines.len(), total);
    assert_eq!(
        numbers,
        (1..=i64::try_from(total).expect("count")).collect::<Vec<_>>(),
        "in row order, without gaps"
    );
    let chunks = chunks::chunks_of(&store, lote.id).await.expect("chunks");
    let spans: Vec<(i64, i64, i64)> = chunks
        .iter()
        .map(|c| (c.number, c.first_line, c.last_line))
        .collect();
    assert_eq!(
        spans,
        [
            (0, lines[0], lines[CHUNK_ROWS - 1]),
            (1, lines[CHUNK_ROWS], lines[total - 1])
        ]
    );
    let jobs = successor.of_kind(CHUNK_JOB).await.expect("jobs");
    assert_eq!(jobs.len(), 2, "each chunk enqueued once");
    // Each row filed in its own family's expediente.
    let filed: Vec<(String, String)> = sqlx::query_as(
        "SELECT d.data, e.title FROM documents d JOIN expedientes e ON e.id = d.expediente_id \
         WHERE d.office_code = $1",
    )
    .bind(OFFICE)
    .fetch_all(store.pool())
    .await
    .expect("filed");
    assert_eq!(filed.len(), total);
    for (data, title) in &filed {
        let data: Value = serde_json::from_str(data).expect("data");
        assert_eq!(data["familia_nombre"].as_str(), Some(title.as_str()));
    }
    let titles: BTreeSet<&String> = filed.iter().map(|(_, t)| t).collect();
    assert_eq!(titles.len(), total, "one expediente per family");
}
crate::archive_conformance!(a_reservation_that_died_partway_is_resumed_in_row_order);

/// A row the cut-off holder of its chunk failed, and the holder that took
/// the chunk over then issued, is issued and no longer among the lote's
/// problems: its errores.csv lists only what was not issued.
async fn a_row_failed_by_a_cut_off_holder_and_issued_by_its_successor_loses_its_problem(fixture: &Fixture) {
    let store = fixture.archive.store();
    let (form, ready) = carta_rows(2);
    let run = Run::new(fixture, form, &ready, crate::at(22)).await;
    let lote = run.lote.id;
    assert!(run.reserve(&|| false, None).await);

    // The successor holds the chunk's rows while the cut-off holder, still
    // running, records a failure of the first.
    let rows = chunks::chunk_rows(store, lote, 0).await.expect("rows");
    let failure = RowProblem {
        line: rows[0].line,
        column: String::new(),
        message: "emisión fallida: se agotó el tiempo".into(),
        person: None,
    };
    lotes::record_outcomes(store, lote, &[RowOutcome::Failed(failure)])
        .await
        .expect("recorded");
    assert_eq!(lotes::problems(store, lote).await.expect("problems").len(), 1);

    // The successor issues both rows and records them.
    let issued = run.issue(rows, None).await;
    assert!(
        issued.iter().all(|o| matches!(o, RowOutcome::Issued(_))),
        "{issued:?}"
    );
    lotes::record_outcomes(store, lote, &issued)
        .await
        .expect("recorded");
    let problems = lotes::problems(store, lote).await.expect("problems");
    assert!(problems.is_empty(), "{problems:?}");
    let recorded = lote_rows(fixture, lote).await;
    assert!(
        recorded.iter().all(
            |(_, outcome, document, folio)| outcome.as_deref() == Some("emitido")
                && document.is_some()
                && folio.is_some()
        ),
        "{recorded:?}"
    );
}
crate::archive_conformance!(a_row_failed_by_a_cut_off_holder_and_issued_by_its_successor_loses_its_problem);

/// Runs `statement` on the lote jobs (`$1` is their kind): how a test
/// ages them.
async fn on_lote_jobs(store: &sello::archive::Store, statement: &str) {
    sqlx::query(statement)
        .bind(LOTE_JOB)
        .execute(store.pool())
        .await
        .expect(statement);
}

/// Waits until the lote has ended, nudging this instance's lote jobs as
/// its poller would.
async fn until_finished(service: &crate::http::Service, lote: i64) -> LoteRecord {
    let store = service.state.archive.store();
    for _ in 0..200 {
        sello::web::jobs::run_due_lotes(&service.state);
        let record = lotes::lote_by_id(store, lote).await.expect("read").expect("lote");
        if record.is_finished() {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the lote never ended");
}

/// A lote whose job runs out of attempts ends failed, saying why, and
/// its office may start another: whether its attempts ran out in its run
/// (the office kept busy by another run) or at a claim, after its holder
/// had died on every attempt.
async fn a_lote_whose_job_gives_up_ends_failed_and_frees_its_office(fixture: &Fixture) {
    let service = crate::http::Service::new(fixture).await;
    let store = fixture.archive.store().clone();
    let (form, ready) = carta_rows(2);

    // Another run holds the office's bulk lock throughout.
    let held = fixture
        .archive
        .lock_bulk(&service.state.config.data_dir)
        .await
        .expect("the lock");
    let busy = new_lote(fixture, &form, &ready, crate::at(22)).await;
    assert!(lotes::office_busy(&store, OFFICE).await.expect("busy"));
    // Two attempts: the first finds the office busy and waits its backoff.
    on_lote_jobs(&store, "UPDATE jobs SET max_attempts = 2 WHERE kind = $1").await;
    let queue = Queue::with_holder(store.clone(), "prueba");
    for _ in 0..200 {
        sello::web::jobs::run_due_lotes(&service.state);
        let jobs = queue.of_kind(LOTE_JOB).await.expect("jobs");
        let job = &jobs[0];
        if job.attempts == 1 && job.state == sello::queue::JobState::Queued {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    on_lote_jobs(&store, "UPDATE jobs SET run_at = 0 WHERE kind = $1").await;
    let ended = until_finished(&service, busy.id).await;
    let failure = ended.failure.expect("failed");
    assert!(
        failure.contains("se agotaron los intentos") && failure.contains("otra corrida"),
        "{failure}"
    );
    drop(held);
    assert!(
        !lotes::office_busy(&store, OFFICE).await.expect("busy"),
        "the office may start another lote"
    );
    assert!(documents(fixture).await.is_empty(), "it issued nothing");

    // Whatever this instance was running has ended (nothing is due).
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Its holder dies on its last attempt: the queue gives the job up when
    // it is claimed again, and the lote ends failed.
    let abandoned = new_lote(fixture, &form, &ready, crate::at(22)).await;
    on_lote_jobs(
        &store,
        "UPDATE jobs SET max_attempts = 1 WHERE kind = $1 AND state = 'queued'",
    )
    .await;
    let dies = Queue::with_holder(store.clone(), "muere");
    let _dead = claim_briefly(&dies, LOTE_JOB).await;
    lease_runs_out().await;
    let ended = until_finished(&service, abandoned.id).await;
    let failure = ended.failure.expect("failed");
    assert!(failure.contains("dejó de responder"), "{failure}");
    assert!(!lotes::office_busy(&store, OFFICE).await.expect("busy"));
    let jobs = queue.of_kind(LOTE_JOB).await.expect("jobs");
    assert!(
        jobs.iter().all(|j| j.state == sello::queue::JobState::Failed),
        "{jobs:?}"
    );
}
crate::archive_conformance!(a_lote_whose_job_gives_up_ends_failed_and_frees_its_office);

/// A Carta de Aviso whose `fecha_aviso` is `day` of November 2026, of the
/// family `n`: it may be issued from that day up to 30 days before it.
fn aviso(form: &FormSpec, n: usize, day: u32) -> ReadyRow {
    let mut data = crate::example("aviso-familia-inubicable");
    data["fecha_aviso"] = json!(format!("2026-11-{day:02}"));
    data["familia_id"] = json!(format!("FAM-13201-{n:06}"));
    data["familia_nombre"] = json!(format!("Familia Tapia {n}"));
    let key = row_key(form, &data, None);
    ReadyRow {
        line: n + 1,
        data,
        expediente: None,
        key,
        reserved: None,
    }
}

/// A lote uploaded on the 23rd and run on the 24th, across midnight into
/// the 25th: each row is dated the moment its folio is taken, in the
/// office's time zone, and printed so; a row whose data was valid on the
/// 23rd but is not on the day it would be issued fails, taking no folio.
async fn each_row_of_a_lote_is_dated_the_day_it_is_issued(fixture: &Fixture) {
    let store = fixture.archive.store().clone();
    let form = Arc::new(
        crate::CATALOG
            .get("aviso-familia-inubicable")
            .expect("form")
            .clone(),
    );
    let uploaded = crate::at(23);
    let rows = vec![aviso(&form, 1, 26), aviso(&form, 2, 23), aviso(&form, 3, 26)];
    for row in &rows {
        sello::forms::validate(&form, &row.data, sello::forms::IssueDate::issued(&uploaded))
            .expect("valid the day it is uploaded");
    }
    let run = Run::new(fixture, Arc::clone(&form), &rows, uploaded).await;
    let lote = &run.lote;
    // Two rows take their folios a little before midnight of the 24th;
    // the third just after it.
    let zone = uploaded.timezone();
    let moment = |day, hour, minute, second| {
        zone.with_ymd_and_hms(2026, 11, day, hour, minute, second)
            .single()
            .expect("time")
            .with_timezone(&chrono::Utc)
    };
    let (before, after) = (moment(24, 23, 59, 40), moment(25, 0, 0, 20));
    let ticks = Arc::new(AtomicUsize::new(0));
    let clock: sello::bulk::Clock = {
        let ticks = Arc::clone(&ticks);
        Arc::new(move || {
            if ticks.fetch_add(1, Ordering::SeqCst) < 2 {
                before
            } else {
                after
            }
        })
    };
    assert!(run.reserve(&|| false, Some(Arc::clone(&clock))).await);
    // Issued later still (by whichever instance): dated as reserved.
    let pending = chunks::chunk_rows(&store, lote.id, 0).await.expect("rows");
    assert_eq!(pending.len(), 2, "the row that may no longer be issued is done");
    let issued = run.issue(pending, Some(clock)).await;
    assert!(
        issued.iter().all(|o| matches!(o, RowOutcome::Issued(_))),
        "{issued:?}"
    );
    lotes::record_outcomes(&store, lote.id, &issued)
        .await
        .expect("recorded");

    let documents = documents(fixture).await;
    let dated: Vec<(i64, &str, &str)> = documents
        .iter()
        .map(|d| (d.0, d.2.as_str(), d.4.as_str()))
        .collect();
    assert_eq!(
        dated,
        [(1, "emitido", "2026-11-24"), (2, "emitido", "2026-11-25")],
        "each dated the day it took its folio; the row refused took none"
    );
    let outcomes = lote_rows(fixture, lote.id).await;
    assert_eq!(outcomes[1].1.as_deref(), Some("fallido"), "{outcomes:?}");
    let problems = lotes::problems(&store, lote.id).await.expect("problems");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].line == 3 && problems[0].message.contains("anterior a la fecha de emisión"),
        "{problems:?}"
    );
    for (document, day) in issued.iter().zip(["24", "25"]) {
        let RowOutcome::Issued(row) = document else {
            unreachable!()
        };
        let record = fixture
            .archive
            .document(&row.id.to_string())
            .await
            .expect("the document");
        assert!(
            record.issued_at.starts_with(&format!("2026-11-{day}T")),
            "{}",
            record.issued_at
        );
        let text = run.printed_words(&record).await;
        assert!(
            text.contains(&format!("{day} de noviembre de 2026")),
            "printed with the day it was issued: {text}"
        );
    }

    // Its padrón says the days its documents are dated.
    let (first, last) = lotes::issue_days(&store, lote.id)
        .await
        .expect("days")
        .expect("it issued");
    let listed = lotes::documents(&store, lote.id, Some(&form))
        .await
        .expect("documents");
    let padron = sello::bulk::Lote {
        form: &form,
        file_name: &lote.file_name,
        date: first,
        until: Some(last),
        rows: &listed,
    };
    let tomos = sello::bulk::issue_padron(
        &run.issuer,
        &|_, _| {},
        &fixture.archive,
        crate::CATALOG.get(sello::bulk::PADRON_FORM).expect("padrón"),
        &padron,
        &responsible(lote),
        zone.with_ymd_and_hms(2026, 11, 25, 9, 0, 0)
            .single()
            .expect("time"),
    )
    .await
    .expect("the padrón");
    let text = run.printed_words(&tomos[0]).await;
    assert!(
        text.contains("Documentos emitidos del 24 de noviembre de 2026 al 25 de noviembre de 2026: 2."),
        "{text}"
    );
}
crate::archive_conformance!(each_row_of_a_lote_is_dated_the_day_it_is_issued);
