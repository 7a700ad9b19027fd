//! `sello verify <file.pdf> [--cert <pem>]… [--json]` and
//! `sello verify --qr '<link or payload>'`: offline checks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::Failure;
use crate::config::Config;
use crate::keys::{KeyStatus, TrustedKeys, load_certificate, trusted_keys};
use crate::pdf::{VerifyReport, verify_pdf};
use crate::qr;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// PDF a verificar
    #[arg(required_unless_present = "qr")]
    file: Option<PathBuf>,
    /// Certificado de una clave de la oficina (se puede repetir)
    #[arg(long, value_name = "PEM")]
    cert: Vec<PathBuf>,
    /// Verifica el contenido de un código QR (el enlace completo o su parte tras «#»)
    #[arg(long, value_name = "TEXTO", conflicts_with = "file")]
    qr: Option<String>,
    /// Salida en JSON
    #[arg(long)]
    json: bool,
}

/// Exit 0 only if everything holds; 1 if not; 2 if the file cannot be read.
pub fn run(config: &Config, args: VerifyArgs) -> Result<ExitCode, Failure> {
    let trusted = trusted(config, &args.cert)?;
    if let Some(text) = &args.qr {
        return Ok(match qr::verify(text, &trusted) {
            Ok(claims) => {
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&claims).unwrap_or_default());
                } else {
                    println!("QR válido, firmado por la clave {} de la oficina.", claims.key_id);
                    println!("  Formulario: {}", claims.form);
                    println!("  Folio: {}", claims.folio.as_deref().unwrap_or("(sin folio)"));
                    println!("  Fecha de emisión: {}", claims.issued_on);
                    println!("  SHA-256 de los datos: {}", claims.data_sha256);
                }
                ExitCode::SUCCESS
            }
            Err(problem) => {
                eprintln!("QR no válido: {problem}");
                ExitCode::from(1)
            }
        });
    }
    let Some(path) = &args.file else {
        return Err(Failure::Usage("indique un PDF o --qr".into()));
    };
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Usage(format!("no se pudo leer {}: {e}", path.display())))?;
    let report =
        verify_pdf(&bytes, &trusted).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print_report(&report);
    }
    Ok(if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn trusted(config: &Config, certs: &[PathBuf]) -> Result<TrustedKeys, Failure> {
    let mut trusted = trusted_keys(config).map_err(|e| Failure::Usage(e.to_string()))?;
    for path in certs {
        let certificate = load_certificate(path).map_err(|e| Failure::Usage(e.to_string()))?;
        trusted
            .add(certificate, KeyStatus::Active)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    Ok(trusted)
}

fn print_report(report: &VerifyReport) {
    if report.signatures.is_empty() {
        println!("El documento no tiene firmas de Sello.");
    }
    for signature in &report.signatures {
        let verdict = if signature.valid { "VÁLIDA" } else { "NO VÁLIDA" };
        println!("{}: {verdict}", signature.field);
        println!("  Firmante: {}", signature.signer);
        if let Some(office) = &signature.office {
            println!("  Certificado: {office}");
        }
        if let Some(key_id) = &signature.key_id {
            println!("  Clave: {key_id}");
        }
        if let Some(algorithm) = signature.algorithm {
            println!("  Algoritmo: {}", algorithm.label());
        }
        if let Some(time) = signature.signing_time {
            println!("  Fecha de firma: {}", time.format("%Y-%m-%d %H:%M:%S UTC"));
        }
        match (signature.timestamp_time, &signature.timestamp_tsa) {
            (Some(time), Some(tsa)) => println!(
                "  Sello de tiempo: {} (TSA: {tsa})",
                time.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            _ => println!("  Sello de tiempo: ninguno (la fecha de firma es la del servidor)"),
        }
        println!(
            "  Cubre todo el archivo: {}",
            if signature.covers_whole_file { "sí" } else { "no" }
        );
        if let Some(problem) = &signature.problem {
            println!("  Motivo: {problem}");
        }
    }
    match &report.modification {
        None if !report.signatures.is_empty() => {
            println!("Después de la primera firma solo se agregaron firmas.")
        }
        None => {}
        Some(change) => println!("MODIFICADO después de la primera firma: {change}"),
    }
    println!(
        "{}",
        if report.is_valid() {
            "Resultado: documento auténtico e íntegro."
        } else {
            "Resultado: NO se puede confiar en este documento."
        }
    );
}
