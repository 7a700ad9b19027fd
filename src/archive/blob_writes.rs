//! Blobs stored ahead of the row that will point at them. A blob is written
//! (and read back) before its row is committed, so for a moment it is in
//! the store with no row naming it; `fsck --repair` must not take it for an
//! orphan then. An issued PDF is covered by its document's `reservado` row;
//! any other blob (a hand signature's drawing or scan) is announced in
//! `blob_writes`, committed before its bytes are stored, and the
//! announcement is withdrawn in the transaction that commits its row.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};

use super::steps::now;
use super::{Archive, ArchiveError};

/// Withdraws the announcement of a staged blob (`$1`, its write id), in the
/// transaction that commits the row pointing at the blob.
pub(super) const WITHDRAW: &str = "DELETE FROM blob_writes WHERE id = $1";

/// A blob in the store whose row is not committed yet.
#[derive(Debug)]
#[must_use = "a staged blob blocks fsck's repairs until it is committed or abandoned"]
pub struct StagedBlob {
    /// Its row in `blob_writes`.
    pub(super) write_id: i64,
    pub sha256: String,
}

impl Archive {
    /// Stores `bytes` for a row to be committed later: the write is
    /// announced first, so a concurrent `fsck --repair` leaves every orphan
    /// in place until the transaction that commits the row runs
    /// [`WITHDRAW`] on it, or [`abandon_staged`](Self::abandon_staged)
    /// withdraws it without a row.
    pub async fn stage_blob(&self, bytes: Vec<u8>) -> Result<StagedBlob, ArchiveError> {
        let started_at = now();
        let write_id: i64 = {
            let pool = self.store.pool();
            sqlx::query_scalar("INSERT INTO blob_writes (started_at) VALUES ($1) RETURNING id")
                .bind(&started_at)
                .fetch_one(pool)
                .await?
        };
        match self.blobs.put(bytes).await {
            Ok(sha256) => Ok(StagedBlob { write_id, sha256 }),
            Err(e) => {
                self.withdraw(write_id).await?;
                Err(e.into())
            }
        }
    }

    /// Withdraws the announcement of a blob whose row will not be
    /// committed: the blob stays, an orphan for the next `fsck --repair`.
    pub async fn abandon_staged(&self, staged: StagedBlob) -> Result<(), ArchiveError> {
        self.withdraw(staged.write_id).await
    }

    async fn withdraw(&self, write_id: i64) -> Result<(), ArchiveError> {
        {
            let pool = self.store.pool();
            sqlx::query(WITHDRAW).bind(write_id).execute(pool).await?;
        };
        Ok(())
    }

    /// How many blobs are being stored ahead of their rows, after clearing
    /// announcements older than `older_than` (the remains of a crash).
    pub(super) async fn blob_writes_in_progress(&self, older_than: Duration) -> Result<i64, ArchiveError> {
        let cutoff = Utc::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
        let cutoff = cutoff.to_rfc3339_opts(SecondsFormat::Micros, true);
        let count = {
            let pool = self.store.pool();
            sqlx::query("DELETE FROM blob_writes WHERE started_at < $1")
                .bind(&cutoff)
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT count(*) FROM blob_writes")
                .fetch_one(pool)
                .await?
        };
        Ok(count)
    }
}
