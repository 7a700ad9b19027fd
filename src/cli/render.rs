//! `sello render <id> --data <file.json|-> --out <file.pdf>`: a draft PDF.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::common::{DocumentArgs, checked_data, issue_time, write_atomically};
use super::{Failure, find_form, load_catalog};
use crate::config::Config;
use crate::forms::IssueDate;
use crate::render::{DocumentContext, Renderer};

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    document: DocumentArgs,
    /// Dónde escribir el PDF
    #[arg(long, value_name = "ARCHIVO")]
    out: PathBuf,
}

pub fn run(config: &Config, args: RenderArgs) -> Result<(), Failure> {
    let out = args.out;
    let args = args.document;
    let catalog = load_catalog(config)?;
    let form = find_form(&catalog, &args.form)?;
    let issued_at = issue_time(args.at.as_deref(), config.time_zone)?;
    // A draft: it may be issued on that day or later.
    let data = checked_data(form, &args.data, IssueDate::draft(&issued_at))?;

    let renderer = Renderer::new(config).context("no se pudo preparar el generador de PDF")?;
    let rendered = renderer
        .render(form, &data, &DocumentContext::draft(issued_at))
        .map_err(anyhow::Error::from)?;
    for warning in &rendered.warnings {
        eprintln!("{warning}");
    }
    write_atomically(&out, &rendered.pdf)?;
    eprintln!(
        "Borrador de «{}» escrito en {} ({} página(s)).",
        form.title,
        out.display(),
        rendered.pages
    );
    Ok(())
}
