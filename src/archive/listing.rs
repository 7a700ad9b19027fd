//! Documents and expedientes listed page by page with a cursor, for
//! integrations that keep a copy in step. The cursor is a position in the
//! transparency log: each issuance appends its entry in the transaction
//! that issues the document, and the log's size row serializes writers, so
//! entries become visible in index order. A cursor past index n therefore
//! never skips a document issued later, nor shows one twice, however many
//! are issued while a client pages. Document ids are taken when a folio is
//! reserved, not when it is issued, so they could not serve.

use super::{Archive, ArchiveError, DocumentRecord, ExpedienteRecord, Status};
use crate::public_id::PublicId;

/// At most this many rows per page.
pub const LIST_LIMIT_MAX: u32 = 500;

/// What a listing of documents keeps; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    pub form: Option<String>,
    pub status: Option<Status>,
    /// Issued on or after, and on or before (the office's days).
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub expediente: Option<PublicId>,
}

/// A document listed, with its position in the log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedDocumentRow {
    pub position: i64,
    #[sqlx(flatten)]
    pub record: DocumentRecord,
}

/// An expediente listed, with the position of its first issued document.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedExpediente {
    pub position: i64,
    #[sqlx(flatten)]
    pub record: ExpedienteRecord,
}

impl Archive {
    /// Up to `limit` documents of this office issued after log position
    /// `after` (none: from the start) that pass `filter`, in the order they
    /// were issued. A page shorter than `limit` may still be followed by
    /// documents issued later.
    pub async fn list_documents(
        &self,
        filter: &DocumentFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ListedDocumentRow>, ArchiveError> {
        let mut conditions = String::new();
        let mut texts: Vec<String> = Vec::new();
        let mut next = 4;
        let mut add = |condition: &str, value: String, texts: &mut Vec<String>| {
            conditions.push_str(&format!(" AND {condition} ${next}"));
            next += 1;
            texts.push(value);
        };
        if let Some(form) = &filter.form {
            add("documents.form =", form.clone(), &mut texts);
        }
        if let Some(status) = filter.status {
            add("documents.status =", status.as_str().to_owned(), &mut texts);
        }
        if let Some(from) = filter.from {
            add("documents.issued_on >=", from.to_string(), &mut texts);
        }
        if let Some(to) = filter.to {
            add("documents.issued_on <=", to.to_string(), &mut texts);
        }
        if let Some(expediente) = filter.expediente {
            add(
                "documents.expediente_id = (SELECT e.id FROM expedientes e WHERE e.public_id =",
                expediente.to_string(),
                &mut texts,
            );
            conditions.push(')');
        }
        let sql = format!(
            "SELECT l.idx AS position, {} FROM documents \
             JOIN log_entries l ON l.document_id = documents.id AND l.event = 'emision' \
             WHERE documents.office_code = $1 AND l.idx > $2{conditions} ORDER BY l.idx LIMIT $3",
            super::documents::DOCUMENT_COLUMNS
        );
        let mut query = sqlx::query_as::<_, ListedDocumentRow>(&sql)
            .bind(&self.office.code)
            .bind(after)
            .bind(i64::from(limit.clamp(1, LIST_LIMIT_MAX)));
        for text in texts {
            query = query.bind(text);
        }
        Ok(query.fetch_all(self.store.pool()).await?)
    }

    /// Up to `limit` expedientes of this office, in the order their first
    /// document was issued, after that document's log position `after`.
    /// An expediente appears once its first document is issued.
    pub async fn list_expedientes(
        &self,
        kind: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ListedExpediente>, ArchiveError> {
        let kind_condition = if kind.is_some() { " AND e.kind = $4" } else { "" };
        let sql = format!(
            "SELECT f.position, e.id, e.public_id, e.office_code, e.kind, e.key, e.title, e.opened_on, \
             e.closed_on, e.retention FROM expedientes e \
             JOIN (SELECT d.expediente_id, min(l.idx) AS position FROM documents d \
                   JOIN log_entries l ON l.document_id = d.id AND l.event = 'emision' \
                   WHERE d.office_code = $1 GROUP BY d.expediente_id) f ON f.expediente_id = e.id \
             WHERE e.office_code = $1 AND f.position > $2{kind_condition} ORDER BY f.position LIMIT $3"
        );
        let mut query = sqlx::query_as::<_, ListedExpediente>(&sql)
            .bind(&self.office.code)
            .bind(after)
            .bind(i64::from(limit.clamp(1, LIST_LIMIT_MAX)));
        if let Some(kind) = kind {
            query = query.bind(kind.to_owned());
        }
        Ok(query.fetch_all(self.store.pool()).await?)
    }
}
