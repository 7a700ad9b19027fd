//! `sello expediente export`: a whole expediente as one ZIP that another
//! office or an auditor can check without Sello — every PDF, a
//! `manifest.json`, the audit events, and `SHA256SUMS` for `sha256sum -c`.

use std::io::Write as _;
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use serde_json::json;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::{Archive, ArchiveError};
use crate::public_id::PublicId;

/// What went into an export.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub documents: usize,
    pub events: usize,
    pub bytes: u64,
}

const README: &str = "Expediente exportado por Sello.

- documentos/: el PDF firmado de cada documento, con su folio como nombre.
- manifest.json: por documento, folio, formulario, estado, SHA-256,
  firmas y dirección de verificación.
- auditoria.json: los eventos de auditoría del expediente y sus documentos.
  Cada evento lleva el hash del anterior de la cadena de la oficina y su
  propio hash: SHA-256 del arreglo JSON [hash_anterior, seq, fecha, actor,
  accion, oficina, documento, expediente, detalles].
- SHA256SUMS: compruebe los archivos con «sha256sum -c SHA256SUMS».

Las firmas de los PDF se verifican con cualquier validador de firmas PDF
(por ejemplo pyHanko o pdfsig) y el certificado de la oficina.
";

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
    /// Writes expediente `id` to `out` (through a temporary file, so a
    /// failure leaves nothing half-written).
    pub async fn export_expediente(&self, id: PublicId, out: &Path) -> Result<ExportSummary, ArchiveError> {
        let expediente = self.expediente(id).await?;
        let documents = self.expediente_documents(expediente.row_id).await?;
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
            let (name, size) = match &document.current_pdf_sha256 {
                Some(sha256) => {
                    let pdf = self.pdf(document).await?;
                    let name = file_name(&document.folio);
                    zip.start_file(name.as_str(), stored).map_err(zip_error)?;
                    zip.write_all(&pdf).map_err(io)?;
                    sums.push_str(&format!("{sha256}  {name}\n"));
                    pdfs += 1;
                    (Some(name), Some(pdf.len()))
                }
                None => (None, None),
            };
            entries.push(json!({
                "archivo": name,
                "folio": document.folio,
                "formulario": document.form,
                "estado": document.status,
                "emitido": document.issued_at,
                "emitido_por": document.issued_by,
                "sha256": document.current_pdf_sha256,
                "sha256_emitido": document.pdf_sha256,
                "bytes": size,
                "paginas": document.pages,
                "verificacion": document.verification_url,
                "firmas": self.signatures(document.row_id).await?,
                "anulacion": document.annulled_at.as_ref().map(|at| json!({
                    "fecha": at,
                    "por": document.annulled_by,
                    "motivo": document.annul_reason,
                    "reemplazado_por": document.replaced_by,
                })),
            }));
        }
        let manifest = json!({
            "formato": "sello-expediente/1",
            "exportado": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            "oficina": {"clave": self.office.code, "nombre": self.office.name},
            "expediente": expediente,
            "personas": persons,
            "documentos": entries,
        });
        let manifest = serde_json::to_vec_pretty(&manifest).map_err(|e| io(e.into()))?;
        // The events exactly as sealed, the database's keys included: each
        // hash covers them, so anyone can check the chain from the export.
        let audit = serde_json::to_vec_pretty(&events).map_err(|e| io(e.into()))?;
        for (name, bytes) in [("manifest.json", &manifest), ("auditoria.json", &audit)] {
            sums.push_str(&format!("{}  {name}\n", super::sha256_hex(bytes)));
            zip.start_file(name, deflated).map_err(zip_error)?;
            zip.write_all(bytes).map_err(io)?;
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
