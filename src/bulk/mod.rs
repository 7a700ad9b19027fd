//! Bulk issuance: one signed, archived document per row of a spreadsheet.
//! Every row is validated first and each problem reported with its line,
//! column and a Spanish message; the valid rows are issued with folios in
//! row order, rendering and signing on every core, with a bounded number
//! in flight. Each row's idempotency key comes from its form and data, so
//! a rerun (after fixing the bad rows, or after a crash) issues only what
//! is missing.

mod input;
mod mapping;

pub use input::{InputError, Sheet, read_csv, read_sheet};
pub use mapping::{Mapping, MappingFile};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::DateTime;
use chrono_tz::Tz;
use futures::StreamExt as _;
use serde_json::Value;

use crate::archive::{Archive, ArchiveError, IssueOrder, request_sha256};
use crate::forms::{FormSpec, validate};
use crate::issue::{IssueRequest, issue};
use crate::keys::OfficeKey;
use crate::render::Renderer;

/// What every bulk idempotency key starts with.
pub const KEY_PREFIX: &str = "lote-";

/// A row ready to issue.
#[derive(Debug, Clone)]
pub struct ReadyRow {
    /// The line in the clerk's file.
    pub line: usize,
    pub data: Value,
    pub expediente: Option<i64>,
}

/// Something wrong with a row, as the clerk fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    pub column: String,
    pub message: String,
}

/// Validates every row; returns those ready and every problem found.
pub fn prepare(
    form: &FormSpec,
    sheet: &Sheet,
    mapping: &Mapping,
    expediente_column: Option<usize>,
) -> (Vec<ReadyRow>, Vec<RowProblem>) {
    let mut ready = Vec::new();
    let mut problems = Vec::new();
    for (line, cells) in &sheet.rows {
        let data = mapping.row_data(form, cells);
        let mut row_problems: Vec<RowProblem> = match validate(form, &data) {
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
                match text.parse::<i64>() {
                    Ok(id) if id > 0 => Some(id),
                    _ => {
                        row_problems.push(RowProblem {
                            line: *line,
                            column: sheet.headers.get(column).cloned().unwrap_or_default(),
                            message: format!("«{text}» no es un número de expediente"),
                        });
                        None
                    }
                }
            }
        };
        if row_problems.is_empty() {
            ready.push(ReadyRow {
                line: *line,
                data,
                expediente,
            });
        } else {
            problems.extend(row_problems);
        }
    }
    (ready, problems)
}

/// The stable key of a row: the same form and data are the same document.
pub fn row_key(form: &FormSpec, data: &Value) -> String {
    let hash = request_sha256(form.id.as_str(), data);
    format!("{KEY_PREFIX}{}", &hash[..40])
}

/// What issues the rows.
pub struct BulkIssuer {
    pub archive: Archive,
    pub renderer: Arc<Renderer>,
    pub key: Arc<OfficeKey>,
    pub base_url: String,
    pub signer: String,
    pub cargo: String,
    pub actor: String,
    pub issued_at: DateTime<Tz>,
    /// Documents rendered at once.
    pub workers: usize,
}

/// How a row ended.
#[derive(Debug, Clone)]
pub enum RowOutcome {
    Issued {
        line: usize,
        id: i64,
        folio: String,
    },
    /// Issued by an earlier run of the same rows.
    AlreadyIssued {
        line: usize,
        id: i64,
        folio: String,
    },
    Failed(RowProblem),
}

impl BulkIssuer {
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
        // Reserving one by one keeps folios in row order; `buffer_unordered`
        // pulls a reservation only when a worker is free, which bounds memory.
        let reserved = futures::stream::iter(rows)
            .take_while(|_| std::future::ready(!stop.load(Ordering::Relaxed)))
            .then(|row| {
                let form = Arc::clone(&form);
                async move {
                    let key = row_key(&form, &row.data);
                    let order = IssueOrder {
                        form: &form,
                        data: &row.data,
                        issued_at: self.issued_at,
                        actor: &self.actor,
                        expediente_id: row.expediente,
                        idempotency_key: Some(&key),
                    };
                    let reserved = self.archive.reserve(&order).await;
                    (row, key, reserved)
                }
            });
        let mut outcomes = Vec::new();
        let finished = reserved
            .map(|(row, key, reserved)| {
                let form = Arc::clone(&form);
                async move { self.finish(form, row, key, reserved).await }
            })
            .buffer_unordered(workers);
        let mut finished = std::pin::pin!(finished);
        while let Some(outcome) = finished.next().await {
            progress(&outcome);
            outcomes.push(outcome);
        }
        outcomes.sort_by_key(|o| match o {
            RowOutcome::Issued { line, .. } | RowOutcome::AlreadyIssued { line, .. } => *line,
            RowOutcome::Failed(problem) => problem.line,
        });
        outcomes
    }

    async fn finish(
        &self,
        form: Arc<FormSpec>,
        row: ReadyRow,
        key: String,
        reserved: Result<Result<crate::archive::Reservation, crate::archive::DocumentRecord>, ArchiveError>,
    ) -> RowOutcome {
        let failed = |message: String| {
            RowOutcome::Failed(RowProblem {
                line: row.line,
                column: String::new(),
                message,
            })
        };
        let reservation = match reserved {
            Ok(Ok(reservation)) => reservation,
            Ok(Err(existing)) => {
                return RowOutcome::AlreadyIssued {
                    line: row.line,
                    id: existing.id,
                    folio: existing.folio,
                };
            }
            Err(error) => return failed(error.to_string()),
        };
        let folio = reservation.folio.to_string();
        let rendered = {
            let (renderer, key, base_url) = (
                Arc::clone(&self.renderer),
                Arc::clone(&self.key),
                self.base_url.clone(),
            );
            let (form, data, issued_at) = (Arc::clone(&form), row.data.clone(), self.issued_at);
            let (signer, cargo, folio) = (self.signer.clone(), self.cargo.clone(), folio.clone());
            tokio::task::spawn_blocking(move || {
                let request = IssueRequest {
                    form: &form,
                    data: &data,
                    issued_at,
                    folio: Some(folio),
                    signer: &signer,
                    cargo: &cargo,
                };
                issue(&renderer, &key, &base_url, &request)
            })
            .await
        };
        let document = match rendered {
            Ok(Ok(document)) => document,
            Ok(Err(error)) => {
                let _ = self
                    .archive
                    .abandon(&reservation, &format!("emisión fallida: {error}"))
                    .await;
                return failed(error.to_string());
            }
            Err(error) => {
                let _ = self.archive.abandon(&reservation, "emisión fallida").await;
                return failed(error.to_string());
            }
        };
        let order = IssueOrder {
            form: &form,
            data: &row.data,
            issued_at: self.issued_at,
            actor: &self.actor,
            expediente_id: row.expediente,
            idempotency_key: Some(&key),
        };
        match self.archive.complete(&reservation, &order, &document).await {
            Ok(record) => RowOutcome::Issued {
                line: row.line,
                id: record.id,
                folio: record.folio,
            },
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

/// The problems as a CSV the clerk opens, fixes and sends again:
/// `linea,columna,problema`, in UTF-8 with a BOM so Excel reads accents.
pub fn problems_csv(problems: &[RowProblem]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let _ = writer.write_record(["linea", "columna", "problema"]);
    for problem in problems {
        let _ = writer.write_record([
            problem.line.to_string().as_str(),
            &problem.column,
            &problem.message,
        ]);
    }
    writer.into_inner().unwrap_or_default()
}
