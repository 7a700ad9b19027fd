//! The `Sello-Signature` header of a webhook delivery, and its check:
//! `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body" with the secret>`.
//! The README shows receivers the same recipe.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header's name.
pub const HEADER: &str = "Sello-Signature";

/// How far a delivery's time may be from the receiver's clock: five
/// minutes, as receivers are told to accept.
pub const TOLERANCE_SECONDS: i64 = 300;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header's value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", data_encoding::HEXLOWER.encode(&tag))
}

/// Why a delivery does not pass the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("la cabecera Sello-Signature no tiene la forma t=…,v1=…")]
    Malformed,
    #[error("la hora de la firma está fuera de la ventana de cinco minutos")]
    OutOfWindow,
    #[error("la firma no corresponde al cuerpo con este secreto")]
    Mismatch,
}

/// Checks a delivery as a receiver should: the header's time within
/// [`TOLERANCE_SECONDS`] of `now` (Unix seconds), and one of its `v1`
/// values the HMAC-SHA256 of `t.body` with `secret`, compared in constant
/// time. `body` is the raw bytes received, before any JSON parsing.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => tags.push(value),
            _ => {}
        }
    }
    let (Some(timestamp), false) = (timestamp, tags.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::OutOfWindow);
    }
    let expected = mac(secret, timestamp, body);
    let matches = tags.iter().any(|tag| {
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(tag.as_bytes())
            .is_ok_and(|bytes| expected.clone().verify_slice(&bytes).is_ok())
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_prueba";

    #[test]
    fn a_signed_body_verifies_and_a_changed_byte_does_not() {
        let body = br#"{"id":"1","type":"document.issued"}"#;
        let header = sign(SECRET, 1_800_000_000, body);
        assert_eq!(verify(SECRET, &header, body, 1_800_000_010), Ok(()));
        let tampered = br#"{"id":"2","type":"document.issued"}"#;
        assert_eq!(
            verify(SECRET, &header, tampered, 1_800_000_010),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_otro", &header, body, 1_800_000_010),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn an_old_or_future_timestamp_is_refused_even_when_signed() {
        let body = b"{}";
        let header = sign(SECRET, 1_800_000_000, body);
        assert_eq!(
            verify(SECRET, &header, body, 1_800_000_000 + 301),
            Err(SignatureError::OutOfWindow)
        );
        assert_eq!(
            verify(SECRET, &header, body, 1_800_000_000 - 301),
            Err(SignatureError::OutOfWindow)
        );
    }

    #[test]
    fn the_signature_is_the_known_hmac_of_time_dot_body() {
        // Computed independently: printf '1800000000.{}' | openssl dgst -sha256 -hmac whsec_prueba
        let header = sign(SECRET, 1_800_000_000, b"{}");
        assert_eq!(
            header,
            "t=1800000000,v1=d61759a0daf456aef4414aa91b28fe7a6ac47688391b99870d0a60efa863c0d4"
        );
        assert_eq!(verify(SECRET, "v1=00", b"{}", 0), Err(SignatureError::Malformed));
    }
}
