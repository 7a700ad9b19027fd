//! The office's self-signed certificate: it names the office and carries
//! the public key. Validators use it as the trust anchor.

use std::str::FromStr;
use std::time::Duration;

use spki::{SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use super::{KeyError, SecretKey};

/// How long an office certificate is valid: ten years, the usual retention
/// of these papers; keys are rotated before that.
const VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A self-signed end-entity certificate for signing documents.
struct OfficeProfile {
    subject: Name,
}

impl BuilderProfile for OfficeProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    // Each extension is built against those already present.
    #[allow(clippy::vec_init_then_push)]
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut extensions = Vec::new();
        extensions.push(
            BasicConstraints {
                ca: false,
                path_len_constraint: None,
            }
            .to_extension(tbs.subject(), &extensions)?,
        );
        extensions.push(
            KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation)
                .to_extension(tbs.subject(), &extensions)?,
        );
        extensions.push(SubjectKeyIdentifier::try_from(spk)?.to_extension(tbs.subject(), &extensions)?);
        Ok(extensions)
    }
}

/// Escapes a value for an RFC 4514 distinguished name.
fn escape_dn(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i + 1 == value.chars().count() && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn self_signed(secret: &SecretKey, office: &str) -> Result<Certificate, KeyError> {
    let office = office.trim();
    if office.is_empty() {
        return Err(KeyError::Other(
            "el nombre de la oficina no puede estar vacío".into(),
        ));
    }
    let subject = Name::from_str(&format!("CN={}", escape_dn(office)))
        .map_err(|e| KeyError::Other(format!("nombre de oficina inválido: {e}")))?;
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| KeyError::Other(e.to_string()))?;
    serial[0] &= 0x7F; // positive, as RFC 5280 requires
    serial[0] |= 0x01; // and without a leading zero byte
    let serial = SerialNumber::new(&serial)?;
    let validity = Validity::from_now(VALIDITY)?;
    let profile = OfficeProfile { subject };
    let failed =
        |e: x509_cert::builder::Error| KeyError::Other(format!("no se pudo crear el certificado: {e}"));
    match secret {
        SecretKey::Ed25519(key) => {
            let spki = SubjectPublicKeyInfo::from_key(&key.verifying_key())
                .map_err(|e| KeyError::Other(e.to_string()))?;
            let builder = CertificateBuilder::new(profile, serial, validity, spki).map_err(failed)?;
            builder.build::<_, ed25519_dalek::Signature>(key).map_err(failed)
        }
        SecretKey::P256(key) => {
            let spki = SubjectPublicKeyInfo::from_key(key.verifying_key())
                .map_err(|e| KeyError::Other(e.to_string()))?;
            let builder = CertificateBuilder::new(profile, serial, validity, spki).map_err(failed)?;
            builder.build::<_, p256::ecdsa::DerSignature>(key).map_err(failed)
        }
    }
}

/// The certificate's subject common name: the office's name.
pub fn common_name(certificate: &Certificate) -> Option<String> {
    let name = certificate.tbs_certificate().subject().common_name().ok()??;
    Some(name.value().into_owned())
}
