//! Which keys an installation signs with and trusts, from its configuration.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::authority::{OfficeRoot, RevocationReason, crl_path, read_crl, write_crl};
use super::{
    CERT_FILE, KEY_FILE, KeyAlgorithm, KeyError, KeyId, KeyStatus, OfficeKey, TrustedKeys, file_error,
    load_certificate,
};
use crate::config::Config;

/// Where Sello makes the office's root on the first run. Its private key
/// is needed only to rotate or revoke keys: it belongs on a medium kept
/// offline, brought back for those moments.
pub fn default_root_dir(config: &Config) -> PathBuf {
    config.data_dir.join("claves").join("raiz")
}

/// Where the certificates of the office's roots stay, `<key id>.pem`: what
/// verifiers trust, public, and here even when the roots are offline.
pub fn authorities_dir(config: &Config) -> PathBuf {
    config.data_dir.join("claves").join("autoridades")
}

/// Where each root's current CRL is, `<key id>.crl`, as the service
/// publishes it.
pub fn crl_dir(config: &Config) -> PathBuf {
    config.data_dir.join("claves").join("crl")
}

/// The address of the CRL of the root `root`, which signing certificates name.
pub fn crl_url(config: &Config, root: &KeyId) -> String {
    format!("{}/crl/{root}.crl", config.base_url.trim_end_matches('/'))
}

fn office_name(config: &Config) -> String {
    format!("{} — {}", config.institution, config.office_name)
}

/// The root in `dir`, or, on an installation that has none yet, a new one
/// made there with its first (empty) CRL; the flag says it is new.
fn root_for_issuing(config: &Config, dir: &Path) -> Result<(OfficeRoot, bool), KeyError> {
    if dir.join(KEY_FILE).exists() {
        return Ok((OfficeRoot::load(dir)?, false));
    }
    let known = std::fs::read_dir(authorities_dir(config))
        .map(|entries| entries.flatten().count())
        .unwrap_or(0);
    if known > 0 {
        return Err(file_error(
            dir,
            "no está aquí la raíz de la oficina (su carpeta con clave.pem y certificado.pem): tráigala del medio donde se guarda fuera de línea, o indique su carpeta",
        ));
    }
    let root = OfficeRoot::generate(dir, &office_name(config), KeyAlgorithm::Ed25519)?;
    publish_root(config, &root)?;
    write_crl(
        &crl_path(&crl_dir(config), &root.key_id()),
        &root.revoke(None, None)?,
    )?;
    Ok((root, true))
}

/// Puts the root's certificate among those the installation trusts.
fn publish_root(config: &Config, root: &OfficeRoot) -> Result<(), KeyError> {
    let dir = authorities_dir(config);
    std::fs::create_dir_all(&dir).map_err(|e| file_error(&dir, e))?;
    let path = dir.join(format!("{}.pem", root.key_id()));
    let pem = der::EncodePem::to_pem(root.certificate(), der::pem::LineEnding::LF)?;
    std::fs::write(&path, pem).map_err(|e| file_error(&path, e))
}

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
    let root_dir = default_root_dir(config);
    let (root, _) = root_for_issuing(config, &root_dir)?;
    let key = root.issue_signing_key(
        &dir,
        &office_name(config),
        KeyAlgorithm::Ed25519,
        &crl_url(config, &root.key_id()),
    )?;
    let notice = format!(
        "No había una clave de firma configurada: se generó una nueva (Ed25519) en {}, \
         con identificador {}, certificada por la raíz de la oficina {} ({}). \
         Respalde la carpeta de la clave: sin ella no se pueden firmar documentos. \
         Guarde la carpeta de la raíz fuera de este equipo (en un medio sin conexión) y bórrela de aquí: \
         solo se necesita para rotar o revocar claves. Su certificado, el que se entrega a quien \
         quiera verificar los documentos, queda en {}.",
        dir.display(),
        key.key_id,
        root.key_id(),
        root_dir.display(),
        authorities_dir(config).display()
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

/// How a rotation goes: where the root is, and why the old key goes.
#[derive(Debug, Clone, Default)]
pub struct Rotation {
    /// The root's folder; by default where the first run made it.
    pub root_dir: Option<PathBuf>,
    /// Set when the old key was compromised, from when (by default, now).
    pub compromised: Option<Option<DateTime<Utc>>>,
}

/// Retires the key Sello keeps in the data directory and makes a new one,
/// certified by the office's root. The new key is made aside first; the
/// old key's certificate goes, with the moment it stopped signing, under
/// [`retired_keys_dir`], and the root's CRL lists it as superseded (or
/// compromised) from that moment; its private key is destroyed, so it can
/// sign nothing more. An installation from before the roots gets its root
/// here. A key set in the configuration (`signing_key`) is rotated there
/// instead.
pub fn rotate_office_key(config: &Config, rotation: &Rotation) -> Result<OfficeKey, KeyError> {
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
    // Signatures under way finish first and none starts until the new key
    // is in place: none is made by the old key after its revocation's date.
    let claves = config.data_dir.join("claves");
    let _turn = super::KeyTurns::in_folder(&claves).rotating()?;
    let current = OfficeKey::load(&active)?;
    let root_dir = rotation
        .root_dir
        .clone()
        .unwrap_or_else(|| default_root_dir(config));
    let (root, _) = root_for_issuing(config, &root_dir)?;
    // 1. The new key, complete, beside the active one.
    let fresh = claves.join("oficina.nueva");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).map_err(io(&fresh))?;
    }
    root.issue_signing_key(
        &fresh,
        &office_name(config),
        KeyAlgorithm::Ed25519,
        &crl_url(config, &root.key_id()),
    )?;
    // 2. The old certificate and its retirement date, complete; and its
    // revocation, if the root certified it.
    let now = Utc::now();
    let (since, reason) = match rotation.compromised {
        Some(from) => (from.unwrap_or(now).min(now), RevocationReason::KeyCompromise),
        None => (now, RevocationReason::Superseded),
    };
    let retired = retired_keys_dir(config).join(current.key_id.to_string());
    std::fs::create_dir_all(&retired).map_err(io(&retired))?;
    std::fs::copy(active.join(CERT_FILE), retired.join(CERT_FILE)).map_err(io(&retired))?;
    let text = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    std::fs::write(retired.join(RETIRED_AT_FILE), format!("{text}\n")).map_err(io(&retired))?;
    if current.certificate.tbs_certificate().issuer() == root.certificate().tbs_certificate().subject() {
        revoke_with(config, &root, &current.certificate, since, reason)?;
    }
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

/// Revokes a retired key found compromised after its rotation: the root's
/// CRL then lists it as compromised from `since`. A key the CRL already
/// lists keeps its first entry.
pub fn revoke_retired_key(
    config: &Config,
    key_id: &KeyId,
    root_dir: Option<&Path>,
    since: Option<DateTime<Utc>>,
) -> Result<(), KeyError> {
    let folder = retired_keys_dir(config).join(key_id.to_string());
    let certificate = load_certificate(&folder.join(CERT_FILE))?;
    let root_dir = root_dir.map_or_else(|| default_root_dir(config), Path::to_owned);
    let root = OfficeRoot::load(&root_dir)?;
    let now = Utc::now();
    revoke_with(
        config,
        &root,
        &certificate,
        since.unwrap_or(now).min(now),
        RevocationReason::KeyCompromise,
    )
}

/// Signs the root's CRL again, with the same entries and a new validity:
/// what an offline root comes back for once a year.
pub fn renew_crl(config: &Config, root_dir: Option<&Path>) -> Result<u64, KeyError> {
    let root_dir = root_dir.map_or_else(|| default_root_dir(config), Path::to_owned);
    let root = OfficeRoot::load(&root_dir)?;
    let path = crl_path(&crl_dir(config), &root.key_id());
    let previous = read_crl(&path)?;
    let crl = root.revoke(previous.as_ref(), None)?;
    write_crl(&path, &crl)?;
    super::crl_number(&crl).map_err(KeyError::Other)
}

fn revoke_with(
    config: &Config,
    root: &OfficeRoot,
    certificate: &x509_cert::Certificate,
    since: DateTime<Utc>,
    reason: RevocationReason,
) -> Result<(), KeyError> {
    let path = crl_path(&crl_dir(config), &root.key_id());
    let previous = read_crl(&path)?;
    let crl = root.revoke(previous.as_ref(), Some((certificate, since, reason)))?;
    write_crl(&path, &crl)
}

/// The keys the configuration vouches for: the active one (if it exists
/// yet), the retired ones it lists and those Sello retired by rotation.
pub fn trusted_keys(config: &Config) -> Result<TrustedKeys, KeyError> {
    let mut trusted = TrustedKeys::default();
    let crls = crl_dir(config);
    if let Ok(entries) = std::fs::read_dir(authorities_dir(config)) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "pem")) {
            let certificate = load_certificate(path)?;
            let key_id = KeyId::of_certificate(&certificate)?;
            let crl = read_crl(&crl_path(&crls, &key_id))?;
            trusted
                .add_authority(certificate, crl)
                .map_err(|e| file_error(path, e))?;
        }
    }
    let active = config
        .signing_key
        .clone()
        .unwrap_or_else(|| default_key_dir(config));
    let active_cert = active.join(CERT_FILE);
    if active_cert.exists() {
        trusted.add(load_certificate(&active_cert)?, KeyStatus::Active)?;
        // A configured key certified by a root of its own brings that root.
        let issuer = active.join(super::ISSUER_FILE);
        if issuer.exists() {
            let certificate = load_certificate(&issuer)?;
            let key_id = KeyId::of_certificate(&certificate)?;
            if trusted.authority(&key_id).is_none() {
                let crl = read_crl(&crl_path(&crls, &key_id))?;
                trusted
                    .add_authority(certificate, crl)
                    .map_err(|e| file_error(&issuer, e))?;
            }
        }
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
    for root in &config.timestamp.trusted_roots {
        let certificate = <x509_cert::Certificate as der::Decode>::from_der(&root.der)
            .map_err(|e| file_error(&root.file, e))?;
        trusted.add_tsa_root(certificate);
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
