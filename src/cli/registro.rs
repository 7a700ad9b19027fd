//! `sello registro padron|semanal|actividades`: the registers and reports
//! Sello builds from the archive (see `registros`). The padrón and the
//! weekly report are issued like any document and, asked again after the
//! archive changed, issued as a new version that replaces the one before;
//! `actividades` prints the counts of the listas de asistencia of a period.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde_json::json;

use super::common::{archive_failure, boot_failure, open_archive, runtime, terminal_actor, write_atomically};
use super::{Failure, load_catalog};
use crate::config::Config;
use crate::registros::{self, Issuing, Version};

#[derive(Debug, Args)]
pub struct RegistroArgs {
    #[command(subcommand)]
    command: RegistroCommand,
}

#[derive(Debug, Subcommand)]
enum RegistroCommand {
    /// Emite el padrón de beneficiarios de un programa con los documentos vigentes que otorgan su servicio en un periodo
    Padron(PadronArgs),
    /// Emite el reporte semanal de los oficios emitidos en una semana (de lunes a domingo)
    Semanal(SemanalArgs),
    /// Cuenta las sesiones y la asistencia de las listas de asistencia vigentes de un periodo
    Actividades(ActividadesArgs),
}

/// Who issues a register from the terminal: no account signs, so the
/// person named signs the printed paper by hand.
#[derive(Debug, Args)]
struct Emisor {
    /// Nombre de quien emite el registro (firma a mano el papel impreso)
    #[arg(long, value_name = "NOMBRE")]
    nombre: String,
    /// Su cargo
    #[arg(long, value_name = "CARGO")]
    cargo: String,
    /// Dónde escribir también el PDF (un tomo por archivo si son varios)
    #[arg(long, value_name = "ARCHIVO")]
    out: Option<PathBuf>,
    /// Imprime el resultado en JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct PadronArgs {
    /// Nombre del programa o servicio, como «Ayudas funcionales 2026»
    #[arg(long, value_name = "NOMBRE")]
    programa: String,
    /// Formulario cuyos documentos otorgan el servicio (se repite); por defecto, todos los que declaran [padron]
    #[arg(long = "formulario", value_name = "ID")]
    formularios: Vec<String>,
    /// Primer día del periodo (2026-01-01)
    #[arg(long, value_name = "FECHA")]
    desde: String,
    /// Último día del periodo (2026-12-31)
    #[arg(long, value_name = "FECHA")]
    hasta: String,
    /// Localidad o municipio que encabeza el padrón (con otra, es otro padrón)
    #[arg(long, value_name = "TEXTO")]
    localidad: Option<String>,
    #[command(flatten)]
    emisor: Emisor,
}

#[derive(Debug, Args)]
struct SemanalArgs {
    /// Un día de la semana que se reporta (2026-11-16)
    #[arg(long, value_name = "FECHA")]
    semana: String,
    /// Formulario de oficio que se reporta (se repite); por defecto, todos los oficios
    #[arg(long = "formulario", value_name = "ID")]
    formularios: Vec<String>,
    /// Área que emite los oficios, como «Recepción»
    #[arg(long, value_name = "TEXTO")]
    area: Option<String>,
    #[command(flatten)]
    emisor: Emisor,
}

#[derive(Debug, Args)]
struct ActividadesArgs {
    /// Primer día del periodo
    #[arg(long, value_name = "FECHA")]
    desde: String,
    /// Último día del periodo
    #[arg(long, value_name = "FECHA")]
    hasta: String,
    /// Imprime el resultado en JSON
    #[arg(long)]
    json: bool,
}

pub fn run(config: &Config, args: RegistroArgs) -> Result<(), Failure> {
    match args.command {
        RegistroCommand::Padron(args) => padron(config, args),
        RegistroCommand::Semanal(args) => semanal(config, args),
        RegistroCommand::Actividades(args) => actividades(config, args),
    }
}

fn day(flag: &str, text: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Failure::Usage(format!("--{flag}: «{text}» no es una fecha; escriba 2026-11-22")))
}

fn padron(config: &Config, args: PadronArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    let from = day("desde", &args.desde)?;
    let to = day("hasta", &args.hasta)?;
    let forms = registros::padron::granting_forms(&catalog, &args.formularios).map_err(archive_failure)?;
    let request = registros::padron::PadronRequest {
        programa: &args.programa,
        localidad: args.localidad.as_deref(),
        forms,
        from,
        to,
    };
    let emisor = &args.emisor;
    let (issuer, actor) = terminal_issuer(config)?;
    let (version, rows, pdfs) = runtime()?.block_on(async {
        let archive = open_archive(config).await?;
        let issuing = terminal_issuing(&issuer, &archive, emisor, &actor);
        let (version, rows) = registros::padron::issue(&issuing, &catalog, &request)
            .await
            .map_err(archive_failure)?;
        let pdfs = pdfs_of(&archive, &version).await?;
        Ok::<_, Failure>((version, rows, pdfs))
    })?;
    report(emisor, &version, &pdfs, json!({"beneficiarios": rows}))
}

fn semanal(config: &Config, args: SemanalArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    let request = registros::semanal::WeekRequest {
        day: day("semana", &args.semana)?,
        forms: registros::semanal::oficio_forms(&catalog, &args.formularios).map_err(archive_failure)?,
        area: args.area.as_deref(),
    };
    let emisor = &args.emisor;
    let (issuer, actor) = terminal_issuer(config)?;
    let (version, listed, pdfs) = runtime()?.block_on(async {
        let archive = open_archive(config).await?;
        let issuing = terminal_issuing(&issuer, &archive, emisor, &actor);
        let (version, listed) = registros::semanal::issue(&issuing, &catalog, &request)
            .await
            .map_err(archive_failure)?;
        let pdfs = pdfs_of(&archive, &version).await?;
        Ok::<_, Failure>((version, listed, pdfs))
    })?;
    let folios: Vec<&str> = listed.iter().map(|l| l.folio.as_str()).collect();
    report(emisor, &version, &pdfs, json!({"oficios": folios}))
}

/// The office's issuer, with its first-run notice shown, and who acts.
fn terminal_issuer(config: &Config) -> Result<(crate::issuer::Issuer, String), Failure> {
    let (issuer, notice) = crate::app::issuer(config).map_err(boot_failure)?;
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    Ok((issuer, terminal_actor()))
}

/// From the terminal no account signs: the office's key seals the register
/// and the person named signs its paper by hand.
fn terminal_issuing<'a>(
    issuer: &'a crate::issuer::Issuer,
    archive: &'a crate::archive::Archive,
    emisor: &'a Emisor,
    actor: &'a str,
) -> Issuing<'a> {
    Issuing {
        issuer,
        archive,
        name: &emisor.nombre,
        cargo: &emisor.cargo,
        actor,
        signs: false,
        at: issuer.now_in(archive.office()),
    }
}

async fn pdfs_of(archive: &crate::archive::Archive, version: &Version) -> Result<Vec<Vec<u8>>, Failure> {
    let mut pdfs = Vec::with_capacity(version.tomos.len());
    for tomo in &version.tomos {
        pdfs.push(archive.pdf(tomo).await.map_err(archive_failure)?);
    }
    Ok(pdfs)
}

/// Tells what was issued, writes the PDFs if asked, prints the folios.
fn report(
    emisor: &Emisor,
    version: &Version,
    pdfs: &[Vec<u8>],
    extra: serde_json::Value,
) -> Result<(), Failure> {
    let folios: Vec<&str> = version.tomos.iter().map(|t| t.folio.as_str()).collect();
    if let Some(out) = &emisor.out {
        for (index, pdf) in pdfs.iter().enumerate() {
            let target = if pdfs.len() == 1 {
                out.clone()
            } else {
                let stem = out.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
                out.with_file_name(format!("{stem}-tomo-{}.pdf", index + 1))
            };
            write_atomically(&target, pdf)?;
        }
    }
    match (version.new, version.replaced.is_empty()) {
        (false, _) => eprintln!(
            "El archivo no cambió desde la versión {} ({}): no se emitió otra.",
            version.number,
            folios.join(", ")
        ),
        (true, true) => eprintln!("Emitida la versión {} ({}).", version.number, folios.join(", ")),
        (true, false) => eprintln!(
            "Emitida la versión {} ({}); reemplaza a {}, que sigue en el archivo marcada como reemplazada.",
            version.number,
            folios.join(", "),
            version.replaced.join(", ")
        ),
    }
    if emisor.json {
        let mut answer = json!({
            "version": version.number,
            "nueva": version.new,
            "folios": folios,
            "reemplaza": version.replaced,
        });
        if let (Some(answer), Some(extra)) = (answer.as_object_mut(), extra.as_object()) {
            answer.extend(extra.clone());
        }
        println!("{answer}");
    } else {
        for folio in folios {
            println!("{folio}");
        }
    }
    Ok(())
}

fn actividades(config: &Config, args: ActividadesArgs) -> Result<(), Failure> {
    let from = day("desde", &args.desde)?;
    let to = day("hasta", &args.hasta)?;
    let counts = runtime()?.block_on(async {
        let archive = open_archive(config).await?;
        registros::actividades::count(&archive, from, to, None)
            .await
            .map_err(archive_failure)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&counts).unwrap_or_default());
    } else {
        println!(
            "Del {} al {}: {} sesión(es), {} asistencia(s), {} persona(s) distinta(s).",
            counts.desde,
            counts.hasta,
            counts.sesiones.len(),
            counts.asistencias,
            counts.personas
        );
        for session in &counts.sesiones {
            println!(
                "{}\t{}\t{}\t{}",
                session.folio, session.fecha, session.asistentes, session.motivo
            );
        }
    }
    Ok(())
}
