//! Verifies the signatures of a PDF that Sello issued, strictly: Sello
//! writes every byte of its documents, so anything after the first
//! signature but its own kinds of revision is reported as a modification.
//! Those kinds are: a signature; a document time-stamp (`dss_rules`
//! describes both revisions' exact changes); and validation data added to
//! the DSS (`dss_rules`).
//!
//! For each signature: the `/ByteRange` starts at 0, its gap is exactly the
//! signature's own `/Contents` hex string, it reaches the end of the
//! signature's revision, the CMS verifies against those bytes, and the key
//! is one the office vouches for (a retired key only before retirement).
//! For each document time-stamp the same `/ByteRange` rules hold and the
//! token's imprint must be the hash of every byte it covers.
//!
//! Long because each signature's byte-level checks and the walk over the
//! revisions after it are one verdict, best read together.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::cms;
use super::dss_rules::dss_revision_problem;
use super::file::{Entry, PdfError, PdfFile};
use super::object::{Dict, Object};
use super::tagging::is_widget_tagging;
use super::timestamp_proof::prove;
use super::tsp;
use crate::keys::{KeyAlgorithm, KeyId, TrustedKeys, certificate_name};

/// A revision with more objects than this is not one of Sello's signature
/// revisions (which add at most five).
const MAX_SIGNATURE_REVISION_OBJECTS: usize = 16;
/// Nor one that adds validation data (a few certificates and CRLs).
const MAX_REVISION_OBJECTS: usize = 64;

/// What one signature says, and whether it holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SignatureReport {
    /// The signature field, "Firma 1", "Firma 2"…
    pub field: String,
    /// The name the signature dictionary gives (`/Name`), as it says it:
    /// Sello writes the key's holder there, older documents the person
    /// who issued. Not certified: the certificate's holder is `office`.
    pub signer: String,
    /// What the signature dictionary says it was made for (`/Reason`):
    /// Sello writes there who issued the document. Not certified either.
    pub reason: Option<String>,
    /// The holder of the signing key, as its certificate names it: the
    /// office whose seal this is (or the person, for a personal key).
    pub office: Option<String>,
    pub key_id: Option<String>,
    pub algorithm: Option<KeyAlgorithm>,
    pub signing_time: Option<DateTime<Utc>>,
    /// The office root that certified the signer's key, if any.
    pub root_key_id: Option<String>,
    /// What the root's list of revoked keys says of it, in Spanish.
    pub revocation: Option<String>,
    /// The time an RFC 3161 time-stamp gives the signature, and the TSA that
    /// gave it; `None` for a signature without one (PAdES B-B).
    pub timestamp_time: Option<DateTime<Utc>>,
    pub timestamp_tsa: Option<String>,
    /// Whether the time-stamp proves its time (its signature holds, its TSA
    /// chains to a trusted root): only then does it count against a
    /// compromise. `timestamp_check` says why or why not, in Spanish.
    pub timestamp_verified: bool,
    pub timestamp_check: Option<String>,
    /// Whether the signed bytes reach the end of the file.
    pub covers_whole_file: bool,
    pub valid: bool,
    /// Why the signature is not valid, in Spanish.
    pub problem: Option<String>,
}

/// What a document time-stamp says, and whether it holds.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentTimestampReport {
    /// The field, "Sello de tiempo 1"…
    pub field: String,
    /// When the TSA says the document existed, and which TSA.
    pub time: Option<DateTime<Utc>>,
    pub tsa: Option<String>,
    /// Whether the stamped bytes reach the end of the file.
    pub covers_whole_file: bool,
    /// The token's imprint is the hash of every byte before it.
    pub valid: bool,
    /// Whether its own CMS signature holds and its TSA chains to a trusted
    /// TSA root; `check` says why or why not, in Spanish.
    pub verified: bool,
    pub check: Option<String>,
    /// Why it does not hold, in Spanish.
    pub problem: Option<String>,
}

/// The verdict on a whole file.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub signatures: Vec<SignatureReport>,
    /// Document time-stamps added after the signatures, oldest first.
    pub document_timestamps: Vec<DocumentTimestampReport>,
    /// Whether the file carries validation data (a DSS) for its signatures.
    pub validation_data: bool,
    /// What changed after the first signature besides signatures,
    /// time-stamps and validation data, if anything.
    pub modification: Option<String>,
}

impl VerifyReport {
    /// Valid only with at least one signature, every signature and
    /// document time-stamp valid, and nothing but Sello's own kinds of
    /// revision added after the first signature.
    pub fn is_valid(&self) -> bool {
        !self.signatures.is_empty()
            && self.signatures.iter().all(|s| s.valid)
            && self.document_timestamps.iter().all(|t| t.valid)
            && self.modification.is_none()
    }
}

struct FoundSignature {
    revision: usize,
    number: u32,
    offset: usize,
    dict: Dict,
    /// A document time-stamp rather than a signature.
    timestamp: bool,
}

/// Verifies every signature of `bytes` against the keys in `trusted`.
/// An error means the file is not a PDF Sello can read at all.
pub fn verify_pdf(bytes: &[u8], trusted: &TrustedKeys) -> Result<VerifyReport, PdfError> {
    let file = PdfFile::parse(bytes)?;
    let mut modification = None;
    let mut found = Vec::new();
    for (index, revision) in file.revisions.iter().enumerate().skip(1) {
        if revision.entries.len() > MAX_REVISION_OBJECTS {
            modification.get_or_insert(format!(
                "la revisión {} agrega o cambia demasiados objetos",
                index + 1
            ));
            continue;
        }
        for (number, entry) in &revision.entries {
            if let Entry::InUse { offset, generation } = entry
                && let Ok(Object::Dict(dict)) = file.object_at(*offset, (*number, *generation))
                && matches!(dict.name("Type"), Some(b"Sig" | b"DocTimeStamp"))
            {
                found.push(FoundSignature {
                    revision: index,
                    number: *number,
                    offset: *offset,
                    timestamp: dict.name("Type") == Some(b"DocTimeStamp"),
                    dict,
                });
            }
        }
    }

    let last_end = file.revisions[file.revisions.len() - 1].end;
    let signatures: Vec<SignatureReport> = found
        .iter()
        .filter(|found| !found.timestamp)
        .map(|signature| check_signature(&file, signature, trusted))
        .collect();
    let document_timestamps = found
        .iter()
        .filter(|found| found.timestamp)
        .map(|stamp| check_document_timestamp(&file, stamp, trusted))
        .collect();
    let validation_data = file
        .root()
        .and_then(|root| file.dict(&Object::Ref(root.0, root.1)))
        .is_ok_and(|catalog| catalog.get("DSS").is_some());
    if let Some(first) = found.iter().find(|found| !found.timestamp)
        && let Some(problem) = changes_after(&file, first.revision, &found)
    {
        modification.get_or_insert(problem);
    }
    if last_end != bytes.len() {
        modification.get_or_insert("hay bytes añadidos después de la última revisión del documento".into());
    }
    Ok(VerifyReport {
        signatures,
        document_timestamps,
        validation_data,
        modification,
    })
}

fn check_document_timestamp(
    file: &PdfFile<'_>,
    stamp: &FoundSignature,
    trusted: &TrustedKeys,
) -> DocumentTimestampReport {
    let mut report = DocumentTimestampReport {
        field: field_name(file, stamp.number)
            .unwrap_or_else(|| format!("Sello de tiempo (objeto {})", stamp.number)),
        time: None,
        tsa: None,
        covers_whole_file: false,
        valid: false,
        verified: false,
        check: None,
        problem: None,
    };
    let mut token = Vec::new();
    let checked = (|| {
        if stamp.dict.name("SubFilter") != Some(b"ETSI.RFC3161") {
            return Err("el sello de tiempo del documento no es de tipo ETSI.RFC3161".to_owned());
        }
        let signed = signed_bytes(file, stamp)?;
        report.covers_whole_file = signed.covers_whole_file;
        let covered = [signed.before, signed.after].concat();
        token = signed.contents.clone();
        tsp::read_token(&signed.contents, &covered)
    })();
    match checked {
        Ok(stamp) => {
            report.time = Some(stamp.time);
            report.tsa = Some(stamp.tsa);
            report.valid = true;
            report.check = Some(match prove(&token, trusted.tsa_roots()) {
                Ok(proof) => {
                    report.verified = true;
                    format!("verificado: la TSA lleva a la raíz de confianza «{}»", proof.root)
                }
                Err(why) => format!("no verificado: {why}"),
            });
        }
        Err(problem) => report.problem = Some(problem),
    }
    report
}

fn check_signature(file: &PdfFile<'_>, signature: &FoundSignature, trusted: &TrustedKeys) -> SignatureReport {
    let field =
        field_name(file, signature.number).unwrap_or_else(|| format!("Firma (objeto {})", signature.number));
    let signer = signature
        .dict
        .get("Name")
        .and_then(|name| match name {
            Object::String(bytes) => Some(decode_text(bytes)),
            _ => None,
        })
        .unwrap_or_default();
    let reason = signature.dict.get("Reason").and_then(|reason| match reason {
        Object::String(bytes) => Some(decode_text(bytes)),
        _ => None,
    });
    let mut report = SignatureReport {
        field,
        signer,
        reason,
        ..SignatureReport::default()
    };
    match check_signature_bytes(file, signature, trusted, &mut report) {
        Ok(()) => report.valid = true,
        Err(problem) => report.problem = Some(problem),
    }
    report
}

/// The bytes a signature or time-stamp covers, and its `/Contents`.
struct SignedBytes<'a> {
    before: &'a [u8],
    after: &'a [u8],
    /// The DER value in `/Contents`, without its padding.
    contents: Vec<u8>,
    covers_whole_file: bool,
}

/// Checks that `/ByteRange` covers its revision from the first byte but
/// exactly its own `/Contents` hex string, and reads what it covers.
fn signed_bytes<'a>(file: &PdfFile<'a>, signature: &FoundSignature) -> Result<SignedBytes<'a>, String> {
    let bytes = file.bytes;
    let dict = &signature.dict;
    let range: Vec<i64> = dict
        .get("ByteRange")
        .and_then(Object::as_array)
        .map(|items| items.iter().filter_map(Object::as_int).collect())
        .unwrap_or_default();
    let [start, first_len, second_start, second_len] = range[..] else {
        return Err("/ByteRange ausente o mal formado".into());
    };
    let revision_end = file.revisions[signature.revision].end as i64;
    if start != 0 {
        return Err("/ByteRange no empieza al inicio del archivo".into());
    }
    if first_len <= 0 || second_start <= first_len || second_len < 0 {
        return Err("/ByteRange inválido (tramos vacíos o superpuestos)".into());
    }
    if second_start + second_len != revision_end {
        return Err("/ByteRange no llega al final de la revisión firmada".into());
    }
    let (gap_start, gap_end) = (first_len as usize, second_start as usize);

    // The gap must be exactly this signature's own /Contents hex string.
    let object_end =
        signature.offset + find(&bytes[signature.offset..], b"endobj").ok_or("objeto de firma sin cerrar")?;
    if gap_start <= signature.offset || gap_end > object_end {
        return Err("/ByteRange excluye bytes fuera de la propia firma".into());
    }
    let before = &bytes[signature.offset..gap_start];
    let key_at = rfind(before, b"/Contents").ok_or("/Contents ausente")?;
    let between = &before[key_at + b"/Contents".len()..];
    if !between.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("el hueco de /ByteRange no es el valor de /Contents".into());
    }
    let hex = &bytes[gap_start..gap_end];
    if hex.len() < 2
        || hex[0] != b'<'
        || hex[hex.len() - 1] != b'>'
        || !hex[1..hex.len() - 1].iter().all(u8::is_ascii_hexdigit)
    {
        return Err("/Contents no es una cadena hexadecimal".into());
    }
    let contents = match dict.get("Contents") {
        Some(Object::String(value)) if !value.is_empty() => value,
        _ => return Err("/Contents vacío o ausente".into()),
    };
    if decode_hex(&hex[1..hex.len() - 1]).as_deref() != Some(contents.as_slice()) {
        return Err("el hueco de /ByteRange no es el valor de /Contents".into());
    }
    let contents = strip_padding(contents)
        .ok_or("/Contents no contiene una firma CMS")?
        .to_vec();
    Ok(SignedBytes {
        before: &bytes[..gap_start],
        after: &bytes[gap_end..revision_end as usize],
        contents,
        covers_whole_file: second_start + second_len == bytes.len() as i64,
    })
}

fn check_signature_bytes(
    file: &PdfFile<'_>,
    signature: &FoundSignature,
    trusted: &TrustedKeys,
    report: &mut SignatureReport,
) -> Result<(), String> {
    if signature.dict.name("SubFilter") != Some(b"ETSI.CAdES.detached") {
        return Err("la firma no es de tipo ETSI.CAdES.detached".into());
    }
    let signed = signed_bytes(file, signature)?;
    report.covers_whole_file = signed.covers_whole_file;
    let signer = cms::verify(&signed.contents, &[signed.before, signed.after])?;
    let key_id = KeyId::of_certificate(&signer.certificate).map_err(|e| e.to_string())?;
    report.key_id = Some(key_id.to_string());
    report.algorithm = Some(signer.algorithm);
    report.signing_time = signer.signing_time;
    // A verified time-stamp proves the signature existed by its time (plus
    // the TSA's accuracy): the one moment a stolen key cannot write, and so
    // the one a compromise is judged against. Everything else is judged at
    // the claimed signing time.
    let mut proven = None;
    if let Some(stamp) = &signer.timestamp {
        (report.timestamp_time, report.timestamp_tsa) = (Some(stamp.time), Some(stamp.tsa.clone()));
        report.timestamp_check = Some(match prove(&stamp.token, trusted.tsa_roots()) {
            Ok(proof) => {
                proven = Some(proof.latest);
                // Named by the certificate whose key signed the token.
                report.timestamp_tsa = Some(proof.tsa);
                format!("verificado: la TSA lleva a la raíz de confianza «{}»", proof.root)
            }
            Err(why) => format!("no verificado: {why}"),
        });
        report.timestamp_verified = proven.is_some();
    }
    report.office = certificate_name(&signer.certificate);
    let verdict = trusted.judge(&signer.certificate, &signer.carried, signer.signing_time, proven)?;
    report.root_key_id = verdict.root.map(|root| root.to_string());
    report.revocation = verdict.revocation;
    Ok(())
}

/// Sello's kinds of revision after the first signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RevisionKind {
    Signature,
    DocumentTimestamp,
    ValidationData,
}

/// What changed in revisions after `first`, besides Sello's own kinds of
/// revision: a signature (the signature, its field, the form and the first
/// page's /Annots, the catalog's form and permissions, the widget's
/// tagging), a document time-stamp (the time-stamp, its field, the form's
/// fields and the first page's /Annots) or validation data (see
/// `dss_rules`).
fn changes_after(file: &PdfFile<'_>, first: usize, found: &[FoundSignature]) -> Option<String> {
    // Without the catalog's number nothing below can be told apart from a
    // change to the catalog: a trailer without a readable /Root is one.
    let Ok(root) = file.root() else {
        return Some("la última revisión no indica el catálogo (/Root) del documento".into());
    };
    for index in first..file.revisions.len() {
        let revision = &file.revisions[index];
        if revision.trailer.reference("Root") != Some(root) {
            return Some(format!(
                "la revisión {} cambia el catálogo (/Root) del documento",
                index + 1
            ));
        }
        let count = |timestamp: bool| {
            found
                .iter()
                .filter(|s| s.revision == index && s.timestamp == timestamp)
                .count()
        };
        let kind = match (count(false), count(true)) {
            (1, 0) => RevisionKind::Signature,
            (0, 1) => RevisionKind::DocumentTimestamp,
            (0, 0) if index > first => RevisionKind::ValidationData,
            _ => return Some(format!("la revisión {} no es una firma de Sello", index + 1)),
        };
        if kind == RevisionKind::ValidationData {
            match dss_revision_problem(file, index, root) {
                Some(problem) => return Some(problem),
                None => continue,
            }
        }
        if revision.entries.len() > MAX_SIGNATURE_REVISION_OBJECTS {
            return Some(format!(
                "la revisión {} agrega o cambia demasiados objetos",
                index + 1
            ));
        }
        for (number, entry) in &revision.entries {
            let Entry::InUse { offset, generation } = entry else {
                return Some(format!("la revisión {} elimina el objeto {number}", index + 1));
            };
            let Ok(Object::Dict(now)) = file.object_at(*offset, (*number, *generation)) else {
                return Some(format!("la revisión {} cambia el objeto {number}", index + 1));
            };
            let before = match file.entry_as_of(*number, index - 1) {
                Some((_, Entry::InUse { .. })) => file.object_as_of((*number, *generation), index - 1).ok(),
                _ => None,
            };
            let before = before.as_ref().and_then(Object::as_dict);
            let allowed = match kind {
                RevisionKind::Signature => allowed_change(before, &now, *number == root.0),
                _ => is_timestamp_change(before, &now),
            };
            if !allowed {
                return Some(format!(
                    "la revisión {} cambia el objeto {number}, que no es parte de una firma",
                    index + 1
                ));
            }
        }
    }
    None
}

/// Whether `now` (replacing `before`, or new) is part of adding a
/// document time-stamp: the time-stamp, its field (no widget: nothing on
/// any page), the form with one more field. Nothing else, not even the
/// catalog or a page.
fn is_timestamp_change(before: Option<&Dict>, now: &Dict) -> bool {
    let Some(before) = before else {
        let is_stamp = now.name("Type") == Some(b"DocTimeStamp");
        let is_field = now.name("FT") == Some(b"Sig")
            && now
                .0
                .iter()
                .all(|(k, _)| [&b"FT"[..], b"T", b"V", b"TU"].contains(&k.as_slice()));
        return is_stamp || is_field;
    };
    before.get("Fields").is_some()
        && without(before, &["Fields"]) == without(now, &["Fields"])
        && extends(before.get("Fields"), now.get("Fields"))
}

/// `dict` without `keys`.
fn without(dict: &Dict, keys: &[&str]) -> Dict {
    let mut copy = dict.clone();
    keys.iter().for_each(|k| copy.remove(k));
    copy
}

/// Whether `now` (replacing `before`, or new) is a signature object or a
/// change that only adds signatures.
fn allowed_change(before: Option<&Dict>, now: &Dict, is_catalog: bool) -> bool {
    let Some(before) = before else {
        // New objects: a signature, a signature field, or the form.
        let is_signature = now.name("Type") == Some(b"Sig");
        let is_field = now.name("FT") == Some(b"Sig") && now.name("Subtype") == Some(b"Widget");
        let is_form = now.get("Fields").is_some() && now.0.len() <= 3;
        return is_signature || is_field || is_form || is_widget_tagging(None, now);
    };
    if is_widget_tagging(Some(before), now) {
        return true;
    }
    let ignoring = |dict: &Dict, keys: &[&str]| {
        let mut copy = dict.clone();
        keys.iter().for_each(|k| copy.remove(k));
        copy
    };
    if is_catalog {
        return ignoring(before, &["AcroForm", "Perms"]) == ignoring(now, &["AcroForm", "Perms"]);
    }
    if now.get("Fields").is_some() && before.get("Fields").is_some() {
        return now.0.len() <= 3 && extends(before.get("Fields"), now.get("Fields"));
    }
    if now.name("Type") == Some(b"Page") {
        return ignoring(before, &["Annots"]) == ignoring(now, &["Annots"])
            && extends(before.get("Annots"), now.get("Annots"));
    }
    false
}

/// Whether the array `now` is the array `before` with items appended.
fn extends(before: Option<&Object>, now: Option<&Object>) -> bool {
    let before = before.and_then(Object::as_array).unwrap_or(&[]);
    match now.and_then(Object::as_array) {
        Some(now) => now.len() > before.len() && now.starts_with(before),
        None => false,
    }
}

fn field_name(file: &PdfFile<'_>, signature_number: u32) -> Option<String> {
    let catalog = file
        .dict(&Object::Ref(file.root().ok()?.0, file.root().ok()?.1))
        .ok()?;
    let form = file.dict(catalog.get("AcroForm")?).ok()?;
    for field in form.get("Fields")?.as_array()? {
        let field = file.dict(field).ok()?;
        if field.reference("V").map(|r| r.0) == Some(signature_number)
            && let Some(Object::String(name)) = field.get("T")
        {
            return Some(decode_text(name));
        }
    }
    None
}

/// A PDF text string: UTF-16BE with BOM, or PDFDocEncoding (Latin-1 here).
fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// The DER value at the start of `contents`, if the rest is zero padding.
fn strip_padding(contents: &[u8]) -> Option<&[u8]> {
    if contents.first() != Some(&0x30) {
        return None;
    }
    let first = *contents.get(1)?;
    let (header, length) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 {
            return None;
        }
        let length = contents
            .get(2..2 + count)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (2 + count, length)
    };
    let end = header.checked_add(length)?;
    let (value, padding) = (contents.get(..end)?, contents.get(end..)?);
    padding.iter().all(|b| *b == 0).then_some(value)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}
