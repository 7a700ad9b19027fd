//! Reading data, times and writing files, for every subcommand.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use clap::Args;
use serde_json::Value;

use super::Failure;
use crate::forms::{FormSpec, IssueDate, validate, warnings};

/// What `render` and `issue` both take: a form, its data, where to write.
#[derive(Debug, Args)]
pub struct DocumentArgs {
    /// Identificador del formulario, como «oficio-comision»
    pub form: String,
    /// Archivo JSON con los datos del documento, o «-» para leerlos de la entrada
    #[arg(long, value_name = "ARCHIVO")]
    pub data: String,
    /// Fecha (y hora) de emisión, como 2026-11-22 o 2026-11-22T10:30:00-06:00;
    /// por defecto, ahora. La misma fecha y los mismos datos dan el mismo PDF.
    #[arg(long, value_name = "FECHA")]
    pub at: Option<String>,
}

/// Reads the document's data and checks it against the form as of the
/// issue date `when`; the rules' warnings are printed for the clerk.
pub fn checked_data(form: &FormSpec, source: &str, when: IssueDate) -> Result<Value, Failure> {
    let data = read_data(source)?;
    validate(form, &data, when).map_err(|problems| Failure::InvalidData {
        form: form.id.to_string(),
        problems,
    })?;
    for warning in warnings(form, &data, when) {
        eprintln!("aviso: {warning}");
    }
    Ok(data)
}

fn read_data(source: &str) -> Result<serde_json::Value, Failure> {
    let (text, name) = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Usage(format!("no se pudieron leer los datos de la entrada: {e}")))?;
        (text, "la entrada".to_owned())
    } else {
        let text = std::fs::read_to_string(source)
            .map_err(|e| Failure::Usage(format!("no se pudo leer {source}: {e}")))?;
        (text, source.to_owned())
    };
    serde_json::from_str(&text).map_err(|e| {
        Failure::Usage(format!(
            "{name}: JSON inválido en la línea {}, columna {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// The issue time: `--at` (a date, or a date and time with offset) or now.
pub fn issue_time(at: Option<&str>, zone: Tz) -> Result<DateTime<Tz>, Failure> {
    let Some(at) = at else {
        return Ok(Utc::now().with_timezone(&zone));
    };
    if let Ok(moment) = DateTime::parse_from_rfc3339(at) {
        return Ok(moment.with_timezone(&zone));
    }
    let noon = NaiveDate::parse_from_str(at, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .and_then(|t| zone.from_local_datetime(&t).single());
    noon.ok_or_else(|| {
        Failure::Usage(format!(
            "--at: «{at}» no es una fecha; escriba 2026-11-22 o 2026-11-22T10:30:00-06:00"
        ))
    })
}

/// A runtime for the commands that use the archive.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(anyhow::anyhow!("no se pudo iniciar el entorno de ejecución: {e}")))
}

/// Who is acting, for the audit trail: the system user at the terminal.
pub fn terminal_actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME"));
    match user {
        Ok(user) if !user.trim().is_empty() => format!("{} (terminal)", user.trim()),
        _ => "terminal".to_owned(),
    }
}

/// Opens the office's archive, telling apart a bad setting from a failure.
pub async fn open_archive(config: &crate::config::Config) -> Result<crate::archive::Archive, Failure> {
    Ok(open_storage(config).await?.archive)
}

/// Opens the office's archive with its accounts.
pub async fn open_storage(config: &crate::config::Config) -> Result<crate::app::Storage, Failure> {
    crate::app::Storage::open(config).await.map_err(boot_failure)
}

/// How a failure to put the installation together reaches the user: a
/// key or a setting they can fix is a usage error; the rest is internal.
pub fn boot_failure(error: crate::app::BootError) -> Failure {
    use crate::app::BootError as E;
    match error {
        E::Catalog(error) => Failure::Internal(error.into()),
        E::Key(error) => Failure::Usage(error.to_string()),
        error @ E::NoTsa => Failure::Usage(error.to_string()),
        E::Archive(error) => archive_failure(error),
        E::Accounts(error) => Failure::Internal(anyhow::anyhow!(error)),
        error @ (E::Renderer(_) | E::Limits(_)) => Failure::Internal(anyhow::anyhow!(error)),
    }
}

/// How an archive error reaches the user: what they can fix is a usage
/// error; the rest is internal.
pub fn archive_failure(error: crate::archive::ArchiveError) -> Failure {
    use crate::archive::ArchiveError as E;
    match error {
        E::IdempotencyConflict(_)
        | E::InProgress(_)
        | E::DocumentNotFound(_)
        | E::ExpedienteNotFound(_)
        | E::Refused(_) => Failure::Usage(error.to_string()),
        other => Failure::Internal(anyhow::anyhow!(other)),
    }
}

/// Writes through a temporary file, so a failure never leaves half a PDF.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("no se pudo escribir en {}", dir.display()))?;
    std::io::Write::write_all(&mut temp, bytes)
        .with_context(|| format!("no se pudo escribir {}", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("no se pudo escribir {}", path.display()))?;
    Ok(())
}
