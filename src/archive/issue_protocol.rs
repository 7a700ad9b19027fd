//! The protocol of issuing into the archive. A document's folio is taken
//! in a first short transaction that records the document as `reservado`;
//! it is rendered and signed outside any transaction (so several can
//! render at once); its PDF is stored and checked; then a second
//! transaction marks it `emitido`, indexes it and seals the audit event.
//! If anything fails in between, or the process dies, the folio is
//! recorded as annulled ("emisión fallida" or "emisión interrumpida"):
//! numbers are never reused and never silently missing, as with a spoiled
//! sheet of paper.
//!
//! Long because reserving, completing and abandoning an issuance are one
//! protocol (`reservado` → `emitido` or annulled) whose transactions must
//! be read together to see that no folio is lost or reused. The rules and
//! SQL steps of the reservation itself are apart, in `reservation`.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::audit::{NewEvent, append_event, hex};
use super::case;
use super::documents::DocumentRecord;
use super::reservation::Reservation;
use super::reservation::rules::{self, KeyUse, Plan};
use super::reservation::steps::{self, Reserved};
use super::steps::FinalSignature;
use super::text::{data_text, fold};
use super::{Archive, ArchiveError};
use crate::forms::{FormSpec, StepKind};
use crate::public_id::PublicId;
use crate::render::Endorsement;
use crate::signed_pdf::{IssueError, IssuedDocument};

/// What the archive needs to issue one document.
pub struct IssueOrder<'a> {
    pub form: &'a FormSpec,
    pub data: &'a Value,
    pub issued_at: DateTime<Tz>,
    /// Who issues it, for the audit trail.
    pub actor: &'a str,
    /// File it here (by its public id) instead of the expediente derived
    /// from the data.
    pub expediente_id: Option<PublicId>,
    /// The same key with the same data returns the same document.
    pub idempotency_key: Option<&'a str>,
    /// The draft whose last signature this issuance is, recorded with it.
    pub draft: Option<FinalSignature<'a>>,
    /// Every visado and signature printed on the document, the one
    /// issuing it last; empty when no account signs (the office's seal).
    pub endorsements: Vec<Endorsement>,
    /// The people it names who sign the printed paper (by field:
    /// `representante`): the document awaits its signed scan.
    pub on_paper: Vec<String>,
}

/// The outcome of an issuance.
pub enum Issued {
    /// Issued now, with its PDF and verification code.
    New {
        record: DocumentRecord,
        document: Box<IssuedDocument>,
    },
    /// Issued before under the same idempotency key, with the same data.
    Existing(DocumentRecord),
}

impl Issued {
    pub fn record(&self) -> &DocumentRecord {
        match self {
            Issued::New { record, .. } | Issued::Existing(record) => record,
        }
    }
}

/// When an issued document enters the full-text index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Indexing {
    /// In the transaction that issues it.
    Now,
    /// Queued in that transaction, indexed with its batch.
    Queued,
}

/// How long a reservation may stay unfinished before it is taken for the
/// remains of a crash; issuing even a long padrón takes seconds.
pub const INTERRUPTED_AFTER: Duration = Duration::from_secs(15 * 60);

/// A condition on `documents`: not the document reserved for a row of a
/// lote still being issued, whose chunk will complete that very folio.
/// By the document, not by its key: the same sheet uploaded again after a
/// failed lote does not shelter (and then adopt) the failed one's folios.
const NOT_WAITING_IN_A_LOTE: &str = "AND NOT EXISTS (SELECT 1 FROM lote_rows r JOIN lotes l ON l.id = r.lote_id \
     WHERE r.document_id = documents.id AND l.finished_at IS NULL AND l.awaiting_approval = 0)";

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Archive {
    /// Issues a document: takes its folio, has `render` make the signed PDF
    /// for that reservation (its folio, and the documents it cites), stores it and commits. `render` runs on this thread
    /// (inside `block_in_place` when the runtime allows it).
    pub async fn issue(
        &self,
        order: &IssueOrder<'_>,
        render: impl FnOnce(&Reservation) -> Result<IssuedDocument, IssueError>,
    ) -> Result<Issued, ArchiveError> {
        let reservation = match self.reserve(order).await? {
            Ok(reservation) => reservation,
            Err(existing) => return Ok(Issued::Existing(existing)),
        };
        let rendered = match tokio::runtime::Handle::current().runtime_flavor() {
            tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| render(&reservation))
            }
            _ => render(&reservation),
        };
        self.finish_issue(&reservation, order, rendered).await
    }

    /// The end of an issuance whose folio `reservation` took and whose PDF
    /// was `rendered` (or failed to be): stored and committed, or the folio
    /// annulled as a failed issuance.
    pub async fn finish_issue(
        &self,
        reservation: &Reservation,
        order: &IssueOrder<'_>,
        rendered: Result<IssuedDocument, IssueError>,
    ) -> Result<Issued, ArchiveError> {
        let document = match rendered {
            Ok(document) => document,
            Err(error) => {
                self.abandon(reservation, &format!("emisión fallida: {error}"))
                    .await?;
                return Err(error.into());
            }
        };
        match self.complete(reservation, order, &document).await {
            Ok(record) => Ok(Issued::New {
                record,
                document: Box::new(document),
            }),
            Err(error) => {
                self.abandon(reservation, &format!("emisión fallida: {error}"))
                    .await?;
                Err(error)
            }
        }
    }

    /// Takes a folio for the document and records it as `reservado`, with
    /// its expediente and persons; or, for a known idempotency key with the
    /// same data, returns the document issued before. Its rules and SQL
    /// steps are in `reservation`.
    pub async fn reserve(
        &self,
        order: &IssueOrder<'_>,
    ) -> Result<Result<Reservation, DocumentRecord>, ArchiveError> {
        self.reserve_for(order, None).await
    }

    /// [`reserve`](Self::reserve), recording the document reserved in the
    /// row `(lote, line)` of a lote in the same transaction: an instance
    /// that dies just after cannot leave a folio that no row names, which
    /// the recovery would annul as interrupted.
    pub async fn reserve_for(
        &self,
        order: &IssueOrder<'_>,
        lote_row: Option<(i64, usize)>,
    ) -> Result<Result<Reservation, DocumentRecord>, ArchiveError> {
        let office = &self.office;
        let plan = Plan::of(order);
        let reserved_at = now();
        let document_public_id = PublicId::generate()?;
        let expediente_public_id = PublicId::generate()?;
        // PostgreSQL must lock the expediente so that it is not closed while
        // a document is filed in it; SQLite's write lock already does. A
        // form with an order that excludes another takes it exclusively,
        // so that a Carta and a Declaración reserved at once for one
        // family are judged one after the other.
        let ordered = order
            .form
            .expediente
            .as_ref()
            .is_some_and(|r| !r.excludes.is_empty());
        let share_lock = self.store.dialect().row_lock(ordered);

        let mut tx = self.store.begin_write().await?;
        if let Some(key) = order.idempotency_key {
            let earlier = steps::earlier_use(&mut tx, &office.code, key).await?;
            if rules::key_use(key, earlier.as_ref(), &plan.request)? == KeyUse::Issued {
                let record = steps::issued_under_key(&mut tx, &office.code, key).await?;
                return Ok(Err(record));
            }
        }
        steps::ensure_series(&mut tx, office, &plan).await?;
        let (expediente_id, expediente_title) = match order.expediente_id {
            Some(public_id) => {
                let found = steps::expediente_by_id(&mut tx, &office.code, public_id, share_lock).await?;
                rules::chosen_expediente(public_id, found)?
            }
            None => {
                let opened =
                    steps::open_expediente(&mut tx, &office.code, expediente_public_id, &plan).await?;
                let found =
                    steps::expediente_by_key(&mut tx, &office.code, &plan.derived, share_lock).await?;
                let (id, title) = rules::derived_expediente(found)?;
                if opened {
                    steps::record_opening(&mut tx, order.actor, &office.code, (id, &title), &plan.derived)
                        .await?;
                }
                (id, title)
            }
        };
        // The case's rules, in the transaction that files the document, so
        // that a citation annulled or a Carta issued meanwhile counts.
        let target = case::Target {
            id: Some(expediente_id),
            title: &expediente_title,
        };
        let judged = case::Judged {
            form: order.form,
            data: order.data,
            persons: &plan.persons,
            issued_on: &plan.issued_on,
            corrects: order.draft.as_ref().and_then(|d| d.replaces),
            referral_lock: self.store.dialect().row_lock(true),
        };
        let judgement = case::judge(&mut tx, &office.code, &judged, target)
            .await?
            .map_err(case::refused)?;
        let citations = judgement.resolved;
        let mut data = super::referrals::recorded_data(order.form, order.data, &judgement.referral);
        // A report of sessions counts the listas in force now, in this
        // transaction: what it stores and prints is what the archive holds.
        if let Some(rule) = &order.form.conteo
            && let Some(counts) = super::session_counts::count_in(&mut tx, &office.code, rule, &data).await?
        {
            data = super::session_counts::recorded(&data, &counts).map_err(case::refused)?;
        }
        let number = steps::next_number(&mut tx, &office.code, &plan).await?;
        let number = rules::folio_number(number)?;
        let folio = plan.folio(&self.folio_format, &office.code, number);
        let reserved = Reserved {
            office_code: &office.code,
            order,
            plan: &plan,
            number,
            folio: &folio,
            expediente_id,
            public_id: document_public_id,
            reserved_at: &reserved_at,
            data: &data,
        };
        let document_id = steps::insert_reserved(&mut tx, &reserved)
            .await
            .map_err(|e| rules::insert_failure(e, order.idempotency_key))?;
        steps::link_persons(&mut tx, &office.code, (expediente_id, document_id), &plan.persons).await?;
        case::record_citations(&mut tx, document_id, &citations).await?;
        super::referrals::record(&mut tx, &office.code, document_id, &judgement.referral).await?;
        if let Some((lote, line)) = lote_row {
            sqlx::query("UPDATE lote_rows SET document_id = $1 WHERE lote_id = $2 AND line = $3")
                .bind(document_id)
                .bind(lote)
                .bind(i64::try_from(line).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(Reservation {
            document_id,
            folio,
            expediente_id,
            issued_at: order.issued_at.fixed_offset(),
            expediente_title,
            identities: plan.persons.iter().map(|p| p.identity.clone()).collect(),
            citations: citations.into_iter().map(|c| c.printed).collect(),
            data,
        }))
    }

    /// Stores the signed PDF, checks it, and marks the document issued and
    /// searchable.
    pub async fn complete(
        &self,
        reservation: &Reservation,
        order: &IssueOrder<'_>,
        document: &IssuedDocument,
    ) -> Result<DocumentRecord, ArchiveError> {
        self.complete_indexing(reservation, order, document, Indexing::Now)
            .await
    }

    /// Like [`Archive::complete`], for a run of many documents: on SQLite
    /// the document is queued to be indexed with the rest of its batch by
    /// [`Archive::index_queued`], which the run calls.
    pub async fn complete_in_batch(
        &self,
        reservation: &Reservation,
        order: &IssueOrder<'_>,
        document: &IssuedDocument,
    ) -> Result<DocumentRecord, ArchiveError> {
        self.complete_indexing(reservation, order, document, Indexing::Queued)
            .await
    }

    async fn complete_indexing(
        &self,
        reservation: &Reservation,
        order: &IssueOrder<'_>,
        document: &IssuedDocument,
        indexing: Indexing,
    ) -> Result<DocumentRecord, ArchiveError> {
        let pdf_sha256 = self.blobs.put(document.pdf.clone()).await?;
        // When a later archival time-stamp is due (`sello archive renew`).
        let evidence_until = crate::pdf::evidence_expiry(&document.pdf)
            .ok()
            .flatten()
            .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true));
        // Identity numbers also without dots, so «15432876-9» finds
        // «15.432.876-9».
        let body = fold(&format!(
            "{}\n{}\n{}\n{}\n{}",
            order.form.title,
            reservation.folio,
            reservation.expediente_title,
            data_text(&reservation.data),
            reservation.identities.join("\n")
        ));
        let index_sql = self.store.dialect().index_document(indexing == Indexing::Queued);
        let signature = &document.signature;
        let id = reservation.document_id;
        {
            let mut tx = self.store.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE documents SET status = 'emitido', data_sha256 = $2, code_hash = $3, pdf_sha256 = $4, \
                 pdf_size = $5, pages = $6, verification_url = $7, paper_pending = $8, \
                 timestamp_at = $9, timestamp_tsa = $10, \
                 awaiting_timestamp_since = $11, evidence_until = $12 \
                 WHERE id = $1 AND status = 'reservado'",
            )
            .bind(id)
            .bind(hex(&document.data_sha256))
            .bind(hex(&document.code.hash()))
            .bind(&pdf_sha256)
            .bind(document.pdf.len() as i64)
            .bind(document.pages as i64)
            .bind(&document.url)
            .bind((!order.on_paper.is_empty()).then(|| order.on_paper.join(",")))
            .bind(
                document
                    .timestamp
                    .as_ref()
                    .map(|stamp| stamp.time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            )
            .bind(document.timestamp.as_ref().map(|stamp| stamp.tsa.clone()))
            .bind(document.awaiting_timestamp.then(now))
            .bind(&evidence_until)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Err(ArchiveError::Refused(format!(
                    "el folio {} fue anulado mientras se emitía",
                    reservation.folio
                )));
            }
            // One row per signature the office key seals: the workflow's
            // earlier ones, in order, then the one issuing it.
            let earlier = order
                .endorsements
                .split_last()
                .map_or(&[][..], |(_, earlier)| earlier);
            let signers = earlier
                .iter()
                .filter(|e| e.tipo == StepKind::Firma)
                .map(|e| (&e.nombre, &e.cargo, &e.fecha_hora))
                .chain([(&signature.signer, &signature.cargo, &signature.signed_at)]);
            for (signer, cargo, signed_at) in signers {
                sqlx::query(
                    "INSERT INTO signatures (document_id, key_id, algorithm, signer, cargo, signed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(&signature.key_id)
                .bind(signature.algorithm)
                .bind(signer)
                .bind(cargo)
                .bind(signed_at)
                .execute(&mut *tx)
                .await?;
            }
            super::log::append(&mut tx, id, super::log::LogEvent::Emision).await?;
            if let Some(last) = &order.draft {
                super::steps::close_signed_draft(
                    &mut tx,
                    &self.office.code,
                    last,
                    id,
                    reservation.folio.as_str(),
                )
                .await?;
            }
            sqlx::query(index_sql)
                .bind(id)
                .bind(&body)
                .execute(&mut *tx)
                .await?;
            super::referrals::on_issued(&mut tx, order.actor, id).await?;
            append_event(
                &mut tx,
                NewEvent {
                    actor: order.actor.to_owned(),
                    action: "documento.emitido",
                    office_code: Some(self.office.code.clone()),
                    document_id: Some(id),
                    expediente_id: Some(reservation.expediente_id),
                    draft_id: None,
                    details: json!({
                        "folio": reservation.folio.as_str(),
                        "formulario": order.form.id.as_str(),
                        "pdf_sha256": pdf_sha256,
                        "firmante": signature.signer,
                        "clave": signature.key_id,
                        "firmaran_en_papel": order.on_paper,
                    }),
                },
            )
            .await?;
            tx.commit().await?;
        };
        self.document_by_row(id).await
    }

    /// Records a reserved folio as annulled, with the reason: the issuance
    /// failed or was interrupted.
    pub async fn abandon(&self, reservation: &Reservation, reason: &str) -> Result<(), ArchiveError> {
        self.annul_reserved(reservation.document_id, reservation.folio.as_str(), reason)
            .await
    }

    async fn annul_reserved(&self, id: i64, folio: &str, reason: &str) -> Result<(), ArchiveError> {
        {
            let mut tx = self.store.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE documents SET status = 'anulado', annulled_at = $2, annulled_by = 'sello', \
                 annul_reason = $3, idempotency_key = NULL WHERE id = $1 AND status = 'reservado'",
            )
            .bind(id)
            .bind(now())
            .bind(reason)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 1 {
                append_event(
                    &mut tx,
                    NewEvent {
                        actor: "sello".to_owned(),
                        action: "folio.anulado",
                        office_code: Some(self.office.code.clone()),
                        document_id: Some(id),
                        expediente_id: None,
                        draft_id: None,
                        details: json!({"folio": folio, "motivo": reason}),
                    },
                )
                .await?;
            }
            tx.commit().await?;
        };
        Ok(())
    }

    /// Annuls the folios of issuances interrupted (by a crash) more than
    /// `older_than` ago; returns those folios. A folio a lote still being
    /// issued reserved for one of its rows is not one of them, however old:
    /// that lote's chunk completes it (see `bulk::chunks`).
    pub async fn recover_interrupted(&self, older_than: Duration) -> Result<Vec<String>, ArchiveError> {
        self.recover_interrupted_keyed("", older_than).await
    }

    /// Like [`Archive::recover_interrupted`], only for this office's
    /// issuances whose idempotency key starts with `key_prefix`: a bulk job
    /// that holds its lock knows the reservations of its kind are the
    /// remains of a killed run, however recent.
    pub async fn recover_interrupted_keyed(
        &self,
        key_prefix: &str,
        older_than: Duration,
    ) -> Result<Vec<String>, ArchiveError> {
        let cutoff = Utc::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
        let cutoff = cutoff.to_rfc3339_opts(SecondsFormat::Micros, true);
        let (sql, pattern) = if key_prefix.is_empty() {
            (
                format!(
                    "SELECT id, folio FROM documents WHERE status = 'reservado' AND reserved_at < $1 \
                     {NOT_WAITING_IN_A_LOTE} ORDER BY id"
                ),
                None,
            )
        } else {
            (
                format!(
                    "SELECT id, folio FROM documents WHERE status = 'reservado' AND reserved_at < $1 \
                     AND office_code = $2 AND idempotency_key LIKE $3 {NOT_WAITING_IN_A_LOTE} ORDER BY id"
                ),
                Some(format!("{key_prefix}%")),
            )
        };
        let stale: Vec<(i64, String)> = {
            let pool = self.store.pool();
            let mut query = sqlx::query_as(&sql).bind(&cutoff);
            if let Some(pattern) = &pattern {
                query = query.bind(&self.office.code).bind(pattern);
            }
            query.fetch_all(pool).await?
        };
        for (id, folio) in &stale {
            self.annul_reserved(*id, folio, "emisión interrumpida").await?;
        }
        Ok(stale.into_iter().map(|(_, folio)| folio).collect())
    }
}
