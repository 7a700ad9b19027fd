//! `sello archive search | audit-verify | fsck | timestamp | renew`:
//! finding documents, checking the archive, and extending the evidence of
//! what it holds (`cli/evidence.rs`).

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::Failure;
use super::common::{archive_failure, open_archive, runtime};
use crate::archive::{SearchQuery, Status};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    #[command(subcommand)]
    command: ArchiveCommand,
}

#[derive(Debug, Subcommand)]
enum ArchiveCommand {
    /// Busca documentos por texto (sin distinguir acentos ni mayúsculas) y filtros
    Search(SearchArgs),
    /// Comprueba la cadena de eventos de auditoría, de principio a fin
    AuditVerify {
        /// Imprime el resultado en JSON
        #[arg(long)]
        json: bool,
    },
    /// Comprueba cada archivo guardado (PDF, firmas dibujadas, escaneos) contra su hash y busca huérfanos
    Fsck {
        /// Mueve a la cuarentena los archivos que ninguna fila usa (nunca los borra)
        #[arg(long)]
        repair: bool,
        /// Imprime el resultado en JSON
        #[arg(long)]
        json: bool,
    },
    /// Agrega el sello de tiempo a los documentos emitidos cuando ninguna TSA respondió
    Timestamp(super::evidence::TimestampArgs),
    /// Agrega un sello de tiempo de archivo a los documentos cuya evidencia vence pronto
    Renew(super::evidence::RenewArgs),
}

#[derive(Debug, Args)]
struct SearchArgs {
    /// Palabras a buscar: nombres, folios, valores de los campos
    #[arg(default_value = "")]
    query: String,
    /// Solo este formulario, como «oficio-comision»
    #[arg(long, value_name = "ID")]
    form: Option<String>,
    /// Solo esta serie: OF, CA, AC, LI, PA, PL, FI o IN
    #[arg(long, value_name = "SERIE")]
    series: Option<String>,
    /// Solo documentos en este estado: emitido, anulado o reemplazado
    #[arg(long, value_name = "ESTADO")]
    status: Option<String>,
    /// Emitidos desde esta fecha (2026-01-31)
    #[arg(long, value_name = "FECHA")]
    from: Option<String>,
    /// Emitidos hasta esta fecha, inclusive
    #[arg(long, value_name = "FECHA")]
    to: Option<String>,
    /// Solo los de este expediente (su identificador)
    #[arg(long, value_name = "ID")]
    expediente: Option<crate::public_id::PublicId>,
    /// Solo los que nombran a esta persona (CURP, RUN o cédula)
    #[arg(long, value_name = "IDENTIFICACIÓN")]
    person: Option<String>,
    /// Página de resultados, desde 1
    #[arg(long, default_value_t = 1)]
    page: u32,
    /// Resultados por página (hasta 100)
    #[arg(long, default_value_t = 20)]
    per_page: u32,
    /// Imprime el resultado en JSON
    #[arg(long)]
    json: bool,
}

pub fn run(config: &Config, args: ArchiveArgs) -> Result<(), Failure> {
    let runtime = runtime()?;
    match args.command {
        ArchiveCommand::Search(args) => search(config, &runtime, args),
        ArchiveCommand::Timestamp(args) => super::evidence::timestamp(config, &runtime, args),
        ArchiveCommand::Renew(args) => super::evidence::renew(config, &runtime, args),
        ArchiveCommand::AuditVerify { json } => {
            let report = runtime.block_on(async {
                open_archive(config)
                    .await?
                    .verify_audit()
                    .await
                    .map_err(archive_failure)
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            }
            match report.broken {
                None => {
                    eprintln!(
                        "Cadena de auditoría íntegra: {} evento(s); último hash {}.",
                        report.events, report.last_hash
                    );
                    Ok(())
                }
                Some(broken) => Err(Failure::Broken(format!(
                    "la cadena de auditoría está rota en el evento {}: {}",
                    broken.seq, broken.problem
                ))),
            }
        }
        ArchiveCommand::Fsck { repair, json } => {
            let report = runtime.block_on(async {
                open_archive(config)
                    .await?
                    .fsck(repair)
                    .await
                    .map_err(archive_failure)
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            }
            eprintln!(
                "Base de datos: {}. {} archivo(s) revisados ({} PDF de documentos, el resto firmas dibujadas y escaneos); {} archivo(s) en el almacén.",
                report.database, report.blobs_checked, report.documents_checked, report.blobs_in_store
            );
            for folio in &report.interrupted {
                eprintln!("folio {folio}: su emisión se interrumpió; quedó registrado como anulado");
            }
            if report.search_indexed > 0 {
                eprintln!(
                    "{} documento(s) emitido(s) por lotes quedaron indexados para la búsqueda.",
                    report.search_indexed
                );
            }
            for problem in &report.problems {
                let owner = match problem.folio.as_str() {
                    "" => String::new(),
                    folio => format!("folio {folio}: "),
                };
                eprintln!("{owner}{} ({})", problem.problem, problem.sha256);
            }
            for sha256 in &report.restored {
                eprintln!("Se devolvió desde la cuarentena al almacén, porque una fila lo usa: {sha256}");
            }
            for orphan in &report.orphans {
                eprintln!("Archivo huérfano (ninguna fila lo usa): {orphan}");
            }
            if report.orphans_quarantined > 0 {
                eprintln!(
                    "Se movieron {} archivo(s) huérfano(s) a la cuarentena, {}: no se borró nada; revíselos antes de eliminarlos a mano.",
                    report.orphans_quarantined, report.quarantine
                );
            } else if repair && !report.orphans.is_empty() {
                eprintln!(
                    "Hay emisiones en curso o firmas a mano guardándose: no se movió ningún huérfano; repita en un momento."
                );
            } else if !report.orphans.is_empty() {
                eprintln!(
                    "«fsck --repair» los mueve a la cuarentena, {}, sin borrarlos.",
                    report.quarantine
                );
            }
            if let Some(broken) = &report.audit.broken {
                eprintln!("auditoría: evento {}: {}", broken.seq, broken.problem);
            }
            if report.is_clean() {
                eprintln!("El archivo está íntegro.");
                Ok(())
            } else {
                Err(Failure::Broken(format!(
                    "el archivo tiene daños: {} archivo(s) que una fila usa faltan o están dañados (vea arriba)",
                    report.problems.len()
                )))
            }
        }
    }
}

fn search(config: &Config, runtime: &tokio::runtime::Runtime, args: SearchArgs) -> Result<(), Failure> {
    let date = |flag: &str, text: &Option<String>| -> Result<Option<NaiveDate>, Failure> {
        text.as_deref()
            .map(|t| {
                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map_err(|_| Failure::Usage(format!("{flag}: «{t}» no es una fecha; escriba 2026-01-31")))
            })
            .transpose()
    };
    let status = match args.status.as_deref() {
        None => None,
        Some(text) => Some(Status::parse_listed(text).ok_or_else(|| {
            Failure::Usage(format!(
                "--status: «{text}» no es un estado; use emitido, anulado o reemplazado"
            ))
        })?),
    };
    let query = SearchQuery {
        text: args.query.clone(),
        form: args.form.clone(),
        series: args.series.as_deref().map(str::to_ascii_uppercase),
        status,
        from: date("--from", &args.from)?,
        to: date("--to", &args.to)?,
        expediente: args.expediente,
        person: args.person.clone(),
        page: args.page,
        per_page: args.per_page,
    };
    let results = runtime.block_on(async {
        open_archive(config)
            .await?
            .search(&query)
            .await
            .map_err(archive_failure)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results).unwrap_or_default());
        return Ok(());
    }
    if results.total_exact {
        eprintln!(
            "{} documento(s); página {} de {}{}.",
            results.total,
            results.page,
            (results.total as u64)
                .div_ceil(u64::from(results.per_page))
                .max(1),
            if results.ranked { ", por relevancia" } else { "" }
        );
    } else {
        eprintln!(
            "Más de {} documentos, del más reciente al más antiguo; página {}. Agregue palabras o filtros para acotar.",
            results.total - 1,
            results.page
        );
    }
    for hit in &results.hits {
        println!(
            "{}\t{}\t{}\t{}\texpediente {} «{}»",
            hit.folio, hit.issued_on, hit.form, hit.status, hit.expediente_id, hit.expediente_title
        );
    }
    Ok(())
}
