//! Adds a signature to a PDF as an incremental update: the bytes before it
//! stay untouched. The update holds the signature dictionary (its
//! `/ByteRange` covers the whole file but `/Contents`), an invisible
//! signature field on the first page, the form that lists the fields, and —
//! for the first signature — a catalog that certifies the document (DocMDP):
//! afterwards only further signatures may be added.
//!
//! Only the trailer, the catalog, the first page and the form are read, so
//! signing a long padrón costs the same as signing a letter.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::cms;
use super::file::{PdfError, PdfFile};
use super::increment::{Increment, next_number};
use super::object::{Dict, Object};
use super::tagging::tag_widget;
use super::tsp::{TimeStamp, TsaClient};
use crate::keys::OfficeKey;

/// Bytes reserved for the CMS; an Ed25519 or P-256 CMS with its certificate
/// takes about 1.5 KB.
const CONTENTS_RESERVED: usize = 8192;
/// Bytes reserved for a CMS with a time-stamp token, which carries the
/// TSA's certificates (an RSA chain takes a few KB).
const CONTENTS_RESERVED_STAMPED: usize = 20480;

/// Who signs and when.
pub struct SignatureRequest<'a> {
    pub key: &'a OfficeKey,
    pub signer: &'a str,
    pub cargo: &'a str,
    pub signing_time: DateTime<Tz>,
}

/// Why a PDF could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{0}")]
    Pdf(#[from] PdfError),
    #[error("{0}")]
    Cms(String),
}

/// Returns `pdf` with one more signature appended.
pub fn sign_pdf(pdf: &[u8], request: &SignatureRequest<'_>) -> Result<Vec<u8>, SignError> {
    sign_with(pdf, request, None).map(|(signed, _)| signed)
}

/// [`sign_pdf`], with the signature time-stamped by the first of `tsa`'s
/// authorities that answers (PAdES B-T). If none does, the signature goes
/// without one (B-B) and the second value is `None`: the document awaits
/// its time-stamp, which a document time-stamp adds later. The signing
/// time is never passed off as a time-stamp.
pub fn sign_pdf_stamped(
    pdf: &[u8],
    request: &SignatureRequest<'_>,
    tsa: &TsaClient,
) -> Result<(Vec<u8>, Option<TimeStamp>), SignError> {
    sign_with(pdf, request, Some(tsa))
}

fn sign_with(
    pdf: &[u8],
    request: &SignatureRequest<'_>,
    tsa: Option<&TsaClient>,
) -> Result<(Vec<u8>, Option<TimeStamp>), SignError> {
    let reserved = if tsa.is_some() {
        CONTENTS_RESERVED_STAMPED
    } else {
        CONTENTS_RESERVED
    };
    let file = PdfFile::parse(pdf)?;
    let trailer = file.trailer().clone();
    let size = next_number(&file)?;
    let root = file.root()?;
    let catalog = file.dict(&Object::Ref(root.0, root.1))?;
    let (page_ref, mut page) = file.first_page(&catalog)?;

    let existing_form = catalog.reference("AcroForm");
    let mut fields = match existing_form {
        Some(form) => file
            .dict(&Object::Ref(form.0, form.1))?
            .get("Fields")
            .and_then(Object::as_array)
            .map(<[Object]>::to_vec)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let certify = existing_form.is_none();

    let sig_num = size;
    let field_num = size + 1;
    let (form_num, next_free) = match existing_form {
        Some((n, _)) => (n, size + 2),
        None => (size + 2, size + 3),
    };
    // The first signature's widget enters the structure tree (PDF/UA).
    // A later one's does not: a validator such as pyHanko reads any change
    // to the tree after a certifying signature as a change to the signed
    // document.
    let tag = match certify {
        true => tag_widget(&file, &catalog, (field_num, 0), page_ref, next_free)?,
        false => None,
    };
    let new_size = if tag.is_some() { next_free + 1 } else { next_free };

    fields.push(Object::Ref(field_num, 0));
    let field_name = format!("Firma {}", fields.len());

    let mut annots = match page.get("Annots") {
        Some(Object::Array(items)) => items.clone(),
        Some(Object::Ref(n, g)) => match file.object((*n, *g))? {
            Object::Array(items) => items,
            _ => return Err(PdfError::Unsupported("/Annots inválido").into()),
        },
        _ => Vec::new(),
    };
    annots.push(Object::Ref(field_num, 0));
    page.set("Annots", Object::Array(annots));

    let mut widget = Dict::default();
    widget.set("Type", Object::name_of("Annot"));
    widget.set("Subtype", Object::name_of("Widget"));
    widget.set("FT", Object::name_of("Sig"));
    widget.set("T", Object::String(field_name.into_bytes()));
    widget.set("V", Object::Ref(sig_num, 0));
    widget.set("Rect", Object::Array(vec![Object::int_of(0); 4]));
    // Print + Locked: invisible widgets still need the print flag in PDF/A.
    widget.set("F", Object::int_of(132));
    widget.set("P", Object::Ref(page_ref.0, page_ref.1));
    // What a screen reader says of it (PDF/UA), and its place in the
    // structure tree.
    widget.set("TU", Object::String(pdf_text(&seal_description(request))));
    if let Some(tag) = &tag {
        widget.set("StructParent", Object::int_of(tag.key));
    }

    let mut form = Dict::default();
    form.set("Fields", Object::Array(fields));
    form.set("SigFlags", Object::int_of(3));

    let mut update = Increment::start(pdf, &file);
    let placeholders = update.signature(sig_num, &signature_head(request, certify), reserved);
    update.object(field_num, &Object::Dict(widget));
    update.object(form_num, &Object::Dict(form));
    update.object(page_ref.0, &Object::Dict(page));
    if let Some(tag) = tag {
        update.object(tag.element_number, &Object::Dict(tag.element));
        for (number, dict) in tag.changed {
            update.object(number, &Object::Dict(dict));
        }
    }
    if certify {
        let mut new_catalog = catalog.clone();
        new_catalog.set("AcroForm", Object::Ref(form_num, 0));
        let mut perms = Dict::default();
        perms.set("DocMDP", Object::Ref(sig_num, 0));
        new_catalog.set("Perms", Object::Dict(perms));
        update.object(root.0, &Object::Dict(new_catalog));
    }
    let mut out = update.finish(&trailer, root, new_size);

    // Sign everything but /Contents.
    let stamp = placeholders.seal(
        &mut out,
        |parts| {
            let digest = cms::digest_of(request.key.algorithm, parts);
            let mut signature = cms::sign(request.key, &digest, request.signing_time.with_timezone(&Utc))
                .map_err(SignError::Cms)?;
            let mut stamp = None;
            if let Some(tsa) = tsa {
                // Without one (B-B) if no TSA answers; their failures were logged.
                // A token too big for the room left goes too: the document is
                // still issued, awaiting its time-stamp.
                match cms::with_signature_timestamp(&signature, |value| tsa.stamp(value)) {
                    Ok((stamped, token)) if stamped.len() <= reserved => {
                        signature = stamped;
                        stamp = Some(token);
                    }
                    Ok((stamped, _)) => tracing::warn!(
                        bytes = stamped.len(),
                        reserved,
                        "time-stamped signature too big, issued without its time-stamp"
                    ),
                    Err(_) => {}
                }
            }
            Ok((signature, stamp))
        },
        || SignError::Cms("la firma no cabe en el espacio reservado".into()),
    )?;
    Ok((out, stamp))
}

/// The holder of the signing key, as its certificate names it.
fn key_holder(request: &SignatureRequest<'_>) -> Option<String> {
    crate::keys::certificate_name(&request.key.certificate).filter(|name| !name.trim().is_empty())
}

/// The person who asked for the signature, with their cargo, if named.
fn issued_by(request: &SignatureRequest<'_>) -> Option<String> {
    let signer = request.signer.trim();
    let cargo = request.cargo.trim();
    match (signer.is_empty(), cargo.is_empty()) {
        (true, _) => None,
        (false, true) => Some(signer.to_owned()),
        (false, false) => Some(format!("{signer}, {cargo}")),
    }
}

/// What a screen reader says of the signature: whose seal it is, and who
/// issued the document with it.
fn seal_description(request: &SignatureRequest<'_>) -> String {
    let holder = key_holder(request).unwrap_or_else(|| format!("la clave {}", request.key.key_id));
    match issued_by(request) {
        Some(issued_by) => format!("Sello electrónico de {holder}; emitido por {issued_by}"),
        None => format!("Sello electrónico de {holder}"),
    }
}

/// The signature dictionary, without `/ByteRange` and `/Contents`.
fn signature_head(request: &SignatureRequest<'_>, certify: bool) -> Dict {
    let mut head = Dict::default();
    head.set("Type", Object::name_of("Sig"));
    head.set("Filter", Object::name_of("Adobe.PPKLite"));
    head.set("SubFilter", Object::name_of("ETSI.CAdES.detached"));
    // /Name is whoever signs (PDF 32000-1, 12.8.1): the holder of the key,
    // as its certificate names it, never a person who does not hold it.
    // The person who issued goes in /Reason, saying what they did.
    if let Some(holder) = key_holder(request) {
        head.set("Name", Object::String(pdf_text(&holder)));
    }
    if let Some(issued_by) = issued_by(request) {
        head.set(
            "Reason",
            Object::String(pdf_text(&format!("Emitido por {issued_by}"))),
        );
    }
    head.set("M", Object::String(pdf_date(&request.signing_time).into_bytes()));
    if certify {
        let mut params = Dict::default();
        params.set("Type", Object::name_of("TransformParams"));
        // P 2: filling in forms and signing are the only changes allowed.
        params.set("P", Object::int_of(2));
        params.set("V", Object::name_of("1.2"));
        let mut reference = Dict::default();
        reference.set("Type", Object::name_of("SigRef"));
        reference.set("TransformMethod", Object::name_of("DocMDP"));
        reference.set("TransformParams", Object::Dict(params));
        head.set("Reference", Object::Array(vec![Object::Dict(reference)]));
    }
    head
}

/// A PDF text string: PDFDocEncoding is not UTF-8, so use UTF-16BE with BOM.
pub(super) fn pdf_text(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    bytes
}

/// `D:20261122103000-06'00'`.
fn pdf_date(at: &DateTime<Tz>) -> String {
    let offset = at.format("%z").to_string(); // -0600
    let (hours, minutes) = offset.split_at(3);
    format!("D:{}{hours}'{minutes}'", at.format("%Y%m%d%H%M%S"))
}
