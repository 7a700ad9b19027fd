//! `sello issue <form> --data <file.json> [--out <file.pdf>]`: an official,
//! signed document, filed in the archive with its folio, verification code
//! and QR.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::common::{
    DocumentArgs, archive_failure, boot_failure, checked_data, issue_time, open_archive, runtime,
    terminal_actor, write_atomically,
};
use super::{Failure, find_form, load_catalog};
use crate::archive::{ArchiveError, IssueOrder, Issued};
use crate::config::Config;
use crate::forms::IssueDate;
use crate::signed_pdf::IssueError;

#[derive(Debug, Args)]
pub struct IssueArgs {
    #[command(flatten)]
    document: DocumentArgs,
    /// Dónde escribir también el PDF (siempre queda en el archivo)
    #[arg(long, value_name = "ARCHIVO")]
    out: Option<PathBuf>,
    /// Nombre de quien firma (por defecto, la oficina)
    #[arg(long, value_name = "NOMBRE")]
    signer: Option<String>,
    /// Cargo de quien firma
    #[arg(long, value_name = "CARGO", default_value = "Sello electrónico de la oficina")]
    cargo: String,
    /// Identificador del expediente donde archivarlo (el de su página);
    /// por defecto, el de la familia o persona de los datos
    #[arg(long, value_name = "ID")]
    expediente: Option<crate::public_id::PublicId>,
    /// Clave para reintentar sin duplicar: la misma clave con los mismos
    /// datos devuelve el mismo documento
    #[arg(long, value_name = "CLAVE")]
    idempotency_key: Option<String>,
    /// Quienes el documento nombra para firmar en persona (el
    /// representante, los asistentes) firmarán el papel impreso: queda
    /// registrado, y el documento espera el escaneo del papel firmado
    #[arg(long)]
    firmaran_en_papel: bool,
    /// Imprime el resultado en JSON
    #[arg(long)]
    json: bool,
}

pub fn run(config: &Config, args: IssueArgs) -> Result<(), Failure> {
    let document = &args.document;
    let catalog = load_catalog(config)?;
    let form = find_form(&catalog, &document.form)?;
    crate::bulk::refuse_reviewed(form).map_err(Failure::Usage)?;
    form.workflow
        .check_in_person(args.firmaran_en_papel)
        .map_err(|e| Failure::Usage(format!("«{}» {e} (--firmaran-en-papel)", form.id)))?;
    // Validate before touching keys, so bad data never creates a key.
    let issued_at = issue_time(document.at.as_deref(), config.time_zone)?;
    let data = checked_data(form, &document.data, IssueDate::issued(&issued_at))?;
    if let Some(key) = args.idempotency_key.as_deref()
        && (key.trim().is_empty() || key.len() > 200)
    {
        return Err(Failure::Usage(
            "--idempotency-key: la clave debe tener de 1 a 200 caracteres".into(),
        ));
    }
    let (issuer, notice) = crate::app::issuer(config).map_err(boot_failure)?;
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    let signer = args.signer.clone().unwrap_or_else(|| issuer.key().subject_name());
    let actor = terminal_actor();
    let order = IssueOrder {
        form,
        data: &data,
        issued_at,
        actor: &actor,
        expediente_id: args.expediente,
        idempotency_key: args.idempotency_key.as_deref(),
        draft: None,
        // No account signs from the terminal: the office's key seals it.
        endorsements: Vec::new(),
        on_paper: if args.firmaran_en_papel {
            crate::forms::paper_signers(form, &data)
        } else {
            Vec::new()
        },
    };

    let runtime = runtime()?;
    let (issued, pdf) = runtime.block_on(async {
        let archive = open_archive(config).await?;
        let issued = issuer
            .issue(&archive, &order, (&signer, &args.cargo))
            .await
            .map_err(|e| match e {
                ArchiveError::Issue(IssueError::Invalid(problems)) => Failure::InvalidData {
                    form: form.id.to_string(),
                    problems,
                },
                other => archive_failure(other),
            })?;
        let pdf = match &issued {
            Issued::New { document, .. } => document.pdf.clone(),
            Issued::Existing(record) => archive.pdf(record).await.map_err(archive_failure)?,
        };
        Ok::<_, Failure>((issued, pdf))
    })?;

    if let Some(out) = &args.out {
        write_atomically(out, &pdf)?;
    }
    let record = issued.record();
    let url = record.verification_url.clone().unwrap_or_default();
    let code = url.rsplit('/').next().unwrap_or_default().to_owned();
    match &issued {
        Issued::New { document, .. } => eprintln!(
            "«{}» emitido y firmado con folio {} en el expediente «{}» ({}; {} página(s); clave {}; QR versión {}).",
            form.title,
            record.folio,
            record.expediente_title,
            record.expediente_id,
            document.pages,
            // The key the archive recorded: a rotation may have come
            // between starting and signing.
            document.signature.key_id,
            document.qr_version
        ),
        Issued::Existing(_) => eprintln!(
            "La clave de idempotencia ya se usó con estos datos: es el documento {} del {}, hoy {}; no se emitió otro.",
            record.folio, record.issued_at, record.status
        ),
    }
    if let Some(out) = &args.out {
        eprintln!("PDF escrito en {}.", out.display());
    }
    if args.json {
        let report = json!({
            "id": record.id,
            "folio": record.folio,
            "codigo": code,
            "verificacion": url,
            "expediente": record.expediente_id,
            "estado": record.status,
            "pdf_sha256": record.pdf_sha256,
            "nuevo": matches!(issued, Issued::New { .. }),
        });
        println!("{report:#}");
    } else {
        println!("{code}");
    }
    Ok(())
}
