//! The office's transparency-log key: an Ed25519 key that signs the log's
//! checkpoints and nothing else, kept like the signing key (PKCS#8 PEM,
//! mode 0600) in its own folder beside it, generated on first use. Its
//! name in signed notes is the log's origin: the base URL without its
//! scheme, followed by `/log`.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};

use super::{KEY_FILE, KeyError, create_private_dir, file_error, random_bytes, refuse_if_exposed, write_new};
use crate::config::Config;
use crate::tlog::Hash;
use crate::tlog::note::{self, Checkpoint};

/// Where Sello keeps the log key.
pub fn log_key_dir(config: &Config) -> PathBuf {
    config.data_dir.join("claves").join("registro")
}

/// The log's origin for an installation served at `base_url`.
pub fn log_origin(base_url: &str) -> String {
    let bare = base_url
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    format!("{bare}/log")
}

/// The key that signs the office's checkpoints. `Debug` shows only its name.
pub struct LogKey {
    key: SigningKey,
    origin: String,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// The installation's log key, generated in [`log_key_dir`] on first
    /// use; the second value then tells the person what happened.
    pub fn for_config(config: &Config) -> Result<(Self, Option<String>), KeyError> {
        let dir = log_key_dir(config);
        let origin = log_origin(&config.base_url);
        if dir.join(KEY_FILE).exists() {
            return Ok((Self::load(&dir, origin)?, None));
        }
        let key = Self::generate(&dir, origin)?;
        let notice = format!(
            "Se generó la clave del registro público (Ed25519) en {}. Respalde esa carpeta; \
             su clave verificadora es {}",
            dir.display(),
            key.verifier_key()
        );
        Ok((key, Some(notice)))
    }

    /// Generates a log key into `dir`, refusing to overwrite one.
    pub fn generate(dir: &Path, origin: String) -> Result<Self, KeyError> {
        let key = SigningKey::from_bytes(&random_bytes()?);
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Other(format!("no se pudo codificar la clave del registro: {e}")))?;
        create_private_dir(dir)?;
        write_new(&dir.join(KEY_FILE), pem.as_bytes(), 0o600)?;
        Ok(Self { key, origin })
    }

    /// A fresh key kept only in memory, for tests and benchmarks that must
    /// leave nothing on disk.
    pub fn in_memory(origin: String) -> Result<Self, KeyError> {
        Ok(Self {
            key: SigningKey::from_bytes(&random_bytes()?),
            origin,
        })
    }

    /// Loads the log key in `dir`, refusing a file others can read.
    pub fn load(dir: &Path, origin: String) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        refuse_if_exposed(&path)?;
        let pem = fs::read_to_string(&path).map_err(|e| file_error(&path, e))?;
        let key = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|_| file_error(&path, "no es una clave privada Ed25519 PKCS#8 válida"))?;
        Ok(Self { key, origin })
    }

    /// The log's origin, which is also the key's name.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key string the office publishes.
    pub fn verifier_key(&self) -> String {
        note::verifier_key(&self.origin, &self.key.verifying_key())
    }

    /// The signed checkpoint of the tree of `size` entries with head `root`.
    pub fn sign_checkpoint(&self, size: u64, root: Hash) -> String {
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
        };
        note::sign_checkpoint(&checkpoint, &self.origin, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::note::{Verifier, open_checkpoint};

    #[test]
    fn the_origin_is_the_base_url_without_its_scheme() {
        assert_eq!(
            log_origin("https://sello.example.gob.cl/"),
            "sello.example.gob.cl/log"
        );
        assert_eq!(log_origin("http://localhost:8080"), "localhost:8080/log");
    }

    #[test]
    fn a_key_made_and_loaded_again_signs_checkpoints_its_verifier_key_opens() {
        let dir = tempfile::tempdir().unwrap();
        let made = LogKey::generate(&dir.path().join("registro"), "sello.example/log".into()).unwrap();
        let loaded = LogKey::load(&dir.path().join("registro"), "sello.example/log".into()).unwrap();
        assert_eq!(made.verifier_key(), loaded.verifier_key());
        assert!(!format!("{loaded:?}").contains("key:"));
        let signed = loaded.sign_checkpoint(3, [1; 32]);
        let checkpoint = open_checkpoint(&signed, &Verifier::parse(&made.verifier_key()).unwrap()).unwrap();
        assert_eq!((checkpoint.size, checkpoint.root), (3, [1; 32]));
        assert!(LogKey::generate(&dir.path().join("registro"), "sello.example/log".into()).is_err());
    }
}
