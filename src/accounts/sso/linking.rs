//! Linking an account that exists already (made by an administrator, with
//! its password, history and signatures) to the person's identity at the
//! provider, so that their logins through the provider land on it instead
//! of on a new account; and undoing it.
//!
//! A linking is a login like any other (state, nonce, PKCE, its row taken
//! once) whose row names the account that started it; what its return
//! decides is here. The rules are asked as at a login: an identity the
//! rules would put in another office than the account's is not linked to
//! it, since its logins would be refused.

use super::identities::{Identity, Insert};
use super::{Refusal, SingleSignOn, SsoError, SsoRule, Started, Verified, first_match};
use crate::accounts::{AccountError, User};

/// What a verified linking came to.
#[derive(Debug)]
pub enum Linking {
    /// The account is linked to the identity now (or was already), with
    /// the rule that admits it, whose role its logins will take.
    Linked {
        rule: SsoRule,
    },
    Refused(Refusal),
}

impl SingleSignOn {
    /// Starts the linking of `user`'s account: a login whose return links
    /// the person's identity to it, then goes to `next`.
    pub async fn begin_link(&self, user: &User, next: &str) -> Result<Started, SsoError> {
        self.start(next, Some(user.id)).await
    }

    /// Links `user`'s account, the one that started the linking, to the
    /// identity the provider vouched for, unless the rules admit that
    /// identity to no office or to another one, the identity is another
    /// account's, or the account has another identity at the provider.
    pub async fn link(&self, verified: &Verified, user: &User) -> Result<Linking, AccountError> {
        let rules = self.accounts.sso_rules().await?;
        let Some(rule) = first_match(&rules, &verified.claims).cloned() else {
            return Ok(Linking::Refused(Refusal::NoRule));
        };
        if !user.active {
            return Ok(Linking::Refused(Refusal::Inactive));
        }
        if rule.office_code != user.office_code {
            return Ok(Linking::Refused(Refusal::OtherOffice));
        }
        let refusal = self.linked_otherwise(verified, user).await?;
        if let Some(refusal) = refusal {
            return Ok(Linking::Refused(refusal));
        }
        let inserted = self
            .accounts
            .insert_identity(user.id, &verified.issuer, &verified.subject)
            .await?;
        match inserted {
            Insert::Added => Ok(Linking::Linked { rule }),
            // Another linking of the identity or the account won: say which.
            Insert::Taken => Ok(match self.linked_otherwise(verified, user).await? {
                Some(refusal) => Linking::Refused(refusal),
                None => Linking::Linked { rule },
            }),
        }
    }

    /// Why the identity cannot be linked to `user`'s account as things
    /// are: it is another account's, or the account has another identity.
    /// `None` when it is free, or linked to this very account already.
    async fn linked_otherwise(
        &self,
        verified: &Verified,
        user: &User,
    ) -> Result<Option<Refusal>, AccountError> {
        let holder = self
            .accounts
            .linked_user(&verified.issuer, &verified.subject)
            .await?;
        match holder {
            Some((id, ..)) if id == user.id => return Ok(None),
            Some(_) => return Ok(Some(Refusal::LinkedElsewhere)),
            None => {}
        }
        let own = self.accounts.sso_identity(user.id, &verified.issuer).await?;
        Ok(own.map(|_| Refusal::AlreadyLinked))
    }

    /// The identity `user`'s account is linked to at this provider.
    pub async fn identity_of(&self, user: &User) -> Result<Option<Identity>, AccountError> {
        self.accounts.sso_identity(user.id, &self.settings.issuer).await
    }

    /// Removes the link of `user`'s account at this provider: its logins
    /// through the provider no longer reach the account (a person no
    /// longer linked gets a new account at their next one, if a rule
    /// admits them). The identity it had, if any.
    pub async fn unlink(&self, user: &User) -> Result<Option<Identity>, AccountError> {
        self.accounts
            .unlink_sso_identity(user.id, &self.settings.issuer)
            .await
    }

    /// Whether `user` could still enter without the provider: passwords
    /// are allowed and the account has one.
    pub async fn enters_without_provider(&self, user: &User) -> Result<bool, AccountError> {
        Ok(self.settings.local_passwords && self.accounts.has_password(user.id).await?)
    }
}
