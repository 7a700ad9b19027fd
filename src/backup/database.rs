//! The database part of a backup, per engine: a snapshot taken while the
//! service writes (SQLite's `VACUUM INTO`, a transactionally consistent
//! copy; PostgreSQL's `pg_dump` on a snapshot exported from the same
//! transaction that lists the blobs), and putting it back. Kept apart from
//! `db::Dialect` because these are whole-database operations with files
//! and, for PostgreSQL, the server's own tools, not queries.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use percent_encoding::percent_decode_str;
use sqlx::Connection as _;

use super::BackupError;
use crate::archive::{Store, referenced_hashes};
use crate::db::Backend;

/// A snapshot of the database in a file, with what it names.
pub struct Snapshot {
    pub file: PathBuf,
    /// The blobs the snapshot's rows point at.
    pub blobs: BTreeSet<String>,
    /// Documents issued in the snapshot.
    pub documents: u64,
    /// PostgreSQL: the installation's own schema, the only one dumped;
    /// `None` for `public` (a database of its own, dumped whole).
    pub schema: Option<String>,
}

const ISSUED_COUNT: &str = "SELECT count(*) FROM documents WHERE status <> 'reservado'";

/// Takes a snapshot of `store` (whose address is `url`) into `folder`.
pub async fn snapshot(store: &Store, url: &str, folder: &Path) -> Result<Snapshot, BackupError> {
    match store.backend() {
        Backend::Sqlite => sqlite_snapshot(store, folder).await,
        Backend::Postgres => postgres_snapshot(store, url, folder).await,
    }
}

async fn sqlite_snapshot(store: &Store, folder: &Path) -> Result<Snapshot, BackupError> {
    let file = folder.join("sello.db");
    // One read transaction: the copy holds every transaction committed
    // before it started and none after, while writers go on (WAL).
    sqlx::query("VACUUM INTO $1")
        .bind(file.display().to_string())
        .execute(store.pool())
        .await?;
    let url = format!("{}?mode=ro", sqlite_url(&file));
    let mut copy = sqlx::AnyConnection::connect(&url).await?;
    let blobs = referenced_hashes(&mut copy).await?;
    let documents: i64 = sqlx::query_scalar(ISSUED_COUNT).fetch_one(&mut copy).await?;
    copy.close().await?;
    Ok(Snapshot {
        file,
        blobs,
        documents: u64::try_from(documents).unwrap_or_default(),
        schema: None,
    })
}

async fn postgres_snapshot(store: &Store, url: &str, folder: &Path) -> Result<Snapshot, BackupError> {
    let file = folder.join("sello.pgdump");
    let mut connection = store.pool().acquire().await?;
    let mut tx = connection.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    // pg_dump reads the very snapshot this transaction reads.
    let exported: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await?;
    let blobs = referenced_hashes(&mut tx).await?;
    let documents: i64 = sqlx::query_scalar(ISSUED_COUNT).fetch_one(&mut *tx).await?;
    // An installation in a schema of its own shares its database with
    // others: only its schema is its to copy (pg_dump ignores the
    // address's search_path and would dump every schema).
    let current: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut *tx)
        .await?;
    let schema = current.filter(|name| name != "public");
    let (dump_file, dump_url, dump_schema) = (file.clone(), url.to_owned(), schema.clone());
    let dumped = tokio::task::spawn_blocking(move || {
        let mut command = postgres_tool("pg_dump", &dump_url)?;
        command
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg(format!("--snapshot={exported}"))
            .arg(format!("--file={}", dump_file.display()));
        if let Some(schema) = dump_schema {
            // Quoted: the name itself, not a pattern.
            command.arg(format!("--schema=\"{}\"", schema.replace('"', "\"\"")));
        }
        run_tool(&mut command, "pg_dump")
    })
    .await
    .map_err(|e| BackupError::Io(format!("pg_dump: {e}")))?;
    tx.commit().await?;
    dumped?;
    Ok(Snapshot {
        file,
        blobs,
        documents: u64::try_from(documents).unwrap_or_default(),
        schema,
    })
}

/// Says why a dump of the installation's own `schema` cannot be restored
/// at `url`, if it cannot: the dump recreates that schema by name, so the
/// address must name it (its search_path) and it must not exist yet.
pub async fn refuse_unless_schema_fits(url: &str, schema: &str) -> Result<(), BackupError> {
    crate::db::install_drivers();
    let mut connection = sqlx::AnyConnection::connect(url).await?;
    let path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut connection)
        .await?;
    let exists: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1")
            .bind(schema)
            .fetch_one(&mut connection)
            .await?;
    connection.close().await?;
    let first = path
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_matches('"');
    if first != schema {
        return Err(BackupError::Refused(format!(
            "el respaldo es del esquema PostgreSQL «{schema}» y se restaura con ese nombre: configure database_url con options=-c search_path={schema} (en una base donde ese esquema no exista)"
        )));
    }
    if exists > 0 {
        return Err(BackupError::Refused(format!(
            "el esquema PostgreSQL «{schema}» ya existe en la base configurada: un respaldo solo se restaura donde no está (bórrelo si está vacío, o use otra base)"
        )));
    }
    Ok(())
}

/// One of PostgreSQL's tools (`pg_dump`, `pg_restore`) for the database at
/// `url`. The password never goes on its command line, where every user
/// of the machine reads it (`ps`, `/proc`): it goes in the child's
/// environment as `PGPASSWORD`, and the address without it.
fn postgres_tool(name: &str, url: &str) -> Result<Command, BackupError> {
    let (address, password) = without_password(url)?;
    let mut command = Command::new(name);
    command.arg(format!("--dbname={address}"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    Ok(command)
}

/// A PostgreSQL address without its password (in its user part, or a
/// `password=` parameter), and the password, percent-decoded. An address
/// that does not parse is refused rather than handed on whole, password
/// and all.
fn without_password(address: &str) -> Result<(String, Option<String>), BackupError> {
    let mut url = url::Url::parse(address).map_err(|e| {
        BackupError::Refused(format!(
            "database_url no es una dirección PostgreSQL válida ({e})"
        ))
    })?;
    let decoded = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
    let mut password = url.password().map(decoded);
    if password.is_some() {
        // Only an address with a host has a password to take out.
        let _ = url.set_password(None);
    }
    // The other parameters stay as written: re-encoding them as a form
    // would turn `%20` into `+`, which libpq does not read as a space.
    if let Some(query) = url.query().map(str::to_owned) {
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if decoded(key) == "password" {
                password = Some(decoded(value));
            } else {
                kept.push(pair);
            }
        }
        url.set_query((!kept.is_empty()).then(|| kept.join("&")).as_deref());
    }
    Ok((url.into(), password))
}

/// Runs one of PostgreSQL's tools, its complaint as the error.
fn run_tool(command: &mut Command, name: &str) -> Result<(), BackupError> {
    let output = command.output().map_err(|e| {
        BackupError::Refused(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "no se encontró «{name}»: instale las herramientas cliente de PostgreSQL (paquete postgresql-client) de la misma versión que el servidor, o superior"
            ),
            _ => format!("no se pudo ejecutar {name}: {e}"),
        })
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(BackupError::Io(format!(
        "{name} falló: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}

/// A `sqlite://` address for a file.
fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// The file an SQLite address names.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Says why the configured database cannot receive a restore, if it
/// cannot: an SQLite file that exists, a PostgreSQL database with tables.
pub async fn refuse_unless_empty(url: &str) -> Result<(), BackupError> {
    if url.starts_with("sqlite:") {
        let file = sqlite_file(url)
            .ok_or_else(|| BackupError::Refused(format!("«{url}» no nombra un archivo de base de datos")))?;
        if file.exists() {
            return Err(BackupError::Refused(format!(
                "ya existe la base de datos {}: un respaldo solo se restaura en una instalación vacía",
                file.display()
            )));
        }
        return Ok(());
    }
    crate::db::install_drivers();
    let mut connection = sqlx::AnyConnection::connect(url).await?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut connection)
    .await?;
    connection.close().await?;
    if tables > 0 {
        return Err(BackupError::Refused(
            "la base de datos PostgreSQL configurada ya tiene tablas: un respaldo solo se restaura en una base vacía (créela de nuevo o use otra)".into(),
        ));
    }
    Ok(())
}

/// Puts the database part, already extracted to `file` and checked, where
/// the configuration says.
pub fn put_back(kind: super::PartKind, file: &Path, url: &str) -> Result<(), BackupError> {
    match kind {
        super::PartKind::SqliteDatabase => {
            let target = sqlite_file(url).ok_or_else(|| {
                BackupError::Refused(format!("«{url}» no nombra un archivo de base de datos"))
            })?;
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(super::io_error(parent))?;
            }
            std::fs::File::open(file)
                .and_then(|f| f.sync_all())
                .map_err(super::io_error(file))?;
            // The file was written beside its target: a rename, never a
            // half-copied database.
            std::fs::rename(file, &target).map_err(super::io_error(&target))
        }
        super::PartKind::PostgresDump => run_tool(
            postgres_tool("pg_restore", url)?
                .arg("--no-owner")
                .arg("--no-privileges")
                .arg("--exit-on-error")
                .arg("--single-transaction")
                .arg(file),
            "pg_restore",
        ),
        _ => Err(BackupError::Io("la parte no es una base de datos".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_of_an_sqlite_address_is_read_without_its_options() {
        assert_eq!(
            sqlite_file("sqlite:///srv/sello/sello.db?mode=rwc"),
            Some(PathBuf::from("/srv/sello/sello.db"))
        );
        assert_eq!(
            sqlite_file("sqlite://data/sello.db"),
            Some(PathBuf::from("data/sello.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x/y"), None);
    }

    /// What a command would show to `ps`, and its environment.
    fn shown(command: &Command) -> (String, Vec<(String, String)>) {
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let env = command
            .get_envs()
            .filter_map(|(k, v)| {
                Some((
                    k.to_string_lossy().into_owned(),
                    v?.to_string_lossy().into_owned(),
                ))
            })
            .collect();
        (args.join(" "), env)
    }

    #[test]
    fn postgres_tools_get_the_password_in_their_environment_not_their_command_line() {
        for (url, address) in [
            (
                "postgres://sello:s%40cr3t@db.local:5432/sello?sslmode=require",
                "postgres://sello@db.local:5432/sello?sslmode=require",
            ),
            (
                "postgresql://sello@db.local/sello?password=s%40cr3t&sslmode=require",
                "postgresql://sello@db.local/sello?sslmode=require",
            ),
        ] {
            for tool in ["pg_dump", "pg_restore"] {
                let (args, env) = shown(&postgres_tool(tool, url).expect("an address"));
                assert!(!args.contains("cr3t"), "{tool}: {args}");
                assert!(args.contains(&format!("--dbname={address}")), "{tool}: {args}");
                assert_eq!(env, [("PGPASSWORD".to_owned(), "s@cr3t".to_owned())], "{tool}");
            }
        }
        let (args, env) =
            shown(&postgres_tool("pg_dump", "postgres://postgres@127.0.0.1:5432/test").expect("an address"));
        assert_eq!(args, "--dbname=postgres://postgres@127.0.0.1:5432/test");
        assert!(env.is_empty(), "no password, no PGPASSWORD");
    }

    #[test]
    fn a_password_with_the_characters_of_an_address_comes_out_whole() {
        let options = "options=-c%20search_path%3Dsello_dif";
        for (url, password) in [
            // Escaped, as an address must carry them.
            (
                "postgres://sello:a%40b%3Ac%2Fd%25e@db.local:5432/sello",
                "a@b:c/d%e",
            ),
            // An @ and a : left as typed still end where the host begins.
            ("postgres://sello:a@b:c@db.local:5432/sello", "a@b:c"),
            // In a parameter, among others kept as written.
            (
                "postgres://sello@db.local:5432/sello?password=a%40b%3Ac%2Fd%25e&options=-c%20search_path%3Dsello_dif",
                "a@b:c/d%e",
            ),
        ] {
            let (address, taken) = without_password(url).expect("an address");
            assert_eq!(taken.as_deref(), Some(password), "{url}");
            assert!(
                address.starts_with("postgres://sello@db.local:5432/sello"),
                "{address}"
            );
            for piece in ["a%40b", "a@b", "%2Fd", "d%25e"] {
                assert!(!address.contains(piece), "{address}");
            }
            if url.contains("options=") {
                assert!(address.ends_with(&format!("?{options}")), "{address}");
            }
        }
        let (address, taken) =
            without_password(&format!("postgres:///sello?host=/run/postgresql&{options}")).expect("a socket");
        assert_eq!(taken, None);
        assert_eq!(
            address,
            format!("postgres:///sello?host=/run/postgresql&{options}")
        );
        // A / or # left as typed ends the host part early: such an address
        // does not parse, and its password never reaches a command line.
        for url in [
            "postgres://sello:se/creta@db.local:5432/sello",
            "postgres://sello:se#creta@db.local:5432/sello",
        ] {
            match postgres_tool("pg_dump", url) {
                Ok(command) => assert!(!shown(&command).0.contains("creta"), "{url}"),
                Err(error) => assert!(!error.to_string().contains("creta"), "{error}"),
            }
        }
    }
}
