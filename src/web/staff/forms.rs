//! New documents: choose a form and fill its entry form, blank or from a
//! draft. What its buttons do is in `submit`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::entry::{fields, problem_summary};
use super::error::{Failure, OrPage as _, PageError, PageResult, public_id};
use super::tramite;
use crate::forms::{FormSpec, Problem, StepKind};
use crate::public_id::PublicId;
use crate::tramites::StepError;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::page::short_moment;
use crate::web::ui::{csrf_field, notice, page};

#[derive(Debug, Deserialize)]
pub struct FormFilter {
    /// Words to look for in a form's title, kind and description.
    q: Option<String>,
}

/// The country and programme a form comes from (`programa` in its
/// `form.toml`): how clerks of each office know their forms.
fn programme(form: &FormSpec) -> &str {
    if form.programa.is_empty() {
        "Otros"
    } else {
        &form.programa
    }
}

/// Lowercase, without accents: «Caracterización» is found by «caracterizacion».
fn folded(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            other => other,
        })
        .collect()
}

/// Whether every word of `query` is in the form's title, kind,
/// description or programme.
fn matches(form: &FormSpec, query: &str) -> bool {
    let haystack = folded(&format!(
        "{} {} {} {} {}",
        form.title,
        form.family.label(),
        form.description,
        programme(form),
        form.id
    ));
    folded(query)
        .split_whitespace()
        .all(|word| haystack.contains(word))
}

/// The forms a clerk may start, grouped by programme and country, the
/// office's own country first; a search box filters them (a plain GET, no
/// script). Forms Sello fills itself are not offered.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(filter): Query<FormFilter>,
) -> PageResult {
    staff.require(|role| role.can_draft())?;
    let query = filter.q.unwrap_or_default();
    let query = query.trim();
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let country = state.issuer.country_of(archive.office()).map(|c| match c {
        crate::office::Country::Mx => "México",
        crate::office::Country::Cl => "Chile",
        crate::office::Country::Pa => "Panamá",
    });
    let mut forms: Vec<&FormSpec> = (state.catalog.iter())
        .filter(|form| !form.interno && matches(form, query))
        .collect();
    forms.sort_by_key(|form| {
        let group = programme(form);
        let foreign = country.is_some_and(|c| !group.starts_with(c));
        (foreign, group, form.title.clone())
    });
    let groups = forms.chunk_by(|a, b| programme(a) == programme(b));
    let body = page(
        &staff,
        "Nuevo documento",
        html! {
            form.filtros method="get" action="/formularios" role="search" {
                div {
                    label for="q" { "Buscar formulario" }
                    input #q type="search" name="q" value=(query) aria-describedby="q-ayuda";
                }
                button type="submit" { "Buscar" }
                @if !query.is_empty() { a.boton.secundario href="/formularios" { "Ver todos" } }
            }
            p.ayuda #q-ayuda { "Palabras del nombre, del tipo (oficio, acta…) o del programa." }
            @if forms.is_empty() {
                p { "Ningún formulario tiene «" (query) "»." }
            }
            @for group in groups {
                h2 { (programme(group[0])) }
                div.tabla-desplazable {
                    table {
                        thead { tr { th scope="col" { "Documento" } th scope="col" { "Tipo" } th scope="col" { "Para qué" } } }
                        tbody {
                            @for form in group {
                                tr {
                                    td { a href={"/formularios/" (form.id.as_str())} { (form.title) } }
                                    td { (form.family.label()) }
                                    td { (form.description) }
                                }
                            }
                        }
                    }
                }
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

/// What the entry page shows besides the fields.
pub(super) struct EntryPage<'a> {
    pub form: &'a FormSpec,
    pub data: &'a Value,
    pub problems: &'a [Problem],
    pub draft: Option<PublicId>,
    /// What names the draft to people, once it is loaded: «(borrador del
    /// 3 de marzo de 2026)».
    pub draft_title: Option<String>,
    /// The idempotency key of this issuance: a form sent twice issues once.
    pub key: String,
    pub more_rows: Option<&'a str>,
    pub message: Option<maud::Markup>,
    /// The draft's workflow, once it has one.
    pub panel: Option<maud::Markup>,
}

pub(super) fn entry_page(staff: &Staff, status: StatusCode, entry: EntryPage<'_>) -> Response {
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
            (problem_summary(entry.problems))
            form.tarjeta method="post" action={"/formularios/" (form.id.as_str())} novalidate {
                // Enter in a field presses the form's first button: saving
                // the draft, never «Más filas», the preview or issuing.
                button.por-omision type="submit" name="_accion" value="guardar" tabindex="-1" aria-hidden="true" { "Guardar borrador" }
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

pub(super) fn new_key() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness the form still works; only a double submit could repeat.
    let _ = getrandom::fill(&mut bytes);
    format!("web-{}", data_encoding::HEXLOWER.encode(&bytes))
}

/// What a blank form may start from: the derivación a contrarreferencia
/// answers (`?derivacion=<id>`), from the page of that derivación.
#[derive(Debug, Deserialize)]
pub struct Answering {
    derivacion: Option<String>,
}

/// The contrarreferencia's fields the derivación it answers gives: its
/// folio, the person referred, the units and the benefit, as the
/// derivación says them; the receiving unit as it printed it, by the name
/// the installation registers for this office. Only a derivación sent to
/// this office.
async fn answering(
    archive: &crate::archive::Archive,
    id: PublicId,
    actor: &str,
) -> Result<serde_json::Map<String, Value>, crate::archive::ArchiveError> {
    let referral = archive.referral(id).await?;
    let mut filled = serde_json::Map::new();
    if referral.to_office != archive.office().code {
        return Ok(filled);
    }
    let documents = archive.referral_documents(&referral).await?;
    let Some(seen) = documents.iter().find(|(d, _)| d.id == id) else {
        return Ok(filled);
    };
    // Its data, another office's, is read into the answer: recorded as
    // any other reading of it.
    archive
        .record_referral_views(&referral, std::slice::from_ref(seen), actor, "datos")
        .await?;
    let derivacion = &seen.0;
    let data: Value = serde_json::from_str(&derivacion.data).unwrap_or_default();
    filled.insert("derivacion".into(), Value::String(referral.folio.clone()));
    for field in ["usuario", "unidad_origen", "beneficio"] {
        if let Some(value) = data.get(field) {
            filled.insert(field.into(), value.clone());
        }
    }
    if let Some(name) = data
        .get(crate::forms::REFERRAL_RECORD_FIELD)
        .and_then(|sent| sent.pointer("/oficina/nombre"))
    {
        filled.insert("unidad_receptora".into(), name.clone());
    }
    Ok(filled)
}

pub async fn blank(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    Query(start): Query<Answering>,
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
    let archive = state.archive_for(staff.user()).await.or_page(&staff)?;
    let (mut data, filled) = super::defaults::remembered(&state, &archive, staff.user(), form)
        .await
        .or_page(&staff)?;
    if let (Some(derivacion), "contrarreferencia", Value::Object(fields)) =
        (&start.derivacion, form.id.as_str(), &mut data)
    {
        let derivacion = public_id(&staff, derivacion, "esa derivación")?;
        fields.extend(
            answering(&archive, derivacion, &staff.user().username)
                .await
                .or_page(&staff)?,
        );
    }
    let quoted = |labels: &[String]| {
        labels
            .iter()
            .map(|l| format!("«{l}»"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut said = Vec::new();
    if !filled.from_defaults.is_empty() {
        said.push(format!(
            "Se llenaron {} con los valores predeterminados (se cambian en «Valores predeterminados»)",
            quoted(&filled.from_defaults)
        ));
    }
    if !filled.from_drafts.is_empty() {
        said.push(format!(
            "Se llenaron {} con lo último que se escribió en esta oficina",
            quoted(&filled.from_drafts)
        ));
    }
    let message = (!said.is_empty()).then(|| {
        html! {
            (notice("aviso", &format!("{}; revíselos antes de emitir.", said.join(". "))))
            p { a href="/valores" { "Valores predeterminados" } }
        }
    });
    Ok(entry_page(
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
            message,
            panel: None,
        },
    ))
}

pub async fn draft(State(state): State<Arc<AppState>>, staff: Staff, Path(id): Path<String>) -> PageResult {
    let id = public_id(&staff, &id, "ese borrador")?;
    // Of their office, or awaiting a visado granted to them below it; the
    // role that opens it is the one they act with there, as in the API.
    let (archive, acting, reach) = state.acting_on_draft(staff.user(), id).await.or_page(&staff)?;
    let staff = staff.acting_as(acting);
    staff.require(|role| role.can_draft())?;
    let tramite = match state.tramites().load(&archive, id).await {
        Ok(tramite) => tramite,
        Err(StepError::NotFound(message) | StepError::Refused(message)) => {
            return Err(PageError::not_found(&staff, message));
        }
        Err(error) => return Err(Failure::unavailable(error)).or_page(&staff),
    };
    if let Some(document) = tramite.draft.document_id {
        return Ok(Redirect::to(&format!("/documentos/{document}")).into_response());
    }
    // Past its elaboration, or not the viewer's own: read-only.
    if tramite.step.is_some_and(|s| s.kind != StepKind::Captura) || !tramite.is_drafter(staff.user()) {
        let signers = (state.tramites().hand_signers_of(&archive, &tramite).await)
            .map_err(Failure::unavailable)
            .or_page(&staff)?;
        let changed = tramite::changed_since_return(&archive, &tramite).await;
        let body = tramite::review_page(
            &state,
            (&staff, reach),
            &archive,
            &tramite,
            &signers,
            changed.as_deref(),
            None,
        );
        return Ok(Html(body.into_string()).into_response());
    }
    let data = tramite.data();
    Ok(entry_page(
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
            message: Some(html! {
                @if let Some(reason) = tramite.returned_because() {
                    (notice("error", &format!("Devuelto para corregir: {reason}")))
                }
                (notice(
                    "aviso",
                    &format!(
                        "Preparado por {}; actualizado el {}.",
                        tramite.draft.author,
                        short_moment(&tramite.draft.updated_at, state.issuer.time_zone_of(archive.office()))
                    ),
                ))
            }),
            panel: Some(tramite::panel(
                &tramite,
                state.issuer.time_zone_of(archive.office()),
            )),
        },
    ))
}
