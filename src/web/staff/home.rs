//! Home: what waits for me (my inbox), the office's drafts in their
//! workflow, what the office's documents still owe (follow-ups due or
//! overdue), and my recent documents.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use maud::{Markup, html};
use serde::Deserialize;

use crate::archive::{DocumentRecord, DraftRecord};
use crate::tramites::InboxItem;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::page::short_moment;
use crate::web::ui::{notice, page};

use super::error::{Failure, OrPage as _, PageResult};

#[derive(Debug, Deserialize)]
pub struct Notice {
    aviso: Option<String>,
}

/// Notices a redirect may ask for, by key: never free text from the address.
fn notice_text(key: &str) -> Option<&'static str> {
    match key {
        "contrasena" => Some("Contraseña guardada."),
        "borrador" => Some("Borrador guardado."),
        _ => None,
    }
}

pub async fn home(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Notice>,
) -> PageResult {
    let user = staff.user();
    let archive = state.archive_for(user).await.or_page(&staff)?;
    let documents = archive
        .recent_documents_by(&user.username, 15)
        .await
        .or_page(&staff)?;
    let drafts = archive.open_drafts(30).await.or_page(&staff)?;
    let mut inbox = (state.tramites().inbox(&archive, user).await)
        .map_err(Failure::unavailable)
        .or_page(&staff)?;
    // And the visados granted to them in offices under theirs.
    for (below, acting) in state.granted_archives(user).await.or_page(&staff)? {
        let items = (state.tramites().inbox(&below, &acting).await)
            .map_err(Failure::unavailable)
            .or_page(&staff)?;
        inbox.extend(items);
    }
    // Lotes a capturista prepared, for who signs their form.
    let waiting: Vec<_> = if user.role.can_issue() {
        (crate::bulk::approval::waiting(state.archive.store(), &user.office_code).await)
            .map_err(Failure::unavailable)
            .or_page(&staff)?
            .into_iter()
            .filter(|lote| {
                (state.catalog.get(&lote.form)).is_some_and(|form| crate::web::lotes::may_approve(form, user))
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut lotes = Vec::new();
    for lote in waiting {
        let by = super::lote_approval::full_name(&state, lote.prepared_by.as_deref().unwrap_or("")).await;
        lotes.push((lote, by));
    }
    let role = user.role;
    let zone = state.issuer.time_zone_of(archive.office());
    let today = state.issuer.now_in(archive.office()).date_naive();
    let due = crate::registros::seguimientos::pending(&archive, &state.catalog, today, FOLLOW_UP_DAYS)
        .await
        .or_page(&staff)?;
    let body = page(
        &staff,
        &format!("Hola, {}", user.display_name),
        html! {
            @if let Some(text) = query.aviso.as_deref().and_then(notice_text) { (notice("ok", text)) }
            @if role.can_draft() {
                div.acciones { a.boton href="/formularios" { "Nuevo documento" } a.boton.secundario href="/buscar" { "Buscar en el archivo" } }
            } @else {
                div.acciones { a.boton href="/buscar" { "Buscar en el archivo" } }
            }
            @if role.can_draft() {
                h2 { "Pendientes para usted" }
                @if inbox.is_empty() && lotes.is_empty() { p { "Nada espera su paso." } }
                @if !inbox.is_empty() { (inbox_table(&inbox, &user.office_code, zone, chrono::Utc::now())) }
                @if !lotes.is_empty() { (lote_table(&state, &lotes)) }
                h2 { "Borradores de la oficina" }
                @if drafts.is_empty() { p { "No hay borradores pendientes." } } @else { (draft_table(&state, &drafts, zone)) }
            }
            h2 { "Seguimientos" }
            @if due.is_empty() { p { "Nada vencido ni por vencer en " (FOLLOW_UP_DAYS) " días." } } @else { (due_table(&state, &due)) }
            h2 { "Mis documentos recientes" }
            @if documents.is_empty() { p { "Aún no ha emitido documentos." } } @else { (document_table(&state, &documents, zone)) }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

/// Lotes waiting for the viewer's approval.
fn lote_table(state: &AppState, lotes: &[(crate::bulk::lotes::LoteRecord, String)]) -> Markup {
    html! {
        div.tabla-desplazable {
            table {
                caption { "Lotes que esperan su aprobación" }
                thead { tr { th scope="col" { "Lote" } th scope="col" { "Documento" } th scope="col" { "Documentos" } th scope="col" { "Preparado por" } } }
                tbody {
                    @for (lote, prepared_by) in lotes {
                        tr {
                            td { a href={"/lotes/" (lote.public_id)} { (super::lote::lote_name(lote)) } }
                            td { (form_title(state, &lote.form)) }
                            td { (lote.valid_rows) }
                            td { (prepared_by) }
                        }
                    }
                }
            }
        }
    }
}

/// How many days ahead the home page shows what falls due.
const FOLLOW_UP_DAYS: u64 = 7;

/// What the documents in force still owe, overdue ones marked.
fn due_table(state: &AppState, due: &[crate::registros::seguimientos::Due]) -> Markup {
    html! {
        table {
            thead { tr { th { "Documento" } th { "Folio" } th { "Falta" } th { "Vence" } } }
            tbody {
                @for item in due {
                    tr {
                        td { (form_title(state, &item.formulario)) }
                        td {
                            @if let Some(referral) = &item.derivacion {
                                a href={"/derivaciones/" (referral.id)} { (item.folio) }
                            } @else { (item.folio) }
                        }
                        td {
                            (item.etiqueta)
                            @if let Some(persona) = &item.persona { " de " (persona) }
                        }
                        td {
                            (item.vence)
                            @if item.vencido { " " span.estado.anulado { "vencido" } }
                        }
                    }
                }
            }
        }
    }
}

/// The label of the step a draft is at.
fn step_label<'a>(state: &'a AppState, draft: &'a DraftRecord) -> &'a str {
    let Some(form) = state.catalog.get(&draft.form) else {
        return "";
    };
    let workflow = &form.workflow;
    workflow.current(draft.step.as_deref()).label.as_str()
}

/// A form's title, or its id if the catalog no longer has it.
pub fn form_title<'a>(state: &'a AppState, form: &'a str) -> &'a str {
    state.catalog.get(form).map(|f| f.title.as_str()).unwrap_or(form)
}

/// The documents, their dates in `zone` (their office's).
pub fn document_table(state: &AppState, documents: &[DocumentRecord], zone: chrono_tz::Tz) -> Markup {
    html! {
        table {
            thead { tr { th { "Folio" } th { "Documento" } th { "Fecha" } th { "Estado" } } }
            tbody {
                @for document in documents {
                    tr {
                        td { a href={"/documentos/" (document.id)} { (document.folio) } }
                        td { (form_title(state, &document.form)) }
                        td { (short_moment(&document.issued_at, zone)) }
                        td { span class={"estado " (document.status.as_str())} { (document.status.as_str()) } }
                    }
                }
            }
        }
    }
}

fn inbox_table(
    items: &[InboxItem],
    own_office: &str,
    zone: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    html! {
        div.tabla-desplazable {
            table {
                thead { tr { th scope="col" { "Documento" } th scope="col" { "Persona" } th scope="col" { "Paso" } th scope="col" { "Preparó" } th scope="col" { "Espera desde" } } }
                tbody {
                    @for item in items {
                        tr {
                            td {
                                a href={"/borradores/" (item.draft)} { (item.form_title) }
                                @if item.office != own_office { " (" (item.office) ")" }
                            }
                            td { (item.person.as_deref().unwrap_or("—")) }
                            td {
                                (item.step_label)
                                @if let Some(reason) = &item.returned_because { br; small.error { "Devuelto: " (reason) } }
                            }
                            td { (item.author) }
                            td { (short_moment(&item.updated_at, zone)) br; span.antiguedad { (age(&item.updated_at, now)) } }
                        }
                    }
                }
            }
        }
    }
}

/// How long something has waited, as people say it: «hace 3 días».
fn age(moment: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(then) = chrono::DateTime::parse_from_rfc3339(moment) else {
        return String::new();
    };
    let minutes = (now - then.with_timezone(&chrono::Utc)).num_minutes().max(0);
    match minutes {
        0 => "hace menos de un minuto".to_owned(),
        1 => "hace 1 minuto".to_owned(),
        m if m < 60 => format!("hace {m} minutos"),
        m if m < 120 => "hace 1 hora".to_owned(),
        m if m < 60 * 24 => format!("hace {} horas", m / 60),
        m if m < 60 * 48 => "hace 1 día".to_owned(),
        m => format!("hace {} días", m / (60 * 24)),
    }
}

fn draft_table(state: &AppState, drafts: &[DraftRecord], zone: chrono_tz::Tz) -> Markup {
    html! {
        table {
            thead { tr { th { "Borrador de" } th { "Paso" } th { "Preparó" } th { "Iniciado" } th { "Actualizado" } } }
            tbody {
                @for draft in drafts {
                    tr {
                        td { a href={"/borradores/" (draft.id)} { (form_title(state, &draft.form)) } }
                        td { (step_label(state, draft)) }
                        td { (draft.author) }
                        td { (short_moment(&draft.created_at, zone)) }
                        td { (short_moment(&draft.updated_at, zone)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn a_wait_reads_in_words() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z")
            .expect("date")
            .to_utc();
        assert_eq!(age("2026-12-04T11:59:30.5Z", now), "hace menos de un minuto");
        assert_eq!(age("2026-12-04T11:15:00Z", now), "hace 45 minutos");
        assert_eq!(age("2026-12-04T06:00:00-06:00", now), "hace menos de un minuto");
        assert_eq!(age("2026-12-01T12:00:00Z", now), "hace 3 días");
        assert_eq!(age("2026-12-03T10:00:00Z", now), "hace 1 día");
    }
}
