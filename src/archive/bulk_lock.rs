//! One bulk run at a time per office, so that a run may take every
//! unfinished bulk reservation for the remains of a killed one. How the
//! lock is held depends on the engine ([`crate::db::Dialect::bulk_lock`]).

use std::path::Path;

pub use crate::db::BulkLock;
use crate::db::LockError;

use super::{Archive, ArchiveError};

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum BulkLockError {
    #[error("ya hay otro lote emitiéndose para esta oficina; espere a que termine")]
    Busy,
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl Archive {
    /// Takes the bulk lock of this archive's office, or says it is busy.
    pub async fn lock_bulk(&self, data_dir: &Path) -> Result<BulkLock, BulkLockError> {
        let store = &self.store;
        match store
            .dialect()
            .bulk_lock(store.pool(), &self.office.code, data_dir)
            .await
        {
            Ok(lock) => Ok(lock),
            Err(LockError::Busy) => Err(BulkLockError::Busy),
            Err(LockError::Store(error)) => Err(BulkLockError::Archive(ArchiveError::Store(error))),
        }
    }
}
