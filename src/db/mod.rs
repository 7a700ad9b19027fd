//! The database behind the archive and the accounts: SQLite by default (a
//! file in the data directory, write-ahead log, synchronous writes so an
//! acknowledged document survives a crash), or PostgreSQL with
//! `database_url = "postgres://…"`.
//!
//! Queries are written once, with `$n` parameters both engines understand,
//! against sqlx's `Any` driver; what genuinely differs between the engines
//! (text search, row locks, the bulk lock, integrity checks, start-up
//! upkeep) is behind [`Dialect`], with one implementation per engine.

mod dialect;
mod postgres;
mod sqlite;

use std::sync::Once;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub use dialect::{BulkLock, Dialect, LockError, TextMatch};

/// Which database a store lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A storage failure; the cause is for the log, not for the clerk.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("base de datos: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migraciones de la base de datos: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
    /// No random bits for a new public id.
    #[error("generador aleatorio del sistema: {0}")]
    Random(#[from] getrandom::Error),
}

/// A transaction on the store, of either engine.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The database: a pool of connections and the dialect of its engine.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: &'static dyn Dialect,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Records an office, if not already there.
pub(crate) const OFFICE: &str =
    "INSERT INTO offices (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING";
/// Records a series of an office, if not already there.
pub(crate) const SERIES: &str = "INSERT INTO series (office_code, code, name) VALUES ($1, $2, $3) \
     ON CONFLICT (office_code, code) DO NOTHING";

/// Increments a series' counter for a year, creating it at 1.
pub(crate) const NEXT_FOLIO: &str = "INSERT INTO folio_counters (office_code, series_code, year, last_number) \
     VALUES ($1, $2, $3, 1) \
     ON CONFLICT (office_code, series_code, year) \
     DO UPDATE SET last_number = folio_counters.last_number + 1 \
     RETURNING last_number";

/// The migrations every database of `backend` is made by (a restore
/// compares a backup's database with what they make).
pub fn migrations(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => sqlite::Sqlite.migrator(),
        Backend::Postgres => postgres::Postgres.migrator(),
    }
}

/// The drivers the `Any` pool and connections dispatch to, registered once
/// per process.
pub fn install_drivers() {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`:
    /// `sqlite://path/sello.db` or `postgres://…`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let dialect: &'static dyn Dialect =
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                &postgres::Postgres
            } else if url.starts_with("sqlite:") {
                &sqlite::Sqlite
            } else {
                return Err(StoreError::Invalid(format!(
                    "«{url}» no es una dirección de base de datos: use sqlite://… o postgres://…"
                )));
            };
        Self::connect(dialect, url, None).await
    }

    /// Opens a PostgreSQL database inside one schema, for tests and for
    /// installations that share a database.
    pub async fn open_postgres_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        Self::connect(&postgres::Postgres, url, Some(schema)).await
    }

    async fn connect(
        dialect: &'static dyn Dialect,
        url: &str,
        schema: Option<&str>,
    ) -> Result<Self, StoreError> {
        install_drivers();
        let session = dialect.session_settings(schema)?;
        let pool = AnyPoolOptions::new()
            .max_connections(dialect.max_connections(schema.is_some()))
            .after_connect(move |connection, _| {
                let session = session.clone();
                Box::pin(async move {
                    for statement in session {
                        sqlx::query(&statement).execute(&mut *connection).await?;
                    }
                    Ok(())
                })
            })
            .connect(&dialect.connection_url(url))
            .await?;
        let store = Self { pool, dialect };
        dialect.migrator().run(&store.pool).await?;
        dialect.after_migrations(&store.pool).await?;
        Ok(store)
    }

    /// The pool, for queries both engines run alike.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// What differs between the engines.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    pub fn backend(&self) -> Backend {
        self.dialect.backend()
    }

    /// Starts a transaction that writes. SQLite takes its write lock at
    /// once (`BEGIN IMMEDIATE`): a transaction that read first and wrote
    /// later could otherwise fail when another writer committed in between.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        self.pool.begin_with(self.dialect.begin_write()).await
    }

    /// Refreshes what the query planner relies on, where the engine needs
    /// it (see [`Dialect::after_migrations`]).
    pub async fn optimize(&self) -> Result<(), StoreError> {
        self.dialect.after_migrations(&self.pool).await
    }

    /// Records an office and one of its series, if not already there.
    pub async fn ensure_series(&self, office: (&str, &str), series: (&str, &str)) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(OFFICE)
            .bind(office.0)
            .bind(office.1)
            .execute(&mut *tx)
            .await?;
        sqlx::query(SERIES)
            .bind(office.0)
            .bind(series.0)
            .bind(series.1)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the next folio number of a series for a year, in its own
    /// transaction. Concurrent callers never get the same number.
    pub async fn next_folio_number(&self, office: &str, series: &str, year: i32) -> Result<u32, StoreError> {
        let number: i64 = sqlx::query_scalar(NEXT_FOLIO)
            .bind(office)
            .bind(series)
            .bind(year)
            .fetch_one(&self.pool)
            .await?;
        u32::try_from(number)
            .map_err(|_| StoreError::Invalid(format!("número de folio fuera de rango: {number}")))
    }

    /// Runs one statement without parameters, for maintenance and tests;
    /// returns the rows it changed.
    pub async fn execute(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql).execute(&self.pool).await?.rows_affected())
    }

    /// The last folio number given in a series and year (0 if none).
    pub async fn last_folio_number(&self, office: &str, series: &str, year: i32) -> Result<u32, StoreError> {
        const LAST: &str = "SELECT COALESCE(MAX(last_number), 0) FROM folio_counters \
             WHERE office_code = $1 AND series_code = $2 AND year = $3";
        let number: i64 = sqlx::query_scalar(LAST)
            .bind(office)
            .bind(series)
            .bind(year)
            .fetch_one(&self.pool)
            .await?;
        Ok(u32::try_from(number).unwrap_or(0))
    }
}

/// A yes/no column: PostgreSQL stores `BOOLEAN`, SQLite an integer, and
/// the `Any` driver decodes each only as what it is. Read such columns
/// through this (`#[sqlx(try_from = "Flag")]` on a row's field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <bool as sqlx::Type<sqlx::Any>>::compatible(ty) || <i64 as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<sqlx::Any>>::decode(value.clone()) {
            Ok(flag) => Ok(Self(flag)),
            Err(_) => <i64 as sqlx::Decode<sqlx::Any>>::decode(value).map(|n| Self(n != 0)),
        }
    }
}

impl From<Flag> for bool {
    fn from(flag: Flag) -> Self {
        flag.0
    }
}
