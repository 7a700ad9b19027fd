//! The office's signing keys: generated here, kept as a PKCS#8 PEM private
//! key (mode 0600) beside an X.509 certificate naming the office, issued by
//! the office's root (`authority`) or, for a stand-alone key, self-signed.
//! A key is known by its key id, derived from its public key.

mod authority;
mod certificate;
mod current;
mod log_key;
mod setup;
mod signature_check;
mod store;
mod turns;

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

pub use authority::{
    OfficeRoot, Revocation, RevocationReason, crl_number, crl_path, read_crl, revocation_of, write_crl,
};
pub use certificate::{common_name as certificate_name, is_authority};
pub use current::{FollowedTrust, KeyInUse, SigningKeys};
pub use log_key::{LogKey, log_key_dir, log_origin};
pub use setup::{
    RETIRED_AT_FILE, Rotation, authorities_dir, certificate_path, crl_dir, crl_url, default_key_dir,
    default_root_dir, office_key, renew_crl, retired_keys_dir, revoke_retired_key, rotate_office_key,
    trusted_keys,
};
pub use signature_check::{Hash, signed_by, signed_by_foreign};
pub use store::{Authority, KeyStatus, KnownKey, SignerVerdict, TrustedKeys};
pub use turns::{KeyTurns, RotatingTurn, SigningTurn};

/// The private key file inside a key folder.
pub const KEY_FILE: &str = "clave.pem";
/// The certificate file inside a key folder.
pub const CERT_FILE: &str = "certificado.pem";
/// The certificate of the root that issued a key's certificate, inside the
/// key's folder; absent for a self-signed key.
pub const ISSUER_FILE: &str = "emisor.pem";

/// The signature algorithms Sello signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    /// Ed25519 (RFC 8032) with SHA-512 in CMS (RFC 8419): the default.
    Ed25519,
    /// ECDSA on P-256 with SHA-256, for validators that lack Ed25519
    /// (Poppler/NSS, OpenSSL 3.0).
    P256,
}

impl KeyAlgorithm {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "ed25519" => Ok(Self::Ed25519),
            "p256" | "p-256" | "ecdsa-p256" => Ok(Self::P256),
            _ => Err(format!("algoritmo «{text}» desconocido: use ed25519 o p256")),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Ed25519 => "Ed25519",
            Self::P256 => "ECDSA P-256",
        }
    }
}

/// Identifies a key: the first 8 bytes of the SHA-256 of its public key
/// (SubjectPublicKeyInfo, DER), in hexadecimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 8]);

impl KeyId {
    pub fn of_public_key(spki_der: &[u8]) -> Self {
        let digest = Sha256::digest(spki_der);
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Self(id)
    }

    pub fn of_certificate(certificate: &Certificate) -> Result<Self, KeyError> {
        let spki = certificate.tbs_certificate().subject_public_key_info().to_der()?;
        Ok(Self::of_public_key(&spki))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let clean: String = text.chars().filter(|c| !matches!(c, ':' | '-' | ' ')).collect();
        let bytes = (0..clean.len())
            .step_by(2)
            .map(|i| clean.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>();
        match bytes {
            Some(bytes) if bytes.len() == 8 => {
                let mut id = [0u8; 8];
                id.copy_from_slice(&bytes);
                Ok(Self(id))
            }
            _ => Err(format!(
                "«{text}» no es un identificador de clave (16 dígitos hexadecimales)"
            )),
        }
    }

    pub fn bytes(&self) -> [u8; 8] {
        self.0
    }

    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// What went wrong with a key; never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error(
        "{}: otros usuarios pueden leer la clave privada; ejecute «chmod 600 {}»",
        path.display(),
        path.display()
    )]
    Exposed { path: PathBuf },
    #[error("certificado inválido: {0}")]
    Der(#[from] der::Error),
    #[error("{0}")]
    Other(String),
}

fn file_error(path: &Path, message: impl fmt::Display) -> KeyError {
    KeyError::File {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// The private half of a key. Its `Debug` never shows the key.
pub enum SecretKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// A signing key of the office, with its certificate.
#[derive(Debug)]
pub struct OfficeKey {
    pub algorithm: KeyAlgorithm,
    pub secret: SecretKey,
    pub certificate: Certificate,
    pub certificate_der: Vec<u8>,
    pub key_id: KeyId,
    /// The certificates above this one, up to the root; empty when the
    /// certificate is self-signed. Signatures carry them.
    pub chain: Vec<Certificate>,
}

impl OfficeKey {
    /// Generates a key and its certificate into `dir` (created if needed).
    /// Refuses to overwrite an existing key.
    pub fn generate(dir: &Path, office: &str, algorithm: KeyAlgorithm) -> Result<Self, KeyError> {
        let secret = generate_secret(algorithm)?;
        let certificate = certificate::self_signed(&secret, office)?;
        write_key_folder(dir, &secret, &certificate)?;
        Self::from_parts(secret, certificate, Vec::new())
    }

    /// Loads the key in `dir`, refusing a private key others can read.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let key_path = dir.join(KEY_FILE);
        refuse_if_exposed(&key_path)?;
        let pem = fs::read_to_string(&key_path).map_err(|e| file_error(&key_path, e))?;
        let certificate = load_certificate(&dir.join(CERT_FILE))?;
        let algorithm = algorithm_of(&certificate)?;
        let secret = match algorithm {
            KeyAlgorithm::Ed25519 => ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).map(SecretKey::Ed25519),
            KeyAlgorithm::P256 => p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).map(SecretKey::P256),
        }
        .map_err(|_| {
            file_error(
                &key_path,
                "no es una clave privada PKCS#8 válida para su certificado",
            )
        })?;
        let issuer_path = dir.join(ISSUER_FILE);
        let chain = if issuer_path.exists() {
            vec![load_certificate(&issuer_path)?]
        } else {
            Vec::new()
        };
        let key = Self::from_parts(secret, certificate, chain)?;
        if key.public_key_der()?
            != key
                .certificate
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()?
        {
            return Err(file_error(
                &key_path,
                "la clave privada no corresponde al certificado",
            ));
        }
        Ok(key)
    }

    fn from_parts(
        secret: SecretKey,
        certificate: Certificate,
        chain: Vec<Certificate>,
    ) -> Result<Self, KeyError> {
        let algorithm = match secret {
            SecretKey::Ed25519(_) => KeyAlgorithm::Ed25519,
            SecretKey::P256(_) => KeyAlgorithm::P256,
        };
        Ok(Self {
            algorithm,
            key_id: KeyId::of_certificate(&certificate)?,
            certificate_der: certificate.to_der()?,
            certificate,
            secret,
            chain,
        })
    }

    fn public_key_der(&self) -> Result<Vec<u8>, KeyError> {
        use spki::EncodePublicKey;
        let der = match &self.secret {
            SecretKey::Ed25519(key) => key.verifying_key().to_public_key_der(),
            SecretKey::P256(key) => key.verifying_key().to_public_key_der(),
        }
        .map_err(|e| KeyError::Other(e.to_string()))?;
        Ok(der.as_bytes().to_vec())
    }

    /// Signs `message` (raw signature bytes: 64 for either algorithm).
    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        use signature::Signer;
        match &self.secret {
            SecretKey::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
            SecretKey::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
        }
    }

    /// The office name the certificate carries.
    pub fn subject_name(&self) -> String {
        certificate::common_name(&self.certificate).unwrap_or_default()
    }
}

/// The algorithm of a certificate's public key.
pub fn algorithm_of(certificate: &Certificate) -> Result<KeyAlgorithm, KeyError> {
    let spki = certificate.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid == const_oid::db::rfc8410::ID_ED_25519 {
        Ok(KeyAlgorithm::Ed25519)
    } else if spki.algorithm.oid == const_oid::db::rfc5912::ID_EC_PUBLIC_KEY {
        Ok(KeyAlgorithm::P256)
    } else {
        Err(KeyError::Other(
            "el certificado usa un algoritmo que Sello no admite".into(),
        ))
    }
}

/// Reads a PEM certificate.
pub fn load_certificate(path: &Path) -> Result<Certificate, KeyError> {
    let pem = fs::read(path).map_err(|e| file_error(path, e))?;
    parse_certificate(&pem).map_err(|e| file_error(path, e))
}

/// Every certificate in `path`: a PEM file may hold several, as the
/// `certificado.pem` of an expediente's export does (roots and keys).
pub fn load_certificates(path: &Path) -> Result<Vec<Certificate>, KeyError> {
    let bytes = fs::read(path).map_err(|e| file_error(path, e))?;
    if bytes.starts_with(b"-----BEGIN") {
        Certificate::load_pem_chain(&bytes).map_err(|e| file_error(path, KeyError::from(e)))
    } else {
        Ok(vec![
            Certificate::from_der(&bytes).map_err(|e| file_error(path, KeyError::from(e)))?,
        ])
    }
}

/// Parses a certificate in PEM or DER.
pub fn parse_certificate(bytes: &[u8]) -> Result<Certificate, KeyError> {
    if bytes.starts_with(b"-----BEGIN") {
        Ok(der::DecodePem::from_pem(bytes)?)
    } else {
        Ok(Certificate::from_der(bytes)?)
    }
}

fn generate_secret(algorithm: KeyAlgorithm) -> Result<SecretKey, KeyError> {
    Ok(match algorithm {
        KeyAlgorithm::Ed25519 => SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&random_bytes()?)),
        KeyAlgorithm::P256 => loop {
            // A random scalar is valid unless it is zero or beyond the
            // group order, which essentially never happens.
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&random_bytes()?) {
                break SecretKey::P256(key);
            }
        },
    })
}

/// Writes a new key folder: the private key (0600) and its certificate.
fn write_key_folder(dir: &Path, secret: &SecretKey, certificate: &Certificate) -> Result<(), KeyError> {
    let pem = match secret {
        SecretKey::Ed25519(key) => key.to_pkcs8_pem(LineEnding::LF),
        SecretKey::P256(key) => key.to_pkcs8_pem(LineEnding::LF),
    }
    .map_err(|e| KeyError::Other(format!("no se pudo codificar la clave: {e}")))?;
    let certificate_pem = der::EncodePem::to_pem(certificate, LineEnding::LF)?;
    create_private_dir(dir)?;
    write_new(&dir.join(KEY_FILE), pem.as_bytes(), 0o600)?;
    write_new(&dir.join(CERT_FILE), certificate_pem.as_bytes(), 0o644)
}

fn random_bytes() -> Result<[u8; 32], KeyError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| KeyError::Other(format!("generador aleatorio del sistema: {e}")))?;
    Ok(bytes)
}

fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| file_error(dir, e))?;
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            file_error(path, "ya existe; Sello no sobrescribe claves")
        } else {
            file_error(path, e)
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| file_error(path, e))
}

fn refuse_if_exposed(path: &Path) -> Result<(), KeyError> {
    let metadata = fs::metadata(path).map_err(|e| file_error(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_owned(),
            });
        }
    }
    let _ = metadata;
    Ok(())
}
