//! The audit trail: append-only events, each sealed with the hash of the
//! one before it, so that changing, removing or inserting an event breaks
//! the chain and `sello archive audit-verify` says where.

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::{Store, StoreError, Tx};

/// The columns of an [`AuditEvent`], in a query's SELECT.
pub const AUDIT_COLUMNS: &str =
    "seq, at, actor, action, office_code, document_id, expediente_id, draft_id, details, prev_hash, hash";

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Something that happened, before it is sealed into the chain.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub actor: String,
    /// What happened, as `documento.emitido` or `expediente.abierto`.
    pub action: &'static str,
    pub office_code: Option<String>,
    pub document_id: Option<i64>,
    pub expediente_id: Option<i64>,
    /// A draft not yet issued, for the steps of its workflow.
    pub draft_id: Option<i64>,
    pub details: Value,
}

/// An event as stored. Serialized whole, hashes included, into the
/// `auditoria.json` of an expediente's export; the API has its own view.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub office_code: Option<String>,
    pub document_id: Option<i64>,
    pub expediente_id: Option<i64>,
    pub draft_id: Option<i64>,
    /// JSON, exactly as hashed.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// Seals `event` as number `seq`, after the event whose hash is `prev_hash`.
    pub fn seal(event: NewEvent, seq: i64, prev_hash: String, at: String) -> Self {
        let mut sealed = Self {
            seq,
            at,
            actor: event.actor,
            action: event.action.to_owned(),
            office_code: event.office_code,
            document_id: event.document_id,
            expediente_id: event.expediente_id,
            draft_id: event.draft_id,
            details: event.details.to_string(),
            prev_hash,
            hash: String::new(),
        };
        sealed.hash = sealed.computed_hash();
        sealed
    }

    /// The hash of everything in the event, including the previous hash.
    /// A JSON array keeps the fields apart whatever they contain.
    pub fn computed_hash(&self) -> String {
        let mut fields = json!([
            self.prev_hash,
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.office_code,
            self.document_id,
            self.expediente_id,
            self.details,
        ]);
        // Added with workflows: events without a draft hash as before.
        if let (Some(draft), Value::Array(fields)) = (self.draft_id, &mut fields) {
            fields.push(json!({ "borrador": draft }));
        }
        hex(&Sha256::digest(fields.to_string().as_bytes()))
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// Where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub problem: String,
}

/// Checks events given in order, continuing from `(seq, hash)` of the
/// previous batch; returns the new position or the first break.
pub fn check_batch(events: &[AuditEvent], mut last: (i64, String)) -> Result<(i64, String), ChainBreak> {
    for event in events {
        let broken = |problem: String| ChainBreak {
            seq: event.seq,
            problem,
        };
        if event.seq != last.0 + 1 {
            return Err(ChainBreak {
                seq: last.0 + 1,
                problem: format!("falta el evento {} (sigue el {})", last.0 + 1, event.seq),
            });
        }
        if event.prev_hash != last.1 {
            return Err(broken("no enlaza con el hash del evento anterior".into()));
        }
        if event.computed_hash() != event.hash {
            return Err(broken(
                "su contenido no corresponde a su hash: fue modificado".into(),
            ));
        }
        last = (event.seq, event.hash.clone());
    }
    Ok(last)
}

/// Appends an event inside a write transaction: advancing the head row
/// first takes the lock that keeps concurrent appenders in line.
pub(crate) async fn append_event(tx: &mut Tx, event: NewEvent) -> Result<(), sqlx::Error> {
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let sealed = AuditEvent::seal(
        event,
        seq,
        prev_hash,
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    );
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, office_code, document_id, expediente_id, \
         draft_id, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sealed.seq)
    .bind(&sealed.at)
    .bind(&sealed.actor)
    .bind(&sealed.action)
    .bind(&sealed.office_code)
    .bind(sealed.document_id)
    .bind(sealed.expediente_id)
    .bind(sealed.draft_id)
    .bind(&sealed.details)
    .bind(&sealed.prev_hash)
    .bind(&sealed.hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&sealed.hash)
        .execute(&mut **tx)
        .await?;
    // The webhooks' outbox: in the same transaction as what happened.
    super::webhooks::record_audited(tx, &sealed).await
}

impl Store {
    /// Appends one event on its own: for what happens outside the archive's
    /// own operations (accounts, offices, keys).
    pub async fn record_event(&self, event: NewEvent) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        append_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: i64) -> NewEvent {
        NewEvent {
            actor: "ana".into(),
            action: "documento.emitido",
            office_code: Some("DIF".into()),
            document_id: Some(n),
            expediente_id: None,
            draft_id: None,
            details: json!({"folio": format!("DIF/OF/2026/{n:04}")}),
        }
    }

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut events: Vec<AuditEvent> = Vec::new();
        for seq in 1..=n {
            let prev = events.last().map_or(GENESIS.to_owned(), |e| e.hash.clone());
            events.push(AuditEvent::seal(
                event(seq),
                seq,
                prev,
                format!("2026-11-23T00:00:0{seq}Z"),
            ));
        }
        events
    }

    #[test]
    fn an_intact_chain_checks() {
        let events = chain(5);
        let end = check_batch(&events, (0, GENESIS.into())).unwrap();
        assert_eq!(end, (5, events[4].hash.clone()));
    }

    #[test]
    fn a_changed_removed_or_reordered_event_is_found() {
        let mut changed = chain(5);
        changed[2].actor = "otra persona".into();
        assert_eq!(check_batch(&changed, (0, GENESIS.into())).unwrap_err().seq, 3);

        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(check_batch(&removed, (0, GENESIS.into())).unwrap_err().seq, 2);

        // Rewriting an event and its own hash still breaks the next link.
        let mut resealed = chain(5);
        resealed[1].details = "{}".into();
        resealed[1].hash = resealed[1].computed_hash();
        assert_eq!(check_batch(&resealed, (0, GENESIS.into())).unwrap_err().seq, 3);
    }
}
