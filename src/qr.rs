//! The QR code on every page of an issued document. It encodes the
//! verification link `<base-url>/v/<code>` and, in the URL fragment (which
//! a browser never sends to a server), a compact offline payload signed with
//! the office's key: form, folio, issue date, key id and the SHA-256 of the
//! document's data. No personal data goes into it.
//!
//! Payload (version 1), then encoded in base32 so QR's compact alphanumeric
//! mode carries it: `1 | key id (8) | date YYYYMMDD (4) | data SHA-256 (32) |
//! form id (len + bytes) | folio (len + bytes, 0 = none) | signature (64)`.
//! The signature covers `sello-qr-v1` and every byte before it.

use chrono::NaiveDate;
use data_encoding::BASE32_NOPAD;
use qrcodegen::{QrCode, QrCodeEcc, QrSegment};
use serde::Serialize;

use crate::keys::{KeyAlgorithm, KeyId, OfficeKey, TrustedKeys};

const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"sello-qr-v1";
const SIGNATURE_LEN: usize = 64;

/// What an issued document's QR vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrClaims {
    pub form: String,
    pub folio: Option<String>,
    pub issued_on: NaiveDate,
    pub key_id: String,
    /// SHA-256 of the document's data JSON, in hexadecimal.
    pub data_sha256: String,
}

/// Why a QR payload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("el contenido del QR no es de Sello o está dañado")]
    Malformed,
    #[error("el QR fue firmado con una clave que la oficina no reconoce ({0})")]
    UnknownKey(String),
    #[error("la firma del QR no es válida: su contenido fue alterado")]
    BadSignature,
}

/// Encodes and signs the payload; returns its base32 text.
pub fn signed_payload(
    key: &OfficeKey,
    claims_form: &str,
    folio: Option<&str>,
    issued_on: NaiveDate,
    data_sha256: &[u8; 32],
) -> String {
    let mut payload = vec![VERSION];
    payload.extend_from_slice(&key.key_id.bytes());
    let date: u32 = issued_on.format("%Y%m%d").to_string().parse().unwrap_or(0);
    payload.extend_from_slice(&date.to_be_bytes());
    payload.extend_from_slice(data_sha256);
    push_short(&mut payload, claims_form.as_bytes());
    push_short(&mut payload, folio.unwrap_or("").as_bytes());
    let signature = key.sign_raw(&[DOMAIN, &payload].concat());
    payload.extend_from_slice(&signature);
    BASE32_NOPAD.encode(&payload)
}

fn push_short(out: &mut Vec<u8>, bytes: &[u8]) {
    let bytes = &bytes[..bytes.len().min(255)];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

/// The full link printed in the QR.
pub fn link(base_url: &str, code: &str, payload: &str) -> String {
    format!("{base_url}/v/{code}#{payload}")
}

/// Reads and checks a QR's text: the whole link, or just its payload.
pub fn verify(text: &str, trusted: &TrustedKeys) -> Result<QrClaims, QrError> {
    let encoded = text
        .trim()
        .rsplit_once('#')
        .map_or(text.trim(), |(_, fragment)| fragment);
    let payload = BASE32_NOPAD
        .decode(encoded.as_bytes())
        .map_err(|_| QrError::Malformed)?;
    // Only the canonical encoding is accepted: nothing reserialised.
    if BASE32_NOPAD.encode(&payload) != encoded {
        return Err(QrError::Malformed);
    }
    let mut reader = Reader {
        bytes: &payload,
        pos: 0,
    };
    if reader.take(1)? != [VERSION] {
        return Err(QrError::Malformed);
    }
    let key_id = KeyId::from_bytes(reader.take(8)?.try_into().map_err(|_| QrError::Malformed)?);
    let date = u32::from_be_bytes(reader.take(4)?.try_into().map_err(|_| QrError::Malformed)?);
    let data_sha256 = reader.take(32)?.to_vec();
    let form = reader.short_text()?;
    let folio = reader.short_text()?;
    let signed_len = reader.pos;
    let signature = reader.take(SIGNATURE_LEN)?;
    if reader.pos != payload.len() {
        return Err(QrError::Malformed);
    }
    let issued_on = NaiveDate::parse_from_str(&date.to_string(), "%Y%m%d").map_err(|_| QrError::Malformed)?;

    let known = trusted
        .get(&key_id)
        .ok_or_else(|| QrError::UnknownKey(key_id.to_string()))?;
    let message = [DOMAIN, &payload[..signed_len]].concat();
    if !verify_raw(known.algorithm, &known.certificate, &message, signature) {
        return Err(QrError::BadSignature);
    }
    Ok(QrClaims {
        form,
        folio: (!folio.is_empty()).then_some(folio),
        issued_on,
        key_id: key_id.to_string(),
        data_sha256: data_sha256.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

fn verify_raw(
    algorithm: KeyAlgorithm,
    certificate: &x509_cert::Certificate,
    message: &[u8],
    signature: &[u8],
) -> bool {
    use der::Encode;
    let Ok(public_key) = certificate.tbs_certificate().subject_public_key_info().to_der() else {
        return false;
    };
    match algorithm {
        KeyAlgorithm::Ed25519 => {
            use ed25519_dalek::pkcs8::DecodePublicKey;
            ed25519_dalek::VerifyingKey::from_public_key_der(&public_key).is_ok_and(|key| {
                ed25519_dalek::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify_strict(message, &sig).is_ok())
            })
        }
        KeyAlgorithm::P256 => {
            use p256::pkcs8::DecodePublicKey;
            use signature::Verifier;
            p256::ecdsa::VerifyingKey::from_public_key_der(&public_key).is_ok_and(|key| {
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(message, &sig).is_ok())
            })
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], QrError> {
        let slice = self.bytes.get(self.pos..self.pos + n).ok_or(QrError::Malformed)?;
        self.pos += n;
        Ok(slice)
    }

    fn short_text(&mut self) -> Result<String, QrError> {
        let len = usize::from(self.take(1)?[0]);
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| QrError::Malformed)
    }
}

/// A rendered QR code.
pub struct QrImage {
    /// A 1-bit grayscale PNG, one pixel per module, without quiet zone:
    /// the page's margins and the footer's gutter are the quiet zone, so
    /// every millimetre of the slot goes to modules. A raster of a few
    /// hundred bytes, where a vector drawing of every module made each
    /// page's content several times larger to write and compress.
    pub png: Vec<u8>,
    /// The QR version (1–40): bigger means denser and harder to scan.
    pub version: i16,
}

/// Draws the link as a QR code, error correction level M (15 %) or
/// higher when it fits in the same size: printed papers get folded and
/// stained. The code and the base32 payload go in QR's compact
/// alphanumeric mode; only the base URL and the `#` take a byte each.
pub fn render(link: &str) -> Result<QrImage, String> {
    let compact = link.rsplit_once('#').and_then(|(head, payload)| {
        let (base, code) = head.rsplit_once("/v/")?;
        (QrSegment::is_alphanumeric(code) && QrSegment::is_alphanumeric(payload)).then(|| {
            vec![
                QrSegment::make_bytes(format!("{base}/v/").as_bytes()),
                QrSegment::make_alphanumeric(code),
                QrSegment::make_bytes(b"#"),
                QrSegment::make_alphanumeric(payload),
            ]
        })
    });
    let segments = compact.unwrap_or_else(|| QrSegment::make_segments(link));
    let qr = QrCode::encode_segments(&segments, QrCodeEcc::Medium).map_err(|e| e.to_string())?;
    let width = usize::try_from(qr.size()).map_err(|e| e.to_string())?;
    // Rows of bits, most significant first; 0 is black in grayscale.
    let row_bytes = width.div_ceil(8);
    let mut pixels = vec![0xFFu8; row_bytes * width];
    for row in 0..width {
        for column in 0..width {
            if qr.get_module(column as i32, row as i32) {
                pixels[row * row_bytes + column / 8] &= !(0x80 >> (column % 8));
            }
        }
    }
    let mut png = Vec::new();
    let size = u32::try_from(width).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(&mut png, size, size);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(QrImage {
        png,
        version: i16::from(qr.version().value()),
    })
}
