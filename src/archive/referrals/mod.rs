//! Referrals between offices (seed 002: referencia y contrarreferencia).
//! A derivación issued by one office names another office of the
//! installation; the receiving office sees it in its inbox with exactly
//! the documents it shares and nothing else of the case, and answers it
//! with a contrarreferencia of its own that cites it, which the referring
//! office then sees in its expediente. Opening it marks it received: a
//! person of the receiving office on its page, or the office's system
//! taking it through the API (`received_by` then ends in «(API)»); either
//! way it reached the office. Every share, reception, answer and view of
//! another office's document (its PDF, or its data through the API) goes
//! into the audit trail. An office that neither sent nor received a
//! referral finds nothing, as it finds nothing of another office's archive.
//! What the rules judge when the folio is taken is in [`judge`].

mod judge;
mod recording;

pub(crate) use judge::{ReferralPlan, judge};
pub(crate) use recording::{on_issued, record, recorded_data};

use chrono::{NaiveDate, SecondsFormat, Utc};
use serde_json::json;

use super::audit::{NewEvent, append_event};
use super::documents::{DOCUMENT_COLUMNS, DocumentRecord};
use super::{Archive, ArchiveError, Status};
use crate::public_id::PublicId;

/// The SQL condition, over a document `d`, that it belongs to another
/// office and is shared with the office the parameter `office` names: a
/// derivación sent to it, a document such a derivación shares, or the
/// answer to a derivación it sent. A derivación or an answer counts once
/// it was issued (it has its PDF), even if annulled later; one whose
/// issuance failed shares and answers nothing.
pub(crate) fn shared_with(office: &str) -> String {
    format!(
        "(d.id IN (SELECT r.document_id FROM referrals r JOIN documents x ON x.id = r.document_id \
         WHERE r.to_office = {office} AND x.pdf_sha256 IS NOT NULL) \
         OR d.id IN (SELECT s.document_id FROM referral_shares s JOIN referrals r ON r.id = s.referral_id \
         JOIN documents x ON x.id = r.document_id WHERE r.to_office = {office} AND x.pdf_sha256 IS NOT NULL) \
         OR d.id IN (SELECT r.answered_by FROM referrals r JOIN documents x ON x.id = r.answered_by \
         WHERE r.from_office = {office} AND x.pdf_sha256 IS NOT NULL))"
    )
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReferralState {
    /// Issued, not yet opened by the receiving office.
    Enviada,
    /// Opened by the receiving office, not yet answered.
    Recibida,
    /// Answered by a contrarreferencia in force.
    Respondida,
    /// Past its due day without an answer in force.
    Vencida,
    /// Its derivación annulled (or replaced): nothing to answer, nothing
    /// more shared through it.
    Anulada,
}

impl ReferralState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enviada => "enviada",
            Self::Recibida => "recibida",
            Self::Respondida => "respondida",
            Self::Vencida => "vencida",
            Self::Anulada => "anulada",
        }
    }
}

/// A referral as the archive keeps it, named by its derivación.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReferralRecord {
    /// The derivación's public id: the referral's name.
    #[sqlx(rename = "public_id")]
    pub id: PublicId,
    /// The derivación's key: never shown.
    pub document_row_id: i64,
    pub folio: String,
    /// The derivación's form.
    pub form: String,
    #[sqlx(try_from = "String")]
    pub document_status: Status,
    pub issued_on: String,
    pub from_office: String,
    pub to_office: String,
    /// `enviada` or `recibida`, as stored.
    stored_state: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    pub received_at: Option<String>,
    pub received_by: Option<String>,
    #[sqlx(rename = "answer_public_id")]
    pub answer_id: Option<PublicId>,
    pub answer_folio: Option<String>,
    answer_status: Option<String>,
    /// The derivación's expediente (of the referring office): never shown.
    pub expediente_row_id: i64,
    /// The answer's expediente (of the receiving office): never shown.
    pub answer_expediente_row_id: Option<i64>,
}

impl ReferralRecord {
    /// Its state on `today` (the office's day): annulled when its
    /// derivación is no longer in force, answered when an answer is in
    /// force, overdue when past its due day without one.
    pub fn state(&self, today: NaiveDate) -> ReferralState {
        if self.document_status != Status::Emitido {
            return ReferralState::Anulada;
        }
        if self.answer_status.as_deref() == Some("emitido") {
            return ReferralState::Respondida;
        }
        let due = NaiveDate::parse_from_str(&self.due_on, "%Y-%m-%d").ok();
        if due.is_some_and(|due| today > due) {
            return ReferralState::Vencida;
        }
        if self.stored_state == "recibida" {
            ReferralState::Recibida
        } else {
            ReferralState::Enviada
        }
    }

    /// The answer issued, whatever became of it since (see
    /// [`ReferralRecord::state`] for whether it is in force); `None` while
    /// none was issued. An answer whose issuance failed has no PDF and is
    /// never joined here (`REFERRAL_FROM`): it answered nothing.
    pub fn answer(&self) -> Option<(PublicId, &str)> {
        match (self.answer_status.as_deref(), self.answer_id, &self.answer_folio) {
            (Some("emitido" | "reemplazado" | "anulado"), Some(id), Some(folio)) => Some((id, folio)),
            _ => None,
        }
    }
}

const REFERRAL_COLUMNS: &str = "d.public_id, d.id AS document_row_id, d.folio, d.form, d.status AS document_status, \
     d.issued_on, r.from_office, r.to_office, r.state AS stored_state, r.due_on, r.received_at, r.received_by, \
     a.public_id AS answer_public_id, a.folio AS answer_folio, a.status AS answer_status, \
     d.expediente_id AS expediente_row_id, a.expediente_id AS answer_expediente_row_id";

/// Referrals with their derivación issued (whatever became of it since),
/// and their answer if one was issued: a document being issued, or whose
/// issuance failed, has no PDF and is no answer.
const REFERRAL_FROM: &str = "FROM referrals r JOIN documents d ON d.id = r.document_id \
     LEFT JOIN documents a ON a.id = r.answered_by AND a.pdf_sha256 IS NOT NULL \
     WHERE d.pdf_sha256 IS NOT NULL";

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Archive {
    /// The referrals sent to this office, newest first.
    pub async fn referrals_received(&self) -> Result<Vec<ReferralRecord>, ArchiveError> {
        self.referrals_where("r.to_office = $1").await
    }

    /// The referrals this office sent, newest first.
    pub async fn referrals_sent(&self) -> Result<Vec<ReferralRecord>, ArchiveError> {
        self.referrals_where("r.from_office = $1").await
    }

    /// The referrals an expediente of this office takes part in: those its
    /// derivaciones sent, and those its contrarreferencias answered.
    pub async fn expediente_referrals(
        &self,
        expediente_id: i64,
    ) -> Result<Vec<ReferralRecord>, ArchiveError> {
        let sql = format!(
            "SELECT {REFERRAL_COLUMNS} {REFERRAL_FROM} AND ((r.from_office = $1 AND d.expediente_id = $2) \
             OR (r.to_office = $1 AND a.expediente_id = $2)) ORDER BY d.id"
        );
        let pool = self.store.pool();
        Ok(sqlx::query_as(&sql)
            .bind(&self.office.code)
            .bind(expediente_id)
            .fetch_all(pool)
            .await?)
    }

    async fn referrals_where(&self, condition: &str) -> Result<Vec<ReferralRecord>, ArchiveError> {
        let sql = format!("SELECT {REFERRAL_COLUMNS} {REFERRAL_FROM} AND {condition} ORDER BY d.id DESC");
        let pool = self.store.pool();
        Ok(sqlx::query_as(&sql)
            .bind(&self.office.code)
            .fetch_all(pool)
            .await?)
    }

    /// A referral this office sent or received, by its derivación's public
    /// id; any other is missing, as another office's documents are.
    pub async fn referral(&self, id: PublicId) -> Result<ReferralRecord, ArchiveError> {
        let sql = format!(
            "SELECT {REFERRAL_COLUMNS} {REFERRAL_FROM} AND d.public_id = $2 \
             AND (r.to_office = $1 OR r.from_office = $1)"
        );
        let found: Option<ReferralRecord> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(&self.office.code)
                .bind(id)
                .fetch_optional(pool)
                .await?
        };
        found.ok_or_else(|| ArchiveError::DocumentNotFound(id.to_string()))
    }

    /// Opens a referral: for the receiving office, the first opening marks
    /// it received, in the audit trail too. Either office sees it as is.
    pub async fn open_referral(&self, id: PublicId, actor: &str) -> Result<ReferralRecord, ArchiveError> {
        let referral = self.referral(id).await?;
        if referral.to_office != self.office.code || referral.stored_state != "enviada" {
            return Ok(referral);
        }
        {
            let mut tx = self.store.begin_write().await?;
            let at = now();
            let updated = sqlx::query(
                "UPDATE referrals SET state = 'recibida', received_at = $2, received_by = $3 \
                 WHERE document_id = $1 AND state = 'enviada'",
            )
            .bind(referral.document_row_id)
            .bind(&at)
            .bind(actor)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 1 {
                // By its document, so the referring office's expediente shows it.
                append_event(
                    &mut tx,
                    NewEvent {
                        actor: actor.to_owned(),
                        action: "derivacion.recibida",
                        office_code: Some(self.office.code.clone()),
                        document_id: Some(referral.document_row_id),
                        expediente_id: None,
                        draft_id: None,
                        details: json!({"folio": referral.folio, "oficina_que_derivo": referral.from_office}),
                    },
                )
                .await?;
            }
            tx.commit().await?;
        }
        self.referral(id).await
    }

    /// The documents a referral lets both offices see: the derivación,
    /// the documents it shares and its answer (if issued: with its PDF),
    /// in that order. Once the derivación is annulled, the receiving office
    /// no longer sees the documents it shared.
    pub async fn referral_documents(
        &self,
        referral: &ReferralRecord,
    ) -> Result<Vec<(DocumentRecord, String)>, ArchiveError> {
        let shares = !self.withdrawn_from_here(referral);
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS}, office_code FROM documents WHERE pdf_sha256 IS NOT NULL AND (id = $1 \
             OR ($3 AND id IN (SELECT s.document_id FROM referral_shares s JOIN referrals r ON r.id = s.referral_id \
             WHERE r.document_id = $1)) \
             OR id IN (SELECT r.answered_by FROM referrals r WHERE r.document_id = $1 AND r.answered_by IS NOT NULL)) \
             ORDER BY CASE WHEN id = $1 THEN 0 WHEN office_code = $2 THEN 1 ELSE 2 END, id"
        );
        let rows: Vec<OfficeDocument> = {
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(referral.document_row_id)
                .bind(&referral.from_office)
                .bind(shares)
                .fetch_all(pool)
                .await?
        };
        Ok(rows
            .into_iter()
            .map(|row| (row.document, row.office_code))
            .collect())
    }

    /// Whether this office received `referral` and its derivación is no
    /// longer in force: what it shared is no longer this office's to see.
    fn withdrawn_from_here(&self, referral: &ReferralRecord) -> bool {
        referral.to_office == self.office.code && referral.document_status != Status::Emitido
    }

    /// One document a referral lets this office see, with its PDF. Seeing a
    /// document of another office is recorded in the audit trail.
    pub async fn referral_pdf(
        &self,
        referral: &ReferralRecord,
        document: PublicId,
        actor: &str,
    ) -> Result<(DocumentRecord, Vec<u8>), ArchiveError> {
        let (record, office_code) = self
            .referral_documents(referral)
            .await?
            .into_iter()
            .find(|(d, _)| d.id == document)
            .ok_or_else(|| {
                if self.withdrawn_from_here(referral) {
                    ArchiveError::NotShared(format!(
                        "la derivación {} está anulada: sus documentos ya no se comparten con esta oficina",
                        referral.folio
                    ))
                } else {
                    ArchiveError::DocumentNotFound(document.to_string())
                }
            })?;
        let pdf = self.pdf(&record).await?;
        self.record_referral_views(referral, &[(record.clone(), office_code)], actor, "pdf")
            .await?;
        Ok((record, pdf))
    }

    /// Records in the audit trail that `actor` of this office saw, through
    /// `referral`, the documents of `seen` that are another office's:
    /// `view` says what of them, `pdf` or `datos` (their data, as the API
    /// gives them). Documents of this office record nothing.
    pub async fn record_referral_views(
        &self,
        referral: &ReferralRecord,
        seen: &[(DocumentRecord, String)],
        actor: &str,
        view: &str,
    ) -> Result<(), ArchiveError> {
        let others: Vec<&(DocumentRecord, String)> = seen
            .iter()
            .filter(|(_, office)| *office != self.office.code)
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin_write().await?;
        for (record, office_code) in others {
            append_event(
                &mut tx,
                NewEvent {
                    actor: actor.to_owned(),
                    action: "derivacion.documento_consultado",
                    office_code: Some(self.office.code.clone()),
                    document_id: Some(record.row_id),
                    expediente_id: None,
                    draft_id: None,
                    details: json!({
                        "folio": record.folio,
                        "derivacion": referral.folio,
                        "oficina_del_documento": office_code,
                        "vista": view,
                    }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A document with the office it belongs to.
#[derive(sqlx::FromRow)]
struct OfficeDocument {
    #[sqlx(flatten)]
    document: DocumentRecord,
    office_code: String,
}
