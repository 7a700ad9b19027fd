//! `sello issue <form> --data <file.json> --out <file.pdf>`: an official,
//! signed document with its verification code and QR.

use anyhow::Context as _;
use clap::Args;

use super::common::{DocumentArgs, checked_data, issue_time, write_atomically};
use super::{Failure, find_form, load_catalog};
use crate::config::Config;
use crate::issue::{IssueError, IssueRequest, issue};
use crate::keys::office_key;
use crate::render::Renderer;

#[derive(Debug, Args)]
pub struct IssueArgs {
    #[command(flatten)]
    document: DocumentArgs,
    /// Nombre de quien firma (por defecto, la oficina)
    #[arg(long, value_name = "NOMBRE")]
    signer: Option<String>,
    /// Cargo de quien firma
    #[arg(long, value_name = "CARGO", default_value = "Sello electrónico de la oficina")]
    cargo: String,
}

pub fn run(config: &Config, args: IssueArgs) -> Result<(), Failure> {
    let document = &args.document;
    let catalog = load_catalog(config)?;
    let form = find_form(&catalog, &document.form)?;
    // Validate before touching keys, so bad data never creates a key.
    let data = checked_data(form, &document.data)?;
    let issued_at = issue_time(document.at.as_deref(), config.time_zone)?;
    let (key, notice) = office_key(config).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    let renderer = Renderer::new(config).context("no se pudo preparar el generador de PDF")?;
    let signer = args.signer.unwrap_or_else(|| key.subject_name());
    let request = IssueRequest {
        form,
        data: &data,
        issued_at,
        folio: None,
        signer: &signer,
        cargo: &args.cargo,
    };
    let issued = issue(&renderer, &key, &config.base_url, &request).map_err(|e| match e {
        IssueError::Invalid(problems) => Failure::InvalidData {
            form: form.id.to_string(),
            problems,
        },
        other => Failure::Internal(anyhow::anyhow!(other)),
    })?;
    write_atomically(&document.out, &issued.pdf)?;
    eprintln!(
        "«{}» emitido y firmado en {} ({} página(s)); clave {}; QR versión {}.",
        form.title,
        document.out.display(),
        issued.pages,
        key.key_id,
        issued.qr_version
    );
    println!("{}", issued.code);
    Ok(())
}
