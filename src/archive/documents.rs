//! Reading documents and expedientes back from the archive.

use serde::Serialize;

use super::audit::AUDIT_COLUMNS;
use super::audit::AuditEvent;
use super::{Archive, ArchiveError};
use crate::public_id::PublicId;

/// Where a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Its folio is taken and it is being rendered and signed: invisible.
    Reservado,
    Emitido,
    Anulado,
    Reemplazado,
}

impl Status {
    /// The states a document is found in by a search: a reserved folio
    /// is still being issued and shows nowhere.
    pub const LISTED: [Self; 3] = [Self::Emitido, Self::Anulado, Self::Reemplazado];

    /// A listed state by its name.
    pub fn parse_listed(text: &str) -> Option<Self> {
        Self::parse(text).filter(|s| *s != Self::Reservado)
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reservado" => Some(Self::Reservado),
            "emitido" => Some(Self::Emitido),
            "anulado" => Some(Self::Anulado),
            "reemplazado" => Some(Self::Reemplazado),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reservado => "reservado",
            Self::Emitido => "emitido",
            Self::Anulado => "anulado",
            Self::Reemplazado => "reemplazado",
        }
    }

    /// Whether it is in force: issued, neither annulled nor replaced.
    pub fn is_current(self) -> bool {
        self == Self::Emitido
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compared with its stored name, as clients of the API read it.
impl PartialEq<&str> for Status {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// As the database stores it.
impl TryFrom<String> for Status {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or_else(|| format!("estado de documento desconocido: «{text}»"))
    }
}

/// A document as the archive keeps it. What the API shows of it is its
/// own view, in the web layer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRecord {
    #[sqlx(rename = "public_id")]
    pub id: PublicId,
    /// The database's key: never shown.
    #[sqlx(rename = "id")]
    pub row_id: i64,
    pub folio: String,
    pub form: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    /// The public id of its expediente.
    #[sqlx(rename = "expediente_public_id")]
    pub expediente_id: PublicId,
    #[sqlx(rename = "expediente_id")]
    pub expediente_row_id: i64,
    /// Its expediente's title: what names the expediente to people.
    pub expediente_title: String,
    /// The form's data, as JSON.
    pub data: String,
    pub data_sha256: Option<String>,
    pub code_hash: Option<String>,
    pub verification_url: Option<String>,
    pub pdf_sha256: Option<String>,
    pub pdf_size: Option<i64>,
    pub pages: Option<i64>,
    pub issued_at: String,
    pub issued_by: String,
    pub annulled_at: Option<String>,
    pub annulled_by: Option<String>,
    pub annul_reason: Option<String>,
    /// The public id of the document that replaced it, and its folio.
    #[sqlx(rename = "replaced_by_public_id")]
    pub replaced_by: Option<PublicId>,
    pub replaced_by_folio: Option<String>,
    /// Who signs its printed paper and whose signed scan is still to be
    /// attached, by field (`representante`), separated by commas; `None`
    /// when none is awaited.
    pub paper_pending: Option<String>,
    /// The SHA-256 of the PDF served now: the issued one (`pdf_sha256`,
    /// which the transparency log records) or, once time-stamps or
    /// validation data were added, the newest extension, which begins
    /// with the issued bytes.
    pub current_pdf_sha256: Option<String>,
    /// Since when it awaits the time-stamp no TSA gave at its issuance.
    pub awaiting_timestamp_since: Option<String>,
    /// When its signature's RFC 3161 time-stamp says it existed (RFC 3339,
    /// UTC), and the TSA that says so; `None` for a document issued
    /// without a time-stamp.
    pub timestamp_at: Option<String>,
    pub timestamp_tsa: Option<String>,
}

impl DocumentRecord {
    /// Whether it awaits the scan of its paper signed by hand.
    pub fn awaits_paper(&self) -> bool {
        self.paper_pending.is_some()
    }
}

/// The columns of a [`DocumentRecord`], selected `FROM documents` (no alias):
/// the public ids of its expediente and replacement are looked up by key.
pub(crate) const DOCUMENT_COLUMNS: &str = "id, public_id, folio, form, status, expediente_id, \
     (SELECT e.public_id FROM expedientes e WHERE e.id = documents.expediente_id) AS expediente_public_id, \
     (SELECT e.title FROM expedientes e WHERE e.id = documents.expediente_id) AS expediente_title, \
     data, data_sha256, code_hash, verification_url, pdf_sha256, pdf_size, pages, issued_at, issued_by, \
     annulled_at, annulled_by, annul_reason, \
     (SELECT r.public_id FROM documents r WHERE r.id = documents.replaced_by) AS replaced_by_public_id, \
     (SELECT r.folio FROM documents r WHERE r.id = documents.replaced_by) AS replaced_by_folio, \
     paper_pending, timestamp_at, timestamp_tsa, \
     COALESCE((SELECT x.pdf_sha256 FROM document_extensions x WHERE x.document_id = documents.id \
     ORDER BY x.id DESC LIMIT 1), documents.pdf_sha256) AS current_pdf_sha256, awaiting_timestamp_since";

/// An expediente as the archive keeps it. Serialized into the manifest of
/// an expediente's export (`export.rs`), without its key.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExpedienteRecord {
    #[sqlx(rename = "public_id")]
    pub id: PublicId,
    /// The database's key: never shown.
    #[sqlx(rename = "id")]
    #[serde(skip)]
    pub row_id: i64,
    pub office_code: String,
    pub kind: String,
    pub key: String,
    pub title: String,
    pub opened_on: String,
    pub closed_on: Option<String>,
    pub retention: String,
}

/// A signature recorded for a document. Serialized into the manifest of
/// an expediente's export.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SignatureRow {
    pub key_id: String,
    pub algorithm: String,
    pub signer: String,
    pub cargo: String,
    pub signed_at: String,
}

/// A person linked to an expediente. Serialized into the manifest of an
/// expediente's export.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PersonRow {
    pub identity: String,
    pub name: String,
}

impl Archive {
    /// A document of this office by its public id or its folio. Documents
    /// still being issued are not visible; a document of another office
    /// is missing, as is anything that is neither.
    pub async fn document(&self, reference: &str) -> Result<DocumentRecord, ArchiveError> {
        let reference = reference.trim();
        let found = match PublicId::parse(reference) {
            Ok(id) => self.document_where("public_id = $2", id).await?,
            // No folio has a control character, and PostgreSQL refuses a NUL.
            Err(_) if reference.contains(char::is_control) => None,
            Err(_) => self.document_where("folio = $2", reference.to_owned()).await?,
        };
        found.ok_or_else(|| ArchiveError::DocumentNotFound(reference.to_owned()))
    }

    /// A document of this office by its key, as the archive's own code
    /// holds it.
    pub(crate) async fn document_by_row(&self, row_id: i64) -> Result<DocumentRecord, ArchiveError> {
        let found = self.document_where("id = $2", row_id).await?;
        found.ok_or_else(|| ArchiveError::DocumentNotFound(String::new()))
    }

    async fn document_where<T>(
        &self,
        condition: &str,
        value: T,
    ) -> Result<Option<DocumentRecord>, ArchiveError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
    {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE office_code = $1 AND status <> 'reservado' \
             AND {condition}"
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(&self.office.code)
                .bind(value)
                .fetch_optional(pool)
                .await?
        })
    }

    /// The document of this office issued under an idempotency key, if any.
    pub async fn document_by_idempotency_key(
        &self,
        key: &str,
    ) -> Result<Option<DocumentRecord>, ArchiveError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE office_code = $1 AND idempotency_key = $2 \
             AND status <> 'reservado'"
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(&self.office.code)
                .bind(key)
                .fetch_optional(pool)
                .await?
        })
    }

    /// The document whose verification code hashes to `code_hash`, in any
    /// office of this archive: what a QR leads to.
    pub async fn document_by_code_hash(
        &self,
        code_hash: &str,
    ) -> Result<Option<DocumentRecord>, ArchiveError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE code_hash = $1 AND status <> 'reservado'"
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql).bind(code_hash).fetch_optional(pool).await?
        })
    }

    /// The signed PDF of an issued document as served now (its newest
    /// extension, if any), checked against its hash.
    pub async fn pdf(&self, document: &DocumentRecord) -> Result<Vec<u8>, ArchiveError> {
        let sha256 = document.current_pdf_sha256.as_deref().ok_or_else(|| {
            ArchiveError::Refused(format!(
                "el folio {} no tiene PDF: no llegó a emitirse",
                document.folio
            ))
        })?;
        Ok(self.blobs.get(sha256).await?)
    }

    pub async fn signatures(&self, document_id: i64) -> Result<Vec<SignatureRow>, ArchiveError> {
        const SQL: &str = "SELECT key_id, algorithm, signer, cargo, signed_at FROM signatures \
             WHERE document_id = $1 ORDER BY id";
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(SQL).bind(document_id).fetch_all(pool).await?
        })
    }

    /// An expediente of this office by its public id; one of another
    /// office is missing.
    pub async fn expediente(&self, id: PublicId) -> Result<ExpedienteRecord, ArchiveError> {
        const SQL: &str = "SELECT id, public_id, office_code, kind, key, title, opened_on, closed_on, retention \
             FROM expedientes WHERE public_id = $1 AND office_code = $2";
        let found: Option<ExpedienteRecord> = {
            let pool = self.store.pool();
            sqlx::query_as(SQL)
                .bind(id)
                .bind(&self.office.code)
                .fetch_optional(pool)
                .await?
        };
        found.ok_or_else(|| ArchiveError::ExpedienteNotFound(id.to_string()))
    }

    /// The visible documents of an expediente, by folio order.
    pub async fn expediente_documents(&self, id: i64) -> Result<Vec<DocumentRecord>, ArchiveError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE expediente_id = $1 AND office_code = $2 \
             AND status <> 'reservado' ORDER BY issued_at, id"
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(id)
                .bind(&self.office.code)
                .fetch_all(pool)
                .await?
        })
    }

    pub async fn expediente_persons(&self, id: i64) -> Result<Vec<PersonRow>, ArchiveError> {
        const SQL: &str = "SELECT p.identity, p.name FROM persons p \
             JOIN expediente_persons ep ON ep.person_id = p.id WHERE ep.expediente_id = $1 ORDER BY p.name";
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(SQL).bind(id).fetch_all(pool).await?
        })
    }

    /// The audit events about an expediente or any of its documents, in order.
    pub async fn expediente_events(&self, id: i64) -> Result<Vec<AuditEvent>, ArchiveError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE expediente_id = $1 \
             OR document_id IN (SELECT id FROM documents WHERE expediente_id = $1) ORDER BY seq"
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql).bind(id).fetch_all(pool).await?
        })
    }

    /// The audit events about one document, in order, including the
    /// steps its draft went through before it was issued.
    pub async fn document_events(&self, id: i64) -> Result<Vec<AuditEvent>, ArchiveError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE document_id = $1 \
             OR draft_id IN (SELECT id FROM drafts WHERE document_id = $1) ORDER BY seq"
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql).bind(id).fetch_all(pool).await?
        })
    }
}
