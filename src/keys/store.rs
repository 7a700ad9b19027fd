//! The keys a verifier trusts: the office's active key and its retired
//! keys, each with its certificate. A retired key still vouches for what it
//! signed before its retirement date, and for nothing after.

use chrono::{DateTime, Utc};
use x509_cert::Certificate;

use super::{KeyAlgorithm, KeyError, KeyId, algorithm_of};

/// Whether a key may still sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    /// Retired at this moment: signatures made later are not valid.
    Retired {
        since: DateTime<Utc>,
    },
}

/// A key the office vouches for.
#[derive(Debug, Clone)]
pub struct KnownKey {
    pub key_id: KeyId,
    pub algorithm: KeyAlgorithm,
    pub certificate: Certificate,
    pub status: KeyStatus,
}

/// Every key a verifier accepts.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<KnownKey>,
}

impl TrustedKeys {
    pub fn add(&mut self, certificate: Certificate, status: KeyStatus) -> Result<KeyId, KeyError> {
        let key_id = KeyId::of_certificate(&certificate)?;
        let algorithm = algorithm_of(&certificate)?;
        self.keys.retain(|k| k.key_id != key_id);
        self.keys.push(KnownKey {
            key_id,
            algorithm,
            certificate,
            status,
        });
        Ok(key_id)
    }

    pub fn get(&self, key_id: &KeyId) -> Option<&KnownKey> {
        self.keys.iter().find(|k| &k.key_id == key_id)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &KnownKey> {
        self.keys.iter()
    }
}
