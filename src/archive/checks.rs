//! Checks of a whole archive: the audit chain (`sello archive audit-verify`)
//! and the PDFs against their rows (`sello archive fsck`).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::audit::AUDIT_COLUMNS;
use super::audit::{AuditEvent, ChainBreak, GENESIS, check_batch};
use super::blobs::BlobError;
use super::issue_protocol::INTERRUPTED_AFTER;
use super::{Archive, ArchiveError};

/// What `audit-verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub events: i64,
    pub last_hash: String,
    /// The first place the chain is broken, if any.
    pub broken: Option<ChainBreak>,
}

/// A row whose blob (a PDF, a drawing, a scan) is missing or damaged.
#[derive(Debug, Clone, Serialize)]
pub struct BlobProblem {
    /// The folio of the document the blob belongs to; empty for a draft's.
    pub folio: String,
    /// Which file: «el PDF», «el escaneo de la firma en papel n.º 3»…
    pub what: String,
    pub sha256: String,
    pub problem: String,
}

/// What `fsck` found (and, with repair, did).
#[derive(Debug, Clone, Serialize)]
pub struct FsckReport {
    /// `ok`, or what the database's own integrity check says.
    pub database: String,
    /// Documents' PDFs read back: as issued, and as extended later.
    pub documents_checked: usize,
    /// Rows of every kind (documents, hand signatures) whose blob was read
    /// back against its hash.
    pub blobs_checked: usize,
    pub blobs_in_store: usize,
    pub problems: Vec<BlobProblem>,
    /// Blobs no row of any kind points at.
    pub orphans: Vec<String>,
    /// Orphans moved to [`quarantine`](Self::quarantine) by `--repair`;
    /// nothing is ever deleted.
    pub orphans_quarantined: usize,
    /// Where quarantined blobs are kept.
    pub quarantine: String,
    /// Referenced blobs found in quarantine and moved back by `--repair`.
    pub restored: Vec<String>,
    /// Folios of issuances interrupted by a crash, now recorded as annulled.
    pub interrupted: Vec<String>,
    /// Documents a bulk run (crashed, or still under way) had queued for
    /// search, indexed now.
    pub search_indexed: u64,
    pub audit: AuditReport,
}

impl FsckReport {
    /// Whether every row's blob is whole. Orphans do not count: a crash
    /// between storing a blob and committing its row leaves one, which only
    /// takes space.
    pub fn is_clean(&self) -> bool {
        self.database == "ok" && self.problems.is_empty() && self.audit.broken.is_none()
    }
}

/// Events are checked in batches, so a long trail never sits in memory.
const BATCH: i64 = 5_000;

impl Archive {
    /// Re-hashes the audit chain from the first event to the head.
    pub async fn verify_audit(&self) -> Result<AuditReport, ArchiveError> {
        let events_sql =
            format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2");
        // The head is read first: events appended while checking are left
        // for the next check, not taken for a break.
        let head: (i64, String) = {
            let pool = self.store.pool();
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(pool)
                .await?
        };
        let mut last = (0_i64, GENESIS.to_owned());
        while last.0 < head.0 {
            let limit = BATCH.min(head.0 - last.0);
            let events: Vec<AuditEvent> = {
                let pool = self.store.pool();
                sqlx::query_as(&events_sql)
                    .bind(last.0)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            };
            if events.is_empty() {
                break;
            }
            match check_batch(&events, last.clone()) {
                Ok(position) => last = position,
                Err(broken) => {
                    return Ok(AuditReport {
                        events: last.0,
                        last_hash: last.1,
                        broken: Some(broken),
                    });
                }
            }
        }
        let broken = (head != last).then(|| ChainBreak {
            seq: last.0 + 1,
            problem: format!(
                "la cabeza de la cadena indica {} eventos, pero la cadena termina en el {}: faltan eventos al final",
                head.0, last.0
            ),
        });
        Ok(AuditReport {
            events: last.0,
            last_hash: last.1,
            broken,
        })
    }

    /// Checks every blob a row points at (PDFs, hand-signature drawings
    /// and scans) against its hash, finds blobs no row points at, records
    /// interrupted issuances as annulled and indexes documents left queued
    /// for search. With `repair`, moves the orphans to quarantine (never
    /// deletes them) and brings back from quarantine any blob a row points
    /// at, but only while no issuance is in progress and no other blob is
    /// staged (each is stored just before its row is committed).
    pub async fn fsck(&self, repair: bool) -> Result<FsckReport, ArchiveError> {
        let interrupted = self.recover_interrupted(INTERRUPTED_AFTER).await?;
        let search_indexed = self.index_queued().await?;
        let database = self.store.dialect().integrity_check(self.store.pool()).await?;
        // Blobs are listed first, then issuances in progress and staged
        // blobs are counted, then references read: a blob in the listing is
        // either of a write still in progress (and nothing is moved), or its
        // row was committed before the references are read.
        let in_store = self.blobs.list().await?;
        let in_progress: i64 = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT count(*) FROM documents WHERE status = 'reservado'")
                .fetch_one(pool)
                .await?
        };
        let staged = self.blob_writes_in_progress(INTERRUPTED_AFTER).await?;
        let references = self.blob_references().await?;
        let may_move = repair && in_progress == 0 && staged == 0;
        let mut problems = Vec::new();
        let mut restored = Vec::new();
        let mut states: HashMap<&str, BlobState> = HashMap::new();
        for reference in &references {
            let sha256 = reference.sha256.as_str();
            if !states.contains_key(sha256) {
                let mut state = self.check_blob(sha256).await?;
                if may_move && matches!(state, BlobState::Missing { in_quarantine: true }) {
                    self.blobs.restore(sha256).await?;
                    restored.push(sha256.to_owned());
                    state = BlobState::Whole;
                }
                states.insert(sha256, state);
            }
            if states.get(sha256).is_some_and(|s| !matches!(s, BlobState::Whole)) {
                let owner = self.owner_of(reference).await?;
                problems.push(BlobProblem {
                    folio: owner.folio,
                    problem: states[sha256].problem(&owner.what).unwrap_or_default(),
                    what: owner.what,
                    sha256: sha256.to_owned(),
                });
            }
        }
        let referenced: HashSet<&str> = references.iter().map(|r| r.sha256.as_str()).collect();
        let orphans: Vec<String> = in_store
            .iter()
            .filter(|sha| !referenced.contains(sha.as_str()))
            .cloned()
            .collect();
        let mut orphans_quarantined = 0;
        if may_move {
            for orphan in &orphans {
                self.blobs.quarantine(orphan).await?;
                orphans_quarantined += 1;
            }
        }
        Ok(FsckReport {
            database,
            documents_checked: references
                .iter()
                .filter(|r| matches!(r.table, "documents" | "document_extensions"))
                .count(),
            blobs_checked: references.len(),
            blobs_in_store: in_store.len(),
            problems,
            orphans,
            orphans_quarantined,
            quarantine: self.blobs.quarantine_location(),
            restored,
            interrupted,
            search_indexed,
            audit: self.verify_audit().await?,
        })
    }

    async fn check_blob(&self, sha256: &str) -> Result<BlobState, ArchiveError> {
        Ok(match self.blobs.get(sha256).await {
            Ok(_) => BlobState::Whole,
            Err(BlobError::Missing(_)) => BlobState::Missing {
                in_quarantine: self.blobs.in_quarantine(sha256).await?,
            },
            Err(BlobError::Corrupt { found, .. }) => BlobState::Damaged(found),
            Err(BlobError::Io(e)) => BlobState::Unreadable(e),
        })
    }
}

/// What a referenced blob was found to be.
enum BlobState {
    Whole,
    Missing {
        in_quarantine: bool,
    },
    /// Its bytes hash to this instead.
    Damaged(String),
    Unreadable(String),
}

impl BlobState {
    /// The problem, said of the file named `what`; none if it is whole.
    fn problem(&self, what: &str) -> Option<String> {
        Some(match self {
            Self::Whole => return None,
            Self::Missing { in_quarantine: false } => format!("falta {what} en el almacén"),
            Self::Missing { in_quarantine: true } => {
                format!("falta {what} en el almacén; está en la cuarentena y «fsck --repair» lo devuelve")
            }
            Self::Damaged(found) => format!("{what} guardado está dañado (su hash es {found})"),
            Self::Unreadable(e) => format!("no se pudo leer {what}: {e}"),
        })
    }
}
