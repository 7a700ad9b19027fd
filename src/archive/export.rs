//! `sello expediente export`: a whole expediente as one ZIP that another
//! office or an auditor can check without Sello — every PDF, a
//! `manifest.json`, the audit events, and `SHA256SUMS` for `sha256sum -c`.

use std::io::Write as _;
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use serde_json::json;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::documents::DocumentRecord;
use super::referrals::ReferralRecord;
use super::{Archive, ArchiveError};
use crate::public_id::PublicId;
use crate::render::Mark;

/// What went into an export.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub documents: usize,
    pub events: usize,
    pub bytes: u64,
}

const README: &str = "Expediente exportado por Sello.

- documentos/: el PDF firmado de cada documento, con su folio como nombre,
  tal como se emitió. De un documento anulado hay además una copia marcada
  «ANULADO» (FOLIO-ANULADO.pdf), y de uno reemplazado una marcada
  «REEMPLAZADO» con el folio que lo reemplaza (FOLIO-REEMPLAZADO.pdf), sin
  firma, para imprimir o leer; la que se verifica es la original.
- manifest.json: por documento, folio, formulario, estado, SHA-256,
  firmas y dirección de verificación. Un folio anulado antes de emitirse
  (emisión fallida) no tiene «emitido»: «folio_reservado» dice cuándo y
  por quién se reservó.
- documentos/otras-oficinas/: las contrarreferencias con que otra oficina
  respondió las derivaciones del expediente, tal como las emitió esa
  oficina: son suyas, no de este expediente, y se incluyen para consulta.
  manifest.json las lista aparte («respuestas_de_otras_oficinas»), con la
  oficina que las emitió y la derivación que responden.
- manifest.json, «personas»: las personas del caso que nombran sus
  documentos (no el personal de la oficina que los redacta o firma).
- auditoria.json: los eventos de auditoría del expediente y sus documentos.
  Cada evento lleva el hash del anterior de la cadena de la oficina y su
  propio hash: SHA-256 del arreglo JSON [hash_anterior, seq, fecha, actor,
  accion, oficina, documento, expediente, detalles].
- SHA256SUMS: compruebe los archivos con «sha256sum -c SHA256SUMS».

- certificado.pem (cuando lo exporta el servicio o «sello expediente
  export»): el certificado raíz de la oficina y los de sus claves de firma.

Las firmas de los PDF se verifican sin red con el certificado de la
oficina (certificado.pem), con el programa de Sello o con pyHanko:
  sello verify --cert certificado.pem documentos/ARCHIVO.pdf
  pyhanko sign validate --trust certificado.pem documentos/ARCHIVO.pdf
(pdfsig, de poppler, no sabe comprobar las firmas Ed25519 que Sello usa
por defecto.) certificado.pem viaja en este mismo ZIP: por sí solo no
prueba que sea de la oficina. Compare el identificador de su clave raíz
(«Certificada por la raíz» en sello verify) con el que la oficina publica. Una firma válida dice qué sello lo firmó (el titular que
nombra el certificado: la oficina) y que no cambió; quién lo emitió lo
dicen «emitido_por» y «firmas» de manifest.json, no la clave. Si sigue
vigente o fue anulado lo dice manifest.json («estado») y, en línea, su
dirección de verificación.
";

impl Archive {
    /// The contrarreferencias another office issued answering a derivación
    /// of expediente `id` (whatever became of them since), with the
    /// derivación they answer and the office that issued them.
    async fn answers_from_other_offices(
        &self,
        id: i64,
    ) -> Result<Vec<(ReferralRecord, DocumentRecord, String)>, ArchiveError> {
        let mut answers = Vec::new();
        for referral in self.expediente_referrals(id).await? {
            let Some((answer_id, _)) = referral.answer() else {
                continue;
            };
            if referral.from_office != self.office.code {
                continue;
            }
            let answer = self
                .referral_documents(&referral)
                .await?
                .into_iter()
                .find(|(d, office)| d.id == answer_id && *office != self.office.code);
            if let Some((answer, office_code)) = answer {
                answers.push((referral, answer, office_code));
            }
        }
        Ok(answers)
    }
}

/// The marked copy of the PDF of a document no longer in force
/// («ANULADO», or «REEMPLAZADO» by a folio), made off the async workers
/// (Typst lays out every page).
async fn marked_copy(pdf: Vec<u8>, pages: Option<i64>, mark: Mark) -> Result<Vec<u8>, ArchiveError> {
    let pages = pages.and_then(|p| usize::try_from(p).ok()).unwrap_or(1);
    tokio::task::spawn_blocking(move || crate::render::stamp_copy(&pdf, pages, &mark))
        .await
        .map_err(|e| ArchiveError::Refused(format!("no se pudo marcar la copia anulada: {e}")))?
        .map_err(|e| ArchiveError::Refused(format!("no se pudo marcar la copia anulada: {e}")))
}

/// Every moment in `value` written one way, UTC to the second
/// (`2026-12-01T20:05:17Z`): the archive keeps moments as each part wrote
/// them (`-06:00`, microseconds), which a reader of the manifest should
/// not have to reconcile. Days (`2026-12-01`) and other text stay as they are.
fn utc_moments(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => match chrono::DateTime::parse_from_rfc3339(&text) {
            Ok(moment) => Value::String(
                moment
                    .with_timezone(&Utc)
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
            ),
            Err(_) => Value::String(text),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(utc_moments).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, value)| (key, utc_moments(value)))
                .collect(),
        ),
        other => other,
    }
}

/// A folio as a file name: `DIF-SLP/OF/2026/0142` → `DIF-SLP_OF_2026_0142.pdf`.
pub fn pdf_file_name(folio: &str) -> String {
    let safe: String = folio
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.pdf")
}

/// Where a document's PDF goes in an export.
fn file_name(folio: &str) -> String {
    format!("documentos/{}", pdf_file_name(folio))
}

impl Archive {
    /// Writes expediente `id` to `out` for `actor` (through a temporary
    /// file, so a failure leaves nothing half-written).
    pub async fn export_expediente(
        &self,
        id: PublicId,
        out: &Path,
        actor: &str,
    ) -> Result<ExportSummary, ArchiveError> {
        self.export_expediente_with(id, out, "", actor).await
    }

    /// As [`Self::export_expediente`], with `certificates_pem` (the office's
    /// root and key certificates, `TrustedKeys::certificates_pem`) as
    /// `certificado.pem`, so the signatures verify without Sello.
    pub async fn export_expediente_with(
        &self,
        id: PublicId,
        out: &Path,
        certificates_pem: &str,
        actor: &str,
    ) -> Result<ExportSummary, ArchiveError> {
        let expediente = self.expediente(id).await?;
        let documents = self.expediente_documents(expediente.row_id).await?;
        let answers = self.answers_from_other_offices(expediente.row_id).await?;
        let persons = self.expediente_persons(expediente.row_id).await?;
        let events = self.expediente_events(expediente.row_id).await?;
        // Failing to write the ZIP is about the path the user chose.
        let io =
            |e: std::io::Error| ArchiveError::Refused(format!("no se pudo escribir {}: {e}", out.display()));
        let zip_error = |e: zip::result::ZipError| {
            ArchiveError::Refused(format!("no se pudo escribir {}: {e}", out.display()))
        };

        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        let mut zip = zip::ZipWriter::new(temp);
        // PDFs are compressed already; text is worth compressing.
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);

        let mut sums = String::new();
        let mut entries = Vec::new();
        let mut pdfs = 0;
        for document in &documents {
            // A folio whose issuance failed has no PDF: it is listed, annulled.
            // The PDF as served now; its issued bytes are its beginning.
            let mut marked = None;
            let (name, size) = match &document.current_pdf_sha256 {
                Some(sha256) => {
                    let pdf = self.pdf(document).await?;
                    let name = file_name(&document.folio);
                    zip.start_file(name.as_str(), stored).map_err(zip_error)?;
                    zip.write_all(&pdf).map_err(io)?;
                    sums.push_str(&format!("{sha256}  {name}\n"));
                    pdfs += 1;
                    let size = pdf.len();
                    if document.status != "emitido" {
                        let mark = match &document.replaced_by_folio {
                            Some(by) if document.status == "reemplazado" => Mark::Replaced { by: by.clone() },
                            _ => Mark::Annulled,
                        };
                        let copy_name = name.replace(".pdf", &format!("-{}.pdf", mark.word()));
                        let copy = marked_copy(pdf, document.pages, mark).await?;
                        zip.start_file(copy_name.as_str(), stored).map_err(zip_error)?;
                        zip.write_all(&copy).map_err(io)?;
                        sums.push_str(&format!("{}  {copy_name}\n", super::sha256_hex(&copy)));
                        marked = Some(copy_name);
                    }
                    (Some(name), Some(size))
                }
                None => (None, None),
            };
            // A folio annulled before its document was issued (no PDF was
            // ever signed) was reserved, never issued: the manifest says so.
            let issued = document.pdf_sha256.is_some();
            entries.push(json!({
                "archivo": name,
                "folio": document.folio,
                "formulario": document.form,
                "estado": document.status,
                "emitido": issued.then_some(&document.issued_at),
                "emitido_por": issued.then_some(&document.issued_by),
                "folio_reservado": (!issued).then(|| json!({
                    "fecha": document.issued_at,
                    "por": document.issued_by,
                })),
                "sha256": document.current_pdf_sha256,
                "sha256_emitido": document.pdf_sha256,
                "bytes": size,
                "paginas": document.pages,
                "verificacion": document.verification_url,
                "firmas": self.signatures(document.row_id).await?,
                "anulacion": document.annulled_at.as_ref().map(|at| json!({
                    "copia_marcada": marked,
                    "fecha": at,
                    "por": document.annulled_by,
                    "motivo": document.annul_reason,
                    "reemplazado_por": document.replaced_by,
                })),
            }));
        }
        // The contrarreferencias that answered the expediente's
        // derivaciones: another office's documents, as its history shows
        // them, apart, and their export recorded as a view of them.
        let mut answer_entries = Vec::new();
        for (referral, answer, office_code) in &answers {
            let pdf = self.pdf(answer).await?;
            let name = format!("documentos/otras-oficinas/{}", pdf_file_name(&answer.folio));
            zip.start_file(name.as_str(), stored).map_err(zip_error)?;
            zip.write_all(&pdf).map_err(io)?;
            sums.push_str(&format!("{}  {name}\n", super::sha256_hex(&pdf)));
            answer_entries.push(json!({
                "archivo": name,
                "folio": answer.folio,
                "formulario": answer.form,
                "estado": answer.status,
                "emitido": answer.issued_at,
                "emitido_por_otra_oficina": office_code,
                "responde_a_la_derivacion": referral.folio,
                "solo_lectura": true,
                "sha256": super::sha256_hex(&pdf),
                "sha256_emitido": answer.pdf_sha256,
                "verificacion": answer.verification_url,
            }));
            self.record_referral_views(
                referral,
                &[(answer.clone(), office_code.clone())],
                actor,
                "exportacion",
            )
            .await?;
        }
        let manifest = json!({
            "formato": "sello-expediente/1",
            "exportado": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            "oficina": {"clave": self.office.code, "nombre": self.office.name},
            "expediente": expediente,
            "personas": persons,
            "documentos": entries,
            "respuestas_de_otras_oficinas": answer_entries,
        });
        let manifest = serde_json::to_vec_pretty(&utc_moments(manifest)).map_err(|e| io(e.into()))?;
        // The events exactly as sealed, the database's keys included: each
        // hash covers them, so anyone can check the chain from the export.
        let audit = serde_json::to_vec_pretty(&events).map_err(|e| io(e.into()))?;
        for (name, bytes) in [("manifest.json", &manifest), ("auditoria.json", &audit)] {
            sums.push_str(&format!("{}  {name}\n", super::sha256_hex(bytes)));
            zip.start_file(name, deflated).map_err(zip_error)?;
            zip.write_all(bytes).map_err(io)?;
        }
        if !certificates_pem.is_empty() {
            let name = "certificado.pem";
            sums.push_str(&format!(
                "{}  {name}\n",
                super::sha256_hex(certificates_pem.as_bytes())
            ));
            zip.start_file(name, deflated).map_err(zip_error)?;
            zip.write_all(certificates_pem.as_bytes()).map_err(io)?;
        }
        for (name, text) in [("SHA256SUMS", sums.as_str()), ("LEEME.txt", README)] {
            zip.start_file(name, deflated).map_err(zip_error)?;
            zip.write_all(text.as_bytes()).map_err(io)?;
        }
        let temp = zip.finish().map_err(zip_error)?;
        temp.as_file().sync_all().map_err(io)?;
        let bytes = temp.as_file().metadata().map_err(io)?.len();
        temp.persist(out).map_err(|e| io(e.error))?;
        Ok(ExportSummary {
            documents: pdfs,
            events: events.len(),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::utc_moments;
    use serde_json::json;

    #[test]
    fn the_manifest_writes_every_moment_one_way() {
        let manifest = utc_moments(json!({
            "emitido": "2026-12-01T14:05:17-06:00",
            "firmas": [{"fecha": "2026-12-01T20:05:17.550372Z"}],
            "abierto": "2026-12-01",
            "folio": "DIF/OF/2026/0001",
        }));
        assert_eq!(
            manifest,
            json!({
                "emitido": "2026-12-01T20:05:17Z",
                "firmas": [{"fecha": "2026-12-01T20:05:17Z"}],
                "abierto": "2026-12-01",
                "folio": "DIF/OF/2026/0001",
            })
        );
    }
}
