//! `sello keys`: a stand-alone signing key (`generate`); and, on an
//! installation, the office's root and what it does: `rotate` the signing
//! key, `revoke` a retired one found compromised, sign the `crl` again.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Failure;
use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::keys::{
    CERT_FILE, KEY_FILE, KeyAlgorithm, KeyId, OfficeKey, Rotation, authorities_dir, crl_dir, renew_crl,
    revoke_retired_key, rotate_office_key,
};

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
    /// Rota la clave de firma de la instalación: la raíz certifica una nueva
    /// y revoca la anterior (reemplazada o, con --compromiso, comprometida)
    Rotate {
        /// Carpeta de la raíz de la oficina (por defecto, la del primer arranque)
        #[arg(long, value_name = "CARPETA")]
        raiz: Option<PathBuf>,
        /// La clave anterior cayó en otras manos: solo vale lo que un sello de tiempo pruebe anterior
        #[arg(long)]
        compromiso: bool,
        /// Con --compromiso: desde cuándo (fecha o fecha y hora RFC 3339; por defecto, ahora)
        #[arg(long, value_name = "FECHA", requires = "compromiso", value_parser = parse_moment)]
        desde: Option<DateTime<Utc>>,
    },
    /// Revoca por compromiso una clave ya retirada
    Revoke {
        /// Identificador de la clave retirada
        #[arg(value_parser = KeyId::parse)]
        clave: KeyId,
        #[arg(long, value_name = "CARPETA")]
        raiz: Option<PathBuf>,
        /// Desde cuándo estaba comprometida (por defecto, ahora)
        #[arg(long, value_name = "FECHA", value_parser = parse_moment)]
        desde: Option<DateTime<Utc>>,
    },
    /// Firma de nuevo la lista de revocación (CRL) de la raíz, que vence al año
    Crl {
        #[arg(long, value_name = "CARPETA")]
        raiz: Option<PathBuf>,
    },
}

/// A moment: RFC 3339, or a date (its start, in UTC).
fn parse_moment(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Ok(moment.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("«{text}» no es una fecha; escriba 2026-11-22 o 2026-11-22T10:30:00-06:00"))
}

/// `config` is read only by the actions on an installation.
pub fn run(args: KeysArgs, config: impl FnOnce() -> Result<Config, Failure>) -> Result<(), Failure> {
    let usage = |e: crate::keys::KeyError| Failure::Usage(e.to_string());
    match args.action {
        KeysAction::Rotate {
            raiz,
            compromiso,
            desde,
        } => {
            let config = config()?;
            let rotation = Rotation {
                root_dir: raiz,
                compromised: compromiso.then_some(desde),
            };
            let key = rotate_office_key(&config, &rotation).map_err(usage)?;
            eprintln!(
                "Clave rotada: desde ahora se firma con la clave {}. La lista de revocación está en {} \
                 y los certificados de la raíz en {}. Un servicio en marcha firma con la nueva desde su \
                 próximo documento; los que estaba firmando terminaron antes con la anterior.",
                key.key_id,
                crl_dir(&config).display(),
                authorities_dir(&config).display()
            );
            println!("{}", key.key_id);
            Ok(())
        }
        KeysAction::Revoke { clave, raiz, desde } => {
            let config = config()?;
            revoke_retired_key(&config, &clave, raiz.as_deref(), desde).map_err(usage)?;
            eprintln!("Clave {clave} revocada por compromiso en la lista de revocación de la raíz.");
            Ok(())
        }
        KeysAction::Crl { raiz } => {
            let config = config()?;
            let number = renew_crl(&config, raiz.as_deref()).map_err(usage)?;
            eprintln!("Lista de revocación firmada de nuevo: n.º {number}, vigente un año.");
            Ok(())
        }
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
