//! The offices of an installation. Each has its own folios, expedientes,
//! documents and users; they share the installation's signing keys.

use serde::Serialize;

use super::password::one_time_password;
use super::users::{UserRow, hash_blocking, insert_user_sql, taken};
use super::{AccountError, Accounts, NewUser, Role, User, now_text};
use crate::archive::{Office, on_pool};

/// An office as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OfficeRow {
    pub code: String,
    pub name: String,
}

impl Accounts {
    pub async fn offices(&self) -> Result<Vec<OfficeRow>, AccountError> {
        Ok(on_pool!(&self.store, pool => {
            sqlx::query_as("SELECT code, name FROM offices ORDER BY code").fetch_all(pool).await?
        }))
    }

    /// An office by its code.
    pub async fn office(&self, code: &str) -> Result<Option<Office>, AccountError> {
        let row: Option<OfficeRow> = on_pool!(&self.store, pool => {
            sqlx::query_as("SELECT code, name FROM offices WHERE code = $1")
                .bind(code).fetch_optional(pool).await?
        });
        Ok(row.map(|r| Office {
            code: r.code,
            name: r.name,
        }))
    }

    /// Adds an office with its first administrator, in one transaction:
    /// either both exist afterwards or neither. The code goes into the
    /// office's folios and cannot change. Returns the administrator's
    /// one-time password.
    pub async fn create_office(
        &self,
        code: &str,
        name: &str,
        admin_username: &str,
    ) -> Result<(OfficeRow, User, String), AccountError> {
        let code = code.trim().to_uppercase();
        let name = name.trim().to_owned();
        let code_ok = (1..=20).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !code_ok {
            return Err(AccountError::Invalid(
                "clave: use de 1 a 20 mayúsculas, dígitos o guiones, como «DIF-SLP»".into(),
            ));
        }
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AccountError::Invalid(
                "nombre: escriba el nombre de la oficina (hasta 200 caracteres)".into(),
            ));
        }
        let admin = NewUser {
            username: admin_username.to_owned(),
            display_name: format!("Administración {code}"),
            cargo: String::new(),
            role: Role::Administrador,
        }
        .checked()?;
        let password = one_time_password().map_err(|e| AccountError::Invalid(e.to_string()))?;
        let hash = hash_blocking(password.clone()).await?;
        let sql = insert_user_sql();
        let row: UserRow = on_pool!(&self.store, pool => {
            let mut tx = pool.begin().await?;
            let office = sqlx::query("INSERT INTO offices (code, name) VALUES ($1, $2)")
                .bind(&code).bind(&name).execute(&mut *tx).await;
            match office {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(AccountError::Invalid(format!("clave: la oficina «{code}» ya existe")));
                }
                other => other?,
            };
            let row = sqlx::query_as(&sql)
                .bind(&code).bind(&admin.username).bind(&admin.display_name).bind(&admin.cargo)
                .bind(admin.role.as_str()).bind(&hash).bind(true).bind(true).bind(now_text())
                .fetch_one(&mut *tx).await
                .map_err(|e| taken(e, &admin.username))?;
            tx.commit().await?;
            row
        });
        Ok((OfficeRow { code, name }, row.into_user(), password))
    }
}
