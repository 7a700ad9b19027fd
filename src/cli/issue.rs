//! `sello issue <form> --data <file.json> --out <file.pdf>`: an official,
//! signed document with its verification code and QR.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::common::{issue_time, read_data, write_atomically};
use super::{Failure, find_form, load_catalog};
use crate::config::Config;
use crate::issue::{IssueError, IssueRequest, issue};
use crate::keys::office_key;
use crate::render::Renderer;

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Identificador del formulario, como «oficio-comision»
    form: String,
    /// Archivo JSON con los datos del documento, o «-» para leerlos de la entrada
    #[arg(long, value_name = "ARCHIVO")]
    data: String,
    /// Dónde escribir el PDF firmado
    #[arg(long, value_name = "ARCHIVO")]
    out: PathBuf,
    /// Nombre de quien firma (por defecto, la oficina)
    #[arg(long, value_name = "NOMBRE")]
    signer: Option<String>,
    /// Cargo de quien firma
    #[arg(long, value_name = "CARGO", default_value = "Sello electrónico de la oficina")]
    cargo: String,
    /// Fecha y hora de emisión (por defecto, ahora)
    #[arg(long, value_name = "FECHA")]
    at: Option<String>,
}

pub fn run(config: &Config, args: IssueArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    let form = find_form(&catalog, &args.form)?;
    let data = read_data(&args.data)?;
    let issued_at = issue_time(args.at.as_deref(), config.time_zone)?;
    // Validate before touching keys, so bad data never creates a key.
    crate::forms::validate(form, &data).map_err(|problems| Failure::InvalidData {
        form: form.id.to_string(),
        problems,
    })?;
    for warning in crate::forms::warnings(form, &data) {
        eprintln!("aviso: {warning}");
    }
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
    write_atomically(&args.out, &issued.pdf)?;
    eprintln!(
        "«{}» emitido y firmado en {} ({} página(s)); clave {}; QR versión {}.",
        form.title,
        args.out.display(),
        issued.pages,
        key.key_id,
        issued.qr_version
    );
    println!("{}", issued.code);
    Ok(())
}
