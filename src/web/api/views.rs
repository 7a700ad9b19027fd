//! What the API shows of the archive's rows, as crates.io keeps its
//! `EncodableCrate` apart from its `Crate` model: each view is built from
//! its row and says field by field what a client sees, so a column added
//! to a table reaches no client unasked and a key of the database never
//! leaves it. The rows themselves serialize nothing for the API.
//!
//! Long because each view repeats its row field by field, which is the
//! point: one place says everything the API shows of the archive.
//!
//! Each view keeps the name its row had in the OpenAPI document
//! (`#[schema(as = …)]`), so clients generated from it keep their types.

use serde::Serialize;

use crate::archive::{
    AuditEvent, CitationLink, DocumentRecord, ExpedienteRecord, HandSignatureRecord, PersonRow, PublicView,
    ReferralRecord, ReferralState, SearchHit, SearchResults, SignatureRow, Status, StepRecord,
};
use crate::forms::Action;
use crate::public_id::PublicId;

/// A document's record: its state, hashes, and who issued or annulled it.
/// Its data travels apart, in the body that carries the record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DocumentRecord)]
pub struct DocumentView {
    pub id: PublicId,
    pub folio: String,
    pub form: String,
    pub status: Status,
    /// The public id of its expediente.
    pub expediente_id: PublicId,
    pub data_sha256: Option<String>,
    pub verification_url: Option<String>,
    /// The issued PDF's SHA-256, which the transparency log records.
    pub pdf_sha256: Option<String>,
    /// The SHA-256 of the PDF downloaded now: the issued one or, once
    /// time-stamps and validation data were added, the extended one, which
    /// begins byte for byte with the issued one.
    pub current_pdf_sha256: Option<String>,
    /// Since when it awaits its time-stamp (no TSA answered at issuance).
    pub awaiting_timestamp_since: Option<String>,
    pub pdf_size: Option<i64>,
    pub pages: Option<i64>,
    pub issued_at: String,
    pub issued_by: String,
    pub annulled_at: Option<String>,
    pub annulled_by: Option<String>,
    pub annul_reason: Option<String>,
    /// The public id of the document that replaced it.
    pub replaced_by: Option<PublicId>,
    /// Who signs its printed paper and whose signed scan is still to be
    /// attached, by field (`representante`): empty when none is awaited.
    pub paper_pending: Vec<String>,
    /// Its signature's RFC 3161 time-stamp; absent when it has none.
    pub timestamp: Option<TimestampView>,
}

/// A signature's RFC 3161 time-stamp: when a time-stamping authority
/// vouches the signature existed, and which authority.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimestampView {
    /// RFC 3339, UTC.
    pub time: String,
    /// The time-stamping authority (TSA), by its certificate's name.
    pub tsa: String,
}

impl TimestampView {
    fn of(time: &Option<String>, tsa: &Option<String>) -> Option<Self> {
        Some(Self {
            time: time.clone()?,
            tsa: tsa.clone().unwrap_or_default(),
        })
    }
}

impl From<&DocumentRecord> for DocumentView {
    fn from(row: &DocumentRecord) -> Self {
        Self {
            id: row.id,
            folio: row.folio.clone(),
            form: row.form.clone(),
            status: row.status,
            expediente_id: row.expediente_id,
            data_sha256: row.data_sha256.clone(),
            verification_url: row.verification_url.clone(),
            pdf_sha256: row.pdf_sha256.clone(),
            current_pdf_sha256: row.current_pdf_sha256.clone(),
            awaiting_timestamp_since: row.awaiting_timestamp_since.clone(),
            pdf_size: row.pdf_size,
            pages: row.pages,
            issued_at: row.issued_at.clone(),
            issued_by: row.issued_by.clone(),
            annulled_at: row.annulled_at.clone(),
            annulled_by: row.annulled_by.clone(),
            annul_reason: row.annul_reason.clone(),
            replaced_by: row.replaced_by,
            // Stored as one comma-separated column.
            paper_pending: row
                .paper_pending
                .as_deref()
                .map(|list| list.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            timestamp: TimestampView::of(&row.timestamp_at, &row.timestamp_tsa),
        }
    }
}

/// A citation between two documents of the office: the other document,
/// and the `documento` field of the one that cites.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CitationView {
    /// The citing document's field.
    pub field: String,
    /// The other document's id.
    pub document: PublicId,
    pub folio: String,
    pub form: String,
    pub status: Status,
    /// Its issue date.
    pub issued_on: String,
    /// The office it belongs to: another office's when a derivación
    /// shares it (see `/api/v1/derivaciones`).
    pub office_code: String,
}

impl From<&CitationLink> for CitationView {
    fn from(row: &CitationLink) -> Self {
        Self {
            field: row.field.clone(),
            document: row.document_id,
            folio: row.folio.clone(),
            form: row.form.clone(),
            status: row.status,
            issued_on: row.issued_on.clone(),
            office_code: row.office_code.clone(),
        }
    }
}

/// An expediente, without the database's key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ExpedienteRecord)]
pub struct ExpedienteView {
    pub id: PublicId,
    pub office_code: String,
    pub kind: String,
    pub key: String,
    pub title: String,
    pub opened_on: String,
    pub closed_on: Option<String>,
    pub retention: String,
}

impl From<&ExpedienteRecord> for ExpedienteView {
    fn from(row: &ExpedienteRecord) -> Self {
        Self {
            id: row.id,
            office_code: row.office_code.clone(),
            kind: row.kind.clone(),
            key: row.key.clone(),
            title: row.title.clone(),
            opened_on: row.opened_on.clone(),
            closed_on: row.closed_on.clone(),
            retention: row.retention.clone(),
        }
    }
}

/// A signature recorded for a document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SignatureRow)]
pub struct SignatureView {
    pub key_id: String,
    pub algorithm: String,
    pub signer: String,
    pub cargo: String,
    pub signed_at: String,
}

impl From<&SignatureRow> for SignatureView {
    fn from(row: &SignatureRow) -> Self {
        Self {
            key_id: row.key_id.clone(),
            algorithm: row.algorithm.clone(),
            signer: row.signer.clone(),
            cargo: row.cargo.clone(),
            signed_at: row.signed_at.clone(),
        }
    }
}

/// A person linked to an expediente.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PersonRow)]
pub struct PersonView {
    pub identity: String,
    pub name: String,
}

impl From<&PersonRow> for PersonView {
    fn from(row: &PersonRow) -> Self {
        Self {
            identity: row.identity.clone(),
            name: row.name.clone(),
        }
    }
}

/// A hand signature as recorded, without the database's keys (of its
/// draft, document and the account that took it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = HandSignatureRecord)]
pub struct HandSignatureView {
    pub id: PublicId,
    /// Which signer: `representante`, `asistentes[3]`; empty for a scan
    /// of the whole signed paper.
    pub signer: String,
    pub name: String,
    /// `pantalla` (drawn on screen) or `papel` (a scan).
    pub kind: String,
    /// What it acknowledges, for those given after issue.
    pub purpose: String,
    pub blob_sha256: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub consent: bool,
    pub device: String,
    pub at: String,
}

impl From<&HandSignatureRecord> for HandSignatureView {
    fn from(row: &HandSignatureRecord) -> Self {
        Self {
            id: row.id,
            signer: row.signer.clone(),
            name: row.name.clone(),
            kind: row.kind.clone(),
            purpose: row.purpose.clone(),
            blob_sha256: row.blob_sha256.clone(),
            media_type: row.media_type.clone(),
            size_bytes: row.size_bytes,
            consent: row.consent,
            device: row.device.clone(),
            at: row.at.clone(),
        }
    }
}

/// One step taken on a draft; who took it by name and cargo only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = StepRecord)]
pub struct StepView {
    /// The workflow step it was taken at.
    pub step: String,
    pub action: Action,
    /// Name and cargo as they were then.
    pub name: String,
    pub cargo: String,
    /// The reason of a rejection, or a remark.
    pub note: Option<String>,
    pub at: String,
}

impl From<&StepRecord> for StepView {
    fn from(row: &StepRecord) -> Self {
        Self {
            step: row.step.clone(),
            action: row.action,
            name: row.name.clone(),
            cargo: row.cargo.clone(),
            note: row.note.clone(),
            at: row.at.clone(),
        }
    }
}

/// An audit event as the API shows it: what happened, when and by whom.
/// The trail's sequence numbers, hashes and keys are the installation's,
/// across offices, and stay in the archive.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = EventBody)]
pub struct EventView {
    pub at: String,
    pub actor: String,
    /// As `borrador.enviado` or `documento.emitido`.
    pub action: String,
    /// JSON, as recorded.
    pub details: String,
}

impl From<&AuditEvent> for EventView {
    fn from(event: &AuditEvent) -> Self {
        Self {
            at: event.at.clone(),
            actor: event.actor.clone(),
            action: event.action.clone(),
            details: event.details.clone(),
        }
    }
}

/// One document found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchHit)]
pub struct SearchHitView {
    pub id: PublicId,
    /// The code of the office whose document it is.
    pub office: String,
    pub folio: String,
    pub form: String,
    pub status: Status,
    pub issued_on: String,
    pub expediente_id: PublicId,
    pub expediente_title: String,
    /// Higher is a better match.
    pub rank: f64,
}

impl From<&SearchHit> for SearchHitView {
    fn from(hit: &SearchHit) -> Self {
        Self {
            id: hit.id,
            office: hit.office_code.clone(),
            folio: hit.folio.clone(),
            form: hit.form.clone(),
            status: hit.status,
            issued_on: hit.issued_on.clone(),
            expediente_id: hit.expediente_id,
            expediente_title: hit.expediente_title.clone(),
            rank: hit.rank,
        }
    }
}

/// A page of a search's results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchResults)]
pub struct SearchResultsView {
    /// How many documents match, counted up to `RANKED_MAX` (or the
    /// archive's own limit); beyond
    /// that `total_exact` is false and `total` is a lower bound.
    pub total: i64,
    pub total_exact: bool,
    /// Whether the hits are ordered by relevance (a search with text and at
    /// most `RANKED_MAX` matches) or newest first.
    pub ranked: bool,
    pub page: u32,
    pub per_page: u32,
    pub hits: Vec<SearchHitView>,
}

impl From<&SearchResults> for SearchResultsView {
    fn from(results: &SearchResults) -> Self {
        Self {
            total: results.total,
            total_exact: results.total_exact,
            ranked: results.ranked,
            page: results.page,
            per_page: results.per_page,
            hits: results.hits.iter().map(SearchHitView::from).collect(),
        }
    }
}

/// A document as a beneficiary who scans its QR sees it: nothing about
/// the people in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PublicView)]
pub struct VerificationView {
    pub folio: String,
    /// The form's id; the page shows its title.
    pub form: String,
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
    /// The replacement's folio, for a replaced document.
    pub replacement_folio: Option<String>,
    /// The signature's RFC 3161 time-stamp; absent when it has none.
    pub timestamp: Option<TimestampView>,
}

impl From<&PublicView> for VerificationView {
    fn from(view: &PublicView) -> Self {
        Self {
            folio: view.folio.clone(),
            form: view.form.clone(),
            status: view.status,
            issued_at: view.issued_at.clone(),
            office_name: view.office_name.clone(),
            signer: view.signer.clone(),
            cargo: view.cargo.clone(),
            pdf_sha256: view.pdf_sha256.clone(),
            annulled_at: view.annulled_at.clone(),
            annul_category: view.annul_category.clone(),
            replacement_url: view.replacement_url.clone(),
            replacement_folio: view.replacement_folio.clone(),
            timestamp: TimestampView::of(&view.timestamp_at, &view.timestamp_tsa),
        }
    }
}

/// A referral between offices, named by its derivación; without the
/// database's keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReferralRecord)]
pub struct ReferralView {
    /// The derivación's id: the referral's name.
    pub id: PublicId,
    /// The derivación's folio.
    pub folio: String,
    /// The derivación's own state (emitido, anulado, reemplazado).
    pub status: Status,
    /// enviada, recibida, respondida or vencida (past its due day
    /// without an answer in force).
    pub estado: ReferralState,
    pub issued_on: String,
    pub from_office: String,
    pub to_office: String,
    /// YYYY-MM-DD: the last day to answer, from the protocol's deadline.
    pub due_on: String,
    pub received_at: Option<String>,
    pub received_by: Option<String>,
    /// The contrarreferencia that answered it, once issued.
    pub answer: Option<PublicId>,
    pub answer_folio: Option<String>,
}

impl ReferralView {
    pub fn of(row: &ReferralRecord, estado: ReferralState) -> Self {
        let answer = row.answer();
        Self {
            id: row.id,
            folio: row.folio.clone(),
            status: row.document_status,
            estado,
            issued_on: row.issued_on.clone(),
            from_office: row.from_office.clone(),
            to_office: row.to_office.clone(),
            due_on: row.due_on.clone(),
            received_at: row.received_at.clone(),
            received_by: row.received_by.clone(),
            answer: answer.map(|(id, _)| id),
            answer_folio: answer.map(|(_, folio)| folio.to_owned()),
        }
    }
}
