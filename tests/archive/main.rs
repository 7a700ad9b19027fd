//! The archive's storage: one conformance suite run against SQLite and
//! against the PostgreSQL at 127.0.0.1:5432 (database `test`), each test in
//! a fresh database (a temporary file, or a schema of its own).

mod folios;

use sello::archive::Store;

/// `SELLO_TEST_DATABASE_URL` overrides where the PostgreSQL tests run.
pub fn postgres_url() -> String {
    std::env::var("SELLO_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh SQLite archive in a temporary folder.
pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("sello.db").display());
    (Store::open(&url).await.expect("sqlite opens"), dir)
}

/// A fresh PostgreSQL archive in a schema of its own, dropped afterwards.
pub struct PostgresSchema {
    admin: sqlx::PgPool,
    name: String,
}

impl PostgresSchema {
    pub async fn drop_now(self) {
        let _ = sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&self.admin)
            .await;
    }
}

pub async fn postgres() -> (Store, PostgresSchema) {
    // One connection to create and drop the schema: the server's connection
    // limit is shared by every test running on the machine.
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_url())
        .await
        .expect("the test PostgreSQL is running");
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("random");
    let name = format!(
        "sello_test_{}",
        random.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&admin)
        .await
        .expect("create schema");
    let store = Store::open_postgres_schema(&postgres_url(), &name)
        .await
        .expect("postgres opens");
    (store, PostgresSchema { admin, name })
}

/// Runs one conformance test against both backends.
#[macro_export]
macro_rules! conformance {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (store, _dir) = $crate::sqlite().await;
                super::$name(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let (store, schema) = $crate::postgres().await;
                super::$name(store).await;
                schema.drop_now().await;
            }
        }
    };
}
