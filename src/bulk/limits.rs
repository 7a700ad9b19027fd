//! How big a spreadsheet Sello reads. A real lote is tens of thousands of
//! rows of a dozen or two columns: the bench issues 51,717 cartas of 13
//! columns (672,321 cells), a 16 MB CSV or a 2.9 MB workbook that unzips
//! to 34 MB (its sheet 25 MB, its shared strings 9 MB, each compressed 11
//! to 13 times). Each limit leaves such a lote room to double or more, and
//! stops a file built to exhaust the service (a cell at `XFD1048576`, a
//! shared string that unzips to a gigabyte) before anything sized by the
//! file is allocated.

/// Rows of data, the header apart: twice the biggest lote we know.
pub const MAX_ROWS: usize = 100_000;

/// Columns: a form has a few dozen fields; the rest is room for the
/// office's own columns beside them.
pub const MAX_COLUMNS: usize = 200;

/// Cells kept (rows × columns): 100,000 rows of 30 columns, 4.5 times the
/// bench's lote. Bounds what the rows take in memory (~24 bytes per cell
/// before its text).
pub const MAX_CELLS: usize = 3_000_000;

/// Characters in one cell: Excel's own limit.
pub const MAX_CELL_CHARS: usize = 32_767;

/// Text in all cells together, in bytes: a workbook's shared strings may
/// be repeated by every cell that names them, so this is what bounds the
/// text a small file can make.
pub const MAX_TEXT_BYTES: usize = 128 * 1024 * 1024;

/// The file as uploaded or read from disk: three times the bench's CSV.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// A CSV line (a record, its quoted line ends included), in bytes.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// A workbook unzipped, all its parts together: what [`MAX_CELLS`] cells
/// take as sheet XML (~37 bytes each) and their shared strings; the
/// bench's lote is 34 MB. Unzipped parts are streamed, not kept.
pub const MAX_UNZIPPED_BYTES: u64 = 256 * 1024 * 1024;

/// The shared strings part unzipped, which calamine keeps in memory: seven
/// times the bench's.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 64 * 1024 * 1024;

/// Distinct texts in a workbook's shared strings: one per cell at most.
pub const MAX_SHARED_STRINGS: usize = MAX_CELLS;

/// Parts in a workbook: a real one has a dozen or two.
pub const MAX_ZIP_ENTRIES: usize = 1_000;

/// How many times bigger a part may unzip than it is stored: a lote's
/// sheet compresses 11 to 13 times; a zip bomb, a thousand.
pub const MAX_RATIO: u64 = 100;

/// Parts smaller than this are not checked for ratio: a tiny part may
/// compress very well and costs nothing.
pub const RATIO_FROM_BYTES: u64 = 1024 * 1024;

/// `1048576` → `1.048.576`, as numbers are written in Spanish.
pub fn thousands(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    out
}

/// Bytes for people: `134217728` → `128 MB`.
pub fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if mb >= 10.0 || mb.fract() == 0.0 {
        format!("{} MB", thousands(mb.round() as u64))
    } else {
        format!("{mb:.1} MB").replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_in_spanish() {
        assert_eq!(thousands(16_384u64), "16.384");
        assert_eq!(thousands(1_048_576u64), "1.048.576");
        assert_eq!(thousands(200u64), "200");
        assert_eq!(thousands(0u64), "0");
        assert_eq!(megabytes(128 * 1024 * 1024), "128 MB");
        assert_eq!(megabytes(1536 * 1024), "1,5 MB");
    }
}
