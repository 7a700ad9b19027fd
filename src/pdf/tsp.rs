//! RFC 3161 time-stamps: the request Sello sends a time-stamping authority
//! (TSA), the token it answers with, and the checks made before a token is
//! embedded or believed: a granted status, our nonce, and a message imprint
//! that is the SHA-256 of exactly the bytes we asked to stamp.
//!
//! The types are written with `der` derive (RFC 3161 §2.4) because
//! RustCrypto's `x509-tsp` is pinned to older `cms`/`der` releases. The
//! token's own CMS signature and its TSA's chain are checked by
//! `timestamp_proof`.
//!
//! Long because the client that asks the TSAs lives with the messages it
//! sends and reads, and their unit tests.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{BitString, Int, OctetString, Utf8StringRef};
use der::{Any, Decode, Encode, Sequence, Tagged as _};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::AlgorithmIdentifierOwned;

use super::timestamp_proof::{identifies, prove_chain};
use crate::config::TimestampSettings;
use x509_cert::Certificate;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;

/// id-ct-TSTInfo (RFC 3161 §2.4.2).
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-aa-timeStampToken (RFC 3161 Appendix A): the unsigned attribute that
/// carries a signature's time-stamp.
pub(crate) const ID_AA_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// The largest answer read from a TSA.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The largest token embedded in a signature, once its certificates are
/// cut down to its TSA's chain: the room the signature reserves for it.
/// A TSA whose token is bigger counts as one that failed.
const MAX_EMBEDDED_TOKEN_BYTES: usize = 12 * 1024;

/// MessageImprint: the hash the TSA signs, and its algorithm.
#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// TimeStampReq (version 1); Sello always asks for the TSA's certificate.
#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<u64>,
    #[asn1(optional = "true")]
    cert_req: Option<bool>,
}

/// PKIStatusInfo: 0 granted, 1 granted with modifications, others refused.
#[derive(Sequence)]
struct PkiStatusInfo<'a> {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<Utf8StringRef<'a>>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// TimeStampResp: the status and, when granted, the token (a ContentInfo).
#[derive(Sequence)]
struct TimeStampResp<'a> {
    status: PkiStatusInfo<'a>,
    #[asn1(optional = "true")]
    time_stamp_token: Option<ContentInfo>,
}

/// Accuracy: how far genTime may be from the true time, either way.
#[derive(Sequence)]
pub(super) struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u64>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u16>,
}

impl Accuracy {
    pub(super) fn span(&self) -> chrono::Duration {
        let seconds = i64::try_from(self.seconds.unwrap_or(0)).unwrap_or(i64::MAX / 1_000_000_000);
        chrono::Duration::try_seconds(seconds).unwrap_or(chrono::Duration::MAX)
            + chrono::Duration::milliseconds(i64::from(self.millis.unwrap_or(0)))
            + chrono::Duration::microseconds(i64::from(self.micros.unwrap_or(0)))
    }
}

/// TSTInfo. `genTime` is kept raw: TSAs write fractions of a second, which
/// `der`'s GeneralizedTime refuses.
#[derive(Sequence)]
pub(super) struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    pub(super) gen_time: Any,
    #[asn1(optional = "true")]
    pub(super) accuracy: Option<Accuracy>,
    #[asn1(optional = "true")]
    ordering: Option<bool>,
    #[asn1(optional = "true")]
    nonce: Option<u64>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

/// A time-stamp token whose imprint was checked against the stamped bytes.
#[derive(Debug, Clone)]
pub struct TimeStamp {
    /// The token's DER (a CMS ContentInfo), as the TSA sent it.
    pub token: Vec<u8>,
    /// When the TSA says the bytes existed.
    pub time: DateTime<Utc>,
    /// The TSA, by the name in the token or its certificate's subject.
    pub tsa: String,
}

fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: rfc5912::ID_SHA_256,
        parameters: None,
    }
}

/// The DER TimeStampReq for the SHA-256 of `data`, with `nonce`.
fn request_der(data: &[u8], nonce: u64) -> Result<Vec<u8>, String> {
    TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: sha256_algorithm(),
            hashed_message: OctetString::new(Sha256::digest(data).to_vec()).map_err(|e| e.to_string())?,
        },
        req_policy: None,
        nonce: Some(nonce),
        cert_req: Some(true),
    }
    .to_der()
    .map_err(|e| format!("no se pudo escribir la solicitud de sello de tiempo: {e}"))
}

/// Reads a TSA's answer to a request for `data` with `nonce`.
fn read_response(response: &[u8], data: &[u8], nonce: u64) -> Result<TimeStamp, String> {
    let response = TimeStampResp::from_der(response)
        .map_err(|_| "la respuesta de la TSA está mal formada".to_owned())?;
    if response.status.status > 1 {
        let reason = response
            .status
            .status_string
            .iter()
            .flatten()
            .map(|s| s.as_str().to_owned())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(format!(
            "la TSA rechazó la solicitud (estado {}): {reason}",
            response.status.status
        ));
    }
    let token = response
        .time_stamp_token
        .ok_or("la TSA no envió un sello de tiempo")?
        .to_der()
        .map_err(|e| e.to_string())?;
    let (stamp, tst_nonce) = read(&token, data)?;
    if tst_nonce != Some(nonce) {
        return Err("el sello de tiempo no repite el número único (nonce) de la solicitud".into());
    }
    Ok(stamp)
}

/// Reads a token and checks that it stamps `data`. The error says why not,
/// in Spanish.
pub fn read_token(token: &[u8], data: &[u8]) -> Result<TimeStamp, String> {
    read(token, data).map(|(stamp, _)| stamp)
}

fn read(token: &[u8], data: &[u8]) -> Result<(TimeStamp, Option<u64>), String> {
    let malformed = || "el sello de tiempo está mal formado".to_owned();
    let content_info = ContentInfo::from_der(token).map_err(|_| malformed())?;
    if content_info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(malformed());
    }
    let signed_data: SignedData = content_info.content.decode_as().map_err(|_| malformed())?;
    let (econtent, info) = tst_info(&signed_data)?;
    let expected = hash(info.message_imprint.hash_algorithm.oid, data)?;
    if info.message_imprint.hashed_message.as_bytes() != expected.as_slice() {
        return Err("el sello de tiempo no corresponde a la firma: su huella no coincide".into());
    }
    // The signer's signed message digest must cover this TSTInfo.
    let signer = signed_data.signer_infos.0.iter().next().ok_or_else(malformed)?;
    let digest = signer
        .signed_attrs
        .iter()
        .flat_map(|attrs| attrs.iter())
        .find(|a| a.oid == rfc5911::ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.get(0))
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or("el sello de tiempo no tiene resumen firmado")?;
    if digest.as_bytes() != hash(signer.digest_alg.oid, econtent.as_bytes())?.as_slice() {
        return Err("el sello de tiempo fue alterado: su resumen no coincide".into());
    }
    let time = generalized_time(&info.gen_time)?;
    // The TSA is named by the certificate the signer identifier points to,
    // whose key a verification checks; TSTInfo's own `tsa` field is not
    // signed by anything that ties it to that certificate, and is ignored.
    let tsa = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) if identifies(&signer.sid, c) => {
                Some(c.tbs_certificate().subject().to_string())
            }
            _ => None,
        })
        .unwrap_or_else(|| "TSA sin nombre".to_owned());
    Ok((
        TimeStamp {
            token: token.to_vec(),
            time,
            tsa,
        },
        info.nonce,
    ))
}

/// The certificates of an unverified token that chain by name from the
/// signer's: its TSA's and, above it, those whose subject is the issuer
/// of the one before.
fn named_chain(token: &[u8]) -> Result<Vec<Certificate>, String> {
    let malformed = || "el sello de tiempo está mal formado".to_owned();
    let content_info = ContentInfo::from_der(token).map_err(|_| malformed())?;
    let signed_data: SignedData = content_info.content.decode_as().map_err(|_| malformed())?;
    let signer = signed_data.signer_infos.0.iter().next().ok_or_else(malformed)?;
    let pool: Vec<&Certificate> = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    let mut current = pool
        .iter()
        .copied()
        .find(|c| identifies(&signer.sid, c))
        .ok_or("el sello de tiempo no incluye el certificado de la TSA que lo firmó")?;
    let mut chain = vec![current.clone()];
    while chain.len() < 5 {
        let tbs = current.tbs_certificate();
        if tbs.issuer() == tbs.subject() {
            break;
        }
        match pool
            .iter()
            .copied()
            .find(|c| c.tbs_certificate().subject() == tbs.issuer() && !chain.contains(c))
        {
            Some(issuer) => {
                chain.push(issuer.clone());
                current = issuer;
            }
            None => break,
        }
    }
    Ok(chain)
}

/// `token` with `certificates` as its whole certificate set.
fn with_certificates(token: &[u8], certificates: Vec<Certificate>) -> Result<Vec<u8>, String> {
    let failed = |e: &dyn std::fmt::Display| format!("no se pudo recortar el sello de tiempo: {e}");
    let content_info = ContentInfo::from_der(token).map_err(|e| failed(&e))?;
    let mut signed_data: SignedData = content_info.content.decode_as().map_err(|e| failed(&e))?;
    let choices = certificates
        .into_iter()
        .map(cms::cert::CertificateChoices::Certificate)
        .collect::<Vec<_>>();
    signed_data.certificates = Some(cms::signed_data::CertificateSet(
        der::asn1::SetOfVec::try_from(choices).map_err(|e| failed(&e))?,
    ));
    ContentInfo {
        content_type: content_info.content_type,
        content: Any::encode_from(&signed_data).map_err(|e| failed(&e))?,
    }
    .to_der()
    .map_err(|e| failed(&e))
}

fn hash(oid: ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match oid {
        o if o == rfc5912::ID_SHA_256 => Sha256::digest(data).to_vec(),
        o if o == rfc5912::ID_SHA_384 => Sha384::digest(data).to_vec(),
        o if o == rfc5912::ID_SHA_512 => Sha512::digest(data).to_vec(),
        o => return Err(format!("el sello de tiempo usa un resumen no admitido ({o})")),
    })
}

/// `YYYYMMDDHHMMSS[.fff]Z`, as RFC 3161 §2.4.2 writes genTime.
pub(super) fn generalized_time(value: &Any) -> Result<DateTime<Utc>, String> {
    let bad = || "la hora del sello de tiempo es ilegible".to_owned();
    if value.tag() != der::Tag::GeneralizedTime {
        return Err(bad());
    }
    let text = std::str::from_utf8(value.value()).map_err(|_| bad())?;
    let text = text.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let seconds = NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S").map_err(|_| bad())?;
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let nanos: u32 = format!("{fraction:0<9}")[..9].parse().map_err(|_| bad())?;
    Ok(seconds.and_utc() + chrono::Duration::nanoseconds(i64::from(nanos)))
}

/// The TSTInfo a token's SignedData encapsulates, with its encoding (what
/// the TSA's signed message digest covers).
pub(super) fn tst_info(signed_data: &SignedData) -> Result<(OctetString, TstInfo), String> {
    let malformed = || "el sello de tiempo está mal formado".to_owned();
    if signed_data.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err("el sello de tiempo no contiene un TSTInfo".into());
    }
    let econtent: OctetString = signed_data
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(malformed)?
        .decode_as()
        .map_err(|_| malformed())?;
    let info = TstInfo::from_der(econtent.as_bytes()).map_err(|_| malformed())?;
    Ok((econtent, info))
}

/// The configured TSAs, asked in order until one answers with a good token.
/// Clones share one HTTP client, made on the first request, whose I/O runs
/// on one thread of its own: callers sign on blocking threads, render
/// pools or the CLI, inside an async runtime or not, and wait for the
/// answer without entering any runtime themselves.
#[derive(Clone)]
pub struct TsaClient {
    inner: Arc<Inner>,
}

struct Inner {
    urls: Vec<String>,
    timeout: Duration,
    /// When not empty, a token counts only if it verifies against one of
    /// these roots (`timestamp_proof`); otherwise its imprint and nonce.
    roots: Vec<Certificate>,
    transport: OnceLock<Result<Transport, String>>,
}

/// The HTTP client and the one-thread runtime its requests run on.
struct Transport {
    runtime: Option<tokio::runtime::Runtime>,
    client: reqwest::Client,
}

impl Drop for Transport {
    /// Without waiting: the client may be dropped on an async worker,
    /// where a runtime must not block.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for TsaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaClient")
            .field("urls", &self.inner.urls)
            .field("timeout", &self.inner.timeout)
            .field("roots", &self.inner.roots.len())
            .finish()
    }
}

impl TsaClient {
    /// Asks `urls` in order, waiting at most `timeout` for each, and takes
    /// a token whose imprint and nonce are right.
    pub fn new(urls: Vec<String>, timeout: Duration) -> Self {
        Self::with_roots(urls, timeout, Vec::new())
    }

    /// [`TsaClient::new`], taking only tokens that verify against one of
    /// `roots` (their signature, their TSA's chain): a TSA whose token does
    /// not counts as one that failed.
    pub fn with_roots(urls: Vec<String>, timeout: Duration, roots: Vec<Certificate>) -> Self {
        Self {
            inner: Arc::new(Inner {
                urls,
                timeout,
                roots,
                transport: OnceLock::new(),
            }),
        }
    }

    /// The client of the `[timestamp]` settings; `None` when no TSA is
    /// configured (documents are then issued without a time-stamp).
    pub fn configured(settings: &TimestampSettings) -> Result<Option<Self>, String> {
        if settings.tsa_urls.is_empty() {
            return Ok(None);
        }
        let roots = settings
            .trusted_roots
            .iter()
            .map(|root| {
                Certificate::from_der(&root.der)
                    .map_err(|e| format!("{}: certificado ilegible: {e}", root.file.display()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Self::with_roots(
            settings.tsa_urls.clone(),
            settings.timeout,
            roots,
        )))
    }

    /// A token for the SHA-256 of `data`, from the first TSA that gives a
    /// good one. The error lists why each TSA failed.
    pub fn stamp(&self, data: &[u8]) -> Result<TimeStamp, String> {
        let mut failures = Vec::new();
        for url in &self.inner.urls {
            let mut nonce = [0u8; 8];
            getrandom::fill(&mut nonce).map_err(|e| format!("generador aleatorio del sistema: {e}"))?;
            // A positive 63-bit nonce: some TSAs mishandle negative ones.
            let nonce = u64::from_be_bytes(nonce) >> 1;
            let attempt = request_der(data, nonce)
                .and_then(|request| self.post(url, request))
                .and_then(|response| read_response(&response, data, nonce))
                .and_then(|stamp| self.trusted(stamp));
            match attempt {
                Ok(stamp) => return Ok(stamp),
                Err(e) => {
                    tracing::warn!(tsa.url = %url, error = %e, "time-stamping authority failed");
                    failures.push(format!("{url}: {e}"));
                }
            }
        }
        Err(format!(
            "ninguna TSA dio un sello de tiempo ({})",
            if failures.is_empty() {
                "no hay TSA configuradas".to_owned()
            } else {
                failures.join("; ")
            }
        ))
    }

    /// `stamp`, if it verifies against the configured roots (or none are),
    /// named by the certificate that verified it, and carrying only its
    /// TSA's chain: the certificate set is not signed, and anyone on the
    /// way could have padded it past the room a signature has.
    fn trusted(&self, mut stamp: TimeStamp) -> Result<TimeStamp, String> {
        // First by names alone (no signature checked), then to the chain
        // the roots vouch for.
        stamp.token = with_certificates(&stamp.token, named_chain(&stamp.token)?)?;
        if !self.inner.roots.is_empty() {
            let (proof, chain) = prove_chain(&stamp.token, &self.inner.roots)?;
            stamp.tsa = proof.tsa;
            stamp.token = with_certificates(&stamp.token, chain)?;
        }
        if stamp.token.len() > MAX_EMBEDDED_TOKEN_BYTES {
            return Err(format!(
                "su sello de tiempo no cabe en la firma ({} bytes; caben {MAX_EMBEDDED_TOKEN_BYTES})",
                stamp.token.len()
            ));
        }
        Ok(stamp)
    }

    fn transport(&self) -> Result<&Transport, String> {
        self.inner
            .transport
            .get_or_init(|| {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("sello-tsa")
                    .enable_all()
                    .build()
                    .map_err(|e| format!("no se pudo preparar el cliente de las TSA: {e}"))?;
                let client = {
                    let _entered = runtime.enter();
                    reqwest::Client::builder()
                        .timeout(self.inner.timeout)
                        .build()
                        .map_err(|e| format!("no se pudo preparar el cliente de las TSA: {e}"))?
                };
                Ok(Transport {
                    runtime: Some(runtime),
                    client,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// One POST on the client's own thread; this thread only waits.
    fn post(&self, url: &str, request: Vec<u8>) -> Result<Vec<u8>, String> {
        let transport = self.transport()?;
        let runtime = transport
            .runtime
            .as_ref()
            .ok_or("el cliente de las TSA se cerró")?;
        let (client, url, timeout) = (transport.client.clone(), url.to_owned(), self.inner.timeout);
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let result = async {
                let response = client
                    .post(&url)
                    .timeout(timeout)
                    .header("Content-Type", "application/timestamp-query")
                    .body(request)
                    .send()
                    .await
                    .map_err(|e| format!("sin respuesta: {e}"))?;
                if !response.status().is_success() {
                    return Err(format!("respondió {}", response.status()));
                }
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(';').next())
                    .map(|v| v.trim().to_ascii_lowercase());
                if content_type.as_deref() != Some("application/timestamp-reply") {
                    return Err(format!(
                        "respondió con {} en vez de application/timestamp-reply",
                        content_type.as_deref().unwrap_or("un tipo no declarado")
                    ));
                }
                let mut response = response;
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
                    if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        return Err(format!("respondió con más de {MAX_RESPONSE_BYTES} bytes"));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            }
            .await;
            let _ = answer.send(result);
        });
        answered
            .recv()
            .map_err(|_| "el cliente de las TSA falló".to_owned())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_the_sha256_of_the_data_and_the_nonce() {
        let der = request_der(b"firma", 42).unwrap();
        let request = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(request.version, 1);
        assert_eq!(request.message_imprint.hash_algorithm.oid, rfc5912::ID_SHA_256);
        assert_eq!(
            request.message_imprint.hashed_message.as_bytes(),
            Sha256::digest(b"firma").as_slice()
        );
        assert_eq!(request.nonce, Some(42));
        assert_eq!(request.cert_req, Some(true));
    }

    #[test]
    fn gen_time_keeps_its_fraction_of_a_second() {
        let at = |s: &str| generalized_time(&Any::new(der::Tag::GeneralizedTime, s.as_bytes()).unwrap());
        assert_eq!(
            at("20261202130012.257376Z").unwrap().to_rfc3339(),
            "2026-12-02T13:00:12.257376+00:00"
        );
        assert_eq!(
            at("20261202130012Z").unwrap().to_rfc3339(),
            "2026-12-02T13:00:12+00:00"
        );
        assert!(at("20261202130012").is_err());
        assert!(at("20261202130012.x5Z").is_err());
    }

    #[test]
    fn the_stated_accuracy_is_read_in_all_its_units() {
        let accuracy = Accuracy {
            seconds: Some(1),
            millis: Some(500),
            micros: Some(7),
        };
        let read = Accuracy::from_der(&accuracy.to_der().unwrap()).unwrap();
        assert_eq!(read.span(), chrono::Duration::microseconds(1_500_007));
        let none = Accuracy {
            seconds: None,
            millis: None,
            micros: None,
        };
        assert_eq!(none.span(), chrono::Duration::zero());
    }

    #[test]
    fn a_refusal_is_reported_with_the_tsa_s_reason() {
        let refusal = TimeStampResp {
            status: PkiStatusInfo {
                status: 2,
                status_string: Some(vec![Utf8StringRef::new("bad alg").unwrap()]),
                fail_info: None,
            },
            time_stamp_token: None,
        }
        .to_der()
        .unwrap();
        let error = read_response(&refusal, b"x", 1).unwrap_err();
        assert!(error.contains("rechazó") && error.contains("bad alg"), "{error}");
    }
}
