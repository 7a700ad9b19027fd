//! What the public verification page may show of a document: enough to
//! tell an authentic, current document from a forged or annulled one, and
//! nothing about the people in it.

use super::{Archive, ArchiveError, Status};

/// A document as a beneficiary who scans its QR sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicView {
    pub folio: String,
    /// The form's id; the page shows its title.
    pub form: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub issued_at: String,
    pub office_name: String,
    pub signer: Option<String>,
    pub cargo: Option<String>,
    pub pdf_sha256: Option<String>,
    pub annulled_at: Option<String>,
    /// Why it is no longer valid, as a category (`error_en_los_datos`,
    /// `reemplazado`…): the reason itself is internal.
    pub annul_category: Option<String>,
    /// Where the replacement can be verified, for a replaced document.
    pub replacement_url: Option<String>,
    /// The issuing office, and its own time zone if it has one: the page
    /// shows dates in it.
    pub office_code: String,
    pub office_time_zone: Option<String>,
    /// The replacement's folio, for a replaced document.
    pub replacement_folio: Option<String>,
    /// The SHA-256 of the PDF served now (with time-stamps added after
    /// issuance), which begins with the issued one.
    pub current_pdf_sha256: Option<String>,
    /// When the signature's time-stamp says it existed (RFC 3339, UTC) and
    /// the time-stamping authority that says so; `None` without one.
    pub timestamp_at: Option<String>,
    pub timestamp_tsa: Option<String>,
}

impl Archive {
    /// The public view of the document whose verification code hashes to
    /// `code_hash`, in any office of this archive.
    pub async fn public_view(&self, code_hash: &str) -> Result<Option<PublicView>, ArchiveError> {
        // The last signature row is the one that issued it (the workflow's
        // earlier visados and signatures come before); the office's key
        // sealed every one.
        const SQL: &str = "SELECT d.folio, d.form, d.status, d.issued_at, o.name AS office_name, \
             o.code AS office_code, o.time_zone AS office_time_zone, \
             (SELECT s.signer FROM signatures s WHERE s.document_id = d.id ORDER BY s.id DESC LIMIT 1) AS signer, \
             (SELECT s.cargo FROM signatures s WHERE s.document_id = d.id ORDER BY s.id DESC LIMIT 1) AS cargo, \
             d.pdf_sha256, d.annulled_at, \
             CASE WHEN d.status = 'reemplazado' THEN 'reemplazado' ELSE d.annul_category END AS annul_category, \
             r.verification_url AS replacement_url, r.folio AS replacement_folio, \
             d.timestamp_at, d.timestamp_tsa, \
             COALESCE((SELECT x.pdf_sha256 FROM document_extensions x WHERE x.document_id = d.id \
             ORDER BY x.id DESC LIMIT 1), d.pdf_sha256) AS current_pdf_sha256 \
             FROM documents d JOIN offices o ON o.code = d.office_code \
             LEFT JOIN documents r ON r.id = d.replaced_by \
             WHERE d.code_hash = $1 AND d.status <> 'reservado'";
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(SQL).bind(code_hash).fetch_optional(pool).await?
        })
    }
}
