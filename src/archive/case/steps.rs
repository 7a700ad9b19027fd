//! The SQL half of a case's rules: each one statement over the
//! transaction that judges them.

use super::Resolved;
use crate::db::Tx;

/// A document a citation names, as found in the archive.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct Found {
    pub id: i64,
    pub form: String,
    pub status: String,
    pub issued_on: String,
    pub expediente_id: i64,
    pub replaced_by: Option<i64>,
}

/// A current document of an expediente, or one being issued into it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct InCase {
    pub form: String,
    pub folio: String,
    pub issued_on: String,
    /// `emitido`, or `reservado` while it is being rendered and signed.
    pub status: String,
}

/// A person named by a current document of an expediente.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct KnownPerson {
    pub identity: String,
    pub name: String,
    pub folio: String,
}

/// The persons the expediente's current documents name, once each: in a
/// family's or a person's case only, where one name is one person (a
/// community's lists may well hold two people of the same name).
pub(super) async fn persons_in_case(
    tx: &mut Tx,
    expediente_id: i64,
) -> Result<Vec<KnownPerson>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.identity, p.name, MIN(d.folio) AS folio FROM documents d \
         JOIN document_persons dp ON dp.document_id = d.id JOIN persons p ON p.id = dp.person_id \
         JOIN expedientes e ON e.id = d.expediente_id \
         WHERE d.expediente_id = $1 AND d.status = 'emitido' AND e.kind IN ('familia', 'persona') \
         GROUP BY p.identity, p.name",
    )
    .bind(expediente_id)
    .fetch_all(&mut **tx)
    .await
}

/// The office's document with that folio, in any state; or else the
/// document of another office shared with it by a referral (the
/// derivación sent to it, the documents it shares, the answer to one it
/// sent). Two such documents of one folio are neither taken: the folio
/// does not say which.
pub(super) async fn find_cited(
    tx: &mut Tx,
    office_code: &str,
    folio: &str,
) -> Result<Option<Found>, sqlx::Error> {
    let own: Option<Found> = sqlx::query_as(
        "SELECT id, form, status, issued_on, expediente_id, replaced_by FROM documents \
         WHERE office_code = $1 AND folio = $2",
    )
    .bind(office_code)
    .bind(folio)
    .fetch_optional(&mut **tx)
    .await?;
    if own.is_some() {
        return Ok(own);
    }
    let sql = format!(
        "SELECT d.id, d.form, d.status, d.issued_on, d.expediente_id, d.replaced_by FROM documents d \
         WHERE d.folio = $2 AND d.office_code <> $1 AND {}",
        crate::archive::referrals::shared_with("$1")
    );
    let mut shared: Vec<Found> = sqlx::query_as(&sql)
        .bind(office_code)
        .bind(folio)
        .fetch_all(&mut **tx)
        .await?;
    Ok(if shared.len() == 1 { shared.pop() } else { None })
}

pub(super) async fn folio_of(tx: &mut Tx, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT folio FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// The identity numbers a document names.
pub(super) async fn identities_of(tx: &mut Tx, document_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.identity FROM document_persons dp JOIN persons p ON p.id = dp.person_id \
         WHERE dp.document_id = $1",
    )
    .bind(document_id)
    .fetch_all(&mut **tx)
    .await
}

/// The expediente's current documents and those being issued into it: a
/// Carta whose folio is taken already excludes a Declaración.
pub(super) async fn current_in(tx: &mut Tx, expediente_id: i64) -> Result<Vec<InCase>, sqlx::Error> {
    sqlx::query_as(
        "SELECT form, folio, issued_on, status FROM documents WHERE expediente_id = $1 \
         AND status IN ('emitido', 'reservado') ORDER BY id",
    )
    .bind(expediente_id)
    .fetch_all(&mut **tx)
    .await
}

/// Records what a reserved document cites.
pub(crate) async fn record_citations(
    tx: &mut Tx,
    document_id: i64,
    resolved: &[Resolved],
) -> Result<(), sqlx::Error> {
    for citation in resolved {
        sqlx::query("INSERT INTO document_citations (document_id, field, cited_id) VALUES ($1, $2, $3)")
            .bind(document_id)
            .bind(&citation.printed.field)
            .bind(citation.cited_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The form and data of a cited document.
pub(super) async fn form_and_data(tx: &mut Tx, id: i64) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT form, data FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}
