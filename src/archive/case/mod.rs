//! The rules of a case (expediente) that only the archive can judge: the
//! documents a `documento` field cites (issued, current, of the office, of
//! the right form, sharing the expediente or a person), the order of an
//! expediente (`requires`, `excludes`, `after` in the form's
//! `[expediente]`) and the persons' identifications in it. Judged inside
//! the transaction that reserves a folio, so nothing issued breaks them,
//! and beforehand, when a draft is sent on, so the clerk hears of it
//! early. Only current documents count: annulling one lifts what it
//! blocked. Its [`rules`] are pure functions of what its SQL [`steps`]
//! found.

mod rules;
mod steps;

use serde_json::Value;

use super::filing::NamedPerson;
use super::reservation::rules::Plan;
use super::{Archive, ArchiveError};
use crate::db::Tx;
use crate::forms::{FieldType, FormSpec, Problem, Problems, Share};
use crate::public_id::PublicId;
use crate::render::CitedDocument;
use crate::signed_pdf::IssueError;
use rules::{Citation, closing_problems, identity_problems, order_problems};
pub(crate) use steps::record_citations;
use steps::{current_in, find_cited, folio_of, form_and_data, identities_of, persons_in_case};

/// A citation the archive resolved: the document cited and what the
/// citing document prints of it.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub cited_id: i64,
    pub printed: CitedDocument,
}

/// What the case's rules found: the citations resolved, and the referral
/// a derivación sends or a contrarreferencia answers.
#[derive(Debug, Clone)]
pub(crate) struct Judgement {
    pub resolved: Vec<Resolved>,
    pub referral: super::referrals::ReferralPlan,
}

/// The expediente a document is to be filed in, as far as it exists yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// `None` when the expediente would be opened by this document.
    pub id: Option<i64>,
    pub title: &'a str,
}

/// What is being judged: the document's form and data, the persons it
/// names and the day it is issued; whether it corrects an earlier one.
pub(crate) struct Judged<'a> {
    pub form: &'a FormSpec,
    pub data: &'a Value,
    pub persons: &'a [NamedPerson],
    pub issued_on: &'a str,
    /// For a correction, the key of the document it replaces. A correction
    /// may change a person's identification: it is how an identification
    /// written wrong before is put right; and a corrected answer answers
    /// again the derivación its earlier version answered.
    pub corrects: Option<i64>,
    /// Appended to the read of the derivación an answer answers: at
    /// issuance, the row lock that keeps two answers from both finding it
    /// unanswered (`Dialect::row_lock`); empty for a check that writes
    /// nothing.
    pub referral_lock: &'static str,
}

/// Judges the data's citations, the expediente's order, the persons'
/// identifications in it and the referral it sends or answers; every
/// problem at once, each by its field.
pub(crate) async fn judge(
    tx: &mut Tx,
    office_code: &str,
    judged: &Judged<'_>,
    target: Target<'_>,
) -> Result<Result<Judgement, Problems>, sqlx::Error> {
    let Judged {
        form,
        data,
        persons,
        issued_on,
        corrects,
        referral_lock,
    } = *judged;
    let mut problems = Vec::new();
    let mut resolved = Vec::new();
    for field in &form.fields {
        let FieldType::Document { forms, share } = &field.kind else {
            continue;
        };
        let Some(folio) = data.get(&field.name).and_then(Value::as_str).map(str::trim) else {
            continue;
        };
        if folio.is_empty() {
            continue;
        }
        let found = find_cited(tx, office_code, folio).await?;
        let shared_persons = match &found {
            Some(found) if *share == Some(Share::Persona) => identities_of(tx, found.id).await?,
            _ => Vec::new(),
        };
        let replacement = match found.as_ref().and_then(|f| f.replaced_by) {
            Some(id) => folio_of(tx, id).await?,
            None => None,
        };
        let cited = Citation {
            field,
            folio,
            forms,
            share: *share,
        };
        let judged = cited.judge(
            found.as_ref(),
            replacement.as_deref(),
            target,
            persons,
            &shared_persons,
        );
        match judged {
            Ok(printed) => resolved.push(Resolved {
                cited_id: found.map(|f| f.id).unwrap_or_default(),
                printed,
            }),
            Err(message) => problems.push(Problem {
                path: field.name.clone(),
                message,
            }),
        }
    }
    for closes in &form.closes {
        let Some(cited) = resolved.iter().find(|r| r.printed.field == closes.cita) else {
            continue;
        };
        let Some((cited_form, owing)) = form_and_data(tx, cited.cited_id).await? else {
            continue;
        };
        if cited_form == closes.formulario {
            let owing: Value = serde_json::from_str(&owing).unwrap_or(Value::Null);
            problems.extend(closing_problems(form, closes, data, &cited.printed.folio, &owing));
        }
    }
    if let Some(rule) = &form.expediente {
        let current = match target.id {
            Some(id) => current_in(tx, id).await?,
            None => Vec::new(),
        };
        problems.extend(order_problems(form, rule, &current, target.title, issued_on));
    }
    if let (Some(id), None) = (target.id, corrects) {
        let known = persons_in_case(tx, id).await?;
        problems.extend(identity_problems(persons, &known, target.title));
    }
    let (referral, found) = super::referrals::judge(
        tx,
        office_code,
        form,
        data,
        persons,
        target,
        issued_on,
        &resolved,
        (corrects, referral_lock),
    )
    .await?;
    problems.extend(found);
    Ok(if problems.is_empty() {
        Ok(Judgement { resolved, referral })
    } else {
        Err(Problems(problems))
    })
}

/// Data problems as the archive reports them: as an issuance refused for
/// its data, which every way in already shows field by field.
pub(crate) fn refused(problems: Problems) -> ArchiveError {
    ArchiveError::Issue(IssueError::Invalid(problems))
}

impl Archive {
    /// Checks a document's citations, its expediente's order and the
    /// identifications of its persons as they stand now, without taking a
    /// folio: for a draft sent on (`corrects`, the key of the issued
    /// document a correction replaces). Issuance judges them again.
    pub async fn check_case(
        &self,
        form: &FormSpec,
        data: &Value,
        issued_at: chrono::DateTime<chrono_tz::Tz>,
        expediente: Option<PublicId>,
        corrects: Option<i64>,
    ) -> Result<Vec<CitedDocument>, ArchiveError> {
        let order = super::IssueOrder {
            form,
            data,
            issued_at,
            actor: "",
            expediente_id: expediente,
            idempotency_key: None,
            draft: None,
            endorsements: Vec::new(),
            on_paper: Vec::new(),
        };
        let plan = Plan::of(&order);
        let mut tx = self.store.pool().begin().await?;
        let found: Option<(i64, String)> = match expediente {
            Some(public_id) => {
                sqlx::query_as("SELECT id, title FROM expedientes WHERE public_id = $1 AND office_code = $2")
                    .bind(public_id)
                    .bind(&self.office.code)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT id, title FROM expedientes WHERE office_code = $1 AND kind = $2 AND key = $3",
                )
                .bind(&self.office.code)
                .bind(plan.derived.kind)
                .bind(&plan.derived.key)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let target = Target {
            id: found.as_ref().map(|f| f.0),
            title: found
                .as_ref()
                .map_or(plan.derived.title.as_str(), |f| f.1.as_str()),
        };
        let judged = Judged {
            form,
            data,
            persons: &plan.persons,
            issued_on: &plan.issued_on,
            corrects,
            referral_lock: "",
        };
        let judged = judge(&mut tx, &self.office.code, &judged, target).await?;
        tx.rollback().await?;
        judged
            .map(|judgement| judgement.resolved.into_iter().map(|r| r.printed).collect())
            .map_err(refused)
    }
}

/// A citation between two documents, as a document's page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CitationLink {
    /// The `documento` field of the citing document.
    pub field: String,
    /// The other document: the cited one, or the one citing.
    #[sqlx(rename = "public_id")]
    pub document_id: PublicId,
    pub folio: String,
    pub form: String,
    #[sqlx(try_from = "String")]
    pub status: super::Status,
    pub issued_on: String,
    /// The office it belongs to: another office's when a referral shares it.
    pub office_code: String,
}

/// What a document cites and what cites it.
#[derive(Debug, Clone, Default)]
pub struct Citations {
    pub cites: Vec<CitationLink>,
    pub cited_by: Vec<CitationLink>,
}

impl Archive {
    /// The documents that `document_id` cites, and those that cite it, of
    /// this office or shared with it by a referral (a contrarreferencia
    /// cites its derivación); a citing document still being issued is
    /// left out.
    pub async fn citations(&self, document_id: i64) -> Result<Citations, ArchiveError> {
        let shared = super::referrals::shared_with("$2");
        let cites = format!(
            "SELECT c.field, d.public_id, d.folio, d.form, d.status, d.issued_on, d.office_code \
             FROM document_citations c JOIN documents d ON d.id = c.cited_id \
             WHERE c.document_id = $1 AND (d.office_code = $2 OR {shared}) ORDER BY c.field"
        );
        let cited_by = format!(
            "SELECT c.field, d.public_id, d.folio, d.form, d.status, d.issued_on, d.office_code \
             FROM document_citations c JOIN documents d ON d.id = c.document_id \
             WHERE c.cited_id = $1 AND (d.office_code = $2 OR {shared}) AND d.status <> 'reservado' \
             ORDER BY d.id"
        );
        let pool = self.store.pool();
        let cites = sqlx::query_as(&cites)
            .bind(document_id)
            .bind(&self.office.code)
            .fetch_all(pool)
            .await?;
        let cited_by = sqlx::query_as(&cited_by)
            .bind(document_id)
            .bind(&self.office.code)
            .fetch_all(pool)
            .await?;
        Ok(Citations { cites, cited_by })
    }
}
