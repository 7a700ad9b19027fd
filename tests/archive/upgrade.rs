//! An archive made before workflows keeps its users, their sessions,
//! tokens and drafts when it is opened by this version (SQLite rebuilds
//! its users table to admit the new roles).

use std::borrow::Cow;

use sello::archive::Store;
use sqlx::migrate::Migrator;

/// The migrations before workflows.
/// The migrations of `engine` before number `before`: the schema an
/// archive of an earlier release has.
pub async fn migrations_before(engine: &str, before: i64) -> Migrator {
    let mut migrator = Migrator::new(crate::root().join("migrations").join(engine))
        .await
        .expect("migrations");
    let earlier: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < before)
        .cloned()
        .collect();
    // PostgreSQL has no 0005: its search index needs no queue.
    let expected = (1..before).filter(|v| engine == "sqlite" || *v != 5).count();
    assert_eq!(earlier.len(), expected, "the migrations before {before}");
    migrator.migrations = Cow::Owned(earlier);
    migrator
}

/// The URL of a SQLite archive in `dir` as an earlier release left it:
/// migrated up to before number `before`, holding the rows `seed` inserts.
pub async fn old_sqlite_archive(dir: &std::path::Path, before: i64, seed: &[&str]) -> String {
    let url = format!("sqlite://{}", dir.join("sello.db").display());
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
    let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true).foreign_keys(true))
        .await
        .expect("connects");
    migrations_before("sqlite", before)
        .await
        .run(&pool)
        .await
        .expect("migrates");
    for statement in seed {
        sqlx::query(statement).execute(&pool).await.expect(statement);
    }
    pool.close().await;
    url
}

const SEED: [&str; 5] = [
    "INSERT INTO offices (code, name) VALUES ('DIF-SLP', 'DIF Soledad')",
    "INSERT INTO users (id, office_code, username, display_name, cargo, role, password_hash, created_at) \
     VALUES (7, 'DIF-SLP', 'ana', 'Ana López', 'Auxiliar de Área', 'capturista', 'x', '2026-01-05T10:00:00Z')",
    "INSERT INTO sessions (token_sha256, user_id, csrf_token, created_at, expires_at) \
     VALUES ('abc', 7, 'csrf', '2026-01-05T10:00:00Z', '2099-01-01T00:00:00Z')",
    "INSERT INTO api_tokens (user_id, name, token_sha256, created_at) VALUES (7, 'sistema', 'def', '2026-01-05T10:00:00Z')",
    "INSERT INTO drafts (office_code, form, data, created_by, created_at, updated_at) \
     VALUES ('DIF-SLP', 'oficio-comision', '{}', 7, '2026-01-05T10:00:00Z', '2026-01-05T10:00:00Z')",
];

#[tokio::test]
async fn a_sqlite_archive_from_before_workflows_keeps_its_users_sessions_and_drafts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = old_sqlite_archive(dir.path(), 4, &SEED).await;
    let store = Store::open(&url).await.expect("upgrades");
    assert_eq!(store.backend(), sello::archive::Backend::Sqlite);
    let pool = store.pool().clone();
    let (name, role): (String, String) = sqlx::query_as("SELECT display_name, role FROM users WHERE id = 7")
        .fetch_one(&pool)
        .await
        .expect("user kept");
    assert_eq!((name.as_str(), role.as_str()), ("Ana López", "capturista"));
    let kept: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM sessions WHERE user_id = 7), \
         (SELECT count(*) FROM api_tokens WHERE user_id = 7), (SELECT count(*) FROM drafts WHERE created_by = 7)",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(kept, (1, 1, 1));
    let violations: Vec<(String, i64, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(&pool)
        .await
        .expect("check");
    assert!(violations.is_empty(), "{violations:?}");
    // The new roles are admitted, an unknown one still is not; users still
    // cannot be removed from under their sessions.
    sqlx::query("UPDATE users SET role = 'contador' WHERE id = 7")
        .execute(&pool)
        .await
        .expect("contador admitted");
    assert!(
        sqlx::query("UPDATE users SET role = 'root' WHERE id = 7")
            .execute(&pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM users WHERE id = 7")
            .execute(&pool)
            .await
            .is_err()
    );
}

/// Documents issued and annulled before the transparency log get their
/// entries, marked late, once; the log then verifies.
#[tokio::test]
async fn a_sqlite_archive_from_before_the_log_is_backfilled_and_verifies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blobs_dir = tempfile::tempdir().expect("temp dir");
    let blobs = sello::archive::BlobStore::open(blobs_dir.path().to_str().expect("utf-8")).expect("blobs");
    let one = blobs.put(b"%PDF-1.7 uno".to_vec()).await.expect("put");
    let two = blobs.put(b"%PDF-1.7 dos".to_vec()).await.expect("put");
    let document = |number: i64, pdf: &str, status: &str, public: char| {
        format!(
            "INSERT INTO documents (office_code, series_code, year, number, folio, form, expediente_id, status, \
             data, request_sha256, code_hash, pdf_sha256, issued_at, issued_on, issued_by, reserved_at, \
             annulled_at, annulled_by, annul_reason, public_id) VALUES ('DIF-SLP', 'CA', 2026, {number}, \
             'DIF-SLP/CA/2026/000{number}', 'carta-compromiso', 1, '{status}', '{{}}', 'r{number}', 'c{number}', \
             '{pdf}', '2026-01-05T10:00:0{number}Z', '2026-01-05', 'ana', '2026-01-05T10:00:00Z', \
             CASE WHEN '{status}' = 'anulado' THEN '2026-01-06T10:00:00Z' END, 'sello', 'x', '{}')",
            public.to_string().repeat(32)
        )
    };
    let (first, second) = (
        document(1, &one, "anulado", 'a'),
        document(2, &two, "emitido", 'b'),
    );
    let seed = [
        "INSERT INTO offices (code, name) VALUES ('DIF-SLP', 'DIF Soledad')",
        "INSERT INTO series (office_code, code, name) VALUES ('DIF-SLP', 'CA', 'Cartas')",
        "INSERT INTO expedientes (office_code, kind, key, title, opened_on, retention, public_id) \
         VALUES ('DIF-SLP', 'familia', 'FAM-1', 'Familia 1', '2026-01-05', '10 años', 'cccccccccccccccccccccccccccccccc')",
        first.as_str(),
        second.as_str(),
    ];
    let url = old_sqlite_archive(dir.path(), 11, &seed).await;
    let store = Store::open(&url).await.expect("upgrades");
    let archive = sello::archive::Archive::new(
        store,
        blobs,
        sello::office::Office::new("DIF-SLP", "DIF Soledad"),
        Default::default(),
    );
    assert!(matches!(
        archive.verify_log().await.expect("runs"),
        Err(sello::archive::LogProblem::Missing { .. })
    ));
    assert_eq!(archive.backfill_log().await.expect("backfills"), 3);
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(3));
    let entries = archive.log_entries().await.expect("entries");
    let events: Vec<_> = entries.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["emision", "emision", "anulacion"]);
    for entry in &entries {
        assert!(
            entry.entry.ends_with(sello::archive::LATE_MARK),
            "{}",
            entry.entry
        );
    }
    assert_eq!(archive.backfill_log().await.expect("backfills"), 0);
    assert_eq!(archive.log_size().await.expect("size"), 3);
}
