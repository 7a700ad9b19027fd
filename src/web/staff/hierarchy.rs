//! An office's place in the hierarchy (the office it is under) and the
//! visados granted in it to accounts of the offices above, on the office's
//! administration page. Only the installation's administrators change
//! them; each change is in the audit trail.

use std::sync::Arc;

use axum::extract::{Path, State};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::admin::audit;
use super::error::PageResult;
use super::offices::{after_change, refuse};
use crate::accounts::{AccountError, GRANTABLE, OfficeGrant, OfficeNode, Role};
use crate::office::Office;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::ui::csrf_field;

/// The office's place in the hierarchy, and the visados granted in it to
/// accounts of the offices above.
pub fn section(
    staff: &Staff,
    office: &Office,
    tree: &[OfficeNode],
    grants: &[OfficeGrant],
    zone: chrono_tz::Tz,
) -> Markup {
    let parent = tree
        .iter()
        .find(|n| n.code == office.code)
        .and_then(|n| n.parent_code.clone());
    html! {
        form.tarjeta method="post" action={"/admin/oficinas/" (office.code) "/superior"} {
            (csrf_field(staff))
            h2 { "Oficina superior" }
            p.ayuda { "Nacional → provincia o región → distrito → oficina local. Las cuentas de una oficina consultan, sin modificar, los documentos, expedientes y búsquedas de las oficinas que dependen de ella; cada consulta queda en la bitácora de la oficina consultada." }
            label for="superior" { "Depende de" }
            select #superior name="superior" {
                option value="" selected[parent.is_none()] { "Ninguna (oficina principal)" }
                @for node in tree.iter().filter(|n| n.code != office.code) {
                    option value=(node.code) selected[parent.as_deref() == Some(node.code.as_str())] { (node.code) " — " (node.name) }
                }
            }
            div.acciones { button { "Guardar" } }
        }
        section.tarjeta {
            h2 { "Visado desde una oficina superior" }
            p.ayuda { "Una cuenta de una oficina de la que esta depende puede dar aquí el visado (revisor) o la aprobación del presupuesto (contador) de los borradores, como un(a) supervisor(a) da el visto bueno de las actas de sus promotores. No firma ni anula: eso es de esta oficina. Su visado lleva su nombre, su cargo y su oficina." }
            @if grants.is_empty() {
                p { "Nadie de otra oficina tiene visado concedido aquí." }
            } @else {
                table {
                    thead { tr { th { "Cuenta" } th { "Oficina" } th { "Rol" } th { "Concedido" } th { "Acción" } } }
                    tbody {
                        @for grant in grants {
                            tr {
                                td { (grant.user.display_name) " (" (grant.user.username) ")" }
                                td { (grant.user.office_code) }
                                td { (grant.role.label()) }
                                td { (crate::web::page::short_moment(&grant.granted_at, zone)) " por " (grant.granted_by) }
                                td {
                                    form method="post" action={"/admin/oficinas/" (office.code) "/visado/quitar"} {
                                        (csrf_field(staff))
                                        input type="hidden" name="usuario" value=(grant.user.username);
                                        button.secundario { "Quitar" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action={"/admin/oficinas/" (office.code) "/visado"} {
                (csrf_field(staff))
                label for="usuario-visado" { "Usuario de una oficina superior" }
                input #usuario-visado name="usuario" required maxlength="40" autocapitalize="none";
                label for="rol-visado" { "Rol aquí" }
                select #rol-visado name="rol" {
                    @for role in GRANTABLE { option value=(role.as_str()) { (role.label()) } }
                }
                div.acciones { button { "Conceder visado" } }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ParentField {
    #[serde(default)]
    superior: String,
}

/// Puts the office under another, or at the top; refused if it would end
/// up under itself.
pub async fn set_parent(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
    StaffForm { staff, form }: StaffForm<ParentField>,
) -> PageResult {
    refuse(&state, &staff)?;
    let result = async {
        let parent = Some(form.superior.trim()).filter(|p| !p.is_empty());
        state.accounts.set_parent(&code, parent).await?;
        audit(
            &state,
            &staff,
            "oficina.superior",
            json!({"oficina": code, "superior": parent}),
        )
        .await?;
        Ok(match parent {
            Some(parent) => format!("La oficina {code} depende ahora de {parent}."),
            None => format!("La oficina {code} no depende ahora de ninguna."),
        })
    }
    .await;
    after_change(&state, &staff, &code, result).await
}

#[derive(Debug, Deserialize)]
pub struct GrantFields {
    usuario: String,
    #[serde(default)]
    rol: String,
}

/// Grants an account of an office above the visado in this office.
pub async fn grant(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
    StaffForm { staff, form }: StaffForm<GrantFields>,
) -> PageResult {
    refuse(&state, &staff)?;
    let result = async {
        let role = Role::parse(form.rol.trim())
            .ok_or_else(|| AccountError::Invalid("rol: elija revisor o contador".into()))?;
        let user = state.accounts.user_by_username(&form.usuario).await?;
        state
            .accounts
            .grant(&user, &code, role, &staff.user().username)
            .await?;
        audit(
            &state,
            &staff,
            "oficina.visado_concedido",
            json!({"oficina": code, "usuario": user.username, "desde_oficina": user.office_code, "rol": role.as_str()}),
        )
        .await?;
        Ok(format!(
            "«{}» de {} da ahora el visado como {} en {code}.",
            user.username,
            user.office_code,
            role.as_str()
        ))
    }
    .await;
    after_change(&state, &staff, &code, result).await
}

/// Takes back a visado granted in this office.
pub async fn revoke_grant(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
    StaffForm { staff, form }: StaffForm<GrantFields>,
) -> PageResult {
    refuse(&state, &staff)?;
    let result = async {
        let user = state.accounts.user_by_username(&form.usuario).await?;
        if !state.accounts.revoke_grant(&user, &code).await? {
            return Err(AccountError::Invalid(format!(
                "usuario: «{}» no tenía visado concedido en {code}",
                user.username
            )));
        }
        audit(
            &state,
            &staff,
            "oficina.visado_retirado",
            json!({"oficina": code, "usuario": user.username}),
        )
        .await?;
        Ok(format!("«{}» ya no da el visado en {code}.", user.username))
    }
    .await;
    after_change(&state, &staff, &code, result).await
}
