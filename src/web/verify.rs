//! `/v/<code>`: the public verification page. It says whether the document
//! is authentic and current, annulled or replaced, with its type, folio,
//! date, office, signer and SHA-256, and never anything about the people
//! in it. A malformed code and an unknown one get the same answer.

use std::sync::Arc;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::AppState;
use super::page::{layout, long_date, timestamp_text};
use crate::archive::{PublicView, Status, sha256_hex};
use crate::code::{Mistyped, VerificationCode};
use crate::pdf::verify_pdf;

/// The largest PDF one may upload to compare; issued documents are far
/// smaller, padrones included.
pub const UPLOAD_MAX: usize = 30 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub struct Lookup {
    codigo: Option<String>,
}

/// `/v`: a box to type the code printed under the QR.
pub async fn lookup(Query(lookup): Query<Lookup>) -> Response {
    match lookup.codigo.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        // Well-formed or not, every code takes the same path: a redirect,
        // then the page's own answer.
        Some(code) => match VerificationCode::parse(code) {
            Ok(code) => Redirect::to(&format!("/v/{}", code.display())).into_response(),
            Err(_) => {
                // Keep the check symbols (`*~$=`): without them a code
                // mistyped elsewhere would read as one character short.
                let typed: String = code
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '*' | '~' | '$' | '='))
                    .take(64)
                    .collect();
                Redirect::to(&format!("/v/{typed}")).into_response()
            }
        },
        None => layout("Verificar un documento", form()).into_response(),
    }
}

/// The document a code in the address names, or the answer to give instead.
async fn find(state: &AppState, code: &str) -> Result<(VerificationCode, PublicView), Response> {
    let code = match VerificationCode::read(code) {
        Ok(code) => code,
        Err(mistake) => {
            state.metrics.lookup("no_encontrado");
            return Err(mistyped(mistake));
        }
    };
    match state.public_view_of(Some(&code)).await {
        Ok(Some(view)) => Ok((code, view)),
        Ok(None) => Err(not_found()),
        Err(_) => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            layout(
                "Verificación no disponible",
                html! {
                    h1 { "Verificación de documentos" }
                    p { "El servicio no está disponible en este momento. Intente de nuevo en unos minutos." }
                },
            ),
        )
            .into_response()),
    }
}

/// `/v/<code>`.
pub async fn page(State(state): State<Arc<AppState>>, Path(code): Path<String>) -> Response {
    match find(&state, &code).await {
        Ok((code, view)) => {
            let place = log_place(&state, &code).await;
            document_page(&state, &code, &view, place, None).into_response()
        }
        Err(answer) => answer,
    }
}

fn form() -> Markup {
    html! {
        h1 { "Verificación de documentos" }
        p { "Escriba el código de verificación impreso al pie del documento, junto al código QR, tras «Código de verificación»." }
        form method="get" action="/v" {
            input name="codigo" value="" autocomplete="off" autocapitalize="characters"
                placeholder="XXXX-XXXX-…" aria-label="Código de verificación";
            button { "Verificar" }
        }
    }
}

fn not_found() -> Response {
    let body = html! {
        div.estado.no-encontrado {
            strong { "No encontrado" }
            "No hay ningún documento emitido con ese código."
        }
        p {
            "Revise que el código esté bien escrito. Si lo copió de un papel y no aparece, ese papel \
             no es un documento emitido por esta oficina."
        }
        (form())
    };
    (StatusCode::NOT_FOUND, layout("Documento no encontrado", body)).into_response()
}

/// A code that cannot be one: a typing mistake, not a forgery. Says so,
/// and how to read the code from the paper.
fn mistyped(mistake: Mistyped) -> Response {
    let what = match mistake {
        Mistyped::Length(n) if n < VerificationCode::LENGTH => format!(
            "Le faltan caracteres: tiene {n} letras y números y un código tiene {}.",
            VerificationCode::LENGTH
        ),
        Mistyped::Length(n) => format!(
            "Le sobran caracteres: tiene {n} letras y números y un código tiene {}.",
            VerificationCode::LENGTH
        ),
        Mistyped::Symbol => "Tiene un carácter que ningún código usa.".to_owned(),
        Mistyped::CheckCharacter => "Un carácter no coincide con el último, que sirve de control: \
             probablemente se leyó mal una letra o un número, o dos quedaron al revés."
            .to_owned(),
    };
    let body = html! {
        div.estado.no-encontrado {
            strong { "Código mal escrito" }
            "El código tiene un error de escritura. " (what)
        }
        section {
            h2 { "Cómo leer el código del papel" }
            ul {
                li { "Está al pie de cada página, a la izquierda del código QR, tras «Código de verificación»: 27 letras y números en grupos de cuatro, separados por guiones." }
                li { "Puede escribirlo en minúsculas y sin guiones." }
                li { "El 0 (cero) y la O, y el 1 (uno), la I y la L, valen lo mismo. La U no se usa." }
                li { "Compare grupo por grupo: es fácil confundir 5 y S, 8 y B, 2 y Z." }
            }
            p { "Si lo puede escanear, el código QR no tiene errores de escritura." }
        }
        (form())
    };
    (StatusCode::NOT_FOUND, layout("Código mal escrito", body)).into_response()
}

/// `POST /v/<code>` with a PDF: is it byte for byte the issued original,
/// and do its signatures verify? The file is checked and forgotten.
pub async fn compare(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
    mut form: Multipart,
) -> Response {
    let (code, view) = match find(&state, &code).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let mut upload = None;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("pdf") {
            upload = field.bytes().await.ok();
            break;
        }
    }
    let verdict = match upload.filter(|bytes| !bytes.is_empty()) {
        None => html! { p.aviso { "Elija el archivo PDF que quiere comparar." } },
        // Checking signatures of a large upload is CPU work: off the async workers.
        Some(bytes) => {
            let (state, view) = (state.clone(), view.clone());
            tokio::task::spawn_blocking(move || comparison(&state, &view, &bytes))
                .await
                .unwrap_or_else(|_| html! { p.aviso { "No se pudo revisar el archivo." } })
        }
    };
    let place = log_place(&state, &code).await;
    document_page(&state, &code, &view, place, Some(verdict)).into_response()
}

fn comparison(state: &AppState, view: &PublicView, bytes: &[u8]) -> Markup {
    let sha256 = sha256_hex(bytes);
    let identical = view.pdf_sha256.as_deref() == Some(sha256.as_str());
    // The PDF as served now: the issued one with time-stamps added later.
    let extended = !identical && view.current_pdf_sha256.as_deref() == Some(sha256.as_str());
    let signatures = match verify_pdf(bytes, &state.trusted()) {
        Ok(report) if report.is_valid() => html! {
            p { "Sus " (report.signatures.len()) " firma(s) digital(es) son válidas." }
        },
        Ok(report) if report.signatures.is_empty() => html! { p { "El archivo no tiene firmas digitales." } },
        Ok(report) => html! {
            p { "Sus firmas digitales " strong { "no" } " son válidas:" }
            ul {
                @for signature in &report.signatures {
                    @if let Some(problem) = &signature.problem {
                        li { (signature.field) ": " (problem) }
                    }
                }
                @if let Some(modification) = &report.modification {
                    li { (modification) }
                }
            }
        },
        Err(_) => html! { p { "El archivo no es un PDF que se pueda leer." } },
    };
    html! {
        section.comparacion {
            h2 { "Comparación del archivo" }
            @if identical {
                p { strong { "El archivo es idéntico, byte por byte, al original emitido." } }
            } @else if extended {
                p { strong { "El archivo es el original emitido, byte por byte, con sellos de tiempo y datos de validación agregados después." } }
            } @else {
                p { strong { "El archivo no es idéntico al original emitido" } ": fue modificado o es otro documento." }
            }
            (signatures)
        }
    }
}

/// Where the document's issuance is in the transparency log: its entry and
/// the size of the log now. A log that cannot be read shows nothing.
async fn log_place(state: &AppState, code: &VerificationCode) -> Option<(u64, u64)> {
    let index = state
        .archive
        .log_index_of(
            &crate::archive::hex(&code.hash()),
            crate::archive::LogEvent::Emision,
        )
        .await
        .ok()??;
    let size = state.archive.log_size().await.ok()?;
    Some((index, size))
}

fn document_page(
    state: &AppState,
    code: &VerificationCode,
    view: &PublicView,
    log_place: Option<(u64, u64)>,
    verdict: Option<Markup>,
) -> Markup {
    let own_zone = view.office_time_zone.as_deref().and_then(|z| z.parse().ok());
    let zone = state.issuer.time_zone_for(&view.office_code, own_zone);
    let title = state
        .catalog
        .get(&view.form)
        .map_or_else(|| view.form.clone(), |form| form.title.clone());
    let annulled_on = long_date(view.annulled_at.as_deref().unwrap_or_default(), zone);
    let status = match view.status {
        Status::Emitido => html! {
            div.estado.valido { strong { "Válido" } "Este documento es auténtico y está vigente." }
        },
        Status::Reemplazado => html! {
            div.estado.reemplazado {
                strong { "Reemplazado" }
                "Este documento fue sustituido por otro el " (annulled_on) "."
                @if let Some(url) = &view.replacement_url {
                    " " a href=(url) style="color:#fff" { "Ver el documento vigente" } "."
                }
            }
        },
        _ => html! {
            div.estado.anulado {
                strong { "Anulado" }
                "Este documento fue anulado el " (annulled_on) " y no tiene validez."
            }
        },
    };
    let mut details = vec![
        ("Documento", title),
        ("Folio", view.folio.clone()),
        ("Fecha de emisión", long_date(&view.issued_at, zone)),
        ("Oficina que lo emitió", view.office_name.clone()),
    ];
    if let Some(signer) = &view.signer {
        let cargo = view
            .cargo
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| format!(", {c}"))
            .unwrap_or_default();
        // The office's key seals the document; the person issued it with
        // that seal and holds no key of their own.
        details.push(("Emitido por", format!("{signer}{cargo}")));
        details.push((
            "Firma electrónica",
            "Sello electrónico de la oficina que lo emitió".to_owned(),
        ));
    }
    if let Some(category) = view
        .annul_category
        .as_deref()
        .and_then(crate::archive::AnnulCategory::parse)
        .filter(|_| !view.status.is_current())
    {
        details.push(("Motivo", category.label().to_owned()));
    }
    if let Some(folio) = view
        .replacement_folio
        .as_ref()
        .filter(|_| view.status == Status::Reemplazado)
    {
        details.push(("Lo reemplaza el folio", folio.clone()));
    }
    if let Some(at) = &view.timestamp_at {
        let tsa = view.timestamp_tsa.as_deref().unwrap_or_default();
        details.push(("Sello de tiempo de la firma", timestamp_text(at, tsa, zone)));
    }
    if let Some(sha256) = &view.pdf_sha256 {
        details.push(("Huella SHA-256 del PDF original", sha256.clone()));
    }
    if let Some(current) = view
        .current_pdf_sha256
        .as_ref()
        .filter(|c| Some(*c) != view.pdf_sha256.as_ref())
    {
        details.push((
            "Huella SHA-256 del PDF con sellos de tiempo agregados",
            current.clone(),
        ));
    }
    layout(
        &format!("{} — verificación", view.folio),
        html! {
            h1 { "Verificación de documentos" }
            (status)
            dl { @for (term, value) in &details { dt { (term) } dd { (value) } } }
            @if let Some((index, size)) = log_place {
                // Plain words for the person holding the paper; the
                // figures are for an auditor who checks the log.
                p.registro {
                    "Su emisión está anotada en el registro público de la oficina, que no se puede borrar ni cambiar sin que se note."
                }
                details.registro {
                    summary { "Datos para auditoría" }
                    p {
                        "Registrado en el registro público: entrada " (index) ", punto de control de tamaño " (size) ". "
                        a href={ "/v/" (code.display()) "/prueba" } { "Descargar la prueba de inclusión" }
                        " (se verifica sin red con «sello verify --proof»)."
                    }
                }
            }
            @if let Some(verdict) = verdict { (verdict) }
            form method="post" enctype="multipart/form-data" action={ "/v/" (code.display()) } {
                label {
                    "¿Tiene el PDF? Compárelo con el original: "
                    input type="file" name="pdf" accept="application/pdf";
                }
                button { "Comparar" }
            }
            p { small { "Los datos personales del documento no se muestran aquí. Compare este folio y esta fecha con los de su papel." } }
        },
    )
}
