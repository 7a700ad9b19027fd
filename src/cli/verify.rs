//! `sello verify <file.pdf> [--cert <pem>]… [--crl <crl>]… [--tsa-root <pem>]… [--json]` and
//! `sello verify --qr '<link or payload>'`: offline checks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::Failure;
use crate::config::Config;
use crate::keys::{
    KeyError, KeyStatus, TrustedKeys, is_authority, load_certificates, read_crl, trusted_keys,
};
use crate::pdf::{VerifyReport, verify_pdf};
use crate::qr;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// PDF a verificar
    #[arg(required_unless_present_any = ["qr", "proof"])]
    file: Option<PathBuf>,
    /// Certificado de una clave o de la raíz de la oficina (se puede repetir)
    #[arg(long, value_name = "PEM")]
    cert: Vec<PathBuf>,
    /// Lista de revocación (CRL) de una raíz dada con --cert (se puede repetir)
    #[arg(long, value_name = "CRL")]
    crl: Vec<PathBuf>,
    /// Certificado (PEM) de una raíz de TSA en la que confiar para los sellos de tiempo, además de
    /// las de la configuración ([timestamp] trusted_roots); se puede repetir
    #[arg(long, value_name = "PEM")]
    tsa_root: Vec<PathBuf>,
    /// Verifica el contenido de un código QR (el enlace completo o su parte tras «#»)
    #[arg(long, value_name = "TEXTO", conflicts_with = "file")]
    qr: Option<String>,
    /// Verifica una prueba de inclusión en el registro público (de /v/<código>/prueba), sin red;
    /// con un PDF, comprueba además que la prueba es la de ese PDF
    #[arg(long, value_name = "ARCHIVO", conflicts_with = "qr")]
    proof: Option<PathBuf>,
    /// Clave verificadora del registro que publica la oficina (por defecto, la de esta instalación)
    #[arg(long, value_name = "CLAVE", requires = "proof")]
    log_key: Option<String>,
    /// Salida en JSON
    #[arg(long)]
    json: bool,
}

/// Exit 0 only if everything holds; 1 if not; 2 if the file cannot be read.
/// Outside an installation (`config` is `None`) only the certificates given
/// with `--cert` are trusted.
pub fn run(config: Option<&Config>, args: VerifyArgs) -> Result<ExitCode, Failure> {
    if let Some(proof) = &args.proof {
        return verify_proof(config, proof, args.log_key.as_deref(), args.file.as_deref());
    }
    let mut trusted = trusted(config, &args.cert, &args.crl)?;
    for path in &args.tsa_root {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Usage(format!("no se pudo leer {}: {e}", path.display())))?;
        let certificates = x509_cert::Certificate::load_pem_chain(&bytes).unwrap_or_default();
        if certificates.is_empty() {
            return Err(Failure::Usage(format!(
                "--tsa-root {}: no contiene certificados PEM",
                path.display()
            )));
        }
        certificates.into_iter().for_each(|c| trusted.add_tsa_root(c));
    }
    if let Some(text) = &args.qr {
        return Ok(match qr::verify(text, &trusted) {
            Ok(claims) => {
                if args.json {
                    emit(&format!(
                        "{}\n",
                        serde_json::to_string_pretty(&claims).unwrap_or_default()
                    ));
                } else {
                    emit(&format!(
                        "QR válido, firmado por la clave {} de la oficina.\n  Formulario: {}\n  Folio: {}\n  \
                         Fecha de emisión: {}\n  SHA-256 de los datos: {}\n",
                        claims.key_id,
                        claims.form,
                        claims.folio.as_deref().unwrap_or("(sin folio)"),
                        claims.issued_on,
                        claims.data_sha256
                    ));
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
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ));
    } else {
        emit(&report_text(&report));
    }
    Ok(if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn trusted(config: Option<&Config>, certs: &[PathBuf], crls: &[PathBuf]) -> Result<TrustedKeys, Failure> {
    let usage = |e: KeyError| Failure::Usage(e.to_string());
    let mut trusted = match config {
        Some(config) => trusted_keys(config).map_err(usage)?,
        None => TrustedKeys::default(),
    };
    let certificates = certs.iter().map(|path| load_certificates(path).map_err(usage));
    let (roots, keys): (Vec<_>, Vec<_>) = certificates
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .partition(is_authority);
    // Roots first, so a key's certificate finds the root that certified it.
    for root in roots {
        trusted.add_authority(root, None).map_err(usage)?;
    }
    for key in keys {
        trusted.add(key, KeyStatus::Active).map_err(usage)?;
    }
    for path in crls {
        let crl = read_crl(path)
            .map_err(usage)?
            .ok_or_else(|| Failure::Usage(format!("no existe {}", path.display())))?;
        let root = trusted
            .authorities()
            .find(|a| a.certificate.tbs_certificate().subject() == &crl.tbs_cert_list.issuer)
            .map(|a| a.certificate.clone())
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "{}: la CRL no es de ninguna raíz conocida; dé su certificado con --cert",
                    path.display()
                ))
            })?;
        trusted
            .add_authority(root, Some(crl))
            .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    }
    Ok(trusted)
}

/// Who a signature is: the holder of its key, as the certificate names
/// it; then what the signature dictionary says but no certificate backs,
/// labelled as such (who issued, in `/Reason`; a `/Name` that is not the
/// holder, as older documents wrote the person who issued there).
fn signer_lines(signature: &crate::pdf::SignatureReport) -> Vec<String> {
    let mut lines = vec![match &signature.office {
        Some(holder) => format!("Sello electrónico de {holder}"),
        None => "Sello electrónico de un titular que el certificado no nombra".to_owned(),
    }];
    let name = signature.signer.trim();
    if !name.is_empty() && signature.office.as_deref() != Some(name) {
        lines.push(format!(
            "Nombre escrito en la firma (no lo certifica la clave): {name}"
        ));
    }
    if let Some(reason) = signature.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        lines.push(format!(
            "Motivo escrito en la firma (no lo certifica la clave): {reason}"
        ));
    }
    lines
}

/// What `verify` says of a PDF, as the text it prints.
fn report_text(report: &VerifyReport) -> String {
    let mut out = String::new();
    macro_rules! say {
        ($($arg:tt)*) => {{
            use std::fmt::Write as _;
            let _ = writeln!(out, $($arg)*);
        }};
    }
    if report.signatures.is_empty() {
        say!("El documento no tiene firmas de Sello.");
    }
    for signature in &report.signatures {
        let verdict = if signature.valid { "VÁLIDA" } else { "NO VÁLIDA" };
        say!("{}: {verdict}", signature.field);
        for line in signer_lines(signature) {
            say!("  {line}");
        }
        if let Some(key_id) = &signature.key_id {
            say!("  Clave: {key_id}");
        }
        if let Some(root) = &signature.root_key_id {
            say!("  Certificada por la raíz: {root}");
        }
        if let Some(revocation) = &signature.revocation {
            say!("  Revocación: {revocation}");
        }
        if let Some(algorithm) = signature.algorithm {
            say!("  Algoritmo: {}", algorithm.label());
        }
        if let Some(time) = signature.signing_time {
            say!("  Fecha de firma: {}", time.format("%Y-%m-%d %H:%M:%S UTC"));
        }
        match (signature.timestamp_time, &signature.timestamp_tsa) {
            (Some(time), Some(tsa)) if signature.timestamp_verified => say!(
                "  Sello de tiempo: {} (TSA: {tsa})",
                time.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            // What an unverified token says is only what it says.
            (Some(time), Some(tsa)) => say!(
                "  Sello de tiempo (no verificado, según el propio sello): {} (TSA: {tsa})",
                time.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            _ => say!("  Sello de tiempo: ninguno (la fecha de firma es la del servidor)"),
        }
        if let Some(check) = &signature.timestamp_check {
            say!("  Sello de tiempo {check}");
        }
        say!(
            "  Cubre todo el archivo: {}",
            if signature.covers_whole_file { "sí" } else { "no" }
        );
        if let Some(problem) = &signature.problem {
            say!("  Motivo: {problem}");
        }
    }
    for stamp in &report.document_timestamps {
        match (stamp.time, &stamp.tsa) {
            (Some(time), Some(tsa)) => say!(
                "Sello de tiempo del documento: {} (TSA: {tsa}); su huella cubre todo lo anterior; {}.",
                time.format("%Y-%m-%d %H:%M:%S UTC"),
                stamp.check.as_deref().unwrap_or("no verificado")
            ),
            _ => say!(
                "Sello de tiempo del documento: NO VÁLIDO ({})",
                stamp.problem.as_deref().unwrap_or("ilegible")
            ),
        }
    }
    if report.validation_data {
        say!("Datos de validación a largo plazo (DSS): incluidos.");
    }
    match &report.modification {
        None if !report.signatures.is_empty() => say!(
            "Después de la primera firma solo se agregaron firmas, sellos de tiempo y datos de validación."
        ),
        None => {}
        Some(change) => say!("MODIFICADO después de la primera firma: {change}"),
    }
    say!(
        "{}",
        if report.is_valid() {
            "Resultado: documento auténtico e íntegro."
        } else {
            "Resultado: NO se puede confiar en este documento."
        }
    );
    if report.is_valid() {
        // A signature proves who issued it and that it is unchanged, not
        // that it still holds: an annulment comes after, in the archive.
        say!(
            "Auténtico no quiere decir vigente: si se anuló o se reemplazó después de emitido, lo dice su \
             página de verificación (la dirección al pie de cada página, o la de su código QR)."
        );
    }
    out
}

/// Writes what a command prints; a reader that stopped early (`| head`)
/// is no error.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("no se pudo escribir la salida: {e}");
    }
}

/// Checks a `tlog-proof` bundle against the log's verifier key, and that it
/// is the bundle of `pdf` when one is given.
fn verify_proof(
    config: Option<&Config>,
    proof: &std::path::Path,
    log_key: Option<&str>,
    pdf: Option<&std::path::Path>,
) -> Result<ExitCode, Failure> {
    use crate::tlog::{bundle, note::Verifier};
    let key_text = match log_key {
        Some(text) => text.to_owned(),
        None => {
            let no_key = || {
                Failure::Usage(
                    "--log-key: indique la clave verificadora del registro que publica la oficina".into(),
                )
            };
            let config = config.ok_or_else(no_key)?;
            let dir = crate::keys::log_key_dir(config);
            if !dir.join(crate::keys::KEY_FILE).exists() {
                return Err(Failure::Usage(
                    "--log-key: indique la clave verificadora del registro que publica la oficina".into(),
                ));
            }
            crate::keys::LogKey::load(&dir, crate::keys::log_origin(&config.base_url))
                .map_err(|e| Failure::Usage(e.to_string()))?
                .verifier_key()
        }
    };
    let verifier = Verifier::parse(&key_text).map_err(|e| Failure::Usage(format!("--log-key: {e}")))?;
    let text = std::fs::read_to_string(proof)
        .map_err(|e| Failure::Usage(format!("no se pudo leer {}: {e}", proof.display())))?;
    let proven = match bundle::verify(&text, &verifier) {
        Ok(proven) => proven,
        Err(problem) => {
            eprintln!("Prueba no válida: {problem}");
            return Ok(ExitCode::from(1));
        }
    };
    let entry = String::from_utf8_lossy(&proven.entry).into_owned();
    let field = |name: &str| {
        entry
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or_default()
            .to_owned()
    };
    if let Some(path) = pdf {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Usage(format!("no se pudo leer {}: {e}", path.display())))?;
        let logged = field("sha256");
        if crate::archive::sha256_hex(&bytes) != logged {
            // A PDF extended after issuance (a document time-stamp, validation
            // data) begins with the issued bytes, which the log recorded.
            let issued_end = crate::pdf::PdfFile::parse(&bytes).ok().and_then(|file| {
                file.revisions
                    .iter()
                    .map(|revision| revision.end)
                    .find(|end| crate::archive::sha256_hex(&bytes[..*end]) == logged)
            });
            match issued_end {
                Some(end) => println!(
                    "El PDF extiende al registrado: sus primeros {end} bytes son el documento emitido; \
                     lo agregado después (sellos de tiempo, datos de validación) se comprueba con «sello verify»."
                ),
                None => {
                    eprintln!(
                        "Prueba no válida: no es la prueba de {}, cuyo SHA-256 es otro",
                        path.display()
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    println!(
        "Prueba válida: el documento {} está en el registro público {}, entrada {}, punto de control de tamaño {}.",
        field("folio"),
        proven.checkpoint.origin,
        proven.index,
        proven.checkpoint.size
    );
    println!("  Evento: {}", field("evento"));
    println!("  SHA-256 del PDF: {}", field("sha256"));
    Ok(ExitCode::SUCCESS)
}
