//! `sello backup --out <file> [--con-claves --frase <file>]` and `sello
//! restore <file> [--frase <file> | --sin-claves]`: a copy of the whole
//! installation taken while the service runs, and putting it back into an
//! empty one (see `backup`).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;

use super::Failure;
use super::common::{open_archive, runtime};
use crate::backup::{self, BackupError, BackupOptions, Passphrase, RestoreOptions};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Archivo del respaldo a crear (no debe existir)
    #[arg(long, value_name = "ARCHIVO")]
    out: PathBuf,
    /// Incluye las claves privadas (de firma, de la raíz si está aquí y del registro),
    /// cifradas con la frase de paso que da --frase
    #[arg(long, requires = "frase")]
    con_claves: bool,
    /// Archivo con la frase de paso (su primera línea), o «-» para leerla de la entrada;
    /// nunca en la línea de órdenes, donde otros usuarios la verían
    #[arg(long, value_name = "ARCHIVO")]
    frase: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Archivo del respaldo
    file: PathBuf,
    /// Archivo con la frase de paso de las claves privadas del respaldo, o «-» para leerla de la entrada
    #[arg(long, value_name = "ARCHIVO", conflicts_with = "sin_claves")]
    frase: Option<PathBuf>,
    /// Restaura sin las claves privadas aunque el respaldo las traiga
    #[arg(long)]
    sin_claves: bool,
}

pub fn run_backup(config: &Config, args: BackupArgs) -> Result<(), Failure> {
    let private_keys = match (&args.frase, args.con_claves) {
        (Some(source), true) => Some(read_passphrase(source)?),
        (Some(_), false) => {
            return Err(Failure::Usage(
                "--frase solo sirve con --con-claves: sin claves privadas no hay nada que cifrar".into(),
            ));
        }
        (None, _) => None,
    };
    let runtime = runtime()?;
    let summary = runtime.block_on(async {
        let archive = open_archive(config).await?;
        backup::backup(config, &archive, &args.out, BackupOptions { private_keys })
            .await
            .map_err(failure)
    })?;
    let manifest = &summary.manifest;
    let blobs = manifest
        .parts
        .iter()
        .filter(|p| p.kind == backup::PartKind::Blob)
        .count();
    eprintln!(
        "Respaldo escrito en {} ({} bytes): base de datos {}, {} documento(s) emitido(s), {} archivo(s) del almacén, {} archivo(s) públicos de claves{}.",
        args.out.display(),
        summary.bytes,
        manifest.database,
        manifest.documents,
        blobs,
        manifest
            .parts
            .iter()
            .filter(|p| p.kind == backup::PartKind::PublicKeyFile)
            .count(),
        if manifest.private_keys {
            ", y las claves privadas cifradas con la frase de paso"
        } else {
            ""
        }
    );
    if !summary.private_keys_left_out.is_empty() {
        let names: Vec<String> = summary
            .private_keys_left_out
            .iter()
            .map(|p| format!("claves/{}", p.display()))
            .collect();
        eprintln!(
            "Las claves privadas no van en el respaldo: {}. Guárdelas aparte (o use --con-claves --frase): sin la clave de firma no se emite nada tras restaurar.",
            names.join(", ")
        );
    }
    Ok(())
}

pub fn run_restore(config: &Config, args: RestoreArgs) -> Result<(), Failure> {
    let passphrase = args.frase.as_deref().map(read_passphrase).transpose()?;
    let runtime = runtime()?;
    let summary = runtime.block_on(async {
        backup::restore(
            config,
            &args.file,
            RestoreOptions {
                passphrase,
                without_private_keys: args.sin_claves,
            },
        )
        .await
        .map_err(failure)
    })?;
    eprintln!(
        "Respaldo del {} restaurado en {}: {} documento(s) emitido(s), {} archivo(s) del almacén, {} clave(s) privada(s). Base de datos: {}; {} archivo(s) revisados contra su hash; cadena de auditoría íntegra ({} evento(s)).",
        summary.manifest.created_at.format("%Y-%m-%d %H:%M UTC"),
        config.data_dir.display(),
        summary.manifest.documents,
        summary.blobs,
        summary.private_keys,
        summary.fsck.database,
        summary.fsck.blobs_checked,
        summary.fsck.audit.events
    );
    if summary.private_keys == 0 {
        eprintln!(
            "No se restauraron claves privadas: copie la carpeta de la clave de firma (claves/oficina) antes de emitir; los documentos ya emitidos se verifican sin ella."
        );
    }
    Ok(())
}

/// The passphrase from a file's first line, or from the standard input.
fn read_passphrase(source: &Path) -> Result<Passphrase, Failure> {
    let mut text = String::new();
    if source == Path::new("-") {
        std::io::stdin()
            .take(4096)
            .read_to_string(&mut text)
            .map_err(|e| Failure::Usage(format!("no se pudo leer la frase de paso de la entrada: {e}")))?;
    } else {
        text = std::fs::read_to_string(source)
            .map_err(|e| Failure::Usage(format!("--frase: no se pudo leer {}: {e}", source.display())))?;
    }
    let line = text.lines().next().unwrap_or_default();
    Passphrase::new(line).map_err(|e| Failure::Usage(format!("--frase: {e}")))
}

fn failure(error: BackupError) -> Failure {
    match error {
        BackupError::Refused(_) | BackupError::Damaged { .. } => Failure::Usage(error.to_string()),
        other => Failure::Internal(anyhow::anyhow!(other)),
    }
}
