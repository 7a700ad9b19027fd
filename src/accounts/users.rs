//! Users: created by an administrator of their office (or on the first
//! run), never deleted, only deactivated, so the audit trail keeps meaning.
//!
//! Long because every change an administrator may make to an account
//! (create, rename, role, deactivate, reset) is checked and audited here.

use serde::Serialize;

use super::password::{hash_password, one_time_password};
use super::{AccountError, Accounts, Role, now_text};
use crate::public_id::PublicId;

/// A staff account as the service uses it; never carries the hash.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// The database's key: never shown.
    #[serde(skip)]
    pub id: i64,
    /// How pages and addresses name the account.
    #[serde(rename = "id")]
    pub public_id: PublicId,
    pub office_code: String,
    pub username: String,
    pub display_name: String,
    pub cargo: String,
    pub role: Role,
    pub must_change_password: bool,
    pub active: bool,
    /// Where notices of drafts waiting for them go, if anywhere.
    pub email: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: i64,
    public_id: PublicId,
    office_code: String,
    username: String,
    display_name: String,
    cargo: String,
    role: String,
    #[sqlx(try_from = "crate::db::Flag")]
    must_change_password: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    active: bool,
    email: Option<String>,
}

const USER_COLUMNS: &str =
    "id, public_id, office_code, username, display_name, cargo, role, must_change_password, active, email";

/// The user columns of a query that joins `users` as `alias`.
pub(super) fn user_columns_of(alias: &str) -> String {
    USER_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl UserRow {
    pub(super) fn into_user(self) -> User {
        User {
            id: self.id,
            public_id: self.public_id,
            office_code: self.office_code,
            username: self.username,
            display_name: self.display_name,
            cargo: self.cargo,
            // The table's CHECK allows only the four roles.
            role: Role::parse(&self.role).unwrap_or(Role::Capturista),
            must_change_password: self.must_change_password,
            active: self.active,
            email: self.email,
        }
    }
}

/// What an administrator fills in to create an account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub cargo: String,
    pub role: Role,
}

/// Longest name, cargo or username kept.
const NAME_MAX: usize = 120;

impl NewUser {
    /// Checks the fields, naming the first one that is wrong.
    pub(super) fn checked(&self) -> Result<NewUser, AccountError> {
        let username = self.username.trim().to_lowercase();
        let username_ok = (3..=40).contains(&username.len())
            && username
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !username_ok {
            return Err(AccountError::Invalid(
                "usuario: use de 3 a 40 letras sin acento, dígitos, punto, guion o guion bajo".into(),
            ));
        }
        let display_name = self.display_name.trim().to_owned();
        if display_name.is_empty() || display_name.chars().count() > NAME_MAX {
            return Err(AccountError::Invalid(format!(
                "nombre: escriba el nombre completo (hasta {NAME_MAX} caracteres)"
            )));
        }
        let cargo = self.cargo.trim().to_owned();
        if cargo.chars().count() > NAME_MAX {
            return Err(AccountError::Invalid(format!(
                "cargo: hasta {NAME_MAX} caracteres"
            )));
        }
        Ok(NewUser {
            username,
            display_name,
            cargo,
            role: self.role,
        })
    }
}

impl Accounts {
    /// Creates an account in `office` with a one-time password, returned
    /// once: the person must change it at first login.
    pub async fn create_user(&self, office: &str, new: &NewUser) -> Result<(User, String), AccountError> {
        let new = new.checked()?;
        let password = one_time_password().map_err(|e| AccountError::Invalid(e.to_string()))?;
        let hash = hash_blocking(password.clone()).await?;
        let sql = insert_user_sql();
        let public_id = PublicId::generate()?;
        let inserted: Result<UserRow, sqlx::Error> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(office)
                .bind(&new.username)
                .bind(&new.display_name)
                .bind(&new.cargo)
                .bind(new.role.as_str())
                .bind(&hash)
                .bind(true)
                .bind(true)
                .bind(now_text())
                .bind(public_id)
                .fetch_one(pool)
                .await
        };
        match inserted {
            Ok(row) => Ok((row.into_user(), password)),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AccountError::Invalid(format!(
                "usuario: «{}» ya existe; elija otro",
                new.username
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// On a database without accounts, creates the office's first
    /// administrator and returns its one-time password; otherwise `None`.
    pub async fn ensure_first_administrator(
        &self,
        office: (&str, &str),
    ) -> Result<Option<(User, String)>, AccountError> {
        self.create_office_if_missing(office.0, office.1).await?;
        let count: i64 = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(pool)
                .await?
        };
        if count > 0 {
            return Ok(None);
        }
        let admin = NewUser {
            username: "admin".into(),
            display_name: "Administrador(a)".into(),
            cargo: String::new(),
            role: Role::Administrador,
        };
        self.create_user(office.0, &admin).await.map(Some)
    }

    /// Records the configured office, so its users can be created.
    pub async fn create_office_if_missing(&self, code: &str, name: &str) -> Result<(), AccountError> {
        {
            let pool = self.store.pool();
            sqlx::query(crate::db::OFFICE)
                .bind(code)
                .bind(name)
                .execute(pool)
                .await?;
        };
        Ok(())
    }

    /// A user of `office` by id.
    pub async fn user(&self, office: &str, id: i64) -> Result<User, AccountError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND office_code = $2");
        let row: Option<UserRow> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(id)
                .bind(office)
                .fetch_optional(pool)
                .await?
        };
        row.map(UserRow::into_user).ok_or(AccountError::UserNotFound)
    }

    /// A user of `office` by public id; one of another office is missing.
    pub async fn user_by_public_id(&self, office: &str, id: PublicId) -> Result<User, AccountError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE public_id = $1 AND office_code = $2");
        let row: Option<UserRow> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(id)
                .bind(office)
                .fetch_optional(pool)
                .await?
        };
        row.map(UserRow::into_user).ok_or(AccountError::UserNotFound)
    }

    /// An account by its username, in any office (for the command line).
    pub async fn user_by_username(&self, username: &str) -> Result<User, AccountError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row: Option<UserRow> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(username.trim().to_lowercase())
                .fetch_optional(pool)
                .await?
        };
        row.map(UserRow::into_user).ok_or(AccountError::UserNotFound)
    }

    /// Every account of `office`, by name.
    pub async fn users(&self, office: &str) -> Result<Vec<User>, AccountError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE office_code = $1 ORDER BY display_name, id");
        let rows: Vec<UserRow> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql).bind(office).fetch_all(pool).await?
        };
        Ok(rows.into_iter().map(UserRow::into_user).collect())
    }

    /// Changes a user's name, cargo and role, or deactivates them; a
    /// deactivated user's sessions and tokens stop working at once. Only an
    /// administrator does this: the name and cargo are printed under the
    /// user's signature.
    pub async fn update_user(
        &self,
        office: &str,
        id: i64,
        change: &NewUser,
        active: bool,
    ) -> Result<User, AccountError> {
        let checked = NewUser {
            username: "valido".into(),
            ..change.clone()
        }
        .checked()?;
        let updated = {
            let pool = self.store.pool();
            sqlx::query(
                "UPDATE users SET role = $3, active = $4, display_name = $5, cargo = $6 \
                 WHERE id = $1 AND office_code = $2",
            )
            .bind(id)
            .bind(office)
            .bind(checked.role.as_str())
            .bind(active)
            .bind(&checked.display_name)
            .bind(&checked.cargo)
            .execute(pool)
            .await?
            .rows_affected()
        };
        if updated == 0 {
            return Err(AccountError::UserNotFound);
        }
        if !active {
            self.end_sessions(id).await?;
        }
        self.user(office, id).await
    }

    /// Sets or clears where a user's notices go.
    pub async fn set_email(&self, office: &str, id: i64, email: &str) -> Result<(), AccountError> {
        let email = email.trim();
        let email = if email.is_empty() {
            None
        } else if email.len() <= 200 && email.parse::<lettre::Address>().is_ok() {
            Some(email)
        } else {
            return Err(AccountError::Invalid(format!(
                "correo: «{email}» no es una dirección de correo"
            )));
        };
        let updated = {
            let pool = self.store.pool();
            sqlx::query("UPDATE users SET email = $3 WHERE id = $1 AND office_code = $2")
                .bind(id)
                .bind(office)
                .bind(email)
                .execute(pool)
                .await?
                .rows_affected()
        };
        if updated == 0 {
            return Err(AccountError::UserNotFound);
        }
        Ok(())
    }

    /// Gives a user a new one-time password, ending their sessions and
    /// revoking their API tokens: whoever knew the old one is shut out.
    pub async fn reset_password(&self, office: &str, id: i64) -> Result<String, AccountError> {
        let password = one_time_password().map_err(|e| AccountError::Invalid(e.to_string()))?;
        let hash = hash_blocking(password.clone()).await?;
        let updated = {
            let pool = self.store.pool();
            sqlx::query(
                "UPDATE users SET password_hash = $3, must_change_password = $4, failed_logins = 0, \
                 locked_until = NULL WHERE id = $1 AND office_code = $2",
            )
            .bind(id)
            .bind(office)
            .bind(&hash)
            .bind(true)
            .execute(pool)
            .await?
            .rows_affected()
        };
        if updated == 0 {
            return Err(AccountError::UserNotFound);
        }
        self.end_sessions(id).await?;
        self.revoke_all_tokens(id).await?;
        Ok(password)
    }

    /// Sets the password a user chose, after checking their current one,
    /// and ends all their sessions: the caller opens a fresh one.
    pub async fn change_password(&self, user_id: i64, current: &str, new: &str) -> Result<(), AccountError> {
        let stored: Option<String> = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        };
        let stored = stored.ok_or(AccountError::UserNotFound)?;
        let matches = verify_blocking(current.to_owned(), stored).await;
        if !matches {
            return Err(AccountError::Invalid("contraseña actual: no es correcta".into()));
        }
        if new == current {
            return Err(AccountError::Invalid(
                "contraseña nueva: debe ser distinta de la actual".into(),
            ));
        }
        let hash = hash_blocking(new.to_owned()).await?;
        {
            let pool = self.store.pool();
            sqlx::query("UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1")
                .bind(user_id)
                .bind(&hash)
                .bind(false)
                .execute(pool)
                .await?;
        };
        self.end_sessions(user_id).await?;
        Ok(())
    }
}

/// Inserts a user: office, username, name, cargo, role, hash, must change,
/// active, created at, public id; returns the user's columns.
pub(super) fn insert_user_sql() -> String {
    format!(
        "INSERT INTO users (office_code, username, display_name, cargo, role, password_hash, \
         must_change_password, active, failed_logins, created_at, public_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10) RETURNING {USER_COLUMNS}"
    )
}

/// A taken username, said without telling in which office it is.
pub(super) fn taken(error: sqlx::Error, username: &str) -> AccountError {
    match error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            AccountError::Invalid(format!("usuario: «{username}» no está disponible; elija otro"))
        }
        other => other.into(),
    }
}

/// Argon2 takes tens of milliseconds of CPU: off the async workers.
pub(super) async fn hash_blocking(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Invalid(e.to_string()))?
        .map_err(|e| AccountError::Invalid(format!("contraseña nueva: {e}")))
}

pub(super) async fn verify_blocking(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || super::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}
