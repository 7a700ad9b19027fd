//! Renders a form's Typst template with a document's data into a PDF/A-3b,
//! in-process. The data reaches Typst only as a JSON file (`/data.json`),
//! never as markup, and is attached to the PDF.

mod context;
mod diagnostics;
mod stamp;
mod world;

use chrono::{DateTime, Datelike, Offset, Timelike};
use chrono_tz::Tz;
use typst::LibraryExt;
use typst::foundations::{Bytes, Datetime, Smart};
use typst::{Library, World};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

pub use context::{CitedDocument, DocumentContext, Endorsement, Issuance, Letterhead};

pub use stamp::{Mark, stamp_copy};
pub use world::HAND_SIGNATURES_MAX;
use world::{DocumentWorld, Shared};

use crate::config::Config;
use crate::forms::FormSpec;
use crate::office::{Logo, LogoKind, logo_extension};

/// How many eviction rounds an unused memo entry survives. Small, so memory
/// stays flat over thousands of documents; not zero, so the template's own
/// evaluation is reused between consecutive documents of one form.
const MEMO_MAX_AGE: usize = 3;

/// Data this large is a long table (a padrón's tomo lists thousands of
/// rows at a few hundred bytes each); a letter's is a few KB.
const LARGE_DATA_BYTES: usize = 256 * 1024;

/// Why a document could not be rendered. These are faults of a template or
/// of the installation, never of the data (which is validated before).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("la plantilla no se pudo componer:\n{}", .0.join("\n"))]
    Template(Vec<String>),
    #[error("no se pudo generar el PDF:\n{}", .0.join("\n"))]
    Export(Vec<String>),
    #[error("no se pudo preparar el formulario «{form}»: {message}")]
    Setup { form: String, message: String },
}

/// A rendered document.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    pub pages: usize,
    /// Typst's warnings, as `path:line:col: aviso: message`.
    pub warnings: Vec<String>,
}

/// Renders documents; build one per process and share it.
pub struct Renderer {
    shared: Shared,
    letterhead: Letterhead,
    country: Option<crate::office::Country>,
}

impl Renderer {
    /// Prepares fonts, the standard library and the office letterhead.
    pub fn new(config: &Config) -> std::io::Result<Self> {
        let logo = match &config.logo {
            Some(path) => {
                let kind = match logo_extension(path) {
                    Some("jpg") => LogoKind::Jpg,
                    Some("svg") => LogoKind::Svg,
                    _ => LogoKind::Png,
                };
                Some(Logo {
                    kind,
                    bytes: std::fs::read(path)?,
                })
            }
            None => None,
        };
        Self::with_logo(config, logo)
    }

    /// Like [`new`](Self::new), with `logo` instead of the file the
    /// configuration names: an office's own letterhead.
    pub fn with_logo(config: &Config, logo: Option<Logo>) -> std::io::Result<Self> {
        let logo = logo.map(|logo| (format!("/logo.{}", logo.kind.as_str()), Bytes::new(logo.bytes)));
        let letterhead = Letterhead::from_config(config, logo.as_ref().map(|(path, _)| path.clone()));
        let library = Library::builder().build();
        let shared = Shared::new(library, config.forms_dir.clone(), logo)?;
        Ok(Self {
            shared,
            letterhead,
            country: config.country,
        })
    }

    /// The country whose conventions the office's documents follow.
    pub fn country(&self) -> Option<crate::office::Country> {
        self.country
    }

    /// The office letterhead every document carries.
    pub fn letterhead(&self) -> &Letterhead {
        &self.letterhead
    }

    /// Renders `data` (already validated against `form`) as of `issued_at`.
    pub fn render(
        &self,
        form: &FormSpec,
        data: &serde_json::Value,
        context: &DocumentContext,
    ) -> Result<Rendered, RenderError> {
        let setup = |message: String| RenderError::Setup {
            form: form.id.to_string(),
            message,
        };
        let data_bytes = data_json(data);
        let large = data_bytes.len() > LARGE_DATA_BYTES;
        let context_bytes = serde_json::to_vec(&context.for_template(&self.letterhead, form))
            .map_err(|e| setup(e.to_string()))?;
        let issued_at = context.issued_at;
        let world = DocumentWorld::new(
            &self.shared,
            form.id.as_str(),
            data_bytes,
            context_bytes,
            context.issuance.as_ref().map(|i| i.qr_png.clone()),
            context
                .hand_signatures
                .iter()
                .map(|(_, png)| png.clone())
                .collect(),
            typst_date(&issued_at),
        )
        .map_err(|e| setup(e.to_string()))?;

        let result = compile_and_export(&world, form, &issued_at);
        // Drop memoised results that recent documents did not reuse; after
        // a large table (a tomo of a padrón), all of them: its hundreds of
        // MB would otherwise stay for the next documents, tomo after tomo.
        // Another tomo being laid out at the same time (they render two at
        // a time) loses what it had memoised so far, and may lay some of it
        // out again: keeping it would hold a finished tomo's memory beside
        // the two being laid out.
        comemo::evict(if large { 0 } else { MEMO_MAX_AGE });
        result
    }
}

/// The document's data as attached to the PDF and hashed into the QR.
pub fn data_json(data: &serde_json::Value) -> Vec<u8> {
    // Serialising a `Value` cannot fail: its keys are strings.
    serde_json::to_vec(data).unwrap_or_default()
}

fn compile_and_export(
    world: &DocumentWorld<'_>,
    form: &FormSpec,
    issued_at: &DateTime<Tz>,
) -> Result<Rendered, RenderError> {
    let compiled = typst::compile::<PagedDocument>(world);
    let warnings = diagnostics::describe(world, &compiled.warnings);
    let document = compiled
        .output
        .map_err(|errors| RenderError::Template(diagnostics::describe(world, &errors)))?;

    let standards = PdfStandards::new(&[PdfStandard::A_3b, PdfStandard::Ua_1])
        .map_err(|e| RenderError::Export(vec![e.message().to_string()]))?;
    let options = PdfOptions {
        // Stable across renders of the same document, so bytes are reproducible.
        ident: Smart::Custom(format!("sello/{}/{}", form.id, issued_at.to_rfc3339())),
        creator: Smart::Custom(Some(format!("Sello {}", env!("CARGO_PKG_VERSION")))),
        timestamp: pdf_timestamp(issued_at),
        standards,
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options)
        .map_err(|errors| RenderError::Export(diagnostics::describe(world as &dyn World, &errors)))?;
    Ok(Rendered {
        pdf,
        pages: document.pages().len(),
        warnings,
    })
}

fn typst_date(at: &DateTime<Tz>) -> Datetime {
    Datetime::from_ymd(at.year(), at.month() as u8, at.day() as u8).expect("a chrono date is a valid date")
}

fn pdf_timestamp(at: &DateTime<Tz>) -> Option<Timestamp> {
    let datetime = Datetime::from_ymd_hms(
        at.year(),
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
    )?;
    let offset_minutes = at.offset().fix().local_minus_utc() / 60;
    Timestamp::new_local(datetime, offset_minutes)
}
