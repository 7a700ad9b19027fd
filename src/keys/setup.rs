//! Which keys an installation signs with and trusts, from its configuration.

use std::path::{Path, PathBuf};

use super::{CERT_FILE, KeyAlgorithm, KeyError, KeyStatus, OfficeKey, TrustedKeys, load_certificate};
use crate::config::Config;

/// Where Sello keeps the key it generates when none is configured.
pub fn default_key_dir(config: &Config) -> PathBuf {
    config.data_dir.join("claves").join("oficina")
}

/// The office's active signing key. With none configured, the key in the
/// data directory, generated on first use; the second value then tells the
/// person what happened.
pub fn office_key(config: &Config) -> Result<(OfficeKey, Option<String>), KeyError> {
    if let Some(dir) = &config.signing_key {
        return Ok((OfficeKey::load(dir)?, None));
    }
    let dir = default_key_dir(config);
    if dir.join(super::KEY_FILE).exists() {
        return Ok((OfficeKey::load(&dir)?, None));
    }
    let name = format!("{} — {}", config.institution, config.office_name);
    let key = OfficeKey::generate(&dir, &name, KeyAlgorithm::Ed25519)?;
    let notice = format!(
        "No había una clave de firma configurada: se generó una nueva (Ed25519) en {}, \
         con identificador {}. Respalde esa carpeta: sin ella no se pueden firmar documentos, \
         y su certificado ({CERT_FILE}) es el que se entrega a quien quiera verificarlos.",
        dir.display(),
        key.key_id
    );
    Ok((key, Some(notice)))
}

/// The keys the configuration vouches for: the active one (if it exists
/// yet) and the retired ones.
pub fn trusted_keys(config: &Config) -> Result<TrustedKeys, KeyError> {
    let mut trusted = TrustedKeys::default();
    let active = config
        .signing_key
        .clone()
        .unwrap_or_else(|| default_key_dir(config));
    let active_cert = active.join(CERT_FILE);
    if active_cert.exists() {
        trusted.add(load_certificate(&active_cert)?, KeyStatus::Active)?;
    } else if config.signing_key.is_some() {
        return Err(KeyError::File {
            path: active_cert,
            message: "no existe el certificado de la clave configurada".into(),
        });
    }
    for retired in &config.retired_keys {
        let certificate = load_certificate(&certificate_path(&retired.path))?;
        trusted.add(
            certificate,
            KeyStatus::Retired {
                since: retired.retired_at,
            },
        )?;
    }
    Ok(trusted)
}

/// A key folder's certificate, or the path itself if it is a file.
pub fn certificate_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(CERT_FILE)
    } else {
        path.to_owned()
    }
}
