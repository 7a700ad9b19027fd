//! The CRLs a document's DSS embeds: for every certificate it carries that
//! is not a root, a CRL of its issuer. The office's own root's CRL is at
//! hand on disk and passed in; any other (a TSA's) is fetched from the
//! distribution point its certificate names and kept until the CRL's next
//! update (at most a day), so issuing many documents fetches it once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

/// A CRL larger than this is refused.
const MAX_CRL_BYTES: usize = 10 * 1024 * 1024;
/// A fetched CRL is asked for again after this at the latest.
const MAX_CACHED: chrono::Duration = chrono::Duration::hours(24);

/// A fetched CRL (DER) and until when it is used without asking again.
type Cached = (Vec<u8>, DateTime<Utc>);

/// Finds the CRLs of certificates, fetching those not at hand.
#[derive(Debug)]
pub struct CrlSource {
    timeout: Duration,
    cache: Mutex<HashMap<String, Cached>>,
}

impl CrlSource {
    /// Waits at most `timeout` for each distribution point.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            cache: Mutex::default(),
        }
    }

    /// A CRL (DER) for each of `certificates` that is not self-issued:
    /// one of `local` whose issuer is the certificate's, else one fetched
    /// from the certificate's distribution points. The second value names
    /// the certificates left without one, for the caller to report.
    pub fn crls_for(&self, certificates: &[Certificate], local: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<String>) {
        let local: Vec<(CertificateList, &Vec<u8>)> = local
            .iter()
            .filter_map(|der| Some((CertificateList::from_der(der).ok()?, der)))
            .collect();
        let mut crls: Vec<Vec<u8>> = Vec::new();
        let mut missing = Vec::new();
        for certificate in certificates {
            let tbs = certificate.tbs_certificate();
            if tbs.issuer() == tbs.subject() {
                continue;
            }
            let found = match local
                .iter()
                .find(|(crl, _)| &crl.tbs_cert_list.issuer == tbs.issuer())
            {
                Some((_, der)) => Some((*der).clone()),
                None => self.fetch_for(certificate),
            };
            match found {
                Some(der) if !crls.contains(&der) => crls.push(der),
                Some(_) => {}
                None => missing.push(tbs.subject().to_string()),
            }
        }
        (crls, missing)
    }

    fn fetch_for(&self, certificate: &Certificate) -> Option<Vec<u8>> {
        let issuer = certificate.tbs_certificate().issuer();
        distribution_points(certificate).into_iter().find_map(|url| {
            let der = self.fetch(&url)?;
            let crl: CertificateList = CertificateList::from_der(&der).ok()?;
            (&crl.tbs_cert_list.issuer == issuer).then_some(der)
        })
    }

    fn fetch(&self, url: &str) -> Option<Vec<u8>> {
        let now = Utc::now();
        if let Ok(cache) = self.cache.lock()
            && let Some((der, until)) = cache.get(url)
            && *until > now
        {
            return Some(der.clone());
        }
        let der = match get(url, self.timeout) {
            Ok(der) => der,
            Err(e) => {
                tracing::warn!(crl.url = %url, error = %e, "CRL distribution point failed");
                return None;
            }
        };
        let crl: CertificateList = CertificateList::from_der(&der).ok()?;
        let next_update = crl
            .tbs_cert_list
            .next_update
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0));
        let until = next_update.map_or(now + MAX_CACHED, |next| next.min(now + MAX_CACHED));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(url.to_owned(), (der.clone(), until));
        }
        Some(der)
    }
}

/// The `http` URLs of a certificate's CRL distribution points.
fn distribution_points(certificate: &Certificate) -> Vec<String> {
    let Some(extensions) = certificate.tbs_certificate().extensions() else {
        return Vec::new();
    };
    let Some(extension) = extensions
        .iter()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS)
    else {
        return Vec::new();
    };
    let Ok(points) = CrlDistributionPoints::from_der(extension.extn_value.as_bytes()) else {
        return Vec::new();
    };
    points
        .0
        .iter()
        .filter_map(|point| match &point.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) if uri.as_str().starts_with("http://") => {
                Some(uri.as_str().to_owned())
            }
            _ => None,
        })
        .collect()
}

/// One GET, on a thread of its own with its own small runtime, as the
/// TSA client does: issuing runs on blocking threads.
fn get(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = url.to_owned();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime.block_on(async move {
                    let client = reqwest::Client::builder()
                        .timeout(timeout)
                        .build()
                        .map_err(|e| e.to_string())?;
                    let response = client
                        .get(&url)
                        .send()
                        .await
                        .map_err(|e| format!("sin respuesta: {e}"))?;
                    if !response.status().is_success() {
                        return Err(format!("respondió {}", response.status()));
                    }
                    let body = response.bytes().await.map_err(|e| e.to_string())?;
                    if body.len() > MAX_CRL_BYTES {
                        return Err("la CRL es demasiado grande".into());
                    }
                    Ok(body.to_vec())
                })
            })
            .join()
            .map_err(|_| "el cliente HTTP falló".to_owned())?
    })
}

/// A certificate's DER, for the DSS.
pub fn certificate_der(certificate: &Certificate) -> Vec<u8> {
    certificate.to_der().unwrap_or_default()
}
