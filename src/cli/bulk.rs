//! `sello bulk <form> --input <file.csv|file.xlsx>`: one signed, archived
//! document per valid row, with a progress bar; every bad row reported.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::common::{archive_failure, issue_time, open_archive, runtime, terminal_actor, write_atomically};
use super::{Failure, find_form, load_catalog};
use crate::archive::BulkLockError;
use crate::bulk::{self, BulkIssuer, KEY_PREFIX, Mapping, MappingFile, RowOutcome, RowProblem};
use crate::config::Config;
use crate::keys::office_key;
use crate::render::Renderer;

#[derive(Debug, Args)]
pub struct BulkArgs {
    /// Formulario de cada documento, como «carta-compromiso»
    form: String,
    /// Planilla con una fila por documento: .csv (UTF-8 o Latin-1) o .xlsx
    #[arg(long, value_name = "ARCHIVO")]
    input: PathBuf,
    /// Qué columna llena cada campo ([columnas] campo = "Columna"); por
    /// defecto, la columna con el nombre o la etiqueta del campo
    #[arg(long, value_name = "MAPEO.toml")]
    map: Option<PathBuf>,
    /// Columna con el número de expediente donde archivar cada documento
    #[arg(long, value_name = "COLUMNA")]
    expediente_by: Option<String>,
    /// Solo valida: no emite nada
    #[arg(long)]
    dry_run: bool,
    /// Dónde escribir las filas con problemas (CSV para corregir y reenviar)
    #[arg(long, value_name = "ARCHIVO.csv")]
    errors: Option<PathBuf>,
    /// Fecha de emisión (AAAA-MM-DD); por defecto, ahora
    #[arg(long, value_name = "FECHA")]
    at: Option<String>,
    /// Nombre de quien firma (por defecto, la oficina)
    #[arg(long, value_name = "NOMBRE")]
    signer: Option<String>,
    /// Cargo de quien firma
    #[arg(long, value_name = "CARGO", default_value = "Sello electrónico de la oficina")]
    cargo: String,
    /// Dónde escribir la lista de lo emitido (línea, folio, enlace de verificación)
    #[arg(long, value_name = "ARCHIVO.csv")]
    listado: Option<PathBuf>,
    /// Documentos que se generan a la vez (por defecto, uno por núcleo)
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
}

pub fn run(config: &Config, args: BulkArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    let form = Arc::new(find_form(&catalog, &args.form)?.clone());
    let sheet = bulk::read_sheet(&args.input).map_err(|e| Failure::Usage(e.to_string()))?;
    let mapping_file = match &args.map {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("--map {}: {e}", path.display())))?;
            Some(
                toml::from_str::<MappingFile>(&text)
                    .map_err(|e| Failure::Usage(format!("--map {}: {}", path.display(), e.message())))?,
            )
        }
        None => None,
    };
    let mapping = Mapping::new(&form, &sheet.headers, mapping_file.as_ref()).map_err(Failure::Usage)?;
    let unused = mapping.unused_headers();
    if !unused.is_empty() {
        eprintln!(
            "Aviso: ningún campo lee las columnas {}; si alguna debía llenar un campo, corrija su nombre o use --map.",
            unused
                .iter()
                .map(|h| format!("«{h}»"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let expediente_column = match &args.expediente_by {
        Some(name) => Some(
            sheet
                .headers
                .iter()
                .position(|h| h.trim() == name.trim())
                .ok_or_else(|| Failure::Usage(format!("--expediente-by: no hay una columna «{name}»")))?,
        ),
        None => None,
    };
    let (ready, problems) = bulk::prepare(&form, &sheet, &mapping, expediente_column);
    eprintln!(
        "{}: {} fila(s); {} válida(s), {} con problemas.",
        args.input.display(),
        sheet.rows.len(),
        ready.len(),
        sheet.rows.len() - ready.len()
    );
    if args.dry_run {
        report(&problems, args.errors.as_ref())?;
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(Failure::Usage(format!(
                "{} problema(s); no se emitió nada (--dry-run)",
                problems.len()
            )))
        };
    }

    let (key, notice) = office_key(config).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    let issued_at = issue_time(args.at.as_deref(), config.time_zone)?;
    let renderer = Arc::new(Renderer::new(config).context("no se pudo preparar el generador de PDF")?);
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let signer = args.signer.clone().unwrap_or_else(|| key.subject_name());
    let stop = AtomicBool::new(false);
    let outcomes = runtime()?.block_on(async {
        let archive = open_archive(config).await?;
        // One bulk run at a time per office: then every bulk reservation
        // left unfinished is the remains of a killed run, to be recorded now.
        let _lock = archive.lock_bulk(&config.data_dir).await.map_err(|e| match e {
            BulkLockError::Busy => Failure::Usage(e.to_string()),
            BulkLockError::Archive(error) => archive_failure(error),
        })?;
        let interrupted = archive
            .recover_interrupted_keyed(KEY_PREFIX, std::time::Duration::ZERO)
            .await
            .map_err(archive_failure)?;
        if !interrupted.is_empty() {
            eprintln!(
                "Una corrida anterior se interrumpió: {} folio(s) quedaron anulados («emisión interrumpida»); sus filas se emiten ahora.",
                interrupted.len()
            );
        }
        let issuer = BulkIssuer {
            archive,
            renderer,
            key: Arc::new(key),
            base_url: config.base_url.clone(),
            signer,
            cargo: args.cargo.clone(),
            actor: terminal_actor(),
            issued_at,
            workers,
        };
        let bar = ProgressBar::new(ready.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} documentos · {per_sec} · faltan {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let interrupt = async {
            let _ = tokio::signal::ctrl_c().await;
            stop.store(true, Ordering::Relaxed);
            eprintln!(
                "\nDeteniendo: se terminan los documentos en curso (Ctrl-C otra vez para salir ya); vuelva a correr la misma orden para seguir."
            );
            let _ = tokio::signal::ctrl_c().await;
            // What is left reserved is recorded by the next run.
            std::process::exit(130);
        };
        let count = |_: &RowOutcome| bar.inc(1);
        let work = issuer.issue_rows(form.clone(), ready, &stop, &count);
        let outcomes = tokio::select! {
            outcomes = work => outcomes,
            () = interrupt => unreachable!("the second Ctrl-C exits"),
        };
        bar.finish_and_clear();
        Ok::<_, Failure>(outcomes)
    })?;

    let mut all_problems = problems;
    let (mut new, mut before) = (0, 0);
    for outcome in &outcomes {
        match outcome {
            RowOutcome::Issued(_) => new += 1,
            RowOutcome::AlreadyIssued(_) => before += 1,
            RowOutcome::Failed(problem) => all_problems.push(problem.clone()),
        }
    }
    all_problems.sort_by_key(|p| p.line);
    eprintln!("{new} documento(s) emitido(s); {before} ya estaban emitidos de una corrida anterior.");
    if stop.load(Ordering::Relaxed) {
        return Err(Failure::Usage(
            "interrumpido: vuelva a correr la misma orden para emitir el resto".into(),
        ));
    }
    for outcome in &outcomes {
        if let RowOutcome::Issued(row) | RowOutcome::AlreadyIssued(row) = outcome {
            println!("{}\t{}\t{}", row.line, row.folio, row.url);
        }
    }
    report(&all_problems, args.errors.as_ref())?;
    if let Some(path) = &args.listado {
        let rows: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                RowOutcome::Issued(row) | RowOutcome::AlreadyIssued(row) => Some(row.clone()),
                RowOutcome::Failed(_) => None,
            })
            .collect();
        write_atomically(path, &bulk::issued_csv(&rows))?;
        eprintln!("Lista de lo emitido en {}.", path.display());
    }
    if stop.load(Ordering::Relaxed) {
        return Err(Failure::Interrupted(
            "interrumpido: vuelva a correr la misma orden para emitir el resto".into(),
        ));
    }
    if all_problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "{} problema(s): esas filas no se emitieron; corríjalas y vuelva a correr la orden",
            all_problems.len()
        )))
    }
}

/// Lists the problems on stderr and, if asked, writes them as CSV.
fn report(problems: &[RowProblem], errors: Option<&PathBuf>) -> Result<(), Failure> {
    for problem in problems.iter().take(50) {
        if problem.column.is_empty() {
            eprintln!("línea {}: {}", problem.line, problem.message);
        } else {
            eprintln!(
                "línea {}, columna «{}»: {}",
                problem.line, problem.column, problem.message
            );
        }
    }
    if problems.len() > 50 {
        eprintln!("… y {} más.", problems.len() - 50);
    }
    if let Some(path) = errors {
        write_atomically(path, &bulk::problems_csv(problems))?;
        eprintln!("Problemas escritos en {}.", path.display());
    }
    Ok(())
}
