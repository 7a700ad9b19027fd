//! Where an issued document's validation data (its DSS, for long-term
//! validation) comes from, and how it is added to the PDF.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use x509_cert::Certificate;

use crate::config::Config;
use crate::keys::OfficeKey;
use crate::pdf::{
    CrlSource, PdfError, ValidationData, add_validation_data, carried_certificates, certificate_der,
};

/// Where a document's validation data (its DSS) comes from: the CRLs of
/// the office's roots, on disk where the service publishes them, and for
/// any other certificate (a TSA's) its distribution points. The DSS goes
/// in at issuance because everything it needs is at hand then: the
/// certificates are in the signature and its token, the office's CRL is a
/// local file, and a TSA's CRL is fetched once a day, not per document.
pub struct LongTermSources {
    crl_dir: PathBuf,
    crls: CrlSource,
    /// The TSAs' certificates seen in their tokens, to embed before the
    /// next signature.
    tsa_certificates: Mutex<Vec<Certificate>>,
    /// Trusted roots (the TSAs'), embedded when they issued a carried
    /// certificate: the chain complete in the file.
    roots: Vec<Certificate>,
}

impl LongTermSources {
    /// The office's CRLs from `crl_dir`; others fetched waiting at most
    /// `timeout`.
    pub fn new(crl_dir: PathBuf, timeout: Duration) -> Self {
        Self {
            crl_dir,
            crls: CrlSource::new(timeout),
            tsa_certificates: Mutex::default(),
            roots: Vec::new(),
        }
    }

    /// The installation's: the office's CRLs where the service publishes
    /// them, TSAs waited for as the `[timestamp]` setting says, and the
    /// trusted TSA roots.
    pub fn for_config(config: &Config) -> Self {
        let roots = config
            .timestamp
            .trusted_roots
            .iter()
            .filter_map(|root| <Certificate as der::Decode>::from_der(&root.der).ok())
            .collect();
        Self::new(crate::keys::crl_dir(config), config.timestamp.timeout).with_roots(roots)
    }

    /// Also embeds those of `roots` that issued a carried certificate.
    pub fn with_roots(mut self, roots: Vec<Certificate>) -> Self {
        self.roots = roots;
        self
    }

    /// `pdf`, not signed yet, with a DSS for the signature `key` will make
    /// and for the TSAs' tokens seen so far.
    pub fn before_signing(&self, pdf: &[u8], key: &OfficeKey) -> Result<Vec<u8>, PdfError> {
        let mut certificates = vec![key.certificate.clone()];
        certificates.extend(key.chain.iter().cloned());
        if let Ok(seen) = self.tsa_certificates.lock() {
            certificates.extend(seen.iter().cloned());
        }
        let data = self.validation_data(certificates);
        Ok(add_validation_data(pdf, &data)?.unwrap_or_else(|| pdf.to_vec()))
    }

    /// Remembers the certificates of `signed`'s time-stamp tokens; true if
    /// one was new.
    pub fn learn(&self, signed: &[u8]) -> Result<bool, PdfError> {
        let carried = carried_certificates(signed)?;
        let Ok(mut seen) = self.tsa_certificates.lock() else {
            return Ok(false);
        };
        let mut learned = false;
        for certificate in carried {
            let issuer = certificate.tbs_certificate().issuer();
            let office = issuer == certificate.tbs_certificate().subject()
                || seen.contains(&certificate)
                || self.is_office_certificate(&certificate);
            if !office {
                seen.push(certificate);
                learned = true;
            }
        }
        Ok(learned)
    }

    /// Whether `certificate` is the office's (its CRL is one of ours).
    fn is_office_certificate(&self, certificate: &Certificate) -> bool {
        self.local_crls().iter().any(|der| {
            <x509_cert::crl::CertificateList as der::Decode>::from_der(der)
                .is_ok_and(|crl| &crl.tbs_cert_list.issuer == certificate.tbs_certificate().issuer())
        })
    }

    /// `pdf` with the certificates of every signature and time-stamp it
    /// carries, and a CRL for each that is not a root, added to its DSS in
    /// one incremental update; `pdf` itself if its DSS has them all.
    pub fn complete(&self, pdf: Vec<u8>) -> Result<Vec<u8>, PdfError> {
        let data = self.validation_data(carried_certificates(&pdf)?);
        Ok(add_validation_data(&pdf, &data)?.unwrap_or(pdf))
    }

    /// `certificates`, the trusted roots that issued one, and a CRL for
    /// each that is not a root.
    fn validation_data(&self, mut certificates: Vec<Certificate>) -> ValidationData {
        let issuers: Vec<_> = self
            .roots
            .iter()
            .filter(|root| {
                certificates
                    .iter()
                    .any(|c| c.tbs_certificate().issuer() == root.tbs_certificate().subject())
                    && !certificates.contains(root)
            })
            .cloned()
            .collect();
        certificates.extend(issuers);
        let (crls, missing) = self.crls.crls_for(&certificates, &self.local_crls());
        if !missing.is_empty() {
            tracing::warn!(
                certificates = missing.len(),
                "no CRL found for some certificates; the DSS goes without them"
            );
        }
        let mut data = ValidationData::default();
        certificates
            .iter()
            .for_each(|c| data.add_certificate(certificate_der(c)));
        crls.into_iter().for_each(|crl| data.add_crl(crl));
        data
    }

    /// The CRLs of the office's roots: `<root id>.crl` files, a few bytes
    /// each, read anew so a renewed or extended CRL is used at once.
    fn local_crls(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(&self.crl_dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "crl"))
            .filter_map(|path| std::fs::read(path).ok())
            .collect()
    }
}
