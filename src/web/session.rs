//! A logged-in member of staff, as the pages see them: who they are and
//! the CSRF token of their session. `auth` finds them from the request;
//! `ui` draws the page frame for them.

use crate::accounts::{Session, User};

/// The hidden field every state-changing form carries.
pub const CSRF_FIELD: &str = "_csrf";

/// A logged-in member of staff, on a page.
#[derive(Debug, Clone)]
pub struct Staff(pub Session);

impl Staff {
    pub fn user(&self) -> &User {
        &self.0.user
    }

    pub fn csrf(&self) -> &str {
        &self.0.csrf_token
    }

    /// Whether they may use bulk issuance: who signs, and who prepares
    /// documents where the office allows it (`web::lotes::may_use_bulk`).
    pub fn may_use_bulk(&self) -> bool {
        super::lotes::may_use_bulk(self.user().role, self.0.office_preparers_bulk)
    }

    /// The same session, acting as `user`: the account with a role it
    /// was granted in an office under its own (`web/reach.rs`).
    pub fn acting_as(&self, user: User) -> Self {
        let mut session = self.0.clone();
        session.user = user;
        Self(session)
    }
}
