//! Joins issued documents into one PDF for printing, in the order given.
//!
//! The merger is fed one document at a time and hands back the bytes to
//! append, so a lote of fifty thousand letters is joined with one document
//! in memory: only each object's offset is kept until the end. Each page is
//! copied with what it draws (contents, fonts, images, links); signature
//! fields are left out, since the printed copy is not the signed file —
//! each sheet carries its QR code, which is what is verified.

use std::collections::{HashMap, VecDeque};

use super::file::{Entry, PdfError, PdfFile};
use super::object::{Dict, Object, Parser};

/// The merged file's catalog and root page node.
const CATALOG: u32 = 1;
const ROOT_PAGES: u32 = 2;
/// Page attributes a page may inherit from its ancestors.
const INHERITED: [&str; 4] = ["Resources", "MediaBox", "CropBox", "Rotate"];
/// How deep a page tree may be.
const MAX_TREE_DEPTH: usize = 32;

/// A PDF being joined, document by document.
pub struct MergedPdf {
    /// Bytes handed out by earlier calls: an object's offset is this plus
    /// where it starts in the bytes the current call returns.
    written: usize,
    /// Where each object starts, by object number; 0 for the two objects
    /// written at the end.
    offsets: Vec<usize>,
    /// Each document's own page node, children of the root.
    document_nodes: Vec<u32>,
    pages: usize,
}

impl MergedPdf {
    /// Starts a merged file; returns it and its first bytes.
    pub fn start() -> (Self, Vec<u8>) {
        let header = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let merged = Self {
            written: header.len(),
            offsets: vec![0, 0, 0],
            document_nodes: Vec::new(),
            pages: 0,
        };
        (merged, header)
    }

    /// Pages joined so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Appends every page of `pdf`; returns the bytes to write next.
    pub fn append(&mut self, pdf: &[u8]) -> Result<Vec<u8>, PdfError> {
        let file = PdfFile::parse(pdf)?;
        let root = file.root()?;
        let catalog = file.dict(&Object::Ref(root.0, root.1))?;
        let pages_root = catalog
            .reference("Pages")
            .ok_or(PdfError::Unsupported("falta /Pages"))?;

        let mut copy = DocumentCopy {
            numbers: HashMap::new(),
            queue: VecDeque::new(),
            next: self.next_number(),
        };
        let node = copy.fresh();
        let mut pages = Vec::new();
        collect_pages(&file, pages_root, &Dict::default(), 0, &mut pages)?;
        // Page nodes of the original tree stand for this document's node.
        let page_numbers: Vec<u32> = pages.iter().map(|(id, _)| copy.number_of(*id)).collect();

        let mut out = Vec::new();
        for ((_, page), number) in pages.into_iter().zip(&page_numbers) {
            let mut page = without_signature_fields(&file, page)?;
            page.set("Parent", Object::Ref(node, 0));
            let page = copy.renumber(&Object::Dict(page));
            self.write_object(&mut out, *number, &page, None);
        }
        while let Some((original, number)) = copy.queue.pop_front() {
            let (object, stream) = read_object(&file, original)?;
            let object = copy.renumber(&object);
            self.write_object(&mut out, number, &object, stream);
        }
        let kids = page_numbers.iter().map(|n| Object::Ref(*n, 0)).collect();
        let node_dict = Dict(vec![
            (b"Type".to_vec(), Object::name_of("Pages")),
            (b"Parent".to_vec(), Object::Ref(ROOT_PAGES, 0)),
            (b"Kids".to_vec(), Object::Array(kids)),
            (b"Count".to_vec(), Object::int_of(page_numbers.len() as i64)),
        ]);
        self.write_object(&mut out, node, &Object::Dict(node_dict), None);
        self.document_nodes.push(node);
        self.pages += page_numbers.len();
        self.written += out.len();
        Ok(out)
    }

    /// The page tree, catalog, cross-reference table and trailer.
    pub fn finish(mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let kids = self.document_nodes.iter().map(|n| Object::Ref(*n, 0)).collect();
        let root = Dict(vec![
            (b"Type".to_vec(), Object::name_of("Pages")),
            (b"Kids".to_vec(), Object::Array(kids)),
            (b"Count".to_vec(), Object::int_of(self.pages as i64)),
        ]);
        self.write_object(&mut out, ROOT_PAGES, &Object::Dict(root), None);
        let catalog = Dict(vec![
            (b"Type".to_vec(), Object::name_of("Catalog")),
            (b"Pages".to_vec(), Object::Ref(ROOT_PAGES, 0)),
        ]);
        self.write_object(&mut out, CATALOG, &Object::Dict(catalog), None);

        let xref_at = self.written + out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len()).as_bytes());
        for offset in &self.offsets[1..] {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        let trailer = Dict(vec![
            (b"Size".to_vec(), Object::int_of(self.offsets.len() as i64)),
            (b"Root".to_vec(), Object::Ref(CATALOG, 0)),
        ]);
        out.extend_from_slice(b"trailer\n");
        trailer.write(&mut out);
        out.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        out
    }

    fn next_number(&self) -> u32 {
        self.offsets.len() as u32
    }

    fn write_object(&mut self, out: &mut Vec<u8>, number: u32, object: &Object, stream: Option<&[u8]>) {
        let index = number as usize;
        if self.offsets.len() <= index {
            self.offsets.resize(index + 1, 0);
        }
        self.offsets[index] = self.written + out.len();
        out.extend_from_slice(format!("{number} 0 obj\n").as_bytes());
        match (object, stream) {
            (Object::Dict(dict), Some(data)) => {
                let mut dict = dict.clone();
                dict.set("Length", Object::int_of(data.len() as i64));
                dict.write(out);
                out.extend_from_slice(b"\nstream\n");
                out.extend_from_slice(data);
                out.extend_from_slice(b"\nendstream");
            }
            _ => object.write(out),
        }
        out.extend_from_slice(b"\nendobj\n");
    }
}

/// One document's objects on their way into the merged file: each original
/// object gets a new number the first time something refers to it.
struct DocumentCopy {
    numbers: HashMap<(u32, u16), u32>,
    /// Objects numbered but not yet written.
    queue: VecDeque<((u32, u16), u32)>,
    next: u32,
}

impl DocumentCopy {
    /// The new number of an original object. Pages are written by the
    /// caller; anything else is queued to be copied.
    fn number_of(&mut self, original: (u32, u16)) -> u32 {
        if let Some(number) = self.numbers.get(&original) {
            return *number;
        }
        let number = self.fresh();
        self.numbers.insert(original, number);
        number
    }

    /// A number for an object of the merged file's own.
    fn fresh(&mut self) -> u32 {
        self.next += 1;
        self.next - 1
    }

    /// `object` with every reference renumbered, queueing what it refers to.
    fn renumber(&mut self, object: &Object) -> Object {
        match object {
            Object::Ref(n, g) => {
                let known = self.numbers.contains_key(&(*n, *g));
                let number = self.number_of((*n, *g));
                if !known {
                    self.queue.push_back(((*n, *g), number));
                }
                Object::Ref(number, 0)
            }
            Object::Array(items) => Object::Array(items.iter().map(|o| self.renumber(o)).collect()),
            Object::Dict(dict) => Object::Dict(Dict(
                dict.0.iter().map(|(k, v)| (k.clone(), self.renumber(v))).collect(),
            )),
            other => other.clone(),
        }
    }
}

/// The pages under `node`, in order, each with the attributes it inherits.
fn collect_pages(
    file: &PdfFile<'_>,
    node: (u32, u16),
    inherited: &Dict,
    depth: usize,
    pages: &mut Vec<((u32, u16), Dict)>,
) -> Result<(), PdfError> {
    if depth > MAX_TREE_DEPTH {
        return Err(PdfError::Unsupported("árbol de páginas demasiado profundo"));
    }
    let mut dict = file.dict(&Object::Ref(node.0, node.1))?;
    for key in INHERITED {
        if dict.get(key).is_none()
            && let Some(value) = inherited.get(key)
        {
            dict.set(key, value.clone());
        }
    }
    match dict.name("Type") {
        Some(b"Page") => {
            pages.push((node, dict));
            Ok(())
        }
        Some(b"Pages") => {
            let kids = dict.get("Kids").and_then(Object::as_array).unwrap_or_default();
            for kid in kids {
                let Object::Ref(n, g) = kid else {
                    return Err(PdfError::Unsupported("árbol de páginas inválido"));
                };
                collect_pages(file, (*n, *g), &dict, depth + 1, pages)?;
            }
            Ok(())
        }
        _ => Err(PdfError::Unsupported("árbol de páginas inválido")),
    }
}

/// The page without its signature widgets and its link to the tree.
fn without_signature_fields(file: &PdfFile<'_>, mut page: Dict) -> Result<Dict, PdfError> {
    page.remove("Parent");
    let annotations = match page.get("Annots") {
        Some(Object::Ref(n, g)) => file.object((*n, *g))?,
        Some(other) => other.clone(),
        None => return Ok(page),
    };
    let mut kept = Vec::new();
    for annotation in annotations.as_array().unwrap_or_default() {
        let dict = file.dict(annotation)?;
        if dict.name("Subtype") != Some(b"Widget") {
            kept.push(annotation.clone());
        }
    }
    if kept.is_empty() {
        page.remove("Annots");
    } else {
        page.set("Annots", Object::Array(kept));
    }
    Ok(page)
}

/// An object of the newest revision, with its stream's bytes if it has one.
fn read_object<'a>(file: &PdfFile<'a>, id: (u32, u16)) -> Result<(Object, Option<&'a [u8]>), PdfError> {
    let Some((_, Entry::InUse { offset, generation })) = file.entry_as_of(id.0, usize::MAX) else {
        return Ok((Object::Null, None));
    };
    if generation != id.1 || offset >= file.bytes.len() {
        return Err(PdfError::Unsupported("referencia a un objeto inexistente"));
    }
    let mut parser = Parser::new(file.bytes, offset);
    if parser.object_header()? != id {
        return Err(PdfError::Unsupported(
            "la tabla de referencias no coincide con el objeto",
        ));
    }
    let object = parser.object()?;
    parser.skip_space();
    if !file.bytes[parser.pos..].starts_with(b"stream") {
        return Ok((object, None));
    }
    let Object::Dict(dict) = &object else {
        return Err(PdfError::Unsupported("flujo sin diccionario"));
    };
    let length = match dict.get("Length") {
        Some(Object::Ref(n, g)) => file.object((*n, *g))?.as_int(),
        Some(other) => other.as_int(),
        None => None,
    };
    let length = usize::try_from(length.ok_or(PdfError::Unsupported("flujo sin /Length"))?)
        .map_err(|_| PdfError::Unsupported("/Length inválido"))?;
    // `stream` is followed by CRLF or LF, then the data.
    let mut start = parser.pos + b"stream".len();
    if file.bytes.get(start) == Some(&b'\r') {
        start += 1;
    }
    if file.bytes.get(start) == Some(&b'\n') {
        start += 1;
    }
    let data = start
        .checked_add(length)
        .and_then(|end| file.bytes.get(start..end))
        .ok_or(PdfError::Unsupported("flujo más allá del archivo"))?;
    Ok((object, Some(data)))
}
