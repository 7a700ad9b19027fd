//! Administration of an office: its users and roles, the installation's
//! offices (their identity in `offices`), and the signing keys (active and
//! retired, rotation).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use maud::{Markup, html};
use serde::Deserialize;

use super::account::capitalized;
use super::error::{Failure, OrPage as _, PageError, PageResult};
use serde_json::json;

use crate::accounts::{AccountError, NewUser, Role};
use crate::archive::NewEvent;
use crate::keys::{KeyStatus, rotate_office_key, trusted_keys};
use crate::public_id::PublicId;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::ui::{csrf_field, notice, page};

async fn admin_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    message: Option<Markup>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let office = &staff.user().office_code;
    let (users, offices) = match (state.accounts.users(office).await, state.accounts.offices().await) {
        (Ok(u), Ok(o)) => (u, o),
        (Err(error), _) | (_, Err(error)) => return Err(Failure::unavailable(error)).or_page(staff),
    };
    let trusted = state.trusted();
    let zone = state
        .issuer
        .time_zone_of(state.archive_for(staff.user()).await.or_page(staff)?.office());
    let installation = is_installation_admin(state, staff);
    let preparers_bulk = state.accounts.preparers_bulk(office).await.or_page(staff)?;
    let body = page(
        staff,
        "Administración",
        html! {
            @if let Some(message) = message { (message) }
            p { a href="/admin/webhooks" { "Webhooks de la oficina" } ": avisos firmados a otros sistemas cuando se emite, anula o reemplaza un documento, avanza un borrador, termina un lote o se envía o responde una derivación." }
            p { a href="/valores" { "Valores predeterminados de los formularios de la oficina" } }
            (super::bulk::setting_section(staff, preparers_bulk))
            @if installation {
                p { a href="/admin/sso" { "Inicio de sesión único" } ": las reglas que dan oficina y rol a quien entra por el proveedor de identidad." }
            }
            h2 { "Usuarios de " (office) }
            table {
                thead { tr { th { "Usuario" } th { "Nombre, cargo, rol y estado" } th { "Contraseña" } } }
                tbody {
                    @for user in &users {
                        tr {
                            td { (user.username) }
                            td {
                                form.filtros method="post" action={"/admin/usuarios/" (user.public_id)} {
                                    (csrf_field(staff))
                                    input name="nombre" value=(user.display_name) aria-label={"Nombre de " (user.username)} required maxlength="120";
                                    input name="cargo" value=(user.cargo) aria-label={"Cargo de " (user.username)} maxlength="120";
                                    input name="correo" type="email" value=(user.email.as_deref().unwrap_or("")) placeholder="correo (avisos)" aria-label={"Correo de " (user.username)} maxlength="200";
                                    select name="rol" aria-label={"Rol de " (user.username)} {
                                        @for role in Role::ALL { option value=(role.as_str()) selected[role == user.role] { (role.label()) } }
                                    }
                                    select name="activo" aria-label={"Estado de " (user.username)} {
                                        option value="si" selected[user.active] { "Activo" }
                                        option value="no" selected[!user.active] { "Desactivado" }
                                    }
                                    button.secundario { "Guardar" }
                                }
                            }
                            td {
                                form method="post" action={"/admin/usuarios/" (user.public_id) "/contrasena"} {
                                    (csrf_field(staff))
                                    button.secundario { "Nueva contraseña" }
                                }
                            }
                        }
                    }
                }
            }
            form.tarjeta method="post" action="/admin/usuarios" {
                (csrf_field(staff))
                h2 { "Nuevo usuario" }
                label for="usuario" { "Usuario" span.ayuda { "Con lo que entrará: letras sin acento, dígitos, punto o guion." } }
                input #usuario name="usuario" required maxlength="40" autocapitalize="none";
                label for="nombre" { "Nombre completo" }
                input #nombre name="nombre" required maxlength="120";
                label for="cargo" { "Cargo" span.ayuda { "Se imprime bajo la firma de lo que emita." } }
                input #cargo name="cargo" maxlength="120";
                label for="rol" { "Rol" }
                select #rol name="rol" { @for role in Role::ALL { option value=(role.as_str()) { (role.label()) } } }
                div.acciones { button { "Crear usuario" } }
            }
            @if installation {
            (super::offices::section(state, staff, &offices))
            h2 { "Claves de firma" }
            table {
                thead { tr { th { "Identificador" } th { "Algoritmo" } th { "Titular" } th { "Estado" } } }
                tbody {
                    @for key in trusted.iter() {
                        tr {
                            td { code { (key.key_id) } }
                            td { (key.algorithm.label()) }
                            td { (crate::keys::certificate_name(&key.certificate).unwrap_or_default()) }
                            td { @match key.status { KeyStatus::Active => "activa", KeyStatus::Retired { since } => { "retirada desde " (crate::web::page::short_moment(&since.to_rfc3339(), zone)) } } }
                        }
                    }
                }
            }
            form.tarjeta method="post" action="/admin/claves/rotar" {
                (csrf_field(staff))
                p { "Rotar genera una clave nueva para firmar desde ahora. La actual queda retirada: lo que ya firmó sigue verificándose. Respalde la carpeta de claves después." }
                div.acciones { button.peligro { "Rotar la clave de firma" } }
            }
            }
        },
    );
    Ok((status, Html(body.into_string())).into_response())
}

/// Offices and keys are the installation's, shared by every office: only
/// the administrators of the configured office manage them.
pub(super) fn is_installation_admin(state: &AppState, staff: &Staff) -> bool {
    let user = staff.user();
    user.role.can_administer() && user.office_code == state.config.office_code
}

/// Records an administrative act in the audit trail.
pub(super) async fn audit(
    state: &AppState,
    staff: &Staff,
    action: &'static str,
    details: serde_json::Value,
) -> Result<(), AccountError> {
    state
        .archive
        .store()
        .record_event(NewEvent {
            actor: staff.user().username.clone(),
            action,
            office_code: Some(staff.user().office_code.clone()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details,
        })
        .await
        .map_err(AccountError::Store)
}

pub async fn overview(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    admin_page(&state, &staff, StatusCode::OK, None).await
}

/// The page again, with what happened: a one-time password is shown once.
/// The user of the administrator's office whose public id the address
/// names; a malformed id is as missing as another office's user.
async fn office_user(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<crate::accounts::User, AccountError> {
    let id = PublicId::parse(id).map_err(|_| AccountError::UserNotFound)?;
    state
        .accounts
        .user_by_public_id(&staff.user().office_code, id)
        .await
}

pub(super) async fn after(
    state: &AppState,
    staff: &Staff,
    result: Result<Markup, AccountError>,
) -> PageResult {
    match result {
        Ok(message) => admin_page(state, staff, StatusCode::OK, Some(message)).await,
        Err(AccountError::Invalid(message)) => {
            let message = notice("error", &capitalized(&message));
            admin_page(state, staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
        Err(AccountError::UserNotFound) => {
            let message = notice("error", "No existe ese usuario en su oficina.");
            admin_page(state, staff, StatusCode::NOT_FOUND, Some(message)).await
        }
        Err(error) => Err(Failure::unavailable(error)).or_page(staff),
    }
}

pub(super) fn one_time(text: &str, username: &str, password: &str) -> Markup {
    html! {
        (notice("ok", text))
        p { "Usuario: " strong { (username) } ". Contraseña de un solo uso (se muestra solo ahora; deberá cambiarla al entrar):" }
        code.secreto { (password) }
    }
}

#[derive(Debug, Deserialize)]
pub struct UserFields {
    usuario: String,
    nombre: String,
    cargo: String,
    rol: String,
}

pub async fn create_user(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<UserFields>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let result = async {
        let role = Role::parse(&form.rol)
            .ok_or_else(|| AccountError::Invalid("rol: elija uno de la lista".into()))?;
        let new = NewUser {
            username: form.usuario,
            display_name: form.nombre,
            cargo: form.cargo,
            role,
        };
        let (user, password) = state
            .accounts
            .create_user(&staff.user().office_code, &new)
            .await?;
        audit(
            &state,
            &staff,
            "usuario.creado",
            json!({"usuario": user.username, "rol": user.role.as_str()}),
        )
        .await?;
        tracing::info!(user = user.id, by = staff.user().id, "usuario creado");
        Ok(one_time("Usuario creado.", &user.username, &password))
    }
    .await;
    after(&state, &staff, result).await
}

#[derive(Debug, Deserialize)]
pub struct UserChange {
    nombre: String,
    cargo: String,
    rol: String,
    activo: String,
    /// Where notices go; empty for none.
    #[serde(default)]
    correo: String,
}

pub async fn update_user(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, form }: StaffForm<UserChange>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let result = async {
        let id = office_user(&state, &staff, &id).await?.id;
        let role = Role::parse(&form.rol).ok_or_else(|| AccountError::Invalid("rol: elija uno de la lista".into()))?;
        let active = form.activo == "si";
        if id == staff.user().id && (!active || role != Role::Administrador) {
            return Err(AccountError::Invalid(
                "usuario: no puede quitarse a sí mismo la administración; pida a otro administrador que lo haga".into(),
            ));
        }
        let change = NewUser {
            username: String::new(),
            display_name: form.nombre,
            cargo: form.cargo,
            role,
        };
        state
            .accounts
            .set_email(&staff.user().office_code, id, &form.correo)
            .await?;
        let user = state
            .accounts
            .update_user(&staff.user().office_code, id, &change, active)
            .await?;
        audit(
            &state,
            &staff,
            "usuario.modificado",
            json!({"usuario": user.username, "nombre": user.display_name, "cargo": user.cargo,
                   "rol": user.role.as_str(), "activo": user.active, "correo": user.email}),
        )
        .await?;
        tracing::info!(user = user.id, by = staff.user().id, "usuario modificado");
        Ok(notice("ok", &format!("Usuario {} actualizado.", user.username)))
    }
    .await;
    after(&state, &staff, result).await
}

#[derive(Debug, Deserialize)]
pub struct Nothing {}

pub async fn reset_password(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    StaffForm { staff, .. }: StaffForm<Nothing>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    let office = staff.user().office_code.clone();
    let result = async {
        let user = office_user(&state, &staff, &id).await?;
        let password = state.accounts.reset_password(&office, user.id).await?;
        audit(
            &state,
            &staff,
            "usuario.contrasena_restablecida",
            json!({"usuario": user.username}),
        )
        .await?;
        tracing::info!(user = user.id, by = staff.user().id, "contraseña restablecida");
        Ok(one_time(
            "Contraseña restablecida; sus sesiones abiertas se cerraron.",
            &user.username,
            &password,
        ))
    }
    .await;
    after(&state, &staff, result).await
}

pub async fn rotate_key(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, .. }: StaffForm<Nothing>,
) -> PageResult {
    staff.require(|role| role.can_administer())?;
    if !is_installation_admin(&state, &staff) {
        return Err(PageError::new(&staff, Failure::Forbidden));
    }
    // One rotation at a time: two at once would leave the issuer and the
    // trusted keys out of step.
    let _rotating = state.key_rotation.lock().await;
    let config = state.config.clone();
    let rotated = tokio::task::spawn_blocking(move || {
        let key = rotate_office_key(&config, &crate::keys::Rotation::default())?;
        let trusted = trusted_keys(&config)?;
        Ok::<_, crate::keys::KeyError>((key, trusted))
    })
    .await;
    let result = match rotated {
        Ok(Ok((key, trusted))) => {
            let id = key.key_id.to_string();
            // Trusted first, so nothing the new key signs is ever unverifiable.
            state.set_trusted(trusted);
            state.issuer.replace_key(key);
            match audit(&state, &staff, "clave.rotada", json!({"clave_nueva": id})).await {
                Ok(()) => {
                    tracing::info!(key = id.as_str(), by = staff.user().id, "clave de firma rotada");
                    Ok(notice(
                        "ok",
                        &format!("Clave rotada: desde ahora se firma con la clave {id}."),
                    ))
                }
                Err(error) => Err(error),
            }
        }
        Ok(Err(error)) => Err(AccountError::Invalid(error.to_string())),
        Err(error) => Err(AccountError::Invalid(error.to_string())),
    };
    after(&state, &staff, result).await
}
