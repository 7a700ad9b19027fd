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
pub use timestamp_proof::{TimestampProof, prove as prove_timestamp};
pub use tsp::{TimeStamp, TsaClient, read_token};
pub use verify::{DocumentTimestampReport, SignatureReport, VerifyReport, verify_pdf};

/// Whether a stream of `pdf` ends with a carriage return right before the
/// line feed and `endstream`: the two read as one line end, so a PDF/A
/// validator counts one byte less than its /Length. Typst writes every
/// stream's end as a line feed, so this is the only way the pair appears.
pub fn has_ambiguous_stream_end(pdf: &[u8]) -> bool {
    pdf.windows(b"\r\nendstream".len()).any(|w| w == b"\r\nendstream")
}

#[cfg(test)]
mod tests {
    use super::has_ambiguous_stream_end;

    #[test]
    fn a_stream_ending_in_a_carriage_return_is_ambiguous() {
        assert!(has_ambiguous_stream_end(
            b"1 0 obj<</Length 2>>stream\nA\r\nendstream"
        ));
        assert!(!has_ambiguous_stream_end(
            b"1 0 obj<</Length 2>>stream\nAB\nendstream"
        ));
    }
}
