//! Joins issued documents into one PDF for printing, in the order given.
//!
//! The merger is fed one document at a time and hands back the bytes to
//! append, so a lote of fifty thousand letters is joined with one document
//! in memory: only each object's offset is kept until the end. Each page is
//! copied with what it draws (contents, fonts, images, links); signature
//! fields are left out, since the printed copy is not the signed file —
//! each sheet carries its QR code, which is what is verified.
//!
//! Long because copying a page means following every object it draws
//! with, renumbered, in one streaming pass; its unit tests take the rest.

use std::collections::{HashMap, VecDeque};

use super::file::{Entry, PdfError, PdfFile};
use super::object::{Dict, Object};

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

    /// Appends every page of `pdf`; returns the bytes to write next. On an
    /// error nothing of `pdf` is recorded, so the caller may skip it.
    pub fn append(&mut self, pdf: &[u8]) -> Result<Vec<u8>, PdfError> {
        let (objects, documents, pages) = (self.offsets.len(), self.document_nodes.len(), self.pages);
        let appended = self.append_document(pdf);
        if appended.is_err() {
            self.offsets.truncate(objects);
            self.document_nodes.truncate(documents);
            self.pages = pages;
        }
        appended
    }

    fn append_document(&mut self, pdf: &[u8]) -> Result<Vec<u8>, PdfError> {
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
        let declared = file.dict(&Object::Ref(pages_root.0, pages_root.1))?.int("Count");
        if declared != Some(pages.len() as i64) {
            return Err(PdfError::Unsupported("/Count no coincide con las páginas"));
        }
        // Pages are numbered first, so what refers to them (links) lands on
        // their copies.
        let page_numbers: Vec<u32> = pages.iter().map(|(id, _)| copy.number_of(*id)).collect();

        let mut out = Vec::new();
        for ((_, page), number) in pages.into_iter().zip(&page_numbers) {
            let page = without_signature_fields(&file, page)?;
            // Renumbered first: `node` is a number of the merged file.
            let Object::Dict(mut page) = copy.renumber(&Object::Dict(page)) else {
                unreachable!("a dictionary renumbers to a dictionary")
            };
            page.set("Parent", Object::Ref(node, 0));
            self.write_object(&mut out, *number, &Object::Dict(page), None);
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
                // CR LF always: after data ending in a CR, a lone LF would
                // read as one CR LF end of line, one byte short of /Length.
                out.extend_from_slice(b"\r\nendstream");
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
                dict.0
                    .iter()
                    .map(|(k, v)| (k.clone(), self.renumber(v)))
                    .collect(),
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
            let kids = match dict.get("Kids") {
                Some(Object::Ref(n, g)) => file.object((*n, *g))?,
                Some(kids) => kids.clone(),
                None => Object::Array(Vec::new()),
            };
            let kids = kids
                .as_array()
                .ok_or(PdfError::Unsupported("árbol de páginas inválido"))?;
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
    file.object_and_stream_at(offset, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small PDF with `pages` pages under an intermediate node, sharing a
    /// font and inheriting their MediaBox, plus a signature widget on the
    /// first page: the shapes the merger must handle.
    fn document(pages: usize, label: &str) -> Vec<u8> {
        let mut objects: Vec<String> = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count PAGES /MediaBox [0 0 612 792] >>".into(),
            "<< /Type /Pages /Parent 2 0 R /Kids KIDS /Count PAGES >>".into(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
            "<< /Type /Annot /Subtype /Widget /FT /Sig /Rect [0 0 0 0] >>".into(),
        ];
        let mut kids = Vec::new();
        for page in 0..pages {
            let content = format!("BT /F1 12 Tf 72 720 Td ({label} {page}) Tj ET");
            objects.push(format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            ));
            let annots = if page == 0 { "/Annots [5 0 R]" } else { "" };
            objects.push(format!(
                "<< /Type /Page /Parent 3 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents {} 0 R {annots} >>",
                objects.len()
            ));
            kids.push(format!("{} 0 R", objects.len()));
        }
        let kids = format!("[{}]", kids.join(" "));
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            let object = object.replace("KIDS", &kids).replace("PAGES", &pages.to_string());
            pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for offset in offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    fn merge(documents: &[Vec<u8>]) -> Vec<u8> {
        let (mut merged, mut out) = MergedPdf::start();
        for document in documents {
            out.extend(merged.append(document).expect("append"));
        }
        out.extend(merged.finish());
        out
    }

    fn page_texts(file: &PdfFile<'_>) -> Vec<String> {
        let root = file.dict(&Object::Ref(1, 0)).expect("catalog");
        let mut pages = Vec::new();
        collect_pages(
            file,
            root.reference("Pages").expect("pages"),
            &Dict::default(),
            0,
            &mut pages,
        )
        .expect("page tree");
        pages
            .iter()
            .map(|(id, page)| {
                // Every page's parent lists it among its kids.
                let parent = file.dict(page.get("Parent").expect("parent")).expect("node");
                let kids = parent.get("Kids").and_then(Object::as_array).expect("kids");
                assert!(
                    kids.contains(&Object::Ref(id.0, id.1)),
                    "page {id:?} under its parent"
                );
                assert!(
                    page.get("MediaBox").is_some(),
                    "the inherited MediaBox is on the page"
                );
                assert!(page.get("Annots").is_none(), "no signature widget");
                let contents = page.reference("Contents").expect("contents");
                let (_, data) = read_object(file, contents).expect("contents");
                String::from_utf8_lossy(data.expect("a stream")).into_owned()
            })
            .collect()
    }

    #[test]
    fn documents_are_joined_in_order_with_a_sound_page_tree_and_exact_offsets() {
        let merged = merge(&[document(2, "uno"), document(1, "dos"), document(3, "tres")]);
        let file = PdfFile::parse(&merged).expect("a PDF");
        let size = file.trailer().int("Size").expect("size") as u32;
        for number in 1..size {
            // Each entry's offset holds exactly that object.
            file.object((number, 0)).expect("every object at its offset");
        }
        let root = file.dict(&Object::Ref(2, 0)).expect("root");
        assert_eq!(root.int("Count"), Some(6));
        let texts = page_texts(&file);
        let labels: Vec<&str> = texts
            .iter()
            .map(|t| {
                t.split('(')
                    .nth(1)
                    .and_then(|t| t.split(')').next())
                    .expect("label")
            })
            .collect();
        assert_eq!(labels, ["uno 0", "uno 1", "dos 0", "tres 0", "tres 1", "tres 2"]);
        assert!(
            !merged.windows(6).any(|w| w == b"/Sig >"),
            "the signature widget is left out"
        );
    }

    #[test]
    fn a_document_that_cannot_be_read_leaves_the_merge_sound() {
        let (mut merged, mut out) = MergedPdf::start();
        out.extend(merged.append(&document(1, "uno")).expect("append"));
        // The shared font is not where the table says: found only after
        // the pages were already copied.
        let broken = String::from_utf8(document(2, "dos"))
            .expect("ASCII")
            .replace("4 0 obj", "9 0 obj");
        assert!(merged.append(broken.as_bytes()).is_err());
        assert!(merged.append(b"no es un PDF").is_err());
        out.extend(merged.append(&document(1, "tres")).expect("append"));
        out.extend(merged.finish());
        let file = PdfFile::parse(&out).expect("a PDF");
        let size = file.trailer().int("Size").expect("size") as u32;
        for number in 1..size {
            file.object((number, 0)).expect("every object at its offset");
        }
        assert_eq!(page_texts(&file).len(), 2);
    }
}
