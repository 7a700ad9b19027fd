//! A draft's workflow in the staff app: where it stands, what was done,
//! and the buttons for the step the person looking at it may take
//! (visto bueno, rechazo con motivo, firma).
//!
//! Long because the draft's page and the handlers behind its buttons share
//! how a draft is loaded for the office and how a refused step is answered.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::account::capitalized;
use super::entry::{read_only, summary};
use super::error::{Failure, OrPage as _, PageError, PageResult, public_id};
use crate::archive::{Archive, ArchiveError, HandSignatureRecord};
use crate::forms::{Action, HandSigner, StepKind};
use crate::public_id::PublicId;
use crate::signed_pdf::IssueError;
use crate::tramites::{NOTE_MAX, Signed, StepError, Tramite};
use crate::web::auth::{Staff, StaffForm};
use crate::web::page::{long_date, short_moment};
use crate::web::ui::{csrf_field, notice, page};
use crate::web::{AppState, DraftReach};

/// What a step was recorded as, for people.
fn action_label(action: Action) -> &'static str {
    match action {
        Action::Enviado => "Envió",
        Action::Visado => "Dio su visto bueno",
        Action::Rechazado => "Rechazó",
        Action::Presencial => "Recabó las firmas en persona",
        Action::Firmado => "Firmó",
    }
}

/// The workflow's steps, the one waiting marked, and the steps taken.
/// Dates in `zone`, the draft's office's.
pub fn panel(tramite: &Tramite<'_>, zone: chrono_tz::Tz) -> Markup {
    let current = tramite.step.map(|s| s.id.as_str());
    html! {
        section.tramite {
            h2 { "Trámite" }
            ol.pasos {
                @for step in tramite.form.workflow.steps() {
                    li class=[(Some(step.id.as_str()) == current).then_some("actual")] {
                        (step.label) " · " (step.role.label())
                        @if Some(step.id.as_str()) == current { strong { " ← aquí" } }
                    }
                }
            }
            @if !tramite.history.is_empty() {
                table {
                    thead { tr { th { "Cuándo" } th { "Quién" } th { "Qué" } th { "Motivo u observación" } } }
                    tbody {
                        @for step in &tramite.history {
                            tr {
                                td { (short_moment(&step.at, zone)) }
                                td { (step.name) @if !step.cargo.is_empty() { ", " (step.cargo) } }
                                td {
                                    (action_label(step.action)) " · "
                                    (tramite.form.workflow.step(&step.step).map_or(step.step.as_str(), |s| s.label.as_str()))
                                }
                                td { (step.note.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The signers of a `presencial` step: who has drawn their signature (it
/// is shown), and a pad for each of them while the step is open.
fn in_person(
    staff: &Staff,
    id: PublicId,
    signers: &[(HandSigner, Option<HandSignatureRecord>)],
    open: bool,
) -> Markup {
    html! {
        h2 { "Firmas en persona" }
        @if open {
            script src="/firma.js" defer {}
            p.ayuda { "Entregue la pantalla a cada persona: firma con el dedo o un lápiz, confirma que firma este documento y guarda. Si no puede firmar en pantalla, use «Firmarán en papel» e imprima el documento al emitirlo." }
        }
        @for (signer, drawn) in signers {
            div.tarjeta {
                h3 { (signer.name) }
                @match drawn {
                    Some(drawn) => {
                        img.firma-dada src={"/borradores/" (id) "/firmas/" (drawn.id)} alt={"Firma de " (signer.name)};
                        p.ayuda { "Firmó en pantalla." }
                    }
                    None => p { "Pendiente." },
                }
                @if open {
                    form.firma-en-pantalla method="post" action={"/borradores/" (id) "/firma-presencial"} {
                        (csrf_field(staff))
                        input type="hidden" name="firmante" value=(signer.key);
                        input type="hidden" name="imagen" value="";
                        canvas.pad width="600" height="200" role="img" aria-label={"Recuadro para la firma de " (signer.name)} {}
                        p.aviso-vacio.error hidden { "Falta la firma: dibújela en el recuadro." }
                        label.consentimiento {
                            input type="checkbox" name="consentimiento" value="si" required;
                            " Yo, " (signer.name) ", firmo este documento y acepto su contenido."
                        }
                        div.acciones {
                            button type="submit" { @if drawn.is_some() { "Firmar de nuevo" } @else { "Guardar firma" } }
                            button.secundario.borrar type="button" { "Borrar" }
                        }
                    }
                }
            }
        }
    }
}

/// What names a draft to people: its form and the day it was started, in
/// `zone`, its office's. Its id, random, is for addresses.
pub fn draft_title(tramite: &Tramite<'_>, zone: chrono_tz::Tz) -> String {
    format!(
        "{} (borrador del {})",
        tramite.form.title,
        long_date(&tramite.draft.created_at, zone)
    )
}

/// The labels of the fields changed since the draft was last returned,
/// when the record says (see [`Archive::changed_since_return`]): what a
/// reviewer checks again. `None` when it does not, or its events could not
/// be read: then nothing is said.
pub async fn changed_since_return(archive: &Archive, tramite: &Tramite<'_>) -> Option<Vec<String>> {
    // Without its events the page still shows the draft, without this line.
    archive
        .changed_since_return(tramite.draft.row_id)
        .await
        .ok()
        .flatten()
}

/// The page of a draft past its elaboration: what it says (as a preview),
/// its workflow, and the step's buttons for whoever takes it (through a
/// grant, only a visado's). Dates are in `archive`'s office's time zone.
pub fn review_page(
    state: &AppState,
    (staff, reach): (&Staff, DraftReach),
    archive: &Archive,
    tramite: &Tramite<'_>,
    signers: &[(HandSigner, Option<HandSignatureRecord>)],
    changed: Option<&[String]>,
    message: Option<Markup>,
) -> Markup {
    let returned_before = tramite.history.iter().any(|s| s.action == Action::Rechazado);
    let user = staff.user();
    let id = tramite.draft.id;
    let step = tramite.step;
    let last_signature = step.is_some_and(|s| tramite.form.workflow.after(&s.id).is_none());
    let takes_step = tramite.awaits(user) && reach.allows(tramite, true).is_ok();
    let collecting = step.is_some_and(|s| s.kind == StepKind::Presencial) && takes_step;
    let zone = state.issuer.time_zone_of(archive.office());
    let data = tramite.data();
    page(
        staff,
        &draft_title(tramite, state.issuer.time_zone_of(archive.office())),
        html! {
            @if let Some(message) = message { (message) }
            @if let Some(reason) = tramite.returned_because() {
                (notice("error", &format!("Devuelto para corregir: {reason}")))
            }
            p.preparado { "Preparado por " strong { (tramite.draft.author) } "; actualizado el "
                (short_moment(&tramite.draft.updated_at, zone)) ". "
                a href={"/borradores/" (id) "/vista-previa"} target="_blank" { "Ver el documento (vista previa, sin folio ni firma; se abre en otra pestaña)" } }
            @if let Some(changed) = changed.filter(|_| returned_before && tramite.returned_because().is_none()) {
                @if changed.is_empty() {
                    (notice("aviso", "Se devolvió antes y volvió sin cambios en sus datos."))
                } @else {
                    (notice("aviso", &format!(
                        "Cambió desde que se devolvió: {}.",
                        changed.iter().map(|l| format!("«{l}»")).collect::<Vec<_>>().join(", ")
                    )))
                }
            }
            @if !tramite.form.resumen.is_empty() {
                h2 { "Lo que se aprueba" }
                (summary(tramite.form, &data))
            }
            details.todos-los-datos open[tramite.form.resumen.is_empty()] {
                summary { "Todos los datos del documento" }
                (read_only(tramite.form, &data))
            }
            @if !signers.is_empty() { (in_person(staff, id, signers, collecting)) }
            @if let Some(step) = step.filter(|_| takes_step) {
                form.tarjeta method="post" action={"/borradores/" (id) "/paso"} {
                    (csrf_field(staff))
                    @if step.kind == StepKind::Visado {
                        label for="motivo" { "Motivo del rechazo, u observación del visto bueno" }
                    } @else {
                        label for="motivo" { "Motivo, si lo rechaza" }
                    }
                    textarea #motivo name="motivo" rows="3" maxlength=(NOTE_MAX) {}
                    p.ayuda { "Obligatorio si rechaza: quien lo preparó lo verá para corregir." }
                    div.acciones {
                        @match step.kind {
                            StepKind::Visado => button type="submit" name="_accion" value="aprobar" { "Dar visto bueno" },
                            StepKind::Firma => button type="submit" name="_accion" value="firmar" {
                                @if last_signature { "Firmar y emitir" } @else { "Firmar" }
                            },
                            StepKind::Presencial => {
                                button type="submit" name="_accion" value="continuar" { "Continuar: firmas completas" }
                                button.secundario type="submit" name="_accion" value="papel" { "Firmarán en papel" }
                            },
                            StepKind::Captura => {},
                        }
                        button.secundario type="submit" name="_accion" value="rechazar" { "Rechazar y devolver" }
                    }
                }
            } @else if let Some(step) = step {
                p { "Espera el paso «" (step.label) "» (" (step.role.label()) ")." }
            }
            (panel(tramite, zone))
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct StepForm {
    #[serde(rename = "_accion")]
    action: String,
    #[serde(default)]
    motivo: String,
}

/// Takes the draft's current step from the review page.
pub async fn act(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, form }: StaffForm<StepForm>,
) -> PageResult {
    let (archive, tramite, staff, reach) = office_draft(&state, &staff, &id).await?;
    let user = staff.user();
    let tramites = state.tramites();
    let note = Some(form.motivo.as_str());
    let visado = matches!(form.action.as_str(), "aprobar" | "rechazar");
    if let Err(refused) = reach.allows(&tramite, visado) {
        return step_refused(&state, (&staff, reach), &archive, &tramite, refused).await;
    }
    let done = match form.action.as_str() {
        "aprobar" => tramites
            .approve(&archive, &tramite, user, note)
            .await
            .map(|()| None),
        "rechazar" => (tramites.reject(&archive, &tramite, user, &form.motivo).await).map(|()| None),
        "firmar" => tramites
            .sign(&archive, &tramite, user)
            .await
            .map(|signed| match signed {
                Signed::Issued(issued) => Some(issued.record().id),
                Signed::MovedOn => None,
            }),
        "continuar" => (tramites.finish_in_person(&archive, &tramite, user, false).await).map(|()| None),
        "papel" => (tramites.finish_in_person(&archive, &tramite, user, true).await).map(|()| None),
        _ => {
            let text = "Elija una acción: visto bueno, rechazo, firma o continuar.";
            return Err(PageError::bad_request(&staff, text));
        }
    };
    match done {
        Ok(Some(document)) => Ok(Redirect::to(&format!("/documentos/{document}")).into_response()),
        Ok(None) => Ok(Redirect::to(&format!("/borradores/{}", tramite.draft.id)).into_response()),
        Err(error) => step_refused(&state, (&staff, reach), &archive, &tramite, error).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct PadForm {
    firmante: String,
    /// `data:image/png;base64,…`, as the pad's canvas gives it.
    imagen: String,
    consentimiento: Option<String>,
}

/// Records a signature drawn on the pad at a `presencial` step.
pub async fn sign_in_person(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    StaffForm { staff, form }: StaffForm<PadForm>,
) -> PageResult {
    let (archive, tramite, staff, reach) = office_draft(&state, &staff, &id).await?;
    let user = staff.user();
    // Holding the tablet while people sign is the office's own staff's.
    if let Err(refused) = reach.allows(&tramite, false) {
        return step_refused(&state, (&staff, reach), &archive, &tramite, refused).await;
    }
    let Some(png) = pad_png(&form.imagen) else {
        let refused = StepError::Refused("firma: dibuje la firma en el recuadro antes de guardarla".into());
        return step_refused(&state, (&staff, reach), &archive, &tramite, refused).await;
    };
    let drawing = crate::tramites::Drawing {
        signer: &form.firmante,
        png,
        consent: form.consentimiento.as_deref() == Some("si"),
        device: device_of(&headers),
    };
    match state
        .tramites()
        .sign_in_person(&archive, &tramite, user, drawing)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/borradores/{}", tramite.draft.id)).into_response()),
        Err(error) => step_refused(&state, (&staff, reach), &archive, &tramite, error).await,
    }
}

/// The PNG a signature pad sends as `data:image/png;base64,…`.
pub(super) fn pad_png(data_url: &str) -> Option<Vec<u8>> {
    let base64 = data_url.strip_prefix("data:image/png;base64,")?;
    data_encoding::BASE64.decode(base64.as_bytes()).ok()
}

/// The device a signature was drawn on, as its browser names itself.
pub(super) fn device_of(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A signature drawn on a draft's pad, to show on its page.
pub async fn hand_signature_image(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path((id, signature)): Path<(String, String)>,
) -> PageResult {
    let missing = || PageError::not_found(&staff, "No existe esa firma aquí.");
    let Ok(id) = PublicId::parse(&id) else {
        return Err(missing());
    };
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let draft = match archive.draft(id).await {
        Ok(draft) => draft,
        Err(ArchiveError::Refused(_)) => return Err(missing()),
        Err(error) => return Err(Failure::unavailable(error)).or_page(&staff),
    };
    super::attachments::hand_signature_file(&archive, &staff, &signature, |record| {
        record.draft_id == Some(draft.row_id)
    })
    .await
}

/// A draft of the staff member's office, or of one under it where they
/// were granted its visado; with the staff member as they act on it and
/// how they reached it (see `AppState::acting_on_draft`).
async fn office_draft<'a>(
    state: &'a AppState,
    staff: &Staff,
    id: &str,
) -> Result<(Archive, Tramite<'a>, Staff, DraftReach), PageError> {
    let id = public_id(staff, id, "ese borrador")?;
    let (archive, acting, reach) = state.acting_on_draft(staff.user(), id).await.or_page(staff)?;
    let tramite = state.tramites().load(&archive, id).await.or_page(staff)?;
    Ok((archive, tramite, staff.acting_as(acting), reach))
}

/// A step not taken: the draft's page again, saying why.
async fn step_refused(
    state: &AppState,
    (staff, reach): (&Staff, DraftReach),
    archive: &Archive,
    tramite: &Tramite<'_>,
    error: StepError,
) -> PageResult {
    let (status, text) = match error {
        StepError::NotFound(message) => return Err(PageError::not_found(staff, message)),
        StepError::Forbidden(message) => (StatusCode::FORBIDDEN, message),
        StepError::Refused(message) => (StatusCode::CONFLICT, message),
        StepError::Archive(ArchiveError::Issue(IssueError::Invalid(problems))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("los datos no son válidos: {problems}; devuélvalo a quien lo preparó"),
        ),
        StepError::Archive(
            error @ (ArchiveError::Refused(_)
            | ArchiveError::InProgress(_)
            | ArchiveError::IdempotencyConflict(_)
            | ArchiveError::Issue(_)),
        ) => (StatusCode::CONFLICT, error.to_string()),
        StepError::Archive(error) => return Err(Failure::unavailable(error)).or_page(staff),
    };
    let signers = state
        .tramites()
        .hand_signers_of(archive, tramite)
        .await
        .unwrap_or_default();
    let message = notice("error", &capitalized(&text));
    let changed = changed_since_return(archive, tramite).await;
    let body = review_page(
        state,
        (staff, reach),
        archive,
        tramite,
        &signers,
        changed.as_deref(),
        Some(message),
    );
    Ok((status, Html(body.into_string())).into_response())
}

/// The draft as it would print, without folio or signature.
pub async fn preview(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> PageResult {
    let (archive, tramite, staff, _) = office_draft(&state, &staff, &id).await?;
    let data: Value = serde_json::from_str(&tramite.draft.data).unwrap_or_default();
    let mut drawn = Vec::new();
    for (signer, signature) in state
        .tramites()
        .hand_signers_of(&archive, &tramite)
        .await
        .unwrap_or_default()
    {
        if let Some(signature) = signature
            && let Ok(png) = archive.blobs().get(&signature.blob_sha256).await
        {
            drawn.push((signer.key, png));
        }
    }
    let rendered = state.issuer.preview(&archive, tramite.form, &data, drawn).await;
    match rendered {
        Ok(rendered) => Ok(([(header::CONTENT_TYPE, "application/pdf")], rendered.pdf).into_response()),
        Err(error) => Err(PageError::bad_request(
            &staff,
            format!("No se pudo componer el documento: {error}"),
        )),
    }
}
