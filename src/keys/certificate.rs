//! The office's certificates: its root (a self-signed authority that only
//! certifies), the signing certificates the root issues, and the
//! stand-alone self-signed signing certificate of `sello keys generate`.

use std::str::FromStr;
use std::time::Duration;

use spki::{SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use super::{KeyError, OfficeKey, SecretKey};

/// How long an office certificate is valid: ten years, the usual retention
/// of these papers; keys are rotated before that.
const VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// How long the office's root is valid: twenty years, so it outlives the
/// signing keys it certifies.
const ROOT_VALIDITY: Duration = Duration::from_secs(20 * 365 * 24 * 3600);

/// What kind of certificate a profile makes.
enum Kind {
    /// A signing certificate that vouches for itself.
    SelfSigned,
    /// The office's root: certifies keys and signs CRLs, nothing else.
    Root,
    /// A signing certificate issued by the root, naming where its CRL is.
    Issued { issuer: Name, crl_url: String },
}

struct OfficeProfile {
    subject: Name,
    kind: Kind,
}

impl BuilderProfile for OfficeProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        match &self.kind {
            Kind::Issued { issuer, .. } => issuer.clone(),
            Kind::SelfSigned | Kind::Root => subject.clone(),
        }
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    // Each extension is built against those already present.
    #[allow(clippy::vec_init_then_push)]
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let root = matches!(self.kind, Kind::Root);
        let mut extensions = Vec::new();
        extensions.push(
            BasicConstraints {
                ca: root,
                // The root certifies signing keys only, never another authority.
                path_len_constraint: root.then_some(0),
            }
            .to_extension(tbs.subject(), &extensions)?,
        );
        let usages = if root {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
        };
        extensions.push(KeyUsage(usages).to_extension(tbs.subject(), &extensions)?);
        extensions.push(SubjectKeyIdentifier::try_from(spk)?.to_extension(tbs.subject(), &extensions)?);
        if let Kind::Issued { crl_url, .. } = &self.kind {
            let issuer_key = SubjectKeyIdentifier::try_from(issuer_spk)?;
            extensions.push(
                AuthorityKeyIdentifier {
                    key_identifier: Some(issuer_key.0),
                    ..Default::default()
                }
                .to_extension(tbs.subject(), &extensions)?,
            );
            let url = der::asn1::Ia5String::new(crl_url)?;
            extensions.push(
                CrlDistributionPoints(vec![DistributionPoint {
                    distribution_point: Some(DistributionPointName::FullName(vec![
                        GeneralName::UniformResourceIdentifier(url),
                    ])),
                    reasons: None,
                    crl_issuer: None,
                }])
                .to_extension(tbs.subject(), &extensions)?,
            );
        }
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
    make(secret, office, Kind::SelfSigned, VALIDITY, None)
}

/// The office's root certificate.
pub(super) fn root(secret: &SecretKey, name: &str) -> Result<Certificate, KeyError> {
    make(secret, name, Kind::Root, ROOT_VALIDITY, None)
}

/// A signing certificate for `secret`, issued by `root`. It ends with the
/// root at the latest: a chain is never valid past its anchor.
pub(super) fn issued(
    secret: &SecretKey,
    office: &str,
    root: &OfficeKey,
    crl_url: &str,
) -> Result<Certificate, KeyError> {
    let kind = Kind::Issued {
        issuer: root.certificate.tbs_certificate().subject().clone(),
        crl_url: crl_url.to_owned(),
    };
    let root_ends = root
        .certificate
        .tbs_certificate()
        .validity()
        .not_after
        .to_system_time();
    let left = root_ends
        .duration_since(std::time::SystemTime::now())
        .map_err(|_| KeyError::Other("el certificado de la raíz ya venció".into()))?;
    make(secret, office, kind, VALIDITY.min(left), Some(&root.secret))
}

/// Whether `certificate` is an authority's (it may certify keys).
pub fn is_authority(certificate: &Certificate) -> bool {
    matches!(
        certificate.tbs_certificate().get_extension::<BasicConstraints>(),
        Ok(Some((_, BasicConstraints { ca: true, .. })))
    )
}

/// Builds a certificate of `kind` for `secret`'s public key, signed by
/// `signer` (the root) or, without one, by `secret` itself.
fn make(
    secret: &SecretKey,
    name: &str,
    kind: Kind,
    validity: Duration,
    signer: Option<&SecretKey>,
) -> Result<Certificate, KeyError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(KeyError::Other(
            "el nombre de la oficina no puede estar vacío".into(),
        ));
    }
    let subject = Name::from_str(&format!("CN={}", escape_dn(name)))
        .map_err(|e| KeyError::Other(format!("nombre de oficina inválido: {e}")))?;
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| KeyError::Other(e.to_string()))?;
    serial[0] &= 0x7F; // positive, as RFC 5280 requires
    serial[0] |= 0x01; // and without a leading zero byte
    let serial = SerialNumber::new(&serial)?;
    let validity = Validity::from_now(validity)?;
    let profile = OfficeProfile { subject, kind };
    let failed =
        |e: x509_cert::builder::Error| KeyError::Other(format!("no se pudo crear el certificado: {e}"));
    let spki = match secret {
        SecretKey::Ed25519(key) => SubjectPublicKeyInfo::from_key(&key.verifying_key()),
        SecretKey::P256(key) => SubjectPublicKeyInfo::from_key(key.verifying_key()),
    }
    .map_err(|e| KeyError::Other(e.to_string()))?;
    let builder = CertificateBuilder::new(profile, serial, validity, spki).map_err(failed)?;
    match signer.unwrap_or(secret) {
        SecretKey::Ed25519(key) => builder.build::<_, ed25519_dalek::Signature>(key).map_err(failed),
        SecretKey::P256(key) => builder.build::<_, p256::ecdsa::DerSignature>(key).map_err(failed),
    }
}

/// The certificate's subject common name: the office's name.
pub fn common_name(certificate: &Certificate) -> Option<String> {
    let name = certificate.tbs_certificate().subject().common_name().ok()??;
    Some(name.value().into_owned())
}
