//! Stream ends that read one way only. PDF/A counts a stream's /Length up
//! to the end of line before `endstream`, which may be a CR, an LF or a
//! CR LF. Typst ends every stream's data with a lone LF, so data whose last
//! byte happens to be a CR (one compressed stream in 256: most tomos of a
//! padrón, one letter in thirty) reads as ending in a CR LF, one byte short
//! of its /Length. A CR added before that LF makes the end of line a CR LF
//! and leaves the data whole; every object after it moves one byte, so the
//! cross-reference table is written again with the new offsets.

use super::file::{Entry, PdfError, PdfFile};
use super::object::Parser;

/// How a stream ends when its data's last byte is a CR: the CR, then an LF.
const AMBIGUOUS_END: &[u8] = b"\r\nendstream";
/// A cross-reference entry: ten digits of offset, five of generation, its
/// kind and a two-byte end of line.
const ENTRY_LEN: usize = 20;

/// `pdf`, as just composed (one revision, a classic cross-reference table),
/// with every stream that ends in a CR followed by CR LF `endstream`; the
/// same bytes when none does.
pub fn unambiguous_stream_ends(pdf: Vec<u8>) -> Result<Vec<u8>, PdfError> {
    // Where such a stream's data would end: just after the CR.
    let candidates: Vec<usize> = pdf
        .windows(AMBIGUOUS_END.len())
        .enumerate()
        .filter(|(_, w)| *w == AMBIGUOUS_END)
        .map(|(at, _)| at + 1)
        .collect();
    if candidates.is_empty() {
        return Ok(pdf);
    }
    let file = PdfFile::parse(&pdf)?;
    let [revision] = file.revisions.as_slice() else {
        return Err(PdfError::Unsupported(
            "un PDF recién compuesto tiene una sola revisión",
        ));
    };
    let mut objects: Vec<(usize, (u32, u16))> = revision
        .entries
        .iter()
        .filter_map(|(&number, entry)| match *entry {
            Entry::InUse { offset, generation } => Some((offset, (number, generation))),
            Entry::Free => None,
        })
        .collect();
    objects.sort_unstable();
    // Only where a stream's data really ends: the same bytes inside
    // compressed data are data.
    let mut inserts = Vec::new();
    for end in candidates {
        let Some(&(offset, id)) = objects
            .partition_point(|(offset, _)| *offset < end)
            .checked_sub(1)
            .map(|i| &objects[i])
        else {
            continue;
        };
        if let (_, Some(range)) = file.object_and_stream_range_at(offset, id)?
            && range.end == end
        {
            inserts.push(end);
        }
    }
    if inserts.is_empty() {
        return Ok(pdf);
    }
    let shifted = |offset: usize| offset + inserts.partition_point(|&at| at <= offset);

    let xref = revision.xref_offset;
    let mut out = Vec::with_capacity(pdf.len() + inserts.len() + 2);
    let mut from = 0;
    for &at in &inserts {
        out.extend_from_slice(&pdf[from..at]);
        out.push(b'\r');
        from = at;
    }
    out.extend_from_slice(&pdf[from..xref]);
    let from = rewrite_xref(&pdf, xref, &shifted, &mut out)?;
    // The trailer as it was; `startxref` names the table's new place.
    let startxref = pdf[from..]
        .windows(b"startxref".len())
        .rposition(|w| w == b"startxref")
        .map(|at| from + at + b"startxref".len())
        .ok_or(PdfError::Unsupported("falta startxref"))?;
    let mut parser = Parser::new(&pdf, startxref);
    parser.skip_space();
    out.extend_from_slice(&pdf[from..parser.pos]);
    parser.unsigned()?;
    out.extend_from_slice(shifted(xref).to_string().as_bytes());
    out.extend_from_slice(&pdf[parser.pos..]);
    Ok(out)
}

/// Copies the cross-reference table at `xref` into `out` with each
/// object's offset `shifted`; returns where its trailer starts.
fn rewrite_xref(
    pdf: &[u8],
    xref: usize,
    shifted: &dyn Fn(usize) -> usize,
    out: &mut Vec<u8>,
) -> Result<usize, PdfError> {
    let bad_entry = PdfError::Unsupported("entrada de referencia inválida");
    let mut pos = xref + b"xref".len();
    out.extend_from_slice(b"xref");
    loop {
        let mut parser = Parser::new(pdf, pos);
        parser.skip_space();
        if pdf[parser.pos..].starts_with(b"trailer") {
            out.extend_from_slice(&pdf[pos..parser.pos]);
            return Ok(parser.pos);
        }
        // A subsection: its first number and count, then its entries.
        parser.unsigned()?;
        let count = parser.unsigned()?;
        parser.skip_space();
        out.extend_from_slice(&pdf[pos..parser.pos]);
        pos = parser.pos;
        for _ in 0..count {
            let entry = pdf.get(pos..pos + ENTRY_LEN).ok_or(bad_entry.clone())?;
            if entry[10] != b' ' || entry[16] != b' ' {
                return Err(bad_entry);
            }
            if entry[17] == b'n' {
                let offset: usize = std::str::from_utf8(&entry[..10])
                    .ok()
                    .and_then(|digits| digits.parse().ok())
                    .ok_or(bad_entry.clone())?;
                out.extend_from_slice(format!("{:010}", shifted(offset)).as_bytes());
                out.extend_from_slice(&entry[10..]);
            } else {
                out.extend_from_slice(entry);
            }
            pos += ENTRY_LEN;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::object::Object;
    use super::*;

    /// A PDF of `objects` (each its body after `N 0 obj\n`), with a
    /// classic cross-reference table as Typst writes it.
    fn pdf_of(objects: &[&[u8]]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\x80\x80\x80\x80\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n\n");
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes());
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<<\n  /Size {}\n  /Root 1 0 R\n>>\nstartxref\n{xref}\n%%EOF",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn stream_of(pdf: &[u8], number: u32) -> Vec<u8> {
        let file = PdfFile::parse(pdf).expect("parses");
        let Some((_, Entry::InUse { offset, .. })) = file.entry_as_of(number, 0) else {
            panic!("object {number} in use");
        };
        let (_, data) = file.object_and_stream_at(offset, (number, 0)).expect("reads");
        data.expect("a stream").to_vec()
    }

    #[test]
    fn a_stream_ending_in_a_carriage_return_ends_in_cr_lf_and_keeps_its_data() {
        let objects: [&[u8]; 4] = [
            b"<< /Type /Catalog >>",
            b"<< /Length 3 >>\nstream\nAB\r\nendstream",
            // The same bytes inside a stream's data are data.
            b"<< /Length 16 >>\nstream\nx\r\nendstream\ryz\r\nendstream",
            b"<< /Length 2 >>\nstream\nC\r\nendstream",
        ];
        let before = pdf_of(&objects);
        let after = unambiguous_stream_ends(before.clone()).expect("rewritten");

        assert_eq!(after.len(), before.len() + 3, "one CR per stream ending in CR");
        assert_eq!(
            after
                .windows(b"AB\r\r\nendstream".len())
                .filter(|w| w == b"AB\r\r\nendstream")
                .count(),
            1
        );
        assert!(
            after
                .windows(b"C\r\r\nendstream".len())
                .any(|w| w == b"C\r\r\nendstream")
        );
        for (number, data) in [(2, &b"AB\r"[..]), (3, b"x\r\nendstream\ryz\r"), (4, b"C\r")] {
            assert_eq!(stream_of(&after, number), data, "object {number}");
        }
        let file = PdfFile::parse(&after).expect("parses");
        assert_eq!(
            file.object((1, 0)).expect("catalog"),
            Object::Dict(super::super::object::Dict(vec![(
                b"Type".to_vec(),
                Object::name_of("Catalog")
            )]))
        );
    }

    #[test]
    fn a_file_without_such_a_stream_is_left_as_it_is() {
        let before = pdf_of(&[
            b"<< /Type /Catalog >>",
            b"<< /Length 3 >>\nstream\nA\r\n\nendstream",
            b"<< /Length 15 >>\nstream\nx\r\nendstream\ryz\nendstream",
        ]);
        assert_eq!(unambiguous_stream_ends(before.clone()).expect("read"), before);
    }
}
