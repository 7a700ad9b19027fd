//! The values a blank entry form starts with, as people set them: their
//! own, and (for the administrator) the office's, for the fields typed the
//! same on every form (`forms::REMEMBERED`). The entry form offers a
//! person's own first, then the office's, then what was last written in
//! the office, always with a notice to check them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;

use serde_json::Value;

use super::error::{Failure, OrPage as _, PageError, PageResult};
use crate::accounts::{AccountError, OFFICE_DEFAULTS};
use crate::forms::FormSpec;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::ui::{csrf_field, notice, page};

#[derive(Debug, Deserialize)]
pub struct Saved {
    guardado: Option<String>,
}

/// The remembered fields some form of the catalog has, with the label of
/// the first form that has it.
fn settable(state: &AppState) -> Vec<(&'static str, String)> {
    REMEMBERED
        .iter()
        .filter_map(|name| {
            let label = state
                .catalog
                .iter()
                .find_map(|form| {
                    form.fields
                        .iter()
                        .find(|f| f.name == *name && f.filled_by.is_none())
                })?
                .label
                .clone();
            Some((*name, label))
        })
        .collect()
}

fn editor(
    staff: &Staff,
    action: &str,
    fields: &[(&str, String)],
    values: &HashMap<String, String>,
    button: &str,
) -> Markup {
    html! {
        form.tarjeta method="post" action=(action) {
            (csrf_field(staff))
            @for (name, label) in fields {
                @let id = format!("{}-{name}", action.trim_start_matches('/').replace('/', "-"));
                label for=(id) { (label) }
                input id=(id) type="text" name={"v_" (name)} value=(values.get(*name).map(String::as_str).unwrap_or_default()) maxlength=(crate::accounts::DEFAULT_MAX);
            }
            div.acciones { button { (button) } }
        }
    }
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(saved): Query<Saved>,
) -> PageResult {
    staff.require(|role| role.can_draft())?;
    let user = staff.user();
    let own: HashMap<String, String> = (state.accounts.entry_defaults(&user.office_code, user.id).await)
        .or_page(&staff)?
        .into_iter()
        .collect();
    let office: HashMap<String, String> = (state
        .accounts
        .entry_defaults(&user.office_code, OFFICE_DEFAULTS)
        .await)
        .or_page(&staff)?
        .into_iter()
        .collect();
    let fields = settable(&state);
    let body = page(
        &staff,
        "Valores predeterminados",
        html! {
            @if saved.guardado.is_some() { (notice("ok", "Valores guardados.")) }
            p { "Lo que se escribe igual en cada formulario: quien firma y su cargo, el lugar, la unidad. Un formulario nuevo empieza con sus valores; si no los tiene, con los de la oficina, y si tampoco, con lo último que se escribió en la oficina. Siempre se avisa para que los revise antes de emitir." }
            h2 { "Los suyos" }
            (editor(&staff, "/valores", &fields, &own, "Guardar mis valores"))
            h2 { "Los de la oficina " (user.office_code) }
            @if user.role.can_administer() {
                (editor(&staff, "/valores/oficina", &fields, &office, "Guardar los de la oficina"))
            } @else if office.is_empty() {
                p { "La oficina no tiene valores predeterminados; los fija quien la administra." }
            } @else {
                dl.datos {
                    @for (name, label) in &fields {
                        @if let Some(value) = office.get(*name) { dt { (label) } dd { (value) } }
                    }
                }
                p.ayuda { "Los fija quien administra la oficina." }
            }
        },
    );
    Ok(Html(body.into_string()).into_response())
}

/// The posted values of the settable fields.
fn posted(state: &AppState, form: &HashMap<String, String>) -> Vec<(String, String)> {
    settable(state)
        .into_iter()
        .filter_map(|(name, _)| Some((name.to_owned(), form.get(&format!("v_{name}"))?.clone())))
        .collect()
}

async fn save(state: &AppState, staff: &Staff, user_id: i64, form: &HashMap<String, String>) -> PageResult {
    let values = posted(state, form);
    match (state.accounts)
        .set_entry_defaults(&staff.user().office_code, user_id, &values)
        .await
    {
        Ok(()) => Ok(Redirect::to("/valores?guardado=1").into_response()),
        Err(AccountError::Invalid(message)) => Err(PageError::bad_request(staff, message)),
        Err(error) => Err(error).or_page(staff),
    }
}

pub async fn save_own(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<HashMap<String, String>>,
) -> PageResult {
    staff.require(|role| role.can_draft())?;
    save(&state, &staff, staff.user().id, &form).await
}

pub async fn save_office(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<HashMap<String, String>>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    save(&state, &staff, OFFICE_DEFAULTS, &form).await
}

/// Fields people type the same on every form of their office: the place,
/// the unit, the signer's name and cargo. Never one Sello fills from the
/// account that takes a step (`filled_by`).
pub(super) const REMEMBERED: &[&str] = &[
    "lugar_expedicion",
    "lugar",
    "comuna",
    "localidad",
    "unidad",
    "director_nombre",
    "director_cargo",
    "profesional_nombre",
    "profesional_cargo",
    "promotor_nombre",
    "promotor_cargo",
    "gestor_nombre",
    "iniciales",
];

/// What a blank form was prefilled with: the labels of the fields taken
/// from the defaults people set (`defaults`) and of those guessed from
/// recent drafts.
#[derive(Debug, Default)]
pub(super) struct Prefilled {
    pub(super) from_defaults: Vec<String>,
    pub(super) from_drafts: Vec<String>,
}

/// A blank form's data with the remembered fields it has: from the
/// person's own defaults, then the office's, then the person's own latest
/// drafts, then the office's.
pub(super) async fn remembered(
    state: &AppState,
    archive: &crate::archive::Archive,
    user: &crate::accounts::User,
    form: &FormSpec,
) -> Result<(Value, Prefilled), Failure> {
    let wanted: Vec<&crate::forms::FieldSpec> = (form.fields.iter())
        .filter(|f| REMEMBERED.contains(&f.name.as_str()) && f.filled_by.is_none())
        .filter(|f| {
            matches!(
                f.kind,
                crate::forms::FieldType::Text { .. } | crate::forms::FieldType::Enum { .. }
            )
        })
        .collect();
    let mut data = serde_json::Map::new();
    let mut filled = Prefilled::default();
    if wanted.is_empty() {
        return Ok((Value::Object(data), filled));
    }
    let mut defaults =
        (state.accounts.entry_defaults(&user.office_code, user.id).await).map_err(Failure::unavailable)?;
    defaults.extend(
        (state.accounts)
            .entry_defaults(&user.office_code, crate::accounts::OFFICE_DEFAULTS)
            .await
            .map_err(Failure::unavailable)?,
    );
    let allowed = |field: &crate::forms::FieldSpec, value: &str| match &field.kind {
        crate::forms::FieldType::Enum { values } => values.iter().any(|v| v == value),
        _ => true,
    };
    let mut recent = archive
        .recent_draft_data(Some(user.id), 20)
        .await
        .map_err(Failure::unavailable)?;
    recent.extend(
        archive
            .recent_draft_data(None, 20)
            .await
            .map_err(Failure::unavailable)?,
    );
    for field in wanted {
        let set = defaults
            .iter()
            .find(|(name, value)| *name == field.name && allowed(field, value))
            .map(|(_, value)| value.clone());
        if let Some(value) = set {
            data.insert(field.name.clone(), Value::String(value));
            filled.from_defaults.push(field.label.clone());
            continue;
        }
        let found = recent.iter().find_map(|text| {
            let old: Value = serde_json::from_str(text).ok()?;
            let value = old.get(&field.name)?.as_str()?.trim().to_owned();
            (!value.is_empty() && allowed(field, &value)).then_some(value)
        });
        if let Some(value) = found {
            data.insert(field.name.clone(), Value::String(value));
            filled.from_drafts.push(field.label.clone());
        }
    }
    Ok((Value::Object(data), filled))
}
