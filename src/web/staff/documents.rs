//! A document's page (PDF, verification link and status, annul, audit
//! trail); an expediente's page is in `expedientes`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;

use super::attachments;
use super::entry::read_only;
use super::error::{OrPage as _, PageError, PageResult};
use super::history::{Names, timeline};
use super::home::form_title;
use crate::archive::{AnnulCategory, Archive, SignedItem};
use crate::web::auth::{Staff, StaffForm};
use crate::web::page::{short_moment, timestamp_text};
use crate::web::ui::{csrf_field, notice, page};
use crate::web::{AppState, CrossView, pdf_response};

/// A document of the staff member's office with that office's archive: a
/// missing document of this office and one of another look the same.
async fn office_document(
    state: &AppState,
    staff: &Staff,
    reference: &str,
) -> Result<(Archive, crate::archive::DocumentRecord), PageError> {
    let archive = state.archive_for(staff.user()).await.or_page(staff)?;
    let document = archive.document(reference).await.or_page(staff)?;
    Ok((archive, document))
}

/// The office's accounts by username, for histories that name people.
pub(super) async fn office_names(state: &AppState, staff: &Staff) -> Result<Names, PageError> {
    let users = state
        .accounts
        .users(&staff.user().office_code)
        .await
        .or_page(staff)?;
    Ok(Names::new(
        users.into_iter().map(|u| (u.username, u.display_name)),
    ))
}

/// A document the staff member may read: of their office, or of one
/// under it (read only; the view is recorded in that office's trail).
async fn readable_document(
    state: &AppState,
    staff: &Staff,
    reference: &str,
    view: CrossView,
) -> Result<(Archive, crate::archive::DocumentRecord), PageError> {
    state
        .readable_document(staff.user(), reference, view)
        .await
        .or_page(staff)
}

/// The people who still sign the paper, by name as the document prints
/// them («Rosa Parra, Juan Soto»), not by their data's keys (`miembros[3]`).
fn pending_names(state: &AppState, form: &str, data: &serde_json::Value, pending: &str) -> String {
    let signers: Vec<crate::forms::HandSigner> = state
        .catalog
        .get(form)
        .map(|form| {
            form.workflow
                .steps()
                .iter()
                .flat_map(|step| crate::forms::hand_signers(form, step, data))
                .collect()
        })
        .unwrap_or_default();
    pending
        .split(',')
        .map(|key| {
            signers
                .iter()
                .find(|s| s.key == key)
                .map_or(key, |s| s.name.as_str())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn document(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(reference): Path<String>,
) -> PageResult {
    let (archive, document) = readable_document(&state, &staff, &reference, CrossView::Document).await?;
    // Another office's document is only read: nothing here changes it.
    let own = archive.office().code == staff.user().office_code;
    let signatures = archive.signatures(document.row_id).await.or_page(&staff)?;
    let events = archive.document_events(document.row_id).await.or_page(&staff)?;
    let names = office_names(&state, &staff).await?;
    let hand = archive
        .hand_signatures(SignedItem::Document(document.row_id))
        .await
        .or_page(&staff)?;
    let citations = archive.citations(document.row_id).await.or_page(&staff)?;
    let data: serde_json::Value = serde_json::from_str(&document.data).unwrap_or_default();
    let can_annul = own && staff.user().role.can_issue() && document.status.is_current();
    let zone = state.issuer.time_zone_of(archive.office());
    let title = format!("{} {}", form_title(&state, &document.form), document.folio);
    let body = page(
        &staff,
        &title,
        html! {
            @if !own {
                (notice("aviso", &format!(
                    "Documento de la oficina {} ({}): su oficina lo consulta, sin modificarlo.",
                    archive.office().name, archive.office().code
                )))
            }
            dl.datos {
                dt { "Estado" } dd { span class={"estado " (document.status.as_str())} { (document.status.as_str()) } }
                dt { "Folio" } dd { (document.folio) }
                dt { "Expediente" } dd { a href={"/expedientes/" (document.expediente_id)} { (document.expediente_title) } }
                dt { "Emitido" } dd { (short_moment(&document.issued_at, zone)) " por " (document.issued_by) }
                @if let Some(url) = &document.verification_url {
                    dt { "Verificación" } dd { a href=(url) { (url) } }
                }
                @if let Some(sha) = &document.pdf_sha256 { dt { "SHA-256" } dd { code { (sha) } } }
                @if let Some(at) = &document.timestamp_at {
                    dt { "Sello de tiempo" } dd { (timestamp_text(at, document.timestamp_tsa.as_deref().unwrap_or_default(), zone)) }
                }
                @if let Some(at) = &document.annulled_at {
                    dt { "Anulado" } dd { (short_moment(at, zone)) " por " (names.of(document.annulled_by.as_deref().unwrap_or(""))) ": " (document.annul_reason.as_deref().unwrap_or("")) }
                }
                @if let Some(other) = document.replaced_by {
                    dt { "Reemplazado por" } dd { a href={"/documentos/" (other)} { (document.replaced_by_folio.as_deref().unwrap_or("documento")) } }
                }
            }
            @if let Some(pending) = document.paper_pending.as_deref().filter(|_| document.status.is_current()) {
                (notice("aviso", &format!(
                    "Pendiente: se firma a mano en papel ({}). Imprímalo, recabe las firmas y adjunte el escaneo del papel firmado en «Firmas en persona y escaneos».",
                    pending_names(&state, &document.form, &data, pending)
                )))
            }
            @if document.pdf_sha256.is_some() {
                div.acciones { a.boton href={"/documentos/" (document.id) "/pdf"} { "Descargar PDF" } }
            }
            h2 { "Firmas" }
            ul {
                @for s in &signatures {
                    li {
                        (s.signer) @if !s.cargo.is_empty() { ", " (s.cargo) }
                        " — " (s.algorithm) ", clave " code { (s.key_id) } ", " (short_moment(&s.signed_at, zone))
                    }
                }
            }
            (attachments::section(&staff, &document, &hand, zone, own))
            (citation_section(&state, &archive.office().code, &citations))
            h2 { "Datos" }
            @match state.catalog.get(&document.form) {
                Some(form) => (read_only(form, &data)),
                None => pre.tarjeta { (serde_json::to_string_pretty(&data).unwrap_or_default()) },
            }
            @if own && document.status.is_current() && staff.user().role.can_draft() {
                h2 { "Corregir" }
                form.tarjeta method="post" action={"/documentos/" (document.id) "/corregir"} {
                    (csrf_field(&staff))
                    p.ayuda { "Prepara un borrador con estos datos. Cuando se emita tras su trámite, este documento quedará reemplazado y su página de verificación llevará al nuevo." }
                    div.acciones { button.secundario { "Corregir con un documento nuevo" } }
                }
            }
            @if can_annul {
                h2 { "Anular" }
                form.tarjeta method="post" action={"/documentos/" (document.id) "/anular"} {
                    (csrf_field(&staff))
                    label for="categoria" { "Lo que dirá la página pública" }
                    select #categoria name="categoria" {
                        @for category in AnnulCategory::CHOICES { option value=(category.as_str()) { (category.label()) } }
                    }
                    label for="motivo" { "Motivo" span.ayuda { "Queda en el archivo, para la oficina; no se publica." } }
                    textarea #motivo name="motivo" maxlength="1000" required {}
                    label for="reemplazo" { "Reemplazado por (opcional)" span.ayuda { "Folio del documento vigente que lo sustituye." } }
                    input #reemplazo name="reemplazo";
                    div.acciones { button.peligro { "Anular documento" } }
                }
            }
            h2 { "Historial" }
            (timeline(&events, &names, state.issuer.time_zone_of(archive.office())))
        },
    );
    Ok(Html(body.into_string()).into_response())
}

/// The documents this one cites and those that cite it, each a link.
/// Another office's document, shared by a derivación, is reached from
/// the derivaciones page, which records the view.
fn citation_section(state: &AppState, office: &str, citations: &crate::archive::Citations) -> Markup {
    let row = |link: &crate::archive::CitationLink| {
        html! {
            li {
                @if link.office_code == office {
                    a href={"/documentos/" (link.document_id)} { (form_title(state, &link.form)) " " (link.folio) }
                } @else {
                    (form_title(state, &link.form)) " " (link.folio) " (oficina " (link.office_code) ", "
                    a href="/derivaciones" { "compartido en una derivación" } ")"
                }
                " — del " (crate::web::page::short_date(&link.issued_on)) ", " span class={"estado " (link.status.as_str())} { (link.status.as_str()) }
            }
        }
    };
    html! {
        @if !citations.cites.is_empty() {
            h2 { "Documentos que cita" }
            ul { @for link in &citations.cites { (row(link)) } }
        }
        @if !citations.cited_by.is_empty() {
            h2 { "Lo citan" }
            ul { @for link in &citations.cited_by { (row(link)) } }
        }
    }
}

pub async fn pdf(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(reference): Path<String>,
) -> PageResult {
    let (archive, document) = readable_document(&state, &staff, &reference, CrossView::Pdf).await?;
    let bytes = archive.pdf(&document).await.or_page(&staff)?;
    Ok(pdf_response(&document, bytes))
}

#[derive(Debug, Deserialize)]
pub struct Annulment {
    categoria: Option<String>,
    motivo: String,
    reemplazo: Option<String>,
    /// `si` once the person saw what annulling does and confirmed it.
    confirmar: Option<String>,
}

pub async fn annul(
    State(state): State<Arc<AppState>>,
    Path(reference): Path<String>,
    StaffForm { staff, form }: StaffForm<Annulment>,
) -> PageResult {
    staff.require(|role| role.can_issue())?;
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let replacement = form.reemplazo.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let category = match form.categoria.as_deref().map(|c| (c, AnnulCategory::parse(c))) {
        None => AnnulCategory::Otro,
        Some((_, Some(category))) => category,
        Some((text, None)) => return Err(AnnulCategory::unknown(text)).or_page(&staff),
    };
    if form.confirmar.as_deref() != Some("si") {
        return confirm_annulment(&state, &staff, &reference, category, &form).await;
    }
    let user = &staff.user().username;
    let record = archive
        .annul_as(&reference, category, &form.motivo, user, replacement)
        .await
        .or_page(&staff)?;
    tracing::info!(document.id = %record.id, "documento anulado");
    Ok(Redirect::to(&format!("/documentos/{}", record.id)).into_response())
}

/// The step before annulling, which cannot be undone: what the public
/// page will say from then on, and one more button.
async fn confirm_annulment(
    state: &AppState,
    staff: &Staff,
    reference: &str,
    category: AnnulCategory,
    form: &Annulment,
) -> PageResult {
    let (_, document) = office_document(state, staff, reference).await?;
    let replacement = form.reemplazo.as_deref().map(str::trim).unwrap_or("");
    let body = page(
        staff,
        &format!("¿Anular el documento {}?", document.folio),
        html! {
            (notice("aviso", "Anular no se puede deshacer: la página pública de verificación dirá desde ahora que el documento está anulado."))
            dl.datos {
                dt { "Documento" } dd { (form_title(state, &document.form)) " " (document.folio) }
                dt { "La página pública dirá" } dd { (category.label()) }
                dt { "Motivo (solo para la oficina)" } dd { (form.motivo) }
                @if !replacement.is_empty() { dt { "Reemplazado por" } dd { (replacement) } }
            }
            form.tarjeta method="post" action={"/documentos/" (document.id) "/anular"} {
                (csrf_field(staff))
                input type="hidden" name="categoria" value=(category.as_str());
                input type="hidden" name="motivo" value=(form.motivo);
                input type="hidden" name="reemplazo" value=(replacement);
                input type="hidden" name="confirmar" value="si";
                div.acciones {
                    button.peligro type="submit" { "Sí, anular el documento" }
                    a.boton.secundario href={"/documentos/" (document.id)} { "No, volver al documento" }
                }
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

/// Starts the correction of a current document: a draft with its data
/// that replaces it once issued.
pub async fn correct(
    State(state): State<Arc<AppState>>,
    Path(reference): Path<String>,
    StaffForm { staff, .. }: StaffForm<super::account::Nothing>,
) -> PageResult {
    staff.require(|role| role.can_draft())?;
    let (archive, document) = office_document(&state, &staff, &reference).await?;
    let Some(spec) = state.catalog.get(&document.form) else {
        return Err(PageError::bad_request(
            &staff,
            format!("el formulario «{}» ya no está en el catálogo", document.form),
        ));
    };
    // A register is corrected by building it again, not by hand.
    spec.refuse_internal()
        .map_err(|why| PageError::bad_request(&staff, why))?;
    let user = staff.user();
    let first = &spec.workflow.first().id;
    let draft = archive
        .start_correction(&document.id.to_string(), user.id, &user.username, first)
        .await
        .or_page(&staff)?;
    Ok(Redirect::to(&format!("/borradores/{draft}")).into_response())
}
