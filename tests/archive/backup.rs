//! Backups that restore: `sello backup` taken while `sello bulk` issues 200
//! documents, restored into a fresh folder where every document it holds
//! verifies and `fsck` and `audit-verify` pass; private keys only with
//! their passphrase; a folder that is not empty and a damaged backup
//! refused, leaving nothing behind. The same on PostgreSQL: an
//! installation in a schema of its own, backed up while it issues, restored
//! into an empty database, without the other schemas its database held.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sello::archive::Archive;
use sello::config::Config;

fn command(dir: &Path, args: &[&str]) -> Command {
    command_on(dir, None, args)
}

/// `sello` run in `dir`, on the database at `database` (SQLite in the
/// data folder when `None`).
pub(crate) fn command_on(dir: &Path, database: Option<&str>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
    command
        .current_dir(dir)
        .args(args)
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .env("SELLO_OFFICE_CODE", "DIF-SLP");
    if let Some(database) = database {
        command.env("SELLO_DATABASE_URL", database);
    }
    command
}

pub(crate) fn sello(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("sello runs")
}

pub(crate) fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The installation `sello` uses when run in `dir`.
fn config_in(dir: &Path, database: Option<&str>) -> Config {
    let mut env = vec![
        (
            "SELLO_FORMS_DIR",
            crate::root().join("forms").display().to_string(),
        ),
        ("SELLO_OFFICE_CODE", "DIF-SLP".to_owned()),
        ("SELLO_DATA_DIR", dir.join("data").display().to_string()),
    ];
    if let Some(database) = database {
        env.push(("SELLO_DATABASE_URL", database.to_owned()));
    }
    Config::from_sources(None, env.into_iter().map(|(k, v)| (k.to_owned(), v))).expect("config")
}

/// Blobs written so far under a data folder.
fn blobs_in(data: &Path) -> usize {
    let mut count = 0;
    let mut folders = vec![data.join("documentos")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with(sello::archive::QUARANTINE) {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "pdf") {
                count += 1;
            }
        }
    }
    count
}

/// The manifest inside a backup file.
pub(crate) fn manifest_of(file: &Path) -> sello::backup::Manifest {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file).expect("backup")).expect("zip");
    let mut text = String::new();
    zip.by_name("manifest.json")
        .expect("manifest")
        .read_to_string(&mut text)
        .expect("read");
    serde_json::from_str(&text).expect("manifest JSON")
}

/// Every issued document of the installation in `dir`: (folio, PDF hash),
/// each PDF checked against the installation's own certificates.
fn verified_documents(dir: &Path) -> Vec<(String, String)> {
    verified_documents_on(dir, None)
}

/// [`verified_documents`] of an installation on the database at `database`.
fn verified_documents_on(dir: &Path, database: Option<&str>) -> Vec<(String, String)> {
    let config = config_in(dir, database);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let archive = Archive::open(&config).await.expect("archive opens");
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT folio, pdf_sha256 FROM documents WHERE status <> 'reservado' ORDER BY id")
                .fetch_all(archive.store().pool())
                .await
                .expect("documents");
        let trusted = sello::keys::trusted_keys(&config).expect("trusted keys");
        for (folio, sha256) in &rows {
            let pdf = archive
                .blobs()
                .get(sha256)
                .await
                .expect("the PDF is in the store");
            let report = sello::pdf::verify_pdf(&pdf, &trusted).expect("a PDF");
            assert!(report.is_valid(), "{folio} verifies: {report:?}");
        }
        archive.store().pool().close().await;
        rows
    })
}

fn spawn_bulk(dir: &Path, rows: usize) -> Child {
    spawn_bulk_on(dir, None, rows)
}

fn spawn_bulk_on(dir: &Path, database: Option<&str>, rows: usize) -> Child {
    std::fs::write(
        dir.join("lote.csv"),
        crate::bulk::csv_bytes(&crate::bulk::rows(rows, &[]), false),
    )
    .expect("csv");
    command_on(
        dir,
        database,
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "lote.csv",
            "--at",
            "2026-11-22",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("sello bulk runs")
}

pub(crate) fn issue_one(dir: &Path, key: &str) -> Output {
    issue_one_on(dir, None, key)
}

pub(crate) fn issue_one_on(dir: &Path, database: Option<&str>, key: &str) -> Output {
    let data = crate::root().join("forms/carta-compromiso/example.json");
    command_on(
        dir,
        database,
        &[
            "issue",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--data",
            data.to_str().expect("utf-8"),
            "--at",
            "2026-11-22",
            "--idempotency-key",
            key,
            "--json",
        ],
    )
    .output()
    .expect("sello runs")
}

#[test]
fn a_backup_taken_while_200_documents_are_issued_restores_where_every_one_verifies() {
    let source = tempfile::tempdir().expect("temp");
    let first = issue_one(source.path(), "primero");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));

    let mut bulk = spawn_bulk(source.path(), 200);
    let started = Instant::now();
    while blobs_in(&source.path().join("data")) < 6 {
        assert!(
            bulk.try_wait().expect("wait").is_none(),
            "the bulk run ended before the backup could start"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the bulk run issues nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        bulk.try_wait().expect("wait").is_none(),
        "the bulk run is still issuing"
    );
    let backup = sello(source.path(), &["backup", "--out", "respaldo.sello"]);
    assert_eq!(backup.status.code(), Some(0), "{}", text(&backup));
    let still_issuing = bulk.try_wait().expect("wait").is_none();
    assert!(
        text(&backup).contains("Las claves privadas no van en el respaldo"),
        "{}",
        text(&backup)
    );
    let finished = bulk.wait_with_output().expect("bulk ends");
    assert!(finished.status.success(), "{}", text(&finished));

    let file = source.path().join("respaldo.sello");
    let manifest = manifest_of(&file);
    assert!(manifest.documents >= 6, "{manifest:?}");
    if still_issuing {
        assert!(
            manifest.documents < 201,
            "a snapshot taken mid-run holds fewer than all: {}",
            manifest.documents
        );
    }
    assert!(!manifest.private_keys);

    let target = tempfile::tempdir().expect("temp");
    let restore = sello(target.path(), &["restore", file.to_str().expect("utf-8")]);
    assert_eq!(restore.status.code(), Some(0), "{}", text(&restore));
    for check in [&["archive", "fsck"][..], &["archive", "audit-verify"][..]] {
        let run = sello(target.path(), check);
        assert_eq!(run.status.code(), Some(0), "{check:?}: {}", text(&run));
    }
    assert!(
        !target.path().join("data/claves/oficina/clave.pem").exists(),
        "no private key unless asked"
    );

    let restored = verified_documents(target.path());
    assert_eq!(
        restored.len() as u64,
        manifest.documents,
        "every document of the snapshot"
    );
    let original = verified_documents(source.path());
    assert_eq!(original.len(), 201);
    for document in &restored {
        assert!(original.contains(document), "{document:?} is the source's");
    }
}

/// Rewrites a backup with the bytes of its first blob changed.
fn tampered_copy(file: &Path, out: &Path) {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file).expect("backup")).expect("zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out).expect("create"));
    let mut tampered = false;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).expect("entry");
        let name = entry.name().expect("name").into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        if !tampered && name.starts_with("blobs/") {
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            tampered = true;
        }
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        writer.write_all(&bytes).expect("write");
    }
    writer.finish().expect("finish");
    assert!(tampered);
}

#[test]
fn a_restore_takes_only_an_empty_folder_a_whole_backup_and_the_right_passphrase() {
    let source = tempfile::tempdir().expect("temp");
    let first = issue_one(source.path(), "uno");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let phrase = source.path().join("frase.txt");
    std::fs::write(&phrase, "caballo azul de la pampa\n").expect("phrase");
    let wrong = source.path().join("otra.txt");
    std::fs::write(&wrong, "caballo verde de la pampa\n").expect("phrase");
    let backup = sello(
        source.path(),
        &[
            "backup",
            "--out",
            "r.sello",
            "--con-claves",
            "--frase",
            "frase.txt",
        ],
    );
    assert_eq!(backup.status.code(), Some(0), "{}", text(&backup));
    let file = source.path().join("r.sello");
    assert!(manifest_of(&file).private_keys);
    let again = sello(source.path(), &["backup", "--out", "r.sello"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing backup is not overwritten"
    );

    let path = |p: &PathBuf| p.to_str().expect("utf-8").to_owned();
    let restore = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["restore".to_owned(), path(&file)];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sello(dir, &args)
    };

    // Into the source itself: refused, in Spanish, nothing touched.
    let onto_itself = restore(source.path(), &["--frase", &path(&phrase)]);
    assert_eq!(onto_itself.status.code(), Some(2), "{}", text(&onto_itself));
    assert!(
        text(&onto_itself).contains("no está vacía"),
        "{}",
        text(&onto_itself)
    );

    let target = tempfile::tempdir().expect("temp");
    let data = target.path().join("data");
    let no_phrase = restore(target.path(), &[]);
    assert_eq!(no_phrase.status.code(), Some(2), "{}", text(&no_phrase));
    assert!(text(&no_phrase).contains("--frase"), "{}", text(&no_phrase));
    let bad_phrase = restore(target.path(), &["--frase", &path(&wrong)]);
    assert_eq!(bad_phrase.status.code(), Some(2), "{}", text(&bad_phrase));
    assert!(text(&bad_phrase).contains("no abre"), "{}", text(&bad_phrase));
    assert!(!data.join("sello.db").exists());

    let damaged = target.path().join("danado.sello");
    tampered_copy(&file, &damaged);
    let refused = sello(
        target.path(),
        &["restore", &path(&damaged), "--frase", &path(&phrase)],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("no corresponde a su hash"),
        "{}",
        text(&refused)
    );
    assert!(
        std::fs::read_dir(&data).map_or(true, |mut d| d.next().is_none()),
        "a refused restore writes nothing"
    );

    let restored = restore(target.path(), &["--frase", &path(&phrase)]);
    assert_eq!(restored.status.code(), Some(0), "{}", text(&restored));
    // The signing key, and the log's key once the log was signed with it.
    assert!(source.path().join("data/claves/oficina/clave.pem").is_file());
    for key in ["oficina", "registro"] {
        let relative = format!("data/claves/{key}/clave.pem");
        if !source.path().join(&relative).exists() {
            continue;
        }
        assert_eq!(
            std::fs::read(target.path().join(&relative)).expect("restored key"),
            std::fs::read(source.path().join(&relative)).expect("source key"),
            "{relative}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(target.path().join(&relative))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{relative}");
        }
    }
    // With its keys back, the restored installation issues the next folio.
    let next = issue_one(target.path(), "dos");
    assert_eq!(next.status.code(), Some(0), "{}", text(&next));
    let report: serde_json::Value = serde_json::from_slice(&next.stdout).expect("JSON");
    assert_eq!(report["folio"], "DIF-SLP/CA/2026/0002");
    assert_eq!(verified_documents(target.path()).len(), 2);
}

/// A PostgreSQL address for `database` on the test server, whose
/// installation lives in `schema`.
pub(crate) fn postgres_address(database: &str, schema: &str) -> String {
    let base = crate::postgres_url();
    let server = base.rsplit_once('/').map_or(base.as_str(), |(server, _)| server);
    format!("{server}/{database}?options=-c%20search_path%3D{schema}")
}

#[test]
fn a_postgresql_backup_taken_while_documents_are_issued_restores_into_an_empty_database() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // The installation's schema, and another installation's beside it in
    // the same database, which is not the backup's to copy.
    let (store, schema) = runtime.block_on(crate::postgres());
    let (other_store, other) = runtime.block_on(crate::postgres());
    runtime.block_on(async {
        store.pool().close().await;
        other_store.pool().close().await;
    });
    let test_database = crate::postgres_url()
        .rsplit_once('/')
        .map(|(_, name)| name.split('?').next().unwrap_or_default().to_owned())
        .expect("a database name");
    let source_url = postgres_address(&test_database, schema.name());
    let source = tempfile::tempdir().expect("temp");
    let first = issue_one_on(source.path(), Some(&source_url), "primero");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));

    let watcher = runtime
        .block_on(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&source_url),
        )
        .expect("the source schema");
    let issued = || -> i64 {
        runtime
            .block_on(
                sqlx::query_scalar("SELECT count(*) FROM documents WHERE status <> 'reservado'")
                    .fetch_one(&watcher),
            )
            .expect("count")
    };
    let mut bulk = spawn_bulk_on(source.path(), Some(&source_url), 120);
    let started = Instant::now();
    // Committed documents, not blobs: a run writes its PDFs well ahead of
    // the rows that name them.
    while issued() < 6 {
        assert!(
            bulk.try_wait().expect("wait").is_none(),
            "the bulk run ended before the backup could start"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the bulk run issues nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let backup = command_on(
        source.path(),
        Some(&source_url),
        &["backup", "--out", "respaldo.sello"],
    )
    .output()
    .expect("sello runs");
    assert_eq!(backup.status.code(), Some(0), "{}", text(&backup));
    let still_issuing = bulk.try_wait().expect("wait").is_none();
    let finished = bulk.wait_with_output().expect("bulk ends");
    assert!(finished.status.success(), "{}", text(&finished));

    let file = source.path().join("respaldo.sello");
    let manifest = manifest_of(&file);
    assert_eq!(manifest.database, "postgres");
    assert_eq!(manifest.postgres_schema.as_deref(), Some(schema.name()));
    assert!(manifest.documents >= 6, "{manifest:?}");
    if still_issuing {
        assert!(
            manifest.documents < 121,
            "a snapshot taken mid-run holds fewer than all"
        );
    }

    // An empty database of its own, the schema's name in its address.
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("random");
    let target_database = format!(
        "sello_restore_{}",
        random.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let admin = runtime.block_on(async {
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&crate::postgres_url())
            .await
            .expect("the test PostgreSQL is running");
        sqlx::query(&format!("CREATE DATABASE {target_database}"))
            .execute(&admin)
            .await
            .expect("create database");
        admin
    });
    let target_url = postgres_address(&target_database, schema.name());

    // Not under another schema's name: the dump recreates its own.
    let elsewhere = tempfile::tempdir().expect("temp");
    let refused = command_on(
        elsewhere.path(),
        Some(&postgres_address(&target_database, "sello_otro_nombre")),
        &["restore", file.to_str().expect("utf-8")],
    )
    .output()
    .expect("sello runs");
    assert_ne!(refused.status.code(), Some(0));
    assert!(text(&refused).contains(schema.name()), "{}", text(&refused));

    let target = tempfile::tempdir().expect("temp");
    let restore = command_on(
        target.path(),
        Some(&target_url),
        &["restore", file.to_str().expect("utf-8")],
    )
    .output()
    .expect("sello runs");
    assert_eq!(restore.status.code(), Some(0), "{}", text(&restore));
    for check in [&["archive", "fsck"][..], &["archive", "audit-verify"][..]] {
        let run = command_on(target.path(), Some(&target_url), check)
            .output()
            .expect("sello runs");
        assert_eq!(run.status.code(), Some(0), "{check:?}: {}", text(&run));
    }

    let restored = verified_documents_on(target.path(), Some(&target_url));
    assert_eq!(
        restored.len() as u64,
        manifest.documents,
        "every document of the snapshot"
    );
    let original = verified_documents_on(source.path(), Some(&source_url));
    assert_eq!(original.len(), 121);
    for document in &restored {
        assert!(original.contains(document), "{document:?} is the source's");
    }

    runtime.block_on(watcher.close());
    runtime.block_on(async {
        let target_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&target_url)
            .await
            .expect("target");
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT schema_name::text FROM information_schema.schemata WHERE schema_name LIKE 'sello_test_%'",
        )
        .fetch_all(&target_pool)
        .await
        .expect("schemas");
        target_pool.close().await;
        assert_eq!(
            schemas,
            vec![schema.name().to_owned()],
            "only the installation's own schema"
        );
        let _ = sqlx::query(&format!("DROP DATABASE {target_database} WITH (FORCE)"))
            .execute(&admin)
            .await;
        schema.drop_now().await;
        other.drop_now().await;
    });
}
