//! The trámite: a draft taken through its form's workflow. Who may act at
//! each step, what each action checks (four eyes, roles, the round of
//! visados), the last signature that issues the document, the hand
//! signatures collected in person or attached after issue, and the notice
//! to whoever the draft waits for next. The staff pages and the API are
//! thin adapters over [`Tramites`]; the archive records every step.

mod attachments;
mod due_notices;
mod hand;
mod inbox;
mod notices;
mod review;
mod signing;

pub use attachments::{Attachment, SCAN_MAX};
pub use due_notices::DueNoticeError;
pub use hand::Drawing;
pub use inbox::InboxItem;
pub use notices::Notifier;
pub use signing::{DRAFT_KEY_PREFIX, DirectIssue, Signed, direct_signature, signed_data};

use chrono::DateTime;
use serde_json::Value;

use crate::accounts::{Accounts, User};
use crate::archive::{Archive, ArchiveError, DraftRecord, Move, StepRecord, Taker};
use crate::forms::{Action, Catalog, FormSpec, Step, StepKind};
use crate::issuer::Issuer;
use crate::public_id::PublicId;

/// The longest rejection reason or remark kept.
pub const NOTE_MAX: usize = 1000;

/// Why a step was not taken. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The draft does not exist in the caller's office.
    #[error("{0}")]
    NotFound(String),
    /// The caller's role does not take this step, or they already signed.
    #[error("{0}")]
    Forbidden(String),
    /// The step does not apply now (wrong step, reason missing…).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// The trámite service, over what the running installation shares.
#[derive(Clone, Copy)]
pub struct Tramites<'a> {
    pub catalog: &'a Catalog,
    pub issuer: &'a Issuer,
    pub accounts: &'a Accounts,
    pub notifier: &'a Notifier,
}

/// A draft with its form and where it stands.
pub struct Tramite<'a> {
    pub draft: DraftRecord,
    pub form: &'a FormSpec,
    /// The step it is at; `None` once issued.
    pub step: Option<&'a Step>,
    pub history: Vec<StepRecord>,
    /// When it was loaded, in the office's time zone: its data is checked
    /// as a draft to be issued that day or later.
    pub loaded_at: DateTime<chrono_tz::Tz>,
}

impl Tramite<'_> {
    /// The reason of the rejection that brought the draft back to its
    /// drafter, if that is the last thing that happened.
    pub fn returned_because(&self) -> Option<&str> {
        returned_because(&self.history)
    }

    /// Whether `user` may act at the current step. A draft in
    /// elaboration is its drafter's alone: a reviewer who changed what he
    /// approves would approve his own words.
    pub fn awaits(&self, user: &User) -> bool {
        self.step.is_some_and(|step| {
            step.open_to(user.role) && (step.kind != StepKind::Captura || self.is_drafter(user))
        })
    }

    /// Whether `user` prepared the draft: the only one who edits it.
    pub fn is_drafter(&self, user: &User) -> bool {
        self.draft.created_by == user.id
    }

    /// The draft's data as saved.
    pub fn data(&self) -> Value {
        serde_json::from_str(&self.draft.data).unwrap_or_default()
    }

    /// The steps taken since the draft was last sent on: a rejection voids
    /// the visados, signatures and hand signatures before it.
    fn this_round(&self) -> &[StepRecord] {
        let start = self
            .history
            .iter()
            .rposition(|s| s.action == Action::Enviado)
            .map_or(0, |i| i + 1);
        &self.history[start..]
    }
}

/// The reason of the last step, if it was a rejection.
fn returned_because(history: &[StepRecord]) -> Option<&str> {
    history
        .last()
        .filter(|s| s.action == Action::Rechazado)
        .and_then(|s| s.note.as_deref())
}

impl<'a> Tramites<'a> {
    /// Loads a draft of `archive`'s office and places it in its workflow.
    pub async fn load(&self, archive: &Archive, id: PublicId) -> Result<Tramite<'a>, StepError> {
        let draft = archive.draft(id).await.map_err(not_found)?;
        let form = self.catalog.get(&draft.form).ok_or_else(|| {
            StepError::Refused(format!(
                "el formulario «{}» ya no está en el catálogo",
                draft.form
            ))
        })?;
        let step = match draft.document_id {
            Some(_) => None,
            None => Some(form.workflow.current(draft.step.as_deref())),
        };
        let history = archive.draft_steps(draft.row_id).await?;
        Ok(Tramite {
            draft,
            form,
            step,
            history,
            loaded_at: self.issuer.now_in(archive.office()),
        })
    }

    /// Saves a new draft (at its first step) or changes one still at it.
    pub async fn save(
        &self,
        archive: &Archive,
        form: &FormSpec,
        draft: Option<PublicId>,
        data: &Value,
        user: &User,
    ) -> Result<PublicId, StepError> {
        if !user.role.can_draft() {
            return Err(forbidden(user, "preparar borradores"));
        }
        form.refuse_internal().map_err(StepError::Forbidden)?;
        // What an update changed, by label, for the draft's history.
        let mut changed = Vec::new();
        if let Some(id) = draft {
            let existing = archive.draft(id).await.map_err(not_found)?;
            if existing.created_by != user.id {
                return Err(only_the_drafter());
            }
            let before: Value = serde_json::from_str(&existing.data).unwrap_or(Value::Null);
            changed = crate::forms::changed_fields(form, &before, data);
        }
        let first = form.workflow.first();
        let edit = crate::archive::DraftEdit {
            username: &user.username,
            changed: &changed,
        };
        Ok(archive
            .save_draft(draft, form.id.as_str(), data, user.id, &first.id, Some(edit))
            .await?)
    }

    /// Takes a step and tells whoever the draft now waits for.
    async fn take(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        moved: Move<'_>,
        user: &User,
    ) -> Result<(), StepError> {
        let from = (user.office_code != archive.office().code).then_some(user.office_code.as_str());
        archive.take_step_from(&moved, &taker(user), from).await?;
        self.notifier.draft_moved(self, archive, tramite.draft.id).await;
        Ok(())
    }
}

/// The move of `tramite` from `step` to the step `to`, recorded as `action`.
fn moving<'s>(
    tramite: &Tramite<'_>,
    step: &'s Step,
    to: &'s str,
    action: Action,
    note: Option<&'s str>,
) -> Move<'s> {
    Move {
        draft_id: tramite.draft.row_id,
        from: &step.id,
        from_first: step.id == tramite.form.workflow.first().id,
        to,
        action,
        note,
    }
}

/// A draft missing from the office is not found, whoever asks.
fn not_found(error: ArchiveError) -> StepError {
    match error {
        ArchiveError::Refused(message) => StepError::NotFound(message),
        other => other.into(),
    }
}

/// The step the draft is at, if it is of `kind`.
fn current<'a>(tramite: &Tramite<'a>, kind: StepKind) -> Result<&'a Step, StepError> {
    let step = tramite.step.ok_or_else(already_issued)?;
    if step.kind != kind {
        let wanted = match kind {
            StepKind::Captura => "enviarse",
            StepKind::Visado => "recibir visto bueno",
            StepKind::Firma => "firmarse",
            StepKind::Presencial => "recibir firmas en persona",
        };
        return Err(StepError::Refused(format!(
            "el borrador está en el paso «{}»; no puede {wanted} ahora",
            step.label
        )));
    }
    Ok(step)
}

fn check_role(step: &Step, user: &User) -> Result<(), StepError> {
    if step.open_to(user.role) {
        Ok(())
    } else {
        Err(StepError::Forbidden(format!(
            "el paso «{}» lo toma el rol {}; su rol es {}",
            step.label,
            step.role.as_str(),
            user.role.as_str()
        )))
    }
}

fn forbidden(user: &User, what: &str) -> StepError {
    StepError::Forbidden(format!("el rol {} no permite {what}", user.role.as_str()))
}

/// Four eyes: whoever changes a draft is one of its preparers, and then
/// neither gives it a visado nor signs it; so only its drafter changes it.
fn only_the_drafter() -> StepError {
    StepError::Forbidden(
        "solo quien preparó el borrador lo corrige o lo envía; si hay algo que cambiar, recháchelo con el motivo".into(),
    )
}

fn already_issued() -> StepError {
    StepError::Refused("el borrador ya se emitió; su documento está en el archivo".into())
}

fn taker(user: &User) -> Taker<'_> {
    Taker {
        user_id: user.id,
        username: &user.username,
        name: &user.display_name,
        cargo: &user.cargo,
    }
}
