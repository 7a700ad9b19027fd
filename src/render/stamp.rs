//! A marked copy of a document no longer in force: each page of the signed
//! PDF, drawn as it is, under a large «ANULADO», or «REEMPLAZADO» with the
//! folio that replaces it. The copy is a new, unsigned PDF for people who
//! print or read an exported expediente; the original stays beside it
//! byte for byte, and it is the original that verifies. What is printed
//! reaches Typst as data (`/sello/marca.json`), never as markup.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use super::RenderError;
use super::world::file_id;
use crate::fonts::FONTS;

const MAIN_PATH: &str = "/sello/anulado.typ";
const ORIGINAL_PATH: &str = "/sello/original.pdf";
const MARK_PATH: &str = "/sello/marca.json";

static MAIN_ID: LazyLock<FileId> = LazyLock::new(|| file_id(MAIN_PATH));
static ORIGINAL_ID: LazyLock<FileId> = LazyLock::new(|| file_id(ORIGINAL_PATH));
static MARK_ID: LazyLock<FileId> = LazyLock::new(|| file_id(MARK_PATH));
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// The most pages a copy is made of: an annulled padrón's tomo has a few
/// hundred; a file claiming more is not one of ours.
const PAGES_MAX: usize = 5_000;

/// Why a document is no longer in force, as its marked copy says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Annulled,
    /// Replaced by a correction: the folio of the document in force.
    Replaced {
        by: String,
    },
}

impl Mark {
    /// The word across each page, and the end of the copy's file name.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Annulled => "ANULADO",
            Self::Replaced { .. } => "REEMPLAZADO",
        }
    }

    /// The line at the top of each page.
    fn notice(&self) -> String {
        let why = match self {
            Self::Annulled => "este documento fue anulado".to_owned(),
            Self::Replaced { by } => format!("este documento fue reemplazado por el documento {by}"),
        };
        format!(
            "Copia marcada: {why}. El original firmado es el archivo del mismo nombre sin «-{}».",
            self.word()
        )
    }
}

/// The copy of `original`, a PDF of `pages` pages, marked with `mark`.
pub fn stamp_copy(original: &[u8], pages: usize, mark: &Mark) -> Result<Vec<u8>, RenderError> {
    let pages = pages.clamp(1, PAGES_MAX);
    // Only our own number reaches the markup; the PDF is read as a file
    // and the words as data.
    let source = format!(
        r#"#let marca = json("{MARK_PATH}")
#set page(margin: 0pt, width: auto, height: auto)
#set text(fill: rgb(164, 22, 26))
#for n in range(1, {last}) {{
  page(box({{
    image("{ORIGINAL_PATH}", page: n)
    place(center + horizon, rotate(-35deg, text(size: marca.puntos * 1pt, weight: "bold", fill: rgb(164, 22, 26, 45%), marca.palabra)))
    place(top + center, dy: 6pt, text(size: 8pt, marca.aviso))
  }}))
}}
"#,
        last = pages + 1
    );
    let word = mark.word();
    // The longer word, smaller, so it still fits across the page.
    let points = if word.chars().count() > 8 { 64 } else { 96 };
    let data = serde_json::json!({"palabra": word, "puntos": points, "aviso": mark.notice()});
    let world = StampWorld {
        main: Source::new(*MAIN_ID, source),
        original: Bytes::new(original.to_vec()),
        mark: Bytes::new(data.to_string().into_bytes()),
    };
    let compiled = typst::compile::<PagedDocument>(&world);
    let document = compiled
        .output
        .map_err(|errors| RenderError::Template(super::diagnostics::describe(&world, &errors)))?;
    typst_pdf::pdf(&document, &PdfOptions::default())
        .map_err(|errors| RenderError::Export(super::diagnostics::describe(&world, &errors)))
}

struct StampWorld {
    main: Source,
    original: Bytes,
    /// `/sello/marca.json`: the words printed.
    mark: Bytes,
}

impl World for StampWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        *MAIN_ID
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == *MAIN_ID {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *ORIGINAL_ID {
            Ok(self.original.clone())
        } else if id == *MARK_ID {
            Ok(self.mark.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.faces.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
