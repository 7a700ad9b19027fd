//! PDF signatures: signing Sello's documents by incremental update and
//! verifying them strictly.

mod cms;
mod doc_timestamp;
mod dss;
mod dss_rules;
#[cfg(test)]
mod extension_tests;
mod file;
mod increment;
mod merge;
mod object;
mod revocation;
mod sign;
mod stream_ends;
mod tagging;
mod timestamp_proof;
mod tsp;
mod verify;

/// The CMS decoder and verifier on its own, for the fuzz targets.
pub use cms::{CmsSigner, verify as verify_cms};
pub use doc_timestamp::add_document_timestamp;
pub use dss::{
    ValidationData, add_validation_data, carried_certificates, evidence_expiry, stored_validation_data,
};
pub use file::{Entry, PdfError, PdfFile};
pub use merge::MergedPdf;
pub use object::{Dict, Object};
pub use revocation::{CrlSource, certificate_der};
pub use sign::{SignError, SignatureRequest, sign_pdf, sign_pdf_stamped};
pub use stream_ends::unambiguous_stream_ends;
pub use timestamp_proof::{TimestampProof, prove as prove_timestamp};
pub use tsp::{TimeStamp, TsaClient, read_token};
pub use verify::{DocumentTimestampReport, SignatureReport, VerifyReport, verify_pdf};
