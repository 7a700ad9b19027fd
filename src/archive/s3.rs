//! PDFs in an S3-compatible bucket (AWS S3, MinIO, Ceph…), through the
//! `object_store` crate, under `<prefix>/ab/cd/<sha256>.pdf` like the folder
//! store. S3 acknowledges a PUT only once the object is durable; Sello then
//! reads it back against its hash, as it does on disk.

use std::sync::Arc;

use futures::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};

use super::blobs::{BlobError, QUARANTINE, blob_key, checked, is_sha256_hex, sha256_hex};

/// A bucket (and prefix) holding an archive's PDFs.
#[derive(Debug, Clone)]
pub struct BucketBlobs {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl BucketBlobs {
    /// `s3://bucket/prefix`, with the connection from the `AWS_*` variables.
    pub fn from_env(url: &str) -> Result<Self, BlobError> {
        let (bucket, prefix) = split_url(url)?;
        Self::with_builder(AmazonS3Builder::from_env().with_bucket_name(bucket), prefix)
    }

    /// A bucket reached through an explicitly configured client.
    pub fn with_builder(builder: AmazonS3Builder, prefix: &str) -> Result<Self, BlobError> {
        // The HTTP client uses rustls with the ring provider; install it
        // once (a second install is refused harmlessly).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = builder
            .build()
            .map_err(|e| BlobError::Io(format!("no se pudo configurar el almacén S3: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: Path::from(prefix),
        })
    }

    fn path_of(&self, sha256: &str) -> Path {
        self.under_prefix(&blob_key(sha256))
    }

    fn quarantined_path(&self, sha256: &str) -> Path {
        self.under_prefix(&format!("{QUARANTINE}/{}", blob_key(sha256)))
    }

    fn under_prefix(&self, key: &str) -> Path {
        match self.prefix.as_ref() {
            "" => Path::from(key),
            prefix => Path::from(format!("{prefix}/{key}")),
        }
    }

    pub fn quarantine_location(&self) -> String {
        format!("{}/", self.under_prefix(QUARANTINE))
    }

    pub async fn put(&self, bytes: Vec<u8>) -> Result<String, BlobError> {
        let sha256 = sha256_hex(&bytes);
        if self.get(&sha256).await.is_ok() {
            return Ok(sha256);
        }
        self.store
            .put(&self.path_of(&sha256), PutPayload::from(bytes))
            .await
            .map_err(|e| BlobError::Io(format!("S3, al guardar {sha256}: {e}")))?;
        self.get(&sha256).await?;
        Ok(sha256)
    }

    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        self.get_at(sha256, &self.path_of(sha256)).await
    }

    async fn get_at(&self, sha256: &str, path: &Path) -> Result<Vec<u8>, BlobError> {
        if !is_sha256_hex(sha256) {
            return Err(BlobError::Missing(sha256.to_owned()));
        }
        let fetched = match self.store.get(path).await {
            Ok(result) => result.bytes().await,
            Err(e) => Err(e),
        };
        let bytes = match fetched {
            Ok(bytes) => bytes.to_vec(),
            Err(object_store::Error::NotFound { .. }) => return Err(BlobError::Missing(sha256.to_owned())),
            Err(e) => return Err(BlobError::Io(format!("S3, al leer {sha256}: {e}"))),
        };
        checked(sha256, bytes)
    }

    pub async fn list(&self) -> Result<Vec<String>, BlobError> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let objects: Vec<_> = self
            .store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|e| BlobError::Io(format!("S3, al listar: {e}")))?;
        let quarantine = self.under_prefix(QUARANTINE);
        let mut found: Vec<String> = objects
            .iter()
            .filter(|meta| !meta.location.prefix_matches(&quarantine))
            .filter_map(|meta| meta.location.filename())
            .filter_map(|name| name.strip_suffix(".pdf"))
            .filter(|sha| is_sha256_hex(sha))
            .map(str::to_owned)
            .collect();
        found.sort();
        Ok(found)
    }

    /// Copies the object under the quarantine prefix, reads the copy back
    /// against its hash, and only then deletes the original.
    pub async fn quarantine(&self, sha256: &str) -> Result<(), BlobError> {
        self.get(sha256).await?;
        self.move_object(sha256, &self.path_of(sha256), &self.quarantined_path(sha256))
            .await
    }

    pub async fn in_quarantine(&self, sha256: &str) -> Result<bool, BlobError> {
        match self.get_at(sha256, &self.quarantined_path(sha256)).await {
            Ok(_) => Ok(true),
            Err(BlobError::Missing(_) | BlobError::Corrupt { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn restore(&self, sha256: &str) -> Result<(), BlobError> {
        self.get_at(sha256, &self.quarantined_path(sha256)).await?;
        self.move_object(sha256, &self.quarantined_path(sha256), &self.path_of(sha256))
            .await
    }

    async fn move_object(&self, sha256: &str, from: &Path, to: &Path) -> Result<(), BlobError> {
        self.store
            .copy(from, to)
            .await
            .map_err(|e| BlobError::Io(format!("S3, al mover {sha256}: {e}")))?;
        self.get_at(sha256, to).await?;
        self.store
            .delete(from)
            .await
            .map_err(|e| BlobError::Io(format!("S3, al mover {sha256}: {e}")))
    }
}

/// `s3://bucket/some/prefix` → (`bucket`, `some/prefix`).
fn split_url(url: &str) -> Result<(&str, &str), BlobError> {
    let rest = url.strip_prefix("s3://").unwrap_or(url);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(BlobError::Io(format!(
            "«{url}» no nombra un bucket; escriba s3://bucket o s3://bucket/prefijo"
        )));
    }
    Ok((bucket, prefix.trim_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_urls_split_into_bucket_and_prefix() {
        assert_eq!(split_url("s3://sello").unwrap(), ("sello", ""));
        assert_eq!(
            split_url("s3://sello/dif-slp/pdf/").unwrap(),
            ("sello", "dif-slp/pdf")
        );
        assert!(split_url("s3:///x").is_err());
    }
}
