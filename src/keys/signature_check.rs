//! The one signature check of the crate: whether a signature over some
//! bytes was made by the key of a SubjectPublicKeyInfo, under the
//! algorithm an X.509 or CMS structure names.
//!
//! Sello's own keys sign with Ed25519 or ECDSA P-256 and SHA-256, and its
//! certificates, CRLs and CMS signatures are held to exactly those
//! ([`signed_by`]). Time-stamping authorities are other people's keys, and
//! mostly RSA: [`signed_by_foreign`] also accepts RSA PKCS#1 v1.5 and PSS
//! and ECDSA P-256 and P-384 with SHA-256/384/512. SHA-1 signatures are
//! refused.

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5912, rfc8410};
use der::{Decode, Encode};
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::hazmat::PrehashVerifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// rsaEncryption: how CMS signers often name a PKCS#1 v1.5 signature,
/// leaving the hash to the signer's digest algorithm (RFC 3370 §3.2).
const RSA_ENCRYPTION: ObjectIdentifier = rfc5912::RSA_ENCRYPTION;
/// The P-256 curve (secp256r1), the only one of Sello's own ECDSA keys.
const SECP_256_R_1: ObjectIdentifier = rfc5912::SECP_256_R_1;

/// The hashes a signature may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The SHA-2 hash of a digest algorithm identifier.
    pub fn of_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            o if o == rfc5912::ID_SHA_256 => Some(Self::Sha256),
            o if o == rfc5912::ID_SHA_384 => Some(Self::Sha384),
            o if o == rfc5912::ID_SHA_512 => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// A signature algorithm this module checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Ed25519,
    Ecdsa(Hash),
    RsaPkcs1(Hash),
    /// RSASSA-PSS with MGF1 over the same hash, and this salt length.
    RsaPss(Hash, usize),
}

/// Whether `signature` over `message` was made by the key of `spki` with
/// `algorithm`, held to Sello's own profile: Ed25519, or ECDSA P-256 with
/// SHA-256. Sello's certificates, CRLs and CMS signatures are checked here.
pub fn signed_by(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let p256 = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        == Some(SECP_256_R_1);
    let sello = algorithm.oid == rfc8410::ID_ED_25519
        || (algorithm.oid == rfc5912::ECDSA_WITH_SHA_256
            && spki.algorithm.oid == rfc5912::ID_EC_PUBLIC_KEY
            && p256);
    sello && signed_by_foreign(spki, algorithm, None, message, signature).is_ok()
}

/// Whether `signature` over `message` was made by the key of `spki` with
/// `algorithm`, which may also be an RSA (PKCS#1 v1.5 or PSS) or ECDSA
/// (P-256, P-384) signature with SHA-256, SHA-384 or SHA-512. In a CMS `SignerInfo` the
/// signature may be named just `rsaEncryption`, its hash being the
/// signer's `digest` algorithm. The error says why not, in Spanish.
pub fn signed_by_foreign(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    digest: Option<&AlgorithmIdentifierOwned>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use spki::DecodePublicKey;
    let scheme = scheme(algorithm, digest)?;
    let public_key = spki
        .to_der()
        .map_err(|_| "la clave pública es ilegible".to_owned())?;
    let key_oid = spki.algorithm.oid;
    let bad = || Err("la firma criptográfica no es válida".to_owned());
    match scheme {
        Scheme::Ed25519 => {
            let key = ed25519_dalek::VerifyingKey::from_public_key_der(&public_key)
                .map_err(|_| "la clave no es Ed25519".to_owned())?;
            let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| "firma ilegible")?;
            if key.verify_strict(message, &signature).is_err() {
                return bad();
            }
        }
        Scheme::Ecdsa(hash) => {
            if key_oid != rfc5912::ID_EC_PUBLIC_KEY {
                return Err("la clave no es de curva elíptica".into());
            }
            let prehash = hash.digest(message);
            let valid = if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(&public_key) {
                p256::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|sig| key.verify_prehash(&prehash, &sig).is_ok())
            } else if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_der(&public_key) {
                p384::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|sig| key.verify_prehash(&prehash, &sig).is_ok())
            } else {
                return Err("solo se admiten claves ECDSA de las curvas P-256 y P-384".into());
            };
            if !valid {
                return bad();
            }
        }
        Scheme::RsaPkcs1(hash) | Scheme::RsaPss(hash, _) => {
            if key_oid != RSA_ENCRYPTION {
                return Err("la clave no es RSA".into());
            }
            let key = rsa::RsaPublicKey::from_public_key_der(&public_key)
                .map_err(|_| "clave RSA ilegible".to_owned())?;
            within_limits(&key)?;
            let prehash = hash.digest(message);
            let valid = match (scheme, hash) {
                (Scheme::RsaPss(_, salt), _) => rsa::pss::Signature::try_from(signature).is_ok_and(|sig| {
                    let check = |key: &dyn PrehashVerifier<rsa::pss::Signature>| {
                        key.verify_prehash(&prehash, &sig).is_ok()
                    };
                    match hash {
                        Hash::Sha256 => {
                            check(&rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(key, salt))
                        }
                        Hash::Sha384 => {
                            check(&rsa::pss::VerifyingKey::<Sha384>::new_with_salt_len(key, salt))
                        }
                        Hash::Sha512 => {
                            check(&rsa::pss::VerifyingKey::<Sha512>::new_with_salt_len(key, salt))
                        }
                    }
                }),
                (_, hash) => rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|sig| {
                    let check = |key: &dyn PrehashVerifier<rsa::pkcs1v15::Signature>| {
                        key.verify_prehash(&prehash, &sig).is_ok()
                    };
                    match hash {
                        Hash::Sha256 => check(&rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)),
                        Hash::Sha384 => check(&rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key)),
                        Hash::Sha512 => check(&rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key)),
                    }
                }),
            };
            if !valid {
                return bad();
            }
        }
    }
    Ok(())
}

/// RSA moduli accepted, in bits: what TSAs use. Checking a signature
/// costs more the bigger the modulus and the exponent, and the key may be
/// an uploader's.
const RSA_BITS: std::ops::RangeInclusive<u32> = 2048..=4096;
/// The largest public exponent accepted, in bits (65537 takes 17).
const RSA_EXPONENT_BITS: u32 = 32;

fn within_limits(key: &rsa::RsaPublicKey) -> Result<(), String> {
    use rsa::traits::PublicKeyParts;
    let bits = key.n().bits_vartime();
    if !RSA_BITS.contains(&bits) {
        return Err(format!(
            "clave RSA de {bits} bits no admitida (se admiten de {} a {} bits)",
            RSA_BITS.start(),
            RSA_BITS.end()
        ));
    }
    if key.e().bits_vartime() > RSA_EXPONENT_BITS {
        return Err("clave RSA con un exponente público demasiado grande".into());
    }
    Ok(())
}

/// The scheme `algorithm` names (with `digest`, for a bare rsaEncryption).
fn scheme(
    algorithm: &AlgorithmIdentifierOwned,
    digest: Option<&AlgorithmIdentifierOwned>,
) -> Result<Scheme, String> {
    let unsupported = || Err(format!("algoritmo de firma no admitido ({})", algorithm.oid));
    Ok(match algorithm.oid {
        o if o == rfc8410::ID_ED_25519 => Scheme::Ed25519,
        o if o == rfc5912::ECDSA_WITH_SHA_256 => Scheme::Ecdsa(Hash::Sha256),
        o if o == rfc5912::ECDSA_WITH_SHA_384 => Scheme::Ecdsa(Hash::Sha384),
        o if o == rfc5912::ECDSA_WITH_SHA_512 => Scheme::Ecdsa(Hash::Sha512),
        o if o == rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(Hash::Sha256),
        o if o == rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(Hash::Sha384),
        o if o == rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(Hash::Sha512),
        o if o == RSA_ENCRYPTION => {
            let hash = digest
                .and_then(|d| Hash::of_oid(d.oid))
                .ok_or("firma RSA con un resumen no admitido (se admiten SHA-256, SHA-384 y SHA-512)")?;
            Scheme::RsaPkcs1(hash)
        }
        o if o == rfc5912::ID_RSASSA_PSS => pss_scheme(algorithm)?,
        _ => return unsupported(),
    })
}

/// RSASSA-PSS-params (RFC 4055 §3.1), as far as Sello accepts them: an
/// explicit SHA-2 hash, MGF1 over the same hash, trailer field 1.
#[derive(der::Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u8>,
}

fn pss_scheme(algorithm: &AlgorithmIdentifierOwned) -> Result<Scheme, String> {
    let refused = || {
        "firma RSA-PSS con parámetros no admitidos (se admite SHA-2 con MGF1 del mismo resumen)".to_owned()
    };
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or_else(refused)?
        .to_der()
        .ok()
        .and_then(|der| PssParams::from_der(&der).ok())
        .ok_or_else(refused)?;
    // The defaults (SHA-1) are refused: SHA-1 signatures are not accepted.
    let hash = params
        .hash
        .as_ref()
        .and_then(|h| Hash::of_oid(h.oid))
        .ok_or_else(refused)?;
    let mask_gen = params.mask_gen.as_ref().ok_or_else(refused)?;
    let mask_hash = mask_gen
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
        .and_then(|h| Hash::of_oid(h.oid));
    if mask_gen.oid != rfc5912::ID_MGF_1
        || mask_hash != Some(hash)
        || params.trailer_field.is_some_and(|t| t != 1)
    {
        return Err(refused());
    }
    let salt = params.salt_length.unwrap_or(20);
    Ok(Scheme::RsaPss(hash, salt as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use signature::hazmat::PrehashSigner;
    use spki::EncodePublicKey;

    fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        }
    }

    fn p256() -> (p256::ecdsa::SigningKey, SubjectPublicKeyInfoOwned) {
        let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let der = key.verifying_key().to_public_key_der().unwrap();
        (key, SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).unwrap())
    }

    #[test]
    fn a_foreign_ecdsa_sha384_signature_verifies_but_not_under_sello_s_own_profile() {
        let (key, spki) = p256();
        let message = b"atributos firmados";
        let signature: p256::ecdsa::Signature = key.sign_prehash(&Hash::Sha384.digest(message)).unwrap();
        let der = signature.to_der();
        let sha384 = algorithm(rfc5912::ECDSA_WITH_SHA_384);
        signed_by_foreign(&spki, &sha384, None, message, der.as_bytes()).expect("valid");
        assert!(
            !signed_by(&spki, &sha384, message, der.as_bytes()),
            "Sello's own signatures are Ed25519 or ECDSA with SHA-256 only"
        );
        let error = signed_by_foreign(&spki, &sha384, None, b"otros atributos", der.as_bytes()).unwrap_err();
        assert!(error.contains("no es válida"), "{error}");
        // The same signature read as SHA-256 does not hold.
        let sha256 = algorithm(rfc5912::ECDSA_WITH_SHA_256);
        assert!(signed_by_foreign(&spki, &sha256, None, message, der.as_bytes()).is_err());
    }

    /// The SubjectPublicKeyInfo of an RSA key of modulus `2^(bits-1) + 1`
    /// and exponent `e`: well formed, never checked against a signature.
    fn rsa_spki(bits: u32, e: u64) -> SubjectPublicKeyInfoOwned {
        let mut modulus = vec![0u8; bits.div_ceil(8) as usize];
        modulus[0] = 0x80;
        *modulus.last_mut().unwrap() |= 1;
        let n = rsa::BoxedUint::from_be_slice(&modulus, bits).unwrap();
        let e = rsa::BoxedUint::from(e);
        let der = rsa::RsaPublicKey::new_unchecked(n, e)
            .to_public_key_der()
            .unwrap();
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).unwrap()
    }

    #[test]
    fn rsa_keys_over_4096_bits_or_with_a_huge_exponent_are_refused_before_any_check() {
        let sha256_rsa = algorithm(rfc5912::SHA_256_WITH_RSA_ENCRYPTION);
        let signature = vec![1u8; 1024];
        let error =
            signed_by_foreign(&rsa_spki(8192, 65537), &sha256_rsa, None, b"m", &signature).unwrap_err();
        assert!(error.contains("8192 bits no admitida"), "{error}");
        let error = signed_by_foreign(&rsa_spki(1024, 65537), &sha256_rsa, None, b"m", &signature[..128])
            .unwrap_err();
        assert!(error.contains("1024 bits no admitida"), "{error}");
        let huge = (1 << 33) - 1;
        let error =
            signed_by_foreign(&rsa_spki(2048, huge), &sha256_rsa, None, b"m", &signature[..256]).unwrap_err();
        assert!(error.contains("exponente"), "{error}");
        // A usual key is read, and its (wrong) signature judged.
        let error = signed_by_foreign(&rsa_spki(4096, 65537), &sha256_rsa, None, b"m", &signature[..512])
            .unwrap_err();
        assert!(error.contains("no es válida"), "{error}");
    }

    #[test]
    fn a_p384_key_is_not_sello_s_own_even_with_sha256() {
        let key = p384::ecdsa::SigningKey::from_slice(&[7u8; 48]).unwrap();
        let spki =
            SubjectPublicKeyInfoOwned::from_der(key.verifying_key().to_public_key_der().unwrap().as_bytes())
                .unwrap();
        let message = b"atributos firmados";
        let signature: p384::ecdsa::Signature = key.sign_prehash(&Hash::Sha256.digest(message)).unwrap();
        let der = signature.to_der();
        let sha256 = algorithm(rfc5912::ECDSA_WITH_SHA_256);
        signed_by_foreign(&spki, &sha256, None, message, der.as_bytes()).expect("a foreign signature");
        assert!(!signed_by(&spki, &sha256, message, der.as_bytes()), "P-256 only");
        let (key, spki) = p256();
        let signature: p256::ecdsa::Signature = key.sign_prehash(&Hash::Sha256.digest(message)).unwrap();
        assert!(signed_by(&spki, &sha256, message, signature.to_der().as_bytes()));
    }

    #[test]
    fn sha1_and_unnamed_pss_parameters_are_refused_by_name() {
        let (_, spki) = p256();
        let sha1_rsa = algorithm(ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"));
        let error = signed_by_foreign(&spki, &sha1_rsa, None, b"m", b"s").unwrap_err();
        assert!(error.contains("no admitido"), "{error}");
        // PSS without parameters means SHA-1 (RFC 4055): refused.
        let error =
            signed_by_foreign(&spki, &algorithm(rfc5912::ID_RSASSA_PSS), None, b"m", b"s").unwrap_err();
        assert!(error.contains("RSA-PSS"), "{error}");
        // A bare rsaEncryption takes its hash from the digest algorithm.
        let sha1 = algorithm(ObjectIdentifier::new_unwrap("1.3.14.3.2.26"));
        let error =
            signed_by_foreign(&spki, &algorithm(RSA_ENCRYPTION), Some(&sha1), b"m", b"s").unwrap_err();
        assert!(error.contains("SHA-256"), "{error}");
        // An RSA scheme over an EC key is not a signature of that key.
        let sha256_rsa = algorithm(rfc5912::SHA_256_WITH_RSA_ENCRYPTION);
        let error = signed_by_foreign(&spki, &sha256_rsa, None, b"m", b"s").unwrap_err();
        assert!(error.contains("no es RSA"), "{error}");
    }
}
