//! The administrator's rules that map a provider's claims to an office and
//! a role: kept in `sso_rules` (migration 0022), tried in order, the first
//! that matches decides. A person no rule matches gets no access.

use serde_json::{Map, Value};

use crate::accounts::{AccountError, Accounts, Role, now_text};
use crate::public_id::PublicId;

/// One rule: who has `claim` equal to `value` (or a list of texts holding
/// it) enters `office_code` as `role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRule {
    pub public_id: PublicId,
    pub claim: String,
    pub value: String,
    pub office_code: String,
    pub role: Role,
    /// Smaller first.
    pub position: i64,
}

/// What an administrator fills in to add a rule.
#[derive(Debug, Clone)]
pub struct NewSsoRule {
    pub claim: String,
    pub value: String,
    pub office_code: String,
    pub role: Role,
    /// `None`: after every rule there is.
    pub position: Option<i64>,
}

/// Longest claim name and value kept.
const CLAIM_MAX: usize = 100;
const VALUE_MAX: usize = 200;

/// The claims of a verified ID token, by name.
#[derive(Debug, Clone, Default)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// A text claim (`email`, `name`), if the token has it as text.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// Whether the claim `name` is `value`: a text equal to it, a list
    /// with an item equal to it, or a number or yes/no written so.
    pub fn has(&self, name: &str, value: &str) -> bool {
        let equal = |item: &Value| match item {
            Value::String(text) => text == value,
            Value::Number(number) => number.to_string() == value,
            Value::Bool(flag) => flag.to_string() == value,
            _ => false,
        };
        match self.0.get(name) {
            Some(Value::Array(items)) => items.iter().any(equal),
            Some(item) => equal(item),
            None => false,
        }
    }
}

impl SsoRule {
    /// What the audit trail keeps of the rule when it is made or removed.
    pub fn audit_details(&self) -> Value {
        serde_json::json!({
            "regla": self.public_id.to_string(),
            "dato": self.claim,
            "valor": self.value,
            "oficina": self.office_code,
            "rol": self.role.as_str(),
            "orden": self.position,
        })
    }
}

/// The role a rule gives, as the administrator wrote it.
pub fn parse_role(text: &str) -> Result<Role, AccountError> {
    Role::parse(text.trim()).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        AccountError::Invalid(format!(
            "rol: «{}» no es un rol; elija uno de {}",
            text.trim(),
            roles.join(", ")
        ))
    })
}

/// The first rule, in order, that `claims` match.
pub fn first_match<'a>(rules: &'a [SsoRule], claims: &Claims) -> Option<&'a SsoRule> {
    let mut ordered: Vec<&SsoRule> = rules.iter().collect();
    ordered.sort_by_key(|rule| rule.position);
    ordered
        .into_iter()
        .find(|rule| claims.has(&rule.claim, &rule.value))
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    public_id: PublicId,
    claim: String,
    value: String,
    office_code: String,
    role: String,
    position: i64,
}

impl Accounts {
    /// Every rule, in the order they are tried.
    pub async fn sso_rules(&self) -> Result<Vec<SsoRule>, AccountError> {
        let rows: Vec<RuleRow> = {
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT public_id, claim, value, office_code, role, CAST(position AS BIGINT) AS position \
                 FROM sso_rules ORDER BY position, id",
            )
            .fetch_all(pool)
            .await?
        };
        Ok(rows
            .into_iter()
            .map(|row| SsoRule {
                public_id: row.public_id,
                claim: row.claim,
                value: row.value,
                office_code: row.office_code,
                // The table's CHECK allows only the roles.
                role: Role::parse(&row.role).unwrap_or(Role::Capturista),
                position: row.position,
            })
            .collect())
    }

    /// Adds a rule, checked field by field; `created_by` is the
    /// administrator's username.
    pub async fn add_sso_rule(&self, new: &NewSsoRule, created_by: &str) -> Result<SsoRule, AccountError> {
        let claim = new.claim.trim();
        let claim_ok = !claim.is_empty()
            && claim.chars().count() <= CLAIM_MAX
            && !claim.chars().any(|c| c.is_whitespace() || c.is_control());
        if !claim_ok {
            return Err(AccountError::Invalid(format!(
                "dato del proveedor: escriba el nombre de un dato del token, sin espacios (hasta {CLAIM_MAX} caracteres), como «groups»"
            )));
        }
        let value = new.value.trim();
        if value.is_empty() || value.chars().count() > VALUE_MAX || value.chars().any(char::is_control) {
            return Err(AccountError::Invalid(format!(
                "valor: escriba el valor que debe tener el dato (hasta {VALUE_MAX} caracteres)"
            )));
        }
        if self.office(&new.office_code).await?.is_none() {
            return Err(AccountError::Invalid(format!(
                "oficina: «{}» no es una oficina de esta instalación",
                new.office_code
            )));
        }
        let position = match new.position {
            Some(position) if (0..=1_000_000).contains(&position) => position,
            Some(_) => {
                return Err(AccountError::Invalid(
                    "orden: use un número de 0 a 1000000".into(),
                ));
            }
            None => {
                let last: Option<i64> = {
                    let pool = self.store.pool();
                    sqlx::query_scalar("SELECT CAST(MAX(position) AS BIGINT) FROM sso_rules")
                        .fetch_one(pool)
                        .await?
                };
                last.map_or(10, |last| last + 10)
            }
        };
        let public_id = PublicId::generate()?;
        {
            let pool = self.store.pool();
            sqlx::query(
                "INSERT INTO sso_rules (public_id, claim, value, office_code, role, position, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(public_id)
            .bind(claim)
            .bind(value)
            .bind(&new.office_code)
            .bind(new.role.as_str())
            .bind(position)
            .bind(now_text())
            .bind(created_by)
            .execute(pool)
            .await?;
        };
        Ok(SsoRule {
            public_id,
            claim: claim.to_owned(),
            value: value.to_owned(),
            office_code: new.office_code.clone(),
            role: new.role,
            position,
        })
    }

    /// Removes a rule; whoever it let in is refused at their next login
    /// unless another rule matches them. The rule removed; `None` when
    /// there was none with that id.
    pub async fn delete_sso_rule(&self, id: PublicId) -> Result<Option<SsoRule>, AccountError> {
        let Some(rule) = self
            .sso_rules()
            .await?
            .into_iter()
            .find(|rule| rule.public_id == id)
        else {
            return Ok(None);
        };
        let deleted = {
            let pool = self.store.pool();
            sqlx::query("DELETE FROM sso_rules WHERE public_id = $1")
                .bind(id)
                .execute(pool)
                .await?
        };
        // Removed meanwhile by another administrator: not this one's act.
        Ok((deleted.rows_affected() == 1).then_some(rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(claim: &str, value: &str, office: &str, role: Role, position: i64) -> SsoRule {
        SsoRule {
            public_id: PublicId::generate().expect("random"),
            claim: claim.into(),
            value: value.into(),
            office_code: office.into(),
            role,
            position,
        }
    }

    fn claims(value: Value) -> Claims {
        Claims(value.as_object().expect("object").clone())
    }

    #[test]
    fn the_first_rule_in_order_that_matches_decides() {
        let rules = [
            rule("groups", "dif-capturistas", "DIF-SLP", Role::Capturista, 20),
            rule("groups", "dif-firmantes", "DIF-SLP", Role::Firmante, 10),
            rule("oficina", "GSL", "GSL", Role::Revisor, 30),
        ];
        let both = claims(json!({"groups": ["dif-capturistas", "dif-firmantes"]}));
        assert_eq!(first_match(&rules, &both).map(|r| r.role), Some(Role::Firmante));
        let office = claims(json!({"oficina": "GSL", "groups": []}));
        assert_eq!(
            first_match(&rules, &office).map(|r| r.office_code.as_str()),
            Some("GSL")
        );
        let nobody = claims(json!({"groups": ["mantenimiento"], "oficina": "gsl"}));
        assert!(first_match(&rules, &nobody).is_none(), "values compare exactly");
        assert!(first_match(&rules, &Claims::default()).is_none());
    }

    #[test]
    fn a_claim_matches_as_text_list_number_or_yes_no() {
        let all = claims(json!({"a": "x", "b": ["y", 3], "c": 7, "d": true, "e": {"x": 1}}));
        assert!(all.has("a", "x") && all.has("b", "y") && all.has("b", "3"));
        assert!(all.has("c", "7") && all.has("d", "true"));
        assert!(!all.has("e", "x") && !all.has("a", "X") && !all.has("z", "x"));
    }
}
