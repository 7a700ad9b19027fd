//! Bulk issuance: one signed, archived document per row of a spreadsheet.
//! Every row is validated first and each problem reported with its line,
//! column and a Spanish message; the valid rows are issued with folios in
//! row order, rendering and signing on every core, with a bounded number
//! in flight. Each row's idempotency key comes from its form and data, so
//! a rerun (after fixing the bad rows, or after a crash) issues only what
//! is missing.
//!
//! Long because preparing the rows and issuing them in order on every core
//! share the run's bookkeeping (folio order, what is in flight, what a
//! rerun skips); its unit tests follow.

mod input;
pub mod limits;
mod mapping;
mod merged;
mod padron;
mod run;
mod xlsx;

pub use input::{InputError, Sheet, read_csv, read_sheet, read_upload};
pub use mapping::{Mapping, MappingFile};
pub use merged::merged_pdf;
pub use padron::{Lote, PADRON_FORM, Responsible, TOMO_ROWS, issue_padron};
pub use run::{CheckError, Checked, RunError, RunEvent, RunOrder, check_sheet, run_lote};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::DateTime;
use chrono_tz::Tz;
use futures::StreamExt as _;
use serde_json::Value;

use crate::archive::{
    Archive, ArchiveError, IssueOrder, NamedPerson, normal_identity, persons_in, request_sha256,
};
use crate::forms::{FormSpec, IssueDate, validate};
use crate::keys::OfficeKey;
use crate::public_id::PublicId;
use crate::render::Renderer;
use crate::signed_pdf::{IssueRequest, issue};

/// Rows in flight (reserved, rendering or being stored) per worker.
const IN_FLIGHT_PER_WORKER: usize = 3;

/// Documents indexed for search together (see [`Archive::index_queued`]):
/// a few seconds of a run, so a search finds them soon after.
pub const SEARCH_BATCH: usize = 256;

/// What every bulk idempotency key starts with.
pub const KEY_PREFIX: &str = "lote-";

/// A row ready to issue.
#[derive(Debug, Clone)]
pub struct ReadyRow {
    /// The line in the clerk's file.
    pub line: usize,
    pub data: Value,
    /// The public id of the expediente to file it in.
    pub expediente: Option<PublicId>,
    /// Its idempotency key (see [`row_key`]).
    pub key: String,
}

/// Something wrong with a row, as the clerk fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    pub column: String,
    pub message: String,
}

/// Refuses a form whose workflow asks for more than one signature (a
/// visado, an approval, a second signer): its documents are issued one by
/// one through their steps, never in bulk or from the terminal.
pub fn refuse_reviewed(form: &FormSpec) -> Result<(), String> {
    if form.workflow.allows_direct_issue(crate::accounts::Role::Firmante) {
        Ok(())
    } else {
        Err(format!(
            "«{}» se emite tras su trámite ({}), uno por uno desde la aplicación web o la API",
            form.id,
            form.workflow.describe_review()
        ))
    }
}

/// Validates every row as of the run's issue date; returns those ready
/// and every problem found.
pub fn prepare(
    form: &FormSpec,
    sheet: &Sheet,
    mapping: &Mapping,
    expediente_column: Option<usize>,
    when: IssueDate,
) -> (Vec<ReadyRow>, Vec<RowProblem>) {
    let mut ready: Vec<ReadyRow> = Vec::new();
    let mut problems = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (line, cells) in &sheet.rows {
        let broken: Vec<RowProblem> = sheet
            .cell_errors
            .iter()
            .filter(|(l, _, _)| l == line)
            .map(|(_, column, error)| RowProblem {
                line: *line,
                column: sheet.headers.get(*column).cloned().unwrap_or_default(),
                message: format!(
                    "la celda tiene un error de la planilla ({error}); corrija su fórmula o su valor"
                ),
            })
            .collect();
        if !broken.is_empty() {
            problems.extend(broken);
            continue;
        }
        if cells
            .iter()
            .skip(sheet.headers.len())
            .any(|c| !c.trim().is_empty())
        {
            problems.push(RowProblem {
                line: *line,
                column: String::new(),
                message: format!(
                    "la fila tiene más columnas ({}) que el encabezado ({}): ¿un separador dentro de una celda sin comillas?",
                    cells.len(),
                    sheet.headers.len()
                ),
            });
            continue;
        }
        let data = mapping.row_data(form, cells);
        let mut row_problems: Vec<RowProblem> = match validate(form, &data, when) {
            Ok(()) => Vec::new(),
            Err(found) => found
                .0
                .into_iter()
                .map(|p| RowProblem {
                    line: *line,
                    column: mapping.column_of(&p.path),
                    message: p.message,
                })
                .collect(),
        };
        let expediente = match expediente_column {
            None => None,
            Some(column) => {
                let text = cells.get(column).map(|c| c.trim()).unwrap_or_default();
                match PublicId::parse(text) {
                    Ok(id) => Some(id),
                    Err(_) => {
                        row_problems.push(RowProblem {
                            line: *line,
                            column: sheet.headers.get(column).cloned().unwrap_or_default(),
                            message: format!(
                                "«{text}» no es el identificador de un expediente (32 letras y dígitos, como en su página)"
                            ),
                        });
                        None
                    }
                }
            }
        };
        if row_problems.is_empty() {
            let key = row_key(form, &data, expediente);
            if let Some(first) = seen.get(&key) {
                problems.push(RowProblem {
                    line: *line,
                    column: String::new(),
                    message: format!(
                        "repite la línea {first}: se emite un solo documento por persona y datos"
                    ),
                });
                continue;
            }
            seen.insert(key.clone(), *line);
            ready.push(ReadyRow {
                line: *line,
                data,
                expediente,
                key,
            });
        } else {
            problems.extend(row_problems);
        }
    }
    (ready, problems)
}

/// The stable key of a row: the same form, data and expediente are the
/// same document. Spacing and the dots of identity numbers do not count,
/// so a file re-saved by Excel still finds what it issued.
pub fn row_key(form: &FormSpec, data: &Value, expediente: Option<PublicId>) -> String {
    fn canonical(value: &Value, identity: bool) -> Value {
        match value {
            Value::String(text) if identity => Value::String(normal_identity(text)),
            Value::String(text) => Value::String(text.split_whitespace().collect::<Vec<_>>().join(" ")),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), canonical(v, k == "identificacion")))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| canonical(v, false)).collect()),
            other => other.clone(),
        }
    }
    let keyed = serde_json::json!({"datos": canonical(data, false), "expediente": expediente});
    let hash = request_sha256(form.id.as_str(), &keyed);
    format!("{KEY_PREFIX}{}", &hash[..40])
}

/// What issues the rows: the office's archive, its letterhead and key,
/// who signs and when. Made by [`BulkIssuer::new`] (or by [`run_lote`],
/// which takes the office's bulk lock first), so every run sets the same
/// things.
pub struct BulkIssuer {
    archive: Archive,
    renderer: Arc<Renderer>,
    key: Arc<OfficeKey>,
    base_url: String,
    signer: String,
    cargo: String,
    actor: String,
    issued_at: DateTime<Tz>,
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
            key,
            base_url: base_url.to_owned(),
            signer: responsible.name.to_owned(),
            cargo: responsible.cargo.to_owned(),
            actor: responsible.actor.to_owned(),
            issued_at,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            search_batch: SEARCH_BATCH,
            on_paper: false,
        }
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
                    let reserved = self.archive.reserve(&self.order(&form, &row)).await;
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

    /// The archive's order for a row.
    fn order<'a>(&'a self, form: &'a FormSpec, row: &'a ReadyRow) -> IssueOrder<'a> {
        IssueOrder {
            form,
            data: &row.data,
            issued_at: self.issued_at,
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

    async fn finish(
        &self,
        form: Arc<FormSpec>,
        row: ReadyRow,
        reserved: Result<Result<crate::archive::Reservation, crate::archive::DocumentRecord>, ArchiveError>,
        rendering: &tokio::sync::Semaphore,
    ) -> RowOutcome {
        let failed = |message: String| {
            RowOutcome::Failed(RowProblem {
                line: row.line,
                column: String::new(),
                message,
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
        let reservation = match reserved {
            Ok(Ok(reservation)) => reservation,
            Ok(Err(existing)) if !existing.status.is_current() => {
                return failed(format!(
                    "esta fila ya se emitió como {}, que hoy está {}; para emitirla de nuevo cambie algún dato",
                    existing.folio, existing.status
                ));
            }
            Ok(Err(existing)) => {
                return RowOutcome::AlreadyIssued(IssuedRow::of(&row, &form, existing));
            }
            Err(error) => return failed(error.to_string()),
        };
        let folio = reservation.folio.to_string();
        let permit = rendering.acquire().await;
        let rendered = {
            let (renderer, key, base_url) = (
                Arc::clone(&self.renderer),
                Arc::clone(&self.key),
                self.base_url.clone(),
            );
            let (form, data, issued_at) = (Arc::clone(&form), row.data.clone(), self.issued_at);
            let on_paper = self.order(&form, &row).on_paper;
            let (signer, cargo, folio) = (self.signer.clone(), self.cargo.clone(), folio.clone());
            on_render_pool(move || {
                let request = IssueRequest {
                    form: &form,
                    data: &data,
                    issued_at,
                    folio: Some(folio),
                    signer: &signer,
                    cargo: &cargo,
                    endorsements: &[],
                    hand_signatures: &[],
                    on_paper: &on_paper,
                };
                issue(&renderer, &key, &base_url, &request)
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
            .complete_in_batch(&reservation, &self.order(&form, &row), &document)
            .await
        {
            Ok(record) => RowOutcome::Issued(IssuedRow::of(&row, &form, record)),
            Err(error) => {
                let _ = self
                    .archive
                    .abandon(&reservation, &format!("emisión fallida: {error}"))
                    .await;
                failed(error.to_string())
            }
        }
    }
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

/// The documents of a run, in row order, as a CSV for the office's records
/// and for handing out: `linea;folio;verificacion`.
pub fn issued_csv(rows: &[IssuedRow]) -> Vec<u8> {
    crate::csv_out::for_spreadsheets(
        &["linea", "folio", "verificacion"],
        rows.iter()
            .map(|row| vec![row.line.to_string(), row.folio.clone(), row.url.clone()]),
    )
}

/// The problems as a CSV the clerk opens beside the spreadsheet to fix it:
/// `linea;columna;problema`, separated by semicolons and in UTF-8 with a
/// BOM, as Excel in Spanish opens it. A column's name is the clerk's own
/// header, which may begin like a formula: it is written as text.
pub fn problems_csv(problems: &[RowProblem]) -> Vec<u8> {
    crate::csv_out::for_spreadsheets(
        &["linea", "columna", "problema"],
        problems.iter().map(|problem| {
            vec![
                problem.line.to_string(),
                problem.column.clone(),
                problem.message.clone(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> FormSpec {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        crate::forms::Catalog::load(&root)
            .expect("catalog")
            .get("carta-compromiso")
            .expect("form")
            .clone()
    }

    /// The day the examples are issued on in the tests.
    fn on_test_day() -> IssueDate {
        IssueDate::On(chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date"))
    }

    /// The example as one spreadsheet row, under the fields' names.
    fn sheet(rows: usize) -> Sheet {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms/carta-compromiso/example.json");
        let example: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("JSON");
        let mut headers = Vec::new();
        let mut cells = Vec::new();
        for (name, value) in example.as_object().expect("object") {
            match value {
                Value::Object(parts) => {
                    for (part, text) in parts {
                        headers.push(format!("{name}.{part}"));
                        cells.push(text.as_str().expect("text").to_owned());
                    }
                }
                other => {
                    headers.push(name.clone());
                    cells.push(other.as_str().expect("text").to_owned());
                }
            }
        }
        Sheet {
            headers,
            rows: (0..rows).map(|i| (i + 2, cells.clone())).collect(),
            cell_errors: Vec::new(),
        }
    }

    #[test]
    fn a_spreadsheet_error_in_a_cell_is_reported_not_printed() {
        let form = form();
        let mut sheet = sheet(2);
        sheet.rows[1].1[0] = "#N/A".into();
        sheet.cell_errors.push((3, 0, "#N/A".into()));
        let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
        let (ready, problems) = prepare(&form, &sheet, &mapping, None, on_test_day());
        assert_eq!(ready.iter().map(|r| r.line).collect::<Vec<_>>(), [2]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 3);
        assert_eq!(problems[0].column, sheet.headers[0]);
        assert!(problems[0].message.contains("#N/A"), "{problems:?}");
    }

    #[test]
    fn a_listado_and_a_problems_csv_are_text_to_a_spreadsheet() {
        let issued = [IssuedRow {
            line: 2,
            id: PublicId::generate().expect("random"),
            row_id: 1,
            folio: "=1+1".into(),
            url: "@SUM(1)".into(),
            person: None,
        }];
        let listado = String::from_utf8(issued_csv(&issued)).expect("UTF-8");
        assert_eq!(listado, "\u{feff}linea;folio;verificacion\n2;'=1+1;'@SUM(1)\n");
        let problems = [RowProblem {
            line: 3,
            column: "-2+3".into(),
            message: "+cmd|' /C calc'!A0".into(),
        }];
        let report = String::from_utf8(problems_csv(&problems)).expect("UTF-8");
        assert_eq!(
            report,
            "\u{feff}linea;columna;problema\n3;'-2+3;'+cmd|' /C calc'!A0\n"
        );
    }

    #[test]
    fn the_same_family_twice_in_a_file_is_issued_once() {
        let form = form();
        let mut sheet = sheet(3);
        // The third row differs only in spacing and the dots of the RUN.
        let id = sheet
            .headers
            .iter()
            .position(|h| h == "representante.identificacion")
            .expect("column");
        sheet.rows[2].1[id] = sheet.rows[2].1[id].replace('.', "");
        sheet.rows[2].1[0] = format!("  {}  ", sheet.rows[2].1[0]);
        let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
        let (ready, problems) = prepare(&form, &sheet, &mapping, None, on_test_day());
        assert_eq!(ready.len(), 1);
        let lines: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines.iter().all(|(_, m)| m.starts_with("repite la línea 2")),
            "{lines:?}"
        );
    }
}
