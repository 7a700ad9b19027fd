//! Webhooks as the archive keeps them: an office's subscriptions, and the
//! outbox. An event is recorded in the transaction of what happened (from
//! its audit event, or when a lote finishes), with one delivery per
//! subscription that wants it and the queue job that will send it, so an
//! event is never lost and never sent for something rolled back. What a
//! delivery sends is only the minimal reference (public ids, folio, form);
//! a subscription of scope `datos` also gets the persons a document names,
//! read when it is sent. Sending is `crate::webhooks`'s.
//!
//! Long because the subscription, its outbox and its delivery log are one
//! set of tables read together.

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::audit::AuditEvent;
use crate::db::{Store, StoreError, Tx};
use crate::public_id::PublicId;
use crate::queue::{NewJob, Queue};

/// The queue's kind for a delivery.
pub const WEBHOOK_JOB: &str = "webhook";

/// Attempts of a delivery before it is given up: with the service's
/// backoff (a minute, doubling, at most two hours) they span about 26 hours.
pub const WEBHOOK_ATTEMPTS: u32 = 20;

/// What a subscription can be told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    DocumentIssued,
    DocumentAnnulled,
    DocumentReplaced,
    DraftStep,
    DraftReturned,
    LoteFinished,
    ReferralSent,
    ReferralAnswered,
}

impl EventType {
    pub const ALL: [Self; 8] = [
        Self::DocumentIssued,
        Self::DocumentAnnulled,
        Self::DocumentReplaced,
        Self::DraftStep,
        Self::DraftReturned,
        Self::LoteFinished,
        Self::ReferralSent,
        Self::ReferralAnswered,
    ];

    /// As a delivery's `type` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocumentIssued => "document.issued",
            Self::DocumentAnnulled => "document.annulled",
            Self::DocumentReplaced => "document.replaced",
            Self::DraftStep => "draft.step",
            Self::DraftReturned => "draft.returned",
            Self::LoteFinished => "lote.finished",
            Self::ReferralSent => "referral.sent",
            Self::ReferralAnswered => "referral.answered",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The event an audit action is, if a subscription may want it.
    fn of_audit(action: &str) -> Option<Self> {
        Some(match action {
            "documento.emitido" => Self::DocumentIssued,
            "documento.anulado" => Self::DocumentAnnulled,
            "documento.reemplazado" => Self::DocumentReplaced,
            "borrador.enviado" | "borrador.visado" | "borrador.firmas_presenciales" | "borrador.firmado" => {
                Self::DraftStep
            }
            "borrador.rechazado" => Self::DraftReturned,
            "derivacion.enviada" => Self::ReferralSent,
            "derivacion.respondida" => Self::ReferralAnswered,
            _ => return None,
        })
    }
}

/// How much a subscription is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Public ids, folio, form: no personal data (the default).
    Minimo,
    /// Also the names and identifications of the persons a document names.
    Datos,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minimo => "minimo",
            Self::Datos => "datos",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "minimo" => Some(Self::Minimo),
            "datos" => Some(Self::Datos),
            _ => None,
        }
    }
}

/// A subscription as stored, without its secret.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub row_id: i64,
    pub public_id: String,
    pub office_code: String,
    pub url: String,
    pub scope: Scope,
    pub events: Vec<EventType>,
    pub created_at: String,
    pub created_by: String,
}

/// A subscription's signing secret: never printed by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// A new secret: 256 random bits.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(format!("whsec_{}", super::hex(&bytes))))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A subscription to create: its target already checked by the caller.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub url: String,
    pub scope: Scope,
    pub events: Vec<EventType>,
}

type SubscriptionRow = (i64, String, String, String, String, String, String, String);

const SUBSCRIPTION_COLUMNS: &str = "id, public_id, office_code, url, scope, events, created_at, created_by";

fn subscription(row: SubscriptionRow) -> Subscription {
    let (row_id, public_id, office_code, url, scope, events, created_at, created_by) = row;
    Subscription {
        row_id,
        public_id,
        office_code,
        url,
        scope: Scope::parse(&scope).unwrap_or(Scope::Minimo),
        events: events.split_whitespace().filter_map(EventType::parse).collect(),
        created_at,
        created_by,
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The host of a URL, as written between `//` and the path.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("//").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

fn fresh_id() -> Result<String, sqlx::Error> {
    PublicId::generate()
        .map(|id| id.to_string())
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e.to_string())))
}

/// Creates a subscription of `office`; returns it with its secret, which
/// is shown this once.
pub async fn create(
    store: &Store,
    office: &str,
    new: &NewSubscription,
    actor: &str,
) -> Result<(Subscription, Secret), StoreError> {
    let secret = Secret::generate()?;
    let public_id = fresh_id()?;
    let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
    let mut tx = store.begin_write().await?;
    let row_id: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_subscriptions (public_id, office_code, url, secret, scope, events, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&public_id)
    .bind(office)
    .bind(&new.url)
    .bind(secret.expose())
    .bind(new.scope.as_str())
    .bind(events.join(" "))
    .bind(now())
    .bind(actor)
    .fetch_one(&mut *tx)
    .await?;
    super::audit::append_event(
        &mut tx,
        super::NewEvent {
            actor: actor.to_owned(),
            action: "webhook.creado",
            office_code: Some(office.to_owned()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            // The host only: a URL's path or query may carry a token.
            details: json!({"webhook": public_id, "servidor": host_of(&new.url), "alcance": new.scope.as_str(), "eventos": events}),
        },
    )
    .await?;
    tx.commit().await?;
    let created = subscription_by_row(store, row_id)
        .await?
        .ok_or_else(|| StoreError::Invalid("la suscripción no quedó guardada".into()))?;
    Ok((created, secret))
}

async fn subscription_by_row(store: &Store, row_id: i64) -> Result<Option<Subscription>, sqlx::Error> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1");
    let row: Option<SubscriptionRow> = sqlx::query_as(&sql)
        .bind(row_id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(subscription))
}

/// The office's subscriptions in force, oldest first.
pub async fn list(store: &Store, office: &str) -> Result<Vec<Subscription>, sqlx::Error> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions \
         WHERE office_code = $1 AND deleted_at IS NULL ORDER BY id"
    );
    let rows: Vec<SubscriptionRow> = sqlx::query_as(&sql).bind(office).fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(subscription).collect())
}

/// The office's subscription with that public id, if in force.
pub async fn get(store: &Store, office: &str, public_id: &str) -> Result<Option<Subscription>, sqlx::Error> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions \
         WHERE office_code = $1 AND public_id = $2 AND deleted_at IS NULL"
    );
    let row: Option<SubscriptionRow> = sqlx::query_as(&sql)
        .bind(office)
        .bind(public_id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(subscription))
}

/// Deletes a subscription: nothing more is sent to it, its log stays.
/// Whether there was one to delete.
pub async fn delete(store: &Store, office: &str, public_id: &str, actor: &str) -> Result<bool, sqlx::Error> {
    let mut tx = store.begin_write().await?;
    let deleted = sqlx::query(
        "UPDATE webhook_subscriptions SET deleted_at = $1 \
         WHERE office_code = $2 AND public_id = $3 AND deleted_at IS NULL",
    )
    .bind(now())
    .bind(office)
    .bind(public_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if deleted {
        super::audit::append_event(
            &mut tx,
            super::NewEvent {
                actor: actor.to_owned(),
                action: "webhook.eliminado",
                office_code: Some(office.to_owned()),
                document_id: None,
                expediente_id: None,
                draft_id: None,
                details: json!({"webhook": public_id}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

/// Records the webhook event an audit event is, if it is one, for the
/// offices it concerns: inside the audit event's transaction.
pub(super) async fn record_audited(tx: &mut Tx, event: &AuditEvent) -> Result<(), sqlx::Error> {
    let Some(kind) = EventType::of_audit(&event.action) else {
        return Ok(());
    };
    let Some(office) = event.office_code.as_deref() else {
        return Ok(());
    };
    let details: Value = serde_json::from_str(&event.details).unwrap_or(Value::Null);
    let mut offices = vec![office.to_owned()];
    // The other office of a referral hears of it too.
    for other in ["oficina_receptora", "oficina_que_derivo"] {
        if let Some(code) = details[other].as_str() {
            offices.push(code.to_owned());
        }
    }
    let mut wanted = false;
    for office in &offices {
        wanted |= !subscribers(tx, office, kind).await?.is_empty();
    }
    if !wanted {
        return Ok(());
    }
    let mut reference = serde_json::Map::new();
    if let Some(document) = event.document_id {
        reference.insert("document".into(), document_reference(tx, document).await?);
    }
    if let Some(draft) = event.draft_id {
        let (public_id, form): (String, String) =
            sqlx::query_as("SELECT public_id, form FROM drafts WHERE id = $1")
                .bind(draft)
                .fetch_one(&mut **tx)
                .await?;
        reference.insert(
            "draft".into(),
            json!({"id": public_id, "form": form, "action": event.action.trim_start_matches("borrador."),
                   "step": details["paso"], "next_step": details["siguiente"]}),
        );
    }
    if let Some(replacement) = details["reemplazado_por"].as_str() {
        let row: Option<i64> =
            sqlx::query_scalar("SELECT id FROM documents WHERE folio = $1 AND office_code = $2")
                .bind(replacement)
                .bind(office)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(row) = row {
            reference.insert("replaced_by".into(), document_reference(tx, row).await?);
        }
    }
    if kind == EventType::ReferralAnswered
        && let Some(answer) = details["contrarreferencia"].as_str()
    {
        reference.insert("answer".into(), json!({"folio": answer}));
    }
    for office in &offices {
        record(
            tx,
            office,
            kind,
            &Value::Object(reference.clone()),
            event.document_id,
        )
        .await?;
    }
    Ok(())
}

/// The public reference of a document: ids, folio, form.
async fn document_reference(tx: &mut Tx, document: i64) -> Result<Value, sqlx::Error> {
    let (public_id, folio, form, expediente): (String, String, String, String) = sqlx::query_as(
        "SELECT d.public_id, d.folio, d.form, e.public_id FROM documents d \
         JOIN expedientes e ON e.id = d.expediente_id WHERE d.id = $1",
    )
    .bind(document)
    .fetch_one(&mut **tx)
    .await?;
    Ok(json!({"id": public_id, "folio": folio, "form": form, "expediente_id": expediente}))
}

/// Records that a lote finished (`failure` when it could not run), inside
/// the transaction that marks it so.
pub async fn lote_finished(tx: &mut Tx, lote: i64, failure: Option<&str>) -> Result<(), sqlx::Error> {
    let (public_id, office, form, total, valid): (String, String, String, i64, i64) = sqlx::query_as(
        "SELECT public_id, office_code, form, total_rows, valid_rows FROM lotes WHERE id = $1",
    )
    .bind(lote)
    .fetch_one(&mut **tx)
    .await?;
    let reference = json!({"lote": {"id": public_id, "form": form, "rows": total, "valid_rows": valid,
                                     "failed": failure.is_some()}});
    record(tx, &office, EventType::LoteFinished, &reference, None).await
}

/// The subscriptions of `office` that want `kind`, by row id.
async fn subscribers(tx: &mut Tx, office: &str, kind: EventType) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, events FROM webhook_subscriptions WHERE office_code = $1 AND deleted_at IS NULL",
    )
    .bind(office)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, events)| events.split_whitespace().any(|e| e == kind.as_str()))
        .map(|(id, _)| id)
        .collect())
}

/// Records an event of `office` with its reference, one delivery for each
/// subscription that wants it, and their jobs: in the caller's transaction.
pub async fn record(
    tx: &mut Tx,
    office: &str,
    kind: EventType,
    reference: &Value,
    document: Option<i64>,
) -> Result<(), sqlx::Error> {
    let subscriptions = subscribers(tx, office, kind).await?;
    if subscriptions.is_empty() {
        return Ok(());
    }
    let at = now();
    let event: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_events (public_id, office_code, kind, occurred_at, reference, document_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(fresh_id()?)
    .bind(office)
    .bind(kind.as_str())
    .bind(&at)
    .bind(reference.to_string())
    .bind(document)
    .fetch_one(&mut **tx)
    .await?;
    for subscription in subscriptions {
        let delivery: i64 = sqlx::query_scalar(
            "INSERT INTO webhook_deliveries (public_id, event_id, subscription_id, state, created_at) \
             VALUES ($1, $2, $3, 'pendiente', $4) RETURNING id",
        )
        .bind(fresh_id()?)
        .bind(event)
        .bind(subscription)
        .bind(&at)
        .fetch_one(&mut **tx)
        .await?;
        enqueue(tx, delivery).await?;
    }
    Ok(())
}

async fn enqueue(tx: &mut Tx, delivery: i64) -> Result<(), sqlx::Error> {
    let job = NewJob::new(WEBHOOK_JOB, json!({"entrega": delivery})).max_attempts(WEBHOOK_ATTEMPTS);
    Queue::enqueue_in(tx, &job)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            crate::queue::QueueError::Database(e) => e,
            other => sqlx::Error::Protocol(other.to_string()),
        })
}

/// What sending one delivery needs.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub delivery: i64,
    pub event_id: String,
    pub kind: String,
    pub occurred_at: String,
    pub office: String,
    pub reference: Value,
    pub document: Option<i64>,
    pub url: String,
    pub secret: Secret,
    pub scope: Scope,
    /// The subscription was deleted: send nothing.
    pub deleted: bool,
}

type OutgoingRow = (
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    String,
    String,
    String,
    Option<String>,
);

/// The delivery with that row id, with its event and subscription.
pub async fn outgoing(store: &Store, delivery: i64) -> Result<Option<Outgoing>, sqlx::Error> {
    let row: Option<OutgoingRow> = sqlx::query_as(
        "SELECT e.public_id, e.kind, e.occurred_at, e.office_code, e.reference, e.document_id, \
         s.url, s.secret, s.scope, s.deleted_at FROM webhook_deliveries d \
         JOIN webhook_events e ON e.id = d.event_id JOIN webhook_subscriptions s ON s.id = d.subscription_id \
         WHERE d.id = $1",
    )
    .bind(delivery)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(
        |(event_id, kind, occurred_at, office, reference, document, url, secret, scope, deleted)| Outgoing {
            delivery,
            event_id,
            kind,
            occurred_at,
            office,
            reference: serde_json::from_str(&reference).unwrap_or(Value::Null),
            document,
            url,
            secret: Secret(secret),
            scope: Scope::parse(&scope).unwrap_or(Scope::Minimo),
            deleted: deleted.is_some(),
        },
    ))
}

/// Whether `office` may see what the document `document` names now: its
/// own, or another office's document in force that a derivación in force
/// sent it or shared with it, or that answered a derivación it sent.
pub async fn visible_to(store: &Store, office: &str, document: i64) -> Result<bool, sqlx::Error> {
    let visible: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM documents d WHERE d.id = $1 AND (d.office_code = $2 OR (d.status = 'emitido' AND ( \
         d.id IN (SELECT r.document_id FROM referrals r WHERE r.to_office = $2) \
         OR d.id IN (SELECT s.document_id FROM referral_shares s JOIN referrals r ON r.id = s.referral_id \
         JOIN documents x ON x.id = r.document_id WHERE r.to_office = $2 AND x.status = 'emitido') \
         OR d.id IN (SELECT r.answered_by FROM referrals r WHERE r.from_office = $2))))",
    )
    .bind(document)
    .bind(office)
    .fetch_one(store.pool())
    .await?;
    Ok(visible > 0)
}

/// The persons a document names: name, identification and the field.
pub async fn persons_of(store: &Store, document: i64) -> Result<Vec<Value>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT p.name, p.identity, dp.role FROM document_persons dp JOIN persons p ON p.id = dp.person_id \
         WHERE dp.document_id = $1 ORDER BY dp.role, p.id",
    )
    .bind(document)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, identity, role)| json!({"name": name, "identity": identity, "field": role}))
        .collect())
}

/// One attempt's outcome.
#[derive(Debug, Clone)]
pub struct AttemptOutcome<'a> {
    pub response_code: Option<u16>,
    pub error: Option<&'a str>,
    pub duration_ms: u64,
    /// The delivery's state after it: `entregada`, `fallida` (given up)
    /// or `pendiente` (tried again later).
    pub state: &'a str,
}

/// Records an attempt in the delivery log, and the delivery's state.
pub async fn record_attempt(
    store: &Store,
    delivery: i64,
    outcome: &AttemptOutcome<'_>,
) -> Result<(), sqlx::Error> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, at, response_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(delivery)
    .bind(now())
    .bind(outcome.response_code.map(i64::from))
    .bind(outcome.error)
    .bind(i64::try_from(outcome.duration_ms).unwrap_or(i64::MAX))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE webhook_deliveries SET state = $1 WHERE id = $2")
        .bind(outcome.state)
        .bind(delivery)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A delivery in the log, with its attempts.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub public_id: String,
    pub event_id: String,
    pub kind: String,
    pub occurred_at: String,
    pub state: String,
    pub attempts: Vec<AttemptRecord>,
}

#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub at: String,
    pub response_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// The last `limit` deliveries to a subscription, newest first.
pub async fn deliveries(
    store: &Store,
    subscription: i64,
    limit: i64,
) -> Result<Vec<DeliveryRecord>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
        "SELECT d.id, d.public_id, e.public_id, e.kind, e.occurred_at, d.state FROM webhook_deliveries d \
         JOIN webhook_events e ON e.id = d.event_id WHERE d.subscription_id = $1 ORDER BY d.id DESC LIMIT $2",
    )
    .bind(subscription)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let mut records = Vec::with_capacity(rows.len());
    for (row, public_id, event_id, kind, occurred_at, state) in rows {
        let attempts: Vec<(String, Option<i64>, Option<String>, i64)> = sqlx::query_as(
            "SELECT at, response_code, error, duration_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id",
        )
        .bind(row)
        .fetch_all(store.pool())
        .await?;
        records.push(DeliveryRecord {
            public_id,
            event_id,
            kind,
            occurred_at,
            state,
            attempts: attempts
                .into_iter()
                .map(|(at, response_code, error, duration_ms)| AttemptRecord {
                    at,
                    response_code,
                    error,
                    duration_ms,
                })
                .collect(),
        });
    }
    Ok(records)
}

/// Sends a delivery of `subscription` again (the same event id), by a
/// new job. Whether there was such a delivery.
pub async fn redeliver(
    store: &Store,
    subscription: &Subscription,
    delivery: &str,
    actor: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = store.begin_write().await?;
    let row: Option<i64> =
        sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE public_id = $1 AND subscription_id = $2")
            .bind(delivery)
            .bind(subscription.row_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    sqlx::query("UPDATE webhook_deliveries SET state = 'pendiente' WHERE id = $1")
        .bind(row)
        .execute(&mut *tx)
        .await?;
    enqueue(&mut tx, row).await?;
    super::audit::append_event(
        &mut tx,
        super::NewEvent {
            actor: actor.to_owned(),
            action: "webhook.reenviado",
            office_code: Some(subscription.office_code.clone()),
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details: json!({"webhook": subscription.public_id, "entrega": delivery}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_reads_back_from_its_name() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("document.deleted"), None);
    }

    #[test]
    fn a_secret_is_not_printed_by_debug() {
        let secret = Secret::generate().expect("random");
        assert!(secret.expose().starts_with("whsec_"));
        assert!(!format!("{secret:?}").contains(secret.expose()));
    }
}
