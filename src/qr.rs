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
use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};
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
    #[error("la clave {0} que firmó el QR fue revocada por estar comprometida: el QR no prueba nada")]
    Compromised(String),
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

/// The full link printed in the QR. The code goes in as printed, except
/// that a character outside QR's alphanumeric set is percent-encoded: the
/// check symbols `~` and `=` become `%7E` and `%3D`, so every code takes the
/// compact mode and the same room in the QR. The server decodes the path,
/// so both spellings lead to the same page.
pub fn link(base_url: &str, code: &str, payload: &str) -> String {
    let mut path = String::with_capacity(code.len() + 4);
    for c in code.chars() {
        if QrSegment::is_alphanumeric(c.encode_utf8(&mut [0; 4])) {
            path.push(c);
        } else {
            for byte in c.encode_utf8(&mut [0; 4]).bytes() {
                path.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    format!("{base_url}/v/{path}#{payload}")
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
    // A stolen key can sign any date; a superseded one signed up to its
    // rotation, which the document's own verification judges.
    if trusted
        .revocation(&key_id)
        .is_some_and(|r| r.reason == crate::keys::RevocationReason::KeyCompromise)
    {
        return Err(QrError::Compromised(key_id.to_string()));
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

/// The smallest QR version Sello draws (61 modules): every document gets
/// the same number of modules whatever its code, and so the same printed
/// module size. It holds the link of every form with a folio of the default
/// format (office code of 7) and a base URL of up to 40 characters; a longer link takes
/// the next versions up, denser at the same printed size.
pub const MIN_VERSION: u8 = 11;

/// White modules around the code, on every side: the quiet zone scanners
/// need to find it, part of the image itself so that nothing the page
/// prints beside it can come closer.
pub const QUIET_ZONE: usize = 4;

/// Pixels a side for each module in the PNG. With one, a viewer that
/// smooths small images when it enlarges them (Poppler does below 4×)
/// draws a blurred code at screen and scan resolutions, and zbar misses it
/// on a full page; with four, every viewer scales it down or barely up.
pub const PIXELS_PER_MODULE: usize = 4;

/// A rendered QR code.
pub struct QrImage {
    /// A 1-bit grayscale PNG, [`PIXELS_PER_MODULE`] pixels a side per
    /// module, with its quiet zone of [`QUIET_ZONE`] modules. A raster of a few hundred bytes, where a
    /// vector drawing of every module made each page's content several
    /// times larger to write and compress.
    pub png: Vec<u8>,
    /// The QR version (1–40): bigger means denser and harder to scan.
    pub version: i16,
    /// Modules across the image, quiet zone included.
    pub width: usize,
}

/// Draws the link as a QR code, error correction level M (15 %) or
/// higher when it fits in the same size: printed papers get folded and
/// stained. The code and the base32 payload go in QR's compact
/// alphanumeric mode; only the base URL with `/v/` and the `#` take a
/// byte per character.
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
    let qr = QrCode::encode_segments_advanced(
        &segments,
        QrCodeEcc::Medium,
        Version::new(MIN_VERSION),
        Version::MAX,
        None,
        true,
    )
    .map_err(|e| e.to_string())?;
    let modules = usize::try_from(qr.size()).map_err(|e| e.to_string())?;
    let width = modules + 2 * QUIET_ZONE;
    let pixels_across = width * PIXELS_PER_MODULE;
    // Rows of bits, most significant first; 0 is black in grayscale.
    let row_bytes = pixels_across.div_ceil(8);
    let mut pixels = vec![0xFFu8; row_bytes * pixels_across];
    for y in 0..pixels_across {
        for x in 0..pixels_across {
            let (row, column) = (y / PIXELS_PER_MODULE, x / PIXELS_PER_MODULE);
            let inside = |m: usize| m >= QUIET_ZONE && m < QUIET_ZONE + modules;
            if inside(row)
                && inside(column)
                && qr.get_module((column - QUIET_ZONE) as i32, (row - QUIET_ZONE) as i32)
            {
                pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut png = Vec::new();
    let size = u32::try_from(pixels_across).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(&mut png, size, size);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(QrImage {
        png,
        version: i16::from(qr.version().value()),
        width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::VerificationCode;

    /// A base32 payload as long as an oficio's with a folio.
    fn payload() -> String {
        BASE32_NOPAD.encode(&[0x5A; 146])
    }

    #[test]
    fn a_check_symbol_outside_the_qr_alphabet_is_percent_encoded_in_the_link() {
        let link = link("https://sello.example", "ABCD-EF0~", "PAYLOAD");
        assert_eq!(link, "https://sello.example/v/ABCD-EF0%7E#PAYLOAD");
        let link = super::link("https://sello.example", "ABCD-EF0=", "PAYLOAD");
        assert_eq!(link, "https://sello.example/v/ABCD-EF0%3D#PAYLOAD");
        for symbol in ['*', '$', 'U', '7'] {
            let code = format!("ABCD-EF0{symbol}");
            assert!(super::link("https://x", &code, "P").contains(&format!("/v/{code}#")));
        }
    }

    #[test]
    fn every_qr_check_symbol_gives_the_same_qr_version() {
        let mut versions = std::collections::BTreeSet::new();
        let mut symbols = std::collections::BTreeSet::new();
        // 2,000 random codes meet all 37 check symbols (each missed with
        // probability below 1e-23).
        for _ in 0..2000 {
            let code = VerificationCode::generate().expect("random").display();
            symbols.insert(code.chars().last().expect("check symbol"));
            let image = render(&link("https://sello.dif-soledad.gob.mx", &code, &payload())).expect("fits");
            versions.insert(image.version);
        }
        assert_eq!(symbols.len(), 37);
        assert_eq!(versions.into_iter().collect::<Vec<_>>(), [i16::from(MIN_VERSION)]);
    }

    #[test]
    fn the_qr_image_has_a_quiet_zone_of_four_modules_on_every_side() {
        let image = render(&link("https://sello.example", "ABCD", &payload())).expect("fits");
        let decoder = png::Decoder::new(std::io::Cursor::new(&image.png));
        let mut reader = decoder.read_info().expect("png");
        let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
        let frame = reader.next_frame(&mut pixels).expect("frame");
        assert_eq!(image.width, 17 + 4 * usize::from(MIN_VERSION) + 2 * QUIET_ZONE);
        let across = image.width * PIXELS_PER_MODULE;
        assert_eq!((frame.width as usize, frame.height as usize), (across, across));
        let black = |x: usize, y: usize| pixels[y * frame.line_size + x / 8] & (0x80 >> (x % 8)) == 0;
        let rows_with_black: Vec<usize> = (0..across)
            .filter(|y| (0..across).any(|x| black(x, *y)))
            .collect();
        let columns_with_black: Vec<usize> = (0..across)
            .filter(|x| (0..across).any(|y| black(*x, y)))
            .collect();
        // The finder patterns touch the code's edges: black from the fourth
        // module in to the fourth from the end, white outside.
        let margin = QUIET_ZONE * PIXELS_PER_MODULE;
        let inner = margin..across - margin;
        assert_eq!(rows_with_black, inner.clone().collect::<Vec<_>>());
        assert_eq!(columns_with_black, inner.collect::<Vec<_>>());
    }
}
