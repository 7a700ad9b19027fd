//! Bulk jobs started from the web app: each runs in the background while
//! its page shows progress. They live in memory; a job cut short by a
//! restart is finished by uploading the same file again (rows are
//! idempotent).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::bulk::{IssuedRow, RowProblem};
use crate::public_id::PublicId;

/// One bulk job.
#[derive(Debug)]
pub struct Job {
    /// Random, as every id in an address: it tells nothing of how many
    /// lotes this or any other office ran.
    pub id: PublicId,
    pub office_code: String,
    pub form: String,
    pub file_name: String,
    /// Its documents' people sign the printed paper (recorded on each).
    pub on_paper: bool,
    pub started: Instant,
    pub total_rows: usize,
    /// Columns of the file no field reads.
    pub unused_columns: Vec<String>,
    pub valid_rows: usize,
    /// When its documents are dated.
    pub issued_at: chrono::DateTime<chrono_tz::Tz>,
    pub done: AtomicUsize,
    pub finished: AtomicBool,
    pub problems: Mutex<Vec<RowProblem>>,
    /// What it issued, or found issued by an earlier run.
    pub documents: Mutex<Vec<IssuedRow>>,
    /// The tomos of its padrón, once issued: (document id, folio).
    pub padron: Mutex<Vec<(PublicId, String)>>,
    /// Set when the job could not run at all.
    pub failure: Mutex<Option<String>>,
}

impl Job {
    pub fn problems(&self) -> Vec<RowProblem> {
        self.problems.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Its documents in the order of the spreadsheet's rows.
    pub fn documents_in_order(&self) -> Vec<IssuedRow> {
        let mut documents = self.documents.lock().map(|d| d.clone()).unwrap_or_default();
        documents.sort_by_key(|d| d.line);
        documents
    }

    pub fn padron(&self) -> Vec<(PublicId, String)> {
        self.padron.lock().map(|p| p.clone()).unwrap_or_default()
    }

    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }
}

/// The jobs of this process.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<HashMap<PublicId, std::sync::Arc<Job>>>,
    /// Offices with a spreadsheet being read and checked.
    reading: Arc<Mutex<HashSet<String>>>,
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
    /// Records the job `make` makes with a new id.
    pub fn add(&self, make: impl FnOnce(PublicId) -> Job) -> Result<std::sync::Arc<Job>, getrandom::Error> {
        let id = PublicId::generate()?;
        let job = std::sync::Arc::new(make(id));
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.insert(id, std::sync::Arc::clone(&job));
        }
        Ok(job)
    }

    /// A job of `office`: another office's jobs are not found.
    pub fn get(&self, office: &str, id: PublicId) -> Option<std::sync::Arc<Job>> {
        let jobs = self.jobs.lock().ok()?;
        jobs.get(&id).filter(|job| job.office_code == office).cloned()
    }

    /// The jobs of `office`, newest first.
    pub fn of_office(&self, office: &str) -> Vec<std::sync::Arc<Job>> {
        let mut list: Vec<_> = self
            .jobs
            .lock()
            .map(|jobs| {
                jobs.values()
                    .filter(|j| j.office_code == office)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        list.sort_by_key(|job| std::cmp::Reverse(job.started));
        list
    }

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

    /// Whether `office` has a job still running.
    pub fn running(&self, office: &str) -> bool {
        self.of_office(office).iter().any(|job| !job.is_finished())
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
