//! The detached CMS SignedData inside a PDF signature (SubFilter
//! `ETSI.CAdES.detached`): built with RustCrypto's `cms`, and checked here.
//!
//! Signed attributes: content-type, message-digest, signing-time and
//! signing-certificate-v2 (which binds the signer's certificate, as CAdES
//! requires). Ed25519 digests with SHA-512 (RFC 8419); P-256 with SHA-256.
//!
//! Long because building and checking the SignedData belong together (the
//! checker must accept exactly what the builder writes, and the CAdES
//! fields of other signers), with their unit tests.

use chrono::{DateTime, Utc};
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode, Sequence, Tagged as _};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use super::tsp::{self, TimeStamp};
use crate::keys::{KeyAlgorithm, OfficeKey, SecretKey, algorithm_of, signed_by};

/// The signer's certificate and its root: all a Sello signature carries.
const MAX_CERTIFICATES: usize = 2;

/// id-aa-signingCertificateV2 (RFC 5035).
const SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// ESSCertIDv2 (RFC 5035 §4): Sello writes only `certHash` (SHA-256, the
/// default, is left out as DER requires); other signers may give the hash
/// algorithm and the certificate's issuer and serial number.
#[derive(Sequence)]
pub(crate) struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// IssuerSerial (RFC 5035): who issued the certificate, and its number.
#[derive(Sequence)]
pub(crate) struct IssuerSerial {
    pub issuer: GeneralNames,
    pub serial_number: SerialNumber,
}

/// SigningCertificateV2; policies, if any, are read and not used.
#[derive(Sequence)]
pub(crate) struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub policies: Option<Vec<Any>>,
}

impl EssCertIdV2 {
    /// Whether this names `certificate`: its hash, by the algorithm given
    /// (SHA-256 by default), and its issuer and serial number if given.
    pub fn names(&self, certificate: &Certificate, certificate_der: &[u8]) -> Result<bool, String> {
        let oid = self
            .hash_algorithm
            .as_ref()
            .map_or(rfc5912::ID_SHA_256, |a| a.oid);
        let hash = if oid == rfc5912::ID_SHA_256 {
            Sha256::digest(certificate_der).to_vec()
        } else if oid == rfc5912::ID_SHA_384 {
            Sha384::digest(certificate_der).to_vec()
        } else if oid == rfc5912::ID_SHA_512 {
            Sha512::digest(certificate_der).to_vec()
        } else {
            return Err(format!(
                "signing-certificate-v2 usa un algoritmo de resumen no admitido ({oid})"
            ));
        };
        if self.cert_hash.as_bytes() != hash.as_slice() {
            return Ok(false);
        }
        Ok(self
            .issuer_serial
            .as_ref()
            .is_none_or(|given| given.names(certificate)))
    }
}

impl IssuerSerial {
    /// Whether this is `certificate`'s issuer and serial number.
    pub fn names(&self, certificate: &Certificate) -> bool {
        let tbs = certificate.tbs_certificate();
        &self.serial_number == tbs.serial_number()
            && self
                .issuer
                .iter()
                .any(|name| matches!(name, GeneralName::DirectoryName(n) if n == tbs.issuer()))
    }
}

/// The digest the algorithm's CMS profile requires.
pub fn digest_of(algorithm: KeyAlgorithm, parts: &[&[u8]]) -> Vec<u8> {
    match algorithm {
        KeyAlgorithm::Ed25519 => {
            let mut hasher = Sha512::new();
            parts.iter().for_each(|p| hasher.update(p));
            hasher.finalize().to_vec()
        }
        KeyAlgorithm::P256 => {
            let mut hasher = Sha256::new();
            parts.iter().for_each(|p| hasher.update(p));
            hasher.finalize().to_vec()
        }
    }
}

fn digest_algorithm(algorithm: KeyAlgorithm) -> AlgorithmIdentifierOwned {
    let oid = match algorithm {
        KeyAlgorithm::Ed25519 => rfc5912::ID_SHA_512,
        KeyAlgorithm::P256 => rfc5912::ID_SHA_256,
    };
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// Whether `found` is the digest algorithm `expected` (which Sello writes
/// without parameters). Other signers (pyHanko among them) give SHA-2 a
/// NULL parameter, which RFC 5754 §2 says to accept as well; nothing else.
fn names_digest(found: &AlgorithmIdentifierOwned, expected: &AlgorithmIdentifierOwned) -> bool {
    found.oid == expected.oid
        && found
            .parameters
            .as_ref()
            .is_none_or(|p| p.tag() == der::Tag::Null && p.value().is_empty())
}

fn attribute(oid: ObjectIdentifier, value: Any) -> der::Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}

/// Builds the DER CMS for `message_digest` (the digest of the byte ranges).
pub fn sign(key: &OfficeKey, message_digest: &[u8], signing_time: DateTime<Utc>) -> Result<Vec<u8>, String> {
    let certificate_hash = Sha256::digest(&key.certificate_der).to_vec();
    let id = EssCertIdV2 {
        hash_algorithm: None,
        cert_hash: OctetString::new(certificate_hash)
            .map_err(|e| format!("no se pudo construir la firma CMS: {e}"))?,
        issuer_serial: None,
    };
    sign_naming(key, message_digest, signing_time, id)
}

/// [`sign`], with the signing certificate named by `id`.
pub(crate) fn sign_naming(
    key: &OfficeKey,
    message_digest: &[u8],
    signing_time: DateTime<Utc>,
    id: EssCertIdV2,
) -> Result<Vec<u8>, String> {
    let failed = |e: &dyn std::fmt::Display| format!("no se pudo construir la firma CMS: {e}");
    let content = EncapsulatedContentInfo {
        econtent_type: rfc5911::ID_DATA,
        econtent: None,
    };
    let tbs = key.certificate.tbs_certificate();
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: tbs.issuer().clone(),
        serial_number: tbs.serial_number().clone(),
    });
    let seconds = u64::try_from(signing_time.timestamp()).map_err(|e| failed(&e))?;
    let time = Time::UtcTime(
        UtcTime::from_unix_duration(std::time::Duration::from_secs(seconds)).map_err(|e| failed(&e))?,
    );
    let signing_certificate = SigningCertificateV2 {
        certs: vec![id],
        policies: None,
    };

    let digest_alg = digest_algorithm(key.algorithm);
    let mut signer_info = SignerInfoBuilder::new(sid, digest_alg.clone(), &content, Some(message_digest))
        .map_err(|e| failed(&e))?;
    signer_info
        .add_signed_attribute(
            attribute(
                rfc5911::ID_SIGNING_TIME,
                Any::encode_from(&time).map_err(|e| failed(&e))?,
            )
            .map_err(|e| failed(&e))?,
        )
        .map_err(|e| failed(&e))?;
    signer_info
        .add_signed_attribute(
            attribute(
                SIGNING_CERTIFICATE_V2,
                Any::encode_from(&signing_certificate).map_err(|e| failed(&e))?,
            )
            .map_err(|e| failed(&e))?,
        )
        .map_err(|e| failed(&e))?;

    let mut signed_data = SignedDataBuilder::new(&content);
    signed_data
        .add_digest_algorithm(digest_alg)
        .map_err(|e| failed(&e))?;
    // The signer's certificate, then those above it: a validator that
    // trusts the office's root can build the path from the signature alone.
    for certificate in std::iter::once(&key.certificate).chain(&key.chain) {
        signed_data
            .add_certificate(CertificateChoices::Certificate(certificate.clone()))
            .map_err(|e| failed(&e))?;
    }
    match &key.secret {
        SecretKey::Ed25519(secret) => {
            signed_data.add_signer_info::<_, ed25519_dalek::Signature>(signer_info, secret)
        }
        SecretKey::P256(secret) => {
            signed_data.add_signer_info::<_, p256::ecdsa::DerSignature>(signer_info, secret)
        }
    }
    .map_err(|e| failed(&e))?;
    let content_info = signed_data.build().map_err(|e| failed(&e))?;
    content_info.to_der().map_err(|e| failed(&e))
}

/// What a valid CMS vouches for.
#[derive(Debug, Clone)]
pub struct CmsSigner {
    pub certificate: Certificate,
    /// The other certificates the signature carries (its root, for Sello's).
    pub carried: Vec<Certificate>,
    pub algorithm: KeyAlgorithm,
    pub signing_time: Option<DateTime<Utc>>,
    /// The signature's RFC 3161 time-stamp, its imprint checked.
    pub timestamp: Option<TimeStamp>,
}

/// Checks a DER CMS against the signed byte ranges. The error says why the
/// signature is not valid, in Spanish.
pub fn verify(der_bytes: &[u8], signed_parts: &[&[u8]]) -> Result<CmsSigner, String> {
    let content_info =
        ContentInfo::from_der(der_bytes).map_err(|_| "la firma CMS está mal formada".to_owned())?;
    if content_info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err("la firma no es un SignedData de CMS".into());
    }
    let signed_data: SignedData = content_info
        .content
        .decode_as()
        .map_err(|_| "la firma CMS está mal formada".to_owned())?;
    if signed_data.encap_content_info.econtent.is_some()
        || signed_data.encap_content_info.econtent_type != rfc5911::ID_DATA
    {
        return Err("la firma CMS no es separada (detached) sobre datos".into());
    }
    // Fields outside the signed attributes are pinned to what Sello writes,
    // so no bit of the CMS can change without the verdict changing.
    let certificates = signed_data.certificates.as_ref().map_or(0, |set| set.0.len());
    if signed_data.version != CmsVersion::V1
        || signed_data.crls.is_some()
        || !(1..=MAX_CERTIFICATES).contains(&certificates)
        || signed_data.digest_algorithms.len() != 1
    {
        return Err("la firma CMS no tiene la estructura que Sello escribe".into());
    }
    let signer_infos: Vec<_> = signed_data.signer_infos.0.iter().collect();
    let [signer_info] = signer_infos.as_slice() else {
        return Err("la firma CMS debe tener exactamente un firmante".into());
    };
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer_info.sid else {
        return Err("la firma CMS no identifica al firmante por emisor y número de serie".into());
    };
    let certificate = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|choice| match choice {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate().issuer() == &sid.issuer
                    && c.tbs_certificate().serial_number() == &sid.serial_number =>
            {
                Some(c.clone())
            }
            _ => None,
        })
        .ok_or("la firma CMS no incluye el certificado del firmante")?;
    let algorithm = algorithm_of(&certificate).map_err(|e| e.to_string())?;
    let expected_digest = digest_algorithm(algorithm);
    if !names_digest(&signer_info.digest_alg, &expected_digest)
        || !signed_data
            .digest_algorithms
            .get(0)
            .is_some_and(|found| names_digest(found, &expected_digest))
    {
        return Err("algoritmo de resumen inesperado para la clave del firmante".into());
    }
    if signer_info.version != CmsVersion::V1 {
        return Err("la firma CMS no tiene la estructura que Sello escribe".into());
    }
    // The one unsigned attribute Sello writes: the signature's time-stamp,
    // whose imprint must be the signature value's.
    let timestamp = match &signer_info.unsigned_attrs {
        None => None,
        Some(attributes) => {
            let attributes: Vec<_> = attributes.iter().collect();
            let [attribute] = attributes.as_slice() else {
                return Err("la firma CMS no tiene la estructura que Sello escribe".into());
            };
            let (Some(token), 1) = (attribute.values.get(0), attribute.values.len()) else {
                return Err("la firma CMS no tiene la estructura que Sello escribe".into());
            };
            if attribute.oid != tsp::ID_AA_TIME_STAMP_TOKEN {
                return Err("la firma CMS no tiene la estructura que Sello escribe".into());
            }
            let token = token.to_der().map_err(|e| e.to_string())?;
            Some(tsp::read_token(&token, signer_info.signature.as_bytes())?)
        }
    };

    let attributes = signer_info
        .signed_attrs
        .as_ref()
        .ok_or("la firma CMS no tiene atributos firmados")?;
    let single = |oid: ObjectIdentifier| -> Result<&Any, String> {
        let found: Vec<_> = attributes.iter().filter(|a| a.oid == oid).collect();
        match found.as_slice() {
            [attribute] if attribute.values.len() == 1 => {
                attribute.values.get(0).ok_or_else(|| "atributo vacío".to_owned())
            }
            _ => Err(format!("atributo firmado {oid} ausente o repetido")),
        }
    };
    let content_type: ObjectIdentifier = single(rfc5911::ID_CONTENT_TYPE)?
        .decode_as()
        .map_err(|_| "tipo de contenido ilegible")?;
    if content_type != rfc5911::ID_DATA {
        return Err("tipo de contenido firmado inesperado".into());
    }
    let digest: OctetString = single(rfc5911::ID_MESSAGE_DIGEST)?
        .decode_as()
        .map_err(|_| "resumen firmado ilegible")?;
    if digest.as_bytes() != digest_of(algorithm, signed_parts).as_slice() {
        return Err("el documento fue modificado: su resumen no coincide con el firmado".into());
    }
    let signing_certificate: SigningCertificateV2 = single(SIGNING_CERTIFICATE_V2)?
        .decode_as()
        .map_err(|_| "atributo signing-certificate-v2 ilegible")?;
    let certificate_der = certificate.to_der().map_err(|e| e.to_string())?;
    // The first ESSCertIDv2 names the signer's certificate (RFC 5035 §5.4).
    let bound = match signing_certificate.certs.first() {
        Some(id) => id.names(&certificate, &certificate_der)?,
        None => false,
    };
    if !bound {
        return Err("el atributo signing-certificate-v2 no corresponde al certificado".into());
    }
    let signing_time = single(rfc5911::ID_SIGNING_TIME)
        .ok()
        .and_then(|any| any.decode_as::<Time>().ok())
        .and_then(|time| DateTime::<Utc>::from_timestamp(time.to_unix_duration().as_secs() as i64, 0));

    let signed_attributes_der = attributes.to_der().map_err(|e| e.to_string())?;
    let valid = signed_by(
        certificate.tbs_certificate().subject_public_key_info(),
        &signer_info.signature_algorithm,
        &signed_attributes_der,
        signer_info.signature.as_bytes(),
    );
    if !valid {
        return Err("la firma criptográfica no es válida".into());
    }
    let carried = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) if c != &certificate => Some(c.clone()),
            _ => None,
        })
        .collect();
    Ok(CmsSigner {
        certificate,
        carried,
        algorithm,
        signing_time,
        timestamp,
    })
}

/// Adds to a CMS the time-stamp `stamper` gives for its signature value,
/// as the signer's unsigned attribute id-aa-timeStampToken (PAdES B-T).
pub fn with_signature_timestamp(
    cms_der: &[u8],
    stamper: impl FnOnce(&[u8]) -> Result<TimeStamp, String>,
) -> Result<(Vec<u8>, TimeStamp), String> {
    let failed = |e: &dyn std::fmt::Display| format!("no se pudo agregar el sello de tiempo: {e}");
    let content_info = ContentInfo::from_der(cms_der).map_err(|e| failed(&e))?;
    let mut signed_data: SignedData = content_info.content.decode_as().map_err(|e| failed(&e))?;
    let mut signer_infos = signed_data.signer_infos.0.into_vec();
    let [signer_info] = signer_infos.as_mut_slice() else {
        return Err(failed(&"la firma no tiene un solo firmante"));
    };
    let stamp = stamper(signer_info.signature.as_bytes())?;
    let token = Any::from_der(&stamp.token).map_err(|e| failed(&e))?;
    let mut unsigned = SetOfVec::new();
    unsigned
        .insert(attribute(tsp::ID_AA_TIME_STAMP_TOKEN, token).map_err(|e| failed(&e))?)
        .map_err(|e| failed(&e))?;
    signer_info.unsigned_attrs = Some(unsigned);
    signed_data.signer_infos =
        cms::signed_data::SignerInfos(SetOfVec::try_from(signer_infos).map_err(|e| failed(&e))?);
    let stamped = ContentInfo {
        content_type: content_info.content_type,
        content: Any::encode_from(&signed_data).map_err(|e| failed(&e))?,
    };
    Ok((stamped.to_der().map_err(|e| failed(&e))?, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyAlgorithm;

    fn key(algorithm: KeyAlgorithm) -> (OfficeKey, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let key = OfficeKey::generate(&dir.path().join("k"), "Oficina externa", algorithm).unwrap();
        (key, dir)
    }

    /// An ESSCertIDv2 as other CAdES signers write it: hash algorithm
    /// spelled out and issuerSerial present.
    fn full_id(key: &OfficeKey, hash: ObjectIdentifier, serial: SerialNumber) -> EssCertIdV2 {
        let digest = if hash == rfc5912::ID_SHA_512 {
            Sha512::digest(&key.certificate_der).to_vec()
        } else {
            Sha256::digest(&key.certificate_der).to_vec()
        };
        EssCertIdV2 {
            hash_algorithm: Some(AlgorithmIdentifierOwned {
                oid: hash,
                parameters: None,
            }),
            cert_hash: OctetString::new(digest).unwrap(),
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    key.certificate.tbs_certificate().issuer().clone(),
                )],
                serial_number: serial,
            }),
        }
    }

    #[test]
    fn a_signing_certificate_with_issuer_serial_and_hash_algorithm_is_read_and_checked() {
        let parts: [&[u8]; 2] = [b"%PDF-1.7 antes", b"despues"];
        for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::P256] {
            let (key, _dir) = key(algorithm);
            let digest = digest_of(algorithm, &parts);
            let serial = key.certificate.tbs_certificate().serial_number().clone();
            for hash in [rfc5912::ID_SHA_256, rfc5912::ID_SHA_512] {
                let id = full_id(&key, hash, serial.clone());
                let cms = sign_naming(&key, &digest, Utc::now(), id).unwrap();
                let signer = verify(&cms, &parts).unwrap_or_else(|e| panic!("{algorithm:?} {hash}: {e}"));
                assert_eq!(signer.certificate, key.certificate);
            }
            // issuerSerial naming another certificate is refused.
            let other = SerialNumber::new(&[0x7f, 0x01, 0x02]).unwrap();
            let cms = sign_naming(
                &key,
                &digest,
                Utc::now(),
                full_id(&key, rfc5912::ID_SHA_256, other),
            )
            .unwrap();
            assert!(
                verify(&cms, &parts)
                    .unwrap_err()
                    .contains("no corresponde al certificado"),
                "{algorithm:?}"
            );
            // The hash of another certificate is refused.
            let mut wrong = full_id(&key, rfc5912::ID_SHA_256, serial.clone());
            wrong.cert_hash = OctetString::new(vec![0u8; 32]).unwrap();
            let cms = sign_naming(&key, &digest, Utc::now(), wrong).unwrap();
            assert!(
                verify(&cms, &parts)
                    .unwrap_err()
                    .contains("no corresponde al certificado")
            );
        }
    }

    #[test]
    fn sello_writes_only_the_certificate_hash() {
        let (key, _dir) = key(KeyAlgorithm::Ed25519);
        let parts: [&[u8]; 1] = [b"%PDF-1.7"];
        let cms = sign(&key, &digest_of(KeyAlgorithm::Ed25519, &parts), Utc::now()).unwrap();
        assert!(verify(&cms, &parts).is_ok());
        let minimal = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(Sha256::digest(&key.certificate_der).to_vec()).unwrap(),
                issuer_serial: None,
            }],
            policies: None,
        }
        .to_der()
        .unwrap();
        assert!(
            cms.windows(minimal.len()).any(|w| w == minimal.as_slice()),
            "the attribute Sello writes is unchanged"
        );
    }
}
