//! A marked copy of an annulled document: each page of the signed PDF,
//! drawn as it is, under a large «ANULADO». The copy is a new, unsigned
//! PDF for people who print or read an exported expediente; the original
//! stays beside it byte for byte, and it is the original that verifies.

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

static MAIN_ID: LazyLock<FileId> = LazyLock::new(|| file_id(MAIN_PATH));
static ORIGINAL_ID: LazyLock<FileId> = LazyLock::new(|| file_id(ORIGINAL_PATH));
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// The most pages a copy is made of: an annulled padrón's tomo has a few
/// hundred; a file claiming more is not one of ours.
const PAGES_MAX: usize = 5_000;

/// The marked copy of `original`, a PDF of `pages` pages.
pub fn stamp_annulled(original: &[u8], pages: usize) -> Result<Vec<u8>, RenderError> {
    let pages = pages.clamp(1, PAGES_MAX);
    // Only our own number reaches the markup; the PDF is read as a file.
    let source = format!(
        r#"#set page(margin: 0pt, width: auto, height: auto)
#set text(fill: rgb(164, 22, 26))
#for n in range(1, {last}) {{
  page(box({{
    image("{ORIGINAL_PATH}", page: n)
    place(center + horizon, rotate(-35deg, text(size: 96pt, weight: "bold", fill: rgb(164, 22, 26, 45%))[ANULADO]))
    place(top + center, dy: 6pt, text(size: 8pt)[Copia marcada: este documento fue anulado. El original firmado es el archivo del mismo nombre sin «-ANULADO».])
  }}))
}}
"#,
        last = pages + 1
    );
    let world = StampWorld {
        main: Source::new(*MAIN_ID, source),
        original: Bytes::new(original.to_vec()),
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
