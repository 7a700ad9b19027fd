//! How a limited client is named where its count is kept: an HMAC-SHA256,
//! under the installation's own secret, of the limit's name and the
//! client's network (or a username). A plain hash of an IPv4 address is
//! reversed by hashing all four thousand million of them; without the
//! secret, the name of a bucket says nothing of who it counts.
//!
//! The secret lives in the database (`installation_secrets`, migration
//! 0031), not in the data folder: every instance of an installation shares
//! the database, by definition, but need not share a folder (each may have
//! its own copy of the keys), and two instances starting at once on the
//! same empty table agree because the first insert wins and both read
//! what was kept. Redis never sees it, so Redis alone (which may be shared
//! with other services under a prefix) holds no recoverable address.

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::db::Store;

/// The row of `installation_secrets` that keys the buckets.
const SECRET_NAME: &str = "limites";
/// Bytes of the secret: SHA-256's own block of security.
const SECRET_BYTES: usize = 32;

/// Why the installation's bucket key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BucketKeyError {
    #[error("base de datos: {0}")]
    Database(#[from] sqlx::Error),
    #[error("generador aleatorio del sistema: {0}")]
    Random(#[from] getrandom::Error),
    /// The row is there but is not a secret this code wrote.
    #[error("el secreto «{SECRET_NAME}» de installation_secrets no es válido: bórrelo y se creará otro")]
    Malformed,
}

/// The installation's secret for naming clients. `Debug` never shows it.
#[derive(Clone)]
pub struct BucketKey(Arc<[u8; SECRET_BYTES]>);

impl std::fmt::Debug for BucketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BucketKey(***)")
    }
}

impl BucketKey {
    /// The key of the installation whose database is `store`: made by the
    /// first instance that asks, the same for every instance after it.
    pub async fn of_installation(store: &Store) -> Result<Self, BucketKeyError> {
        let fresh = Self::random()?;
        sqlx::query(
            "INSERT INTO installation_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(SECRET_NAME)
        .bind(data_encoding::HEXLOWER.encode(fresh.0.as_slice()))
        .execute(store.pool())
        .await?;
        let kept: String = sqlx::query_scalar("SELECT secret FROM installation_secrets WHERE name = $1")
            .bind(SECRET_NAME)
            .fetch_one(store.pool())
            .await?;
        let bytes = data_encoding::HEXLOWER
            .decode(kept.as_bytes())
            .map_err(|_| BucketKeyError::Malformed)?;
        let secret: [u8; SECRET_BYTES] = bytes.try_into().map_err(|_| BucketKeyError::Malformed)?;
        Ok(Self(Arc::new(secret)))
    }

    /// A key of this process alone: for counts nobody else shares (and
    /// tests).
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut secret)?;
        Ok(Self(Arc::new(secret)))
    }

    /// Names `client` under the limit `name`, in hexadecimal.
    pub fn bucket(&self, name: &str, client: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_slice()).expect("any key length");
        // The limit's names have no line break: the two parts stay apart.
        mac.update(name.as_bytes());
        mac.update(b"\n");
        mac.update(client.as_bytes());
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;

    use super::*;

    #[test]
    fn a_bucket_is_not_the_plain_hash_of_its_address_and_differs_by_key() {
        let (one, other) = (BucketKey::random().unwrap(), BucketKey::random().unwrap());
        let plain = data_encoding::HEXLOWER.encode(&Sha256::digest(b"consultas\n203.0.113.7"));
        let bucket = one.bucket("consultas", "203.0.113.7");
        assert_eq!(bucket.len(), 64);
        assert_ne!(bucket, plain);
        assert_eq!(
            bucket,
            one.bucket("consultas", "203.0.113.7"),
            "the same key names alike"
        );
        assert_ne!(bucket, other.bucket("consultas", "203.0.113.7"));
        assert_ne!(bucket, one.bucket("acceso", "203.0.113.7"));
        assert_eq!(format!("{one:?}"), "BucketKey(***)");
    }
}
