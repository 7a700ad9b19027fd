//! Whether an RFC 3161 time-stamp token proves its time: the token's own
//! CMS signature (signed attributes with content type id-ct-TSTInfo, a
//! message digest over the TSTInfo, and ESSCertID or ESSCertIDv2 binding
//! the TSA's certificate), that certificate's chain up to a trusted TSA
//! root, its extended key usage (timeStamping, critical and alone, RFC 3161
//! §2.3), and every certificate of the chain valid at the token's time.
//!
//! Only a proven time may vouch for a signature made by a key later found
//! compromised: anyone holding the stolen key could write any signing
//! time, but not a TSA's signature. The token's imprint (that it stamps
//! this signature) is checked by `tsp::read_token`, before this.

use chrono::{DateTime, Utc};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc3161, rfc5280, rfc5911};
use der::asn1::OctetString;
use der::{Any, Decode, Encode, Sequence};
use sha1::Sha1;
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, ExtendedKeyUsage, SubjectKeyIdentifier};

use super::cms::{IssuerSerial, SigningCertificateV2};
use super::tsp::{generalized_time, tst_info};
use crate::keys::{Hash, is_authority, signed_by_foreign};

/// Certificates between a TSA and its root, at most.
const MAX_CHAIN: usize = 4;
/// The largest token read: a real one, with its TSA's chain, takes a few
/// KB. Tokens come from uploaded documents: anything bigger is refused
/// before it is parsed.
pub(crate) const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Certificates a token may carry: its TSA's, a few intermediates, a root.
const MAX_CERTIFICATES: usize = 8;
/// Signature checks spent on one token, its own included: each may use a
/// key the uploader chose.
const MAX_SIGNATURE_CHECKS: usize = 16;

/// What a verified token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampProof {
    /// When the TSA says the stamped bytes existed.
    pub time: DateTime<Utc>,
    /// The latest moment they may have come to exist: `time` plus the
    /// accuracy the TSA states. What a compromise is judged against.
    pub latest: DateTime<Utc>,
    /// The TSA's certificate subject.
    pub tsa: String,
    /// The subject of the trusted root its chain ends in.
    pub root: String,
}

/// ESSCertID (RFC 2634 §5.4.1): the SHA-1 of the signer's certificate.
#[derive(Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// SigningCertificate (RFC 2634 §5.4); policies are read and not used.
#[derive(Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

/// Checks that `token` was signed by a TSA whose chain ends in one of
/// `roots`. The error says why it proves nothing, in Spanish.
pub fn prove(token: &[u8], roots: &[Certificate]) -> Result<TimestampProof, String> {
    prove_chain(token, roots).map(|(proof, _)| proof)
}

/// [`prove`], and the token's certificates its chain was built from: its
/// TSA's first, then each issuer up to (not including) the trusted root.
pub(super) fn prove_chain(
    token: &[u8],
    roots: &[Certificate],
) -> Result<(TimestampProof, Vec<Certificate>), String> {
    if roots.is_empty() {
        return Err("no hay raíces de TSA de confianza con que comprobarlo".into());
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(format!(
            "el sello de tiempo es demasiado grande ({} bytes; se admiten hasta {MAX_TOKEN_BYTES})",
            token.len()
        ));
    }
    let malformed = || "el sello de tiempo está mal formado".to_owned();
    let content_info = ContentInfo::from_der(token).map_err(|_| malformed())?;
    if content_info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(malformed());
    }
    let signed_data: SignedData = content_info.content.decode_as().map_err(|_| malformed())?;
    let carried = signed_data.certificates.as_ref().map_or(0, |set| set.0.len());
    if carried > MAX_CERTIFICATES {
        return Err(format!(
            "el sello de tiempo trae demasiados certificados ({carried}; se admiten hasta {MAX_CERTIFICATES})"
        ));
    }
    let (econtent, info) = tst_info(&signed_data)?;
    let time = generalized_time(&info.gen_time)?;

    let signers: Vec<_> = signed_data.signer_infos.0.iter().collect();
    let [signer] = signers.as_slice() else {
        return Err("el sello de tiempo debe tener exactamente un firmante".into());
    };
    let pool: Vec<&Certificate> = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    let tsa = pool
        .iter()
        .copied()
        .find(|c| identifies(&signer.sid, c))
        .ok_or("el sello de tiempo no incluye el certificado de la TSA que lo firmó")?;

    let attributes = signer
        .signed_attrs
        .as_ref()
        .ok_or("el sello de tiempo no tiene atributos firmados")?;
    let single = |oid: ObjectIdentifier| -> Option<&Any> {
        let found: Vec<_> = attributes.iter().filter(|a| a.oid == oid).collect();
        match found.as_slice() {
            [attribute] if attribute.values.len() == 1 => attribute.values.get(0),
            _ => None,
        }
    };
    let content_type: ObjectIdentifier = single(rfc5911::ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as().ok())
        .ok_or("el sello de tiempo no declara su tipo de contenido firmado")?;
    if content_type != rfc3161::ID_CT_TST_INFO {
        return Err("el tipo de contenido firmado del sello de tiempo no es TSTInfo".into());
    }
    let hash = Hash::of_oid(signer.digest_alg.oid).ok_or_else(|| {
        format!(
            "el sello de tiempo usa un resumen no admitido ({})",
            signer.digest_alg.oid
        )
    })?;
    let digest: OctetString = single(rfc5911::ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as().ok())
        .ok_or("el sello de tiempo no tiene resumen firmado")?;
    if digest.as_bytes() != hash.digest(econtent.as_bytes()).as_slice() {
        return Err("el sello de tiempo fue alterado: su resumen no coincide".into());
    }
    binds(&single, tsa)?;
    let signed_attributes = attributes.to_der().map_err(|_| malformed())?;
    signed_by_foreign(
        tsa.tbs_certificate().subject_public_key_info(),
        &signer.signature_algorithm,
        Some(&signer.digest_alg),
        &signed_attributes,
        signer.signature.as_bytes(),
    )
    .map_err(|e| format!("la firma del sello de tiempo no es válida: {e}"))?;

    time_stamping_only(tsa)?;
    let mut budget = Budget(MAX_SIGNATURE_CHECKS - 1);
    let mut chain = Vec::new();
    let root = chain_to_root(tsa, &pool, roots, time, &mut budget, &mut chain)?;
    let accuracy = info
        .accuracy
        .as_ref()
        .map_or(chrono::Duration::zero(), |a| a.span());
    let proof = TimestampProof {
        time,
        latest: time
            .checked_add_signed(accuracy)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
        tsa: tsa.tbs_certificate().subject().to_string(),
        root: root.tbs_certificate().subject().to_string(),
    };
    Ok((proof, chain))
}

/// Whether the signer identifier names `certificate`.
pub(super) fn identifies(sid: &SignerIdentifier, certificate: &Certificate) -> bool {
    let tbs = certificate.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            tbs.issuer() == &id.issuer && tbs.serial_number() == &id.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(id) => matches!(
            tbs.get_extension::<SubjectKeyIdentifier>(),
            Ok(Some((_, found))) if found == *id
        ),
    }
}

/// Whether a signing-certificate attribute (v2, or v1 with SHA-1) names the
/// TSA's certificate first, as RFC 3161 §2.4.2 and RFC 5816 require.
fn binds<'a>(single: &impl Fn(ObjectIdentifier) -> Option<&'a Any>, tsa: &Certificate) -> Result<(), String> {
    let der = tsa.to_der().map_err(|e| e.to_string())?;
    let refused = || Err("el sello de tiempo no identifica el certificado de su TSA (ESSCertID)".into());
    if let Some(value) = single(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2) {
        let attribute: SigningCertificateV2 = value
            .decode_as()
            .map_err(|_| "atributo signing-certificate-v2 ilegible")?;
        return match attribute.certs.first() {
            Some(id) if id.names(tsa, &der)? => Ok(()),
            _ => refused(),
        };
    }
    if let Some(value) = single(rfc5911::ID_AA_SIGNING_CERTIFICATE) {
        let attribute: SigningCertificate = value
            .decode_as()
            .map_err(|_| "atributo signing-certificate ilegible")?;
        return match attribute.certs.first() {
            Some(id)
                if id.cert_hash.as_bytes() == Sha1::digest(&der).as_slice()
                    && id.issuer_serial.as_ref().is_none_or(|given| given.names(tsa)) =>
            {
                Ok(())
            }
            _ => refused(),
        };
    }
    refused()
}

/// RFC 3161 §2.3: the TSA's certificate has exactly one extended key
/// usage, timeStamping, and marks the extension critical.
fn time_stamping_only(tsa: &Certificate) -> Result<(), String> {
    match tsa.tbs_certificate().get_extension::<ExtendedKeyUsage>() {
        Ok(Some((true, usage))) if usage.0 == [rfc5280::ID_KP_TIME_STAMPING] => Ok(()),
        _ => Err(
            "el certificado de la TSA no es solo para sellos de tiempo (su uso extendido debe ser timeStamping, único y crítico)"
                .into(),
        ),
    }
}

/// The trusted root `tsa`'s chain ends in, each certificate valid at `at`
/// and signed by the next; the chain's middle comes from the token.
fn chain_to_root<'r>(
    tsa: &Certificate,
    pool: &[&Certificate],
    roots: &'r [Certificate],
    at: DateTime<Utc>,
    budget: &mut Budget,
    chain: &mut Vec<Certificate>,
) -> Result<&'r Certificate, String> {
    let mut current = tsa;
    for _ in 0..=MAX_CHAIN {
        valid_at(current, at)?;
        chain.push(current.clone());
        // A trust anchor is a name and a key (RFC 5914): the same
        // certificate signed again (ECDSA signs differently each time) is
        // the same anchor.
        if let Some(root) = roots.iter().find(|root| same_anchor(root, current)) {
            return Ok(root);
        }
        if let Some(root) = roots
            .iter()
            .find(|root| is_authority(root) && issued(root, current, budget))
        {
            valid_at(root, at)?;
            return Ok(root);
        }
        current = pool
            .iter()
            .copied()
            .find(|c| *c != current && is_authority(c) && issued(c, current, budget))
            .ok_or_else(|| {
                if budget.0 == 0 {
                    return "la cadena de certificados de la TSA exige demasiadas comprobaciones de firma"
                        .to_owned();
                }
                format!(
                    "la TSA no es de confianza: la cadena de su certificado ({}) no llega a ninguna raíz de TSA de confianza",
                    tsa.tbs_certificate().subject()
                )
            })?;
    }
    Err("la cadena de certificados de la TSA es demasiado larga".into())
}

fn same_anchor(root: &Certificate, certificate: &Certificate) -> bool {
    let (root, certificate) = (root.tbs_certificate(), certificate.tbs_certificate());
    root.subject() == certificate.subject()
        && root.subject_public_key_info() == certificate.subject_public_key_info()
}

/// Signature checks left for a token.
struct Budget(usize);

/// Whether `issuer` signed `certificate`, spending one of `budget`'s
/// checks when names (and key identifiers, where both say one) match.
fn issued(issuer: &Certificate, certificate: &Certificate, budget: &mut Budget) -> bool {
    let tbs = certificate.tbs_certificate();
    let named = issuer.tbs_certificate().subject() == tbs.issuer()
        && certificate.signature_algorithm() == tbs.signature()
        && same_key_id(issuer, certificate);
    if !named || budget.0 == 0 {
        return false;
    }
    budget.0 -= 1;
    tbs.to_der().is_ok_and(|tbs_der| {
        signed_by_foreign(
            issuer.tbs_certificate().subject_public_key_info(),
            certificate.signature_algorithm(),
            None,
            &tbs_der,
            certificate.signature().raw_bytes(),
        )
        .is_ok()
    })
}

/// False only when `certificate` names its issuer's key (authority key
/// identifier) and `issuer` names its own (subject key identifier), and
/// they differ: a cheap filter before a signature check.
fn same_key_id(issuer: &Certificate, certificate: &Certificate) -> bool {
    let authority = match certificate
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
    {
        Ok(Some((_, aki))) => aki.key_identifier,
        _ => None,
    };
    let subject = match issuer.tbs_certificate().get_extension::<SubjectKeyIdentifier>() {
        Ok(Some((_, ski))) => Some(ski.0),
        _ => None,
    };
    match (authority, subject) {
        (Some(authority), Some(subject)) => authority == subject,
        _ => true,
    }
}

fn valid_at(certificate: &Certificate, at: DateTime<Utc>) -> Result<(), String> {
    let validity = certificate.tbs_certificate().validity();
    let starts = DateTime::<Utc>::from(validity.not_before.to_system_time());
    let ends = DateTime::<Utc>::from(validity.not_after.to_system_time());
    if at < starts || at > ends {
        return Err(format!(
            "el certificado «{}» no estaba vigente a la hora del sello de tiempo ({}; vigente de {} a {})",
            certificate.tbs_certificate().subject(),
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            starts.format("%Y-%m-%d"),
            ends.format("%Y-%m-%d")
        ));
    }
    Ok(())
}
