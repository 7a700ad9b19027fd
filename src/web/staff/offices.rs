//! The installation's offices in the administration: each one's name,
//! institution, address, logo, time zone and country, which its documents
//! print (its place in the hierarchy is in `hierarchy.rs`). Only the
//! administrators of the configured office manage them; the configured
//! office's identity is the configuration's.

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::account::capitalized;
use super::admin::{Nothing, after, audit, is_installation_admin, one_time};
use super::error::{Failure, OrPage as _, PageError, PageResult};
use crate::accounts::{AccountError, IdentityChange};
use crate::office::Office;
use crate::office::{Country, LOGO_MAX_BYTES, Logo};
use crate::web::AppState;
use crate::web::auth::{CSRF_FIELD, Staff, StaffForm};
use crate::web::ui::{csrf_field, notice, page};

/// The largest logo upload: the image and the form around it.
pub const UPLOAD_MAX: usize = LOGO_MAX_BYTES + 64 * 1024;

/// Time zones offered as you type; any IANA name is accepted.
const ZONES: [&str; 9] = [
    "America/Mexico_City",
    "America/Monterrey",
    "America/Cancun",
    "America/Chihuahua",
    "America/Tijuana",
    "America/Santiago",
    "America/Punta_Arenas",
    "Pacific/Easter",
    "America/Panama",
];

/// The offices' part of the administration page: the list, and a new one.
pub fn section(state: &AppState, staff: &Staff, offices: &[Office]) -> Markup {
    html! {
        h2 { "Oficinas" }
        p { "Cada oficina tiene sus propios folios, expedientes, documentos y usuarios, y puede tener su propio membrete, zona horaria y país; comparten las claves de firma de la instalación." }
        table {
            thead { tr { th { "Clave" } th { "Nombre" } th { "Institución" } th { "Zona horaria" } th { "Acción" } } }
            tbody {
                @for o in offices {
                    @let configured = o.code == state.config.office_code;
                    tr {
                        td { (o.code) }
                        td { (o.name) }
                        td { @if configured { (state.config.institution) " (configuración)" } @else { (o.identity.institution.as_deref().unwrap_or("la de la instalación")) } }
                        td { (state.issuer.time_zone_of(o).name()) }
                        td { a href={"/admin/oficinas/" (o.code)} { "Ver o cambiar" } }
                    }
                }
            }
        }
        form.tarjeta method="post" action="/admin/oficinas" {
            (csrf_field(staff))
            h2 { "Nueva oficina" }
            label for="clave" { "Clave" span.ayuda { "Va en los folios: mayúsculas, dígitos o guiones, como «DIF-SLP»." } }
            input #clave name="clave" required maxlength="20" autocapitalize="characters";
            (identity_fields(state, None))
            label for="admin" { "Usuario administrador de la nueva oficina" }
            input #admin name="administrador" required maxlength="40" autocapitalize="none";
            div.acciones { button { "Crear oficina" } }
        }
    }
}

/// The fields of an office's identity, filled with `office`'s.
fn identity_fields(state: &AppState, office: Option<&Office>) -> Markup {
    let identity = office.map(|o| o.identity.clone()).unwrap_or_default();
    let config = &state.config;
    html! {
        label for="nombre-oficina" { "Nombre" span.ayuda { "Segunda línea del membrete, como «Dirección de Desarrollo Comunitario»." } }
        input #nombre-oficina name="nombre" required maxlength="200" value=(office.map_or("", |o| o.name.as_str()));
        label for="institucion" { "Institución" span.ayuda { "Primera línea del membrete, como «Municipalidad de La Pintana». Vacía: la de la instalación («" (config.institution) "»), con su domicilio y su logotipo." } }
        input #institucion name="institucion" maxlength="200" value=(identity.institution.as_deref().unwrap_or(""));
        label for="domicilio" { "Domicilio" span.ayuda { "Se imprime bajo el nombre si la oficina tiene institución propia; vacío, ninguno." } }
        input #domicilio name="domicilio" maxlength="300" value=(identity.address.as_deref().unwrap_or(""));
        label for="zona" { "Zona horaria" span.ayuda { "La de la fecha y hora de sus documentos, como «America/Santiago». Vacía: la de la instalación (" (config.time_zone.name()) ")." } }
        input #zona name="zona_horaria" maxlength="60" list="zonas" autocapitalize="none" value=(identity.time_zone.map_or("", |z| z.name()));
        datalist #zonas { @for zone in ZONES { option value=(zone) {} } }
        label for="pais" { "País" span.ayuda { "Sus convenciones: la identificación que piden los formularios que no dicen cuál (CURP, RUN o cédula) y la línea de lugar y fecha." } }
        select #pais name="pais" {
            option value="" selected[identity.country.is_none()] { "Como la instalación" }
            @for country in Country::ALL {
                option value=(country.code()) selected[identity.country == Some(country)] { (country.label()) }
            }
        }
    }
}

/// The identity an administrator posts.
#[derive(Debug, Deserialize)]
pub struct IdentityFields {
    nombre: String,
    #[serde(default)]
    institucion: String,
    #[serde(default)]
    domicilio: String,
    #[serde(default)]
    zona_horaria: String,
    #[serde(default)]
    pais: String,
}

impl IdentityFields {
    fn change(&self) -> IdentityChange {
        IdentityChange {
            name: self.nombre.clone(),
            institution: self.institucion.clone(),
            address: self.domicilio.clone(),
            time_zone: self.zona_horaria.clone(),
            country: self.pais.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NewOffice {
    clave: String,
    administrador: String,
    #[serde(flatten)]
    identity: IdentityFields,
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    StaffForm { staff, form }: StaffForm<NewOffice>,
) -> PageResult {
    refuse(&state, &staff)?;
    let result = async {
        let (office, user, password) = state
            .accounts
            .create_office_with(&form.clave, &form.identity.change(), &form.administrador)
            .await?;
        audit(
            &state,
            &staff,
            "oficina.creada",
            json!({"oficina": office.code, "administrador": user.username}),
        )
        .await?;
        tracing::info!(by = staff.user().id, "oficina creada");
        Ok(one_time(
            &format!(
                "Oficina {} creada, con su administrador. Entréguele esta contraseña en persona.",
                office.code
            ),
            &user.username,
            &password,
        ))
    }
    .await;
    after(&state, &staff, result).await
}

/// Only the installation's administrators manage offices.
pub(super) fn refuse(state: &AppState, staff: &Staff) -> Result<(), PageError> {
    staff.require(|role| role.can_administer())?;
    match is_installation_admin(state, staff) {
        true => Ok(()),
        false => Err(PageError::new(staff, Failure::Forbidden)),
    }
}

async fn office_page(
    state: &AppState,
    staff: &Staff,
    code: &str,
    status: StatusCode,
    message: Option<Markup>,
) -> PageResult {
    let office = match state.accounts.office(code).await {
        Ok(Some(office)) => office,
        Ok(None) => return Err(PageError::not_found(staff, "No existe esa oficina.")),
        Err(error) => return Err(Failure::unavailable(error)).or_page(staff),
    };
    let configured = office.code == state.config.office_code;
    let tree = state.accounts.office_tree().await.or_page(staff)?;
    let grants = state.accounts.grants_in(&office.code).await.or_page(staff)?;
    let zone = state.issuer.time_zone_of(&office);
    let hierarchy = super::hierarchy::section(staff, &office, &tree, &grants, zone);
    let body = page(
        staff,
        &format!("Oficina {}", office.code),
        html! {
            @if let Some(message) = message { (message) }
            p { a href="/admin" { "← Administración" } }
            @if configured {
                p { "Es la oficina de la configuración: su institución, nombre, domicilio, logotipo, zona horaria y país se toman del archivo sello.toml o de las variables SELLO_*, y se cambian ahí." }
                dl {
                    dt { "Institución" } dd { (state.config.institution) }
                    dt { "Nombre" } dd { (state.config.office_name) }
                    dt { "Domicilio" } dd { (state.config.address) }
                    dt { "Zona horaria" } dd { (state.config.time_zone.name()) }
                    dt { "País" } dd { (state.config.country.map_or("—", Country::label)) }
                }
            } @else {
                form.tarjeta method="post" action={"/admin/oficinas/" (office.code)} {
                    (csrf_field(staff))
                    h2 { "Membrete, zona horaria y país" }
                    p.ayuda { "Lo que emita desde ahora lo lleva; lo ya emitido no cambia." }
                    (identity_fields(state, Some(&office)))
                    div.acciones { button { "Guardar" } }
                }
                form.tarjeta method="post" enctype="multipart/form-data" action={"/admin/oficinas/" (office.code) "/logotipo"} {
                    (csrf_field(staff))
                    h2 { "Logotipo" }
                    @if office.identity.logo.is_some() {
                        p { "La oficina tiene logotipo propio" @if office.identity.institution.is_none() { "; se imprime cuando tenga institución propia" } "." }
                    } @else {
                        p { "Sin logotipo propio: el membrete es de texto, centrado" @if office.identity.institution.is_none() { " (o el de la instalación, mientras use su institución)" } "." }
                    }
                    label for="logotipo" { "Imagen PNG, JPEG o SVG (hasta " (LOGO_MAX_BYTES / 1024) " KB)" }
                    input #logotipo type="file" name="logotipo" accept="image/png,image/jpeg,image/svg+xml" required;
                    div.acciones { button { "Subir logotipo" } }
                }
                @if office.identity.logo.is_some() {
                    form method="post" action={"/admin/oficinas/" (office.code) "/logotipo/quitar"} {
                        (csrf_field(staff))
                        button.secundario { "Quitar el logotipo" }
                    }
                }
            }
            (hierarchy)
        },
    );
    Ok((status, Html(body.into_string())).into_response())
}

pub async fn show(State(state): State<Arc<AppState>>, Path(code): Path<String>, staff: Staff) -> PageResult {
    refuse(&state, &staff)?;
    office_page(&state, &staff, &code, StatusCode::OK, None).await
}

/// The office's page again, with what happened.
pub(super) async fn after_change(
    state: &AppState,
    staff: &Staff,
    code: &str,
    result: Result<String, AccountError>,
) -> PageResult {
    match result {
        Ok(text) => office_page(state, staff, code, StatusCode::OK, Some(notice("ok", &text))).await,
        Err(AccountError::Invalid(message)) => {
            let message = notice("error", &capitalized(&message));
            office_page(
                state,
                staff,
                code,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
            )
            .await
        }
        Err(error) => Err(Failure::unavailable(error)).or_page(staff),
    }
}

/// The configured office's identity is changed in the configuration.
fn refuse_configured(state: &AppState, code: &str) -> Result<(), AccountError> {
    if code == state.config.office_code {
        return Err(AccountError::Invalid(
            "oficina: la de la configuración se cambia en sello.toml o en las variables SELLO_*".into(),
        ));
    }
    Ok(())
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
    StaffForm { staff, form }: StaffForm<IdentityFields>,
) -> PageResult {
    refuse(&state, &staff)?;
    let result = async {
        refuse_configured(&state, &code)?;
        let office = state.accounts.update_office(&code, &form.change()).await?;
        let identity = &office.identity;
        audit(
            &state,
            &staff,
            "oficina.modificada",
            json!({"oficina": office.code, "nombre": office.name, "institucion": identity.institution,
                   "domicilio": identity.address, "zona_horaria": identity.time_zone.map(|z| z.name()),
                   "pais": identity.country.map(Country::code)}),
        )
        .await?;
        tracing::info!(by = staff.user().id, "oficina modificada");
        Ok(format!(
            "Oficina {} actualizada: lo que emita desde ahora lo lleva.",
            office.code
        ))
    }
    .await;
    after_change(&state, &staff, &code, result).await
}

/// Gives an office its own logo, checked against its bytes.
pub async fn upload_logo(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
    staff: Staff,
    mut form: Multipart,
) -> PageResult {
    let (mut csrf, mut file) = (String::new(), None);
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            name if name == CSRF_FIELD => csrf = field.text().await.unwrap_or_default(),
            "logotipo" => match field.bytes().await {
                Ok(bytes) => file = Some(bytes.to_vec()),
                Err(_) => {
                    let text = "El logotipo no llegó completo o es demasiado grande.";
                    return Err(PageError::bad_request(&staff, text));
                }
            },
            _ => {}
        }
    }
    staff.require_csrf(&csrf)?;
    refuse(&state, &staff)?;
    let result = async {
        refuse_configured(&state, &code)?;
        let bytes = file
            .filter(|b| !b.is_empty())
            .ok_or_else(|| AccountError::Invalid("logotipo: elija la imagen".into()))?;
        let logo = Logo::parse(bytes).map_err(AccountError::Invalid)?;
        state.accounts.set_office_logo(&code, Some(&logo)).await?;
        audit(
            &state,
            &staff,
            "oficina.logotipo",
            json!({"oficina": code, "formato": logo.kind.as_str(), "bytes": logo.bytes.len()}),
        )
        .await?;
        tracing::info!(
            by = staff.user().id,
            logo_bytes = logo.bytes.len(),
            "logotipo de oficina cambiado"
        );
        Ok("Logotipo guardado.".to_owned())
    }
    .await;
    after_change(&state, &staff, &code, result).await
}

pub async fn remove_logo(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
    StaffForm { staff, .. }: StaffForm<Nothing>,
) -> PageResult {
    refuse(&state, &staff)?;
    let result = async {
        refuse_configured(&state, &code)?;
        state.accounts.set_office_logo(&code, None).await?;
        audit(
            &state,
            &staff,
            "oficina.logotipo",
            json!({"oficina": code, "formato": null}),
        )
        .await?;
        tracing::info!(by = staff.user().id, "logotipo de oficina quitado");
        Ok("Logotipo quitado: el membrete es de texto.".to_owned())
    }
    .await;
    after_change(&state, &staff, &code, result).await
}
