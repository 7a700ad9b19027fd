//! `sello render <id> --data <file.json|-> --out <file.pdf>`: a draft PDF.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use clap::Args;

use super::{Failure, find_form, load_catalog};
use crate::config::Config;
use crate::forms::validate;
use crate::render::{DocumentContext, Renderer};

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Identificador del formulario, como «oficio-comision»
    form: String,
    /// Archivo JSON con los datos del documento, o «-» para leerlos de la entrada
    #[arg(long, value_name = "ARCHIVO")]
    data: String,
    /// Dónde escribir el PDF
    #[arg(long, value_name = "ARCHIVO")]
    out: PathBuf,
    /// Fecha (y hora) de emisión, como 2026-11-22 o 2026-11-22T10:30:00-06:00;
    /// por defecto, ahora. La misma fecha y los mismos datos dan el mismo PDF.
    #[arg(long, value_name = "FECHA")]
    at: Option<String>,
}

pub fn run(config: &Config, args: RenderArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    let form = find_form(&catalog, &args.form)?;
    let data = read_data(&args.data)?;
    validate(form, &data).map_err(|problems| Failure::InvalidData {
        form: form.id.to_string(),
        problems,
    })?;
    let issued_at = issue_time(args.at.as_deref(), config.time_zone)?;

    let renderer = Renderer::new(config).context("no se pudo preparar el generador de PDF")?;
    let rendered = renderer
        .render(form, &data, &DocumentContext::draft(issued_at))
        .map_err(anyhow::Error::from)?;
    for warning in &rendered.warnings {
        eprintln!("{warning}");
    }
    write_atomically(&args.out, &rendered.pdf)?;
    eprintln!(
        "Borrador de «{}» escrito en {} ({} página(s)).",
        form.title,
        args.out.display(),
        rendered.pages
    );
    Ok(())
}

fn read_data(source: &str) -> Result<serde_json::Value, Failure> {
    let (text, name) = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Usage(format!("no se pudieron leer los datos de la entrada: {e}")))?;
        (text, "la entrada".to_owned())
    } else {
        let text = std::fs::read_to_string(source)
            .map_err(|e| Failure::Usage(format!("no se pudo leer {source}: {e}")))?;
        (text, source.to_owned())
    };
    serde_json::from_str(&text).map_err(|e| {
        Failure::Usage(format!(
            "{name}: JSON inválido en la línea {}, columna {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// The issue time: `--at` (a date, or a date and time with offset) or now.
fn issue_time(at: Option<&str>, zone: Tz) -> Result<DateTime<Tz>, Failure> {
    let Some(at) = at else {
        return Ok(Utc::now().with_timezone(&zone));
    };
    if let Ok(moment) = DateTime::parse_from_rfc3339(at) {
        return Ok(moment.with_timezone(&zone));
    }
    let noon = NaiveDate::parse_from_str(at, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .and_then(|t| zone.from_local_datetime(&t).single());
    noon.ok_or_else(|| {
        Failure::Usage(format!(
            "--at: «{at}» no es una fecha; escriba 2026-11-22 o 2026-11-22T10:30:00-06:00"
        ))
    })
}

/// Writes through a temporary file, so a failure never leaves half a PDF.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("no se pudo escribir en {}", dir.display()))?;
    std::io::Write::write_all(&mut temp, bytes)
        .with_context(|| format!("no se pudo escribir {}", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("no se pudo escribir {}", path.display()))?;
    Ok(())
}
