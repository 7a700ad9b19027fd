//! What Sello adds to a document besides the form's data: the office
//! letterhead, the issue date, the folio and the verification code. Handed
//! to Typst as `/context.json`.

use chrono::DateTime;
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::Config;
use crate::forms::FormSpec;

/// The office's letterhead, the same on every document.
#[derive(Debug, Clone, Serialize)]
pub struct Letterhead {
    pub institucion: String,
    pub oficina: String,
    pub clave_oficina: String,
    pub domicilio: String,
    /// Virtual path of the logo image, if the office has one.
    pub logo: Option<String>,
}

impl Letterhead {
    pub fn from_config(config: &Config, logo: Option<String>) -> Self {
        Self {
            institucion: config.institution.clone(),
            oficina: config.office_name.clone(),
            clave_oficina: config.office_code.clone(),
            domicilio: config.address.clone(),
            logo,
        }
    }
}

/// What makes a document official: its verification code and link, the QR
/// code and the key that signs it.
#[derive(Debug, Clone)]
pub struct Issuance {
    /// The code as printed, `XXXX-XXXX-…`.
    pub code: String,
    /// `<base-url>/v/<code>`, printed in the footer.
    pub url: String,
    /// The QR code of the link with its offline payload, as a PNG with
    /// one pixel per module.
    pub qr_png: Vec<u8>,
    /// The id of the office key that signs the document.
    pub key_id: String,
}

/// The per-document facts that are not form data.
#[derive(Debug, Clone)]
pub struct DocumentContext {
    /// When the document is issued, in the office's time zone.
    pub issued_at: DateTime<Tz>,
    pub folio: Option<String>,
    /// `None` while the document is a draft.
    pub issuance: Option<Issuance>,
}

impl DocumentContext {
    /// A draft: no folio, no verification code, marked on every page.
    pub fn draft(issued_at: DateTime<Tz>) -> Self {
        Self {
            issued_at,
            folio: None,
            issuance: None,
        }
    }

    /// An issued document: code, link, QR and signing key on every page.
    pub fn issued(issued_at: DateTime<Tz>, folio: Option<String>, issuance: Issuance) -> Self {
        Self {
            issued_at,
            folio,
            issuance: Some(issuance),
        }
    }

    pub(super) fn for_template<'a>(
        &'a self,
        letterhead: &'a Letterhead,
        form: &'a FormSpec,
    ) -> TemplateContext<'a> {
        TemplateContext {
            letterhead,
            formulario: FormSummary {
                id: form.id.as_str(),
                titulo: &form.title,
                familia: form.family.label(),
            },
            folio: self.folio.as_deref(),
            fecha: self.issued_at.format("%Y-%m-%d").to_string(),
            fecha_hora: self.issued_at.to_rfc3339(),
            borrador: self.issuance.is_none(),
            verificacion: self.issuance.as_ref().map(|i| TemplateVerification {
                codigo: &i.code,
                url: &i.url,
                qr: super::world::QR_PATH,
            }),
            firma_electronica: self.issuance.as_ref().map(|i| ElectronicSignature {
                fecha: self.issued_at.format("%Y-%m-%d").to_string(),
                clave: &i.key_id,
            }),
        }
    }
}

/// The JSON the shared template library reads from `/context.json`.
#[derive(Serialize)]
pub(super) struct TemplateContext<'a> {
    #[serde(flatten)]
    letterhead: &'a Letterhead,
    formulario: FormSummary<'a>,
    folio: Option<&'a str>,
    fecha: String,
    fecha_hora: String,
    borrador: bool,
    verificacion: Option<TemplateVerification<'a>>,
    firma_electronica: Option<ElectronicSignature<'a>>,
}

#[derive(Serialize)]
struct TemplateVerification<'a> {
    codigo: &'a str,
    url: &'a str,
    qr: &'static str,
}

#[derive(Serialize)]
struct ElectronicSignature<'a> {
    fecha: String,
    clave: &'a str,
}

#[derive(Serialize)]
struct FormSummary<'a> {
    id: &'a str,
    titulo: &'a str,
    familia: &'a str,
}
