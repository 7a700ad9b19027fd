//! The offices of an installation. Each has its own folios, expedientes,
//! documents and users; they share the installation's signing keys.

use serde::Serialize;

use super::{AccountError, Accounts};
use crate::archive::{OFFICE_SQL, Office, on_pool};

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

    /// Adds an office; its code goes into its folios and cannot change.
    pub async fn create_office(&self, code: &str, name: &str) -> Result<OfficeRow, AccountError> {
        let code = code.trim().to_uppercase();
        let name = name.trim();
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
        if self.office(&code).await?.is_some() {
            return Err(AccountError::Invalid(format!(
                "clave: la oficina «{code}» ya existe"
            )));
        }
        on_pool!(&self.store, pool => {
            sqlx::query(OFFICE_SQL).bind(&code).bind(name).execute(pool).await?;
        });
        Ok(OfficeRow {
            code,
            name: name.to_owned(),
        })
    }
}
