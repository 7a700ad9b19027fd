//! The documents a bulk run issued and has not yet indexed, where the
//! engine indexes in batches (see [`crate::db::Dialect::index_document`]).
//! A queued document is issued and stored like any other: only its search
//! waits for the batch, and a crash leaves it queued for the next start.

use super::{Archive, ArchiveError};

impl Archive {
    /// Indexes every queued document in one transaction; returns how many.
    pub async fn index_queued(&self) -> Result<u64, ArchiveError> {
        Ok(self.store.dialect().index_queued(self.store.pool()).await?)
    }
}
