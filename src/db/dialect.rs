//! What differs between SQLite and PostgreSQL, and nothing else: each
//! engine implements [`Dialect`] once (`sqlite.rs`, `postgres.rs`); every
//! other query is written once for both.

use std::path::Path;

use futures::future::BoxFuture;
use sqlx::AnyPool;
use sqlx::migrate::Migrator;

use super::{Backend, StoreError};

/// Held while a bulk run issues; dropping it releases the lock.
#[derive(Debug)]
pub enum BulkLock {
    /// A lock file in the data folder, for a database on this machine.
    File(std::fs::File),
    /// A connection taken out of the pool that holds a session lock:
    /// closing it, or the death of its process, releases the lock.
    Session(sqlx::AnyConnection),
}

/// Why the bulk lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("ya hay otro lote emitiéndose para esta oficina; espere a que termine")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LockError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(error))
    }
}

/// How a full-text condition reads in one engine. The words' parameter is
/// always `$2`, so that the rank may name it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    /// The tables, text index first, joined to `documents d`.
    pub from: &'static str,
    /// The condition on the index, with `$2` for [`Self::expression`].
    pub condition: &'static str,
    /// The words as the engine's query language writes them.
    pub expression: String,
    /// A relevance, higher is better, as a double.
    pub rank: &'static str,
    /// An order that is newest first without sorting every match.
    pub newest_first: &'static str,
}

/// The genuine differences between the engines.
pub trait Dialect: Send + Sync {
    fn backend(&self) -> Backend;

    /// The address the pool connects to, from the configured one.
    fn connection_url(&self, url: &str) -> String;

    /// How many connections a pool keeps; `shared` when the database is
    /// shared with other installations (one schema each).
    fn max_connections(&self, shared: bool) -> u32;

    /// Statements every new connection runs first (`schema`: PostgreSQL's
    /// search path, for a database shared by schema).
    fn session_settings(&self, schema: Option<&str>) -> Result<Vec<String>, StoreError>;

    /// The engine's own migrations, kept in `migrations/<engine>`.
    fn migrator(&self) -> &'static Migrator;

    /// Upkeep after the migrations, on every open: SQLite refreshes the
    /// statistics its planner relies on.
    fn after_migrations<'a>(&'a self, pool: &'a AnyPool) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The statement that starts a transaction that will write.
    fn begin_write(&self) -> &'static str;

    /// Appended to a `SELECT` inside a write transaction so that the rows
    /// it reads cannot be changed, or (`exclusive`) also not locked by
    /// another writer, until it commits. Empty where the write lock of the
    /// whole database already holds.
    fn row_lock(&self, exclusive: bool) -> &'static str;

    /// Appended to the `SELECT` that picks a queued job to claim, so that
    /// concurrent claimants pass over rows another one is taking instead
    /// of waiting for it. Empty where one statement already holds the
    /// whole database's write lock.
    fn skip_locked(&self) -> &'static str;

    /// Adds a document's text to the index (`$1` the document, `$2` the
    /// text); `queued` where the engine indexes a bulk run in batches.
    fn index_document(&self, queued: bool) -> &'static str;

    /// Indexes the documents queued by [`Self::index_document`]; how many.
    fn index_queued<'a>(&'a self, pool: &'a AnyPool) -> BoxFuture<'a, Result<u64, sqlx::Error>>;

    /// A condition that every word is in a document's text, the last one
    /// also as the start of a word when `prefix_last`. `selective` when
    /// other conditions leave few documents, so the engine may start there.
    fn text_match(&self, terms: &[String], prefix_last: bool, selective: bool) -> TextMatch;

    /// A top-level text field of a document's JSON `data`, as an SQL
    /// expression (NULL when absent). `field` is a name Sello chose, never
    /// a user's text: it is written into the statement.
    fn data_field(&self, field: &'static str) -> String;

    /// The engine's own check of its files: `ok` when sound.
    fn integrity_check<'a>(&'a self, pool: &'a AnyPool) -> BoxFuture<'a, Result<String, sqlx::Error>>;

    /// Takes the lock that lets one bulk run at a time issue for `office`.
    fn bulk_lock<'a>(
        &'a self,
        pool: &'a AnyPool,
        office: &'a str,
        data_dir: &'a Path,
    ) -> BoxFuture<'a, Result<BulkLock, LockError>>;
}
