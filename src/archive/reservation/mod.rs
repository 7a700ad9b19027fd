//! A folio's reservation, in two halves that each read on their own: its
//! [`rules`], pure functions of the order and of what the transaction
//! found (which series and expediente, the folio's text, what an
//! idempotency key used before means), and its SQL [`steps`], small
//! functions over the write transaction. [`super::Archive::reserve`] runs
//! the one after the other.

pub(super) mod rules;
pub(super) mod steps;

pub use rules::request_sha256;

use super::folio::Folio;

/// A folio taken for a document that is being issued. Its ids are the
/// database's keys.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub document_id: i64,
    pub folio: Folio,
    pub expediente_id: i64,
    /// The moment the document is dated, as its reservation recorded it:
    /// whoever renders it later (another instance, another attempt)
    /// prints this date, the one its folio and case were judged as of.
    pub issued_at: chrono::DateTime<chrono::FixedOffset>,
    pub(crate) expediente_title: String,
    /// The persons' identity numbers, indexed at completion.
    pub(crate) identities: Vec<String>,
    /// The documents its `documento` fields cite, as found when its folio
    /// was taken: what it prints of them.
    pub citations: Vec<crate::render::CitedDocument>,
    /// The data as stored with the folio: the order's, with what the
    /// archive recorded in it (a derivación's sending). It is what is
    /// rendered, signed and attached, so what is printed is what is stored.
    pub data: serde_json::Value,
}
