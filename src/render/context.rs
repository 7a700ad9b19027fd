//! What Sello adds to a document besides the form's data: the office
//! letterhead, the issue date, the folio and the verification code. Handed
//! to Typst as `/context.json`.

use chrono::DateTime;
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::Config;
use crate::forms::{FormSpec, StepKind};

/// The office's letterhead, the same on every document.
#[derive(Debug, Clone, Serialize)]
pub struct Letterhead {
    pub institucion: String,
    pub oficina: String,
    pub clave_oficina: String,
    pub domicilio: String,
    /// Virtual path of the logo image, if the office has one.
    pub logo: Option<String>,
    /// `MX`, `CL` or `PA`: whose conventions the templates follow, if any.
    pub pais: Option<&'static str>,
}

impl Letterhead {
    pub fn from_config(config: &Config, logo: Option<String>) -> Self {
        Self {
            institucion: config.institution.clone(),
            oficina: config.office_name.clone(),
            clave_oficina: config.office_code.clone(),
            domicilio: config.address.clone(),
            logo,
            pais: config.country.map(crate::office::Country::code),
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
    /// Whose seal that key is, as its certificate names it: what the
    /// document prints of the seal, so it claims no other holder.
    pub key_holder: String,
}

/// A step of the document's workflow taken before it was issued: a
/// visado, an approval or an electronic signature, printed on the
/// document so that the signed PDF carries every one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endorsement {
    /// The step's id in the form's workflow (`autorizacion`): the
    /// signature block a template ties to that step prints this account.
    pub paso_id: String,
    /// The step's label: «Aprobación de la cotización».
    pub paso: String,
    /// `visado` or `firma`.
    pub tipo: StepKind,
    pub nombre: String,
    pub cargo: String,
    /// When, RFC 3339 in the office's time zone.
    pub fecha_hora: String,
}

/// A document another one cites (a `documento` field), as the archive
/// found it when the citing document's folio was reserved: only an issued
/// document has these, so its folio and date are printed as checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitedDocument {
    /// The `documento` field that cites it.
    #[serde(skip)]
    pub field: String,
    pub folio: String,
    /// Its issue date, `YYYY-MM-DD`.
    pub fecha: String,
    /// Its form's title.
    pub formulario: String,
}

/// The per-document facts that are not form data.
#[derive(Debug, Clone)]
pub struct DocumentContext {
    /// When the document is issued, in the office's time zone.
    pub issued_at: DateTime<Tz>,
    pub folio: Option<String>,
    /// `None` while the document is a draft.
    pub issuance: Option<Issuance>,
    /// The workflow's visados and signatures, in the order they were given.
    pub endorsements: Vec<Endorsement>,
    /// Signatures drawn by hand on a screen, as PNG, by signer
    /// (`representante`, `asistentes[3]`): printed in their blocks.
    pub hand_signatures: Vec<(String, Vec<u8>)>,
    /// The signers (by field: `representante`, `asistentes[3]`) who sign
    /// the printed paper: their blocks keep an empty line.
    pub on_paper: Vec<String>,
    /// The documents its `documento` fields cite, as the archive resolved
    /// them; empty for a draft, which prints the folios as typed.
    pub citations: Vec<CitedDocument>,
}

impl DocumentContext {
    /// A draft: no folio, no verification code, marked on every page.
    pub fn draft(issued_at: DateTime<Tz>) -> Self {
        Self {
            issued_at,
            folio: None,
            issuance: None,
            endorsements: Vec::new(),
            hand_signatures: Vec::new(),
            on_paper: Vec::new(),
            citations: Vec::new(),
        }
    }

    /// An issued document: code, link, QR and signing key on every page.
    pub fn issued(issued_at: DateTime<Tz>, folio: Option<String>, issuance: Issuance) -> Self {
        Self {
            issued_at,
            folio,
            issuance: Some(issuance),
            endorsements: Vec::new(),
            hand_signatures: Vec::new(),
            on_paper: Vec::new(),
            citations: Vec::new(),
        }
    }

    /// With signatures drawn by hand, by signer; at most
    /// [`HAND_SIGNATURES_MAX`](super::world::HAND_SIGNATURES_MAX) are printed.
    pub fn with_hand_signatures(mut self, signatures: Vec<(String, Vec<u8>)>) -> Self {
        self.hand_signatures = signatures;
        self
    }

    /// With the signers who sign the printed paper.
    pub fn with_on_paper(mut self, signers: Vec<String>) -> Self {
        self.on_paper = signers;
        self
    }

    /// With the documents it cites, as the archive resolved them.
    pub fn with_citations(mut self, citations: Vec<CitedDocument>) -> Self {
        self.citations = citations;
        self
    }

    /// With the workflow's visados and signatures.
    pub fn with_endorsements(mut self, endorsements: Vec<Endorsement>) -> Self {
        self.endorsements = endorsements;
        self
    }

    /// Who took each `visado` and `firma` step, by step id, for the
    /// blocks tied to a step; only an issued document has them.
    fn step_signatures(&self) -> std::collections::BTreeMap<&str, StepSignature<'_>> {
        let Some(issuance) = &self.issuance else {
            return Default::default();
        };
        self.endorsements
            .iter()
            .filter(|e| matches!(e.tipo, StepKind::Firma | StepKind::Visado))
            .map(|e| {
                let signature = StepSignature {
                    estado: if e.tipo == StepKind::Firma {
                        "firma"
                    } else {
                        "visado"
                    },
                    nombre: &e.nombre,
                    cargo: &e.cargo,
                    fecha: e.fecha_hora.get(..10).unwrap_or_default(),
                    clave: &issuance.key_id,
                };
                (e.paso_id.as_str(), signature)
            })
            .collect()
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
                plazo_dias: form.derivacion.as_ref().map(|rule| rule.plazo_dias),
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
            sello_oficina: self.issuance.as_ref().map(|i| OfficeSeal {
                fecha: self.issued_at.format("%Y-%m-%d").to_string(),
                clave: &i.key_id,
                titular: &i.key_holder,
            }),
            firmas_pasos: self.step_signatures(),
            tramite: &self.endorsements,
            tramite_previsto: if self.issuance.is_none() {
                form.workflow
                    .steps()
                    .iter()
                    .filter(|s| matches!(s.kind, StepKind::Firma | StepKind::Visado))
                    .map(|s| PlannedStep {
                        id: &s.id,
                        paso: &s.label,
                        tipo: s.kind,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            firmas_papel: self.on_paper.iter().map(String::as_str).collect(),
            firmas_autografas: self
                .hand_signatures
                .iter()
                .take(super::world::HAND_SIGNATURES_MAX)
                .enumerate()
                .map(|(i, (signer, _))| (signer.as_str(), super::world::hand_signature_path(i)))
                .collect(),
            citas: self.citations.iter().map(|c| (c.field.as_str(), c)).collect(),
            meses: &crate::forms::MONTHS,
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
    /// The office's key seals every issued document, whoever signed it.
    sello_oficina: Option<OfficeSeal<'a>>,
    /// Step id → the account that took it: printed in the block tied to it.
    firmas_pasos: std::collections::BTreeMap<&'a str, StepSignature<'a>>,
    tramite: &'a [Endorsement],
    /// A draft's `firma` and `visado` steps still to be taken: its preview
    /// keeps their room, so it is paginated as the issued document.
    tramite_previsto: Vec<PlannedStep<'a>>,
    /// Signers who sign the printed paper: an empty line, nothing claimed.
    firmas_papel: Vec<&'a str>,
    /// Signer → virtual path of their drawn signature.
    firmas_autografas: std::collections::BTreeMap<&'a str, String>,
    /// `documento` field → the document it cites, checked by the archive.
    citas: std::collections::BTreeMap<&'a str, &'a CitedDocument>,
    /// The month names: the templates have no list of their own.
    meses: &'static [&'static str; 12],
}

#[derive(Serialize)]
struct TemplateVerification<'a> {
    codigo: &'a str,
    url: &'a str,
    qr: &'static str,
}

#[derive(Serialize)]
struct OfficeSeal<'a> {
    fecha: String,
    clave: &'a str,
    titular: &'a str,
}

/// A step a draft will go through.
#[derive(Serialize)]
struct PlannedStep<'a> {
    id: &'a str,
    paso: &'a str,
    tipo: StepKind,
}

/// A visado or electronic signature given by an account at a step.
#[derive(Serialize)]
struct StepSignature<'a> {
    /// `firma` or `visado`.
    estado: &'static str,
    nombre: &'a str,
    cargo: &'a str,
    /// The day it was given, `YYYY-MM-DD`.
    fecha: &'a str,
    /// The key that seals the document.
    clave: &'a str,
}

#[derive(Serialize)]
struct FormSummary<'a> {
    id: &'a str,
    titulo: &'a str,
    familia: &'a str,
    /// A derivación's business days to answer when no protocol is cited
    /// (`[derivacion] plazo_dias`): printed from the form's one setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    plazo_dias: Option<u32>,
}
