//! The SQL steps of a folio's reservation, each inside its write
//! transaction and each one statement or a few of one purpose. What they
//! find is judged by [`super::rules`].

use serde_json::json;

use super::rules::{EarlierUse, FoundExpediente, Plan, retention};
use crate::archive::IssueOrder;
use crate::archive::audit::{NewEvent, append_event};
use crate::archive::documents::{DOCUMENT_COLUMNS, DocumentRecord};
use crate::archive::filing::{ExpedienteRef, NamedPerson};
use crate::archive::folio::Folio;
use crate::db::{NEXT_FOLIO, OFFICE, SERIES, Tx};
use crate::office::Office;
use crate::public_id::PublicId;

/// How the key was used before in this office, if it was.
pub(crate) async fn earlier_use(
    tx: &mut Tx,
    office_code: &str,
    key: &str,
) -> Result<Option<EarlierUse>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, request_sha256 FROM documents WHERE office_code = $1 AND idempotency_key = $2",
    )
    .bind(office_code)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
}

/// The document issued under the key.
pub(crate) async fn issued_under_key(
    tx: &mut Tx,
    office_code: &str,
    key: &str,
) -> Result<DocumentRecord, sqlx::Error> {
    let sql =
        format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE office_code = $1 AND idempotency_key = $2");
    sqlx::query_as(&sql)
        .bind(office_code)
        .bind(key)
        .fetch_one(&mut **tx)
        .await
}

/// The office and its series, recorded if new.
pub(crate) async fn ensure_series(tx: &mut Tx, office: &Office, plan: &Plan) -> Result<(), sqlx::Error> {
    sqlx::query(OFFICE)
        .bind(&office.code)
        .bind(&office.name)
        .execute(&mut **tx)
        .await?;
    sqlx::query(SERIES)
        .bind(&office.code)
        .bind(plan.series_code)
        .bind(plan.series_name)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The office's expediente by its public id, locked by `share_lock`.
pub(crate) async fn expediente_by_id(
    tx: &mut Tx,
    office_code: &str,
    public_id: PublicId,
    share_lock: &str,
) -> Result<Option<FoundExpediente>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, title, closed_on FROM expedientes WHERE public_id = $1 AND office_code = $2{share_lock}"
    ))
    .bind(public_id)
    .bind(office_code)
    .fetch_optional(&mut **tx)
    .await
}

/// Opens the expediente the data points to unless it exists; whether it
/// was opened now.
pub(crate) async fn open_expediente(
    tx: &mut Tx,
    office_code: &str,
    public_id: PublicId,
    plan: &Plan,
) -> Result<bool, sqlx::Error> {
    let derived = &plan.derived;
    let opened = sqlx::query(
        "INSERT INTO expedientes (public_id, office_code, kind, key, title, opened_on, retention) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (office_code, kind, key) DO NOTHING",
    )
    .bind(public_id)
    .bind(office_code)
    .bind(derived.kind)
    .bind(&derived.key)
    .bind(&derived.title)
    .bind(&plan.issued_on)
    .bind(retention(derived.kind))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(opened == 1)
}

/// The office's expediente of that kind and key, locked by `share_lock`.
pub(crate) async fn expediente_by_key(
    tx: &mut Tx,
    office_code: &str,
    derived: &ExpedienteRef,
    share_lock: &str,
) -> Result<FoundExpediente, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, title, closed_on FROM expedientes WHERE office_code = $1 AND kind = $2 AND key = $3{share_lock}"
    ))
    .bind(office_code)
    .bind(derived.kind)
    .bind(&derived.key)
    .fetch_one(&mut **tx)
    .await
}

/// Seals the event of an expediente opened by this issuance.
pub(crate) async fn record_opening(
    tx: &mut Tx,
    actor: &str,
    office_code: &str,
    (id, title): (i64, &str),
    derived: &ExpedienteRef,
) -> Result<(), sqlx::Error> {
    append_event(
        tx,
        NewEvent {
            actor: actor.to_owned(),
            action: "expediente.abierto",
            office_code: Some(office_code.to_owned()),
            document_id: None,
            expediente_id: Some(id),
            draft_id: None,
            details: json!({"tipo": derived.kind, "clave": derived.key, "titulo": title}),
        },
    )
    .await
}

/// Takes the next number of the series in the year.
pub(crate) async fn next_number(tx: &mut Tx, office_code: &str, plan: &Plan) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(NEXT_FOLIO)
        .bind(office_code)
        .bind(plan.series_code)
        .bind(plan.year)
        .fetch_one(&mut **tx)
        .await
}

/// A document to record as `reservado`.
pub(crate) struct Reserved<'a> {
    pub office_code: &'a str,
    pub order: &'a IssueOrder<'a>,
    pub plan: &'a Plan,
    pub number: u32,
    pub folio: &'a Folio,
    pub expediente_id: i64,
    pub public_id: PublicId,
    pub reserved_at: &'a str,
    /// The data stored: the order's, with what the archive recorded in it.
    pub data: &'a serde_json::Value,
}

/// Records the document as `reservado`; returns its key.
pub(crate) async fn insert_reserved(tx: &mut Tx, document: &Reserved<'_>) -> Result<i64, sqlx::Error> {
    let order = document.order;
    sqlx::query_scalar(
        "INSERT INTO documents (office_code, series_code, year, number, folio, form, expediente_id, \
         status, data, request_sha256, idempotency_key, issued_at, issued_on, issued_by, reserved_at, \
         public_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'reservado', $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(document.office_code)
    .bind(document.plan.series_code)
    .bind(document.plan.year)
    .bind(i64::from(document.number))
    .bind(document.folio.as_str())
    .bind(order.form.id.as_str())
    .bind(document.expediente_id)
    .bind(document.data.to_string())
    .bind(&document.plan.request)
    .bind(order.idempotency_key)
    .bind(order.issued_at.to_rfc3339())
    .bind(&document.plan.issued_on)
    .bind(order.actor)
    .bind(document.reserved_at)
    .bind(document.public_id)
    .fetch_one(&mut **tx)
    .await
}

/// Records the persons a document names (the name as it says now), with
/// their expediente and the document, in the plan's order.
pub(crate) async fn link_persons(
    tx: &mut Tx,
    office_code: &str,
    (expediente_id, document_id): (i64, i64),
    persons: &[NamedPerson],
) -> Result<(), sqlx::Error> {
    for person in persons {
        let person_id: i64 = sqlx::query_scalar(
            "INSERT INTO persons (office_code, identity, name) VALUES ($1, $2, $3) \
             ON CONFLICT (office_code, identity) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(office_code)
        .bind(&person.identity)
        .bind(&person.name)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO expediente_persons (expediente_id, person_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(expediente_id)
        .bind(person_id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO document_persons (document_id, person_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(document_id)
        .bind(person_id)
        .bind(&person.role)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
