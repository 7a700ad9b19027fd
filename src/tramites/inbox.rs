//! The drafts waiting for someone: their inbox.

use serde::Serialize;

use super::{StepError, Tramites, returned_because};
use crate::accounts::User;
use crate::archive::Archive;
use crate::forms::StepKind;
use crate::public_id::PublicId;

/// How many open drafts an inbox looks through.
const OPEN_DRAFTS_MAX: i64 = 500;

/// A draft waiting for someone, as their inbox lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    pub draft: PublicId,
    /// The code of the office whose draft it is: the caller's own, or one
    /// under it where they were granted its visado.
    pub office: String,
    pub form: String,
    pub form_title: String,
    /// The step waiting: its id and label.
    pub step: String,
    pub step_label: String,
    /// Who prepared it.
    pub author: String,
    pub updated_at: String,
    /// Why it came back, when a rejection returned it to its drafter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned_because: Option<String>,
    /// The person the document concerns (its beneficiary, its family's
    /// representative), for the staff page's list; not in the API's answer.
    #[serde(skip)]
    pub person: Option<String>,
}

impl Tramites<'_> {
    /// The drafts waiting for `user`: at a step their role takes, or, in
    /// elaboration, their own (new or sent back to them).
    pub async fn inbox(&self, archive: &Archive, user: &User) -> Result<Vec<InboxItem>, StepError> {
        let mut items = Vec::new();
        for draft in archive.open_drafts(OPEN_DRAFTS_MAX).await? {
            let Some(form) = self.catalog.get(&draft.form) else {
                continue;
            };
            let step = form.workflow.current(draft.step.as_deref());
            // Writing it and collecting its hand signatures is its drafter's.
            let waiting = match step.kind {
                StepKind::Captura | StepKind::Presencial => draft.created_by == user.id,
                _ => step.open_to(user.role),
            };
            if !waiting {
                continue;
            }
            let returned = if step.kind == StepKind::Captura {
                let history = archive.draft_steps(draft.row_id).await?;
                returned_because(&history).map(str::to_owned)
            } else {
                None
            };
            items.push(InboxItem {
                draft: draft.id,
                office: archive.office().code.clone(),
                form: form.id.to_string(),
                form_title: form.title.clone(),
                step: step.id.clone(),
                step_label: step.label.clone(),
                author: draft.author,
                updated_at: draft.updated_at,
                returned_because: returned,
                person: form.person_concerned(&serde_json::from_str(&draft.data).unwrap_or_default()),
            });
        }
        Ok(items)
    }
}
