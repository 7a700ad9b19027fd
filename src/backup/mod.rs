//! Backups that restore. `sello backup` copies, while the service keeps
//! running, one consistent snapshot of the database, every blob that
//! snapshot points at and the installation's public certificates and CRLs
//! into one file, with a manifest that gives each part's SHA-256. Private
//! keys go in only when asked, encrypted with a passphrase (age). `sello
//! restore` puts a backup back into an empty installation only, after
//! checking every part against the manifest and that its database holds
//! only what Sello's migrations make (`schema_check`), and then checks the
//! result as `fsck` and `audit-verify` do.
//!
//! The order makes the copy consistent without stopping anything: the
//! database is copied first (one snapshot), then the blobs it names, which
//! already exist because a blob is stored before the row that points at it
//! is committed and no blob a row names is ever moved; the key folder is
//! read while holding signing's turn, so no rotation is half done.

mod database;
mod key_files;
mod manifest;
mod restore;
mod schema_check;
mod write;

pub use manifest::{FORMAT, Manifest, Part, PartKind, VERSION};
pub use restore::{RestoreOptions, RestoreSummary, restore};
pub use write::{BackupOptions, BackupSummary, backup};

use crate::archive::{ArchiveError, BlobError};
use crate::keys::KeyError;

/// Why a backup or a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Not done as asked; the message says why and what to do, in Spanish.
    #[error("{0}")]
    Refused(String),
    /// The backup file does not match its manifest, or is not a backup.
    #[error("el respaldo {file} no es válido: {problem}")]
    Damaged { file: String, problem: String },
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("base de datos: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<zip::result::ZipError> for BackupError {
    fn from(error: zip::result::ZipError) -> Self {
        Self::Io(format!("archivo del respaldo: {error}"))
    }
}

/// An I/O failure on `path`, said for the operator.
fn io_error(path: &std::path::Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io(format!("{}: {e}", path.display()))
}

/// The passphrase that encrypts the private keys of a backup. `Debug`
/// never shows it.
pub struct Passphrase(age::secrecy::SecretString);

/// Shorter passphrases are refused: the encrypted keys travel with the
/// backup, so the passphrase is all that stands between them and whoever
/// gets a copy.
pub const PASSPHRASE_MIN_CHARS: usize = 12;

impl Passphrase {
    /// The passphrase as typed (a final line break is not part of it).
    pub fn new(text: &str) -> Result<Self, BackupError> {
        let text = text.trim_end_matches(['\n', '\r']);
        if text.chars().count() < PASSPHRASE_MIN_CHARS {
            return Err(BackupError::Refused(format!(
                "la frase de paso debe tener al menos {PASSPHRASE_MIN_CHARS} caracteres"
            )));
        }
        Ok(Self(age::secrecy::SecretString::from(text.to_owned())))
    }

    fn secret(&self) -> age::secrecy::SecretString {
        self.0.clone()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(***)")
    }
}
