//! `/admin/sso`: the rules that map the OpenID provider's claims to an
//! office and a role, and the unlinking of an account from its identity at
//! the provider. They are the installation's (any office may be named), so
//! only the administrators of the configured office manage them; each
//! change is audited (`web::sso_admin`, shared with the API).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;

use super::account::capitalized;
use super::error::{Failure, OrPage as _, PageError, PageResult, public_id};
use crate::accounts::sso::{NewSsoRule, parse_role};
use crate::accounts::{AccountError, Role};
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::sso_admin::{self, Via};
use crate::web::ui::{csrf_field, notice, page};

fn require_installation_admin(state: &AppState, staff: &Staff) -> Result<(), PageError> {
    match sso_admin::may_manage(state, staff.user()) {
        true => Ok(()),
        false => Err(PageError::new(staff, Failure::Forbidden)),
    }
}

async fn rules_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    message: Option<Markup>,
) -> PageResult {
    require_installation_admin(state, staff)?;
    let rules = state.accounts.sso_rules().await.or_page(staff)?;
    let offices = state.accounts.offices().await.or_page(staff)?;
    let provider = state.sso.as_deref().map(|sso| sso.settings());
    let body = page(
        staff,
        "Inicio de sesión único",
        html! {
            @if let Some(message) = message { (message) }
            @match provider {
                Some(provider) => p { "Proveedor: " strong { (provider.provider_name) } " (" code { (provider.issuer) } "). "
                    @if provider.local_passwords { "También se puede entrar con contraseña." }
                    @else { "No se entra con contraseña (la línea de órdenes, «sello users», sigue disponible)." } },
                None => (notice("aviso", "No hay un proveedor configurado ([oidc] issuer): las reglas no se usan hasta que lo haya.")),
            }
            p { "Al entrar por el proveedor se prueban las reglas en orden; la primera cuyo dato del token tenga el valor indicado da la oficina y el rol. Quien no cumple ninguna regla no entra, y queda registrado en la auditoría. Una cuenta se vincula a la persona del proveedor (emisor y sujeto), nunca solo por su correo." }
            @if rules.is_empty() { p { "No hay reglas: nadie puede entrar por el proveedor." } } @else {
                div.tabla-desplazable { table {
                    thead { tr { th { "Orden" } th { "Dato" } th { "Valor" } th { "Oficina" } th { "Rol" } th { "Acción" } } }
                    tbody {
                        @for rule in &rules {
                            tr {
                                td { (rule.position) }
                                td { code { (rule.claim) } }
                                td { code { (rule.value) } }
                                td { (rule.office_code) }
                                td { (rule.role.label()) }
                                td {
                                    form method="post" action={"/admin/sso/" (rule.public_id) "/eliminar"} {
                                        (csrf_field(staff))
                                        button.peligro aria-label={"Eliminar la regla " (rule.claim) " = " (rule.value)} { "Eliminar" }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            form.tarjeta method="post" action="/admin/sso" {
                (csrf_field(staff))
                h2 { "Nueva regla" }
                label for="dato" { "Dato del token" span.ayuda { "El nombre de la afirmación (claim), como groups, oficina o email." } }
                input #dato name="dato" required maxlength="100";
                label for="valor" { "Valor" span.ayuda { "Igual al dato, o uno de los elementos si el dato es una lista." } }
                input #valor name="valor" required maxlength="200";
                label for="oficina" { "Oficina" }
                select #oficina name="oficina" {
                    @for office in &offices { option value=(office.code) { (office.code) " · " (office.name) } }
                }
                label for="rol" { "Rol" }
                select #rol name="rol" {
                    @for role in Role::ALL { option value=(role.as_str()) { (role.label()) } }
                }
                label for="orden" { "Orden" span.ayuda { "Las de número menor se prueban primero; en blanco, al final." } }
                input #orden name="orden" inputmode="numeric" pattern="[0-9]*" maxlength="7";
                div.acciones { button { "Agregar la regla" } }
            }
            @if let Some(provider) = provider {
                form.tarjeta method="post" action="/admin/sso/desvincular" {
                    (csrf_field(staff))
                    h2 { "Desvincular una cuenta" }
                    p { "Quien entra con " (provider.provider_name) " deja de llegar a esa cuenta de Sello: si una regla le da acceso, su próxima entrada crea una cuenta nueva. Cada quien puede también desvincular la suya desde «Mi cuenta». Queda en la auditoría." }
                    label for="usuario" { "Usuario de Sello" }
                    input #usuario name="usuario" required maxlength="100";
                    div.acciones { button.peligro { "Desvincular" } }
                }
            }
        },
    );
    Ok((status, Html(body.into_string())).into_response())
}

/// `/admin/sso`.
pub async fn overview(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    rules_page(&state, &staff, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub struct RuleFields {
    dato: String,
    valor: String,
    oficina: String,
    rol: String,
    orden: Option<String>,
}

/// Adds a rule.
pub async fn create(State(state): State<Arc<AppState>>, form: StaffForm<RuleFields>) -> PageResult {
    let StaffForm { staff, form } = form;
    require_installation_admin(&state, &staff)?;
    let added = async {
        let role = parse_role(&form.rol)?;
        let position = match form.orden.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                text.parse::<i64>()
                    .map_err(|_| AccountError::Invalid(format!("orden: «{text}» no es un número")))?,
            ),
        };
        let new = NewSsoRule {
            claim: form.dato.clone(),
            value: form.valor.clone(),
            office_code: form.oficina.clone(),
            role,
            position,
        };
        sso_admin::add_rule(&state, staff.user(), Via::Page, &new).await
    }
    .await;
    match added {
        Ok(_) => Ok(Redirect::to("/admin/sso").into_response()),
        Err(AccountError::Invalid(message)) => {
            let message = notice("error", &capitalized(&message));
            rules_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
        Err(error) => Err(Failure::unavailable(error)).or_page(&staff),
    }
}

/// Removes a rule.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, .. }: StaffForm<Vec<(String, String)>>,
) -> PageResult {
    require_installation_admin(&state, &staff)?;
    let id = public_id(&staff, &id, "esa regla")?;
    match sso_admin::remove_rule(&state, staff.user(), Via::Page, id).await {
        Ok(Some(_)) => Ok(Redirect::to("/admin/sso").into_response()),
        Ok(None) => {
            let message = notice("error", "Esa regla ya no existe.");
            rules_page(&state, &staff, StatusCode::NOT_FOUND, Some(message)).await
        }
        Err(error) => Err(Failure::unavailable(error)).or_page(&staff),
    }
}

#[derive(Debug, Deserialize)]
pub struct UnlinkFields {
    usuario: String,
}

/// Unlinks an account of any office from its identity at the provider.
pub async fn unlink(State(state): State<Arc<AppState>>, form: StaffForm<UnlinkFields>) -> PageResult {
    let StaffForm { staff, form } = form;
    require_installation_admin(&state, &staff)?;
    let sso = super::sso_link::provider(&state, &staff)?;
    let username = form.usuario.trim();
    let refused = |text: String| {
        let message = notice("error", &text);
        rules_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message))
    };
    let account = match state.accounts.user_by_username(username).await {
        Ok(account) => account,
        Err(AccountError::UserNotFound) => {
            return refused(format!("Usuario: «{username}» no es una cuenta de Sello.")).await;
        }
        Err(error) => return Err(Failure::unavailable(error)).or_page(&staff),
    };
    let Some(identity) = sso.unlink(&account).await.or_page(&staff)? else {
        return refused(format!(
            "Usuario: la cuenta «{username}» no está vinculada con {}.",
            sso.settings().provider_name
        ))
        .await;
    };
    super::sso_link::audit_unlinked(&state, staff.user(), &account, &identity)
        .await
        .or_page(&staff)?;
    let done = notice(
        "ok",
        &format!(
            "La cuenta «{}» ya no está vinculada con {}.",
            account.username,
            sso.settings().provider_name
        ),
    );
    rules_page(&state, &staff, StatusCode::OK, Some(done)).await
}
