//! What the entry form's buttons do: preview the draft, save it, send it
//! to its next step, or issue and sign it in one go. Each action answers
//! with the entry page again, marked, when the data needs correcting.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use serde_json::Value;

use super::account::capitalized;
use super::entry::Posted;
use super::error::{Failure, OrPage as _, PageError, PageResult};
use super::forms::{EntryPage, entry_page, new_key};
use crate::archive::{Archive, ArchiveError, Issued};
use crate::forms::{FormSpec, IssueDate, Problem, validate};
use crate::public_id::PublicId;
use crate::signed_pdf::IssueError;
use crate::tramites::{DirectIssue, StepError};
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::ui::notice;

/// The entry form as it was sent.
struct Entry<'a> {
    state: &'a AppState,
    staff: &'a Staff,
    archive: Archive,
    form: &'a FormSpec,
    data: Value,
    /// The draft it was filled from, if any.
    draft: Option<PublicId>,
    /// The idempotency key of this issuance: a form sent twice issues once.
    key: String,
}

impl Entry<'_> {
    /// The entry page again, with `problems` marked and `message` on top.
    fn again(&self, status: StatusCode, problems: &[Problem], message: Option<Markup>) -> Response {
        self.again_for(self.draft, status, problems, None, message)
    }

    fn again_for(
        &self,
        draft: Option<PublicId>,
        status: StatusCode,
        problems: &[Problem],
        more_rows: Option<&str>,
        message: Option<Markup>,
    ) -> Response {
        let page = EntryPage {
            form: self.form,
            data: &self.data,
            problems,
            draft,
            draft_title: None,
            key: self.key.clone(),
            more_rows,
            message,
            panel: None,
        };
        entry_page(self.staff, status, page)
    }

    /// The entry page again with an error notice.
    fn refused(&self, status: StatusCode, text: &str) -> PageResult {
        Ok(self.again(status, &[], Some(notice("error", &capitalized(text)))))
    }
}

pub async fn submit(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, form: pairs }: StaffForm<Vec<(String, String)>>,
) -> PageResult {
    staff.require(|role| role.can_draft())?;
    let Some(form) = state.catalog.get(&id) else {
        return Err(PageError::not_found(
            &staff,
            format!("No existe el formulario «{id}»."),
        ));
    };
    form.refuse_internal()
        .map_err(|why| PageError::bad_request(&staff, why))?;
    let control = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let action = control("_accion").unwrap_or_default();
    let draft = match control("_borrador").map(|d| PublicId::parse(&d)) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return Err(PageError::not_found(
                &staff,
                "No existe ese borrador en esta oficina.",
            ));
        }
    };
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    // The office's country says which identity number its person fields take.
    let national = form.for_country(state.issuer.country_of(archive.office()));
    let entry = Entry {
        state: &state,
        staff: &staff,
        data: Posted::new(&pairs).data(&national),
        archive,
        form,
        draft,
        // Only keys this page made: a draft's own keys are Sello's.
        key: control("_clave")
            .filter(|k| k.len() <= 100 && k.starts_with("web-"))
            .unwrap_or_else(new_key),
    };
    if let Some(table) = action.strip_prefix("filas:") {
        return Ok(entry.again_for(draft, StatusCode::OK, &[], Some(table), None));
    }
    match action.as_str() {
        "guardar" => save(&entry).await,
        "enviar" => send(&entry).await,
        "vista_previa" => preview(&entry).await,
        "emitir" => issue(&entry).await,
        _ => Err(PageError::bad_request(
            &staff,
            "Elija una acción: vista previa, guardar o emitir.",
        )),
    }
}

/// Saves the draft: a new one, or the changes to the drafter's own.
async fn saved(entry: &Entry<'_>) -> Result<PublicId, PageError> {
    let user = entry.staff.user();
    let saved = (entry.state.tramites())
        .save(&entry.archive, entry.form, entry.draft, &entry.data, user)
        .await;
    match saved {
        Ok(id) => Ok(id),
        Err(StepError::Archive(ArchiveError::Refused(message))) => {
            Err(PageError::bad_request(entry.staff, message))
        }
        Err(error) => Err(Failure::unavailable(error)).or_page(entry.staff),
    }
}

async fn save(entry: &Entry<'_>) -> PageResult {
    let id = saved(entry).await?;
    Ok(Redirect::to(&format!("/borradores/{id}")).into_response())
}

/// Saves the draft and sends it to its next step, whose people are told.
async fn send(entry: &Entry<'_>) -> PageResult {
    let id = saved(entry).await?;
    let tramites = entry.state.tramites();
    let sent = match tramites.load(&entry.archive, id).await {
        Ok(tramite) => {
            tramites
                .submit(&entry.archive, &tramite, entry.staff.user())
                .await
        }
        Err(error) => Err(error),
    };
    match sent {
        Ok(()) => Ok(Redirect::to(&format!("/borradores/{id}")).into_response()),
        Err(StepError::Archive(ArchiveError::Issue(IssueError::Invalid(problems)))) => {
            let message = notice(
                "aviso",
                "Borrador guardado, pero no enviado: corrija estos datos.",
            );
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(entry.again_for(Some(id), status, &problems.0, None, Some(message)))
        }
        Err(StepError::NotFound(message)) => Err(PageError::bad_request(entry.staff, message)),
        Err(error) => Err(error).or_page(entry.staff),
    }
}

/// The document as it would print, without folio or signature.
async fn preview(entry: &Entry<'_>) -> PageResult {
    let (state, archive) = (entry.state, &entry.archive);
    let country = state.issuer.country_of(archive.office());
    let today = state.issuer.now_in(archive.office());
    if let Err(problems) = validate(
        &entry.form.for_country(country),
        &entry.data,
        IssueDate::draft(&today),
    ) {
        return Ok(entry.again(StatusCode::UNPROCESSABLE_ENTITY, &problems.0, None));
    }
    match state
        .issuer
        .preview(archive, entry.form, &entry.data, Vec::new())
        .await
    {
        Ok(rendered) => Ok(([(header::CONTENT_TYPE, "application/pdf")], rendered.pdf).into_response()),
        Err(error) => {
            let text = format!("No se pudo componer el documento: {error}");
            Ok(entry.again(
                StatusCode::UNPROCESSABLE_ENTITY,
                &[],
                Some(notice("error", &text)),
            ))
        }
    }
}

/// «Emitir y firmar», where the form's workflow lets this person issue it
/// alone; the people it names sign the printed paper.
async fn issue(entry: &Entry<'_>) -> PageResult {
    let (state, archive, staff) = (entry.state, &entry.archive, entry.staff);
    staff.require(|role| entry.form.workflow.allows_direct_issue(role))?;
    let country = state.issuer.country_of(archive.office());
    let issued_at = state.issuer.now_in(archive.office());
    if let Err(problems) = validate(
        &entry.form.for_country(country),
        &entry.data,
        IssueDate::issued(&issued_at),
    ) {
        return Ok(entry.again(StatusCode::UNPROCESSABLE_ENTITY, &problems.0, None));
    }
    if let Some(id) = entry.draft {
        return issue_draft(entry, id).await;
    }
    let user = staff.user();
    let order = DirectIssue {
        form: entry.form,
        data: &entry.data,
        actor: &user.username,
        expediente_id: None,
        idempotency_key: Some(&entry.key),
        on_paper: true,
    };
    match state.tramites().issue_directly(archive, user, order).await {
        Ok(issued) => {
            let record = issued.record();
            if let Issued::Existing(_) = issued {
                tracing::info!(document.id = %record.id, "formulario enviado dos veces; mismo documento");
            }
            Ok(Redirect::to(&format!("/documentos/{}", record.id)).into_response())
        }
        Err(StepError::Archive(ArchiveError::Issue(error))) => issue_refused(entry, error),
        Err(error) => not_issued(entry, error),
    }
}

/// «Emitir y firmar» on a saved draft: a draft is issued once, through
/// its steps, so a second attempt (an old tab, a colleague) finds the
/// document already issued.
async fn issue_draft(entry: &Entry<'_>, id: PublicId) -> PageResult {
    let staff = entry.staff;
    let found = match entry.archive.draft(id).await {
        Ok(found) => found,
        Err(ArchiveError::Refused(message)) => return Err(PageError::not_found(staff, message)),
        Err(error) => return Err(Failure::unavailable(error)).or_page(staff),
    };
    if found.form != entry.form.id.as_str() {
        return Err(PageError::bad_request(
            staff,
            "El borrador es de otro formulario.",
        ));
    }
    if let Some(document) = found.document_id {
        return Ok(Redirect::to(&format!("/documentos/{document}")).into_response());
    }
    let issued = (entry.state.tramites())
        .issue_at_once(&entry.archive, entry.form, id, &entry.data, staff.user())
        .await;
    match issued {
        Ok(document) => Ok(Redirect::to(&format!("/documentos/{document}")).into_response()),
        Err(StepError::Archive(ArchiveError::Issue(IssueError::Invalid(problems)))) => {
            Ok(entry.again(StatusCode::UNPROCESSABLE_ENTITY, &problems.0, None))
        }
        Err(error) => not_issued(entry, error),
    }
}

/// The document could not be made: its data, or its rendering or signing.
fn issue_refused(entry: &Entry<'_>, error: IssueError) -> PageResult {
    match error {
        IssueError::Invalid(problems) => Ok(entry.again(StatusCode::UNPROCESSABLE_ENTITY, &problems.0, None)),
        other => {
            let text = format!("No se emitió: {other}. El folio reservado quedó anulado.");
            Ok(entry.again(
                StatusCode::UNPROCESSABLE_ENTITY,
                &[],
                Some(notice("error", &text)),
            ))
        }
    }
}

/// Not issued for another reason: a conflict the person can resolve is
/// said on the entry page; a failure of storage is not theirs.
fn not_issued(entry: &Entry<'_>, error: StepError) -> PageResult {
    match error {
        StepError::Forbidden(_) => Err(PageError::new(entry.staff, Failure::Forbidden)),
        StepError::Archive(error @ (ArchiveError::Store(_) | ArchiveError::Blob(_))) => {
            Err(Failure::unavailable(error)).or_page(entry.staff)
        }
        error => entry.refused(StatusCode::CONFLICT, &error.to_string()),
    }
}
