//! The database behind the archive: SQLite by default (a file in the data
//! directory, write-ahead log, synchronous writes so an acknowledged
//! document survives a crash), or PostgreSQL with `database_url =
//! "postgres://…"`. Queries use `$n` parameters, which both understand.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Which database an archive lives in.
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

/// The archive's database.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same sqlx code on whichever pool the store holds: the queries
/// are written once, the types differ per backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::archive::Store::Sqlite($pool) => $body,
            $crate::archive::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Starts a transaction that writes. SQLite takes its write lock at once
/// (`BEGIN IMMEDIATE`): a transaction that read first and wrote later could
/// otherwise fail when another writer committed in between.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send {
        self.begin()
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

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`:
    /// `sqlite://path/sello.db` or `postgres://…`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            Self::Postgres(
                PgPoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await?,
            )
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // Every commit reaches the disk before it is acknowledged.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            Self::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await?,
            )
        } else {
            return Err(StoreError::Invalid(format!(
                "«{url}» no es una dirección de base de datos: use sqlite://… o postgres://…"
            )));
        };
        store.migrate().await?;
        store.optimize().await?;
        Ok(store)
    }

    /// Refreshes the statistics the query planner relies on, where they are
    /// missing or stale. Without them SQLite may walk every document of the
    /// office for a search that should touch three. Cheap when up to date.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        if let Self::Sqlite(pool) = self {
            let mut connection = pool.acquire().await?;
            // A sample of rows per index is enough, and keeps it fast.
            sqlx::query("PRAGMA analysis_limit = 1000")
                .execute(&mut *connection)
                .await?;
            sqlx::query("PRAGMA optimize = 0x10002")
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }

    /// Opens a PostgreSQL database inside one schema, for tests and for
    /// installations that share a database.
    pub async fn open_postgres_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        let store = Self::Postgres(
            PgPoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?,
        );
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Records an office and one of its series, if not already there.
    pub async fn ensure_series(&self, office: (&str, &str), series: (&str, &str)) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(OFFICE).bind(office.0).bind(office.1).execute(&mut *tx).await?;
            sqlx::query(SERIES).bind(office.0).bind(series.0).bind(series.1).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Takes the next folio number of a series for a year, in its own
    /// transaction. Concurrent callers never get the same number.
    pub async fn next_folio_number(&self, office: &str, series: &str, year: i32) -> Result<u32, StoreError> {
        let number: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(NEXT_FOLIO).bind(office).bind(series).bind(year).fetch_one(pool).await?
        });
        u32::try_from(number)
            .map_err(|_| StoreError::Invalid(format!("número de folio fuera de rango: {number}")))
    }

    /// Runs one statement without parameters, for maintenance and tests;
    /// returns the rows it changed.
    pub async fn execute(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => sqlx::query(sql).execute(pool).await?.rows_affected()))
    }

    /// The last folio number given in a series and year (0 if none).
    pub async fn last_folio_number(&self, office: &str, series: &str, year: i32) -> Result<u32, StoreError> {
        const LAST: &str = "SELECT COALESCE(MAX(last_number), 0) FROM folio_counters \
             WHERE office_code = $1 AND series_code = $2 AND year = $3";
        let number: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(LAST).bind(office).bind(series).bind(year).fetch_one(pool).await?
        });
        Ok(u32::try_from(number).unwrap_or(0))
    }
}
