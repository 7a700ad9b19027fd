//! Follow-ups with due dates (issue 25, point 2): what the documents in
//! force still owe, as their forms declare it in `[[seguimiento]]`, and is
//! not yet closed by a document in force of the closing form that cites
//! their folio. Read from the archive each time: nothing to keep in step.
//!
//! A closing document is matched by the folio in its data, not by its row
//! in `document_citations`: the field is a `documento` (the acuse's oficio
//! de autorización, the constancia's oficio de comisión, the renewal's
//! resguardo anterior), so the archive refused any folio that is not an
//! issued, current document of the right form, and what the follow-up says
//! must coincide with it (`persona`, `coinciden`); the folio in the data
//! also closes what documents issued before those fields cited. Where each
//! person a document names owes their own (`por_persona`: every person
//! commissioned hands in their own constancia), a closing document closes
//! only the obligation of the person it names.
//!
//! The answer a derivación awaits is owed too, by the due day its referral
//! keeps (`referrals.due_on`, set from the protocolo when it was sent): the
//! office it was sent to owes it, the office that sent it awaits it, until
//! a contrarreferencia in force answers it or the derivación is annulled.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};
use serde::Serialize;
use serde_json::Value;

use crate::archive::text::fold;
use crate::archive::{Archive, ArchiveError};
use crate::forms::{Catalog, FollowUp};

/// What a closing document closes: the folio it cites and, where each
/// person owes their own, the person it names (folded).
type Closing = (String, Option<String>);

/// How far back documents are read for what they owe.
const LOOK_BACK_DAYS: u64 = 3 * 366;

/// Something owed by a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Due {
    /// The folio of the document that owes it.
    pub folio: String,
    pub formulario: String,
    /// What is owed: «Acuse de entrega del apoyo».
    pub etiqueta: String,
    /// Who owes it, where each person the document names owes their own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    /// The form of the document that closes it.
    pub cierra: String,
    /// The day it falls due, `YYYY-MM-DD`.
    pub vence: String,
    /// Past its day on `today`.
    pub vencido: bool,
    /// For the answer a derivación awaits: the referral, by its derivación.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivacion: Option<ReferralDue>,
}

/// The answer (contrarreferencia) a derivación awaits by the due day its
/// referral keeps (`referrals.due_on`): owed by the office it was sent to,
/// awaited by the office that sent it; both see it among their follow-ups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReferralDue {
    /// The derivación's public id: its page is `/derivaciones/<id>`.
    pub id: String,
    /// The other office: the one that owes the answer, or the one owed it.
    pub oficina: String,
    /// This office received the derivación and owes its answer.
    pub debe_responder: bool,
}

/// What falls due by `today` plus `ahead` days and is not closed, the most
/// overdue first.
pub async fn pending(
    archive: &Archive,
    catalog: &Catalog,
    today: NaiveDate,
    ahead: u64,
) -> Result<Vec<Due>, ArchiveError> {
    let window = (today - Days::new(LOOK_BACK_DAYS), today);
    let horizon = today + Days::new(ahead);
    let mut owed: Vec<(Due, &FollowUp)> = Vec::new();
    for form in catalog.iter().filter(|f| !f.seguimiento.is_empty()) {
        archive
            .for_each_issued(&[form.id.as_str()], window, true, |document| {
                let data: Value = serde_json::from_str(&document.data).unwrap_or(Value::Null);
                let issued_on = NaiveDate::parse_from_str(&document.issued_on, "%Y-%m-%d").unwrap_or(today);
                for follow_up in &form.seguimiento {
                    let due = follow_up.due(&data, issued_on);
                    if due > horizon {
                        continue;
                    }
                    let persons = match follow_up.owed_by(&data) {
                        Some(names) => names.into_iter().map(Some).collect(),
                        None => vec![None],
                    };
                    for persona in persons {
                        let item = Due {
                            folio: document.folio.clone(),
                            formulario: form.id.to_string(),
                            etiqueta: follow_up.etiqueta.clone(),
                            persona,
                            cierra: follow_up.cierra.clone(),
                            vence: due.to_string(),
                            vencido: due < today,
                            derivacion: None,
                        };
                        owed.push((item, follow_up));
                    }
                }
                Ok(())
            })
            .await?;
    }
    // What each closing form's documents in force close, by the field
    // citing the folio: the folio, and the person named where each owes
    // their own.
    let mut closed: HashMap<(&str, &str), HashSet<Closing>> = HashMap::new();
    for &(_, follow_up) in &owed {
        let key = (follow_up.cierra.as_str(), follow_up.cita.as_str());
        if closed.contains_key(&key) {
            continue;
        }
        let mut cited = HashSet::new();
        archive
            .for_each_issued(&[key.0], (window.0, horizon.max(today)), true, |document| {
                let data: Value = serde_json::from_str(&document.data).unwrap_or(Value::Null);
                if let Some(folio) = data.get(key.1).and_then(Value::as_str) {
                    let person = follow_up
                        .persona
                        .as_deref()
                        .and_then(|field| data.get(field)?.get("nombre")?.as_str())
                        .map(fold);
                    cited.insert((folio.trim().to_owned(), person));
                }
                Ok(())
            })
            .await?;
        closed.insert(key, cited);
    }
    let mut pending: Vec<Due> = owed
        .into_iter()
        .filter(|(item, follow_up)| {
            let key = (follow_up.cierra.as_str(), follow_up.cita.as_str());
            let closing = (item.folio.clone(), item.persona.as_deref().map(fold));
            !closed.get(&key).is_some_and(|c| c.contains(&closing))
        })
        .map(|(item, _)| item)
        .collect();
    pending.extend(unanswered(archive, catalog, today, horizon).await?);
    pending.sort_by(|a, b| {
        (a.vence.cmp(&b.vence))
            .then_with(|| a.folio.cmp(&b.folio))
            .then_with(|| a.persona.cmp(&b.persona))
    });
    Ok(pending)
}

/// The derivaciones this office sent or received, in force and not
/// answered by a contrarreferencia in force, whose due day comes by
/// `horizon`: their answer is owed.
async fn unanswered(
    archive: &Archive,
    catalog: &Catalog,
    today: NaiveDate,
    horizon: NaiveDate,
) -> Result<Vec<Due>, ArchiveError> {
    let Some(answer) = catalog.iter().find(|f| f.contrarreferencia.is_some()) else {
        return Ok(Vec::new());
    };
    let office = archive.office().code.clone();
    let mut referrals = archive.referrals_sent().await?;
    referrals.extend(archive.referrals_received().await?);
    let mut owed = Vec::new();
    for referral in referrals {
        use crate::archive::ReferralState::{Enviada, Recibida, Vencida};
        if !matches!(referral.state(today), Enviada | Recibida | Vencida) {
            continue;
        }
        let Ok(due) = NaiveDate::parse_from_str(&referral.due_on, "%Y-%m-%d") else {
            continue;
        };
        if due > horizon {
            continue;
        }
        let owes = referral.to_office == office;
        let other = if owes {
            &referral.from_office
        } else {
            &referral.to_office
        };
        let etiqueta = if owes {
            format!("Contrarreferencia a la oficina {other}")
        } else {
            format!("Contrarreferencia de la oficina {other}")
        };
        owed.push(Due {
            folio: referral.folio,
            formulario: referral.form,
            etiqueta,
            persona: None,
            cierra: answer.id.to_string(),
            vence: due.to_string(),
            vencido: due < today,
            derivacion: Some(ReferralDue {
                id: referral.id.to_string(),
                oficina: other.clone(),
                debe_responder: owes,
            }),
        });
    }
    Ok(owed)
}
