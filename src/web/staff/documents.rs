//! A document's page (PDF, verification link and status, annul, audit
//! trail) and an expediente's page (documents, persons, timeline, export).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::account::capitalized;
use super::attachments;
use super::entry::read_only;
use super::home::{document_table, form_title};
use crate::archive::{AnnulCategory, Archive, ArchiveError, AuditEvent, SignedItem};
use crate::web::api::archive_of;
use crate::web::auth::{Staff, StaffForm};
use crate::web::page::short_moment;
use crate::web::ui::{bad_request, csrf_field, not_found, notice, page, public_id, unavailable};
use crate::web::{AppState, pdf_response};

/// The staff member's office's archive, or the page that says why not.
async fn office_archive(state: &AppState, staff: &Staff) -> Result<Archive, Response> {
    archive_of(state, staff.user()).await.map_err(|e| unavailable(&e))
}

/// A document of the staff member's office with that office's archive, or
/// the page that says why not.
async fn office_document(
    state: &AppState,
    staff: &Staff,
    reference: &str,
) -> Result<(Archive, crate::archive::DocumentRecord), Response> {
    let archive = office_archive(state, staff).await?;
    let document = archive
        .document(reference)
        .await
        .map_err(|error| failure(staff, error))?;
    Ok((archive, document))
}

/// An archive error as a page: a missing document of this office and one
/// of another office look the same.
fn failure(staff: &Staff, error: ArchiveError) -> Response {
    match error {
        ArchiveError::DocumentNotFound(_) | ArchiveError::ExpedienteNotFound(_) => {
            not_found(staff, &capitalized(&error.to_string()))
        }
        ArchiveError::Refused(message) => bad_request(staff, &capitalized(&message)),
        other => unavailable(&other),
    }
}

fn timeline(events: &[AuditEvent], zone: chrono_tz::Tz) -> Markup {
    html! {
        table {
            thead { tr { th { "Fecha" } th { "Quién" } th { "Qué" } th { "Detalle" } } }
            tbody {
                @for event in events {
                    tr {
                        td { (short_moment(&event.at, zone)) }
                        td { (event.actor) }
                        td { (event.action) }
                        td { code { (event.details) } }
                    }
                }
            }
        }
    }
}

pub async fn document(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(reference): Path<String>,
) -> Response {
    let (archive, document) = match office_document(&state, &staff, &reference).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let (signatures, events, hand) = match (
        archive.signatures(document.row_id).await,
        archive.document_events(document.row_id).await,
        archive
            .hand_signatures(SignedItem::Document(document.row_id))
            .await,
    ) {
        (Ok(s), Ok(e), Ok(h)) => (s, e, h),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => return unavailable(&error),
    };
    let data: serde_json::Value = serde_json::from_str(&document.data).unwrap_or_default();
    let can_annul = staff.user().role.can_issue() && document.status.is_current();
    let zone = state.issuer.time_zone_of(archive.office());
    let title = format!("{} {}", form_title(&state, &document.form), document.folio);
    let body = page(
        &staff,
        &title,
        html! {
            dl.datos {
                dt { "Estado" } dd { span class={"estado " (document.status.as_str())} { (document.status.as_str()) } }
                dt { "Folio" } dd { (document.folio) }
                dt { "Expediente" } dd { a href={"/expedientes/" (document.expediente_id)} { (document.expediente_title) } }
                dt { "Emitido" } dd { (short_moment(&document.issued_at, zone)) " por " (document.issued_by) }
                @if let Some(url) = &document.verification_url {
                    dt { "Verificación" } dd { a href=(url) { (url) } }
                }
                @if let Some(sha) = &document.pdf_sha256 { dt { "SHA-256" } dd { code { (sha) } } }
                @if let Some(at) = &document.annulled_at {
                    dt { "Anulado" } dd { (short_moment(at, zone)) " por " (document.annulled_by.as_deref().unwrap_or("")) ": " (document.annul_reason.as_deref().unwrap_or("")) }
                }
                @if let Some(other) = document.replaced_by {
                    dt { "Reemplazado por" } dd { a href={"/documentos/" (other)} { (document.replaced_by_folio.as_deref().unwrap_or("documento")) } }
                }
            }
            @if let Some(pending) = document.paper_pending.as_deref().filter(|_| document.status.is_current()) {
                (notice("aviso", &format!(
                    "Pendiente: se firma a mano en papel ({}). Imprímalo, recabe las firmas y adjunte el escaneo del papel firmado en «Firmas en persona y escaneos».",
                    pending.replace(',', ", ")
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
            (attachments::section(&staff, &document, &hand, zone))
            h2 { "Datos" }
            @match state.catalog.get(&document.form) {
                Some(form) => (read_only(form, &data)),
                None => pre.tarjeta { (serde_json::to_string_pretty(&data).unwrap_or_default()) },
            }
            @if document.status.is_current() && staff.user().role.can_draft() {
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
            (timeline(&events, state.issuer.time_zone_of(archive.office())))
        },
    );
    Html(body.into_string()).into_response()
}

pub async fn pdf(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(reference): Path<String>,
) -> Response {
    let (archive, document) = match office_document(&state, &staff, &reference).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    match archive.pdf(&document).await {
        Ok(bytes) => pdf_response(&document, bytes),
        Err(error) => failure(&staff, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct Annulment {
    categoria: Option<String>,
    motivo: String,
    reemplazo: Option<String>,
}

pub async fn annul(
    State(state): State<Arc<AppState>>,
    Path(reference): Path<String>,
    StaffForm { staff, form }: StaffForm<Annulment>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_issue()) {
        return refused;
    }
    let archive = match office_archive(&state, &staff).await {
        Ok(archive) => archive,
        Err(answer) => return answer,
    };
    let replacement = form.reemplazo.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let category = match form.categoria.as_deref().map(|c| (c, AnnulCategory::parse(c))) {
        None => AnnulCategory::Otro,
        Some((_, Some(category))) => category,
        Some((text, None)) => return failure(&staff, AnnulCategory::unknown(text)),
    };
    match archive
        .annul_as(
            &reference,
            category,
            &form.motivo,
            &staff.user().username,
            replacement,
        )
        .await
    {
        Ok(record) => {
            tracing::info!(document.id = %record.id, "documento anulado");
            Redirect::to(&format!("/documentos/{}", record.id)).into_response()
        }
        Err(error) => failure(&staff, error),
    }
}

/// Starts the correction of a current document: a draft with its data
/// that replaces it once issued.
pub async fn correct(
    State(state): State<Arc<AppState>>,
    Path(reference): Path<String>,
    StaffForm { staff, .. }: StaffForm<super::account::Nothing>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_draft()) {
        return refused;
    }
    let (archive, document) = match office_document(&state, &staff, &reference).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let Some(spec) = state.catalog.get(&document.form) else {
        return failure(
            &staff,
            crate::archive::ArchiveError::Refused(format!(
                "el formulario «{}» ya no está en el catálogo",
                document.form
            )),
        );
    };
    let user = staff.user();
    let first = &spec.workflow.first().id;
    match archive
        .start_correction(&document.id.to_string(), user.id, &user.username, first)
        .await
    {
        Ok(draft) => Redirect::to(&format!("/borradores/{draft}")).into_response(),
        Err(error) => failure(&staff, error),
    }
}

pub async fn expediente(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let id = match public_id(&staff, &id, "ese expediente") {
        Ok(id) => id,
        Err(answer) => return answer,
    };
    let archive = match office_archive(&state, &staff).await {
        Ok(archive) => archive,
        Err(answer) => return answer,
    };
    let expediente = match archive.expediente(id).await {
        Ok(expediente) => expediente,
        Err(error) => return failure(&staff, error),
    };
    let key = expediente.row_id;
    let (documents, persons, events) = match (
        archive.expediente_documents(key).await,
        archive.expediente_persons(key).await,
        archive.expediente_events(key).await,
    ) {
        (Ok(d), Ok(p), Ok(e)) => (d, p, e),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => return unavailable(&error),
    };
    let body = page(
        &staff,
        &format!("Expediente: {}", expediente.title),
        html! {
            dl.datos {
                dt { "Tipo" } dd { (expediente.kind) }
                dt { "Clave" } dd { (expediente.key) }
                dt { "Abierto" } dd { (expediente.opened_on) }
                dt { "Cerrado" } dd { (expediente.closed_on.as_deref().unwrap_or("abierto")) }
                dt { "Conservación" } dd { (expediente.retention) }
            }
            @if staff.user().role.can_export() {
                div.acciones { a.boton href={"/expedientes/" (id) "/exportar"} { "Exportar expediente (ZIP)" } }
            }
            h2 { "Documentos" }
            @if documents.is_empty() { p { "Sin documentos." } } @else { (document_table(&state, &documents, state.issuer.time_zone_of(archive.office()))) }
            h2 { "Personas" }
            @if persons.is_empty() { p { "Sin personas registradas." } } @else {
                table { thead { tr { th { "Nombre" } th { "Identidad" } } } tbody { @for p in &persons { tr { td { (p.name) } td { (p.identity) } } } } }
            }
            h2 { "Historial" }
            (timeline(&events, state.issuer.time_zone_of(archive.office())))
        },
    );
    Html(body.into_string()).into_response()
}

pub async fn export(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> Response {
    if let Some(refused) = staff.refuse_unless(|role| role.can_export()) {
        return refused;
    }
    let id = match public_id(&staff, &id, "ese expediente") {
        Ok(id) => id,
        Err(answer) => return answer,
    };
    let archive = match office_archive(&state, &staff).await {
        Ok(archive) => archive,
        Err(answer) => return answer,
    };
    let folder = match tempfile::tempdir() {
        Ok(folder) => folder,
        Err(error) => return unavailable(&error),
    };
    let out = folder.path().join("expediente.zip");
    match archive.export_expediente(id, &out).await {
        Ok(_) => {}
        Err(error @ ArchiveError::ExpedienteNotFound(_)) => return failure(&staff, error),
        // Anything else is a failure of ours, with server paths in it: logged, not shown.
        Err(error) => return unavailable(&error),
    }
    match tokio::fs::read(&out).await {
        Ok(bytes) => {
            tracing::info!(expediente.id = %id, "expediente exportado");
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/zip".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"expediente-{id}.zip\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(error) => unavailable(&error),
    }
}
