//! An expediente's page (documents, referrals, persons, timeline) and its
//! export as a ZIP that verifies without Sello's servers.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use maud::html;

use super::documents::office_names;
use super::error::{Failure, OrPage as _, PageResult, public_id};
use super::history::timeline;
use super::home::document_table;
use crate::archive::ArchiveError;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::ui::{notice, page};

pub async fn expediente(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = public_id(&staff, &id, "ese expediente")?;
    let (archive, expediente) = state
        .readable_expediente(staff.user(), id)
        .await
        .or_page(&staff)?;
    // Exported only by its own office.
    let own = archive.office().code == staff.user().office_code;
    let key = expediente.row_id;
    let documents = archive.expediente_documents(key).await.or_page(&staff)?;
    let persons = archive.expediente_persons(key).await.or_page(&staff)?;
    let events = archive.expediente_events(key).await.or_page(&staff)?;
    let names = office_names(&state, &staff).await?;
    let referrals = archive.expediente_referrals(key).await.or_page(&staff)?;
    let today = state.issuer.now_in(archive.office()).date_naive();
    let body = page(
        &staff,
        &format!("Expediente: {}", expediente.title),
        html! {
            dl.datos {
                dt { "Tipo" } dd { (expediente.kind) }
                dt { "Clave" } dd { (expediente.key) }
                dt { "Abierto el" } dd { (day(&expediente.opened_on)) }
                dt { "Estado" } dd {
                    @match expediente.closed_on.as_deref() {
                        Some(closed) => { "Cerrado el " (day(closed)) }
                        None => "Abierto",
                    }
                }
                dt { "Conservación" } dd { (expediente.retention) }
            }
            @if !own {
                (notice("aviso", &format!(
                    "Expediente de la oficina {} ({}): su oficina lo consulta, sin modificarlo.",
                    archive.office().name, archive.office().code
                )))
            }
            @if own && staff.user().role.can_export() {
                div.acciones { a.boton href={"/expedientes/" (id) "/exportar"} { "Exportar expediente (ZIP)" } }
            }
            h2 { "Documentos" }
            @if documents.is_empty() { p { "Sin documentos." } } @else { (document_table(&state, &documents, state.issuer.time_zone_of(archive.office()))) }
            @if !referrals.is_empty() {
                h2 { "Derivaciones" }
                p { "Las derivaciones de este expediente y sus respuestas, con los documentos de la otra oficina." }
                (super::referrals::referral_table(&referrals, today))
            }
            h2 { "Personas" }
            @if persons.is_empty() { p { "Sin personas registradas." } } @else {
                table { thead { tr { th { "Nombre" } th { "Identidad" } } } tbody { @for p in &persons { tr { td { (p.name) } td { (p.identity) } } } } }
            }
            h2 { "Historial" }
            (timeline(&events, &names, state.issuer.time_zone_of(archive.office())))
        },
    );
    Ok(Html(body.into_string()).into_response())
}

pub async fn export(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> PageResult {
    staff.require(|role| role.can_export())?;
    let id = public_id(&staff, &id, "ese expediente")?;
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let folder = tempfile::tempdir().or_page(&staff)?;
    let out = folder.path().join("expediente.zip");
    let certificates = state.trusted().certificates_pem();
    match archive
        .export_expediente_with(id, &out, &certificates, &staff.user().username)
        .await
    {
        Ok(_) => {}
        Err(error @ ArchiveError::ExpedienteNotFound(_)) => return Err(error).or_page(&staff),
        // Anything else is a failure of ours, with server paths in it:
        // logged, not shown.
        Err(error) => return Err(Failure::Unavailable(error.to_string())).or_page(&staff),
    }
    let bytes = tokio::fs::read(&out).await.or_page(&staff)?;
    tracing::info!(expediente.id = %id, "expediente exportado");
    Ok((
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
        .into_response())
}

/// A day stored as `2026-12-01` as staff read days everywhere: `01/12/2026`.
fn day(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_owned())
}
