//! The audit trail as a person reads it: one Spanish sentence per event,
//! who by their full name, when in the office's time zone. The event's
//! code and JSON stay in the archive (they are what the hash chain seals);
//! here they are only translated.

use std::collections::HashMap;

use maud::{Markup, html};
use serde_json::Value;

use crate::archive::AuditEvent;
use crate::web::page::short_moment;

/// Full names of the office's accounts, by username; an actor that is
/// not an account (`sistema`, a deleted user) is shown as recorded.
pub struct Names(HashMap<String, String>);

impl Names {
    pub fn new(users: impl IntoIterator<Item = (String, String)>) -> Self {
        Names(users.into_iter().collect())
    }

    pub fn of<'a>(&'a self, username: &'a str) -> &'a str {
        self.0.get(username).map_or(username, String::as_str)
    }
}

/// The events, oldest first, as a table of sentences.
pub fn timeline(events: &[AuditEvent], names: &Names, zone: chrono_tz::Tz) -> Markup {
    html! {
        @if events.is_empty() { p { "Sin movimientos." } } @else {
            div.tabla-desplazable {
                table.historial {
                    thead { tr { th scope="col" { "Fecha" } th scope="col" { "Quién" } th scope="col" { "Qué pasó" } } }
                    tbody {
                        @for event in events {
                            tr {
                                td { (short_moment(&event.at, zone)) }
                                td { (names.of(&event.actor)) }
                                td { (sentence(&event.action, &event.details)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What an event says, in a sentence.
pub fn sentence(action: &str, details: &str) -> String {
    let details: Value = serde_json::from_str(details).unwrap_or(Value::Null);
    let text = |key: &str| details.get(key).and_then(Value::as_str).filter(|t| !t.is_empty());
    let folio = text("folio").unwrap_or("sin folio");
    let reason = |sentence: String| match text("motivo") {
        Some(reason) => format!("{sentence}. Motivo: «{reason}»."),
        None => format!("{sentence}."),
    };
    match action {
        "documento.emitido" => format!("Emitió el documento {folio}."),
        "documento.anulado" => reason(format!("Anuló el documento {folio}")),
        "documento.reemplazado" => reason(format!(
            "El documento {folio} quedó reemplazado por {}",
            text("reemplazado_por").unwrap_or("otro documento")
        )),
        "documento.en_correccion" => format!("Empezó la corrección del documento {folio}."),
        "documento.extendido" => {
            format!(
                "Se añadió al documento {folio} evidencia para verificarlo a largo plazo ({})",
                text("extension").unwrap_or("extensión")
            ) + "."
        }
        "folio.anulado" => reason(format!("El folio {folio} quedó anulado sin documento")),
        "expediente.abierto" => format!(
            "Abrió el expediente «{}».",
            text("titulo").or(text("clave")).unwrap_or("sin título")
        ),
        "expediente.cerrado" => "Cerró el expediente.".to_owned(),
        "borrador.enviado" => format!(
            "Envió el borrador al paso «{}».",
            text("siguiente").unwrap_or("siguiente")
        ),
        "borrador.modificado" => {
            let fields: Vec<String> = (details.get("campos").and_then(Value::as_array))
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|n| format!("«{n}»"))
                        .collect()
                })
                .unwrap_or_default();
            if fields.is_empty() {
                "Modificó el borrador.".to_owned()
            } else {
                format!("Modificó en el borrador: {}.", fields.join(", "))
            }
        }
        "borrador.visado" => reason("Dio su visto bueno al borrador".to_owned()),
        "borrador.rechazado" => reason("Rechazó el borrador y lo devolvió para corregir".to_owned()),
        "borrador.firmas_presenciales" => "Recabó las firmas en persona.".to_owned(),
        "borrador.firmado" => match text("documento") {
            Some(folio) => format!("Firmó; se emitió el documento {folio}."),
            None => "Firmó el borrador.".to_owned(),
        },
        "lote.enviado" => format!(
            "Preparó un lote de {} documento(s) y lo envió a aprobación.",
            details.get("filas").and_then(Value::as_u64).unwrap_or(0)
        ),
        "lote.aprobado" => "Aprobó un lote; sus documentos se emiten con su firma.".to_owned(),
        "lote.devuelto" => reason("Devolvió un lote sin emitirlo".to_owned()),
        "usuario.creado" => "Creó una cuenta.".to_owned(),
        "usuario.modificado" => "Modificó una cuenta.".to_owned(),
        "usuario.contrasena_restablecida" => "Restableció la contraseña de una cuenta.".to_owned(),
        "oficina.lotes_preparadores" => match details.get("permitido").and_then(Value::as_bool) {
            Some(true) => "Permitió que quienes preparan documentos suban lotes para aprobación.".to_owned(),
            _ => "Dejó la emisión por lotes solo a quien firma.".to_owned(),
        },
        "clave.rotada" => "Cambió la clave de firma de la oficina.".to_owned(),
        "webhook.creado" => "Creó una suscripción de webhook.".to_owned(),
        "webhook.eliminado" => "Eliminó una suscripción de webhook.".to_owned(),
        "webhook.reenviado" => "Pidió reenviar una entrega de webhook.".to_owned(),
        other => format!("Evento «{other}»."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_sentences_without_codes_or_json() {
        assert_eq!(
            sentence(
                "borrador.rechazado",
                r#"{"paso":"aprobacion","siguiente":"cotizacion","motivo":"Falta la cotización"}"#
            ),
            "Rechazó el borrador y lo devolvió para corregir. Motivo: «Falta la cotización»."
        );
        assert_eq!(
            sentence(
                "documento.emitido",
                r#"{"folio":"DIF/OF/2026/0001","formulario":"x"}"#
            ),
            "Emitió el documento DIF/OF/2026/0001."
        );
        assert_eq!(
            sentence("borrador.visado", r#"{"paso":"a","siguiente":"b","motivo":null}"#),
            "Dio su visto bueno al borrador."
        );
        assert!(!sentence("documento.anulado", "no es JSON").contains('{'));
        assert_eq!(
            sentence(
                "borrador.modificado",
                r#"{"campos":["Monto autorizado","Proveedor"]}"#
            ),
            "Modificó en el borrador: «Monto autorizado», «Proveedor»."
        );
    }

    #[test]
    fn actors_read_by_their_full_names() {
        let names = Names::new([("ana".to_owned(), "Ana Pérez Soto".to_owned())]);
        assert_eq!(names.of("ana"), "Ana Pérez Soto");
        assert_eq!(names.of("sistema"), "sistema");
    }
}
