//! Reading data, times and writing files, for every subcommand.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;

use super::Failure;

pub fn read_data(source: &str) -> Result<serde_json::Value, Failure> {
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
