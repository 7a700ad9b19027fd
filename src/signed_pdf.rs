//! One document made into its signed PDF: validate its data, create its
//! verification code, render it with the code, link and QR on every page,
//! and sign it. Nothing is stored here: `archive::issue_protocol` does that.

mod long_term;

pub use long_term::LongTermSources;

use std::time::Instant;

use chrono::DateTime;
use chrono_tz::Tz;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::code::VerificationCode;
use crate::forms::{
    COUNT_RECORD_FIELD, FieldType, Problem, REFERRAL_RECORD_FIELD, typed_data, without_count,
};
use crate::forms::{FormSpec, IssueDate, Problems, validate};
use crate::keys::OfficeKey;
use crate::pdf::{
    PdfError, SignError, SignatureRequest, TimeStamp, TsaClient, sign_pdf, sign_pdf_stamped,
    unambiguous_stream_ends,
};
use crate::qr;
use crate::render::{
    CitedDocument, DocumentContext, Endorsement, Issuance, RenderError, Renderer, data_json,
};

/// What is needed to issue one document.
pub struct IssueRequest<'a> {
    pub form: &'a FormSpec,
    pub data: &'a Value,
    pub issued_at: DateTime<Tz>,
    /// Assigned by the archive; `None` outside it.
    pub folio: Option<String>,
    /// Who signs, and as what (shown in the signature's metadata).
    pub signer: &'a str,
    pub cargo: &'a str,
    /// The visados and signatures of its workflow, printed on it.
    pub endorsements: &'a [Endorsement],
    /// Signatures drawn by hand on a screen, by signer, printed in their blocks.
    pub hand_signatures: &'a [(String, Vec<u8>)],
    /// The signers who sign the printed paper: their blocks stay empty.
    pub on_paper: &'a [String],
    /// The documents its `documento` fields cite, as the archive resolved
    /// them when it reserved the folio: every cited folio must be here.
    pub citations: &'a [CitedDocument],
}

/// An issued, signed document.
pub struct IssuedDocument {
    pub pdf: Vec<u8>,
    pub code: VerificationCode,
    /// `<base-url>/v/<code>`.
    pub url: String,
    /// What the QR code holds: the link and, after `#`, the signed payload.
    pub qr_link: String,
    /// SHA-256 of the data JSON attached to the PDF.
    pub data_sha256: [u8; 32],
    /// The QR code's version (size); 1 is the smallest.
    pub qr_version: i16,
    pub pages: usize,
    /// The signature made, as the archive records it.
    pub signature: SignatureRecord,
    /// How long rendering and signing took, for the service's metrics.
    pub timings: Timings,
    /// The signature's time-stamp; `None` when the document was issued
    /// without one (no TSA configured, or none answered).
    pub timestamp: Option<TimeStamp>,
    /// TSAs were asked and none answered: the archive records that the
    /// document awaits its time-stamp, which a document time-stamp adds.
    pub awaiting_timestamp: bool,
}

/// Where the time of an issuance went.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub render: std::time::Duration,
    pub sign: std::time::Duration,
}

/// Who signed a document, with which key, when.
#[derive(Debug, Clone)]
pub struct SignatureRecord {
    pub key_id: String,
    pub algorithm: &'static str,
    pub signer: String,
    pub cargo: String,
    pub signed_at: String,
}

/// Why a document was not issued. Nothing is written in any case.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("los datos no son válidos:\n{0}")]
    Invalid(Problems),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("no se pudo firmar: {0}")]
    Sign(#[from] SignError),
    #[error("{0}")]
    Other(String),
}

/// Issues a document signed with `key`, with links under `base_url`, and
/// without a time-stamp.
pub fn issue(
    renderer: &Renderer,
    key: &OfficeKey,
    base_url: &str,
    request: &IssueRequest<'_>,
) -> Result<IssuedDocument, IssueError> {
    issue_stamped(renderer, key, base_url, request, None)
}

/// [`issue`], with the signature time-stamped by one of `tsa`'s
/// authorities when one answers (PAdES B-T); otherwise the document is
/// issued awaiting its time-stamp (B-B, [`IssuedDocument::timestamp`] is
/// `None`).
pub fn issue_stamped(
    renderer: &Renderer,
    key: &OfficeKey,
    base_url: &str,
    request: &IssueRequest<'_>,
    tsa: Option<&TsaClient>,
) -> Result<IssuedDocument, IssueError> {
    issue_long_term(renderer, key, base_url, request, tsa, None)
}

/// [`issue_stamped`], with the validation data of its signature and
/// time-stamp embedded in a DSS after signing (PAdES B-LT) when
/// `long_term` is given.
pub fn issue_long_term(
    renderer: &Renderer,
    key: &OfficeKey,
    base_url: &str,
    request: &IssueRequest<'_>,
    tsa: Option<&TsaClient>,
    long_term: Option<&LongTermSources>,
) -> Result<IssuedDocument, IssueError> {
    // As the issuing office fills the form in: its country's identity
    // number where the form does not name one.
    // The data as typed: what the archive recorded in it is its own.
    validate(
        &request.form.for_country(renderer.country()),
        &without_count(
            request.form.conteo.is_some(),
            &typed_data(request.form.derivacion.is_some(), request.data),
        ),
        IssueDate::issued(&request.issued_at),
    )
    .map_err(IssueError::Invalid)?;
    unchecked_citations(request).map_err(IssueError::Invalid)?;
    unrecorded_referral(request).map_err(IssueError::Invalid)?;
    uncounted_report(request).map_err(IssueError::Invalid)?;
    let data_sha256: [u8; 32] = Sha256::digest(data_json(request.data)).into();
    let payload = qr::signed_payload(
        key,
        request.form.id.as_str(),
        request.folio.as_deref(),
        request.issued_at.date_naive(),
        &data_sha256,
    );
    let started = Instant::now();
    let code = VerificationCode::generate()
        .map_err(|e| IssueError::Other(format!("generador aleatorio del sistema: {e}")))?;
    let printed_code = code.display();
    let url = format!("{base_url}/v/{printed_code}");
    let qr_link = qr::link(base_url, &printed_code, &payload);
    let image = qr::render(&qr_link).map_err(IssueError::Other)?;
    let context = DocumentContext::issued(
        request.issued_at,
        request.folio.clone(),
        Issuance {
            code: printed_code,
            url: url.clone(),
            qr_png: image.png.clone(),
            key_id: key.key_id.to_string(),
            key_holder: crate::keys::certificate_name(&key.certificate)
                .unwrap_or_else(|| format!("la clave {}", key.key_id)),
        },
    )
    .with_endorsements(request.endorsements.to_vec())
    .with_hand_signatures(request.hand_signatures.to_vec())
    .with_on_paper(request.on_paper.to_vec())
    .with_citations(request.citations.to_vec());
    let mut rendered = renderer.render(request.form, request.data, &context)?;
    // A compressed stream may end in a carriage return, which PDF/A
    // validators would read as part of the line end before `endstream`.
    rendered.pdf = unambiguous_stream_ends(rendered.pdf)
        .map_err(|e| IssueError::Other(format!("PDF compuesto: {e}")))?;
    let render_time = started.elapsed();
    let started = Instant::now();
    // The signature says when it was made, which is now: the document's
    // issue date may be set apart (`--at`), its signing time never is, or
    // a certificate made today would seem to sign before it existed.
    let signed_at = chrono::Utc::now().with_timezone(&request.issued_at.timezone());
    let signature = SignatureRequest {
        key,
        signer: request.signer,
        cargo: request.cargo,
        signing_time: signed_at,
    };
    let sign = |pdf: &[u8]| match tsa {
        Some(tsa) => sign_pdf_stamped(pdf, &signature, tsa),
        None => sign_pdf(pdf, &signature).map(|signed| (signed, None)),
    };
    let validation_data = |e: PdfError| IssueError::Other(format!("datos de validación: {e}"));
    let (pdf, timestamp) = match long_term {
        None => sign(&rendered.pdf)?,
        Some(sources) => {
            // The DSS goes in before the signature, which then covers the
            // whole file as PDF/A asks. A TSA seen for the first time is
            // learned from its token and the document signed once more.
            let prepared = sources
                .before_signing(&rendered.pdf, key)
                .map_err(validation_data)?;
            let (mut signed, mut stamp) = sign(&prepared)?;
            if stamp.is_some() && sources.learn(&signed).map_err(validation_data)? {
                let prepared = sources
                    .before_signing(&rendered.pdf, key)
                    .map_err(validation_data)?;
                (signed, stamp) = sign(&prepared)?;
            }
            // Anything still missing (a TSA not seen before, a CRL renewed
            // meanwhile) goes after it.
            (sources.complete(signed).map_err(validation_data)?, stamp)
        }
    };
    let timings = Timings {
        render: render_time,
        sign: started.elapsed(),
    };
    Ok(IssuedDocument {
        pdf,
        code,
        url,
        qr_link,
        data_sha256,
        qr_version: image.version,
        pages: rendered.pages,
        signature: SignatureRecord {
            key_id: key.key_id.to_string(),
            algorithm: key.algorithm.label(),
            signer: request.signer.to_owned(),
            cargo: request.cargo.to_owned(),
            signed_at: signed_at.to_rfc3339(),
        },
        timings,
        awaiting_timestamp: tsa.is_some() && timestamp.is_none(),
        timestamp,
    })
}

/// An issued derivación prints where it goes, what it shares and when it
/// is due as the archive recorded them in its data when it took the folio
/// ([`REFERRAL_RECORD_FIELD`]): one issued without that record would print
/// what nobody checked.
fn unrecorded_referral(request: &IssueRequest<'_>) -> Result<(), Problems> {
    let recorded = request
        .data
        .get(REFERRAL_RECORD_FIELD)
        .is_some_and(serde_json::Value::is_object);
    match &request.form.derivacion {
        Some(rule) if !recorded => Err(Problems(vec![Problem {
            path: rule.oficina.clone(),
            message: "una derivación se emite desde el archivo, que registra la oficina receptora, los \
                      documentos que comparte y su plazo de respuesta"
                .into(),
        }])),
        _ => Ok(()),
    }
}

/// A report of sessions (`[conteo]`) prints the listas de asistencia the
/// archive counted when it took the folio ([`COUNT_RECORD_FIELD`]): one
/// issued without that count would print numbers nobody counted.
fn uncounted_report(request: &IssueRequest<'_>) -> Result<(), Problems> {
    let counted = request
        .data
        .get(COUNT_RECORD_FIELD)
        .is_some_and(serde_json::Value::is_object);
    match &request.form.conteo {
        Some(rule) if !counted => Err(Problems(vec![Problem {
            path: rule.desde.clone(),
            message: "un informe de sesiones se emite desde el archivo, que cuenta las listas de asistencia \
                      vigentes del periodo al tomar el folio"
                .into(),
        }])),
        _ => Ok(()),
    }
}

/// An issued document prints the folio and date of what it cites as
/// checked, so every folio a `documento` field names must have been
/// resolved by the archive: a document is not issued citing a folio
/// nobody looked up.
fn unchecked_citations(request: &IssueRequest<'_>) -> Result<(), Problems> {
    let problems: Vec<Problem> = request
        .form
        .fields
        .iter()
        .filter(|f| matches!(f.kind, FieldType::Document { .. }))
        .filter_map(|field| {
            let folio = request.data.get(&field.name)?.as_str()?.trim();
            let resolved = request
                .citations
                .iter()
                .any(|c| c.field == field.name && c.folio == folio);
            (!folio.is_empty() && !resolved).then(|| Problem {
                path: field.name.clone(),
                message: format!(
                    "«{}»: el documento {folio} no se comprobó en el archivo de la oficina; \
                     un documento que cita otro se emite desde el archivo, que lo busca",
                    field.label
                ),
            })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}
