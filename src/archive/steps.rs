//! A draft's way through its form's workflow: each step taken (sent,
//! visado, rejected, signed) moves the draft on in one transaction that
//! also records the step and seals an audit event about the draft. A step
//! is taken only from the step the draft is at, so two people acting at
//! once cannot both move it.

use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::audit::AUDIT_COLUMNS;
use super::audit::{NewEvent, append_event};
use super::drafts::CHANGES_RECORDED;
use super::{Archive, ArchiveError};
use crate::db::Tx;
use crate::forms::Action;

/// One step taken on a draft.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepRecord {
    /// The database's key: never shown.
    pub id: i64,
    /// The workflow step it was taken at.
    pub step: String,
    #[sqlx(try_from = "String")]
    pub action: Action,
    /// Who took it, by the database's key: never shown (`name` says).
    pub user_id: i64,
    /// Name and cargo as they were then.
    pub name: String,
    pub cargo: String,
    /// The reason of a rejection, or a remark.
    pub note: Option<String>,
    pub at: String,
}

/// Who takes a step.
#[derive(Debug, Clone, Copy)]
pub struct Taker<'a> {
    pub user_id: i64,
    /// The account's username, as the audit trail names people.
    pub username: &'a str,
    pub name: &'a str,
    pub cargo: &'a str,
}

/// A step to take on a draft (by its key).
#[derive(Debug, Clone, Copy)]
pub struct Move<'a> {
    pub draft_id: i64,
    /// The step the draft must be at.
    pub from: &'a str,
    /// Whether `from` is the workflow's first step (drafts saved before
    /// workflows existed are at it without saying so).
    pub from_first: bool,
    /// The step it goes to.
    pub to: &'a str,
    pub action: Action,
    pub note: Option<&'a str>,
}

/// The last signature of a draft, recorded in the same transaction as the
/// document it issues: a draft is never left signed but not issued. Its
/// ids are the database's keys.
#[derive(Debug, Clone)]
pub struct FinalSignature<'a> {
    pub draft_id: i64,
    pub step: &'a str,
    pub taker: Taker<'a>,
    /// For a correction: the document the new one replaces.
    pub replaces: Option<i64>,
    /// The hand signatures drawn on screen, by signer, printed in it.
    pub hand_signatures: Vec<(String, Vec<u8>)>,
    /// Their records, which go with the document.
    pub hand_signature_ids: Vec<i64>,
    /// When the draft was last moved or changed, as loaded: if it changed
    /// since (rejected, edited, sent again), this signature is refused.
    pub loaded_at: &'a str,
}

/// Microseconds: a step and the signatures collected after it never tie.
pub(super) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Archive {
    /// Takes a step: moves the draft from `from` to `to`, records who did
    /// it and why, and seals the event. Refused if the draft is no longer
    /// at `from` (someone else acted first) or was issued.
    pub async fn take_step(&self, step: &Move<'_>, taker: &Taker<'_>) -> Result<(), ArchiveError> {
        self.take_step_from(step, taker, None).await
    }

    /// [`Archive::take_step`] by an account of another office (`from`),
    /// an office above this one whose account holds a grant here: the
    /// audit event names that office too.
    pub async fn take_step_from(
        &self,
        step: &Move<'_>,
        taker: &Taker<'_>,
        from: Option<&str>,
    ) -> Result<(), ArchiveError> {
        let at = now();
        {
            let mut tx = self.store.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE drafts SET step = $3, updated_at = $4 WHERE id = $1 AND office_code = $2 \
                 AND document_id IS NULL AND (step = $5 OR (step IS NULL AND $6))",
            )
            .bind(step.draft_id)
            .bind(&self.office.code)
            .bind(step.to)
            .bind(&at)
            .bind(step.from)
            .bind(step.from_first)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(ArchiveError::Refused(format!(
                    "el borrador ya no está en el paso «{}»: otra persona lo movió o ya se emitió; recargue y revise",
                    step.from
                )));
            }
            record_step(
                &mut tx,
                step.draft_id,
                step.from,
                step.action,
                taker,
                step.note,
                &at,
            )
            .await?;
            append_event(
                &mut tx,
                NewEvent {
                    actor: taker.username.to_owned(),
                    action: event_action(step.action),
                    office_code: Some(self.office.code.clone()),
                    document_id: None,
                    expediente_id: None,
                    draft_id: Some(step.draft_id),
                    details: step_details(step, from),
                },
            )
            .await?;
            tx.commit().await?;
        };
        Ok(())
    }

    /// The steps taken on a draft, in order.
    pub async fn draft_steps(&self, draft_id: i64) -> Result<Vec<StepRecord>, ArchiveError> {
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(
                "SELECT s.id, s.step, s.action, s.user_id, s.name, s.cargo, s.note, s.at FROM draft_steps s \
                 JOIN drafts d ON d.id = s.draft_id WHERE s.draft_id = $1 AND d.office_code = $2 ORDER BY s.id",
            )
            .bind(draft_id).bind(&self.office.code).fetch_all(pool).await?
        })
    }

    /// The audit events about a draft, in order.
    pub async fn draft_events(&self, draft_id: i64) -> Result<Vec<super::AuditEvent>, ArchiveError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE (draft_id = $1 AND office_code = $2) \
             OR document_id = (SELECT document_id FROM drafts WHERE id = $1 AND office_code = $2) ORDER BY seq"
        );
        Ok({
            let pool = self.store.pool();
            sqlx::query_as(&sql)
                .bind(draft_id)
                .bind(&self.office.code)
                .fetch_all(pool)
                .await?
        })
    }
}

/// The audit action of a step: `borrador.visado`…
fn event_action(action: Action) -> &'static str {
    match action {
        Action::Enviado => "borrador.enviado",
        Action::Visado => "borrador.visado",
        Action::Rechazado => "borrador.rechazado",
        Action::Presencial => "borrador.firmas_presenciales",
        Action::Firmado => "borrador.firmado",
    }
}

/// Records a step taken, inside the caller's transaction.
pub(super) async fn record_step(
    tx: &mut Tx,
    draft_id: i64,
    step: &str,
    action: Action,
    taker: &Taker<'_>,
    note: Option<&str>,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO draft_steps (draft_id, step, action, user_id, name, cargo, note, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(draft_id)
    .bind(step)
    .bind(action.as_str())
    .bind(taker.user_id)
    .bind(taker.name)
    .bind(taker.cargo)
    .bind(note)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// In the issuing transaction: records the last signature, closes the
/// draft into the document and seals the event, or refuses if the draft
/// moved meanwhile (the caller then rolls back).
pub(super) async fn close_signed_draft(
    tx: &mut Tx,
    office: &str,
    last: &FinalSignature<'_>,
    document_id: i64,
    folio: &str,
) -> Result<(), ArchiveError> {
    let at = now();
    let closed = sqlx::query(
        "UPDATE drafts SET document_id = $3, step = NULL, updated_at = $4 WHERE id = $1 \
         AND office_code = $2 AND document_id IS NULL AND step = $5 AND updated_at = $6",
    )
    .bind(last.draft_id)
    .bind(office)
    .bind(document_id)
    .bind(&at)
    .bind(last.step)
    .bind(last.loaded_at)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if closed != 1 {
        return Err(ArchiveError::Refused(
            "el borrador cambió mientras se firmaba (otra persona lo rechazó, lo corrigió o lo emitió); recárguelo y revíselo"
                .into(),
        ));
    }
    record_step(
        tx,
        last.draft_id,
        last.step,
        Action::Firmado,
        &last.taker,
        None,
        &at,
    )
    .await?;
    // The hand signatures printed in it go with the document's record.
    for id in &last.hand_signature_ids {
        sqlx::query("UPDATE hand_signatures SET document_id = $3 WHERE id = $1 AND draft_id = $2")
            .bind(id)
            .bind(last.draft_id)
            .bind(document_id)
            .execute(&mut **tx)
            .await?;
    }
    append_event(
        tx,
        NewEvent {
            actor: last.taker.username.to_owned(),
            action: "borrador.firmado",
            office_code: Some(office.to_owned()),
            document_id: None,
            expediente_id: None,
            draft_id: Some(last.draft_id),
            details: json!({"paso": last.step, "documento": folio}),
        },
    )
    .await?;
    let Some(old) = last.replaces else {
        return Ok(());
    };
    let reason = format!("corregido por el documento {folio}");
    let replaced: Option<(String, i64)> = sqlx::query_as(
        "UPDATE documents SET status = 'reemplazado', annulled_at = $3, annulled_by = $4, \
         annul_reason = $5, replaced_by = $2 WHERE id = $1 AND office_code = $6 AND status = 'emitido' \
         RETURNING folio, expediente_id",
    )
    .bind(old)
    .bind(document_id)
    .bind(&at)
    .bind(last.taker.username)
    .bind(&reason)
    .bind(office)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((old_folio, expediente_id)) = replaced else {
        return Err(ArchiveError::Refused(
            "el documento que esta corrección reemplaza ya no está vigente: fue anulado o reemplazado".into(),
        ));
    };
    super::log::append(tx, old, super::log::LogEvent::Reemplazo).await?;
    append_event(
        tx,
        NewEvent {
            actor: last.taker.username.to_owned(),
            action: "documento.reemplazado",
            office_code: Some(office.to_owned()),
            document_id: Some(old),
            expediente_id: Some(expediente_id),
            draft_id: Some(last.draft_id),
            details: json!({
                "folio": old_folio,
                "motivo": reason,
                "reemplazado_por": folio,
            }),
        },
    )
    .await?;
    Ok(())
}

/// What the audit trail says of a step; a taker from another office is
/// named with it, and only then, so the events of an office's own staff
/// read as they always did. A return says that the saves after it record
/// the fields they change ([`CHANGES_RECORDED`]): returns recorded before
/// they did say nothing, and nothing is known of what changed after them.
fn step_details(step: &Move<'_>, from: Option<&str>) -> serde_json::Value {
    let mut details = json!({"paso": step.from, "siguiente": step.to, "motivo": step.note});
    if let serde_json::Value::Object(fields) = &mut details {
        if let Some(from) = from {
            fields.insert("desde_oficina".into(), from.into());
        }
        if step.action == Action::Rechazado {
            fields.insert(CHANGES_RECORDED.into(), true.into());
        }
    }
    details
}
