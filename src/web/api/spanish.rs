//! The OpenAPI document speaks Spanish, as the rest of Sello: each
//! operation's summary and description are set here, by operation id, over
//! what the handlers' doc comments (English, for contributors) would give.
//! Kept in one table, beside the handlers rather than in their attributes,
//! so one test sees that no operation is left without its Spanish text.
//! Operations not listed set theirs in their `#[utoipa::path]`; ids are
//! unique (a test says so), so the table never gives one operation
//! another's text.

use utoipa::openapi::OpenApi;
use utoipa::openapi::path::Operation;

/// Operation id → (summary, description).
const OPERATIONS: &[(&str, &str, &str)] = &[
    (
        "list_forms",
        "Lista los formularios",
        "Cada formulario que la oficina puede emitir: su identificador, familia y título.",
    ),
    (
        "form_schema",
        "Los campos de un formulario",
        "Los campos de un formulario, sus tipos, cuáles son obligatorios y sus reglas: para armar una pantalla de captura o revisar datos antes de emitir.",
    ),
    (
        "issue_document",
        "Emite y firma un documento",
        "Valida los datos contra el formulario, toma el folio, genera el PDF y lo firma. Con `Idempotency-Key`, un reintento con los mismos datos devuelve el mismo documento (200) en vez de uno nuevo.",
    ),
    (
        "get_document",
        "Un documento de la oficina",
        "Por su identificador o su folio: su estado, datos, firmas, firmas a mano y los documentos que cita y que lo citan.",
    ),
    (
        "attach_hand_signature",
        "Agrega una firma a mano a un documento vigente",
        "El escaneo del documento impreso firmado en papel, o un acuse posterior (un recibo, una renovación mensual), escaneado o dibujado en pantalla.",
    ),
    (
        "get_hand_signature",
        "La imagen o el escaneo de una firma a mano",
        "El archivo tal como se guardó, con su tipo.",
    ),
    (
        "get_pdf",
        "El PDF firmado",
        "Exactamente como se emitió, o con los sellos de tiempo y datos de validación que se le agregaron después (que empiezan byte a byte con el emitido).",
    ),
    (
        "annul_document",
        "Anula un documento vigente",
        "Queda en el archivo, marcado y con el motivo (que no se publica); o marcado como reemplazado por otro documento vigente.",
    ),
    (
        "create_draft",
        "Empieza un borrador",
        "En el primer paso del trámite de su formulario.",
    ),
    (
        "correct_document",
        "Empieza la corrección de un documento vigente",
        "Un borrador con sus datos que, emitido por su trámite, lo reemplaza (su página de verificación lleva entonces al nuevo). Pedido otra vez, devuelve el mismo borrador.",
    ),
    (
        "get_draft",
        "Un borrador de la oficina",
        "Con su trámite, sus pasos y su historial.",
    ),
    (
        "update_draft",
        "Cambia los datos de un borrador",
        "Solo mientras está en su primer paso.",
    ),
    (
        "take_step",
        "Da un paso del trámite de un borrador",
        "`send` lo envía (si los datos son válidos), `approve` da el visado, `reject` lo devuelve con `reason`, `finish` cierra las firmas a mano (todas dibujadas, o `on_paper`) y `sign` firma; la última firma emite el documento.",
    ),
    (
        "draw_signature",
        "Guarda la firma dibujada de una persona",
        "De una de las personas que el paso presencial del borrador pide firmar; se imprime en su bloque de firma al emitirse. Dibujarla otra vez reemplaza la anterior.",
    ),
    (
        "inbox",
        "La bandeja de quien llama",
        "Los borradores que esperan su paso (por su rol) y los propios aún en elaboración (nuevos o devueltos con un motivo).",
    ),
    (
        "get_expediente",
        "Un expediente de la oficina",
        "Con sus personas y sus documentos.",
    ),
    (
        "search",
        "Busca en el archivo de la oficina",
        "Por palabras (sin distinguir acentos ni mayúsculas; la última puede ser un prefijo) o un folio, con filtros de formulario, serie, estado, fechas, expediente y persona, página por página.",
    ),
    (
        "padron",
        "Emite el padrón de beneficiarios de un programa",
        "Con los documentos vigentes que otorgan su servicio en el periodo, firmado por quien llama: una versión nueva, que reemplaza la anterior, solo si el archivo cambió desde entonces (201); si no, la versión vigente (200).",
    ),
    (
        "semanal",
        "Emite el reporte semanal de oficios",
        "Los oficios emitidos de lunes a domingo (los anulados, marcados), firmado por quien llama; una versión nueva solo si desde entonces se emitió o anuló un oficio de la semana.",
    ),
    (
        "actividades",
        "Cuenta las sesiones y la asistencia de un periodo",
        "Lo que registran las listas de asistencia vigentes del periodo, cada sesión con su folio.",
    ),
    (
        "borrador",
        "Empieza el informe final o el reporte de actividades con los conteos",
        "Un borrador con los conteos del periodo tomados de las listas de asistencia, cada uno citando sus folios; el promotor escribe el resto y lo envía.",
    ),
    (
        "seguimientos",
        "Lo que los documentos vigentes aún deben",
        "Un acuse de entrega, una constancia de asistencia, una renovación mensual: vencidos o que vencen en los días pedidos, los más atrasados primero.",
    ),
    (
        "verify",
        "Lo que la página pública dice de un código de verificación",
        "No necesita token; un código desconocido y uno mal escrito reciben el mismo 404.",
    ),
];

/// Sets the Spanish summary and description of every operation listed.
pub struct SpanishOperations;

impl utoipa::Modify for SpanishOperations {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.clone().unwrap_or_default();
                if let Some((_, summary, description)) = OPERATIONS.iter().find(|(op, ..)| *op == id) {
                    operation.summary = Some((*summary).to_owned());
                    operation.description = Some((*description).to_owned());
                }
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    use super::*;

    #[test]
    fn every_operation_id_is_unique() {
        let mut document = super::super::ApiDoc::openapi();
        let mut seen = std::collections::HashSet::new();
        for item in document.paths.paths.values_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.clone().unwrap_or_default();
                assert!(seen.insert(id.clone()), "two operations are named «{id}»");
            }
        }
    }

    #[test]
    fn every_operation_has_a_spanish_summary_and_description() {
        let mut document = super::super::ApiDoc::openapi();
        for item in document.paths.paths.values_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.clone().unwrap_or_default();
                let summary = operation.summary.clone().unwrap_or_default();
                let description = operation.description.clone().unwrap_or_default();
                assert!(
                    !summary.is_empty() && !description.is_empty(),
                    "{id} has no Spanish text"
                );
                // The English doc comments start with an English word.
                for english in [
                    "The ",
                    "A ",
                    "An ",
                    "Every ",
                    "Issues ",
                    "Starts ",
                    "Changes ",
                    "Searches ",
                ] {
                    assert!(
                        !summary.starts_with(english) && !description.starts_with(english),
                        "{id} is still in English: {summary} / {description}"
                    );
                }
            }
        }
    }
}
