//! Password hashing with Argon2id, the crate's recommended parameters.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password accepted.
pub const PASSWORD_MIN: usize = 10;
/// Longer input is refused before hashing, so it cannot be used to tie up the CPU.
pub const PASSWORD_MAX: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("la contraseña debe tener al menos {PASSWORD_MIN} caracteres")]
    TooShort,
    #[error("la contraseña no puede tener más de {PASSWORD_MAX} caracteres")]
    TooLong,
    #[error("no se pudo calcular la contraseña: {0}")]
    Hash(String),
}

/// An Argon2id hash of `password` in PHC format, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err(PasswordError::TooShort);
    }
    if length > PASSWORD_MAX {
        return Err(PasswordError::TooLong);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches `hash`. A malformed hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > PASSWORD_MAX * 4 {
        return false;
    }
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random password for a first login, easy to read aloud and type: five
/// groups of four letters and digits without look-alikes (about 100 bits).
pub fn one_time_password() -> Result<String, PasswordError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let letters: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    Ok(letters
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correcto caballo batería").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correcto caballo batería", &hash));
        assert!(!verify_password("correcto caballo bateria", &hash));
        assert!(!verify_password("correcto caballo batería", "no es un hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(hash_password("corta"), Err(PasswordError::TooShort)));
    }

    #[test]
    fn one_time_passwords_differ_and_are_long_enough() {
        let a = one_time_password().expect("password");
        let b = one_time_password().expect("password");
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
        assert!(a.chars().count() >= PASSWORD_MIN);
    }
}
