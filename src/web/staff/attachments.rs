//! A document's hand signatures in the staff app: those drawn on screen
//! before it was sealed, and the scans of the signed paper and the
//! acknowledgements given after (receipts, monthly renewals), with a form
//! to upload a scan.

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::{Failure, OrPage as _, PageError, PageResult};
use super::tramite::{device_of, pad_png};
use crate::archive::{Archive, ArchiveError, DocumentRecord, HandSignatureRecord};
use crate::public_id::PublicId;
use crate::tramites::{Attachment, SCAN_MAX, StepError};
use crate::web::auth::{CSRF_FIELD, Staff, StaffForm};
use crate::web::page::short_moment;
use crate::web::ui::csrf_field;
use crate::web::{AppState, CrossView};

/// The largest upload: a scan and the form around it.
pub const UPLOAD_MAX: usize = SCAN_MAX + 64 * 1024;

/// The list of a document's hand signatures, and the upload form.
/// Dates in `zone`, the document's office's.
pub fn section(
    staff: &Staff,
    document: &DocumentRecord,
    signatures: &[HandSignatureRecord],
    zone: chrono_tz::Tz,
    writable: bool,
) -> Markup {
    html! {
        h2 { "Firmas en persona y escaneos" }
        @if signatures.is_empty() {
            p { "Sin firmas en persona ni escaneos." }
        } @else {
            table {
                thead { tr { th { "Cuándo" } th { "Qué" } th { "Quién" } th { "Cómo" } th { "Archivo" } } }
                tbody {
                    @for s in signatures {
                        tr {
                            td { (short_moment(&s.at, zone)) }
                            td { (s.purpose) }
                            td { (s.name) }
                            td { @if s.kind == "pantalla" { "En pantalla (" (s.device) ")" } @else { "En papel, escaneado" } }
                            td { a href={"/documentos/" (document.id) "/firmas/" (s.id)} { "Ver" } }
                        }
                    }
                }
            }
        }
        @if writable && document.status.is_current() && staff.user().role.can_draft() {
            script src="/firma.js" defer {}
            form.tarjeta.firma-en-pantalla method="post" action={"/documentos/" (document.id) "/firma-en-pantalla"} {
                (csrf_field(staff))
                h3 { "Firma en pantalla" }
                p.ayuda { "Para un acuse de recibo o la renovación mensual de un resguardo: la persona firma aquí con el dedo o un lápiz." }
                label for="proposito-pantalla" { "Qué se firma" }
                input #proposito-pantalla name="proposito" maxlength="200" required placeholder="Acuse de recibo";
                label for="nombre-pantalla" { "Quién firma" }
                input #nombre-pantalla name="nombre" maxlength="200" required;
                input type="hidden" name="imagen" value="";
                canvas.pad width="600" height="200" aria-label="Recuadro para la firma" {}
                p.aviso-vacio.error hidden { "Falta la firma: dibújela en el recuadro." }
                label.consentimiento {
                    input type="checkbox" name="consentimiento" value="si" required;
                    " Firmo en conformidad con lo que aquí se indica."
                }
                div.acciones {
                    button type="submit" { "Guardar firma" }
                    button.secundario.borrar type="button" { "Borrar" }
                }
            }
            form.tarjeta method="post" enctype="multipart/form-data" action={"/documentos/" (document.id) "/firmas"} {
                (csrf_field(staff))
                label for="proposito" { "Qué se firmó" span.ayuda { "Como «Documento firmado en papel», «Acuse de recibo» o «Renovación de diciembre»." } }
                input #proposito name="proposito" maxlength="200" required;
                label for="nombre" { "Quién firmó (opcional)" }
                input #nombre name="nombre" maxlength="200";
                label for="archivo" { "Escaneo o fotografía (PDF, JPEG o PNG; hasta 10 MB)" }
                input #archivo type="file" name="archivo" accept="application/pdf,image/jpeg,image/png" required;
                div.acciones { button { "Adjuntar" } }
            }
        }
    }
}

/// Attaches the scan of a signed paper (or an acknowledgement) to a document.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(reference): Path<String>,
    mut form: Multipart,
) -> PageResult {
    let (mut csrf, mut purpose, mut name, mut file) = (String::new(), String::new(), String::new(), None);
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            field_name if field_name == CSRF_FIELD => csrf = field.text().await.unwrap_or_default(),
            "proposito" => purpose = field.text().await.unwrap_or_default(),
            "nombre" => name = field.text().await.unwrap_or_default(),
            "archivo" => {
                let media_type = field.content_type().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((media_type, bytes.to_vec())),
                    Err(_) => {
                        let text = "El archivo no llegó completo; súbalo de nuevo.";
                        return Err(PageError::bad_request(&staff, text));
                    }
                }
            }
            _ => {}
        }
    }
    staff.require_csrf(&csrf)?;
    let Some((media_type, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let text = "Elija el escaneo o la fotografía del papel firmado.";
        return Err(PageError::bad_request(&staff, text));
    };
    let attachment = Attachment {
        kind: "papel",
        purpose: &purpose,
        media_type: &media_type,
        bytes,
        name: &name,
        consent: false,
        device: "",
    };
    attach(&state, &staff, &reference, attachment).await
}

#[derive(Debug, Deserialize)]
pub struct DrawnAcknowledgement {
    proposito: String,
    nombre: String,
    /// `data:image/png;base64,…`, as the pad's canvas gives it.
    imagen: String,
    consentimiento: Option<String>,
}

/// Records an acknowledgement drawn on screen after issue: a receipt, a
/// monthly renewal.
pub async fn draw(
    State(state): State<Arc<AppState>>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    StaffForm { staff, form }: StaffForm<DrawnAcknowledgement>,
) -> PageResult {
    let Some(png) = pad_png(&form.imagen) else {
        let text = "Dibuje la firma en el recuadro antes de guardarla.";
        return Err(PageError::bad_request(&staff, text));
    };
    let attachment = Attachment {
        kind: "pantalla",
        purpose: &form.proposito,
        media_type: "image/png",
        bytes: png,
        name: &form.nombre,
        consent: form.consentimiento.as_deref() == Some("si"),
        device: device_of(&headers),
    };
    attach(&state, &staff, &reference, attachment).await
}

/// Attaches to a document of the staff member's office (by public id or
/// folio) and returns to its page.
async fn attach(state: &AppState, staff: &Staff, reference: &str, attachment: Attachment<'_>) -> PageResult {
    let archive = state.archive_for(staff.user()).await.or_page(staff)?;
    let document = office_document(
        &archive,
        staff,
        reference,
        "No existe ese documento en esta oficina.",
    )
    .await?;
    let attached = state
        .tramites()
        .attach_to_document(&archive, document.row_id, staff.user(), attachment)
        .await;
    match attached {
        Ok(_) => Ok(Redirect::to(&format!("/documentos/{}", document.id)).into_response()),
        // A refusal is a request to correct; nothing here is missing.
        Err(StepError::NotFound(message)) => Err(PageError::bad_request(staff, message)),
        Err(error) => Err(error).or_page(staff),
    }
}

/// A document of `archive`'s office; any other is `missing`.
async fn office_document(
    archive: &Archive,
    staff: &Staff,
    reference: &str,
    missing: &str,
) -> Result<DocumentRecord, PageError> {
    match archive.document(reference).await {
        Ok(document) => Ok(document),
        Err(ArchiveError::DocumentNotFound(_)) => Err(PageError::not_found(staff, missing)),
        Err(error) => Err(Failure::unavailable(error)).or_page(staff),
    }
}

/// One hand signature's image or scan.
pub async fn file(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path((reference, signature)): Path<(String, String)>,
) -> PageResult {
    // Read, like the page that links it, in the office's own archive or
    // one under it (the view recorded there).
    let (archive, document) = match state
        .readable_document(staff.user(), &reference, CrossView::HandSignature)
        .await
    {
        Ok(found) => found,
        Err(ArchiveError::DocumentNotFound(_)) => return Err(PageError::not_found(&staff, NO_SIGNATURE)),
        Err(error) => return Err(Failure::unavailable(error)).or_page(&staff),
    };
    hand_signature_file(&archive, &staff, &signature, |record| {
        record.document_id == Some(document.row_id)
    })
    .await
}

/// What a signature missing from the page gets, whatever the reason.
const NO_SIGNATURE: &str = "No existe esa firma aquí.";

/// The image or scan of the hand signature whose public id is `id`, of
/// `archive`'s office, if `belongs` to what the page shows (a draft, a
/// document).
pub async fn hand_signature_file(
    archive: &Archive,
    staff: &Staff,
    id: &str,
    belongs: impl Fn(&HandSignatureRecord) -> bool,
) -> PageResult {
    let Ok(id) = PublicId::parse(id) else {
        return Err(PageError::not_found(staff, NO_SIGNATURE));
    };
    match archive.hand_signature_file(id).await {
        Ok((record, bytes)) if belongs(&record) => {
            Ok(([(header::CONTENT_TYPE, record.media_type)], bytes).into_response())
        }
        Ok(_) | Err(ArchiveError::Refused(_)) => Err(PageError::not_found(staff, NO_SIGNATURE)),
        Err(error) => Err(Failure::unavailable(error)).or_page(staff),
    }
}
