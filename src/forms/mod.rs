//! The form catalog: each form is a folder under `forms/` with a `form.toml`
//! (what the form asks for), a `template.typ` (how it is laid out) and an
//! `example.json` (realistic example data).

mod catalog;
mod changes;
mod dates;
mod familias;
mod grants;
mod identity;
mod invisible;
mod money;
mod referral;
mod rules;
mod shared;
mod signers;
mod spec;
mod validate;
mod workflow;

pub use catalog::{Catalog, CatalogError};
pub use changes::changed_fields;
pub use dates::{FIRST_YEAR, IssueDate, LAST_YEAR, MONTHS, long_date};
pub use grants::{COUNT_RECORD_FIELD, Closes, Count, FollowUp, Grant, Granted, without_count};
pub use identity::normalize as normalize_identity;
pub use money::{MoneyStyle, money_text};
pub use referral::{
    Answer, PROTOCOL_DEADLINE_FIELD, REFERRAL_RECORD_FIELD, Referral, SHARED_FOLIO_COLUMN,
    business_days_after, typed_data,
};
pub use rules::{DeclaredRule, Rule};
pub use signers::{StepTaker, fill_signers};
pub use spec::{
    CitedForm, ExpedienteKind, ExpedienteRule, Family, FieldSpec, FieldType, FilledBy, FormId, FormSpec,
    IdentityKind, Share, SignerValue,
};
pub use validate::{DOCUMENT_FOLIO_MAX, Problem, Problems, validate, warnings};
pub use workflow::{Action, HandSigner, Step, StepKind, Workflow, hand_signers, paper_signers};
