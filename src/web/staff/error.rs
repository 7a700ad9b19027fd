//! Why a staff page answers with something other than what was asked, as
//! a type: handlers return `Result<Response, PageError>` and use `?`. A
//! failure of the archive, the accounts or a trámite step becomes the page
//! a member of staff reads, in the staff frame and in Spanish; a failure of
//! storage is logged with its cause and shown without it.

use axum::response::{IntoResponse, Response};

use super::account::capitalized;
use crate::accounts::{AccountError, Role};
use crate::archive::ArchiveError;
use crate::public_id::PublicId;
use crate::signed_pdf::IssueError;
use crate::tramites::StepError;
use crate::web::auth::Staff;
use crate::web::ui;

/// What went wrong, before it is shown to someone.
#[derive(Debug)]
pub enum Failure {
    /// Missing, or of another office: the same to whoever asks.
    NotFound(String),
    /// The role does not allow it.
    Forbidden,
    /// Not allowed, for the reason given (an office's setting).
    NotAllowed(String),
    /// The request cannot be served as sent.
    BadRequest(String),
    /// Storage or another internal failure: logged, not shown.
    Unavailable(String),
    /// A form without this session's CSRF token.
    Forged,
}

impl Failure {
    pub fn unavailable(error: impl std::fmt::Display) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<ArchiveError> for Failure {
    fn from(error: ArchiveError) -> Self {
        match error {
            ArchiveError::DocumentNotFound(_)
            | ArchiveError::ExpedienteNotFound(_)
            | ArchiveError::NotShared(_) => Self::NotFound(error.to_string()),
            ArchiveError::Refused(message) => Self::BadRequest(message),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<AccountError> for Failure {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(message) => Self::BadRequest(message),
            AccountError::UserNotFound => Self::NotFound(error.to_string()),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<StepError> for Failure {
    fn from(error: StepError) -> Self {
        match error {
            StepError::NotFound(message) => Self::NotFound(message),
            StepError::Forbidden(_) => Self::Forbidden,
            StepError::Refused(message) => Self::BadRequest(message),
            StepError::Archive(ArchiveError::Issue(IssueError::Invalid(problems))) => {
                Self::BadRequest(format!("los datos no son válidos: {problems}"))
            }
            StepError::Archive(error) => error.into(),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}

/// A [`Failure`] with the member of staff it is shown to.
pub struct PageError {
    staff: Box<Staff>,
    failure: Failure,
}

impl PageError {
    pub fn new(staff: &Staff, failure: Failure) -> Self {
        Self {
            staff: Box::new(staff.clone()),
            failure,
        }
    }

    pub fn not_found(staff: &Staff, text: impl Into<String>) -> Self {
        Self::new(staff, Failure::NotFound(text.into()))
    }

    pub fn bad_request(staff: &Staff, text: impl Into<String>) -> Self {
        Self::new(staff, Failure::BadRequest(text.into()))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let staff = &self.staff;
        match self.failure {
            Failure::NotFound(text) => ui::not_found(staff, &capitalized(&text)),
            Failure::Forbidden => ui::forbidden(staff),
            Failure::NotAllowed(text) => ui::forbidden_because(staff, &text),
            Failure::BadRequest(text) => ui::bad_request(staff, &capitalized(&text)),
            Failure::Unavailable(cause) => ui::unavailable(&cause),
            Failure::Forged => ui::csrf_refused(staff),
        }
    }
}

/// `?` for staff handlers: `archive.document(id).await.or_page(&staff)?`.
pub trait OrPage<T> {
    fn or_page(self, staff: &Staff) -> Result<T, PageError>;
}

impl<T, E: Into<Failure>> OrPage<T> for Result<T, E> {
    fn or_page(self, staff: &Staff) -> Result<T, PageError> {
        self.map_err(|error| PageError::new(staff, error.into()))
    }
}

impl Staff {
    /// Nothing, if the staff member's role allows it; else the page that
    /// says it does not.
    pub fn require(&self, allowed: impl Fn(Role) -> bool) -> Result<(), PageError> {
        if allowed(self.user().role) {
            Ok(())
        } else {
            Err(PageError::new(self, Failure::Forbidden))
        }
    }

    /// Nothing, if they may use bulk issuance (`may_use_bulk`); else the
    /// page that says why not: their role, or their office's setting.
    pub fn require_bulk(&self) -> Result<(), PageError> {
        self.require(|role| role.can_draft())?;
        match self.may_use_bulk() {
            true => Ok(()),
            false => Err(PageError::new(
                self,
                Failure::NotAllowed(crate::web::lotes::PREPARERS_BULK_OFF.to_owned()),
            )),
        }
    }

    /// Nothing, if `sent` is this session's CSRF token: for the forms
    /// read field by field (uploads), which `StaffForm` does not check.
    pub fn require_csrf(&self, sent: &str) -> Result<(), PageError> {
        match self.refuse_forged(sent) {
            None => Ok(()),
            Some(_) => Err(PageError::new(self, Failure::Forged)),
        }
    }
}

/// The answer of a handler: the page, or why not.
pub type PageResult = Result<Response, PageError>;

/// The public id an address names: a malformed id looks like one of
/// another office, and like one that never was. `what` names what was
/// looked for: «ese borrador».
pub fn public_id(staff: &Staff, text: &str, what: &str) -> Result<PublicId, PageError> {
    PublicId::parse(text)
        .map_err(|_| PageError::not_found(staff, format!("No existe {what} en esta oficina.")))
}
