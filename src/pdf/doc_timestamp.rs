//! A document time-stamp (PAdES, ISO 32000-2 §12.8.5): an RFC 3161 token
//! over every byte of the file but its own `/Contents`, added as an
//! incremental update with `/Type /DocTimeStamp` and `/SubFilter
//! /ETSI.RFC3161`. It proves that the document, with its signatures and
//! the validation data before it, existed at the TSA's time: what a
//! document issued while no TSA answered gets later, and what keeps an
//! archived document's evidence alive after its certificates expire.
//!
//! The update adds the time-stamp, a signature field for it that says
//! what it is (`/TU`), and the form's field list with it, and nothing
//! else. The field has no widget annotation: nothing shows on any page, so
//! no page changes, and PDF/UA's rule that a widget be tagged in the
//! structure tree has nothing to apply to (tagging it would change the
//! tree after the certifying signature, which validators read as a change
//! to what was signed).

use super::file::{PdfError, PdfFile};
use super::increment::{Increment, next_number};
use super::object::{Dict, Object};
use super::sign::{SignError, pdf_text};
use super::tsp::{TimeStamp, TsaClient};

/// Bytes reserved for the token, which carries the TSA's certificates (an
/// RSA chain takes a few KB).
const TOKEN_RESERVED: usize = 16384;

/// Returns `pdf` with a document time-stamp from the first of `tsa`'s
/// authorities that answers, and that time-stamp. The PDF must already be
/// signed: the time-stamp's field joins its form.
pub fn add_document_timestamp(pdf: &[u8], tsa: &TsaClient) -> Result<(Vec<u8>, TimeStamp), SignError> {
    add_with(pdf, |data| tsa.stamp(data))
}

/// [`add_document_timestamp`] with the token made by `stamper`, which is
/// given the covered bytes.
pub(crate) fn add_with(
    pdf: &[u8],
    stamper: impl FnOnce(&[u8]) -> Result<TimeStamp, String>,
) -> Result<(Vec<u8>, TimeStamp), SignError> {
    let file = PdfFile::parse(pdf)?;
    let trailer = file.trailer().clone();
    let size = next_number(&file)?;
    let root = file.root()?;
    let catalog = file.dict(&Object::Ref(root.0, root.1))?;
    let form_ref = catalog
        .reference("AcroForm")
        .ok_or(PdfError::Unsupported("el documento no está firmado"))?;
    let mut form = file.dict(&Object::Ref(form_ref.0, form_ref.1))?;
    let mut fields = form
        .get("Fields")
        .and_then(Object::as_array)
        .map(<[Object]>::to_vec)
        .unwrap_or_default();
    let (stamp_num, field_num) = (size, size + 1);
    let ordinal = 1 + count_timestamps(&file, &fields);
    fields.push(Object::Ref(field_num, 0));
    form.set("Fields", Object::Array(fields));

    let mut field = Dict::default();
    field.set("FT", Object::name_of("Sig"));
    field.set(
        "T",
        Object::String(format!("Sello de tiempo {ordinal}").into_bytes()),
    );
    field.set("V", Object::Ref(stamp_num, 0));
    field.set("TU", Object::String(pdf_text("Sello de tiempo del documento")));

    let mut head = Dict::default();
    head.set("Type", Object::name_of("DocTimeStamp"));
    head.set("Filter", Object::name_of("Adobe.PPKLite"));
    head.set("SubFilter", Object::name_of("ETSI.RFC3161"));

    let mut update = Increment::start(pdf, &file);
    let placeholders = update.signature(stamp_num, &head, TOKEN_RESERVED);
    update.object(field_num, &Object::Dict(field));
    update.object(form_ref.0, &Object::Dict(form));
    let mut out = update.finish(&trailer, root, size + 2);
    let stamp = placeholders.seal(
        &mut out,
        |parts| {
            let stamp = stamper(&parts.concat()).map_err(SignError::Cms)?;
            Ok((stamp.token.clone(), stamp))
        },
        || SignError::Cms("el sello de tiempo no cabe en el espacio reservado".into()),
    )?;
    Ok((out, stamp))
}

/// How many of `fields` are document time-stamps already.
fn count_timestamps(file: &PdfFile<'_>, fields: &[Object]) -> usize {
    fields
        .iter()
        .filter_map(|field| file.dict(field).ok())
        .filter_map(|field| file.dict(field.get("V")?).ok())
        .filter(|value| value.name("Type") == Some(b"DocTimeStamp"))
        .count()
}
