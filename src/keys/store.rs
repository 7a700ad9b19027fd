//! The keys a verifier trusts: the office's roots, each with its latest CRL,
//! and the office's signing keys, active and retired, each with its
//! certificate. A signing certificate issued by a root is trusted for what
//! it signed before its revocation; a stand-alone self-signed key (of
//! installations from before the roots) for what it signed before its
//! retirement date.

use chrono::{DateTime, Utc};
use der::Encode;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use super::authority::{Revocation, RevocationReason, crl_number, revocation_of};
use super::signature_check::signed_by;
use super::{KeyAlgorithm, KeyError, KeyId, algorithm_of};

/// Whether a key may still sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    /// Retired at this moment: signatures made later are not valid.
    Retired {
        since: DateTime<Utc>,
    },
}

/// A key the office vouches for.
#[derive(Debug, Clone)]
pub struct KnownKey {
    pub key_id: KeyId,
    pub algorithm: KeyAlgorithm,
    pub certificate: Certificate,
    pub status: KeyStatus,
}

/// A root of the office, and what it last said it revoked.
#[derive(Debug, Clone)]
pub struct Authority {
    pub key_id: KeyId,
    pub certificate: Certificate,
    /// Its CRL, its signature checked; `None` if the verifier has none.
    pub crl: Option<CertificateList>,
}

/// Why a signing certificate is trusted, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerVerdict {
    /// The root that issued the certificate; `None` for a self-signed key.
    pub root: Option<KeyId>,
    /// What the root's CRL says of the certificate, in Spanish.
    pub revocation: Option<String>,
}

/// Every key a verifier accepts.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<KnownKey>,
    authorities: Vec<Authority>,
    /// The roots of the time-stamping authorities whose time-stamps prove
    /// when a signature existed.
    tsa_roots: Vec<Certificate>,
}

impl TrustedKeys {
    pub fn add(&mut self, certificate: Certificate, status: KeyStatus) -> Result<KeyId, KeyError> {
        let key_id = KeyId::of_certificate(&certificate)?;
        let algorithm = algorithm_of(&certificate)?;
        self.keys.retain(|k| k.key_id != key_id);
        self.keys.push(KnownKey {
            key_id,
            algorithm,
            certificate,
            status,
        });
        Ok(key_id)
    }

    /// Trusts the root `certificate`, with its CRL if there is one. A CRL
    /// that the root did not sign is refused, not ignored: it would hide
    /// revocations.
    pub fn add_authority(
        &mut self,
        certificate: Certificate,
        crl: Option<CertificateList>,
    ) -> Result<KeyId, KeyError> {
        let key_id = KeyId::of_certificate(&certificate)?;
        if !super::certificate::is_authority(&certificate) {
            return Err(KeyError::Other(format!(
                "el certificado {key_id} no es el de una raíz (autoridad certificadora)"
            )));
        }
        if let Some(crl) = &crl {
            let tbs = crl.tbs_cert_list.to_der()?;
            let signed = crl.tbs_cert_list.issuer == *certificate.tbs_certificate().subject()
                && crl.signature_algorithm == crl.tbs_cert_list.signature
                && signed_by(
                    certificate.tbs_certificate().subject_public_key_info(),
                    &crl.signature_algorithm,
                    &tbs,
                    crl.signature.raw_bytes(),
                );
            if !signed {
                return Err(KeyError::Other(format!(
                    "la CRL de la raíz {key_id} no está firmada por ella"
                )));
            }
        }
        self.authorities.retain(|a| a.key_id != key_id);
        self.authorities.push(Authority {
            key_id,
            certificate,
            crl,
        });
        Ok(key_id)
    }

    /// Trusts `certificate` as the root (or the very certificate) of a
    /// time-stamping authority.
    pub fn add_tsa_root(&mut self, certificate: Certificate) {
        if !self.tsa_roots.contains(&certificate) {
            self.tsa_roots.push(certificate);
        }
    }

    /// The trusted roots of time-stamping authorities.
    pub fn tsa_roots(&self) -> &[Certificate] {
        &self.tsa_roots
    }

    pub fn get(&self, key_id: &KeyId) -> Option<&KnownKey> {
        self.keys.iter().find(|k| &k.key_id == key_id)
    }

    pub fn authority(&self, key_id: &KeyId) -> Option<&Authority> {
        self.authorities.iter().find(|a| &a.key_id == key_id)
    }

    /// The certificates a verifier needs, in PEM: the office's roots,
    /// then every signing key's certificate (the active one and the
    /// retired). Public by nature; what an exported expediente carries.
    pub fn certificates_pem(&self) -> String {
        let roots = self.authorities.iter().map(|a| &a.certificate);
        let keys = self.keys.iter().map(|k| &k.certificate);
        roots
            .chain(keys)
            .filter_map(|c| der::EncodePem::to_pem(c, der::pem::LineEnding::LF).ok())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.authorities.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &KnownKey> {
        self.keys.iter()
    }

    pub fn authorities(&self) -> impl Iterator<Item = &Authority> {
        self.authorities.iter()
    }

    /// The revocation the root's CRL records for the key `key_id`, if any.
    pub fn revocation(&self, key_id: &KeyId) -> Option<Revocation> {
        let certificate = &self.get(key_id)?.certificate;
        let root = self.issuer_of(certificate)?;
        revocation_of(root.crl.as_ref()?, certificate.tbs_certificate().serial_number())
    }

    /// The root that issued `certificate` and whose key signed it.
    fn issuer_of(&self, certificate: &Certificate) -> Option<&Authority> {
        let tbs = certificate.tbs_certificate();
        let tbs_der = tbs.to_der().ok()?;
        self.authorities.iter().find(|authority| {
            authority.certificate.tbs_certificate().subject() == tbs.issuer()
                && certificate.signature_algorithm() == tbs.signature()
                && signed_by(
                    authority.certificate.tbs_certificate().subject_public_key_info(),
                    certificate.signature_algorithm(),
                    &tbs_der,
                    certificate.signature().raw_bytes(),
                )
        })
    }

    /// Whether `certificate` could sign at `signed_at` (the time the
    /// signature claims): issued by a trusted root, within its validity,
    /// and not retired or revoked by then. A revocation for a compromised
    /// key lets through only a signature a time-stamp `proven` to exist
    /// before it (the latest moment the verified token allows): whoever
    /// holds a stolen key can write any signing time. The proven time
    /// decides nothing else: a TSA's clock is not the office's, and
    /// retirement and rotation times are whole seconds, so a document
    /// signed just before a rotation may be stamped a moment after it.
    /// The error says why not, in Spanish.
    /// Any certificate the signature `carried` besides the signer's must
    /// be that root's, byte for byte, so no unsigned byte of a signature goes
    /// unnoticed.
    pub fn judge(
        &self,
        certificate: &Certificate,
        carried: &[Certificate],
        signed_at: Option<DateTime<Utc>>,
        proven: Option<DateTime<Utc>>,
    ) -> Result<SignerVerdict, String> {
        // Only where the signature names no time does the token's stand in.
        let at = signed_at.or(proven);
        let key_id = KeyId::of_certificate(certificate).map_err(|e| e.to_string())?;
        let known = self.get(&key_id);
        if let Some(KnownKey {
            status: KeyStatus::Retired { since },
            ..
        }) = known
            && at.is_none_or(|time| time > *since)
        {
            return Err(format!(
                "la clave {key_id} fue retirada el {} y no puede firmar después",
                since.format("%Y-%m-%d")
            ));
        }
        let tbs = certificate.tbs_certificate();
        if tbs.issuer() == tbs.subject() {
            // A stand-alone key vouches for itself: only if listed.
            return match known {
                Some(_) if carried.is_empty() => Ok(SignerVerdict {
                    root: None,
                    revocation: None,
                }),
                Some(_) => Err("la firma trae certificados que una clave autofirmada no lleva".into()),
                None => Err("la clave que firmó no es una clave conocida de la oficina".into()),
            };
        }
        let root = self.issuer_of(certificate).ok_or(
            "el certificado de la clave que firmó no fue emitido por una raíz de confianza de la oficina",
        )?;
        if carried.iter().any(|other| other != &root.certificate) {
            return Err(
                "la firma trae un certificado que no es el de la raíz que emitió el del firmante".into(),
            );
        }
        let at = at.ok_or("la firma no indica cuándo se hizo")?;
        let validity = tbs.validity();
        let starts = DateTime::<Utc>::from(validity.not_before.to_system_time());
        let ends = DateTime::<Utc>::from(validity.not_after.to_system_time());
        if at < starts || at > ends {
            return Err(format!(
                "la firma es del {}, fuera de la vigencia del certificado ({} a {})",
                at.format("%Y-%m-%d"),
                starts.format("%Y-%m-%d"),
                ends.format("%Y-%m-%d")
            ));
        }
        let Some(crl) = &root.crl else {
            return Ok(SignerVerdict {
                root: Some(root.key_id),
                revocation: Some(format!(
                    "no comprobada: no se tiene la lista de revocación (CRL) de la raíz {}",
                    root.key_id
                )),
            });
        };
        let number = crl_number(crl).unwrap_or(0);
        let issued = DateTime::<Utc>::from(crl.tbs_cert_list.this_update.to_system_time());
        let revocation = match revocation_of(crl, tbs.serial_number()) {
            None => format!(
                "no revocada según la CRL n.º {number} del {}",
                issued.format("%Y-%m-%d")
            ),
            Some(Revocation {
                since,
                reason: RevocationReason::KeyCompromise,
            }) => {
                if proven.is_none_or(|proven| proven >= since) {
                    return Err(format!(
                        "la clave {key_id} fue revocada el {} por estar comprometida, y ningún sello de tiempo prueba que firmó antes",
                        since.format("%Y-%m-%d %H:%M UTC")
                    ));
                }
                format!(
                    "revocada el {} por estar comprometida; un sello de tiempo prueba que firmó antes",
                    since.format("%Y-%m-%d %H:%M UTC")
                )
            }
            Some(Revocation { since, reason }) => {
                if at > since {
                    return Err(format!(
                        "la clave {key_id} fue revocada el {} ({}) y no puede firmar después",
                        since.format("%Y-%m-%d %H:%M UTC"),
                        reason.label()
                    ));
                }
                format!(
                    "{} el {}, después de esta firma",
                    reason.label(),
                    since.format("%Y-%m-%d %H:%M UTC")
                )
            }
        };
        Ok(SignerVerdict {
            root: Some(root.key_id),
            revocation: Some(revocation),
        })
    }
}
