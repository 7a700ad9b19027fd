//! `sello archive timestamp | renew`: adding to issued documents the
//! time-stamp they await, and archival time-stamps before their evidence
//! expires (see `evidence`).

use clap::Args;

use super::Failure;
use super::common::{archive_failure, boot_failure, open_archive};
use crate::config::Config;
use crate::evidence::ExtensionSummary;

/// How many documents one run takes, at most.
const RUN_LIMIT: i64 = 10_000;

#[derive(Debug, Args)]
pub struct TimestampArgs {
    /// Imprime el resultado en JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Renueva los documentos cuya evidencia vence dentro de estos días
    #[arg(long = "dias", default_value_t = 90, value_name = "N")]
    days: u32,
    /// Imprime el resultado en JSON
    #[arg(long)]
    json: bool,
}

/// Adds a document time-stamp to every document issued awaiting one.
pub fn timestamp(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
    args: TimestampArgs,
) -> Result<(), Failure> {
    let extender = crate::app::extender(config).map_err(boot_failure)?;
    let summary = runtime.block_on(async {
        let archive = open_archive(config).await?;
        extender
            .stamp_awaiting(&archive, RUN_LIMIT)
            .await
            .map_err(archive_failure)
    })?;
    report(&summary, args.json, "sello de tiempo del documento agregado")
}

/// Adds an archival time-stamp to documents whose evidence expires within
/// `--dias` days.
pub fn renew(config: &Config, runtime: &tokio::runtime::Runtime, args: RenewArgs) -> Result<(), Failure> {
    let extender = crate::app::extender(config).map_err(boot_failure)?;
    let before = chrono::Utc::now() + chrono::Duration::days(i64::from(args.days));
    let summary = runtime.block_on(async {
        let archive = open_archive(config).await?;
        extender
            .renew(&archive, before, RUN_LIMIT)
            .await
            .map_err(archive_failure)
    })?;
    report(&summary, args.json, "sello de tiempo de archivo agregado")
}

fn report(summary: &ExtensionSummary, json: bool, what: &str) -> Result<(), Failure> {
    if json {
        println!("{}", serde_json::to_string_pretty(summary).unwrap_or_default());
    }
    for folio in &summary.extended {
        eprintln!("folio {folio}: {what}");
    }
    for (folio, problem) in &summary.failed {
        eprintln!("folio {folio}: no se pudo extender: {problem}");
    }
    eprintln!(
        "{} documento(s) extendido(s); {} sin cambios (no lo necesitaban o los atiende otra instancia).",
        summary.extended.len(),
        summary.skipped
    );
    if let Some(problem) = &summary.tsa_unavailable {
        return Err(Failure::Broken(format!(
            "se detuvo porque ninguna TSA respondió; se reintentará: {problem}"
        )));
    }
    if !summary.failed.is_empty() {
        return Err(Failure::Broken(format!(
            "{} documento(s) no se pudieron extender (vea arriba)",
            summary.failed.len()
        )));
    }
    Ok(())
}
