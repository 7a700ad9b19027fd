//! A backup whose database carries something Sello's migrations do not
//! make (here a trigger on the documents) is refused by `sello restore`,
//! naming it, even when its manifest was rewritten to match, as whoever
//! altered it would; the installation it was restored into is left as it
//! was. An honest backup of the same installation restores.

use std::io::{Read as _, Write as _};
use std::path::Path;

use sha2::Digest as _;
use sqlx::Connection as _;

use crate::backup::{command_on, issue_one, issue_one_on, manifest_of, postgres_address, sello, text};

/// A trigger that would act on every document issued after the restore.
const SQLITE_TRIGGER: &str = "CREATE TRIGGER sello_espia AFTER INSERT ON documents \
     BEGIN UPDATE documents SET data = '{}' WHERE id = new.id; END";

/// `file` rewritten with its database replaced by `database`, and its
/// manifest rewritten to give the new bytes' hash and size: consistent.
fn rewritten_with_database(file: &Path, out: &Path, database: &[u8]) {
    let mut manifest = manifest_of(file);
    let part = manifest
        .parts
        .iter_mut()
        .find(|p| p.entry.starts_with("database/"))
        .expect("a database part");
    part.sha256 = sha2::Sha256::digest(database)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    part.bytes = database.len() as u64;
    let entry_of_database = part.entry.clone();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file).expect("backup")).expect("zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out).expect("create"));
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).expect("entry");
        let name = entry.name().expect("name").into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        if name == entry_of_database {
            bytes = database.to_vec();
        } else if name == "manifest.json" {
            bytes = serde_json::to_vec_pretty(&manifest).expect("manifest");
        }
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        writer.write_all(&bytes).expect("write");
    }
    writer.finish().expect("finish");
}

/// The SQLite database inside a backup, with `statement` run on it.
fn database_altered_by(file: &Path, statement: &str) -> Vec<u8> {
    let work = tempfile::tempdir().expect("temp");
    let copy = work.path().join("sello.db");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file).expect("backup")).expect("zip");
    let mut bytes = Vec::new();
    zip.by_name("database/sello.db")
        .expect("database")
        .read_to_end(&mut bytes)
        .expect("read");
    std::fs::write(&copy, bytes).expect("copy");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let url = format!("sqlite://{}", copy.display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .expect("altered");
        connection.close().await.expect("close");
    });
    std::fs::read(&copy).expect("altered copy")
}

fn is_empty(folder: &Path) -> bool {
    std::fs::read_dir(folder).map_or(true, |mut entries| entries.next().is_none())
}

#[test]
fn an_sqlite_backup_with_a_trigger_added_and_its_manifest_rewritten_is_refused() {
    let source = tempfile::tempdir().expect("temp");
    let issued = issue_one(source.path(), "uno");
    assert_eq!(issued.status.code(), Some(0), "{}", text(&issued));
    let backup = sello(source.path(), &["backup", "--out", "r.sello"]);
    assert_eq!(backup.status.code(), Some(0), "{}", text(&backup));
    let file = source.path().join("r.sello");

    let tampered = source.path().join("alterado.sello");
    rewritten_with_database(&file, &tampered, &database_altered_by(&file, SQLITE_TRIGGER));
    let target = tempfile::tempdir().expect("temp");
    let refused = sello(target.path(), &["restore", tampered.to_str().expect("utf-8")]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("disparador «sello_espia»"),
        "{}",
        text(&refused)
    );
    assert!(is_empty(&target.path().join("data")), "nothing restored");

    // So is one that lost a constraint: two documents could share a
    // public id.
    let loosened = source.path().join("sin-restriccion.sello");
    rewritten_with_database(
        &file,
        &loosened,
        &database_altered_by(&file, "DROP INDEX documents_public_id"),
    );
    let refused = sello(target.path(), &["restore", loosened.to_str().expect("utf-8")]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("falta índice «documents_public_id»"),
        "{}",
        text(&refused)
    );
    assert!(is_empty(&target.path().join("data")), "nothing restored");

    let honest = sello(target.path(), &["restore", file.to_str().expect("utf-8")]);
    assert_eq!(honest.status.code(), Some(0), "{}", text(&honest));
    assert!(target.path().join("data/sello.db").is_file());
}

/// A fresh database on the test server, and its name.
async fn fresh_database(admin: &sqlx::PgPool) -> String {
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("random");
    let name = format!(
        "sello_restore_{}",
        random.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin)
        .await
        .expect("create database");
    name
}

#[test]
fn a_postgresql_backup_with_a_trigger_of_its_own_is_refused_and_leaves_nothing() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (store, schema) = runtime.block_on(crate::postgres());
    runtime.block_on(store.pool().close());
    let test_database = crate::postgres_url()
        .rsplit_once('/')
        .map(|(_, name)| name.split('?').next().unwrap_or_default().to_owned())
        .expect("a database name");
    let source_url = postgres_address(&test_database, schema.name());
    let source = tempfile::tempdir().expect("temp");
    let issued = issue_one_on(source.path(), Some(&source_url), "uno");
    assert_eq!(issued.status.code(), Some(0), "{}", text(&issued));
    let backup = |name: &str| {
        let run = command_on(source.path(), Some(&source_url), &["backup", "--out", name])
            .output()
            .expect("sello runs");
        assert_eq!(run.status.code(), Some(0), "{}", text(&run));
        source.path().join(name)
    };
    let honest = backup("honesto.sello");
    // The installation altered before its backup: the backup is then
    // consistent with its manifest by construction.
    runtime.block_on(async {
        let mut connection = sqlx::PgConnection::connect(&source_url).await.expect("source");
        for statement in [
            "CREATE FUNCTION sello_espia() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "CREATE TRIGGER sello_espia AFTER INSERT ON documents FOR EACH ROW EXECUTE FUNCTION sello_espia()",
        ] {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .expect("altered");
        }
        connection.close().await.expect("close");
    });
    let tampered = backup("alterado.sello");

    let admin = runtime
        .block_on(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&crate::postgres_url()),
        )
        .expect("the test PostgreSQL is running");
    let (refused_in, restored_in) =
        runtime.block_on(async { (fresh_database(&admin).await, fresh_database(&admin).await) });
    let target = tempfile::tempdir().expect("temp");
    let target_url = postgres_address(&refused_in, schema.name());
    let refused = command_on(
        target.path(),
        Some(&target_url),
        &["restore", tampered.to_str().expect("utf-8")],
    )
    .output()
    .expect("sello runs");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let said = text(&refused);
    assert!(
        said.contains("disparador «documents.sello_espia»") && said.contains("función «sello_espia()»"),
        "{said}"
    );
    let schemas_left: i64 = runtime.block_on(async {
        let mut connection = sqlx::PgConnection::connect(&target_url).await.expect("target");
        let count = sqlx::query_scalar(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1 OR nspname LIKE 'sello_comprobacion_%'",
        )
        .bind(schema.name())
        .fetch_one(&mut connection)
        .await
        .expect("schemas");
        connection.close().await.expect("close");
        count
    });
    assert_eq!(
        schemas_left, 0,
        "the restored schema dropped, no scratch schema left"
    );
    assert!(is_empty(&target.path().join("data")), "nothing restored");

    let elsewhere = tempfile::tempdir().expect("temp");
    let restored = command_on(
        elsewhere.path(),
        Some(&postgres_address(&restored_in, schema.name())),
        &["restore", honest.to_str().expect("utf-8")],
    )
    .output()
    .expect("sello runs");
    assert_eq!(restored.status.code(), Some(0), "{}", text(&restored));

    runtime.block_on(async {
        for database in [&refused_in, &restored_in] {
            let _ = sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
                .execute(&admin)
                .await;
        }
        schema.drop_now().await;
    });
}
