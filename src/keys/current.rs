//! The keys a long-running process holds — the signing key of `sello
//! serve` or of a bulk run, the keys its verifier trusts — kept in step
//! with the installation's key folders, which a rotation from another
//! process (`sello keys rotate`) or a revocation (`sello keys revoke`) may
//! change while it runs. Signing with a key the office has already revoked
//! would issue a document that no verifier accepts; vouching for a key
//! revoked since would tell a beneficiary a document is authentic when the
//! office has said otherwise.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use super::turns::{KeyTurns, SigningTurn};
use super::{CERT_FILE, KeyError, OfficeKey, TrustedKeys, file_error};
use crate::config::Config;

/// The office's signing key as a process holds it.
#[derive(Debug)]
pub struct SigningKeys {
    current: RwLock<Held>,
    /// The folder Sello rotates, and the turns over it; `None` for a key
    /// fixed by the configuration or handed over by a test, which only an
    /// explicit [`SigningKeys::replace`] changes.
    folder: Option<(PathBuf, KeyTurns)>,
}

#[derive(Debug)]
struct Held {
    key: Arc<OfficeKey>,
    /// The certificate file's bytes when the key was loaded.
    certificate_file: Vec<u8>,
}

/// The key to sign one document with, and signing's turn: until it is
/// dropped, no rotation completes.
#[derive(Debug)]
pub struct KeyInUse {
    key: Arc<OfficeKey>,
    _turn: Option<SigningTurn>,
}

impl Deref for KeyInUse {
    type Target = OfficeKey;

    fn deref(&self) -> &OfficeKey {
        &self.key
    }
}

impl SigningKeys {
    /// Always `key`, until replaced.
    pub fn fixed(key: Arc<OfficeKey>) -> Self {
        Self {
            current: RwLock::new(Held {
                key,
                certificate_file: Vec::new(),
            }),
            folder: None,
        }
    }

    /// `key`, loaded from the installation's key folder, and whatever key a
    /// rotation puts there later. A key fixed by the configuration
    /// (`signing_key`) is never rotated by Sello, so it stays fixed.
    pub fn for_config(config: &Config, key: OfficeKey) -> Self {
        if config.signing_key.is_some() {
            return Self::fixed(Arc::new(key));
        }
        let dir = super::default_key_dir(config);
        let certificate_file = std::fs::read(dir.join(CERT_FILE)).unwrap_or_default();
        Self {
            current: RwLock::new(Held {
                key: Arc::new(key),
                certificate_file,
            }),
            folder: Some((dir, KeyTurns::in_folder(&config.data_dir.join("claves")))),
        }
    }

    /// The key that signs now, to name or show it; signing goes through
    /// [`SigningKeys::for_signing`].
    pub fn current(&self) -> Arc<OfficeKey> {
        Arc::clone(&self.held().key)
    }

    /// The key to sign one document with, holding signing's turn: the key
    /// in the folder now (loaded again if a rotation changed it), which no
    /// rotation revokes while the turn is held.
    pub fn for_signing(&self) -> Result<KeyInUse, KeyError> {
        let Some((dir, turns)) = &self.folder else {
            return Ok(KeyInUse {
                key: self.current(),
                _turn: None,
            });
        };
        let turn = turns.signing()?;
        let path = dir.join(CERT_FILE);
        let on_disk = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
        if on_disk != self.held().certificate_file {
            let key = Arc::new(OfficeKey::load(dir)?);
            tracing::info!(key = %key.key_id, "clave de firma cambiada en su carpeta: se firma con la nueva");
            *self.held_mut() = Held {
                key,
                certificate_file: on_disk,
            };
        }
        Ok(KeyInUse {
            key: self.current(),
            _turn: Some(turn),
        })
    }

    /// Signs with `key` from now on (after a rotation made by this process).
    pub fn replace(&self, key: OfficeKey) {
        let certificate_file = match &self.folder {
            Some((dir, _)) => std::fs::read(dir.join(CERT_FILE)).unwrap_or_default(),
            None => Vec::new(),
        };
        *self.held_mut() = Held {
            key: Arc::new(key),
            certificate_file,
        };
    }

    fn held(&self) -> std::sync::RwLockReadGuard<'_, Held> {
        match self.current.read() {
            Ok(held) => held,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn held_mut(&self) -> std::sync::RwLockWriteGuard<'_, Held> {
        match self.current.write() {
            Ok(held) => held,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The keys a verifier trusts, read again from the installation's key
/// folders when a file there (a CRL, a root, a retired or the active
/// certificate) has changed since they were read.
#[derive(Debug)]
pub struct FollowedTrust {
    config: Option<Config>,
    current: RwLock<(Vec<FileStamp>, TrustedKeys)>,
}

/// A file's name, size and modification time: enough to tell it changed.
type FileStamp = (PathBuf, u64, Option<SystemTime>);

impl FollowedTrust {
    /// Always `trusted`, until set.
    pub fn fixed(trusted: TrustedKeys) -> Self {
        Self {
            config: None,
            current: RwLock::new((Vec::new(), trusted)),
        }
    }

    /// `trusted`, read from `config`'s key folders, and read again when
    /// they change.
    pub fn following(config: &Config, trusted: TrustedKeys) -> Self {
        Self {
            current: RwLock::new((stamps(config), trusted)),
            config: Some(config.clone()),
        }
    }

    /// The keys trusted now. A folder that cannot be read again keeps the
    /// keys read before, and says so in the log.
    pub fn get(&self) -> TrustedKeys {
        if let Some(config) = &self.config {
            let now = stamps(config);
            if now != self.read().0 {
                match super::trusted_keys(config) {
                    Ok(trusted) => {
                        tracing::info!("claves de confianza leídas de nuevo: cambió su carpeta");
                        *self.write() = (now, trusted);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "no se pudieron leer de nuevo las claves de confianza");
                    }
                }
            }
        }
        self.read().1.clone()
    }

    /// Trusts `trusted` from now on (after a rotation made by this process).
    pub fn set(&self, trusted: TrustedKeys) {
        let stamps = self.config.as_ref().map(stamps).unwrap_or_default();
        *self.write() = (stamps, trusted);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, (Vec<FileStamp>, TrustedKeys)> {
        match self.current.read() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, (Vec<FileStamp>, TrustedKeys)> {
        match self.current.write() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The stamps of every file [`super::trusted_keys`] reads, in order.
fn stamps(config: &Config) -> Vec<FileStamp> {
    let mut files = Vec::new();
    for dir in [super::authorities_dir(config), super::crl_dir(config)] {
        files.extend(listing(&dir));
    }
    for folder in listing(&super::retired_keys_dir(config)) {
        files.extend(listing(&folder));
    }
    let active = config
        .signing_key
        .clone()
        .unwrap_or_else(|| super::default_key_dir(config));
    files.push(active.join(CERT_FILE));
    files
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = meta.and_then(|m| m.modified().ok());
            (path, size, modified)
        })
        .collect()
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}
