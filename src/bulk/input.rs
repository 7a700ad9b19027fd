//! Reading a clerk's spreadsheet: CSV in UTF-8 or Latin-1 (what Excel
//! saves on many office computers), or an Excel `.xlsx` workbook's first
//! sheet. Every cell becomes text as the clerk sees it; dates become
//! `YYYY-MM-DD`. Nothing past [`super::limits`] is read.

use std::io::Read as _;
use std::path::Path;

use calamine::{Data, DataType as _};

use super::limits::{MAX_CELLS, MAX_COLUMNS, MAX_FILE_BYTES, MAX_LINE_BYTES, MAX_ROWS, megabytes, thousands};

/// A sheet: its header and its rows, each with the line number the clerk
/// sees in their program (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
    /// Cells holding a spreadsheet error (`#N/A`, `#REF!`): line, column
    /// and the error, to be reported rather than printed.
    pub cell_errors: Vec<(usize, usize, String)>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct InputError {
    pub path: String,
    pub message: String,
}

/// Reads `path` by its extension: `.csv` (or `.txt`) or `.xlsx`.
pub fn read_sheet(path: &Path) -> Result<Sheet, InputError> {
    let fail = |message: String| InputError {
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(format!("no se pudo leer: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("no se pudo leer: {e}")))?;
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    read_upload(&name, &bytes).map_err(fail)
}

/// Reads a file named `name` (its extension says which kind) from `bytes`.
pub fn read_upload(name: &str, bytes: &[u8]) -> Result<Sheet, String> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "el archivo pesa más de {}; el máximo es {}",
            megabytes(MAX_FILE_BYTES),
            megabytes(MAX_FILE_BYTES)
        ));
    }
    let extension = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let sheet = match extension.as_str() {
        "csv" | "txt" => read_csv(bytes)?,
        "xlsx" | "xlsm" => super::xlsx::read_xlsx(bytes)?,
        // Their readers lay out every cell a file declares before we could
        // count them: a small file could take all the memory there is.
        "xls" | "ods" => return Err("guarde la planilla como .xlsx o .csv y súbala de nuevo".into()),
        _ => return Err("use un archivo .csv o .xlsx".into()),
    };
    if sheet.headers.iter().all(|h| h.is_empty()) {
        return Err("la primera fila debe tener los nombres de las columnas".into());
    }
    Ok(sheet)
}

/// UTF-8 when it is valid UTF-8 (a BOM is dropped), Windows-1252 (Latin-1)
/// otherwise; the separator is a comma or, as Excel writes in Spanish, a
/// semicolon.
pub fn read_csv(bytes: &[u8]) -> Result<Sheet, String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.trim_start_matches('\u{feff}').to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    };
    // One kind of line end: Windows' and old Macs' become `\n`.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let first_line = text.lines().next().unwrap_or_default();
    let separator = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut lines = LineCounter::new(&text);
    let mut cells_kept = 0;
    let mut check = |record: &csv::StringRecord, line: usize| {
        // Its fields, a separator after each but the last, and its end.
        let length = record.as_slice().len() + record.len();
        if length > MAX_LINE_BYTES {
            return Err(format!(
                "la línea {line} tiene {} bytes; el máximo es {}",
                thousands(length as u64),
                thousands(MAX_LINE_BYTES as u64)
            ));
        }
        if record.len() > MAX_COLUMNS {
            return Err(format!(
                "la línea {line} tiene {} columnas; el máximo es {}",
                thousands(record.len() as u64),
                MAX_COLUMNS
            ));
        }
        cells_kept += record.len();
        if cells_kept > MAX_CELLS {
            return Err(format!(
                "el archivo tiene más de {} celdas; el máximo es {}",
                thousands(MAX_CELLS as u64),
                thousands(MAX_CELLS as u64)
            ));
        }
        Ok(())
    };
    let headers = match records.next() {
        Some(Ok(record)) => {
            check(&record, 1)?;
            record.iter().map(|h| h.trim().to_owned()).collect()
        }
        Some(Err(e)) => return Err(format!("línea 1: {e}")),
        None => return Err("el archivo está vacío".into()),
    };
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|e| format!("línea {}: {e}", e.position().map_or(0, |p| p.line())))?;
        let line = record
            .position()
            .map_or(rows.len() + 2, |p| lines.line_at(p.byte() as usize));
        check(&record, line)?;
        if rows.len() >= MAX_ROWS {
            return Err(format!(
                "el archivo tiene más de {} filas de datos; el máximo es {}",
                thousands(MAX_ROWS as u64),
                thousands(MAX_ROWS as u64)
            ));
        }
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().any(|c| !c.trim().is_empty()) {
            rows.push((line, cells));
        }
    }
    Ok(Sheet {
        headers,
        rows,
        cell_errors: Vec::new(),
    })
}

/// Line numbers of records, read in order: each call counts only the line
/// ends since the previous one, so a file of 50,000 rows is scanned once.
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Where the previous count stopped, and the line there.
    position: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            position: 0,
            line: 1,
        }
    }

    /// The line a record starting at byte `at` is on: the reader marks a
    /// record before the blank lines it skips, so those are skipped here too.
    fn line_at(&mut self, at: usize) -> usize {
        let mut start = at.min(self.bytes.len());
        while self.bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        if start < self.position {
            // Records come in order; should one not, count from the start.
            (self.position, self.line) = (0, 1);
        }
        self.line += self.bytes[self.position..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.position = start;
        self.line
    }
}

/// A cell as the clerk reads it: whole numbers without `.0`, dates as ISO.
pub(super) fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "sí" } else { "no" }.to_owned(),
        Data::DateTime(_) | Data::DateTimeIso(_) => match cell.as_datetime() {
            Some(moment) if moment.time() == chrono::NaiveTime::MIN => moment.date().to_string(),
            // A time of day alone is stored on Excel's day zero.
            Some(moment)
                if moment.date() == chrono::NaiveDate::from_ymd_opt(1899, 12, 31).unwrap_or_default()
                    || moment.date() == chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default() =>
            {
                moment.format("%H:%M").to_string()
            }
            Some(moment) => moment.format("%Y-%m-%d %H:%M").to_string(),
            None => cell.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_and_utf8_read_the_same() {
        let utf8 = "nombre;comuna\nJosé Muñoz;Ñuñoa\n".as_bytes().to_vec();
        let latin1 = encoding_rs::WINDOWS_1252
            .encode("nombre;comuna\nJosé Muñoz;Ñuñoa\n")
            .0
            .into_owned();
        assert_ne!(utf8, latin1);
        let a = read_csv(&utf8).expect("utf-8");
        let b = read_csv(&latin1).expect("latin-1");
        assert_eq!(a, b);
        assert_eq!(a.rows[0], (2, vec!["José Muñoz".to_owned(), "Ñuñoa".to_owned()]));
    }

    #[test]
    fn a_csv_beyond_the_limits_is_refused_naming_the_limit() {
        let wide = format!("{}\n", vec!["c"; MAX_COLUMNS + 1].join(";"));
        let error = read_csv(wide.as_bytes()).expect_err("too wide");
        assert_eq!(error, "la línea 1 tiene 201 columnas; el máximo es 200");
        let long = format!("a;b\n1;{}\n", "x".repeat(MAX_LINE_BYTES));
        let error = read_csv(long.as_bytes()).expect_err("too long a line");
        assert_eq!(error, "la línea 2 tiene 1.048.579 bytes; el máximo es 1.048.576");
        let many = format!("a\n{}", "1\n".repeat(MAX_ROWS + 1));
        let error = read_csv(many.as_bytes()).expect_err("too many rows");
        assert_eq!(
            error,
            "el archivo tiene más de 100.000 filas de datos; el máximo es 100.000"
        );
        assert_eq!(
            read_csv(format!("a\n{}", "1\n".repeat(MAX_ROWS)).as_bytes())
                .expect("as many rows as allowed")
                .rows
                .len(),
            MAX_ROWS
        );
        let error = read_upload("planilla.ods", b"PK").expect_err("ods");
        assert!(error.contains(".xlsx o .csv"), "{error}");
    }

    #[test]
    fn a_bom_and_blank_lines_are_ignored_and_lines_are_counted_as_the_clerk_sees_them() {
        let sheet = read_csv("\u{feff}a,b\r\n1,2\r\n,\r\n3,\"x, y\"\r\n".as_bytes()).expect("csv");
        assert_eq!(sheet.headers, ["a", "b"]);
        assert_eq!(
            sheet.rows,
            vec![
                (2, vec!["1".into(), "2".into()]),
                (4, vec!["3".into(), "x, y".into()])
            ]
        );
    }
}
