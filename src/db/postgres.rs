//! PostgreSQL, for offices that outgrow one machine: row locks, `tsvector`
//! text search, and several machines on one database.

use std::path::Path;

use futures::future::BoxFuture;
use sqlx::AnyPool;
use sqlx::Connection as _;
use sqlx::migrate::Migrator;

use super::dialect::{BulkLock, Dialect, LockError, TextMatch};
use super::{Backend, StoreError};

static MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The PostgreSQL dialect.
pub struct Postgres;

impl Dialect for Postgres {
    fn data_field(&self, field: &'static str) -> String {
        debug_assert!(field.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        format!("(data::jsonb ->> '{field}')")
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn connection_url(&self, url: &str) -> String {
        url.to_owned()
    }

    fn max_connections(&self, shared: bool) -> u32 {
        if shared { 4 } else { 8 }
    }

    fn session_settings(&self, schema: Option<&str>) -> Result<Vec<String>, StoreError> {
        let Some(schema) = schema else {
            return Ok(Vec::new());
        };
        if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Invalid(format!(
                "«{schema}» no sirve como esquema: use letras, dígitos y «_»"
            )));
        }
        Ok(vec![format!("SET search_path TO {schema}")])
    }

    fn migrator(&self) -> &'static Migrator {
        &MIGRATIONS
    }

    fn after_migrations<'a>(&'a self, _pool: &'a AnyPool) -> BoxFuture<'a, Result<(), StoreError>> {
        // Autovacuum keeps the statistics.
        Box::pin(async { Ok(()) })
    }

    fn begin_write(&self) -> &'static str {
        "BEGIN"
    }

    fn row_lock(&self, exclusive: bool) -> &'static str {
        if exclusive { " FOR UPDATE" } else { " FOR SHARE" }
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn index_document(&self, _queued: bool) -> &'static str {
        // The index has no segments to merge: always now.
        "INSERT INTO document_search (document_id, body) VALUES ($1, to_tsvector('simple', $2))"
    }

    fn index_queued<'a>(&'a self, _pool: &'a AnyPool) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async { Ok(0) })
    }

    fn text_match(&self, terms: &[String], prefix_last: bool, _selective: bool) -> TextMatch {
        let last = terms.len().saturating_sub(1);
        let expression = terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if prefix_last && i == last {
                    format!("{t}:*")
                } else {
                    t.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" & ");
        TextMatch {
            from: "document_search s JOIN documents d ON d.id = s.document_id",
            condition: "s.body @@ to_tsquery('simple', $2)",
            expression,
            rank: "ts_rank(s.body, to_tsquery('simple', $2))::float8",
            newest_first: "d.id DESC",
        }
    }

    fn integrity_check<'a>(&'a self, _pool: &'a AnyPool) -> BoxFuture<'a, Result<String, sqlx::Error>> {
        // The server checks its own pages.
        Box::pin(async { Ok("ok".to_owned()) })
    }

    fn bulk_lock<'a>(
        &'a self,
        pool: &'a AnyPool,
        office: &'a str,
        _data_dir: &'a Path,
    ) -> BoxFuture<'a, Result<BulkLock, LockError>> {
        Box::pin(async move {
            // Several machines may share the database: an advisory lock on a
            // connection of its own. Per schema too: installations (and
            // tests) may share a database.
            let mut connection = pool.acquire().await?.detach();
            let taken: bool = sqlx::query_scalar(
                "SELECT pg_try_advisory_lock(hashtext('sello-lote/' || current_schema() || '/' || $1)::bigint)",
            )
            .bind(office)
            .fetch_one(&mut connection)
            .await?;
            if !taken {
                let _ = connection.close().await;
                return Err(LockError::Busy);
            }
            Ok(BulkLock::Session(connection))
        })
    }
}
