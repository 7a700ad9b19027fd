//! `sello restore`: a backup put back into an empty installation. Every
//! part is checked against the manifest (and the private keys decrypted)
//! before anything is written, and an SQLite database against what the
//! migrations make (`schema_check`); then the key folder, the blobs and,
//! last, the database (a PostgreSQL one checked against the migrations
//! once restored, and dropped if refused); then the archive is opened and
//! checked as `fsck` and `audit-verify` do. A restore that fails part way removes what it wrote
//! into the (empty) data folder; a PostgreSQL database restored before the
//! failure is said to hold it, for the operator to drop. Every part but the
//! database is read into memory, within the limits its kind allows
//! (`Part::max_bytes`, checked when the manifest is read); the database is
//! streamed to a file.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::database::{put_back, refuse_unless_empty, sqlite_file};
use super::manifest::{MANIFEST_ENTRY, MANIFEST_MAX_BYTES, Manifest, Part, PartKind};
use super::{BackupError, Passphrase, io_error, key_files, schema_check};
use crate::archive::{Archive, BlobStore, FsckReport, sha256_hex};
use crate::config::Config;

/// What to do with the private keys a backup may hold.
#[derive(Debug, Default)]
pub struct RestoreOptions {
    /// The passphrase they were encrypted with.
    pub passphrase: Option<Passphrase>,
    /// Restore without them even if the backup has them.
    pub without_private_keys: bool,
}

/// What was restored and what the checks found.
#[derive(Debug)]
pub struct RestoreSummary {
    pub manifest: Manifest,
    pub blobs: usize,
    pub private_keys: usize,
    pub fsck: FsckReport,
}

/// Restores the backup `file` into the installation `config` describes,
/// which must be empty.
pub async fn restore(
    config: &Config,
    file: &Path,
    options: RestoreOptions,
) -> Result<RestoreSummary, BackupError> {
    let name = file.display().to_string();
    let damaged = |problem: String| BackupError::Damaged {
        file: name.clone(),
        problem,
    };
    refuse_unless_empty_installation(config).await?;

    let mut zip = zip::ZipArchive::new(File::open(file).map_err(io_error(file))?)
        .map_err(|e| damaged(format!("no es un archivo de respaldo ({e})")))?;
    let manifest = {
        let entry = zip
            .by_name(MANIFEST_ENTRY)
            .map_err(|_| damaged("no tiene manifiesto".into()))?;
        let mut bytes = Vec::new();
        entry
            .take(MANIFEST_MAX_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| damaged(format!("su manifiesto no se puede leer: {e}")))?;
        Manifest::parse(&bytes, &name)?
    };
    let database = manifest
        .database_part()
        .ok_or_else(|| damaged("no tiene una (y solo una) base de datos".into()))?
        .clone();
    let engine_fits = match database.kind {
        PartKind::SqliteDatabase => config.database_url.starts_with("sqlite:"),
        _ => !config.database_url.starts_with("sqlite:"),
    };
    if !engine_fits {
        return Err(BackupError::Refused(format!(
            "el respaldo es de una base {} y la configuración usa otra (database_url): restaure en una instalación con el mismo motor",
            manifest.database
        )));
    }

    if let Some(schema) = &manifest.postgres_schema {
        super::database::refuse_unless_schema_fits(&config.database_url, schema).await?;
    }

    // 1. Every part whole, before anything is written.
    for part in &manifest.parts {
        check_part(&mut zip, part, &damaged)?;
    }
    let private_keys = match manifest.parts.iter().find(|p| p.kind == PartKind::PrivateKeys) {
        None => Vec::new(),
        Some(_) if options.without_private_keys => Vec::new(),
        Some(part) => {
            let Some(passphrase) = &options.passphrase else {
                return Err(BackupError::Refused(
                    "el respaldo trae las claves privadas cifradas: indique su frase de paso con --frase, o restaure sin ellas con --sin-claves".into(),
                ));
            };
            key_files::open(&read_part(&mut zip, part)?, passphrase)?
        }
    };

    // 2. Into the installation; what was written goes if anything fails.
    let written = put_parts(config, &mut zip, &manifest, &database, &private_keys).await;
    let checked = match written {
        // The database is in (its tool's single transaction committed):
        // a failure now leaves it there, and the operator must know.
        Ok(blobs) => check_restored(config)
            .await
            .map(|fsck| (blobs, fsck))
            .map_err(|error| left_in_postgres(database.kind, error)),
        Err(e) => Err(e),
    };
    match checked {
        Ok((blobs, fsck)) => Ok(RestoreSummary {
            manifest,
            blobs,
            private_keys: private_keys.len(),
            fsck,
        }),
        Err(error) => {
            undo(config);
            Err(error)
        }
    }
}

/// The data folder must be empty (or not yet exist), and so must the
/// database and the blob store it names.
async fn refuse_unless_empty_installation(config: &Config) -> Result<(), BackupError> {
    let data_dir = &config.data_dir;
    if data_dir.exists() {
        let mut entries = std::fs::read_dir(data_dir).map_err(io_error(data_dir))?;
        if entries.next().is_some() {
            return Err(BackupError::Refused(format!(
                "la carpeta de datos {} no está vacía: un respaldo solo se restaura en una instalación vacía, para no mezclar ni reemplazar documentos; use una carpeta nueva (data_dir)",
                data_dir.display()
            )));
        }
    }
    refuse_unless_empty(&config.database_url).await?;
    // A folder is looked at, not opened: opening creates it.
    let blobs_hold_something = if config.blob_store.starts_with("s3://") {
        !BlobStore::open(&config.blob_store)?.list().await?.is_empty()
    } else {
        let folder = Path::new(&config.blob_store);
        std::fs::read_dir(folder).is_ok_and(|mut entries| entries.next().is_some())
    };
    if blobs_hold_something {
        return Err(BackupError::Refused(format!(
            "el almacén de documentos {} no está vacío: un respaldo solo se restaura en una instalación vacía",
            config.blob_store
        )));
    }
    Ok(())
}

fn check_part(
    zip: &mut zip::ZipArchive<File>,
    part: &Part,
    damaged: &dyn Fn(String) -> BackupError,
) -> Result<(), BackupError> {
    let entry = zip
        .by_name(&part.entry)
        .map_err(|_| damaged(format!("falta la parte «{}»", part.entry)))?;
    let mut hashing = super::manifest::Hashing::new(std::io::sink());
    // One byte more than the manifest says, to notice a longer part.
    std::io::copy(&mut entry.take(part.bytes + 1), &mut hashing)
        .map_err(|e| damaged(format!("la parte «{}» no se puede leer: {e}", part.entry)))?;
    let (sha256, bytes) = hashing.finish();
    if sha256 != part.sha256 || bytes != part.bytes {
        return Err(damaged(format!(
            "la parte «{}» no corresponde a su hash en el manifiesto",
            part.entry
        )));
    }
    Ok(())
}

/// A part checked already, in memory (a blob, a key file).
fn read_part(zip: &mut zip::ZipArchive<File>, part: &Part) -> Result<Vec<u8>, BackupError> {
    let entry = zip.by_name(&part.entry)?;
    let mut bytes = Vec::with_capacity(usize::try_from(part.bytes).unwrap_or_default());
    entry
        .take(part.bytes)
        .read_to_end(&mut bytes)
        .map_err(|e| BackupError::Io(format!("{}: {e}", part.entry)))?;
    if sha256_hex(&bytes) != part.sha256 {
        return Err(BackupError::Io(format!(
            "la parte «{}» cambió mientras se leía",
            part.entry
        )));
    }
    Ok(bytes)
}

/// Writes the key folder, the blobs and the database; the number of blobs.
/// The database is extracted first, and an SQLite one checked before
/// anything is written; a PostgreSQL one is checked once restored.
async fn put_parts(
    config: &Config,
    zip: &mut zip::ZipArchive<File>,
    manifest: &Manifest,
    database: &Part,
    private_keys: &key_files::Opened,
) -> Result<usize, BackupError> {
    let extracted = extract_database(config, zip, database)?;
    let schemas_before = match database.kind {
        PartKind::SqliteDatabase => {
            schema_check::refuse_foreign_sqlite(&extracted).await?;
            None
        }
        _ => Some(schema_check::postgres_schemas(&config.database_url).await?),
    };
    let claves = config.data_dir.join("claves");
    std::fs::create_dir_all(&claves).map_err(io_error(&claves))?;
    for part in manifest
        .parts
        .iter()
        .filter(|p| p.kind == PartKind::PublicKeyFile)
    {
        let relative = part.key_path().unwrap_or_default();
        let path = claves.join(relative);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(io_error(folder))?;
        }
        std::fs::write(&path, read_part(zip, part)?).map_err(io_error(&path))?;
    }
    for (relative, bytes) in private_keys {
        key_files::write_private(&claves, relative, bytes)?;
    }
    let blobs = BlobStore::open(&config.blob_store)?;
    let mut count = 0;
    for part in manifest.parts.iter().filter(|p| p.kind == PartKind::Blob) {
        blobs.put(read_part(zip, part)?).await?;
        count += 1;
    }
    let (kind, url) = (database.kind, config.database_url.clone());
    let target = extracted.to_path_buf();
    tokio::task::spawn_blocking(move || put_back(kind, &target, &url))
        .await
        .map_err(|e| BackupError::Io(e.to_string()))??;
    // Renamed into place for SQLite; a dump is removed.
    let _ = extracted.close();
    if let Some(before) = schemas_before {
        schema_check::refuse_foreign_postgres(
            &config.database_url,
            manifest.postgres_schema.as_deref(),
            &before,
        )
        .await?;
    }
    Ok(count)
}

/// The database part, extracted beside where it goes (so that SQLite's is
/// renamed into place) and checked against the manifest as it is written.
fn extract_database(
    config: &Config,
    zip: &mut zip::ZipArchive<File>,
    database: &Part,
) -> Result<tempfile::TempPath, BackupError> {
    let folder = match database.kind {
        PartKind::SqliteDatabase => sqlite_file(&config.database_url)
            .and_then(|f| f.parent().map(Path::to_owned))
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from(".")),
        _ => config.data_dir.clone(),
    };
    std::fs::create_dir_all(&folder).map_err(io_error(&folder))?;
    let extracted = tempfile::NamedTempFile::new_in(&folder).map_err(io_error(&folder))?;
    let mut entry = zip.by_name(&database.entry)?;
    let out = extracted.reopen().map_err(io_error(extracted.path()))?;
    let mut hashing = super::manifest::Hashing::new(out);
    // No more than the size checked, whatever the entry unpacks to.
    std::io::copy(&mut (&mut entry).take(database.bytes + 1), &mut hashing)
        .map_err(io_error(extracted.path()))?;
    if hashing.finish() != (database.sha256.clone(), database.bytes) {
        return Err(BackupError::Io(format!(
            "la parte «{}» cambió mientras se leía",
            database.entry
        )));
    }
    Ok(extracted.into_temp_path())
}

/// Opens the restored archive (upgrading an older database) and checks it.
async fn check_restored(config: &Config) -> Result<FsckReport, BackupError> {
    let archive = Archive::open(config).await?;
    let fsck = archive.fsck(false).await?;
    archive.store().pool().close().await;
    if !fsck.is_clean() {
        return Err(BackupError::Io(format!(
            "el archivo restaurado no pasa la comprobación: base de datos «{}», {} archivo(s) con problemas{}",
            fsck.database,
            fsck.problems.len(),
            match &fsck.audit.broken {
                Some(broken) => format!(", cadena de auditoría rota en el evento {}", broken.seq),
                None => String::new(),
            }
        )));
    }
    Ok(fsck)
}

/// A failure after a PostgreSQL database was restored, saying what it left:
/// the tables, which `undo` does not drop (the database is the operator's).
fn left_in_postgres(kind: PartKind, error: BackupError) -> BackupError {
    if kind != PartKind::PostgresDump {
        return error;
    }
    BackupError::Io(format!(
        "{error}. La base de datos PostgreSQL configurada quedó con lo restaurado (sus tablas): \
         bórrelas, o cree la base de nuevo, antes de volver a restaurar"
    ))
}

/// Removes what a failed restore wrote into the data folder, which was
/// empty before it started.
fn undo(config: &Config) {
    if let Ok(entries) = std::fs::read_dir(&config.data_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_after_a_postgresql_restore_says_what_it_left() {
        let failed = || BackupError::Io("el archivo restaurado no pasa la comprobación".into());
        let said = left_in_postgres(PartKind::PostgresDump, failed()).to_string();
        assert!(
            said.contains("no pasa la comprobación") && said.contains("PostgreSQL"),
            "{said}"
        );
        let said = left_in_postgres(PartKind::SqliteDatabase, failed()).to_string();
        assert!(!said.contains("PostgreSQL"), "{said}");
    }
}
