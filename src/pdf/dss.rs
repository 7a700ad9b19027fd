//! The Document Security Store (PAdES B-LT, ISO 32000-2 §12.8.4.3): the
//! certificates and CRLs a verifier needs to validate the document's
//! signatures and time-stamps without asking anyone, embedded as an
//! incremental update. Years later, when the office's server and the TSA
//! are gone, the file alone still proves who signed it and that their
//! certificates were not revoked.
//!
//! The update writes each new certificate or CRL as an unfiltered stream
//! (`/Length` only), the `/DSS` dictionary (`/Certs`, `/CRLs`; a later
//! update rewrites it with the arrays extended) and, the first time, the
//! catalog with `/DSS` added. No `/VRI`: it is optional, and validators
//! (pyHanko, Adobe) use the store as a whole.

use chrono::{DateTime, Utc};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::db::rfc5911;
use der::{Decode, Encode};
use x509_cert::Certificate;

use super::file::{PdfError, PdfFile};
use super::increment::{Increment, next_number};
use super::object::{Dict, Object};
use super::tsp::ID_AA_TIME_STAMP_TOKEN;

/// What goes into the DSS: DER certificates and DER CRLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationData {
    pub certificates: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

impl ValidationData {
    fn add(list: &mut Vec<Vec<u8>>, item: Vec<u8>) {
        if !list.contains(&item) {
            list.push(item);
        }
    }

    /// Adds a certificate once.
    pub fn add_certificate(&mut self, der: Vec<u8>) {
        Self::add(&mut self.certificates, der);
    }

    /// Adds a CRL once.
    pub fn add_crl(&mut self, der: Vec<u8>) {
        Self::add(&mut self.crls, der);
    }
}

/// What the DSS of `pdf` holds now; empty if it has none.
pub fn stored_validation_data(pdf: &[u8]) -> Result<ValidationData, PdfError> {
    let file = PdfFile::parse(pdf)?;
    let root = file.root()?;
    let catalog = file.dict(&Object::Ref(root.0, root.1))?;
    match catalog.reference("DSS") {
        Some(dss) => read_store(&file, &file.dict(&Object::Ref(dss.0, dss.1))?),
        None => Ok(ValidationData::default()),
    }
}

fn read_store(file: &PdfFile<'_>, dss: &Dict) -> Result<ValidationData, PdfError> {
    let streams = |key: &str| -> Result<Vec<Vec<u8>>, PdfError> {
        dss.get(key)
            .and_then(Object::as_array)
            .unwrap_or(&[])
            .iter()
            .map(|item| stream_bytes(file, item))
            .collect()
    };
    Ok(ValidationData {
        certificates: streams("Certs")?,
        crls: streams("CRLs")?,
    })
}

/// The bytes of the unfiltered stream `reference` names.
pub(super) fn stream_bytes(file: &PdfFile<'_>, reference: &Object) -> Result<Vec<u8>, PdfError> {
    let (number, generation) = reference.as_ref().ok_or(PdfError::Unsupported(
        "el DSS lista algo que no es una referencia",
    ))?;
    let offset = match file.entry_as_of(number, usize::MAX) {
        Some((_, super::file::Entry::InUse { offset, .. })) => offset,
        _ => return Err(PdfError::Unsupported("el DSS lista un objeto inexistente")),
    };
    match file.object_and_stream_at(offset, (number, generation))? {
        (Object::Dict(dict), Some(data)) if dict.get("Filter").is_none() => Ok(data.to_vec()),
        _ => Err(PdfError::Unsupported(
            "el DSS lista un objeto que no es un flujo sin filtro",
        )),
    }
}

/// Returns `pdf` with `data` added to its DSS in one incremental update,
/// or `None` if the DSS already holds all of it.
pub fn add_validation_data(pdf: &[u8], data: &ValidationData) -> Result<Option<Vec<u8>>, PdfError> {
    let file = PdfFile::parse(pdf)?;
    let trailer = file.trailer().clone();
    let root = file.root()?;
    let mut catalog = file.dict(&Object::Ref(root.0, root.1))?;
    let existing = catalog.reference("DSS");
    let (mut dss, stored) = match existing {
        Some(reference) => {
            let dss = file.dict(&Object::Ref(reference.0, reference.1))?;
            let stored = read_store(&file, &dss)?;
            (dss, stored)
        }
        None => {
            let mut dss = Dict::default();
            dss.set("Type", Object::name_of("DSS"));
            (dss, ValidationData::default())
        }
    };
    let new_certificates: Vec<&Vec<u8>> = data
        .certificates
        .iter()
        .filter(|c| !stored.certificates.contains(c))
        .collect();
    let new_crls: Vec<&Vec<u8>> = data.crls.iter().filter(|c| !stored.crls.contains(c)).collect();
    if new_certificates.is_empty() && new_crls.is_empty() {
        return Ok(None);
    }

    let mut next = next_number(&file)?;
    let mut update = Increment::start(pdf, &file);
    for (key, items) in [("Certs", new_certificates), ("CRLs", new_crls)] {
        if items.is_empty() {
            continue;
        }
        let mut array = dss
            .get(key)
            .and_then(Object::as_array)
            .map(<[Object]>::to_vec)
            .unwrap_or_default();
        for item in items {
            update.stream(next, item);
            array.push(Object::Ref(next, 0));
            next += 1;
        }
        dss.set(key, Object::Array(array));
    }
    let dss_number = match existing {
        Some((number, _)) => number,
        None => {
            let number = next;
            next += 1;
            catalog.set("DSS", Object::Ref(number, 0));
            update.object(root.0, &Object::Dict(catalog));
            number
        }
    };
    update.object(dss_number, &Object::Dict(dss));
    Ok(Some(update.finish(&trailer, root, next)))
}

/// Every certificate the signatures and time-stamps of `pdf` carry: the
/// signers' and their roots, and the TSAs' from each token.
pub fn carried_certificates(pdf: &[u8]) -> Result<Vec<Certificate>, PdfError> {
    let mut found = Vec::new();
    for (_, certificates) in evidence_of(pdf)? {
        for certificate in certificates {
            if !found.contains(&certificate) {
                found.push(certificate);
            }
        }
    }
    Ok(found)
}

/// When the newest evidence of `pdf`'s signatures expires: the first
/// expiry among the certificates of its newest document time-stamp, or,
/// while it has none, of its signatures and their time-stamps. After it a
/// new (archival) time-stamp can no longer be chained to it. `None` for a
/// PDF without signatures.
pub fn evidence_expiry(pdf: &[u8]) -> Result<Option<DateTime<Utc>>, PdfError> {
    let evidence = evidence_of(pdf)?;
    let newest_stamp = evidence.iter().rev().find(|(timestamp, _)| *timestamp);
    let certificates: Vec<&Certificate> = match newest_stamp {
        Some((_, certificates)) => certificates.iter().collect(),
        None => evidence
            .iter()
            .flat_map(|(_, certificates)| certificates)
            .collect(),
    };
    Ok(certificates
        .iter()
        .map(|c| c.tbs_certificate().validity().not_after.to_unix_duration())
        .min()
        .and_then(|d| DateTime::<Utc>::from_timestamp(d.as_secs() as i64, 0)))
}

/// For each signature field of `pdf`, in order: whether it is a document
/// time-stamp, and the certificates its CMS carries.
fn evidence_of(pdf: &[u8]) -> Result<Vec<(bool, Vec<Certificate>)>, PdfError> {
    let file = PdfFile::parse(pdf)?;
    let root = file.root()?;
    let catalog = file.dict(&Object::Ref(root.0, root.1))?;
    let Some(form) = catalog.get("AcroForm") else {
        return Ok(Vec::new());
    };
    let form = file.dict(form)?;
    let mut evidence = Vec::new();
    for field in form.get("Fields").and_then(Object::as_array).unwrap_or(&[]) {
        let Some(value) = file.dict(field).ok().and_then(|f| f.get("V").cloned()) else {
            continue;
        };
        let value = file.dict(&value)?;
        if let Some(Object::String(contents)) = value.get("Contents") {
            let mut certificates = Vec::new();
            collect_certificates(contents, &mut certificates);
            evidence.push((value.name("Type") == Some(b"DocTimeStamp"), certificates));
        }
    }
    Ok(evidence)
}

/// The certificates of the CMS at the start of `contents` (zero padding
/// after it is ignored), and of the time-stamp tokens in its unsigned
/// attributes.
fn collect_certificates(contents: &[u8], found: &mut Vec<Certificate>) {
    let Ok((content_info, _padding)) = ContentInfo::from_der_partial(contents) else {
        return;
    };
    if content_info.content_type != rfc5911::ID_SIGNED_DATA {
        return;
    }
    let Ok(signed_data) = content_info.content.decode_as::<SignedData>() else {
        return;
    };
    for choice in signed_data.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(certificate) = choice
            && !found.contains(certificate)
        {
            found.push(certificate.clone());
        }
    }
    for signer in signed_data.signer_infos.0.iter() {
        for attribute in signer.unsigned_attrs.iter().flat_map(|a| a.iter()) {
            if attribute.oid != ID_AA_TIME_STAMP_TOKEN {
                continue;
            }
            for token in attribute.values.iter() {
                if let Ok(token) = token.to_der() {
                    collect_certificates(&token, found);
                }
            }
        }
    }
}
