//! Staff accounts: who may log in, to which office, with which role; their
//! sessions and API tokens; the offices' hierarchy and what it lets an
//! account read or review below its office. Passwords are kept as Argon2id hashes and
//! tokens as SHA-256 digests, so a copy of the database opens nothing.
//! Staff may also sign in through an OpenID provider ([`sso`]).

mod defaults;
mod hierarchy;
mod offices;
mod password;
mod sessions;
pub mod sso;
mod tokens;
mod users;

pub use crate::roles::Role;
pub use defaults::{DEFAULT_MAX, OFFICE_DEFAULTS};
pub use hierarchy::{GRANTABLE, OfficeGrant, OfficeNode};
pub use offices::{IdentityChange, OfficeRow};
pub use password::{PasswordError, hash_password, one_time_password, verify_password};
pub use sessions::{LoginOutcome, SESSION_HOURS, Session};
pub use tokens::ApiToken;
pub use users::{NewUser, User};

use chrono::{SecondsFormat, Utc};

use crate::db::{Store, StoreError};

/// Why an account operation did not happen. Nothing is changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request is not acceptable; the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("no existe ese usuario en esta oficina")]
    UserNotFound,
}

impl From<sqlx::Error> for AccountError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(error))
    }
}

impl From<getrandom::Error> for AccountError {
    fn from(error: getrandom::Error) -> Self {
        Self::Store(StoreError::Random(error))
    }
}

/// The accounts kept in an archive's database.
#[derive(Debug, Clone)]
pub struct Accounts {
    store: Store,
}

impl Accounts {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// Now, as stored: RFC 3339 in UTC, which sorts as text.
fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A fresh random token, as text safe in a cookie or header.
fn random_token() -> Result<String, AccountError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AccountError::Invalid(format!("generador aleatorio del sistema: {e}")))?;
    Ok(data_encoding::BASE64URL_NOPAD.encode(&bytes))
}

/// What is kept of a token: its SHA-256.
fn token_digest(token: &str) -> String {
    use sha2::Digest as _;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(token.as_bytes()))
}
