//! Checks of a whole archive: the audit chain (`sello archive audit-verify`)
//! and the PDFs against their rows (`sello archive fsck`).

use serde::Serialize;

use super::audit::AUDIT_COLUMNS;
use super::audit::{AuditEvent, ChainBreak, GENESIS, check_batch};
use super::blobs::BlobError;
use super::issuing::INTERRUPTED_AFTER;
use super::store::on_pool;
use super::{Archive, ArchiveError, Backend};

/// What `audit-verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub events: i64,
    pub last_hash: String,
    /// The first place the chain is broken, if any.
    pub broken: Option<ChainBreak>,
}

/// A document whose PDF is missing or damaged.
#[derive(Debug, Clone, Serialize)]
pub struct BlobProblem {
    pub folio: String,
    pub sha256: String,
    pub problem: String,
}

/// What `fsck` found (and, with repair, did).
#[derive(Debug, Clone, Serialize)]
pub struct FsckReport {
    /// `ok`, or what the database's own integrity check says.
    pub database: String,
    pub documents_checked: usize,
    pub blobs_in_store: usize,
    pub problems: Vec<BlobProblem>,
    /// Blobs no document points at.
    pub orphans: Vec<String>,
    pub orphans_removed: usize,
    /// Folios of issuances interrupted by a crash, now recorded as annulled.
    pub interrupted: Vec<String>,
    /// Documents a bulk run (crashed, or still under way) had queued for
    /// search, indexed now.
    pub search_indexed: u64,
    pub audit: AuditReport,
}

impl FsckReport {
    /// Whether every document is whole. Orphans do not count: a crash
    /// between storing a PDF and committing leaves one, which only takes
    /// space.
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
        let head: (i64, String) = on_pool!(&self.store, pool => {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(pool).await?
        });
        let mut last = (0_i64, GENESIS.to_owned());
        while last.0 < head.0 {
            let limit = BATCH.min(head.0 - last.0);
            let events: Vec<AuditEvent> = on_pool!(&self.store, pool => {
                sqlx::query_as(&events_sql).bind(last.0).bind(limit).fetch_all(pool).await?
            });
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

    /// Checks every stored PDF against its row's hash, finds blobs no row
    /// points at, records interrupted issuances as annulled and indexes
    /// documents left queued for search. With `repair`, removes the
    /// orphans, but only while no issuance is in progress (an issuance
    /// stores its PDF just before committing).
    pub async fn fsck(&self, repair: bool) -> Result<FsckReport, ArchiveError> {
        let interrupted = self.recover_interrupted(INTERRUPTED_AFTER).await?;
        let search_indexed = self.index_queued().await?;
        let database = match self.store.backend() {
            Backend::Sqlite => on_pool!(&self.store, pool => {
                let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(pool).await?;
                lines.join("; ")
            }),
            Backend::Postgres => "ok".to_owned(),
        };
        // Blobs are listed before rows are read: a PDF stored after this
        // point is not taken for an orphan.
        let in_store = self.blobs.list().await?;
        // One statement, so one snapshot on both databases: the PDFs rows
        // point at and the issuances still in progress.
        let found: Vec<(String, Option<String>, String)> = on_pool!(&self.store, pool => {
            sqlx::query_as(
                "SELECT folio, pdf_sha256, status FROM documents \
                 WHERE pdf_sha256 IS NOT NULL OR status = 'reservado' ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        });
        let in_progress = found
            .iter()
            .filter(|(_, _, status)| status == "reservado")
            .count();
        let rows: Vec<(String, String)> = found
            .into_iter()
            .filter_map(|(folio, sha256, _)| sha256.map(|sha256| (folio, sha256)))
            .collect();
        let mut problems = Vec::new();
        for (folio, sha256) in &rows {
            let problem = match self.blobs.get(sha256).await {
                Ok(_) => continue,
                Err(BlobError::Missing(_)) => "falta el PDF en el almacén".to_owned(),
                Err(BlobError::Corrupt { found, .. }) => {
                    format!("el PDF guardado está dañado (su hash es {found})")
                }
                Err(other) => other.to_string(),
            };
            problems.push(BlobProblem {
                folio: folio.clone(),
                sha256: sha256.clone(),
                problem,
            });
        }
        let referenced: std::collections::HashSet<&str> = rows.iter().map(|(_, sha)| sha.as_str()).collect();
        let orphans: Vec<String> = in_store
            .iter()
            .filter(|sha| !referenced.contains(sha.as_str()))
            .cloned()
            .collect();
        let mut orphans_removed = 0;
        if repair && in_progress == 0 {
            for orphan in &orphans {
                self.blobs.remove(orphan).await?;
                orphans_removed += 1;
            }
        }
        Ok(FsckReport {
            database,
            documents_checked: rows.len(),
            blobs_in_store: in_store.len(),
            problems,
            orphans,
            orphans_removed,
            interrupted,
            search_indexed,
            audit: self.verify_audit().await?,
        })
    }
}
