//! Sending a draft on, giving it the visado, and sending it back: the
//! steps before the signatures, with the four-eyes rule they share.

use super::{NOTE_MAX, StepError, Tramite, Tramites, check_role, current, moving, only_the_drafter, taker};
use crate::accounts::User;
use crate::archive::{Archive, ArchiveError};
use crate::forms::{Action, IssueDate, Step, StepKind, validate};
use crate::signed_pdf::IssueError;

impl Tramites<'_> {
    /// Sends a finished draft on to its next step; its data must be valid.
    pub async fn submit(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
    ) -> Result<(), StepError> {
        self.submit_quietly(archive, tramite, user).await?;
        self.notifier.draft_moved(self, archive, tramite.draft.id).await;
        Ok(())
    }

    /// [`Tramites::submit`] without telling anyone: the draft is about to
    /// be signed by the same person.
    pub(super) async fn submit_quietly(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
    ) -> Result<(), StepError> {
        let step = current(tramite, StepKind::Captura)?;
        check_role(step, user)?;
        if !tramite.is_drafter(user) {
            return Err(only_the_drafter());
        }
        validate(
            tramite.form,
            &tramite.data(),
            IssueDate::draft(&tramite.loaded_at),
        )
        .map_err(|p| ArchiveError::Issue(IssueError::Invalid(p)))?;
        // What it cites, and the order of its expediente, as they stand
        // now; its issuance judges them again.
        archive
            .check_case(
                tramite.form,
                &tramite.data(),
                tramite.loaded_at,
                None,
                tramite.draft.replaces_row_id,
            )
            .await?;
        let next = tramite.form.workflow.after(&step.id).unwrap_or(step);
        let moved = moving(tramite, step, &next.id, Action::Enviado, None);
        archive.take_step(&moved, &taker(user)).await?;
        Ok(())
    }

    /// Gives the visado or approval of the current step.
    pub async fn approve(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
        note: Option<&str>,
    ) -> Result<(), StepError> {
        let step = current(tramite, StepKind::Visado)?;
        check_role(step, user)?;
        check_someone_else(tramite, step, user)?;
        let note = checked_note(note)?;
        let next = tramite.form.workflow.after(&step.id).unwrap_or(step);
        self.take(
            archive,
            tramite,
            moving(tramite, step, &next.id, Action::Visado, note),
            user,
        )
        .await
    }

    /// Sends the draft back (to its drafter, or where the workflow says)
    /// with the reason, which is required.
    pub async fn reject(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
        reason: &str,
    ) -> Result<(), StepError> {
        let step = tramite.step.ok_or_else(super::already_issued)?;
        if step.kind == StepKind::Captura {
            return Err(StepError::Refused(
                "el borrador está en elaboración; no hay nada que rechazar".into(),
            ));
        }
        check_role(step, user)?;
        let reason = checked_note(Some(reason))?.ok_or_else(|| {
            StepError::Refused("motivo: escriba por qué se rechaza, para quien lo corrija".into())
        })?;
        let back = tramite.form.workflow.rejected_to();
        self.take(
            archive,
            tramite,
            moving(tramite, step, &back.id, Action::Rechazado, Some(reason)),
            user,
        )
        .await
    }
}

/// Four eyes: a visado or signature is given by someone other than the
/// drafter, and by no one twice in a round. Only where the workflow asks
/// for nothing but one signature may the drafter sign what they wrote.
pub(super) fn check_someone_else(tramite: &Tramite<'_>, step: &Step, user: &User) -> Result<(), StepError> {
    let own = tramite.draft.created_by == user.id;
    let single_signature =
        step.kind == StepKind::Firma && tramite.form.workflow.allows_direct_issue(user.role);
    if own && !single_signature {
        return Err(StepError::Forbidden(format!(
            "«{}» la da otra persona: usted preparó este borrador",
            step.label
        )));
    }
    let already = tramite
        .this_round()
        .iter()
        .any(|s| s.action.endorses() && s.user_id == user.id);
    if already {
        return Err(StepError::Forbidden(format!(
            "«{}» la da otra persona: usted ya dio su visto bueno o su firma a este borrador",
            step.label
        )));
    }
    Ok(())
}

/// A remark or reason, trimmed; `None` when empty.
pub(super) fn checked_note(note: Option<&str>) -> Result<Option<&str>, StepError> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(StepError::Refused(format!(
            "motivo: escriba como máximo {NOTE_MAX} caracteres"
        )));
    }
    Ok(note)
}
