//! `sello expediente show <id>` and `sello expediente export <id> --out <file.zip>`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Failure;
use super::common::{archive_failure, open_archive, runtime, terminal_actor};
use crate::config::Config;
use crate::public_id::PublicId;

#[derive(Debug, Args)]
pub struct ExpedienteArgs {
    #[command(subcommand)]
    command: ExpedienteCommand,
}

#[derive(Debug, Subcommand)]
enum ExpedienteCommand {
    /// Muestra un expediente: sus documentos y personas
    Show {
        /// Identificador del expediente (el de su página)
        id: PublicId,
    },
    /// Cierra un expediente: conserva todo, pero no recibe documentos nuevos
    Close {
        /// Identificador del expediente (el de su página)
        id: PublicId,
        /// Fecha de cierre (por defecto, hoy)
        #[arg(long, value_name = "FECHA")]
        on: Option<String>,
    },
    /// Exporta un expediente a un ZIP verificable sin Sello
    Export {
        /// Identificador del expediente (el de su página)
        id: PublicId,
        /// Archivo ZIP a escribir
        #[arg(long, value_name = "ARCHIVO")]
        out: PathBuf,
    },
}

pub fn run(config: &Config, args: ExpedienteArgs) -> Result<(), Failure> {
    let runtime = runtime()?;
    match args.command {
        ExpedienteCommand::Show { id } => runtime.block_on(async {
            let archive = open_archive(config).await?;
            let expediente = archive.expediente(id).await.map_err(archive_failure)?;
            let documents = archive
                .expediente_documents(expediente.row_id)
                .await
                .map_err(archive_failure)?;
            let persons = archive
                .expediente_persons(expediente.row_id)
                .await
                .map_err(archive_failure)?;
            println!(
                "Expediente {} ({}) «{}», abierto el {}{}; conservación: {}.",
                expediente.id,
                expediente.kind,
                expediente.title,
                expediente.opened_on,
                expediente
                    .closed_on
                    .map(|c| format!(", cerrado el {c}"))
                    .unwrap_or_default(),
                expediente.retention
            );
            for person in &persons {
                println!("persona\t{}\t{}", person.identity, person.name);
            }
            for document in &documents {
                println!(
                    "documento\t{}\t{}\t{}\t{}",
                    document.folio, document.issued_at, document.form, document.status
                );
            }
            Ok(())
        }),
        ExpedienteCommand::Close { id, on } => {
            let on = match on {
                Some(text) => chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                    Failure::Usage(format!("--on: «{text}» no es una fecha; escriba 2026-01-31"))
                })?,
                None => chrono::Utc::now().with_timezone(&config.time_zone).date_naive(),
            };
            let closed = runtime.block_on(async {
                let archive = open_archive(config).await?;
                archive
                    .close_expediente(id, on, &terminal_actor())
                    .await
                    .map_err(archive_failure)
            })?;
            eprintln!("Expediente {} «{}» cerrado el {on}.", closed.id, closed.title);
            Ok(())
        }
        ExpedienteCommand::Export { id, out } => {
            let summary = runtime.block_on(async {
                let archive = open_archive(config).await?;
                // Without the office's certificates (keys not set up here), the export still goes.
                let certificates = crate::keys::trusted_keys(config)
                    .map(|trusted| trusted.certificates_pem())
                    .unwrap_or_default();
                (archive
                    .export_expediente_with(id, &out, &certificates, &terminal_actor())
                    .await)
                    .map_err(archive_failure)
            })?;
            eprintln!(
                "Expediente {id} exportado en {}: {} documento(s), {} evento(s) de auditoría, {} bytes.",
                out.display(),
                summary.documents,
                summary.events,
                summary.bytes
            );
            Ok(())
        }
    }
}
