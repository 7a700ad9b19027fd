//! `sello bulk <form> --input <file.csv|file.xlsx>`: one signed, archived
//! document per valid row, with a progress bar; every bad row reported.
//! Long because the command also writes what a clerk takes away from a
//! run (the errors file, the listado, the merged PDF and the padrón), each
//! a few lines around the library call that makes it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::DateTime;
use chrono_tz::Tz;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::common::{
    archive_failure, boot_failure, issue_time, open_archive, runtime, terminal_actor, write_atomically,
};
use super::{Failure, find_form, load_catalog};
use crate::archive::{ArchiveError, BulkLockError};
use crate::bulk::{
    self, CheckError, Checked, Lote, MappingFile, Responsible, RowOutcome, RowProblem, RunError, RunEvent,
    RunOrder,
};
use crate::config::Config;
use crate::forms::Catalog;
use crate::issuer::Issuer;

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
    /// Columna con el identificador del expediente donde archivar cada
    /// documento (el de su página)
    #[arg(long, value_name = "COLUMNA")]
    expediente_by: Option<String>,
    /// Solo valida: no emite nada
    #[arg(long)]
    dry_run: bool,
    /// Quienes cada documento nombra para firmar en persona firmarán el
    /// papel impreso: queda registrado en cada documento, que espera el
    /// escaneo del papel firmado
    #[arg(long)]
    firmaran_en_papel: bool,
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
    /// Dónde escribir todos los documentos emitidos, en el orden de las
    /// filas, unidos en un solo PDF para imprimir
    #[arg(long, value_name = "ARCHIVO.pdf")]
    merged: Option<PathBuf>,
    /// Emite el padrón del lote (nombre, identificación y folio de cada
    /// documento emitido) y escribe su PDF aquí; más de 5.000 documentos
    /// van en tomos: ARCHIVO-tomo-1.pdf, ARCHIVO-tomo-2.pdf…
    #[arg(long, value_name = "ARCHIVO.pdf")]
    padron: Option<PathBuf>,
    /// Documentos que se generan a la vez (por defecto, uno por núcleo)
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
}

pub fn run(config: &Config, args: BulkArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    let form = Arc::new(find_form(&catalog, &args.form)?.clone());
    bulk::refuse_reviewed(&form).map_err(Failure::Usage)?;
    form.workflow
        .check_in_person(args.firmaran_en_papel || args.dry_run)
        .map_err(|e| Failure::Usage(format!("«{}» {e} (--firmaran-en-papel)", form.id)))?;
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
    let issued_at = issue_time(args.at.as_deref(), config.time_zone)?;
    let when = crate::forms::IssueDate::issued(&issued_at);
    let checked = bulk::check_sheet(
        &form,
        &sheet,
        mapping_file.as_ref(),
        args.expediente_by.as_deref(),
        when,
    )
    .map_err(|e| match e {
        CheckError::Mapping(message) => Failure::Usage(message),
        other => Failure::Usage(format!("--expediente-by: {other}")),
    })?;
    if !checked.unused_columns.is_empty() {
        eprintln!(
            "Aviso: ningún campo lee las columnas {}; si alguna debía llenar un campo, corrija su nombre o use --map.",
            checked
                .unused_columns
                .iter()
                .map(|h| format!("«{h}»"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let Checked { ready, problems, .. } = checked;
    eprintln!(
        "{}: {} fila(s); {} válida(s), {} con problemas.",
        args.input.display(),
        sheet.rows.len(),
        ready.len(),
        sheet.rows.len() - ready.len()
    );
    if args.dry_run {
        // What issuing would refuse for the archive's sake: citations and
        // the order of each row's expediente.
        let runtime = runtime()?;
        let mut problems = problems;
        let case_problems = runtime.block_on(async {
            let archive = open_archive(config).await?;
            bulk::check_cases(&archive, &form, ready, issued_at)
                .await
                .map_err(|e| Failure::Internal(e.into()))
        })?;
        problems.extend(case_problems.1);
        problems.sort_by_key(|p| p.line);
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

    let (issuer, notice) = crate::app::issuer(config).map_err(boot_failure)?;
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    let signer = args.signer.clone().unwrap_or_else(|| issuer.key().subject_name());
    let actor = terminal_actor();
    let stop = AtomicBool::new(false);
    let runtime = runtime()?;
    let outcomes = runtime.block_on(async {
        let archive = open_archive(config).await?;
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
        let order = RunOrder {
            form: form.clone(),
            rows: ready,
            responsible: Responsible {
                name: &signer,
                cargo: &args.cargo,
                actor: &actor,
            },
            issued_at,
            // Without --at, each row is dated the moment it is issued: a
            // run past midnight dates the rows after it the new day.
            clock: args.at.is_none().then(crate::bulk::system_clock),
            on_paper: args.firmaran_en_papel,
            workers: args.workers,
        };
        let events: &(dyn Fn(RunEvent<'_>) + Send + Sync) = &|event| match event {
            RunEvent::Recovered(folios) => bar.suspend(|| {
                eprintln!(
                    "Una corrida anterior se interrumpió: {} folio(s) quedaron anulados («emisión interrumpida»); sus filas se emiten ahora.",
                    folios.len()
                )
            }),
            RunEvent::Row(_) => bar.inc(1),
        };
        let work = bulk::run_lote(&issuer, archive, &config.data_dir, order, &stop, events);
        let outcomes = tokio::select! {
            outcomes = work => outcomes,
            () = interrupt => unreachable!("the second Ctrl-C exits"),
        };
        bar.finish_and_clear();
        outcomes.map_err(|error| match error {
            RunError::Lock(e @ BulkLockError::Busy) => Failure::Usage(e.to_string()),
            RunError::Lock(BulkLockError::Archive(e)) | RunError::Archive(e) => archive_failure(e),
            RunError::Renderer(e) => {
                Failure::Internal(anyhow::Error::new(e).context("no se pudo preparar el generador de PDF"))
            }
        })
    })?;

    let issued: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Issued(row) | RowOutcome::AlreadyIssued(row) => Some(row.clone()),
            RowOutcome::Failed(_) => None,
        })
        .collect();
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
    let stopped = stop.load(Ordering::Relaxed);
    for row in &issued {
        println!("{}\t{}\t{}", row.line, row.folio, row.url);
    }
    report(&all_problems, args.errors.as_ref())?;
    if let Some(path) = &args.listado {
        write_atomically(path, &bulk::issued_csv(&issued))?;
        eprintln!("Lista de lo emitido en {}.", path.display());
    }
    if stopped && (args.merged.is_some() || args.padron.is_some()) {
        eprintln!("Sin PDF unido ni padrón: el lote no está completo.");
    }
    if let Some(path) = args.merged.as_ref().filter(|_| !stopped) {
        let ids = issued.iter().map(|row| row.row_id).collect();
        runtime.block_on(write_merged(config, ids, path))?;
        eprintln!(
            "{} documento(s) unidos para imprimir en {}.",
            issued.len(),
            path.display()
        );
    }
    if let Some(path) = args.padron.as_ref().filter(|_| !stopped) {
        let file_name = args
            .input
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let lote = Lote {
            form: &form,
            file_name: &file_name,
            date: issued_at.date_naive(),
            // Dated as issued (without --at), a run may have gone on past
            // midnight.
            until: args.at.is_none().then(|| {
                chrono::Utc::now()
                    .with_timezone(&issued_at.timezone())
                    .date_naive()
            }),
            rows: &issued,
        };
        let folios = runtime.block_on(write_padron(
            config,
            &catalog,
            &issuer,
            &lote,
            (&signer, &args.cargo),
            issued_at,
            path,
        ))?;
        if folios.len() == 1 {
            eprintln!("Padrón del lote: folio {}, en {}.", folios[0], path.display());
        } else {
            eprintln!(
                "Padrón del lote en {} tomos (folios {}), en {} … {}.",
                folios.len(),
                folios.join(", "),
                tomo_path(path, 1).display(),
                tomo_path(path, folios.len()).display()
            );
        }
    }
    if stopped {
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

/// Issues the padrón of the lote (once for the same documents) and writes
/// its PDF to `path`; a padrón in tomos goes to `padron-tomo-1.pdf`,
/// `padron-tomo-2.pdf`… beside it. Returns the folios.
async fn write_padron(
    config: &Config,
    catalog: &Catalog,
    issuer: &Issuer,
    lote: &Lote<'_>,
    signer: (&str, &str),
    issued_at: DateTime<Tz>,
    path: &Path,
) -> Result<Vec<String>, Failure> {
    let padron_form = find_form(catalog, bulk::PADRON_FORM)?;
    let archive = open_archive(config).await?;
    let actor = terminal_actor();
    let responsible = Responsible {
        name: signer.0,
        cargo: signer.1,
        actor: &actor,
    };
    let tomos = bulk::issue_padron(
        issuer,
        &|_, _| {},
        &archive,
        padron_form,
        lote,
        &responsible,
        issued_at,
    )
    .await
    .map_err(|error| match error {
        ArchiveError::Refused(message) => Failure::Usage(format!("--padron: {message}")),
        other => archive_failure(other),
    })?;
    let mut folios = Vec::new();
    for (index, tomo) in tomos.iter().enumerate() {
        let pdf = archive.pdf(tomo).await.map_err(archive_failure)?;
        let target = if tomos.len() == 1 {
            path.to_owned()
        } else {
            tomo_path(path, index + 1)
        };
        write_atomically(&target, &pdf)?;
        folios.push(tomo.folio.clone());
    }
    Ok(folios)
}

/// `padron.pdf` → `padron-tomo-2.pdf`.
fn tomo_path(path: &Path, number: usize) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    path.with_file_name(format!("{stem}-tomo-{number}.pdf"))
}

/// Joins the documents into `path`, which appears only once complete.
async fn write_merged(config: &Config, ids: Vec<i64>, path: &Path) -> Result<(), Failure> {
    use futures::StreamExt as _;
    use std::io::Write as _;
    let archive = open_archive(config).await?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let failed = |e: std::io::Error| Failure::Usage(format!("--merged {}: {e}", path.display()));
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    let mut out = std::io::BufWriter::new(temp);
    let mut chunks = std::pin::pin!(bulk::merged_pdf(archive, ids));
    while let Some(chunk) = chunks.next().await {
        out.write_all(&chunk.map_err(failed)?).map_err(failed)?;
    }
    let temp = out.into_inner().map_err(|e| failed(e.into_error()))?;
    temp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
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
