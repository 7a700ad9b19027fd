//! `/derivaciones`: the referrals sent to the office (its inbox) and
//! those it sent; one referral with exactly the documents it shares; each
//! of those documents' PDF. A referral of neither office is not found, as
//! another office's documents are not.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use maud::{Markup, html};

use super::error::{OrPage as _, PageResult, public_id};
use super::home::form_title;
use crate::archive::{ReferralRecord, ReferralState};
use crate::web::auth::Staff;
use crate::web::page::short_moment;
use crate::web::ui::page;
use crate::web::{AppState, pdf_response};

/// How a referral's state reads on the page.
fn state_label(state: ReferralState) -> Markup {
    let class = match state {
        ReferralState::Respondida => "emitido",
        ReferralState::Vencida | ReferralState::Anulada => "anulado",
        ReferralState::Enviada | ReferralState::Recibida => "reemplazado",
    };
    html! { span class={"estado " (class)} { (state.as_str()) } }
}

/// A table of referrals, each with the office that sent it and the one
/// it went to.
pub fn referral_table(referrals: &[ReferralRecord], today: chrono::NaiveDate) -> Markup {
    html! {
        table {
            thead { tr {
                th { "Derivación" }
                th { "De → a" }
                th { "Fecha" } th { "Vence" } th { "Estado" } th { "Contrarreferencia" }
            } }
            tbody {
                @for r in referrals {
                    tr {
                        td { a href={"/derivaciones/" (r.id)} { (r.folio) } }
                        td { (r.from_office) " → " (r.to_office) }
                        td { (crate::web::page::short_date(&r.issued_on)) }
                        td { (r.due_on) }
                        td { (state_label(r.state(today))) }
                        td { @if let Some((_, folio)) = r.answer() { (folio) } @else { "—" } }
                    }
                }
            }
        }
    }
}

pub async fn inbox(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let today = state.issuer.now_in(archive.office()).date_naive();
    let received = archive.referrals_received().await.or_page(&staff)?;
    let sent = archive.referrals_sent().await.or_page(&staff)?;
    let body = page(
        &staff,
        "Derivaciones",
        html! {
            p { "Derivaciones entre oficinas (referencia y contrarreferencia). Al abrir una derivación recibida queda marcada como recibida; se responde con el formulario «Contrarreferencia», citando su folio." }
            h2 { "Recibidas" }
            @if received.is_empty() { p { "Ninguna oficina le ha derivado casos." } } @else { (referral_table(&received, today)) }
            h2 { "Enviadas" }
            @if sent.is_empty() { p { "Esta oficina no ha derivado casos." } } @else { (referral_table(&sent, today)) }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

pub async fn show(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> PageResult {
    let id = public_id(&staff, &id, "esa derivación")?;
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let referral = archive
        .open_referral(id, &staff.user().username)
        .await
        .or_page(&staff)?;
    let documents = archive.referral_documents(&referral).await.or_page(&staff)?;
    let zone = state.issuer.time_zone_of(archive.office());
    let today = state.issuer.now_in(archive.office()).date_naive();
    let receiving = referral.to_office == archive.office().code;
    let body = page(
        &staff,
        &format!("Derivación {}", referral.folio),
        html! {
            dl.datos {
                dt { "Estado" } dd { (state_label(referral.state(today))) }
                dt { "Oficina que deriva" } dd { (referral.from_office) }
                dt { "Oficina receptora" } dd { (referral.to_office) }
                dt { "Fecha" } dd { (crate::web::page::short_date(&referral.issued_on)) }
                dt { "Vence" } dd { (referral.due_on) }
                @if let Some(at) = &referral.received_at {
                    dt { "Recibida" } dd { (short_moment(at, zone)) " por " (referral.received_by.as_deref().unwrap_or("")) }
                }
                @if let Some((_, folio)) = referral.answer() {
                    dt { "Contrarreferencia" } dd { (folio) }
                }
            }
            @if referral.state(today) == ReferralState::Anulada {
                p { "Esta derivación fue anulada: ya no se responde" @if receiving { " y sus documentos compartidos ya no están a disposición de esta oficina" } "." }
            } @else if receiving && referral.state(today) != ReferralState::Respondida {
                // Until an answer is in force: one annulled leaves it to answer again.
                div.acciones { a.boton href={"/formularios/contrarreferencia?derivacion=" (referral.id)} { "Responder con una contrarreferencia" } }
                p { "Cite en ella el folio " strong { (referral.folio) } "." }
            }
            h2 { "Documentos que comparte" }
            p { "La derivación, los documentos que la oficina que deriva decidió compartir y la contrarreferencia, cuando se emite. Nada más del caso." }
            table {
                thead { tr { th { "Folio" } th { "Documento" } th { "Oficina" } th { "Fecha" } th { "Estado" } } }
                tbody {
                    @for (document, office) in &documents {
                        tr {
                            td { a href={"/derivaciones/" (referral.id) "/documentos/" (document.id)} { (document.folio) } }
                            td { (form_title(&state, &document.form)) }
                            td { (office) }
                            td { (short_moment(&document.issued_at, zone)) }
                            td { span class={"estado " (document.status.as_str())} { (document.status.as_str()) } }
                        }
                    }
                }
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

pub async fn document_pdf(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path((id, document)): Path<(String, String)>,
) -> PageResult {
    let id = public_id(&staff, &id, "esa derivación")?;
    let document = public_id(&staff, &document, "ese documento en la derivación")?;
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let referral = archive.referral(id).await.or_page(&staff)?;
    let (record, bytes) = archive
        .referral_pdf(&referral, document, &staff.user().username)
        .await
        .or_page(&staff)?;
    Ok(pdf_response(&record, bytes))
}
