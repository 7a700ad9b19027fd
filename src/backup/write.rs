//! `sello backup`: one file with a snapshot of the database, the blobs it
//! names, the key folder's public files, optionally the private keys
//! (encrypted), and the manifest. Written aside and moved into place only
//! when whole; an existing file is never overwritten.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::database::snapshot;
use super::manifest::{
    DATABASE_POSTGRES_ENTRY, DATABASE_SQLITE_ENTRY, FORMAT, Hashing, KEYS_PREFIX, MANIFEST_ENTRY, Manifest,
    PRIVATE_KEYS_ENTRY, Part, PartKind, VERSION, blob_entry,
};
use super::{BackupError, Passphrase, io_error, key_files};
use crate::archive::Archive;
use crate::config::Config;
use crate::db::Backend;
use crate::keys::KeyTurns;

/// What to put in a backup besides the database, blobs and public keys.
#[derive(Debug, Default)]
pub struct BackupOptions {
    /// The private keys, encrypted with this passphrase; `None` leaves
    /// them out.
    pub private_keys: Option<Passphrase>,
}

/// What a backup holds, for the operator.
#[derive(Debug)]
pub struct BackupSummary {
    pub manifest: Manifest,
    pub bytes: u64,
    /// Private key files found and left out (relative to the key folder).
    pub private_keys_left_out: Vec<PathBuf>,
}

/// Writes a backup of the installation `config` describes, whose archive
/// is `archive`, to `out` (which must not exist).
pub async fn backup(
    config: &Config,
    archive: &Archive,
    out: &Path,
    options: BackupOptions,
) -> Result<BackupSummary, BackupError> {
    if out.exists() {
        return Err(BackupError::Refused(format!(
            "{} ya existe: Sello no sobrescribe un respaldo; elija otro nombre",
            out.display()
        )));
    }
    let folder = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Beside the output: the snapshot may be as large as the database.
    let staging = tempfile::Builder::new()
        .prefix(".sello-respaldo-")
        .tempdir_in(folder)
        .map_err(io_error(folder))?;
    let snap = snapshot(archive.store(), &config.database_url, staging.path()).await?;

    let temp = tempfile::NamedTempFile::new_in(folder).map_err(io_error(folder))?;
    let mut zip = zip::ZipWriter::new(temp.reopen().map_err(io_error(temp.path()))?);
    let mut parts = Vec::new();

    let (entry, kind, method) = match archive.store().backend() {
        Backend::Sqlite => (
            DATABASE_SQLITE_ENTRY,
            PartKind::SqliteDatabase,
            CompressionMethod::Deflated,
        ),
        // A custom-format dump is compressed already.
        Backend::Postgres => (
            DATABASE_POSTGRES_ENTRY,
            PartKind::PostgresDump,
            CompressionMethod::Stored,
        ),
    };
    let database_options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(true);
    zip.start_file(entry, database_options)?;
    let mut source = File::open(&snap.file).map_err(io_error(&snap.file))?;
    let mut hashing = Hashing::new(&mut zip);
    std::io::copy(&mut source, &mut hashing).map_err(io_error(out))?;
    parts.push(part(entry, kind, hashing.finish()));
    drop(source);
    std::fs::remove_file(&snap.file).map_err(io_error(&snap.file))?;

    // PDFs are compressed already.
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for sha256 in &snap.blobs {
        let bytes = archive.blobs().get(sha256).await?;
        let entry = blob_entry(sha256);
        zip.start_file(entry.as_str(), stored)?;
        zip.write_all(&bytes).map_err(io_error(out))?;
        parts.push(Part {
            entry,
            kind: PartKind::Blob,
            sha256: sha256.clone(),
            bytes: bytes.len() as u64,
        });
    }

    let claves = config.data_dir.join("claves");
    let left_out = {
        // No rotation moves keys while they are read.
        let _turn = KeyTurns::in_folder(&claves).signing()?;
        let files = key_files::list(&claves)?;
        for relative in &files.public {
            let path = claves.join(relative);
            let bytes = std::fs::read(&path).map_err(io_error(&path))?;
            let entry = format!("{KEYS_PREFIX}{}", relative.to_string_lossy());
            zip.start_file(entry.as_str(), SimpleFileOptions::default())?;
            let mut hashing = Hashing::new(&mut zip);
            hashing.write_all(&bytes).map_err(io_error(out))?;
            parts.push(part(&entry, PartKind::PublicKeyFile, hashing.finish()));
        }
        match &options.private_keys {
            Some(passphrase) if !files.private.is_empty() => {
                let sealed = key_files::seal(&claves, &files.private, passphrase)?;
                zip.start_file(PRIVATE_KEYS_ENTRY, stored)?;
                let mut hashing = Hashing::new(&mut zip);
                hashing.write_all(&sealed).map_err(io_error(out))?;
                parts.push(part(PRIVATE_KEYS_ENTRY, PartKind::PrivateKeys, hashing.finish()));
                Vec::new()
            }
            _ => files.private,
        }
    };

    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        created_at: chrono::Utc::now(),
        office_code: config.office_code.clone(),
        database: match archive.store().backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .to_owned(),
        documents: snap.documents,
        private_keys: parts.iter().any(|p| p.kind == PartKind::PrivateKeys),
        postgres_schema: snap.schema.clone(),
        parts,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Io(e.to_string()))?;
    zip.start_file(MANIFEST_ENTRY, SimpleFileOptions::default())?;
    zip.write_all(&text).map_err(io_error(out))?;
    let file = zip.finish()?;
    file.sync_all().map_err(io_error(out))?;
    let bytes = file.metadata().map_err(io_error(out))?.len();
    temp.persist_noclobber(out).map_err(|e| {
        BackupError::Refused(format!(
            "no se pudo dejar el respaldo en {}: {}",
            out.display(),
            e.error
        ))
    })?;
    if let Ok(dir) = File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(BackupSummary {
        manifest,
        bytes,
        private_keys_left_out: left_out,
    })
}

fn part(entry: &str, kind: PartKind, (sha256, bytes): (String, u64)) -> Part {
    Part {
        entry: entry.to_owned(),
        kind,
        sha256,
        bytes,
    }
}
