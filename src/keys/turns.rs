//! Signing and rotating take turns over an installation's key folder,
//! across threads and processes (`sello serve`, `sello bulk`, `sello keys
//! rotate`). A rotation dates the old key's revocation at the moment it
//! runs, so a signature made with that key a moment later would be judged
//! invalid: the rotation waits for the signatures under way and holds new
//! ones back until the new key is in place.
//!
//! Two lock files, as a turnstile. A signer passes the gate (a shared lock
//! taken and let go) and holds the keys lock shared while it signs. A
//! rotation takes the gate exclusively, so no new signer passes, then the
//! keys lock exclusively, once the signers under way are done. A steady
//! stream of signers (a bulk run) cannot keep a rotation waiting forever.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::{KeyError, file_error};

/// The gate every signer passes and a rotation closes.
const GATE_FILE: &str = "turno.lock";
/// Held shared while signing, exclusively while rotating.
const KEYS_FILE: &str = "firma.lock";

/// The turns over the key folder in `claves`.
#[derive(Debug, Clone)]
pub struct KeyTurns {
    claves: PathBuf,
}

/// Held while one document is signed: no rotation completes meanwhile.
#[derive(Debug)]
pub struct SigningTurn {
    _keys: File,
}

/// Held while the key is rotated: nothing is signed meanwhile.
#[derive(Debug)]
pub struct RotatingTurn {
    _gate: File,
    _keys: File,
}

impl KeyTurns {
    /// The turns over the keys kept in `claves` (`<data_dir>/claves`).
    pub fn in_folder(claves: &Path) -> Self {
        Self {
            claves: claves.to_owned(),
        }
    }

    /// Waits until no rotation is under way, then holds signing's turn.
    pub fn signing(&self) -> Result<SigningTurn, KeyError> {
        let gate = self.open(GATE_FILE)?;
        gate.lock_shared()
            .map_err(|e| file_error(&self.claves.join(GATE_FILE), e))?;
        let keys = self.open(KEYS_FILE)?;
        keys.lock_shared()
            .map_err(|e| file_error(&self.claves.join(KEYS_FILE), e))?;
        drop(gate);
        Ok(SigningTurn { _keys: keys })
    }

    /// Closes the gate to new signers, then waits for those under way.
    pub fn rotating(&self) -> Result<RotatingTurn, KeyError> {
        let gate = self.open(GATE_FILE)?;
        gate.lock()
            .map_err(|e| file_error(&self.claves.join(GATE_FILE), e))?;
        let keys = self.open(KEYS_FILE)?;
        keys.lock()
            .map_err(|e| file_error(&self.claves.join(KEYS_FILE), e))?;
        Ok(RotatingTurn {
            _gate: gate,
            _keys: keys,
        })
    }

    /// Each turn opens its own file: a lock belongs to one open file, so
    /// threads sharing one would share (and release) each other's turn.
    fn open(&self, name: &str) -> Result<File, KeyError> {
        std::fs::create_dir_all(&self.claves).map_err(|e| file_error(&self.claves, e))?;
        let path = self.claves.join(name);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(&path).map_err(|e| file_error(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_rotation_waits_for_the_signature_under_way_and_holds_the_next_one_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let turns = KeyTurns::in_folder(dir.path());
        let signing = turns.signing().expect("signing turn");

        let (rotated, rotation_done) = mpsc::channel();
        let rotator = {
            let turns = turns.clone();
            std::thread::spawn(move || {
                let turn = turns.rotating().expect("rotating turn");
                rotated.send(()).expect("send");
                // Holds the turn while a second signer tries to pass.
                std::thread::sleep(Duration::from_millis(300));
                drop(turn);
            })
        };
        assert!(
            rotation_done.recv_timeout(Duration::from_millis(300)).is_err(),
            "the rotation went ahead while a document was being signed"
        );
        drop(signing);
        rotation_done
            .recv_timeout(Duration::from_secs(10))
            .expect("the rotation goes ahead once the signature is made");

        let (signed, signing_done) = mpsc::channel();
        let signer = {
            let turns = turns.clone();
            std::thread::spawn(move || {
                let _turn = turns.signing().expect("signing turn");
                signed.send(()).expect("send");
            })
        };
        assert!(
            signing_done.recv_timeout(Duration::from_millis(100)).is_err(),
            "a signer passed while the key was being rotated"
        );
        rotator.join().expect("rotator");
        signing_done
            .recv_timeout(Duration::from_secs(10))
            .expect("signing resumes after the rotation");
        signer.join().expect("signer");
    }

    #[test]
    fn signers_do_not_wait_for_each_other() {
        let dir = tempfile::tempdir().expect("temp dir");
        let turns = KeyTurns::in_folder(dir.path());
        let first = turns.signing().expect("first");
        let (signed, second_done) = mpsc::channel();
        let second = std::thread::spawn(move || {
            let _turn = turns.signing().expect("second");
            signed.send(()).expect("send");
        });
        second_done
            .recv_timeout(Duration::from_secs(10))
            .expect("a second signer passes while the first signs");
        second.join().expect("second signer");
        drop(first);
    }
}
