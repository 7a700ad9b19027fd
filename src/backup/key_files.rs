//! The key folder (`<data_dir>/claves`) in a backup: its public files
//! (certificates, CRLs, retirement dates) as they are, and its private keys
//! (every `clave.pem`) only when asked, as one zip encrypted with age under
//! a passphrase, which the `age` or `rage` tools also open.

use std::io::{Cursor, Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::{BackupError, Passphrase, io_error};
use crate::keys::KEY_FILE;

/// The files of the key folder, by kind.
#[derive(Debug, Default)]
pub struct KeyFiles {
    /// Paths relative to the key folder.
    pub public: Vec<PathBuf>,
    pub private: Vec<PathBuf>,
}

/// Folders a rotation leaves only while it runs; signing's turn keeps
/// them from existing while the folder is read.
const ROTATION_FOLDERS: [&str; 2] = ["oficina.nueva", "oficina.retirada"];

/// Lists the key folder `claves`: every file but the lock files.
pub fn list(claves: &Path) -> Result<KeyFiles, BackupError> {
    let mut files = KeyFiles::default();
    if !claves.exists() {
        return Ok(files);
    }
    let mut folders = vec![claves.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(io_error(&folder))? {
            let entry = entry.map_err(io_error(&folder))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().map_err(io_error(&path))?;
            if kind.is_dir() {
                if !ROTATION_FOLDERS.contains(&name.as_str()) {
                    folders.push(path);
                }
                continue;
            }
            if !kind.is_file() || name.ends_with(".lock") {
                continue;
            }
            let relative = path.strip_prefix(claves).unwrap_or(&path).to_owned();
            if name == KEY_FILE {
                files.private.push(relative);
            } else {
                files.public.push(relative);
            }
        }
    }
    files.public.sort();
    files.private.sort();
    Ok(files)
}

/// The private key files, zipped in memory and encrypted with age under
/// the passphrase.
pub fn seal(claves: &Path, private: &[PathBuf], passphrase: &Passphrase) -> Result<Vec<u8>, BackupError> {
    let mut inner = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for relative in private {
        let path = claves.join(relative);
        let bytes = std::fs::read(&path).map_err(io_error(&path))?;
        inner.start_file(relative.to_string_lossy(), options)?;
        inner.write_all(&bytes).map_err(io_error(&path))?;
    }
    let plain = inner.finish()?.into_inner();
    let mut sealed = Vec::new();
    let mut writer = age::Encryptor::with_user_passphrase(passphrase.secret())
        .wrap_output(&mut sealed)
        .map_err(|e| BackupError::Io(format!("cifrado de las claves: {e}")))?;
    writer
        .write_all(&plain)
        .and_then(|()| writer.finish().map(drop))
        .map_err(|e| BackupError::Io(format!("cifrado de las claves: {e}")))?;
    Ok(sealed)
}

/// Private key files of a backup: where each goes and its bytes.
pub type Opened = Vec<(PathBuf, Vec<u8>)>;

/// At most this much is read from the decrypted private keys, and at most
/// this much is unpacked from them in all.
const OPENED_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// The largest private key file unpacked: a PEM key is a few hundred
/// bytes; a larger entry is not one.
const KEY_FILE_MAX_BYTES: u64 = 64 * 1024;

/// Decrypts the private keys of a backup. A wrong passphrase is said so.
pub fn open(sealed: &[u8], passphrase: &Passphrase) -> Result<Opened, BackupError> {
    let decryptor = age::Decryptor::new_buffered(sealed)
        .map_err(|e| BackupError::Io(format!("las claves privadas del respaldo no se pueden leer: {e}")))?;
    let identity = age::scrypt::Identity::new(passphrase.secret());
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                BackupError::Refused("la frase de paso no abre las claves privadas del respaldo".into())
            }
            other => BackupError::Io(format!(
                "las claves privadas del respaldo no se pueden leer: {other}"
            )),
        })?;
    let mut plain = Vec::new();
    (&mut reader)
        .take(OPENED_MAX_BYTES)
        .read_to_end(&mut plain)
        .map_err(|e| BackupError::Io(format!("las claves privadas del respaldo no se pueden leer: {e}")))?;
    let mut inner = zip::ZipArchive::new(Cursor::new(plain))?;
    let mut opened = Vec::new();
    let mut unpacked = 0;
    for index in 0..inner.len() {
        let entry = inner.by_index(index)?;
        let name = entry.name().map(|n| n.into_owned())?;
        let relative = super::manifest::relative_path(&name)
            .filter(|p| p.file_name().is_some_and(|n| n == KEY_FILE))
            .ok_or_else(|| BackupError::Io(format!("clave privada con un nombre no válido: «{name}»")))?;
        // Whatever its header says, never more than a key's worth (a
        // compressed entry could unpack to gigabytes).
        let mut bytes = Vec::new();
        entry
            .take(KEY_FILE_MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| BackupError::Io(format!("clave privada {}: {e}", relative.display())))?;
        unpacked += bytes.len() as u64;
        if bytes.len() as u64 > KEY_FILE_MAX_BYTES || unpacked > OPENED_MAX_BYTES {
            return Err(BackupError::Io(format!(
                "la clave privada {} del respaldo mide más de {KEY_FILE_MAX_BYTES} bytes: no es una clave",
                relative.display()
            )));
        }
        opened.push((relative, bytes));
    }
    Ok(opened)
}

/// Writes a private key as Sello keeps them: its folder 0700, the file 0600.
pub fn write_private(claves: &Path, relative: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let path = claves.join(relative);
    let folder = path.parent().unwrap_or(claves);
    std::fs::create_dir_all(folder).map_err(io_error(folder))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).map_err(io_error(folder))?;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(io_error(&path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_passphrase() {
        let dir = tempfile::tempdir().expect("temp");
        let key = PathBuf::from("oficina").join(KEY_FILE);
        std::fs::create_dir_all(dir.path().join("oficina")).expect("folder");
        std::fs::write(dir.path().join(&key), b"-----BEGIN PRIVATE KEY-----").expect("key");
        let right = Passphrase::new("una frase bastante larga").expect("long enough");
        let sealed = seal(dir.path(), std::slice::from_ref(&key), &right).expect("sealed");
        assert!(!sealed.windows(11).any(|w| w == b"BEGIN PRIVA"), "encrypted");
        let opened = open(&sealed, &right).expect("opens");
        assert_eq!(opened, vec![(key, b"-----BEGIN PRIVATE KEY-----".to_vec())]);
        let wrong = Passphrase::new("otra frase bastante larga").expect("long enough");
        assert!(matches!(open(&sealed, &wrong), Err(BackupError::Refused(_))));
        assert!(Passphrase::new("corta").is_err());
    }

    #[test]
    fn a_compressed_key_that_unpacks_to_megabytes_is_refused() {
        // 32 MiB of zeros deflate to a few tens of kilobytes.
        let mut inner = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflated =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        inner
            .start_file(format!("oficina/{KEY_FILE}"), deflated)
            .expect("entry");
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..32 {
            inner.write_all(&zeros).expect("write");
        }
        let plain = inner.finish().expect("zip").into_inner();
        assert!(plain.len() < 1024 * 1024, "{} bytes packed", plain.len());
        let passphrase = Passphrase::new("una frase bastante larga").expect("long enough");
        let mut sealed = Vec::new();
        let mut writer = age::Encryptor::with_user_passphrase(passphrase.secret())
            .wrap_output(&mut sealed)
            .expect("age");
        writer.write_all(&plain).expect("encrypt");
        writer.finish().expect("finish");
        let refused = open(&sealed, &passphrase).expect_err("a bomb, not a key");
        assert!(refused.to_string().contains("no es una clave"), "{refused}");
    }
}
