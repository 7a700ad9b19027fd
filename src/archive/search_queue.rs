//! The documents a bulk run issued and has not yet indexed (SQLite only).
//! FTS5 writes one segment per transaction; indexing a run's cartas in
//! batches keeps its merges from growing with the archive. A queued
//! document is issued and stored like any other: only its search waits for
//! the batch, and a crash leaves it queued for the next start.

use super::store::BeginWrite as _;
use super::{Archive, ArchiveError, Store};

impl Archive {
    /// Indexes every queued document in one transaction; returns how many.
    pub async fn index_queued(&self) -> Result<u64, ArchiveError> {
        let Store::Sqlite(pool) = &self.store else {
            return Ok(0);
        };
        // Most opens find nothing queued: they need not wait for the lock.
        let queued: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM search_queue)")
            .fetch_one(pool)
            .await?;
        if !queued {
            return Ok(0);
        }
        let mut tx = pool.begin_write().await?;
        let indexed = sqlx::query(
            "INSERT INTO document_search (rowid, body) SELECT document_id, body FROM search_queue",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM search_queue").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(indexed)
    }
}
