//! A referral's rules, judged with the case's in the transaction that
//! reserves the folio: a derivación names an office of the installation
//! other than its own and shares only current documents of its own case;
//! a contrarreferencia answers a derivación sent to its office that no
//! answer in force answers yet. What they find is recorded by
//! [`super::recording`].

use serde_json::{Value, json};

use crate::archive::case::{Resolved, Target};
use crate::archive::filing::NamedPerson;
use crate::db::Tx;
use crate::forms::{
    Answer, FormSpec, PROTOCOL_DEADLINE_FIELD, Problem, Referral, SHARED_FOLIO_COLUMN, business_days_after,
};

/// What issuing a derivación records: where it goes, what it shares and
/// when it is due.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub to_office: String,
    /// The receiving office's name, as the installation registers it.
    pub to_office_name: String,
    /// The documents shared, by key, in the order the clerk listed them.
    pub shared: Vec<i64>,
    /// The same documents as the archive holds them: folio, form, issue day.
    pub shared_documents: Vec<SharedDocument>,
    /// The business days it gives to answer.
    pub days: u32,
    /// `YYYY-MM-DD`.
    pub due_on: String,
}

/// A document a derivación shares, as issued.
#[derive(Debug, Clone)]
pub(crate) struct SharedDocument {
    pub folio: String,
    pub form: String,
    /// `YYYY-MM-DD`.
    pub issued_on: String,
}

impl Outgoing {
    /// What the derivación's data records of its sending
    /// ([`crate::forms::REFERRAL_RECORD_FIELD`]): the receiving office by
    /// its registered name, each shared document by its folio, form title
    /// and issue day, and the deadline the referral row stores.
    pub(crate) fn record(&self, rule: &Referral) -> Value {
        let shared: Vec<Value> = self
            .shared_documents
            .iter()
            .map(|d| {
                json!({
                    "folio": d.folio,
                    "formulario": rule.form_titles.get(&d.form).unwrap_or(&d.form),
                    "fecha": d.issued_on,
                })
            })
            .collect();
        json!({
            "oficina": {"clave": self.to_office, "nombre": self.to_office_name},
            "compartidos": shared,
            "plazo": {"dias_habiles": self.days, "vence": self.due_on},
        })
    }
}

/// What issuing a contrarreferencia records: the referral it answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answering {
    pub referral_id: i64,
}

/// What a referral's rules found for one document.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReferralPlan {
    pub outgoing: Option<Outgoing>,
    pub answering: Option<Answering>,
}

fn problem(path: impl Into<String>, message: String) -> Problem {
    Problem {
        path: path.into(),
        message,
    }
}

/// The referral's rules for a document of `form`, if it declares any.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn judge(
    tx: &mut Tx,
    office_code: &str,
    form: &FormSpec,
    data: &Value,
    persons: &[NamedPerson],
    target: Target<'_>,
    issued_on: &str,
    resolved: &[Resolved],
    answering_with: (Option<i64>, &'static str),
) -> Result<(ReferralPlan, Vec<Problem>), sqlx::Error> {
    let mut plan = ReferralPlan::default();
    let mut problems = Vec::new();
    if let Some(rule) = &form.derivacion {
        match outgoing(
            tx,
            office_code,
            form,
            rule,
            data,
            persons,
            target,
            issued_on,
            resolved,
        )
        .await?
        {
            Ok(found) => plan.outgoing = Some(found),
            Err(found) => problems.extend(found),
        }
    }
    if let Some(rule) = &form.contrarreferencia {
        match answering(tx, office_code, form, rule, resolved, answering_with).await? {
            Ok(found) => plan.answering = found,
            Err(found) => problems.push(found),
        }
    }
    Ok((plan, problems))
}

#[allow(clippy::too_many_arguments)]
async fn outgoing(
    tx: &mut Tx,
    office_code: &str,
    form: &FormSpec,
    rule: &Referral,
    data: &Value,
    persons: &[NamedPerson],
    target: Target<'_>,
    issued_on: &str,
    resolved: &[Resolved],
) -> Result<Result<Outgoing, Vec<Problem>>, sqlx::Error> {
    let label = |name: &str| {
        form.fields
            .iter()
            .find(|f| f.name == name)
            .map_or(name.to_owned(), |f| f.label.clone())
    };
    let mut problems = Vec::new();
    let to_office = data
        .get(&rule.oficina)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    let known: Option<String> = sqlx::query_scalar("SELECT name FROM offices WHERE code = $1")
        .bind(&to_office)
        .fetch_optional(&mut **tx)
        .await?;
    if to_office == office_code {
        problems.push(problem(
            &rule.oficina,
            format!(
                "«{}»: «{to_office}» es esta misma oficina; se deriva a otra oficina de la instalación",
                label(&rule.oficina)
            ),
        ));
    } else if known.is_none() {
        problems.push(problem(
            &rule.oficina,
            format!(
                "«{}»: no existe la oficina «{to_office}» en esta instalación; escriba la clave con que \
                 Sello la conoce",
                label(&rule.oficina)
            ),
        ));
    }
    let mut shared = Vec::new();
    let mut shared_documents = Vec::new();
    if let Some(table) = &rule.compartidos {
        let rows = data
            .get(table)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, row) in rows.iter().enumerate() {
            let path = format!("{table}[{}].{SHARED_FOLIO_COLUMN}", i + 1);
            let folio = row
                .get(SHARED_FOLIO_COLUMN)
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or_default();
            match shareable(tx, office_code, folio, persons, target).await? {
                Ok((id, _)) if shared.contains(&id) => problems.push(problem(
                    path,
                    format!("el documento {folio} ya está en la lista de documentos compartidos"),
                )),
                Ok((id, document)) => {
                    shared.push(id);
                    shared_documents.push(document);
                }
                Err(message) => problems.push(problem(path, format!("«{}»: {message}", label(table)))),
            }
        }
    }
    let days = match rule.protocolo.as_ref().and_then(|field| {
        resolved
            .iter()
            .find(|r| &r.printed.field == field)
            .map(|r| r.cited_id)
    }) {
        Some(protocol) => protocol_days(tx, protocol).await?.unwrap_or(rule.plazo_dias),
        None => rule.plazo_dias,
    };
    let due_on = chrono::NaiveDate::parse_from_str(issued_on, "%Y-%m-%d")
        .map(|day| business_days_after(day, days).to_string())
        .unwrap_or_else(|_| issued_on.to_owned());
    Ok(if problems.is_empty() {
        Ok(Outgoing {
            to_office,
            to_office_name: known.unwrap_or_default(),
            shared,
            shared_documents,
            days,
            due_on,
        })
    } else {
        Err(problems)
    })
}

/// The key of a document the derivación may share, with what it prints
/// of it, or why not: a current document of the office in the
/// derivación's expediente or naming one of its persons. Nothing else of
/// the case is shared.
async fn shareable(
    tx: &mut Tx,
    office_code: &str,
    folio: &str,
    persons: &[NamedPerson],
    target: Target<'_>,
) -> Result<Result<(i64, SharedDocument), String>, sqlx::Error> {
    let found: Option<(i64, String, i64, String, String, String)> = sqlx::query_as(
        "SELECT id, status, expediente_id, folio, form, issued_on FROM documents \
         WHERE office_code = $1 AND folio = $2",
    )
    .bind(office_code)
    .bind(folio)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((id, status, expediente_id, folio, form, issued_on)) = found.filter(|f| f.1 != "reservado")
    else {
        return Ok(Err(format!(
            "el documento {folio} no está en el archivo de esta oficina; se comparten documentos emitidos \
             por la oficina"
        )));
    };
    if status != "emitido" {
        return Ok(Err(format!(
            "el documento {folio} está {status}; solo se comparten documentos vigentes"
        )));
    }
    let document = SharedDocument {
        folio,
        form,
        issued_on,
    };
    if target.id == Some(expediente_id) {
        return Ok(Ok((id, document)));
    }
    let identities: Vec<String> = sqlx::query_scalar(
        "SELECT p.identity FROM document_persons dp JOIN persons p ON p.id = dp.person_id \
         WHERE dp.document_id = $1",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(
        if persons
            .iter()
            .any(|p| identities.iter().any(|i| i == &p.identity))
        {
            Ok((id, document))
        } else {
            Err(format!(
                "el documento {} no es del expediente «{}» ni nombra a la persona derivada; \
                 se comparten solo documentos de su caso",
                document.folio, target.title
            ))
        },
    )
}

/// The business days a cited protocolo de atención gives to answer.
async fn protocol_days(tx: &mut Tx, protocol: i64) -> Result<Option<u32>, sqlx::Error> {
    let data: Option<String> = sqlx::query_scalar("SELECT data FROM documents WHERE id = $1")
        .bind(protocol)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(data
        .and_then(|d| serde_json::from_str::<Value>(&d).ok())
        .and_then(|d| d.get(PROTOCOL_DEADLINE_FIELD).and_then(Value::as_u64))
        .and_then(|days| u32::try_from(days).ok())
        .filter(|days| (1..=60).contains(days)))
}

async fn answering(
    tx: &mut Tx,
    office_code: &str,
    form: &FormSpec,
    rule: &Answer,
    resolved: &[Resolved],
    (corrects, lock): (Option<i64>, &'static str),
) -> Result<Result<Option<Answering>, Problem>, sqlx::Error> {
    // Without a resolved citation its own problem is already reported.
    let Some(cited) = resolved.iter().find(|r| r.printed.field == rule.derivacion) else {
        return Ok(Ok(None));
    };
    let label = form
        .fields
        .iter()
        .find(|f| f.name == rule.derivacion)
        .map_or(rule.derivacion.as_str(), |f| f.label.as_str());
    let folio = &cited.printed.folio;
    // Locked until the answer's folio is taken and recorded: a second
    // answer waits here, then finds the first.
    let found: Option<(i64, String, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT id, to_office, answered_by FROM referrals WHERE document_id = $1{lock}"
    ))
    .bind(cited.cited_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((referral_id, _, answered_by)) = found.filter(|f| f.1 == office_code) else {
        return Ok(Err(problem(
            &rule.derivacion,
            format!(
                "«{label}»: el documento {folio} no es una derivación enviada a esta oficina; se responden \
                 las derivaciones de la bandeja de derivaciones"
            ),
        )));
    };
    let (answer_status, answer) = match answered_by {
        Some(answer) => {
            sqlx::query_as::<_, (String, String)>("SELECT status, folio FROM documents WHERE id = $1")
                .bind(answer)
                .fetch_optional(&mut **tx)
                .await?
                .map_or((None, String::new()), |(status, folio)| (Some(status), folio))
        }
        None => (None, String::new()),
    };
    // Only the correction of the answer in force answers it again; the
    // correction of any other document is a new answer like any other.
    let corrects_the_answer = corrects.is_some() && corrects == answered_by;
    match answer_status.as_deref() {
        Some("emitido") if !corrects_the_answer => Ok(Err(problem(
            &rule.derivacion,
            format!(
                "«{label}»: la derivación {folio} ya fue respondida con la contrarreferencia {answer}; \
                 para cambiar la respuesta, corrija esa contrarreferencia"
            ),
        ))),
        Some("reservado") => Ok(Err(problem(
            &rule.derivacion,
            format!("«{label}»: la derivación {folio} se está respondiendo (folio {answer} en emisión)"),
        ))),
        _ => Ok(Ok(Some(Answering { referral_id }))),
    }
}
