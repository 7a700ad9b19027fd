//! Writing one incremental update: objects appended after the file's last
//! byte, a cross-reference section for them and a trailer that points back
//! to the previous one. The bytes before it are never touched, so every
//! earlier signature still covers exactly what it signed.
//!
//! A signature's or time-stamp's dictionary is written with placeholders
//! (`/ByteRange`, and `/Contents` as zeros) that [`Increment::seal`] fills
//! once the whole update is written.

use super::file::{PdfError, PdfFile};
use super::object::{Dict, Object};

/// Room for `[0 a b c]` with three ten-digit numbers.
const BYTE_RANGE_WIDTH: usize = 40;

/// An incremental update being written.
pub struct Increment {
    out: Vec<u8>,
    offsets: Vec<(u32, usize)>,
    /// Where the previous revision's cross-reference section is.
    previous_xref: usize,
}

/// Where a signature dictionary's placeholders are in the output.
pub struct Placeholders {
    byte_range_at: usize,
    contents_at: usize,
    reserved: usize,
}

impl Increment {
    /// Starts an update after `pdf`, whose revisions `file` read.
    pub fn start(pdf: &[u8], file: &PdfFile<'_>) -> Self {
        let mut out = pdf.to_vec();
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        Self {
            out,
            offsets: Vec::new(),
            previous_xref: file.revisions[file.revisions.len() - 1].xref_offset,
        }
    }

    /// Writes object `number` (generation 0).
    pub fn object(&mut self, number: u32, object: &Object) {
        self.offsets.push((number, self.out.len()));
        self.out.extend_from_slice(format!("{number} 0 obj\n").as_bytes());
        object.write(&mut self.out);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// Writes object `number` as an unfiltered stream of `data`, its
    /// dictionary holding only `/Length`.
    pub fn stream(&mut self, number: u32, data: &[u8]) {
        self.offsets.push((number, self.out.len()));
        let mut dict = Dict::default();
        dict.set("Length", Object::int_of(data.len() as i64));
        self.out.extend_from_slice(format!("{number} 0 obj\n").as_bytes());
        dict.write(&mut self.out);
        self.out.extend_from_slice(b"\nstream\n");
        self.out.extend_from_slice(data);
        // CR LF always: after data ending in a CR, a lone LF would read as
        // one CR LF end of line, one byte short of /Length (PDF/A).
        self.out.extend_from_slice(b"\r\nendstream\nendobj\n");
    }

    /// Writes the signature dictionary `head` as object `number`, followed
    /// by a `/ByteRange` and a `/Contents` of `reserved` zero bytes.
    pub fn signature(&mut self, number: u32, head: &Dict, reserved: usize) -> Placeholders {
        self.offsets.push((number, self.out.len()));
        self.out.extend_from_slice(format!("{number} 0 obj\n").as_bytes());
        let mut dict_bytes = Vec::new();
        head.write(&mut dict_bytes);
        dict_bytes.truncate(dict_bytes.len() - 2); // reopen: append the two placeholders
        self.out.extend_from_slice(&dict_bytes);
        self.out.extend_from_slice(b"/ByteRange ");
        let byte_range_at = self.out.len();
        self.out
            .extend_from_slice(format!("{:<width$}", "[0 0 0 0]", width = BYTE_RANGE_WIDTH).as_bytes());
        self.out.extend_from_slice(b"/Contents ");
        let contents_at = self.out.len();
        self.out.push(b'<');
        self.out.extend(std::iter::repeat_n(b'0', 2 * reserved));
        self.out.push(b'>');
        self.out.extend_from_slice(b">>\nendobj\n");
        Placeholders {
            byte_range_at,
            contents_at,
            reserved,
        }
    }

    /// Ends the update: the cross-reference section and a trailer naming
    /// `root`, `size` objects and the previous section, keeping `/Info` and
    /// `/ID` from `trailer`.
    pub fn finish(mut self, trailer: &Dict, root: (u32, u16), size: u32) -> Vec<u8> {
        let xref_at = self.out.len();
        write_xref(&mut self.out, &mut self.offsets);
        let mut new_trailer = Dict::default();
        new_trailer.set("Size", Object::int_of(i64::from(size)));
        new_trailer.set("Root", Object::Ref(root.0, root.1));
        for key in ["Info", "ID"] {
            if let Some(value) = trailer.get(key) {
                new_trailer.set(key, value.clone());
            }
        }
        new_trailer.set("Prev", Object::int_of(self.previous_xref as i64));
        self.out.extend_from_slice(b"trailer\n");
        Object::Dict(new_trailer).write(&mut self.out);
        self.out
            .extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        self.out
    }
}

impl Placeholders {
    /// Fills `/ByteRange` in `out` (a finished update), hands the bytes it
    /// covers to `make` and writes what `make` returns into `/Contents`.
    pub fn seal<T, E>(
        &self,
        out: &mut [u8],
        make: impl FnOnce(&[&[u8]]) -> Result<(Vec<u8>, T), E>,
        too_big: impl FnOnce() -> E,
    ) -> Result<T, E> {
        let contents_end = self.contents_at + 2 + 2 * self.reserved;
        let byte_range = format!(
            "[0 {} {contents_end} {}]",
            self.contents_at,
            out.len() - contents_end
        );
        out[self.byte_range_at..self.byte_range_at + byte_range.len()].copy_from_slice(byte_range.as_bytes());
        let (value, extra) = make(&[&out[..self.contents_at], &out[contents_end..]])?;
        if value.len() > self.reserved {
            return Err(too_big());
        }
        let hex: String = value.iter().map(|b| format!("{b:02X}")).collect();
        out[self.contents_at + 1..self.contents_at + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(extra)
    }
}

/// The trailer's `/Size` as an object number: the first free one.
pub fn next_number(file: &PdfFile<'_>) -> Result<u32, PdfError> {
    u32::try_from(
        file.trailer()
            .int("Size")
            .ok_or(PdfError::Unsupported("falta /Size"))?,
    )
    .map_err(|_| PdfError::Unsupported("/Size inválido"))
}

fn write_xref(out: &mut Vec<u8>, offsets: &mut [(u32, usize)]) {
    offsets.sort_unstable();
    out.extend_from_slice(b"xref\n");
    let mut i = 0;
    while i < offsets.len() {
        let mut j = i + 1;
        while j < offsets.len() && offsets[j].0 == offsets[j - 1].0 + 1 {
            j += 1;
        }
        out.extend_from_slice(format!("{} {}\n", offsets[i].0, j - i).as_bytes());
        for (_, offset) in &offsets[i..j] {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        i = j;
    }
}
