//! An office's own logo, read when its letterhead is prepared.

use super::{Archive, ArchiveError};
use crate::office::{Logo, LogoKind};

impl Archive {
    /// The logo office `code` uploaded, if any. It was checked when
    /// uploaded; one whose format the database no longer names reads as none.
    pub async fn office_logo(&self, code: &str) -> Result<Option<Logo>, ArchiveError> {
        let row: Option<(Option<Vec<u8>>, Option<String>)> = {
            let pool = self.store.pool();
            sqlx::query_as("SELECT logo, logo_type FROM offices WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?
        };
        Ok(row.and_then(|(bytes, kind)| {
            Some(Logo {
                kind: LogoKind::parse(kind.as_deref()?)?,
                bytes: bytes?,
            })
        }))
    }
}
