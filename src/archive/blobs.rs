//! Where the archive's files are kept (issued PDFs, hand-signature
//! drawings and paper scans), content-addressed by SHA-256: a folder by
//! default, or an S3-compatible bucket for scale. A blob is written, made
//! durable and read back against its hash before the row that points at it
//! is committed. Nothing here deletes a blob: one that no row references is
//! moved to [`QUARANTINE`], where a person decides.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::audit::hex;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("almacén de documentos: {0}")]
    Io(String),
    #[error("el documento {0} no está en el almacén")]
    Missing(String),
    #[error("el documento {sha256} del almacén no corresponde a su hash (se leyó {found})")]
    Corrupt { sha256: String, found: String },
}

/// The blob store of an archive.
#[derive(Debug, Clone)]
pub enum BlobStore {
    Filesystem(FolderBlobs),
    S3(super::s3::BucketBlobs),
}

impl BlobStore {
    /// Opens the store named by the `blob_store` setting: a folder, or
    /// `s3://bucket/prefix` with the connection in the usual `AWS_*`
    /// variables (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`).
    pub fn open(location: &str) -> Result<Self, BlobError> {
        if location.starts_with("s3://") {
            return Ok(Self::S3(super::s3::BucketBlobs::from_env(location)?));
        }
        Ok(Self::Filesystem(FolderBlobs::open(Path::new(location))?))
    }

    /// Stores `bytes` and returns their SHA-256 (hex), after reading them
    /// back and checking the hash.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<String, BlobError> {
        match self {
            Self::Filesystem(folder) => {
                let folder = folder.clone();
                run_blocking(move || folder.put(&bytes)).await
            }
            Self::S3(bucket) => bucket.put(bytes).await,
        }
    }

    /// The blob with this SHA-256, checked against it.
    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        match self {
            Self::Filesystem(folder) => {
                let (folder, sha256) = (folder.clone(), sha256.to_owned());
                run_blocking(move || folder.get(&sha256)).await
            }
            Self::S3(bucket) => bucket.get(sha256).await,
        }
    }

    /// The hashes of every blob in the store.
    pub async fn list(&self) -> Result<Vec<String>, BlobError> {
        match self {
            Self::Filesystem(folder) => {
                let folder = folder.clone();
                run_blocking(move || folder.list()).await
            }
            Self::S3(bucket) => bucket.list().await,
        }
    }

    /// Moves a blob that no row points at into [`QUARANTINE`] (see
    /// `fsck --repair`): out of the store, but kept whole.
    pub async fn quarantine(&self, sha256: &str) -> Result<(), BlobError> {
        match self {
            Self::Filesystem(folder) => {
                let (folder, sha256) = (folder.clone(), sha256.to_owned());
                run_blocking(move || folder.quarantine(&sha256)).await
            }
            Self::S3(bucket) => bucket.quarantine(sha256).await,
        }
    }

    /// Whether [`QUARANTINE`] holds this blob, whole.
    pub async fn in_quarantine(&self, sha256: &str) -> Result<bool, BlobError> {
        match self {
            Self::Filesystem(folder) => {
                let (folder, sha256) = (folder.clone(), sha256.to_owned());
                run_blocking(move || folder.in_quarantine(&sha256)).await
            }
            Self::S3(bucket) => bucket.in_quarantine(sha256).await,
        }
    }

    /// Moves a quarantined blob back into the store: a row points at it
    /// after all (its row was committed while a repair was moving it).
    pub async fn restore(&self, sha256: &str) -> Result<(), BlobError> {
        match self {
            Self::Filesystem(folder) => {
                let (folder, sha256) = (folder.clone(), sha256.to_owned());
                run_blocking(move || folder.restore(&sha256)).await
            }
            Self::S3(bucket) => bucket.restore(sha256).await,
        }
    }

    /// Where quarantined blobs go, for the operator's message.
    pub fn quarantine_location(&self) -> String {
        match self {
            Self::Filesystem(folder) => folder.root.join(QUARANTINE).display().to_string(),
            Self::S3(bucket) => bucket.quarantine_location(),
        }
    }
}

/// The folder (or key prefix, on S3) within the store that holds blobs no
/// row references, moved there by `fsck --repair` instead of deleted.
pub const QUARANTINE: &str = "cuarentena";

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BlobError::Io(e.to_string()))?
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Where a blob lives within its store: `ab/cd/abcd….pdf`, so that no
/// folder (or listing prefix) grows too large.
pub(super) fn blob_key(sha256: &str) -> String {
    format!("{}/{}/{sha256}.pdf", &sha256[0..2], &sha256[2..4])
}

/// The bytes read for a blob, if they still hash to its name.
pub(super) fn checked(sha256: &str, bytes: Vec<u8>) -> Result<Vec<u8>, BlobError> {
    let found = sha256_hex(&bytes);
    if found != sha256 {
        return Err(BlobError::Corrupt {
            sha256: sha256.to_owned(),
            found,
        });
    }
    Ok(bytes)
}

pub(super) fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Blobs in a folder, laid out by [`blob_key`].
#[derive(Debug, Clone)]
pub struct FolderBlobs {
    root: PathBuf,
}

impl FolderBlobs {
    pub fn open(root: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(root)
            .map_err(|e| BlobError::Io(format!("no se pudo crear {}: {e}", root.display())))?;
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(blob_key(sha256))
    }

    fn put(&self, bytes: &[u8]) -> Result<String, BlobError> {
        let sha256 = sha256_hex(bytes);
        let path = self.path_of(&sha256);
        let io = |e: std::io::Error| BlobError::Io(format!("{}: {e}", path.display()));
        let dir = path.parent().unwrap_or(&self.root).to_owned();
        if path.exists() && self.get(&sha256).is_ok() {
            // Whole already; its folders' entries may not be durable yet.
            self.sync_folders(&dir).map_err(io)?;
            return Ok(sha256);
        }
        std::fs::create_dir_all(&dir).map_err(io)?;
        // Write aside, flush to disk, then rename into place: a crash leaves
        // either no blob or a whole one.
        let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
        temp.write_all(bytes).map_err(io)?;
        temp.as_file().sync_all().map_err(io)?;
        temp.persist(&path).map_err(|e| io(e.error))?;
        self.sync_folders(&dir).map_err(io)?;
        self.get(&sha256)?;
        Ok(sha256)
    }

    /// Flushes the entries of `ab/cd/`, `ab/` and the root, so that after a
    /// power cut the file is still found where its row says.
    fn sync_folders(&self, dir: &Path) -> std::io::Result<()> {
        for folder in [dir, dir.parent().unwrap_or(&self.root), &self.root] {
            std::fs::File::open(folder)?.sync_all()?;
        }
        Ok(())
    }

    fn get(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        if !is_sha256_hex(sha256) {
            return Err(BlobError::Missing(sha256.to_owned()));
        }
        let path = self.path_of(sha256);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BlobError::Missing(sha256.to_owned()),
            _ => BlobError::Io(format!("{}: {e}", path.display())),
        })?;
        checked(sha256, bytes)
    }

    fn list(&self) -> Result<Vec<String>, BlobError> {
        let mut found = Vec::new();
        let io = |e: std::io::Error| BlobError::Io(format!("{}: {e}", self.root.display()));
        for first in std::fs::read_dir(&self.root).map_err(io)? {
            let first = first.map_err(io)?.path();
            // `ab/`, never the quarantine folder beside them.
            if !first.is_dir() || !first.file_name().is_some_and(|n| is_fanout(&n.to_string_lossy())) {
                continue;
            }
            for second in std::fs::read_dir(&first).map_err(io)? {
                let second = second.map_err(io)?.path();
                if !second.is_dir() {
                    continue;
                }
                for file in std::fs::read_dir(&second).map_err(io)? {
                    let name = file.map_err(io)?.file_name();
                    let name = name.to_string_lossy();
                    if let Some(sha256) = name.strip_suffix(".pdf").filter(|s| is_sha256_hex(s)) {
                        found.push(sha256.to_owned());
                    }
                }
            }
        }
        found.sort();
        Ok(found)
    }

    fn quarantined_path(&self, sha256: &str) -> PathBuf {
        self.root.join(QUARANTINE).join(blob_key(sha256))
    }

    fn quarantine(&self, sha256: &str) -> Result<(), BlobError> {
        self.get(sha256)?;
        self.move_blob(&self.path_of(sha256), &self.quarantined_path(sha256))
    }

    fn in_quarantine(&self, sha256: &str) -> Result<bool, BlobError> {
        if !is_sha256_hex(sha256) {
            return Ok(false);
        }
        match std::fs::read(self.quarantined_path(sha256)) {
            Ok(bytes) => Ok(checked(sha256, bytes).is_ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(BlobError::Io(format!(
                "{}: {e}",
                self.quarantined_path(sha256).display()
            ))),
        }
    }

    fn restore(&self, sha256: &str) -> Result<(), BlobError> {
        if !self.in_quarantine(sha256)? {
            return Err(BlobError::Missing(sha256.to_owned()));
        }
        self.move_blob(&self.quarantined_path(sha256), &self.path_of(sha256))?;
        self.get(sha256).map(drop)
    }

    /// Renames a blob within the store's folder, durably: after a power cut
    /// it is in one place or the other, whole.
    fn move_blob(&self, from: &Path, to: &Path) -> Result<(), BlobError> {
        let io = |e: std::io::Error| BlobError::Io(format!("{}: {e}", to.display()));
        let dir = to.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::rename(from, to).map_err(io)?;
        for folder in [dir, from.parent().unwrap_or(&self.root)] {
            std::fs::File::open(folder)
                .and_then(|f| f.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }
}

/// A first- or second-level folder of [`blob_key`]: two hex digits.
fn is_fanout(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_read_back_and_a_damaged_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FolderBlobs::open(dir.path()).unwrap();
        let sha = blobs.put(b"%PDF-1.7 uno").unwrap();
        assert_eq!(sha, sha256_hex(b"%PDF-1.7 uno"));
        assert_eq!(blobs.get(&sha).unwrap(), b"%PDF-1.7 uno");
        assert_eq!(
            blobs.put(b"%PDF-1.7 uno").unwrap(),
            sha,
            "storing twice is harmless"
        );
        assert_eq!(blobs.list().unwrap(), vec![sha.clone()]);

        std::fs::write(blobs.path_of(&sha), b"%PDF-1.7 dos").unwrap();
        assert!(matches!(blobs.get(&sha), Err(BlobError::Corrupt { .. })));
        // Storing it again repairs it.
        blobs.put(b"%PDF-1.7 uno").unwrap();
        assert_eq!(blobs.get(&sha).unwrap(), b"%PDF-1.7 uno");
        assert!(matches!(
            blobs.get("../../etc/passwd"),
            Err(BlobError::Missing(_))
        ));
    }

    #[test]
    fn a_quarantined_blob_leaves_the_listing_whole_and_can_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FolderBlobs::open(dir.path()).unwrap();
        let kept = blobs.put(b"%PDF-1.7 uno").unwrap();
        let stray = blobs.put(b"suelto").unwrap();
        blobs.quarantine(&stray).unwrap();
        assert_eq!(blobs.list().unwrap(), vec![kept.clone()]);
        assert!(matches!(blobs.get(&stray), Err(BlobError::Missing(_))));
        assert!(blobs.in_quarantine(&stray).unwrap());
        assert!(!blobs.in_quarantine(&kept).unwrap());
        blobs.restore(&stray).unwrap();
        assert_eq!(blobs.get(&stray).unwrap(), b"suelto");
        assert!(!blobs.in_quarantine(&stray).unwrap());
        assert!(blobs.restore(&kept).is_err(), "nothing to restore");
    }
}
