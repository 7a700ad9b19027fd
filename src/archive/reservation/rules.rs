//! The rules of a folio's reservation: what an order decides before the
//! database is asked, and what the reservation's transaction makes of what
//! it finds. Pure functions; the SQL is in [`super::steps`].

use chrono::Datelike as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::archive::ArchiveError;
use crate::archive::IssueOrder;
use crate::archive::audit::hex;
use crate::archive::filing::{ExpedienteRef, NamedPerson, expediente_of, persons_in};
use crate::archive::folio::{Folio, FolioFormat, series_of};
use crate::public_id::PublicId;

/// SHA-256 of the form and its data with object keys sorted: the same data
/// written in another order is the same request.
pub fn request_sha256(form: &str, data: &Value) -> String {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(fields) => {
                let mut keys: Vec<_> = fields.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), canonical(&fields[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    hex(&Sha256::digest(
        json!([form, canonical(data)]).to_string().as_bytes(),
    ))
}

/// What an order decides before the database is asked.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The request's hash, compared under an idempotency key.
    pub request: String,
    pub series_code: &'static str,
    pub series_name: &'static str,
    pub year: i32,
    /// The expediente its data points to, filed in unless the order names one.
    pub derived: ExpedienteRef,
    /// Sorted: every issuance upserts persons in the same order, so two
    /// cannot deadlock.
    pub persons: Vec<NamedPerson>,
    pub issued_on: String,
}

impl Plan {
    pub fn of(order: &IssueOrder<'_>) -> Self {
        let request = request_sha256(order.form.id.as_str(), order.data);
        let (series_code, series_name) = series_of(order.form.family);
        let year = order.issued_at.year();
        let derived = expediente_of(order.form, order.data, series_name, year);
        let mut persons = persons_in(order.form, order.data);
        persons.sort_by(|a, b| (&a.identity, &a.role).cmp(&(&b.identity, &b.role)));
        Self {
            request,
            series_code,
            series_name,
            year,
            derived,
            persons,
            issued_on: order.issued_at.date_naive().to_string(),
        }
    }

    /// The folio's text for the series' next number.
    pub fn folio(&self, format: &FolioFormat, office_code: &str, number: u32) -> Folio {
        format.folio(office_code, self.series_code, self.year, number)
    }
}

/// An earlier use of an idempotency key: its document's status and request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EarlierUse {
    pub status: String,
    pub request_sha256: String,
}

/// What a known idempotency key means for a new request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyUse {
    /// Not used before: issue.
    New,
    /// Used for the same request, already issued (or annulled since): the
    /// answer is that document.
    Issued,
}

/// A key used with other data is a conflict, even while its document is
/// still being issued; with the same data, the answer is the document
/// issued, or that it is still being issued.
pub(crate) fn key_use(
    key: &str,
    earlier: Option<&EarlierUse>,
    request: &str,
) -> Result<KeyUse, ArchiveError> {
    match earlier {
        None => Ok(KeyUse::New),
        Some(earlier) if earlier.request_sha256 != request => {
            Err(ArchiveError::IdempotencyConflict(key.to_owned()))
        }
        Some(earlier) if earlier.status == "reservado" => Err(ArchiveError::InProgress(key.to_owned())),
        Some(_) => Ok(KeyUse::Issued),
    }
}

/// Why the document could not be recorded: another issuance with the same
/// idempotency key got in first (it is in progress), or the database's own
/// reason.
pub(crate) fn insert_failure(error: sqlx::Error, key: Option<&str>) -> ArchiveError {
    match (&error, key) {
        (sqlx::Error::Database(db), Some(key))
            if db.is_unique_violation()
                && (db.message().contains("idempotency_key")
                    || db.constraint().is_some_and(|c| c.contains("idempotency_key"))) =>
        {
            ArchiveError::InProgress(key.to_owned())
        }
        _ => error.into(),
    }
}

/// An expediente a document may be filed in, as the transaction found it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct FoundExpediente {
    pub id: i64,
    pub title: String,
    pub closed_on: Option<String>,
}

/// The expediente the order names (its key and title), if this office has
/// it and it is open.
pub(crate) fn chosen_expediente(
    public_id: PublicId,
    found: Option<FoundExpediente>,
) -> Result<(i64, String), ArchiveError> {
    match found {
        None => Err(ArchiveError::ExpedienteNotFound(public_id.to_string())),
        Some(FoundExpediente {
            title,
            closed_on: Some(closed),
            ..
        }) => Err(ArchiveError::Refused(format!(
            "el expediente «{title}» se cerró el {closed}; no recibe documentos nuevos"
        ))),
        Some(FoundExpediente { id, title, .. }) => Ok((id, title)),
    }
}

/// The expediente the data points to (its key and title), if it is open;
/// when closed, the person issuing can name another.
pub(crate) fn derived_expediente(found: FoundExpediente) -> Result<(i64, String), ArchiveError> {
    match found.closed_on {
        Some(closed) => Err(ArchiveError::Refused(format!(
            "el expediente «{}» se cerró el {closed}; indique otro con --expediente",
            found.title
        ))),
        None => Ok((found.id, found.title)),
    }
}

/// Retention classes, by kind of expediente.
pub(crate) fn retention(kind: &str) -> &'static str {
    match kind {
        "familia" | "persona" => "10 años desde el cierre",
        _ => "5 años desde el cierre",
    }
}

/// The series' next number as a folio prints it.
pub(crate) fn folio_number(next: i64) -> Result<u32, ArchiveError> {
    u32::try_from(next).map_err(|_| ArchiveError::Refused(format!("número de folio fuera de rango: {next}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn earlier(status: &str, request: &str) -> EarlierUse {
        EarlierUse {
            status: status.to_owned(),
            request_sha256: request.to_owned(),
        }
    }

    #[test]
    fn a_key_used_with_other_data_conflicts_even_while_its_document_is_issued() {
        for status in ["reservado", "emitido", "anulado"] {
            let refused = key_use("k", Some(&earlier(status, "a")), "b");
            assert!(
                matches!(refused, Err(ArchiveError::IdempotencyConflict(ref key)) if key == "k"),
                "{status}: {refused:?}"
            );
        }
    }

    #[test]
    fn a_key_with_the_same_data_waits_for_its_issuance_then_answers_its_document() {
        let waiting = key_use("k", Some(&earlier("reservado", "a")), "a");
        assert!(matches!(waiting, Err(ArchiveError::InProgress(_))), "{waiting:?}");
        for status in ["emitido", "anulado", "reemplazado"] {
            let answer = key_use("k", Some(&earlier(status, "a")), "a");
            assert!(matches!(answer, Ok(KeyUse::Issued)), "{status}: {answer:?}");
        }
        assert!(matches!(key_use("k", None, "a"), Ok(KeyUse::New)));
    }

    #[test]
    fn the_same_data_in_another_key_order_is_the_same_request() {
        let one = json!({"b": 1, "a": {"y": [1, 2], "x": "z"}});
        let other = json!({"a": {"x": "z", "y": [1, 2]}, "b": 1});
        assert_eq!(request_sha256("f", &one), request_sha256("f", &other));
        assert_ne!(request_sha256("f", &one), request_sha256("g", &one));
        let reordered_list = json!({"b": 1, "a": {"y": [2, 1], "x": "z"}});
        assert_ne!(request_sha256("f", &one), request_sha256("f", &reordered_list));
    }

    #[test]
    fn a_closed_expediente_receives_no_document_and_a_missing_one_is_not_found() {
        let id = PublicId::generate().expect("random");
        let closed = FoundExpediente {
            id: 7,
            title: "Familia Pérez".into(),
            closed_on: Some("2026-01-31".into()),
        };
        let chosen = chosen_expediente(id, Some(closed.clone()));
        assert!(
            matches!(&chosen, Err(ArchiveError::Refused(m)) if m.contains("Familia Pérez") && m.contains("no recibe")),
            "{chosen:?}"
        );
        let derived = derived_expediente(closed.clone());
        assert!(
            matches!(&derived, Err(ArchiveError::Refused(m)) if m.contains("--expediente")),
            "{derived:?}"
        );
        assert!(matches!(
            chosen_expediente(id, None),
            Err(ArchiveError::ExpedienteNotFound(_))
        ));
        let open = FoundExpediente {
            closed_on: None,
            ..closed
        };
        assert_eq!(
            chosen_expediente(id, Some(open.clone())).expect("open"),
            (7, "Familia Pérez".to_owned())
        );
        assert_eq!(
            derived_expediente(open).expect("open"),
            (7, "Familia Pérez".to_owned())
        );
    }

    #[test]
    fn a_folio_number_beyond_what_folios_print_is_refused() {
        assert_eq!(folio_number(142).expect("in range"), 142);
        assert!(matches!(
            folio_number(i64::from(u32::MAX) + 1),
            Err(ArchiveError::Refused(_))
        ));
        assert!(matches!(folio_number(-1), Err(ArchiveError::Refused(_))));
    }

    #[test]
    fn families_and_persons_keep_their_expedientes_longer() {
        assert_eq!(retention("familia"), "10 años desde el cierre");
        assert_eq!(retention("persona"), "10 años desde el cierre");
        assert_eq!(retention("administrativo"), "5 años desde el cierre");
    }
}
