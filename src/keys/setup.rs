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

/// Where keys Sello retired by rotation are kept, one folder each, with
/// the moment they stopped signing in [`RETIRED_AT_FILE`].
pub fn retired_keys_dir(config: &Config) -> PathBuf {
    config.data_dir.join("claves").join("retiradas")
}

/// The file, in a retired key's folder, that says when it stopped signing.
pub const RETIRED_AT_FILE: &str = "retirada.txt";

/// Retires the key Sello keeps in the data directory and generates a new
/// one. The new key is made aside first; the old key's certificate goes,
/// with the moment it stopped signing, under [`retired_keys_dir`], where it
/// stays trusted for what it signed before; its private key is destroyed,
/// so it can sign nothing more. A key set in the configuration
/// (`signing_key`) is rotated there instead.
pub fn rotate_office_key(config: &Config) -> Result<OfficeKey, KeyError> {
    if let Some(dir) = &config.signing_key {
        return Err(KeyError::File {
            path: dir.clone(),
            message: "la clave de firma está fijada en la configuración (signing_key); para rotarla, genere otra con «sello keys generate» y cambie la configuración, pasando la anterior a retired_keys".into(),
        });
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |e: std::io::Error| KeyError::File {
            path,
            message: e.to_string(),
        }
    };
    let active = default_key_dir(config);
    let current = OfficeKey::load(&active)?;
    let claves = config.data_dir.join("claves");
    // 1. The new key, complete, beside the active one.
    let fresh = claves.join("oficina.nueva");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).map_err(io(&fresh))?;
    }
    let name = format!("{} — {}", config.institution, config.office_name);
    OfficeKey::generate(&fresh, &name, KeyAlgorithm::Ed25519)?;
    // 2. The old certificate and its retirement date, complete.
    let retired = retired_keys_dir(config).join(current.key_id.to_string());
    std::fs::create_dir_all(&retired).map_err(io(&retired))?;
    std::fs::copy(active.join(CERT_FILE), retired.join(CERT_FILE)).map_err(io(&retired))?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    std::fs::write(retired.join(RETIRED_AT_FILE), format!("{now}\n")).map_err(io(&retired))?;
    // 3. The swap: the old folder aside, the new one in place, the old private key gone.
    let old = claves.join("oficina.retirada");
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    std::fs::rename(&active, &old).map_err(io(&active))?;
    std::fs::rename(&fresh, &active).map_err(io(&active))?;
    std::fs::remove_dir_all(&old).map_err(io(&old))?;
    OfficeKey::load(&active)
}

/// The keys the configuration vouches for: the active one (if it exists
/// yet), the retired ones it lists and those Sello retired by rotation.
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
    if let Ok(folders) = std::fs::read_dir(retired_keys_dir(config)) {
        for folder in folders.flatten().map(|f| f.path()) {
            // A retired key without its date would silently stop vouching
            // for everything it signed: that is an error to fix, not to skip.
            let text = std::fs::read_to_string(folder.join(RETIRED_AT_FILE)).map_err(|e| KeyError::File {
                path: folder.join(RETIRED_AT_FILE),
                message: format!("falta la fecha de retiro de la clave: {e}"),
            })?;
            let since = chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|e| KeyError::File {
                path: folder.join(RETIRED_AT_FILE),
                message: format!("fecha de retiro no válida: {e}"),
            })?;
            trusted.add(
                load_certificate(&folder.join(CERT_FILE))?,
                KeyStatus::Retired {
                    since: since.with_timezone(&chrono::Utc),
                },
            )?;
        }
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
