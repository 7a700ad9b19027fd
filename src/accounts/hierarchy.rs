//! The offices' hierarchy (national → province or region → district →
//! local office) and what it lets an account reach: every account reads
//! its own office and, read only, the offices under it; an administrator
//! may grant an account of an office above the role of a visado in one
//! office under it. Nothing here writes to an archive: the ways in ask
//! [`Accounts::visible_offices`] and [`Accounts::grant_in`] and narrow the
//! archive themselves.

use super::{AccountError, Accounts, Role, User, now_text};

/// An office's place in the hierarchy, as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OfficeNode {
    pub code: String,
    pub name: String,
    /// The office it is under, if any.
    pub parent_code: Option<String>,
}

/// A grant: an account of an office above takes the steps of `role` in
/// `office_code`.
#[derive(Debug, Clone)]
pub struct OfficeGrant {
    pub user: User,
    pub office_code: String,
    pub role: Role,
    pub granted_by: String,
    pub granted_at: String,
}

/// The roles a grant may give: those of a visado. Signing and annulling
/// stay with the office that issues, so what its documents say of who
/// signed them stays its own.
pub const GRANTABLE: [Role; 2] = [Role::Revisor, Role::Contador];

/// The offices under `$1`, itself included. `UNION` (not `UNION ALL`)
/// ends even if a cycle were ever stored.
const SUBTREE: &str = "WITH RECURSIVE subtree (code) AS ( \
     SELECT code FROM offices WHERE code = $1 \
     UNION SELECT o.code FROM offices o JOIN subtree s ON o.parent_code = s.code) \
     SELECT code FROM subtree ORDER BY code";

impl Accounts {
    /// The codes of the offices whose archives `user` may read: their own
    /// and every office under it, at any depth. The one answer every way
    /// in (search, documents, expedientes, counts) narrows to; only the
    /// account's own office is ever written to.
    pub async fn visible_offices(&self, user: &User) -> Result<Vec<String>, AccountError> {
        let mut codes = self.offices_under(&user.office_code).await?;
        // Its own office first: searches and lookups start there.
        codes.retain(|c| c != &user.office_code);
        codes.insert(0, user.office_code.clone());
        Ok(codes)
    }

    /// `code` and the offices under it, by code.
    pub async fn offices_under(&self, code: &str) -> Result<Vec<String>, AccountError> {
        let pool = self.store.pool();
        Ok(sqlx::query_scalar(SUBTREE).bind(code).fetch_all(pool).await?)
    }

    /// Every office with the one it is under, by code.
    pub async fn office_tree(&self) -> Result<Vec<OfficeNode>, AccountError> {
        let pool = self.store.pool();
        Ok(
            sqlx::query_as("SELECT code, name, parent_code FROM offices ORDER BY code")
                .fetch_all(pool)
                .await?,
        )
    }

    /// The office `code` is under, if any.
    pub async fn parent_of(&self, code: &str) -> Result<Option<String>, AccountError> {
        let pool = self.store.pool();
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT parent_code FROM offices WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?;
        row.ok_or_else(|| no_such_office(code))
    }

    /// Puts office `code` under `parent` (or under none). Refused, naming
    /// the offices, if `parent` is `code` itself or one of the offices
    /// under it: no office may end up under itself. The offices are
    /// locked while it is checked, so two changes at once cannot make a
    /// cycle between them.
    pub async fn set_parent(&self, code: &str, parent: Option<&str>) -> Result<(), AccountError> {
        let code = code.trim().to_uppercase();
        let parent = parent.map(|p| p.trim().to_uppercase()).filter(|p| !p.is_empty());
        let mut tx = self.store.begin_write().await?;
        let lock = format!(
            "SELECT code FROM offices ORDER BY code{}",
            self.store.dialect().row_lock(true)
        );
        let codes: Vec<String> = sqlx::query_scalar(&lock).fetch_all(&mut *tx).await?;
        if !codes.contains(&code) {
            return Err(no_such_office(&code));
        }
        if let Some(parent) = &parent {
            if !codes.contains(parent) {
                return Err(AccountError::Invalid(format!(
                    "oficina superior: no existe «{parent}»"
                )));
            }
            if parent == &code {
                return Err(AccountError::Invalid(format!(
                    "oficina superior: «{code}» no puede depender de sí misma"
                )));
            }
            let under: Vec<String> = sqlx::query_scalar(SUBTREE)
                .bind(&code)
                .fetch_all(&mut *tx)
                .await?;
            if under.contains(parent) {
                return Err(AccountError::Invalid(format!(
                    "oficina superior: «{code}» no puede depender de «{parent}», que ya depende de «{code}»; se formaría un ciclo"
                )));
            }
        }
        sqlx::query("UPDATE offices SET parent_code = $2 WHERE code = $1")
            .bind(&code)
            .bind(&parent)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Grants `user` the steps of `role` in `office`, which must be under
    /// the user's own office (not the office itself: there the account's
    /// own role holds). `granted_by` names the administrator, as the audit
    /// trail does. Granting again replaces the role.
    pub async fn grant(
        &self,
        user: &User,
        office: &str,
        role: Role,
        granted_by: &str,
    ) -> Result<(), AccountError> {
        if !GRANTABLE.contains(&role) {
            return Err(AccountError::Invalid(format!(
                "rol: en una oficina dependiente solo se concede el visado (revisor o contador), no «{}»",
                role.as_str()
            )));
        }
        let office = office.trim().to_uppercase();
        let under = self.offices_under(&user.office_code).await?;
        if office == user.office_code || !under.contains(&office) {
            return Err(AccountError::Invalid(format!(
                "oficina: «{office}» no depende de «{}», la oficina de «{}»",
                user.office_code, user.username
            )));
        }
        let pool = self.store.pool();
        sqlx::query(
            "INSERT INTO office_grants (user_id, office_code, role, granted_by, granted_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, office_code) DO UPDATE SET role = $3, granted_by = $4, granted_at = $5",
        )
        .bind(user.id)
        .bind(&office)
        .bind(role.as_str())
        .bind(granted_by)
        .bind(now_text())
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Takes back what [`Accounts::grant`] gave; `false` if there was none.
    pub async fn revoke_grant(&self, user: &User, office: &str) -> Result<bool, AccountError> {
        let pool = self.store.pool();
        let removed = sqlx::query("DELETE FROM office_grants WHERE user_id = $1 AND office_code = $2")
            .bind(user.id)
            .bind(office.trim().to_uppercase())
            .execute(pool)
            .await?
            .rows_affected();
        Ok(removed > 0)
    }

    /// The role `user` was granted in `office`, if the grant still counts:
    /// the office is still under the user's own and the user is active.
    pub async fn grant_in(&self, user: &User, office: &str) -> Result<Option<Role>, AccountError> {
        if !user.active || office == user.office_code {
            return Ok(None);
        }
        let role: Option<String> = {
            let pool = self.store.pool();
            sqlx::query_scalar("SELECT role FROM office_grants WHERE user_id = $1 AND office_code = $2")
                .bind(user.id)
                .bind(office)
                .fetch_optional(pool)
                .await?
        };
        let Some(role) = role.as_deref().and_then(Role::parse) else {
            return Ok(None);
        };
        let still_under = self
            .offices_under(&user.office_code)
            .await?
            .iter()
            .any(|c| c == office);
        Ok(still_under.then_some(role))
    }

    /// The offices where `user` holds a grant that still counts.
    pub async fn granted_offices(&self, user: &User) -> Result<Vec<(String, Role)>, AccountError> {
        let rows: Vec<(String, String)> = {
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT office_code, role FROM office_grants WHERE user_id = $1 ORDER BY office_code",
            )
            .bind(user.id)
            .fetch_all(pool)
            .await?
        };
        if !user.active {
            return Ok(Vec::new());
        }
        let under = self.offices_under(&user.office_code).await?;
        Ok(rows
            .into_iter()
            .filter(|(office, _)| office != &user.office_code && under.contains(office))
            .filter_map(|(office, role)| Role::parse(&role).map(|r| (office, r)))
            .collect())
    }

    /// The grants given in `office`, whether or not they still count.
    pub async fn grants_in(&self, office: &str) -> Result<Vec<OfficeGrant>, AccountError> {
        let rows: Vec<(i64, String, String, String, String)> = {
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT g.user_id, u.office_code, g.role, g.granted_by, g.granted_at FROM office_grants g \
                 JOIN users u ON u.id = g.user_id WHERE g.office_code = $1 ORDER BY u.display_name, g.id",
            )
            .bind(office)
            .fetch_all(pool)
            .await?
        };
        let mut grants = Vec::with_capacity(rows.len());
        for (user_id, user_office, role, granted_by, granted_at) in rows {
            grants.push(OfficeGrant {
                user: self.user(&user_office, user_id).await?,
                office_code: office.to_owned(),
                role: Role::parse(&role).unwrap_or(Role::Revisor),
                granted_by,
                granted_at,
            });
        }
        Ok(grants)
    }
}

fn no_such_office(code: &str) -> AccountError {
    AccountError::Invalid(format!("oficina: no existe «{code}»"))
}
