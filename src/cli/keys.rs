//! `sello keys generate`: a new signing key and certificate for an office.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Failure;
use crate::keys::{CERT_FILE, KEY_FILE, KeyAlgorithm, OfficeKey};

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Genera una clave privada (PKCS#8, modo 0600) y un certificado autofirmado
    Generate {
        /// Carpeta donde guardar la clave y el certificado
        #[arg(long, value_name = "CARPETA")]
        out: PathBuf,
        /// Nombre de la oficina que el certificado acredita
        #[arg(long, value_name = "NOMBRE")]
        name: String,
        /// ed25519 (por defecto) o p256 (para validadores sin Ed25519)
        #[arg(long, default_value = "ed25519", value_parser = KeyAlgorithm::parse)]
        algorithm: KeyAlgorithm,
    },
}

pub fn run(args: KeysArgs) -> Result<(), Failure> {
    match args.action {
        KeysAction::Generate { out, name, algorithm } => {
            let key =
                OfficeKey::generate(&out, &name, algorithm).map_err(|e| Failure::Usage(e.to_string()))?;
            eprintln!(
                "Clave {} generada para «{}»: {}/{KEY_FILE} (privada, no la comparta) y {}/{CERT_FILE} (certificado público).",
                algorithm.label(),
                key.subject_name(),
                out.display(),
                out.display()
            );
            println!("{}", key.key_id);
            Ok(())
        }
    }
}
