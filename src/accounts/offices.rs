//! The offices of an installation. Each has its own folios, expedientes,
//! documents and users, and may have its own letterhead, time zone and
//! country; they share the installation's signing keys.

use chrono_tz::Tz;
use serde::Serialize;

use super::password::one_time_password;
use super::users::{UserRow, hash_blocking, insert_user_sql, taken};
use super::{AccountError, Accounts, NewUser, Role, User, now_text};
use crate::office::Office;
use crate::office::{Country, Logo, OfficeIdentity};

/// An office as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OfficeRow {
    pub code: String,
    pub name: String,
}

/// The columns an office is read from (its logo's bytes apart).
const OFFICE_COLUMNS: &str =
    "code, name, institution, address, time_zone, country, logo_type, identity_revision";

#[derive(sqlx::FromRow)]
struct OfficeColumns {
    code: String,
    name: String,
    institution: Option<String>,
    address: Option<String>,
    time_zone: Option<String>,
    country: Option<String>,
    logo_type: Option<String>,
    identity_revision: i64,
}

impl From<OfficeColumns> for Office {
    fn from(c: OfficeColumns) -> Self {
        Office {
            identity: OfficeIdentity::from_columns(
                c.institution,
                c.address,
                c.time_zone,
                c.country,
                c.logo_type,
                c.identity_revision,
            ),
            code: c.code,
            name: c.name,
        }
    }
}

/// What an administrator writes about an office: its name, and each part
/// of its identity, empty for «as the installation».
#[derive(Debug, Clone, Default)]
pub struct IdentityChange {
    pub name: String,
    pub institution: String,
    pub address: String,
    pub time_zone: String,
    pub country: String,
}

/// An [`IdentityChange`] checked, as stored.
struct CheckedIdentity {
    name: String,
    institution: Option<String>,
    address: Option<String>,
    time_zone: Option<String>,
    country: Option<&'static str>,
}

impl IdentityChange {
    fn checked(&self) -> Result<CheckedIdentity, AccountError> {
        let invalid = |m: &str| Err(AccountError::Invalid(m.to_owned()));
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return invalid("nombre: escriba el nombre de la oficina (hasta 200 caracteres)");
        }
        let institution = self.institution.trim();
        if institution.chars().count() > 200 {
            return invalid("institución: hasta 200 caracteres");
        }
        let address = self.address.trim();
        if address.chars().count() > 300 {
            return invalid("domicilio: hasta 300 caracteres");
        }
        let time_zone = match self.time_zone.trim() {
            "" => None,
            zone => match zone.parse::<Tz>() {
                Ok(tz) => Some(tz.name().to_owned()),
                Err(_) => {
                    return invalid(
                        "zona horaria: use un nombre como «America/Mexico_City», «America/Santiago» o «America/Panama»",
                    );
                }
            },
        };
        let country = match self.country.trim() {
            "" => None,
            code => match Country::parse(code) {
                Some(country) => Some(country.code()),
                None => return invalid("país: elija México, Chile o Panamá"),
            },
        };
        // The address (and logo) go with the institution: an office that
        // prints the installation's institution prints its address too.
        let (institution, address) = if institution.is_empty() {
            (None, None)
        } else {
            (Some(institution.to_owned()), Some(address.to_owned()))
        };
        Ok(CheckedIdentity {
            name,
            institution,
            address,
            time_zone,
            country,
        })
    }
}

impl Accounts {
    pub async fn offices(&self) -> Result<Vec<Office>, AccountError> {
        let sql = format!("SELECT {OFFICE_COLUMNS} FROM offices ORDER BY code");
        let rows: Vec<OfficeColumns> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql).fetch_all(pool).await?
        };
        Ok(rows.into_iter().map(Office::from).collect())
    }

    /// An office by its code, with its identity.
    pub async fn office(&self, code: &str) -> Result<Option<Office>, AccountError> {
        let sql = format!("SELECT {OFFICE_COLUMNS} FROM offices WHERE code = $1");
        let row: Option<OfficeColumns> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql).bind(code).fetch_optional(pool).await?
        };
        Ok(row.map(Office::from))
    }

    /// Changes an office's name and identity; what it issues from now on
    /// carries them. Its code never changes.
    pub async fn update_office(&self, code: &str, change: &IdentityChange) -> Result<Office, AccountError> {
        let c = change.checked()?;
        let updated = {
            let pool = self.store.pool();
            sqlx::query(
                "UPDATE offices SET name = $2, institution = $3, address = $4, time_zone = $5, \
                 country = $6, identity_revision = identity_revision + 1 WHERE code = $1",
            )
            .bind(code)
            .bind(&c.name)
            .bind(&c.institution)
            .bind(&c.address)
            .bind(&c.time_zone)
            .bind(c.country)
            .execute(pool)
            .await?
            .rows_affected()
        };
        if updated == 0 {
            return Err(AccountError::Invalid(format!("oficina: no existe «{code}»")));
        }
        self.office(code)
            .await?
            .ok_or_else(|| AccountError::Invalid(format!("oficina: no existe «{code}»")))
    }

    /// Whether the roles that prepare documents without signing them may
    /// upload lotes in office `code` (their lotes wait for a signer's
    /// approval). `false` for an office that is not there.
    pub async fn preparers_bulk(&self, code: &str) -> Result<bool, AccountError> {
        let allowed: Option<crate::db::Flag> = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT preparers_bulk FROM offices WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?
        };
        Ok(allowed.is_some_and(bool::from))
    }

    /// Allows or forbids bulk to the roles that prepare documents in
    /// office `code`; returns whether that changed the setting.
    pub async fn set_preparers_bulk(&self, code: &str, allowed: bool) -> Result<bool, AccountError> {
        let updated = {
            let pool = self.store.pool();
            sqlx::query("UPDATE offices SET preparers_bulk = $2 WHERE code = $1 AND preparers_bulk <> $2")
                .bind(code)
                .bind(i64::from(allowed))
                .execute(pool)
                .await?
                .rows_affected()
        };
        if updated == 0 && self.office(code).await?.is_none() {
            return Err(AccountError::Invalid(format!("oficina: no existe «{code}»")));
        }
        Ok(updated > 0)
    }

    /// Gives an office its own logo, or takes it away (`None`): it then
    /// prints the letterhead as text.
    pub async fn set_office_logo(&self, code: &str, logo: Option<&Logo>) -> Result<(), AccountError> {
        let (bytes, kind) = match logo {
            Some(logo) => (Some(logo.bytes.as_slice()), Some(logo.kind.as_str())),
            None => (None, None),
        };
        let updated = {
            let pool = self.store.pool();
            sqlx::query(
                "UPDATE offices SET logo = $2, logo_type = $3, identity_revision = identity_revision + 1 \
                 WHERE code = $1",
            )
            .bind(code)
            .bind(bytes)
            .bind(kind)
            .execute(pool)
            .await?
            .rows_affected()
        };
        if updated == 0 {
            return Err(AccountError::Invalid(format!("oficina: no existe «{code}»")));
        }
        Ok(())
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
        let identity = IdentityChange {
            name: name.to_owned(),
            ..IdentityChange::default()
        };
        self.create_office_with(code, &identity, admin_username).await
    }

    /// [`create_office`](Self::create_office), with the office's identity.
    pub async fn create_office_with(
        &self,
        code: &str,
        identity: &IdentityChange,
        admin_username: &str,
    ) -> Result<(OfficeRow, User, String), AccountError> {
        let code = code.trim().to_uppercase();
        let code_ok = (1..=20).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !code_ok {
            return Err(AccountError::Invalid(
                "clave: use de 1 a 20 mayúsculas, dígitos o guiones, como «DIF-SLP»".into(),
            ));
        }
        let identity = identity.checked()?;
        let name = identity.name.clone();
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
        let admin_public_id = crate::public_id::PublicId::generate()?;
        let row: UserRow = {
            let pool = self.store.pool();
            let mut tx = pool.begin().await?;
            let office = sqlx::query(
                "INSERT INTO offices (code, name, institution, address, time_zone, country) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&code)
            .bind(&name)
            .bind(&identity.institution)
            .bind(&identity.address)
            .bind(&identity.time_zone)
            .bind(identity.country)
            .execute(&mut *tx)
            .await;
            match office {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(AccountError::Invalid(format!(
                        "clave: la oficina «{code}» ya existe"
                    )));
                }
                other => other?,
            };
            let row = sqlx::query_as(&sql)
                .bind(&code)
                .bind(&admin.username)
                .bind(&admin.display_name)
                .bind(&admin.cargo)
                .bind(admin.role.as_str())
                .bind(&hash)
                .bind(true)
                .bind(true)
                .bind(now_text())
                .bind(admin_public_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| taken(e, &admin.username))?;
            tx.commit().await?;
            row
        };
        Ok((OfficeRow { code, name }, row.into_user(), password))
    }
}
