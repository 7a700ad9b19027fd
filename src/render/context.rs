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

/// The verification code and link printed on an issued document.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub codigo: String,
    pub url: String,
}

/// The per-document facts that are not form data.
#[derive(Debug, Clone)]
pub struct DocumentContext {
    /// When the document is issued, in the office's time zone.
    pub issued_at: DateTime<Tz>,
    pub folio: Option<String>,
    /// `None` while the document is a draft.
    pub verification: Option<Verification>,
}

impl DocumentContext {
    /// A draft: no folio, no verification code, marked on every page.
    pub fn draft(issued_at: DateTime<Tz>) -> Self {
        Self {
            issued_at,
            folio: None,
            verification: None,
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
            borrador: self.verification.is_none(),
            verificacion: self.verification.as_ref(),
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
    verificacion: Option<&'a Verification>,
}

#[derive(Serialize)]
struct FormSummary<'a> {
    id: &'a str,
    titulo: &'a str,
    familia: &'a str,
}
