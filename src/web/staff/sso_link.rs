//! A person's own account and the OpenID provider: «Vincular con …»
//! starts a linking (the provider's login, whose return in `web::sso`
//! links instead of opening a session), and «Desvincular» undoes it. What
//! may be linked is `accounts::sso`'s to decide; here are the account
//! page's part, the two forms, and the audit of an unlinking, which an
//! installation administrator may also do (`/admin/sso`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use serde_json::json;

use super::account::Nothing;
use super::error::{Failure, OrPage as _, PageError, PageResult};
use crate::accounts::sso::Identity;
use crate::accounts::{AccountError, User};
use crate::archive::NewEvent;
use crate::web::AppState;
use crate::web::auth::{Staff, StaffForm};
use crate::web::ui::{csrf_field, notice};

pub const LINKED: &str = "sesion.sso_vinculada";
pub const UNLINKED: &str = "sesion.sso_desvinculada";

/// The account page's part about the provider, when there is one: linked
/// since when, with the way to undo it, or the way to link.
pub async fn section(
    state: &AppState,
    staff: &Staff,
    aviso: Option<&str>,
) -> Result<Option<Markup>, AccountError> {
    let Some(sso) = state.sso.as_deref() else {
        return Ok(None);
    };
    let provider = &sso.settings().provider_name;
    let identity = sso.identity_of(staff.user()).await?;
    Ok(Some(html! {
        h2 { "Inicio de sesión único" }
        @match aviso {
            Some("vinculada") => { (notice("ok", &format!("Su cuenta quedó vinculada con {provider}: al entrar con {provider} llegará a esta cuenta."))) }
            Some("desvinculada") => { (notice("ok", &format!("Su cuenta ya no está vinculada con {provider}."))) }
            _ => {}
        }
        @match identity {
            Some(identity) => {
                p { "Su cuenta está vinculada con " strong { (provider) } " desde el " (identity.linked_at.get(..10).unwrap_or(identity.linked_at.as_str())) ": al entrar con " (provider) " llega a esta cuenta, con el rol que le da la regla de su oficina." }
                form method="post" action="/cuenta/sso/desvincular" {
                    (csrf_field(staff))
                    button.secundario { "Desvincular de " (provider) }
                }
            }
            None => {
                p { "Si ya entra a Sello con " (provider) ", vincule esta cuenta para llegar a ella (con su historial y sus firmas) en vez de a una cuenta nueva. " (provider) " le pedirá entrar; la vinculación queda en la auditoría." }
                form method="post" action="/cuenta/sso/vincular" {
                    (csrf_field(staff))
                    button { "Vincular con " (provider) }
                }
            }
        }
    }))
}

/// The installation's identity provider, or the page saying there is none.
pub(super) fn provider<'a>(
    state: &'a AppState,
    staff: &Staff,
) -> Result<&'a crate::accounts::sso::SingleSignOn, PageError> {
    state
        .sso
        .as_deref()
        .ok_or_else(|| PageError::not_found(staff, "No hay un proveedor de identidad configurado."))
}

/// `POST /cuenta/sso/vincular`: sends the person to the provider, with the
/// login's state in its cookie, to come back linking their account.
pub async fn start(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, .. }: StaffForm<Nothing>,
) -> PageResult {
    let sso = provider(&state, &staff)?;
    match sso.begin_link(staff.user(), "/cuenta?aviso=vinculada").await {
        Ok(started) => Ok((
            [(
                header::SET_COOKIE,
                crate::web::sso::state_cookie(Some(&started.state), state.secure_cookies),
            )],
            Redirect::to(&started.authorization_url),
        )
            .into_response()),
        Err(crate::accounts::sso::SsoError::Accounts(error)) => {
            Err(Failure::unavailable(error)).or_page(&staff)
        }
        Err(error) => {
            tracing::warn!(error = %error, "no se pudo iniciar la vinculación en el proveedor");
            Err(PageError::new(
                &staff,
                Failure::NotAllowed(format!(
                    "Sello no pudo comunicarse con {}. Intente de nuevo en unos minutos.",
                    sso.settings().provider_name
                )),
            ))
        }
    }
}

/// `POST /cuenta/sso/desvincular`: the person unlinks their own account,
/// unless it is their only way in.
pub async fn unlink_own(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, .. }: StaffForm<Nothing>,
) -> PageResult {
    let sso = provider(&state, &staff)?;
    let user = staff.user();
    if !sso.enters_without_provider(user).await.or_page(&staff)? {
        return Err(PageError::new(
            &staff,
            Failure::NotAllowed(format!(
                "Su cuenta no se abre con contraseña: sin la vinculación no podría volver a entrar. Pida a quien administra Sello que le asigne una contraseña antes de desvincularla de {}.",
                sso.settings().provider_name
            )),
        ));
    }
    match sso.unlink(user).await.or_page(&staff)? {
        Some(identity) => {
            audit_unlinked(&state, user, user, &identity)
                .await
                .or_page(&staff)?;
            Ok(Redirect::to("/cuenta?aviso=desvinculada").into_response())
        }
        // Nothing to undo (a second click): the page says how things are.
        None => Ok(Redirect::to("/cuenta").into_response()),
    }
}

/// Records that `account` was unlinked from `identity` by `actor` (the
/// person, or an installation administrator).
pub async fn audit_unlinked(
    state: &AppState,
    actor: &User,
    account: &User,
    identity: &Identity,
) -> Result<(), AccountError> {
    state
        .archive
        .store()
        .record_event(NewEvent {
            actor: actor.username.clone(),
            action: UNLINKED,
            office_code: Some(account.office_code.clone()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details: json!({
                "usuario": account.username,
                "emisor": identity.issuer,
                "sujeto": identity.subject,
                "por_la_administracion": actor.id != account.id,
            }),
        })
        .await
        .map_err(AccountError::Store)
}
