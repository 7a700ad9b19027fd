//! The manifest of a backup (`manifest.json` inside the file): what the
//! backup holds, each part with its SHA-256 and size, so that a restore
//! checks every byte before it writes anything.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::BackupError;

/// What a backup's manifest says it is.
pub const FORMAT: &str = "sello-respaldo";
/// The layout this Sello writes and reads.
pub const VERSION: u32 = 1;
/// The manifest's name inside the backup.
pub const MANIFEST_ENTRY: &str = "manifest.json";
/// A manifest longer than this is not one of ours.
pub const MANIFEST_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub office_code: String,
    /// `sqlite` or `postgres`: which engine the database part restores into.
    pub database: String,
    /// Documents issued (not reserved) in the snapshot.
    pub documents: u64,
    /// Whether the private keys are in, encrypted.
    pub private_keys: bool,
    /// The PostgreSQL schema the dump holds, when the installation had
    /// one of its own (not `public`): it restores under the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres_schema: Option<String>,
    pub parts: Vec<Part>,
}

/// One file inside the backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Part {
    /// Its name inside the backup.
    pub entry: String,
    pub kind: PartKind,
    pub sha256: String,
    pub bytes: u64,
}

/// What a part is, which decides where a restore puts it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PartKind {
    /// The SQLite database, a `VACUUM INTO` copy.
    SqliteDatabase,
    /// A `pg_dump` archive (custom format).
    PostgresDump,
    /// A blob of the store: `blobs/ab/cd/<sha256>.pdf`.
    Blob,
    /// A public file of the key folder (certificates, CRLs, retirement
    /// dates): `keys/<path under claves>`.
    PublicKeyFile,
    /// The private keys, a zip encrypted with age under a passphrase.
    PrivateKeys,
}

/// The entry names of each kind.
pub const DATABASE_SQLITE_ENTRY: &str = "database/sello.db";
pub const DATABASE_POSTGRES_ENTRY: &str = "database/sello.pgdump";
pub const PRIVATE_KEYS_ENTRY: &str = "private-keys.age";
pub const BLOBS_PREFIX: &str = "blobs/";
pub const KEYS_PREFIX: &str = "keys/";

/// The entry of the blob with this hash.
pub fn blob_entry(sha256: &str) -> String {
    format!("{BLOBS_PREFIX}{}/{}/{sha256}.pdf", &sha256[0..2], &sha256[2..4])
}

/// The largest blob a restore reads: a restore holds one blob in memory at
/// a time, as the archive does when it serves one.
pub const BLOB_MAX_BYTES: u64 = 1024 * 1024 * 1024;
/// The largest public key file (a certificate, a CRL) or sealed private
/// keys a restore reads.
pub const KEY_PART_MAX_BYTES: u64 = 16 * 1024 * 1024;

impl Part {
    /// The most bytes a restore accepts for a part of this kind, which it
    /// reads into memory; `None` for the database, streamed to a file.
    pub fn max_bytes(&self) -> Option<u64> {
        match self.kind {
            PartKind::SqliteDatabase | PartKind::PostgresDump => None,
            PartKind::Blob => Some(BLOB_MAX_BYTES),
            PartKind::PublicKeyFile | PartKind::PrivateKeys => Some(KEY_PART_MAX_BYTES),
        }
    }

    /// The blob's hash, for a blob part whose name says it.
    pub fn blob_sha256(&self) -> Option<&str> {
        let name = self.entry.strip_prefix(BLOBS_PREFIX)?.rsplit('/').next()?;
        name.strip_suffix(".pdf").filter(|s| *s == self.sha256)
    }

    /// Where a public key file goes under the key folder: a relative path
    /// of plain names only, so nothing is written outside it.
    pub fn key_path(&self) -> Option<PathBuf> {
        relative_path(self.entry.strip_prefix(KEYS_PREFIX)?)
    }
}

/// `text` as a relative path of plain names (no `..`, no root), or none.
pub fn relative_path(text: &str) -> Option<PathBuf> {
    let path = Path::new(text);
    let plain = !text.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)));
    plain.then(|| path.to_owned())
}

/// A writer that hashes and counts what passes through it.
pub struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The hex SHA-256 and the number of bytes written.
    pub fn finish(self) -> (String, u64) {
        (crate::archive::hex(&self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Manifest {
    /// Reads and checks a manifest: ours, of a version we read, every part
    /// of a known kind with a well-formed name.
    pub fn parse(bytes: &[u8], file: &str) -> Result<Self, BackupError> {
        let damaged = |problem: String| BackupError::Damaged {
            file: file.to_owned(),
            problem,
        };
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| damaged(format!("su manifiesto no se puede leer: {e}")))?;
        if manifest.format != FORMAT {
            return Err(damaged("no es un respaldo de Sello".into()));
        }
        if manifest.version != VERSION {
            return Err(damaged(format!(
                "es de la versión {} del formato de respaldos y esta versión de Sello lee la {VERSION}",
                manifest.version
            )));
        }
        for part in &manifest.parts {
            let well_formed = match part.kind {
                PartKind::SqliteDatabase => part.entry == DATABASE_SQLITE_ENTRY,
                PartKind::PostgresDump => part.entry == DATABASE_POSTGRES_ENTRY,
                PartKind::PrivateKeys => part.entry == PRIVATE_KEYS_ENTRY,
                PartKind::Blob => part.blob_sha256().is_some(),
                PartKind::PublicKeyFile => part.key_path().is_some(),
            };
            if !well_formed {
                return Err(damaged(format!(
                    "la parte «{}» tiene un nombre no válido",
                    part.entry
                )));
            }
            // Refused before anything is read or set aside for it.
            if let Some(max) = part.max_bytes().filter(|max| part.bytes > *max) {
                return Err(damaged(format!(
                    "la parte «{}» dice medir {} bytes, más de los {max} que Sello acepta en una parte así",
                    part.entry, part.bytes
                )));
            }
        }
        Ok(manifest)
    }

    /// The one database part.
    pub fn database_part(&self) -> Option<&Part> {
        let mut parts = self
            .parts
            .iter()
            .filter(|p| matches!(p.kind, PartKind::SqliteDatabase | PartKind::PostgresDump));
        let first = parts.next()?;
        parts.next().is_none().then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_outside_the_key_folder_is_not_a_key_file() {
        let part = |entry: &str| Part {
            entry: entry.to_owned(),
            kind: PartKind::PublicKeyFile,
            sha256: String::new(),
            bytes: 0,
        };
        assert_eq!(
            part("keys/crl/ab.crl").key_path(),
            Some(PathBuf::from("crl/ab.crl"))
        );
        for bad in ["keys/../sello.db", "keys//etc/passwd", "keys/", "otra/x.pem"] {
            assert_eq!(part(bad).key_path(), None, "{bad}");
        }
    }

    #[test]
    fn a_blob_part_is_named_by_its_own_hash() {
        let sha = "ab".repeat(32);
        let mut part = Part {
            entry: blob_entry(&sha),
            kind: PartKind::Blob,
            sha256: sha.clone(),
            bytes: 1,
        };
        assert_eq!(part.blob_sha256(), Some(sha.as_str()));
        part.sha256 = "cd".repeat(32);
        assert_eq!(part.blob_sha256(), None);
    }

    #[test]
    fn a_manifest_declaring_a_huge_part_is_refused_before_it_is_read() {
        let sha = "ab".repeat(32);
        let manifest = |bytes: u64| {
            serde_json::json!({
                "format": FORMAT, "version": VERSION, "created_at": "2026-12-07T12:00:00Z",
                "office_code": "DIF-SLP", "database": "sqlite", "documents": 1, "private_keys": false,
                "parts": [{"entry": blob_entry(&sha), "kind": "blob", "sha256": sha, "bytes": bytes}],
            })
            .to_string()
        };
        let read = |bytes: u64| Manifest::parse(manifest(bytes).as_bytes(), "respaldo.zip");
        assert!(read(1).is_ok(), "a blob of one byte");
        assert!(read(BLOB_MAX_BYTES).is_ok(), "a blob at the limit");
        let refused = read(u64::MAX).expect_err("a blob of 16 EiB");
        assert!(refused.to_string().contains("dice medir"), "{refused}");
    }
}
