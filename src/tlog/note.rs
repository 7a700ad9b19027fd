//! C2SP `signed-note` (Ed25519) and `tlog-checkpoint`: the log's tree head,
//! signed by the office's log key.
//!
//! A checkpoint is three lines: the log's origin, the tree size in decimal,
//! the base64 tree head. The signed note appends a blank line and one line
//! `— <name> <base64(key id || signature)>` per signature; the key id is the
//! first four bytes of SHA-256(name || "\n" || 0x01 || public key).

use data_encoding::{BASE64, HEXLOWER};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::Hash;

/// The signature algorithm byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// A tree head: which log, how many entries, their Merkle head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// A note that does not parse or is not signed by the expected key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("el punto de control está mal formado: {0}")]
    Malformed(&'static str),
    #[error("el punto de control no lleva una firma válida de la clave del registro «{0}»")]
    NotSigned(String),
    #[error("la clave verificadora del registro está mal formada")]
    BadVerifierKey,
}

impl Checkpoint {
    /// The checkpoint's text, the body of its signed note.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(&self.root))
    }

    fn parse_body(body: &str) -> Result<Self, NoteError> {
        let mut lines = body.lines();
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Malformed("falta el origen"))?;
        let size = lines
            .next()
            .filter(|s| {
                !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit())
                    && (s.len() == 1 || !s.starts_with('0'))
            })
            .and_then(|s| s.parse().ok())
            .ok_or(NoteError::Malformed("el tamaño no es un número"))?;
        let root = lines
            .next()
            .and_then(|r| BASE64.decode(r.as_bytes()).ok())
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or(NoteError::Malformed("la raíz no es un hash en base64"))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// The four-byte id of a key named `name` in signed notes.
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The verifier key string the office publishes: `name+keyid+base64key`.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    let mut encoded = vec![ED25519];
    encoded.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        HEXLOWER.encode(&key_id(name, key)),
        BASE64.encode(&encoded)
    )
}

/// A parsed verifier key string.
#[derive(Debug, Clone)]
pub struct Verifier {
    pub name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl Verifier {
    /// Reads `name+keyid+base64key`, checking that the id is the key's.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        // A name holds no '+'; the base64 key may.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadVerifierKey);
        };
        let key = BASE64
            .decode(key.as_bytes())
            .map_err(|_| NoteError::BadVerifierKey)?;
        let [ED25519, rest @ ..] = key.as_slice() else {
            return Err(NoteError::BadVerifierKey);
        };
        let key = <[u8; 32]>::try_from(rest)
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or(NoteError::BadVerifierKey)?;
        let id_bytes = HEXLOWER
            .decode(id.as_bytes())
            .map_err(|_| NoteError::BadVerifierKey)?;
        let computed = key_id(name, &key);
        if name.is_empty() || id_bytes != computed {
            return Err(NoteError::BadVerifierKey);
        }
        Ok(Self {
            name: name.to_owned(),
            id: computed,
            key,
        })
    }
}

/// A signed note of `text` (which ends in a newline), signed by `key` under
/// `name`.
pub fn sign_note(text: &str, name: &str, key: &SigningKey) -> String {
    let signature = key.sign(text.as_bytes());
    let mut blob = key_id(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    format!("{text}\n\u{2014} {name} {}\n", BASE64.encode(&blob))
}

/// The text of a signed note that carries a valid signature by `verifier`.
pub fn open_note(note: &str, verifier: &Verifier) -> Result<String, NoteError> {
    let (text, signatures) = note
        .split_once("\n\n")
        .ok_or(NoteError::Malformed("faltan las firmas"))?;
    let text = format!("{text}\n");
    let prefix = format!("\u{2014} {} ", verifier.name);
    let signed = signatures
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .any(|blob| {
            let Ok(blob) = BASE64.decode(blob.as_bytes()) else {
                return false;
            };
            let Some((id, signature)) = blob.split_first_chunk::<4>() else {
                return false;
            };
            let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
                return false;
            };
            *id == verifier.id && verifier.key.verify_strict(text.as_bytes(), &signature).is_ok()
        });
    if signed {
        Ok(text)
    } else {
        Err(NoteError::NotSigned(verifier.name.clone()))
    }
}

/// The signed note of a checkpoint, signed by `key` under `name`.
pub fn sign_checkpoint(checkpoint: &Checkpoint, name: &str, key: &SigningKey) -> String {
    sign_note(&checkpoint.body(), name, key)
}

/// Reads a signed checkpoint and checks it carries a valid signature by
/// `verifier` and names the verifier's log as its origin.
pub fn open_checkpoint(note: &str, verifier: &Verifier) -> Result<Checkpoint, NoteError> {
    let checkpoint = Checkpoint::parse_body(&open_note(note, verifier)?)?;
    if checkpoint.origin != verifier.name {
        return Err(NoteError::NotSigned(verifier.name.clone()));
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "sello.example/log".into(),
            size: 5,
            root: [9u8; 32],
        }
    }

    #[test]
    fn a_signed_checkpoint_opens_with_the_published_verifier_key() {
        let note = sign_checkpoint(&checkpoint(), "sello.example/log", &key());
        assert!(note.starts_with("sello.example/log\n5\n"));
        let verifier = Verifier::parse(&verifier_key("sello.example/log", &key().verifying_key())).unwrap();
        assert_eq!(open_checkpoint(&note, &verifier).unwrap(), checkpoint());
    }

    #[test]
    fn a_changed_checkpoint_or_another_key_is_refused() {
        let note = sign_checkpoint(&checkpoint(), "sello.example/log", &key());
        let verifier = Verifier::parse(&verifier_key("sello.example/log", &key().verifying_key())).unwrap();
        let changed = note.replacen("\n5\n", "\n6\n", 1);
        assert!(open_checkpoint(&changed, &verifier).is_err());
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let other = Verifier::parse(&verifier_key("sello.example/log", &other.verifying_key())).unwrap();
        assert!(open_checkpoint(&note, &other).is_err());
    }

    #[test]
    fn a_verifier_key_whose_id_is_not_its_keys_is_refused() {
        let text = verifier_key("sello.example/log", &key().verifying_key());
        let mut parts: Vec<&str> = text.splitn(3, '+').collect();
        parts[1] = "00000000";
        assert!(Verifier::parse(&parts.join("+")).is_err());
        assert!(Verifier::parse(&text[..text.len() - 4]).is_err());
    }

    /// The example of golang.org/x/mod/sumdb/note (note.go's package
    /// documentation and note_test.go): its signer key, text and signed note.
    /// Ed25519 signatures are deterministic, so ours must match byte for byte.
    #[test]
    fn the_go_sumdb_note_example_signs_and_opens_byte_for_byte() {
        let seed = BASE64
            .decode(b"AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .unwrap();
        let key = SigningKey::from_bytes(&seed[1..].try_into().unwrap());
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let want = format!(
            "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        );
        assert_eq!(sign_note(text, "PeterNeumann", &key), want);
        assert_eq!(
            verifier_key("PeterNeumann", &key.verifying_key()),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        let verifier =
            Verifier::parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").unwrap();
        assert_eq!(open_note(&want, &verifier).unwrap(), text);
        assert!(open_note(&want.replace("cryptography", "cryptographY"), &verifier).is_err());
    }
}
