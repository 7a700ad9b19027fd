//! One bulk run at a time, so that a run may take every unfinished bulk
//! reservation for the remains of a killed one. On SQLite the database is
//! on this machine: a lock file in the data folder is enough. On PostgreSQL
//! several machines may share the database: an advisory lock held on a
//! connection of its own, released when the run ends or its process dies.

use std::path::Path;

use sqlx::Connection as _;

use super::{Archive, ArchiveError, Store, StoreError};

/// Held while a bulk run issues; dropping it releases the lock.
#[derive(Debug)]
pub enum BulkLock {
    File(std::fs::File),
    /// Taken out of the pool: closing it ends the session and its lock.
    Postgres(sqlx::PgConnection),
}

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
        let fail = |e: std::io::Error| {
            BulkLockError::Archive(ArchiveError::Store(StoreError::Invalid(format!(
                "candado del lote en {}: {e}",
                data_dir.display()
            ))))
        };
        match &self.store {
            Store::Sqlite(_) => {
                std::fs::create_dir_all(data_dir).map_err(fail)?;
                let file = std::fs::File::create(data_dir.join("lote.lock")).map_err(fail)?;
                file.try_lock().map_err(|_| BulkLockError::Busy)?;
                Ok(BulkLock::File(file))
            }
            Store::Postgres(pool) => {
                let mut connection = pool.acquire().await.map_err(ArchiveError::from)?.detach();
                // Per schema too: installations (and tests) may share a database.
                let taken: bool = sqlx::query_scalar(
                    "SELECT pg_try_advisory_lock(hashtext('sello-lote/' || current_schema() || '/' || $1)::bigint)",
                )
                .bind(&self.office.code)
                    .fetch_one(&mut connection)
                    .await
                    .map_err(ArchiveError::from)?;
                if !taken {
                    let _ = connection.close().await;
                    return Err(BulkLockError::Busy);
                }
                Ok(BulkLock::Postgres(connection))
            }
        }
    }
}
