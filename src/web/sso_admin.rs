//! The installation administrators' acts on single sign-on's rules, one
//! way whether they come from the staff page (`/admin/sso`) or from the
//! API (`/api/v1/sso/rules`): who may, the checks (`accounts::sso`), and
//! the same audit events.

use crate::accounts::sso::{NewSsoRule, SsoRule};
use crate::accounts::{AccountError, User};
use crate::archive::NewEvent;
use crate::public_id::PublicId;
use crate::web::AppState;

pub const RULE_CREATED: &str = "sso.regla_creada";
pub const RULE_DELETED: &str = "sso.regla_eliminada";

/// The rules are the installation's (any office may be named): only the
/// administrators of the configured office manage them.
pub fn may_manage(state: &AppState, user: &User) -> bool {
    user.role.can_administer() && user.office_code == state.config.office_code
}

/// Who did it, as the audit trail names them: the API's acts are marked.
pub enum Via {
    Page,
    Api,
}

async fn audit(
    state: &AppState,
    user: &User,
    via: Via,
    action: &'static str,
    rule: &SsoRule,
) -> Result<(), AccountError> {
    let actor = match via {
        Via::Page => user.username.clone(),
        Via::Api => format!("{} (API)", user.username),
    };
    state
        .archive
        .store()
        .record_event(NewEvent {
            actor,
            action,
            office_code: Some(user.office_code.clone()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details: rule.audit_details(),
        })
        .await
        .map_err(AccountError::Store)
}

/// Adds a rule, checked field by field, and audits it. The caller has
/// made sure `user` [`may_manage`].
pub async fn add_rule(
    state: &AppState,
    user: &User,
    via: Via,
    new: &NewSsoRule,
) -> Result<SsoRule, AccountError> {
    let rule = state.accounts.add_sso_rule(new, &user.username).await?;
    audit(state, user, via, RULE_CREATED, &rule).await?;
    Ok(rule)
}

/// Removes a rule and audits it; `None` when there was none with that id.
pub async fn remove_rule(
    state: &AppState,
    user: &User,
    via: Via,
    id: PublicId,
) -> Result<Option<SsoRule>, AccountError> {
    let Some(rule) = state.accounts.delete_sso_rule(id).await? else {
        return Ok(None);
    };
    audit(state, user, via, RULE_DELETED, &rule).await?;
    Ok(Some(rule))
}
