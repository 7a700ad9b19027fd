//! `sello render <id> --data <file.json|-> --out <file.pdf>`: a draft PDF.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::common::{issue_time, read_data, write_atomically};
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
    for warning in crate::forms::warnings(form, &data) {
        eprintln!("aviso: {warning}");
    }
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
