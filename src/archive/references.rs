//! Which blobs the archive's rows point at: the one list `fsck` compares
//! the store with. A blob is an orphan only if no row of any kind names it,
//! so a new kind of stored file must be added to [`BLOB_COLUMNS`]; a test
//! fails while any `*sha256` column of the schema is in neither list.

use super::{Archive, ArchiveError};

/// Every column that holds the SHA-256 of a blob in the store, with the
/// table it is in: issued PDFs (documents and padrón tomos alike), their
/// extensions (time-stamps and validation data added later), and the
/// drawings and paper scans of hand signatures.
pub const BLOB_COLUMNS: &[(&str, &str)] = &[
    ("documents", "pdf_sha256"),
    ("document_extensions", "pdf_sha256"),
    ("hand_signatures", "blob_sha256"),
];

/// Columns named like a hash that are not blobs: the hash of a request or
/// of a document's data, or of a secret token. Nothing in the store. An
/// extension's `previous_sha256` names a PDF that the row it extends
/// already points at.
pub const NOT_BLOB_COLUMNS: &[(&str, &str)] = &[
    ("document_extensions", "previous_sha256"),
    ("documents", "request_sha256"),
    ("documents", "data_sha256"),
    ("sessions", "token_sha256"),
    ("api_tokens", "token_sha256"),
    ("sso_logins", "state_sha256"),
];

/// A row that points at a blob.
#[derive(Debug, Clone)]
pub struct BlobReference {
    /// The table of [`BLOB_COLUMNS`] the row is in.
    pub table: &'static str,
    pub row_id: i64,
    pub sha256: String,
}

/// What a referencing row is, said for the operator.
#[derive(Debug, Clone)]
pub(super) struct Owner {
    /// The folio of the document it belongs to; empty for a draft's.
    pub folio: String,
    /// «el PDF», «el dibujo de la firma n.º 4 (borrador 7)»…
    pub what: String,
}

/// One statement over every blob column, so one snapshot. The table and
/// column names are our constants, never input.
fn references_sql() -> String {
    BLOB_COLUMNS
        .iter()
        .enumerate()
        .map(|(index, (table, column))| {
            format!(
                "SELECT {index} AS source, id, {column} AS sha256 FROM {table} WHERE {column} IS NOT NULL"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The distinct hashes of every blob the rows seen by `connection` point
/// at: what a backup must carry along with a snapshot of the database,
/// read in the snapshot's own transaction (or from its copy).
pub async fn referenced_hashes(
    connection: &mut sqlx::AnyConnection,
) -> Result<std::collections::BTreeSet<String>, sqlx::Error> {
    let rows: Vec<(i32, i64, String)> = sqlx::query_as(&references_sql()).fetch_all(connection).await?;
    Ok(rows.into_iter().map(|(_, _, sha256)| sha256).collect())
}

impl Archive {
    /// Every row, of any table, that points at a blob.
    pub async fn blob_references(&self) -> Result<Vec<BlobReference>, ArchiveError> {
        let sql = references_sql();
        let rows: Vec<(i32, i64, String)> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql).fetch_all(pool).await?
        };
        Ok(rows
            .into_iter()
            .filter_map(|(source, row_id, sha256)| {
                let (table, _) = BLOB_COLUMNS.get(usize::try_from(source).ok()?)?;
                Some(BlobReference {
                    table,
                    row_id,
                    sha256,
                })
            })
            .collect())
    }

    /// Names the row behind a reference, for a report of damage.
    pub(super) async fn owner_of(&self, reference: &BlobReference) -> Result<Owner, ArchiveError> {
        match reference.table {
            "documents" => {
                let folio: Option<String> = {
                    let pool = self.store.pool();
                    sqlx::query_scalar("SELECT folio FROM documents WHERE id = $1")
                        .bind(reference.row_id)
                        .fetch_optional(pool)
                        .await?
                };
                Ok(Owner {
                    folio: folio.unwrap_or_default(),
                    what: "el PDF".to_owned(),
                })
            }
            "document_extensions" => {
                let folio: Option<String> = {
                    let pool = self.store.pool();
                    sqlx::query_scalar(
                        "SELECT d.folio FROM document_extensions x JOIN documents d ON d.id = x.document_id \
                         WHERE x.id = $1",
                    )
                    .bind(reference.row_id)
                    .fetch_optional(pool)
                    .await?
                };
                Ok(Owner {
                    folio: folio.unwrap_or_default(),
                    what: "el PDF extendido (sello de tiempo o datos de validación)".to_owned(),
                })
            }
            "hand_signatures" => {
                let found: Option<(String, Option<String>, Option<i64>)> = {
                    let pool = self.store.pool();
                    sqlx::query_as(
                        "SELECT h.kind, d.folio, h.draft_id FROM hand_signatures h \
                         LEFT JOIN documents d ON d.id = h.document_id WHERE h.id = $1",
                    )
                    .bind(reference.row_id)
                    .fetch_optional(pool)
                    .await?
                };
                let (kind, folio, draft) = found.unwrap_or_default();
                let mut what = match kind.as_str() {
                    "pantalla" => format!("el dibujo de la firma en pantalla n.º {}", reference.row_id),
                    _ => format!("el escaneo de la firma en papel n.º {}", reference.row_id),
                };
                if folio.is_none()
                    && let Some(draft) = draft
                {
                    what.push_str(&format!(" (borrador {draft})"));
                }
                Ok(Owner {
                    folio: folio.unwrap_or_default(),
                    what,
                })
            }
            other => Ok(Owner {
                folio: String::new(),
                what: format!("el archivo de la fila {} de {other}", reference.row_id),
            }),
        }
    }
}
