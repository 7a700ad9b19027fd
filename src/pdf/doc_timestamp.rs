//! A document time-stamp (PAdES, ISO 32000-2 §12.8.5): an RFC 3161 token
//! over every byte of the file but its own `/Contents`, added as an
//! incremental update with `/Type /DocTimeStamp` and `/SubFilter
//! /ETSI.RFC3161`. It proves that the document, with its signatures and
//! the validation data before it, existed at the TSA's time: what a
//! document issued while no TSA answered gets later, and what keeps an
//! archived document's evidence alive after its certificates expire.
//!
//! The update adds the time-stamp, an invisible field for it (its widget
//! says what it is, `/TU`), the form's field list and the first page's
//! `/Annots` with one more item, and nothing else. Like a co-signature's,
//! its widget does not enter the structure tree: a change to the tree
//! after the certifying signature reads as a change to what was signed.

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
    let (page_ref, mut page) = file.first_page(&catalog)?;
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
    widget.set(
        "T",
        Object::String(format!("Sello de tiempo {ordinal}").into_bytes()),
    );
    widget.set("V", Object::Ref(stamp_num, 0));
    widget.set("Rect", Object::Array(vec![Object::int_of(0); 4]));
    // Print + Locked, as the signatures' widgets (PDF/A).
    widget.set("F", Object::int_of(132));
    widget.set("P", Object::Ref(page_ref.0, page_ref.1));
    widget.set("TU", Object::String(pdf_text("Sello de tiempo del documento")));

    let mut head = Dict::default();
    head.set("Type", Object::name_of("DocTimeStamp"));
    head.set("Filter", Object::name_of("Adobe.PPKLite"));
    head.set("SubFilter", Object::name_of("ETSI.RFC3161"));

    let mut update = Increment::start(pdf, &file);
    let placeholders = update.signature(stamp_num, &head, TOKEN_RESERVED);
    update.object(field_num, &Object::Dict(widget));
    update.object(form_ref.0, &Object::Dict(form));
    update.object(page_ref.0, &Object::Dict(page));
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
