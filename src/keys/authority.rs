//! The office's root: a certification authority of its own that issues the
//! signing certificates and the list of those it revoked (CRL). Its private
//! key signs nothing else, so it can live offline: Sello needs it only to
//! make a signing key, to rotate one and to revoke one.
//!
//! The CRL is a file per root under the data directory, published by the
//! service at `<base_url>/crl/<root key id>.crl`, the address every signing
//! certificate names. It is also the whole record of what was revoked: a
//! revocation reads it, adds an entry and signs it again with a higher
//! number.
//!
//! Long because its tests, which need a root, keys it certified and CRLs
//! together, are here with it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CrlBuilder};
use x509_cert::crl::{CertificateList, RevokedCert};
use x509_cert::ext::pkix::{CrlNumber, CrlReason};
use x509_cert::ext::{Extensions, ToExtension};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use super::{CERT_FILE, KeyAlgorithm, KeyError, KeyId, OfficeKey, SecretKey, certificate, file_error};

/// How long a CRL is current: a year, so an offline root comes back at
/// least once a year (`sello keys crl`) to sign the next one.
pub const CRL_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// The office's root: its private key and certificate.
#[derive(Debug)]
pub struct OfficeRoot {
    key: OfficeKey,
}

/// Why a signing certificate was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// Replaced by a new key in a rotation: what it signed before stays valid.
    Superseded,
    /// Its private key fell into other hands: only what can be proven to be
    /// signed before the revocation, by a timestamp, stays valid.
    KeyCompromise,
    /// Any other reason the CRL gives.
    Other,
}

impl RevocationReason {
    pub fn label(self) -> &'static str {
        match self {
            Self::Superseded => "reemplazada por rotación",
            Self::KeyCompromise => "clave comprometida",
            Self::Other => "revocada",
        }
    }

    fn crl_reason(self) -> CrlReason {
        match self {
            Self::Superseded => CrlReason::Superseded,
            Self::KeyCompromise => CrlReason::KeyCompromise,
            Self::Other => CrlReason::Unspecified,
        }
    }
}

/// One certificate the CRL lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub since: DateTime<Utc>,
    pub reason: RevocationReason,
}

impl OfficeRoot {
    /// Generates a root for `office` into `dir` (created, refusing to
    /// overwrite a key).
    pub fn generate(dir: &Path, office: &str, algorithm: KeyAlgorithm) -> Result<Self, KeyError> {
        let secret = super::generate_secret(algorithm)?;
        let certificate = certificate::root(&secret, &format!("{} (raíz)", office.trim()))?;
        super::write_key_folder(dir, &secret, &certificate)?;
        Ok(Self {
            key: OfficeKey::from_parts(secret, certificate, Vec::new())?,
        })
    }

    /// Loads the root kept in `dir`.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let key = OfficeKey::load(dir)?;
        if !certificate::is_authority(&key.certificate) {
            return Err(file_error(
                &dir.join(CERT_FILE),
                "no es el certificado de una raíz (autoridad certificadora)",
            ));
        }
        Ok(Self { key })
    }

    pub fn key_id(&self) -> KeyId {
        self.key.key_id
    }

    pub fn certificate(&self) -> &Certificate {
        &self.key.certificate
    }

    /// Makes a signing key for `office` in `dir`, certified by this root,
    /// whose certificate names `crl_url` as where its revocations are.
    pub fn issue_signing_key(
        &self,
        dir: &Path,
        office: &str,
        algorithm: KeyAlgorithm,
        crl_url: &str,
    ) -> Result<OfficeKey, KeyError> {
        let secret = super::generate_secret(algorithm)?;
        let certificate = certificate::issued(&secret, office, &self.key, crl_url)?;
        super::write_key_folder(dir, &secret, &certificate)?;
        let issuer_pem = der::EncodePem::to_pem(&self.key.certificate, der::pem::LineEnding::LF)?;
        super::write_new(&dir.join(super::ISSUER_FILE), issuer_pem.as_bytes(), 0o644)?;
        OfficeKey::load(dir)
    }

    /// Signs a new CRL: the entries of `previous` (if any), plus
    /// `certificate` revoked at `since` for `reason`, numbered one more.
    pub fn revoke(
        &self,
        previous: Option<&CertificateList>,
        revoked: Option<(&Certificate, DateTime<Utc>, RevocationReason)>,
    ) -> Result<CertificateList, KeyError> {
        let failed = |e: &dyn std::fmt::Display| KeyError::Other(format!("no se pudo firmar la CRL: {e}"));
        let mut entries: Vec<RevokedCert> = previous
            .and_then(|crl| crl.tbs_cert_list.revoked_certificates.clone())
            .unwrap_or_default();
        if let Some((certificate, since, reason)) = revoked {
            let serial = certificate.tbs_certificate().serial_number().clone();
            if certificate.tbs_certificate().issuer() != self.key.certificate.tbs_certificate().subject() {
                return Err(KeyError::Other(
                    "la clave no fue certificada por esta raíz: su revocación no le corresponde".into(),
                ));
            }
            // A certificate already listed keeps its first entry, whose date
            // decides what it signed, unless it is now found compromised:
            // then the stronger reason, from the earlier of the two dates.
            let listed = entries.iter().position(|entry| entry.serial_number == serial);
            let escalates = listed.is_some_and(|at| {
                reason == RevocationReason::KeyCompromise
                    && entry_reason(&entries[at]) != RevocationReason::KeyCompromise
            });
            let since = match listed {
                Some(at) if escalates => {
                    let earlier = entry_since(&entries[at]).map_or(since, |first| first.min(since));
                    entries.remove(at);
                    earlier
                }
                _ => since,
            };
            if listed.is_none() || escalates {
                let extensions: Extensions = vec![
                    reason
                        .crl_reason()
                        .to_extension(self.key.certificate.tbs_certificate().subject(), &[])
                        .map_err(|e| failed(&e))?,
                ];
                entries.push(RevokedCert {
                    serial_number: serial,
                    revocation_date: time(since).map_err(|e| failed(&e))?,
                    crl_entry_extensions: Some(extensions),
                });
            }
        }
        let number = previous.map_or(Ok(0), crl_number).map_err(|e| failed(&e))? + 1;
        let now = Utc::now();
        let builder = CrlBuilder::new_with_this_update(
            &self.key.certificate,
            CrlNumber(der::asn1::Uint::new(&number.to_be_bytes()).map_err(|e| failed(&e))?),
            time(now).map_err(|e| failed(&e))?,
        )
        .map_err(|e| failed(&e))?
        .with_next_update(Some(
            time(now + chrono::Duration::from_std(CRL_VALIDITY).map_err(|e| failed(&e))?)
                .map_err(|e| failed(&e))?,
        ));
        let builder = if entries.is_empty() {
            builder
        } else {
            builder.with_certificates(entries.into_iter())
        };
        match &self.key.secret {
            SecretKey::Ed25519(key) => builder.build::<_, ed25519_dalek::Signature>(key),
            SecretKey::P256(key) => builder.build::<_, p256::ecdsa::DerSignature>(key),
        }
        .map_err(|e| failed(&e))
    }
}

/// The CRL's number (the `cRLNumber` extension).
pub fn crl_number(crl: &CertificateList) -> Result<u64, String> {
    let number = crl
        .tbs_cert_list
        .crl_extensions
        .iter()
        .flatten()
        .find(|extension| extension.extn_id == const_oid::db::rfc5280::ID_CE_CRL_NUMBER)
        .ok_or("la CRL no tiene número")?;
    let number = CrlNumber::from_der(number.extn_value.as_bytes()).map_err(|e| e.to_string())?;
    let bytes = number.0.as_bytes();
    if bytes.len() > 8 {
        return Err("número de CRL demasiado grande".into());
    }
    Ok(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// What `crl` says of the certificate numbered `serial`, if anything.
pub fn revocation_of(crl: &CertificateList, serial: &SerialNumber) -> Option<Revocation> {
    let entry = crl
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .find(|entry| &entry.serial_number == serial)?;
    Some(Revocation {
        since: entry_since(entry)?,
        reason: entry_reason(entry),
    })
}

fn entry_since(entry: &RevokedCert) -> Option<DateTime<Utc>> {
    let seconds = i64::try_from(entry.revocation_date.to_unix_duration().as_secs()).ok()?;
    DateTime::from_timestamp(seconds, 0)
}

fn entry_reason(entry: &RevokedCert) -> RevocationReason {
    let reason = entry
        .crl_entry_extensions
        .iter()
        .flatten()
        .find(|extension| extension.extn_id == const_oid::db::rfc5280::ID_CE_CRL_REASONS)
        .and_then(|extension| CrlReason::from_der(extension.extn_value.as_bytes()).ok());
    match reason {
        Some(CrlReason::Superseded) => RevocationReason::Superseded,
        // Reasons that say the key itself is not to be trusted.
        Some(CrlReason::KeyCompromise | CrlReason::CaCompromise | CrlReason::AaCompromise) => {
            RevocationReason::KeyCompromise
        }
        _ => RevocationReason::Other,
    }
}

/// The file, under `dir`, of the CRL of the root `root`.
pub fn crl_path(dir: &Path, root: &KeyId) -> PathBuf {
    dir.join(format!("{root}.crl"))
}

/// Reads a CRL (DER) from `path`, if there is one.
pub fn read_crl(path: &Path) -> Result<Option<CertificateList>, KeyError> {
    match fs::read(path) {
        Ok(bytes) => CertificateList::from_der(&bytes)
            .map(Some)
            .map_err(|e| file_error(path, format!("CRL ilegible: {e}"))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(file_error(path, error)),
    }
}

/// Writes `crl` to `path` in one step: readers see the old list or the new.
pub fn write_crl(path: &Path, crl: &CertificateList) -> Result<(), KeyError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    let temporary = path.with_extension("crl.nueva");
    fs::write(&temporary, crl.to_der()?).map_err(|e| file_error(&temporary, e))?;
    fs::rename(&temporary, path).map_err(|e| file_error(path, e))
}

fn time(moment: DateTime<Utc>) -> der::Result<Time> {
    let seconds = u64::try_from(moment.timestamp()).map_err(|_| der::ErrorKind::DateTime)?;
    Time::try_from(std::time::UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;
    use crate::keys::TrustedKeys;

    const CRL_URL: &str = "https://sello.example/crl/x.crl";

    struct Office {
        root: OfficeRoot,
        key: OfficeKey,
        _dir: tempfile::TempDir,
    }

    fn office(algorithm: KeyAlgorithm) -> Office {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = OfficeRoot::generate(&dir.path().join("raiz"), "DIF Soledad", algorithm).expect("root");
        let key = root
            .issue_signing_key(&dir.path().join("oficina"), "DIF Soledad", algorithm, CRL_URL)
            .expect("signing key");
        Office { root, key, _dir: dir }
    }

    fn trusting(root: &OfficeRoot, crl: Option<CertificateList>) -> TrustedKeys {
        let mut trusted = TrustedKeys::default();
        trusted
            .add_authority(root.certificate().clone(), crl)
            .expect("trust root");
        trusted
    }

    #[test]
    fn the_root_certifies_the_signing_key_and_only_the_root_is_an_authority() {
        for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::P256] {
            let office = office(algorithm);
            assert!(certificate::is_authority(office.root.certificate()));
            assert!(!certificate::is_authority(&office.key.certificate));
            assert_eq!(office.key.chain, vec![office.root.certificate().clone()]);
            let trusted = trusting(&office.root, None);
            let verdict = trusted
                .judge(&office.key.certificate, &office.key.chain, Some(Utc::now()), None)
                .expect("issued by the trusted root");
            assert_eq!(verdict.root, Some(office.root.key_id()));
            assert!(verdict.revocation.expect("said").starts_with("no comprobada"));
            // Another root vouches for nothing of this office.
            let stranger = self::office(algorithm);
            let other = trusting(&stranger.root, None);
            let refused = other
                .judge(&office.key.certificate, &[], Some(Utc::now()), None)
                .expect_err("not certified by that root");
            assert!(refused.contains("raíz de confianza"), "{refused}");
        }
    }

    #[test]
    fn a_superseded_key_vouches_for_what_it_signed_before_its_revocation_only() {
        let office = office(KeyAlgorithm::Ed25519);
        // Moments after the certificate was made, within its validity.
        let revoked_at = Utc::now() + Duration::hours(1);
        let crl = office
            .root
            .revoke(
                None,
                Some((&office.key.certificate, revoked_at, RevocationReason::Superseded)),
            )
            .expect("crl");
        assert_eq!(crl_number(&crl), Ok(1));
        let trusted = trusting(&office.root, Some(crl));
        let before = trusted
            .judge(
                &office.key.certificate,
                &[],
                Some(revoked_at - Duration::minutes(5)),
                None,
            )
            .expect("signed before the rotation");
        assert!(before.revocation.expect("said").contains("después de esta firma"));
        let after = trusted
            .judge(
                &office.key.certificate,
                &[],
                Some(revoked_at + Duration::minutes(5)),
                None,
            )
            .expect_err("signed after the rotation");
        assert!(after.contains("reemplazada por rotación"), "{after}");
    }

    #[test]
    fn a_compromised_key_vouches_only_for_a_moment_a_timestamp_proves() {
        let office = office(KeyAlgorithm::P256);
        let since = Utc::now() + Duration::days(2);
        let first = office.root.revoke(None, None).expect("empty crl");
        let crl = office
            .root
            .revoke(
                Some(&first),
                Some((&office.key.certificate, since, RevocationReason::KeyCompromise)),
            )
            .expect("crl");
        assert_eq!(crl_number(&crl), Ok(2), "each CRL numbered one more");
        let trusted = trusting(&office.root, Some(crl));
        let earlier = Some(since - Duration::days(1));
        let claimed = trusted
            .judge(&office.key.certificate, &[], earlier, None)
            .expect_err("a thief can claim any time");
        assert!(claimed.contains("comprometida"), "{claimed}");
        trusted
            .judge(&office.key.certificate, &[], earlier, earlier)
            .expect("a timestamp proves it signed before");
        trusted
            .judge(
                &office.key.certificate,
                &[],
                Some(since + Duration::hours(1)),
                Some(since + Duration::hours(1)),
            )
            .expect_err("after the compromise, even timestamped");
        // The claimed time does not stand in for the proven one.
        trusted
            .judge(
                &office.key.certificate,
                &[],
                earlier,
                Some(since + Duration::hours(1)),
            )
            .expect_err("stamped after the compromise, whatever it claims");
    }

    #[test]
    fn a_document_signed_before_a_rotation_and_stamped_a_moment_after_it_is_valid() {
        let office = office(KeyAlgorithm::Ed25519);
        // The rotation happened at hh:mm:ss.900; the CRL keeps whole
        // seconds, as the signing time does. The document was signed at
        // .300 (claimed hh:mm:ss), and its TSA stamped it at .450.
        let rotation = Utc::now() + Duration::hours(1);
        let second = rotation - Duration::nanoseconds(i64::from(rotation.timestamp_subsec_nanos()));
        let crl = office
            .root
            .revoke(
                None,
                Some((&office.key.certificate, second, RevocationReason::Superseded)),
            )
            .expect("crl");
        let trusted = trusting(&office.root, Some(crl));
        let stamped = second + Duration::milliseconds(450);
        let verdict = trusted
            .judge(&office.key.certificate, &[], Some(second), Some(stamped))
            .expect("signed before the rotation: the TSA's clock does not decide that");
        assert!(
            verdict
                .revocation
                .expect("said")
                .contains("después de esta firma")
        );
        // Signed a second later, it is refused.
        let late = second + Duration::seconds(1);
        let refused = trusted
            .judge(&office.key.certificate, &[], Some(late), Some(late))
            .expect_err("signed after the rotation");
        assert!(refused.contains("reemplazada por rotación"), "{refused}");
    }

    #[test]
    fn a_revocation_keeps_its_first_entry_unless_found_compromised_and_others_survive() {
        let office = office(KeyAlgorithm::Ed25519);
        let dir = tempfile::tempdir().expect("dir");
        let second = office
            .root
            .issue_signing_key(
                &dir.path().join("k2"),
                "DIF Soledad",
                KeyAlgorithm::Ed25519,
                CRL_URL,
            )
            .expect("second key");
        let first_at = Utc::now() - Duration::days(3);
        let crl = office
            .root
            .revoke(
                None,
                Some((&office.key.certificate, first_at, RevocationReason::Superseded)),
            )
            .expect("crl");
        let crl = office
            .root
            .revoke(
                Some(&crl),
                Some((&second.certificate, Utc::now(), RevocationReason::Superseded)),
            )
            .expect("crl");
        let crl = office
            .root
            .revoke(
                Some(&crl),
                Some((&second.certificate, Utc::now(), RevocationReason::Other)),
            )
            .expect("crl");
        let entry =
            revocation_of(&crl, office.key.certificate.tbs_certificate().serial_number()).expect("listed");
        assert_eq!(entry.reason, RevocationReason::Superseded);
        assert_eq!(entry.since.timestamp(), first_at.timestamp());
        let second_entry =
            revocation_of(&crl, second.certificate.tbs_certificate().serial_number()).expect("listed");
        assert_eq!(
            second_entry.reason,
            RevocationReason::Superseded,
            "the first entry stays"
        );
        // Found compromised after its rotation: the stronger reason, from
        // the rotation's date (the earlier).
        let crl = office
            .root
            .revoke(
                Some(&crl),
                Some((
                    &office.key.certificate,
                    Utc::now(),
                    RevocationReason::KeyCompromise,
                )),
            )
            .expect("crl");
        let entry =
            revocation_of(&crl, office.key.certificate.tbs_certificate().serial_number()).expect("listed");
        assert_eq!(entry.reason, RevocationReason::KeyCompromise);
        assert_eq!(entry.since.timestamp(), first_at.timestamp());
        assert_eq!(
            crl.tbs_cert_list.revoked_certificates.as_ref().map(Vec::len),
            Some(2)
        );
        assert!(revocation_of(&crl, second.certificate.tbs_certificate().serial_number()).is_some());
        // Written and read back, byte for byte.
        let path = crl_path(dir.path(), &office.root.key_id());
        write_crl(&path, &crl).expect("write");
        assert_eq!(read_crl(&path).expect("read"), Some(crl));
        assert_eq!(read_crl(&dir.path().join("none.crl")).expect("read"), None);
    }

    #[test]
    fn a_crl_the_root_did_not_sign_and_a_foreign_carried_certificate_are_refused() {
        let office = office(KeyAlgorithm::Ed25519);
        let impostor = self::office(KeyAlgorithm::Ed25519);
        // A CRL by another root, passed off as this root's: its issuer name
        // is the same text, its signature is not this root's.
        let forged = impostor.root.revoke(None, None).expect("crl");
        let mut trusted = TrustedKeys::default();
        let refused = trusted
            .add_authority(office.root.certificate().clone(), Some(forged))
            .expect_err("not signed by the root");
        assert!(refused.to_string().contains("no está firmada"), "{refused}");
        // A signature carrying another certificate than its root's.
        let trusted = trusting(&office.root, None);
        let carried = trusted
            .judge(
                &office.key.certificate,
                &[impostor.root.certificate().clone()],
                Some(Utc::now()),
                None,
            )
            .expect_err("foreign certificate carried");
        assert!(carried.contains("no es el de la raíz"), "{carried}");
        // A certificate that is not an authority's cannot be a root.
        let mut trusted = TrustedKeys::default();
        assert!(
            trusted
                .add_authority(office.key.certificate.clone(), None)
                .is_err()
        );
    }

    #[test]
    fn the_signing_certificate_names_its_crl_and_its_root() {
        use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlDistributionPoints, SubjectKeyIdentifier};
        let office = office(KeyAlgorithm::Ed25519);
        let tbs = office.key.certificate.tbs_certificate();
        let (_, points) = tbs
            .get_extension::<CrlDistributionPoints>()
            .expect("readable")
            .expect("present");
        let der = points.to_der().expect("der");
        assert!(
            der.windows(CRL_URL.len()).any(|w| w == CRL_URL.as_bytes()),
            "the CRL address is in the certificate"
        );
        let (_, aki) = tbs
            .get_extension::<AuthorityKeyIdentifier>()
            .expect("readable")
            .expect("present");
        let (_, ski) = office
            .root
            .certificate()
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
            .expect("readable")
            .expect("present");
        assert_eq!(aki.key_identifier, Some(ski.0));
        assert!(
            tbs.validity().not_after.to_system_time()
                <= office
                    .root
                    .certificate()
                    .tbs_certificate()
                    .validity()
                    .not_after
                    .to_system_time()
        );
    }
}
