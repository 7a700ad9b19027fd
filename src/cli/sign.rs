//! `sello sign <file.pdf> --key <dir> --signer … --cargo … --out <file.pdf>`:
//! one more signature on a document Sello issued.

use std::path::PathBuf;

use chrono::Utc;
use clap::Args;

use super::Failure;
use super::common::write_atomically;
use crate::config::Config;
use crate::keys::{KeyStatus, KeyTurns, OfficeKey, default_key_dir, trusted_keys};
use crate::pdf::{SignatureRequest, sign_pdf, verify_pdf};

#[derive(Debug, Args)]
pub struct SignArgs {
    /// PDF emitido por Sello
    file: PathBuf,
    /// Carpeta de la clave con que se firma
    #[arg(long, value_name = "CARPETA")]
    key: PathBuf,
    /// Nombre de quien firma
    #[arg(long, value_name = "NOMBRE")]
    signer: String,
    /// Cargo de quien firma
    #[arg(long, value_name = "CARGO")]
    cargo: String,
    /// Dónde escribir el PDF con la nueva firma
    #[arg(long, value_name = "ARCHIVO")]
    out: PathBuf,
}

pub fn run(config: &Config, args: SignArgs) -> Result<(), Failure> {
    let pdf = std::fs::read(&args.file)
        .map_err(|e| Failure::Usage(format!("no se pudo leer {}: {e}", args.file.display())))?;
    // The installation's own key folder is rotated by `sello claves rotar`:
    // sign under signing's turn, as the issuer does, so the key is not
    // retired between being loaded and signing.
    let own = std::fs::canonicalize(default_key_dir(config)).ok();
    let _turn = match std::fs::canonicalize(&args.key).ok() {
        Some(folder) if Some(&folder) == own.as_ref() => Some(
            KeyTurns::in_folder(&config.data_dir.join("claves"))
                .signing()
                .map_err(|e| Failure::Usage(e.to_string()))?,
        ),
        _ => None,
    };
    let key = OfficeKey::load(&args.key).map_err(|e| Failure::Usage(e.to_string()))?;
    let mut trusted = trusted_keys(config).map_err(|e| Failure::Usage(e.to_string()))?;
    trusted
        .add(key.certificate.clone(), KeyStatus::Active)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    // Only documents Sello issued, intact, get another signature.
    let report =
        verify_pdf(&pdf, &trusted).map_err(|e| Failure::Usage(format!("{}: {e}", args.file.display())))?;
    if !report.is_valid() {
        return Err(Failure::Usage(format!(
            "{}: no es un documento emitido por Sello con firmas válidas; no se firma",
            args.file.display()
        )));
    }
    let now = Utc::now().with_timezone(&config.time_zone);
    let signed = sign_pdf(
        &pdf,
        &SignatureRequest {
            key: &key,
            signer: &args.signer,
            cargo: &args.cargo,
            signing_time: now,
        },
    )
    .map_err(|e| Failure::Internal(anyhow::anyhow!(e)))?;
    write_atomically(&args.out, &signed)?;
    eprintln!(
        "Firma de {} ({}) agregada; clave {}.",
        args.signer, args.cargo, key.key_id
    );
    Ok(())
}
