//! What a referral's rules found, recorded when the folio is taken (the
//! referral and what it shares, or the answer) and sealed into the audit
//! trail in the transaction that issues the document.

use serde_json::{Value, json};

use super::judge::ReferralPlan;
use crate::archive::audit::{NewEvent, append_event};
use crate::db::Tx;
use crate::forms::{FormSpec, REFERRAL_RECORD_FIELD};

/// The data a document is stored, rendered and signed with: `data` as
/// typed and, for a derivación, what its sending recorded
/// ([`crate::forms::REFERRAL_RECORD_FIELD`]), in place of anything typed
/// there.
pub(crate) fn recorded_data(form: &FormSpec, data: &Value, plan: &ReferralPlan) -> Value {
    let (Some(rule), Some(outgoing), Value::Object(fields)) = (&form.derivacion, &plan.outgoing, data) else {
        return data.clone();
    };
    let mut fields = fields.clone();
    fields.insert(REFERRAL_RECORD_FIELD.to_owned(), outgoing.record(rule));
    Value::Object(fields)
}

/// Records what the referral's rules found for the document just
/// reserved: the referral and its shares, or the answer.
pub(crate) async fn record(
    tx: &mut Tx,
    office_code: &str,
    document_id: i64,
    plan: &ReferralPlan,
) -> Result<(), sqlx::Error> {
    if let Some(outgoing) = &plan.outgoing {
        let referral_id: i64 = sqlx::query_scalar(
            "INSERT INTO referrals (document_id, from_office, to_office, state, due_on) \
             VALUES ($1, $2, $3, 'enviada', $4) RETURNING id",
        )
        .bind(document_id)
        .bind(office_code)
        .bind(&outgoing.to_office)
        .bind(&outgoing.due_on)
        .fetch_one(&mut **tx)
        .await?;
        for shared in &outgoing.shared {
            sqlx::query("INSERT INTO referral_shares (referral_id, document_id) VALUES ($1, $2)")
                .bind(referral_id)
                .bind(*shared)
                .execute(&mut **tx)
                .await?;
        }
    }
    if let Some(answering) = plan.answering {
        sqlx::query("UPDATE referrals SET answered_by = $1 WHERE id = $2")
            .bind(document_id)
            .bind(answering.referral_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Seals into the audit trail, in the transaction that issues a
/// document, the referral it sends (the share) or answers.
pub(crate) async fn on_issued(tx: &mut Tx, actor: &str, document_id: i64) -> Result<(), sqlx::Error> {
    let sent: Option<(String, String, String, i64, String)> = sqlx::query_as(
        "SELECT r.from_office, r.to_office, r.due_on, d.expediente_id, d.folio FROM referrals r \
         JOIN documents d ON d.id = r.document_id WHERE r.document_id = $1",
    )
    .bind(document_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((from_office, to_office, due_on, expediente_id, folio)) = sent {
        let shared: Vec<String> = sqlx::query_scalar(
            "SELECT d.folio FROM referral_shares s JOIN referrals r ON r.id = s.referral_id \
             JOIN documents d ON d.id = s.document_id WHERE r.document_id = $1 ORDER BY d.id",
        )
        .bind(document_id)
        .fetch_all(&mut **tx)
        .await?;
        append_event(
            tx,
            NewEvent {
                actor: actor.to_owned(),
                action: "derivacion.enviada",
                office_code: Some(from_office),
                document_id: Some(document_id),
                expediente_id: Some(expediente_id),
                draft_id: None,
                details: json!({
                    "folio": folio,
                    "oficina_receptora": to_office,
                    "documentos_compartidos": shared,
                    "vence": due_on,
                }),
            },
        )
        .await?;
    }
    let answered: Option<(String, String, i64, String, String)> = sqlx::query_as(
        "SELECT r.to_office, r.from_office, d.expediente_id, d.folio, a.folio FROM referrals r \
         JOIN documents d ON d.id = r.document_id JOIN documents a ON a.id = r.answered_by \
         WHERE r.answered_by = $1",
    )
    .bind(document_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((to_office, from_office, expediente_id, folio, answer)) = answered {
        // One event in both histories: the answer's (by its document)
        // and the derivación's expediente (by its id).
        append_event(
            tx,
            NewEvent {
                actor: actor.to_owned(),
                action: "derivacion.respondida",
                office_code: Some(to_office),
                document_id: Some(document_id),
                expediente_id: Some(expediente_id),
                draft_id: None,
                details: json!({
                    "derivacion": folio,
                    "contrarreferencia": answer,
                    "oficina_que_derivo": from_office,
                }),
            },
        )
        .await?;
    }
    Ok(())
}
