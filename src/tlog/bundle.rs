//! The C2SP `tlog-proof` offline bundle: a header line, the log entry itself
//! as the `extra` data (so the bundle is enough to recompute the leaf), the
//! entry's index, its inclusion hashes, a blank line and the signed
//! checkpoint the hashes lead to.

use data_encoding::BASE64;

use super::merkle::{self, Hash};
use super::note::{self, Checkpoint, Verifier};

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// What a bundle proves once checked: this entry is at this index of the log
/// whose signed tree head is this checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    pub entry: Vec<u8>,
    pub index: u64,
    pub checkpoint: Checkpoint,
}

/// A bundle that does not parse or does not prove what it says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("la prueba está mal formada: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Note(#[from] note::NoteError),
    #[error(transparent)]
    Proof(#[from] merkle::ProofError),
}

/// Writes the bundle of `entry` at `index`, with its inclusion `hashes` in
/// the tree of the signed checkpoint `signed_note`.
pub fn write(entry: &[u8], index: u64, hashes: &[Hash], signed_note: &str) -> String {
    let mut out = format!("{HEADER}\nextra {}\nindex {index}\n", BASE64.encode(entry));
    for hash in hashes {
        out.push_str(&BASE64.encode(hash));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_note);
    out
}

/// Reads a bundle and checks it: the checkpoint is signed by `verifier`'s
/// key and the entry's leaf hash leads to its tree head.
pub fn verify(bundle: &str, verifier: &Verifier) -> Result<Proven, BundleError> {
    let rest = bundle
        .strip_prefix(HEADER)
        .and_then(|r| r.strip_prefix('\n'))
        .ok_or(BundleError::Malformed("falta la cabecera"))?;
    let (line, rest) = rest
        .split_once('\n')
        .ok_or(BundleError::Malformed("falta la entrada"))?;
    let entry = line
        .strip_prefix("extra ")
        .and_then(|e| BASE64.decode(e.as_bytes()).ok())
        .ok_or(BundleError::Malformed("falta la entrada del registro"))?;
    let (line, mut rest) = rest
        .split_once('\n')
        .ok_or(BundleError::Malformed("falta el índice"))?;
    let index = line
        .strip_prefix("index ")
        .filter(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|i| i.parse().ok())
        .ok_or(BundleError::Malformed("el índice no es un número"))?;
    let mut hashes = Vec::new();
    loop {
        let (line, next) = rest
            .split_once('\n')
            .ok_or(BundleError::Malformed("falta el punto de control"))?;
        rest = next;
        if line.is_empty() {
            break;
        }
        let hash = BASE64
            .decode(line.as_bytes())
            .ok()
            .and_then(|h| Hash::try_from(h).ok())
            .ok_or(BundleError::Malformed(
                "un hash de la prueba no es SHA-256 en base64",
            ))?;
        hashes.push(hash);
    }
    let checkpoint = note::open_checkpoint(rest, verifier)?;
    merkle::verify_inclusion(
        index,
        checkpoint.size,
        &merkle::leaf_hash(&entry),
        &hashes,
        &checkpoint.root,
    )?;
    Ok(Proven {
        entry,
        index,
        checkpoint,
    })
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    #[test]
    fn a_bundle_verifies_offline_and_fails_with_any_byte_changed() {
        let entries: Vec<Vec<u8>> = (0u8..7).map(|i| vec![b'e', i]).collect();
        let leaves: Vec<Hash> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let origin = "sello.example/log";
        let checkpoint = Checkpoint {
            origin: origin.into(),
            size: 7,
            root: merkle::root(&leaves),
        };
        let signed = note::sign_checkpoint(&checkpoint, origin, &key);
        let hashes = merkle::inclusion_proof(4, &leaves).unwrap();
        let bundle = write(&entries[4], 4, &hashes, &signed);
        let verifier = Verifier::parse(&note::verifier_key(origin, &key.verifying_key())).unwrap();

        let proven = verify(&bundle, &verifier).unwrap();
        assert_eq!(
            (proven.entry, proven.index, proven.checkpoint),
            (entries[4].clone(), 4, checkpoint)
        );

        for at in 0..bundle.len() {
            let mut bytes = bundle.clone().into_bytes();
            bytes[at] ^= 0x01;
            if let Ok(changed) = String::from_utf8(bytes) {
                assert!(
                    verify(&changed, &verifier).is_err(),
                    "byte {at} changed still verifies"
                );
            }
        }
    }
}
