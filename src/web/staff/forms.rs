//! New documents: choose a form, fill its entry form, preview the draft,
//! save it for a firmante, or issue and sign it.
//!
//! Long because the entry form's page serves three actions on one form
//! (preview, save as draft, issue) that share its parsing and its errors.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde_json::Value;

use super::account::capitalized;
use super::entry::{Posted, fields};
use super::tramite;
use crate::archive::{Archive, ArchiveError, Issued};
use crate::forms::{FormSpec, IssueDate, Problem, StepKind, validate};
use crate::issue::IssueError;
use crate::public_id::PublicId;
use crate::tramites::{DirectIssue, StepError};
use crate::web::AppState;
use crate::web::api::archive_of;
use crate::web::auth::{Staff, StaffForm};
use crate::web::ui::{bad_request, csrf_field, forbidden, not_found, notice, page, public_id, unavailable};

pub async fn list(State(state): State<Arc<AppState>>, staff: Staff) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_draft()) {
        return refused;
    }
    let mut forms: Vec<&FormSpec> = state.catalog.iter().collect();
    forms.sort_by(|a, b| (a.family.label(), &a.title).cmp(&(b.family.label(), &b.title)));
    let body = page(
        &staff,
        "Nuevo documento",
        html! {
            table {
                thead { tr { th { "Documento" } th { "Tipo" } th { "Para qué" } } }
                tbody {
                    @for form in forms {
                        tr {
                            td { a href={"/formularios/" (form.id.as_str())} { (form.title) } }
                            td { (form.family.label()) }
                            td { (form.description) }
                        }
                    }
                }
            }
        },
    );
    Html(body.into_string()).into_response()
}

/// What the entry page shows besides the fields.
struct EntryPage<'a> {
    form: &'a FormSpec,
    data: &'a Value,
    problems: &'a [Problem],
    draft: Option<PublicId>,
    /// What names the draft to people, once it is loaded: «(borrador del
    /// 3 de marzo de 2026)».
    draft_title: Option<String>,
    /// The idempotency key of this issuance: a form sent twice issues once.
    key: String,
    more_rows: Option<&'a str>,
    message: Option<maud::Markup>,
    /// The draft's workflow, once it has one.
    panel: Option<maud::Markup>,
}

fn entry_page(staff: &Staff, status: StatusCode, entry: EntryPage<'_>) -> Response {
    let form = entry.form;
    let role = staff.user().role;
    let workflow = &form.workflow;
    let direct = workflow.allows_direct_issue(role);
    let in_person = workflow.steps().iter().any(|s| s.kind == StepKind::Presencial);
    let next = workflow.after(&workflow.first().id);
    let title = match (&entry.draft_title, entry.draft) {
        (Some(title), _) => title.clone(),
        (None, Some(_)) => format!("{} (borrador)", form.title),
        (None, None) => form.title.clone(),
    };
    let body = page(
        staff,
        &title,
        html! {
            p { (form.description) }
            @if let Some(message) = entry.message { (message) }
            @if !entry.problems.is_empty() {
                div.nota.error role="alert" {
                    strong { "Revise estos datos:" }
                    ul { @for problem in entry.problems { li { (problem.message) } } }
                }
            }
            form.tarjeta method="post" action={"/formularios/" (form.id.as_str())} novalidate {
                (csrf_field(staff))
                input type="hidden" name="_clave" value=(entry.key);
                @if let Some(id) = entry.draft { input type="hidden" name="_borrador" value=(id); }
                (fields(form, entry.data, entry.problems, entry.more_rows))
                div.acciones {
                    button.secundario type="submit" name="_accion" value="vista_previa" formtarget="_blank" { "Vista previa (PDF)" }
                    button.secundario type="submit" name="_accion" value="guardar" { "Guardar borrador" }
                    @if let Some(next) = next.filter(|_| !direct || in_person) {
                        button type="submit" name="_accion" value="enviar" { "Enviar a «" (next.label) "»" }
                    }
                    @if direct {
                        button type="submit" name="_accion" value="emitir" { "Emitir y firmar" }
                    }
                }
                @if direct {
                    p.ayuda { "* obligatorio. La vista previa no tiene folio ni firma; «Emitir y firmar» asigna el folio y firma con su nombre y cargo."
                        @if in_person { " Las personas firmarán entonces el papel impreso; para que firmen en la pantalla, use «Enviar»." } }
                } @else {
                    p.ayuda { "* obligatorio. La vista previa no tiene folio ni firma. Este documento se emite tras su trámite: " (form.workflow.describe_review()) "." }
                }
                @if let Some(panel) = entry.panel { (panel) }
            }
        },
    );
    (status, Html(body.into_string())).into_response()
}

fn new_key() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness the form still works; only a double submit could repeat.
    let _ = getrandom::fill(&mut bytes);
    format!("web-{}", data_encoding::HEXLOWER.encode(&bytes))
}

pub async fn blank(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_draft()) {
        return refused;
    }
    let Some(form) = state.catalog.get(&id) else {
        return not_found(&staff, &format!("No existe el formulario «{id}»."));
    };
    let data = Value::Object(Default::default());
    entry_page(
        &staff,
        StatusCode::OK,
        EntryPage {
            form,
            data: &data,
            problems: &[],
            draft: None,
            draft_title: None,
            key: new_key(),
            more_rows: None,
            message: None,
            panel: None,
        },
    )
}

pub async fn draft(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_draft()) {
        return refused;
    }
    let id = match public_id(&staff, &id, "ese borrador") {
        Ok(id) => id,
        Err(answer) => return answer,
    };
    let archive = match archive_of(&state, staff.user()).await {
        Ok(archive) => archive,
        Err(error) => return unavailable(&error),
    };
    let tramite = match state.tramites().load(&archive, id).await {
        Ok(tramite) => tramite,
        Err(StepError::NotFound(message) | StepError::Refused(message)) => {
            return not_found(&staff, &capitalized(&message));
        }
        Err(error) => return unavailable(&error),
    };
    if let Some(document) = tramite.draft.document_id {
        return Redirect::to(&format!("/documentos/{document}")).into_response();
    }
    // Past its elaboration, or not the viewer's own: read-only.
    if tramite.step.is_some_and(|s| s.kind != StepKind::Captura) || !tramite.is_drafter(staff.user()) {
        let signers = match state.tramites().hand_signers_of(&archive, &tramite).await {
            Ok(signers) => signers,
            Err(error) => return unavailable(&error),
        };
        let body = tramite::review_page(&state, &staff, &archive, &tramite, &signers, None);
        return Html(body.into_string()).into_response();
    }
    let data: Value = serde_json::from_str(&tramite.draft.data).unwrap_or_default();
    entry_page(
        &staff,
        StatusCode::OK,
        EntryPage {
            form: tramite.form,
            data: &data,
            problems: &[],
            draft: Some(id),
            draft_title: Some(tramite::draft_title(
                &tramite,
                state.issuer.time_zone_of(archive.office()),
            )),
            key: new_key(),
            more_rows: None,
            message: Some(notice(
                "aviso",
                &format!(
                    "Preparado por {}; actualizado {}.",
                    tramite.draft.author, tramite.draft.updated_at
                ),
            )),
            panel: Some(tramite::panel(
                &tramite,
                state.issuer.time_zone_of(archive.office()),
            )),
        },
    )
}

/// «Emitir y firmar» on a saved draft: a draft is issued once, through
/// its steps, so a second attempt (an old tab, a colleague) finds the
/// document already issued.
async fn issue_from_draft(
    state: &AppState,
    archive: &Archive,
    staff: &Staff,
    form: &FormSpec,
    id: PublicId,
    data: &Value,
    entry: impl Fn(StatusCode, &[Problem], Option<&str>, Option<maud::Markup>) -> Response,
) -> Response {
    let found = match archive.draft(id).await {
        Ok(found) => found,
        Err(ArchiveError::Refused(message)) => return not_found(staff, &capitalized(&message)),
        Err(error) => return unavailable(&error),
    };
    if found.form != form.id.as_str() {
        return bad_request(staff, "El borrador es de otro formulario.");
    }
    if let Some(document) = found.document_id {
        return Redirect::to(&format!("/documentos/{document}")).into_response();
    }
    match state
        .tramites()
        .issue_at_once(archive, form, id, data, staff.user())
        .await
    {
        Ok(document) => Redirect::to(&format!("/documentos/{document}")).into_response(),
        Err(StepError::Archive(ArchiveError::Issue(IssueError::Invalid(problems)))) => {
            entry(StatusCode::UNPROCESSABLE_ENTITY, &problems.0, None, None)
        }
        Err(StepError::Forbidden(_)) => forbidden(staff),
        Err(StepError::Archive(error @ (ArchiveError::Store(_) | ArchiveError::Blob(_)))) => {
            unavailable(&error)
        }
        Err(error) => entry(
            StatusCode::CONFLICT,
            &[],
            None,
            Some(notice("error", &capitalized(&error.to_string()))),
        ),
    }
}

pub async fn submit(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, form: pairs }: StaffForm<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_draft()) {
        return refused;
    }
    let Some(form) = state.catalog.get(&id) else {
        return not_found(&staff, &format!("No existe el formulario «{id}»."));
    };
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
        Some(Err(_)) => return not_found(&staff, "No existe ese borrador en esta oficina."),
    };
    // Only keys this page made: a draft's own keys are Sello's.
    let key = control("_clave")
        .filter(|k| k.len() <= 100 && k.starts_with("web-"))
        .unwrap_or_else(new_key);
    let data = Posted::new(&pairs).data(form);
    let entry = |status, problems: &[Problem], more_rows: Option<&str>, message| {
        entry_page(
            &staff,
            status,
            EntryPage {
                form,
                data: &data,
                problems,
                draft,
                draft_title: None,
                key: key.clone(),
                more_rows,
                message,
                panel: None,
            },
        )
    };
    if let Some(table) = action.strip_prefix("filas:") {
        return entry(StatusCode::OK, &[], Some(table), None);
    }
    let archive = match archive_of(&state, staff.user()).await {
        Ok(archive) => archive,
        Err(error) => return unavailable(&error),
    };
    match action.as_str() {
        "guardar" => match state
            .tramites()
            .save(&archive, form, draft, &data, staff.user())
            .await
        {
            Ok(id) => Redirect::to(&format!("/borradores/{id}")).into_response(),
            Err(StepError::Archive(ArchiveError::Refused(message))) => {
                bad_request(&staff, &capitalized(&message))
            }
            Err(error) => unavailable(&error),
        },
        "enviar" => {
            let saved = state
                .tramites()
                .save(&archive, form, draft, &data, staff.user())
                .await;
            let id = match saved {
                Ok(id) => id,
                Err(StepError::Archive(ArchiveError::Refused(message))) => {
                    return bad_request(&staff, &capitalized(&message));
                }
                Err(error) => return unavailable(&error),
            };
            let sent = match state.tramites().load(&archive, id).await {
                Ok(tramite) => state.tramites().submit(&archive, &tramite, staff.user()).await,
                Err(error) => Err(error),
            };
            match sent {
                Ok(()) => Redirect::to(&format!("/borradores/{id}")).into_response(),
                Err(StepError::Archive(ArchiveError::Issue(IssueError::Invalid(problems)))) => entry_page(
                    &staff,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    EntryPage {
                        form,
                        data: &data,
                        problems: &problems.0,
                        draft: Some(id),
                        draft_title: None,
                        key: key.clone(),
                        more_rows: None,
                        message: Some(notice(
                            "aviso",
                            "Borrador guardado, pero no enviado: corrija estos datos.",
                        )),
                        panel: None,
                    },
                ),
                Err(StepError::Forbidden(_)) => forbidden(&staff),
                Err(StepError::NotFound(message) | StepError::Refused(message)) => {
                    bad_request(&staff, &capitalized(&message))
                }
                Err(StepError::Archive(error)) => unavailable(&error),
            }
        }
        "vista_previa" => {
            let country = state.issuer.country_of(archive.office());
            let today = state.issuer.now_in(archive.office());
            if let Err(problems) = validate(&form.for_country(country), &data, IssueDate::draft(&today)) {
                return entry(StatusCode::UNPROCESSABLE_ENTITY, &problems.0, None, None);
            }
            let preview = state.issuer.preview(&archive, form, &data, Vec::new()).await;
            match preview {
                Ok(rendered) => (
                    [(axum::http::header::CONTENT_TYPE, "application/pdf")],
                    rendered.pdf,
                )
                    .into_response(),
                Err(error) => entry(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &[],
                    None,
                    Some(notice(
                        "error",
                        &format!("No se pudo componer el documento: {error}"),
                    )),
                ),
            }
        }
        "emitir" => {
            if let Some(refused) = staff.refuse_unless(|role| form.workflow.allows_direct_issue(role)) {
                return refused;
            }
            let country = state.issuer.country_of(archive.office());
            let issued_at = state.issuer.now_in(archive.office());
            if let Err(problems) = validate(&form.for_country(country), &data, IssueDate::issued(&issued_at))
            {
                return entry(StatusCode::UNPROCESSABLE_ENTITY, &problems.0, None, None);
            }
            if let Some(id) = draft {
                return issue_from_draft(&state, &archive, &staff, form, id, &data, entry).await;
            }
            let user = staff.user();
            // The button says it: issued in one go, the people it names
            // sign the printed paper.
            let order = DirectIssue {
                form,
                data: &data,
                actor: &user.username,
                expediente_id: None,
                idempotency_key: Some(&key),
                on_paper: true,
            };
            match state.tramites().issue_directly(&archive, user, order).await {
                Ok(issued) => {
                    let record = issued.record();
                    if let Issued::Existing(_) = issued {
                        tracing::info!(
                            document.id = %record.id,
                            "formulario enviado dos veces; mismo documento"
                        );
                    }
                    Redirect::to(&format!("/documentos/{}", record.id)).into_response()
                }
                Err(StepError::Archive(ArchiveError::Issue(IssueError::Invalid(problems)))) => {
                    entry(StatusCode::UNPROCESSABLE_ENTITY, &problems.0, None, None)
                }
                Err(StepError::Forbidden(_)) => forbidden(&staff),
                Err(StepError::Archive(ArchiveError::Issue(error))) => entry(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &[],
                    None,
                    Some(notice(
                        "error",
                        &format!("No se emitió: {error}. El folio reservado quedó anulado."),
                    )),
                ),
                Err(StepError::Archive(error @ (ArchiveError::Store(_) | ArchiveError::Blob(_)))) => {
                    unavailable(&error)
                }
                Err(
                    error @ (StepError::Archive(
                        ArchiveError::IdempotencyConflict(_)
                        | ArchiveError::InProgress(_)
                        | ArchiveError::Refused(_)
                        | ArchiveError::ExpedienteNotFound(_),
                    )
                    | StepError::NotFound(_)
                    | StepError::Refused(_)),
                ) => entry(
                    StatusCode::CONFLICT,
                    &[],
                    None,
                    Some(notice("error", &capitalized(&error.to_string()))),
                ),
                Err(StepError::Archive(error)) => unavailable(&error),
            }
        }
        _ => bad_request(&staff, "Elija una acción: vista previa, guardar o emitir."),
    }
}
