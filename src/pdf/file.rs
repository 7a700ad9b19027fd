//! The revisions of a PDF file: its cross-reference sections, newest last,
//! read from the end of the file along the `/Prev` chain, and objects read
//! one at a time at the offsets they give.

use std::collections::BTreeMap;
use std::ops::Range;

use super::object::{Dict, Object, ParseError, Parser};

/// The most revisions a file may have; Sello adds one per signature.
const MAX_REVISIONS: usize = 512;
/// The most objects one cross-reference section may declare.
const MAX_ENTRIES: u64 = 5_000_000;

/// Why a file cannot be read as a PDF that Sello could have written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("no es un archivo PDF")]
    NotPdf,
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("estructura PDF no admitida: {0}")]
    Unsupported(&'static str),
}

/// An entry of a cross-reference section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    InUse { offset: usize, generation: u16 },
    Free,
}

/// One revision: the original document or one incremental update.
#[derive(Debug, Clone)]
pub struct Revision {
    /// Where this revision's `xref` keyword is.
    pub xref_offset: usize,
    pub trailer: Dict,
    /// Objects this revision defines or frees.
    pub entries: BTreeMap<u32, Entry>,
    /// The first byte after this revision's `%%EOF` line.
    pub end: usize,
}

/// A parsed PDF: its bytes and revisions, oldest first.
pub struct PdfFile<'a> {
    pub bytes: &'a [u8],
    pub revisions: Vec<Revision>,
}

impl<'a> PdfFile<'a> {
    /// Reads the cross-reference chain. Fails on anything but classic
    /// cross-reference tables, which is all Sello writes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PdfError> {
        if !bytes.starts_with(b"%PDF-") {
            return Err(PdfError::NotPdf);
        }
        let mut offset = last_startxref(bytes)?;
        let mut revisions = Vec::new();
        loop {
            if revisions.len() >= MAX_REVISIONS {
                return Err(PdfError::Unsupported("demasiadas revisiones"));
            }
            let revision = read_section(bytes, offset)?;
            let previous = revision.trailer.int("Prev");
            revisions.push(revision);
            match previous {
                None => break,
                // Each /Prev must point strictly backwards: no cycles.
                Some(prev) if prev >= 0 && (prev as usize) < offset => offset = prev as usize,
                Some(_) => return Err(PdfError::Unsupported("cadena /Prev inválida")),
            }
        }
        revisions.reverse();
        for window in revisions.windows(2) {
            if window[1].xref_offset < window[0].end {
                return Err(PdfError::Unsupported("revisiones superpuestas"));
            }
        }
        Ok(Self { bytes, revisions })
    }

    /// The newest trailer.
    pub fn trailer(&self) -> &Dict {
        &self.revisions[self.revisions.len() - 1].trailer
    }

    /// The entry of object `number` as of revision `upto` (inclusive).
    pub fn entry_as_of(&self, number: u32, upto: usize) -> Option<(usize, Entry)> {
        self.revisions[..=upto.min(self.revisions.len() - 1)]
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, r)| r.entries.get(&number).map(|e| (i, *e)))
    }

    /// Reads object `id` as the newest revision defines it.
    pub fn object(&self, id: (u32, u16)) -> Result<Object, PdfError> {
        self.object_as_of(id, self.revisions.len() - 1)
    }

    /// Reads object `id` as revision `upto` saw it.
    pub fn object_as_of(&self, id: (u32, u16), upto: usize) -> Result<Object, PdfError> {
        match self.entry_as_of(id.0, upto) {
            Some((_, Entry::InUse { offset, generation })) if generation == id.1 => {
                self.object_at(offset, id)
            }
            _ => Err(PdfError::Unsupported("referencia a un objeto inexistente")),
        }
    }

    /// Reads the object whose header is at `offset`, checking it is `id`.
    pub fn object_at(&self, offset: usize, id: (u32, u16)) -> Result<Object, PdfError> {
        if offset >= self.bytes.len() {
            return Err(PdfError::Unsupported("desplazamiento fuera del archivo"));
        }
        let mut parser = Parser::new(self.bytes, offset);
        if parser.object_header()? != id {
            return Err(PdfError::Unsupported(
                "la tabla de referencias no coincide con el objeto",
            ));
        }
        Ok(parser.object()?)
    }

    /// Reads the object whose header is at `offset`, checking it is `id`,
    /// with its stream's bytes if it is a stream.
    pub fn object_and_stream_at(
        &self,
        offset: usize,
        id: (u32, u16),
    ) -> Result<(Object, Option<&'a [u8]>), PdfError> {
        let (object, range) = self.object_and_stream_range_at(offset, id)?;
        Ok((object, range.map(|range| &self.bytes[range])))
    }

    /// [`Self::object_and_stream_at`], with where its stream's bytes are in
    /// the file rather than the bytes.
    pub fn object_and_stream_range_at(
        &self,
        offset: usize,
        id: (u32, u16),
    ) -> Result<(Object, Option<Range<usize>>), PdfError> {
        if offset >= self.bytes.len() {
            return Err(PdfError::Unsupported("desplazamiento fuera del archivo"));
        }
        let mut parser = Parser::new(self.bytes, offset);
        if parser.object_header()? != id {
            return Err(PdfError::Unsupported(
                "la tabla de referencias no coincide con el objeto",
            ));
        }
        let object = parser.object()?;
        parser.skip_space();
        if !self.bytes[parser.pos..].starts_with(b"stream") {
            return Ok((object, None));
        }
        let Object::Dict(dict) = &object else {
            return Err(PdfError::Unsupported("flujo sin diccionario"));
        };
        let length = match dict.get("Length") {
            Some(Object::Ref(n, g)) => self.object((*n, *g))?.as_int(),
            Some(other) => other.as_int(),
            None => None,
        };
        let length = usize::try_from(length.ok_or(PdfError::Unsupported("flujo sin /Length"))?)
            .map_err(|_| PdfError::Unsupported("/Length inválido"))?;
        // `stream` is followed by CRLF or LF, then the data.
        let mut start = parser.pos + b"stream".len();
        if self.bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if self.bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        let range = start
            .checked_add(length)
            .filter(|&end| end <= self.bytes.len())
            .map(|end| start..end)
            .ok_or(PdfError::Unsupported("flujo más allá del archivo"))?;
        Ok((object, Some(range)))
    }

    /// Reads a dictionary object, or follows a reference to one.
    pub fn dict(&self, object: &Object) -> Result<Dict, PdfError> {
        match object {
            Object::Dict(dict) => Ok(dict.clone()),
            Object::Ref(n, g) => match self.object((*n, *g))? {
                Object::Dict(dict) => Ok(dict),
                _ => Err(PdfError::Unsupported("se esperaba un diccionario")),
            },
            _ => Err(PdfError::Unsupported("se esperaba un diccionario")),
        }
    }

    /// The catalog (`/Root`) reference of the newest revision.
    pub fn root(&self) -> Result<(u32, u16), PdfError> {
        self.trailer()
            .reference("Root")
            .ok_or(PdfError::Unsupported("falta /Root"))
    }

    /// The reference and dictionary of the first page.
    pub fn first_page(&self, catalog: &Dict) -> Result<((u32, u16), Dict), PdfError> {
        let mut node = catalog
            .reference("Pages")
            .ok_or(PdfError::Unsupported("falta /Pages"))?;
        for _ in 0..32 {
            let dict = self.dict(&Object::Ref(node.0, node.1))?;
            match dict.name("Type") {
                Some(b"Page") => return Ok((node, dict)),
                Some(b"Pages") => {
                    let first = dict
                        .get("Kids")
                        .and_then(Object::as_array)
                        .and_then(|kids| kids.first());
                    match first {
                        Some(Object::Ref(n, g)) => node = (*n, *g),
                        _ => return Err(PdfError::Unsupported("árbol de páginas inválido")),
                    }
                }
                _ => return Err(PdfError::Unsupported("árbol de páginas inválido")),
            }
        }
        Err(PdfError::Unsupported("árbol de páginas demasiado profundo"))
    }
}

/// The offset after the last `startxref` keyword.
fn last_startxref(bytes: &[u8]) -> Result<usize, PdfError> {
    let tail_start = bytes.len().saturating_sub(2048);
    let tail = &bytes[tail_start..];
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or(PdfError::Unsupported("falta startxref"))?;
    let mut parser = Parser::new(bytes, tail_start + at + 9);
    let offset = parser.unsigned()? as usize;
    if offset >= bytes.len() {
        return Err(PdfError::Unsupported("startxref fuera del archivo"));
    }
    Ok(offset)
}

/// Reads the `xref` section at `offset`, its trailer and where it ends.
fn read_section(bytes: &[u8], offset: usize) -> Result<Revision, PdfError> {
    let mut parser = Parser::new(bytes, offset);
    parser
        .expect(b"xref")
        .map_err(|_| PdfError::Unsupported("solo se admiten tablas de referencias clásicas"))?;
    let mut entries = BTreeMap::new();
    loop {
        parser.skip_space();
        if bytes[parser.pos..].starts_with(b"trailer") {
            parser.expect(b"trailer")?;
            break;
        }
        let first = parser.unsigned()?;
        let count = parser.unsigned()?;
        if count > MAX_ENTRIES
            || first + count > u64::from(u32::MAX)
            || count * 18 > (bytes.len() - parser.pos) as u64
        {
            return Err(PdfError::Unsupported("sección de referencias desmesurada"));
        }
        for number in first..first + count {
            let position = parser.unsigned()? as usize;
            let generation = u16::try_from(parser.unsigned()?)
                .map_err(|_| PdfError::Unsupported("generación inválida"))?;
            parser.skip_space();
            let kind = bytes.get(parser.pos).copied();
            parser.pos += 1;
            let entry = match kind {
                Some(b'n') => Entry::InUse {
                    offset: position,
                    generation,
                },
                Some(b'f') => Entry::Free,
                _ => return Err(PdfError::Unsupported("entrada de referencia inválida")),
            };
            if entries.insert(number as u32, entry).is_some() {
                return Err(PdfError::Unsupported("objeto declarado dos veces en una sección"));
            }
        }
    }
    let trailer = match parser.object()? {
        Object::Dict(dict) => dict,
        _ => return Err(PdfError::Unsupported("trailer inválido")),
    };
    parser.expect(b"startxref")?;
    let declared = parser.unsigned()? as usize;
    if declared != offset {
        return Err(PdfError::Unsupported("startxref no coincide con su sección"));
    }
    parser.expect_marker(b"%%EOF")?;
    let mut end = parser.pos;
    if bytes.get(end) == Some(&b'\r') {
        end += 1;
    }
    if bytes.get(end) == Some(&b'\n') {
        end += 1;
    }
    Ok(Revision {
        xref_offset: offset,
        trailer,
        entries,
        end,
    })
}
