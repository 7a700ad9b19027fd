//! `sello annul <folio or id> --reason "<text>" [--category <c>]
//! [--replaced-by <folio or id>]`: the document stays in the archive,
//! marked annulled (or replaced) with the reason, who and when; the public
//! page shows only the category.

use clap::Args;

use super::Failure;
use super::common::{archive_failure, open_archive, runtime, terminal_actor};
use crate::archive::AnnulCategory;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct AnnulArgs {
    /// Folio (DIF/OF/2026/0001) o número del documento
    document: String,
    /// Motivo de la anulación; queda en el archivo y no se publica
    #[arg(long, value_name = "TEXTO")]
    reason: String,
    /// Lo que dice la página pública: error_en_los_datos, a_solicitud_del_interesado, emitido_por_error u otro
    #[arg(long, value_name = "CATEGORÍA", default_value = "otro")]
    category: String,
    /// Folio o número del documento que lo reemplaza
    #[arg(long, value_name = "FOLIO")]
    replaced_by: Option<String>,
}

pub fn run(config: &Config, args: AnnulArgs) -> Result<(), Failure> {
    let actor = terminal_actor();
    let category = AnnulCategory::parse(&args.category)
        .ok_or_else(|| archive_failure(AnnulCategory::unknown(&args.category)))?;
    let record = runtime()?.block_on(async {
        let archive = open_archive(config).await?;
        archive
            .annul_as(
                &args.document,
                category,
                &args.reason,
                &actor,
                args.replaced_by.as_deref(),
            )
            .await
            .map_err(archive_failure)
    })?;
    match record.replaced_by {
        Some(_) => eprintln!(
            "El documento {} quedó reemplazado por {}; sigue en el archivo.",
            record.folio,
            args.replaced_by.as_deref().unwrap_or_default()
        ),
        None => eprintln!(
            "El documento {} quedó anulado; sigue en el archivo.",
            record.folio
        ),
    }
    println!("{}", record.folio);
    Ok(())
}
