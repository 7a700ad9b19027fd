//! SQLite, the embedded default: one file, one writer at a time, FTS5 for
//! text search.

use std::path::Path;

use futures::future::BoxFuture;
use sqlx::AnyPool;
use sqlx::migrate::Migrator;

use super::dialect::{BulkLock, Dialect, LockError, TextMatch};
use super::{Backend, StoreError};

static MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

/// The SQLite dialect.
pub struct Sqlite;

impl Dialect for Sqlite {
    fn data_field(&self, field: &'static str) -> String {
        debug_assert!(field.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        format!("json_extract(data, '$.{field}')")
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn connection_url(&self, url: &str) -> String {
        // Created on first use.
        if url.contains("mode=") {
            url.to_owned()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        }
    }

    fn max_connections(&self, _shared: bool) -> u32 {
        4
    }

    fn session_settings(&self, schema: Option<&str>) -> Result<Vec<String>, StoreError> {
        if schema.is_some() {
            return Err(StoreError::Invalid("SQLite no tiene esquemas".into()));
        }
        Ok(vec![
            "PRAGMA journal_mode = WAL".into(),
            // Every commit reaches the disk before it is acknowledged.
            "PRAGMA synchronous = FULL".into(),
            "PRAGMA foreign_keys = ON".into(),
            "PRAGMA busy_timeout = 30000".into(),
        ])
    }

    fn migrator(&self) -> &'static Migrator {
        &MIGRATIONS
    }

    fn after_migrations<'a>(&'a self, pool: &'a AnyPool) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // Without statistics SQLite may walk every document of the
            // office for a search that should touch three. A sample of rows
            // per index is enough, and keeps it fast; cheap when up to date.
            let mut connection = pool.acquire().await?;
            sqlx::query("PRAGMA analysis_limit = 1000")
                .execute(&mut *connection)
                .await?;
            sqlx::query("PRAGMA optimize = 0x10002")
                .execute(&mut *connection)
                .await?;
            Ok(())
        })
    }

    fn begin_write(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }

    fn row_lock(&self, _exclusive: bool) -> &'static str {
        // `BEGIN IMMEDIATE` holds the database's one write lock already.
        ""
    }

    fn skip_locked(&self) -> &'static str {
        // An `UPDATE … RETURNING` runs under the one write lock: no other
        // claimant sees the row between its choice and its update.
        ""
    }

    fn index_document(&self, queued: bool) -> &'static str {
        // FTS5 writes one segment per transaction; a bulk run's documents
        // are indexed in batches so that its merges do not grow with the
        // archive.
        if queued {
            "INSERT INTO search_queue (document_id, body) VALUES ($1, $2)"
        } else {
            "INSERT INTO document_search (rowid, body) VALUES ($1, $2)"
        }
    }

    fn index_queued<'a>(&'a self, pool: &'a AnyPool) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            // Most opens find nothing queued: they need not wait for the lock.
            let queued: i64 = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM search_queue)")
                .fetch_one(pool)
                .await?;
            if queued == 0 {
                return Ok(0);
            }
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let indexed = sqlx::query(
                "INSERT INTO document_search (rowid, body) SELECT document_id, body FROM search_queue",
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM search_queue").execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(indexed)
        })
    }

    fn text_match(&self, terms: &[String], prefix_last: bool, selective: bool) -> TextMatch {
        let last = terms.len().saturating_sub(1);
        let expression = terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if prefix_last && i == last {
                    format!("\"{t}\"*")
                } else {
                    format!("\"{t}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        TextMatch {
            // Unless other conditions are selective, the index must come
            // first (CROSS JOIN fixes the order), or SQLite walks every
            // document.
            from: if selective {
                "document_search JOIN documents d ON d.id = document_search.rowid"
            } else {
                "document_search CROSS JOIN documents d ON d.id = document_search.rowid"
            },
            condition: "document_search MATCH $2",
            expression,
            rank: "-bm25(document_search)",
            // The index keeps its entries in document order.
            newest_first: "document_search.rowid DESC",
        }
    }

    fn integrity_check<'a>(&'a self, pool: &'a AnyPool) -> BoxFuture<'a, Result<String, sqlx::Error>> {
        Box::pin(async move {
            let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_all(pool)
                .await?;
            Ok(lines.join("; "))
        })
    }

    fn bulk_lock<'a>(
        &'a self,
        _pool: &'a AnyPool,
        _office: &'a str,
        data_dir: &'a Path,
    ) -> BoxFuture<'a, Result<BulkLock, LockError>> {
        Box::pin(async move {
            // The database is on this machine: a lock file is enough.
            let fail = |e: std::io::Error| {
                LockError::Store(StoreError::Invalid(format!(
                    "candado del lote en {}: {e}",
                    data_dir.display()
                )))
            };
            std::fs::create_dir_all(data_dir).map_err(fail)?;
            let file = std::fs::File::create(data_dir.join("lote.lock")).map_err(fail)?;
            file.try_lock().map_err(|_| LockError::Busy)?;
            Ok(BulkLock::File(file))
        })
    }
}
