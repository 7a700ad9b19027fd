//! PDF signatures: signing Sello's documents by incremental update and
//! verifying them strictly.

mod cms;
mod file;
mod merge;
mod object;
mod sign;
mod verify;

/// The CMS decoder and verifier on its own, for the fuzz targets.
pub use cms::{CmsSigner, verify as verify_cms};
pub use file::{Entry, PdfError, PdfFile};
pub use merge::MergedPdf;
pub use object::{Dict, Object};
pub use sign::{SignError, SignatureRequest, sign_pdf};
pub use verify::{SignatureReport, VerifyReport, verify_pdf};
