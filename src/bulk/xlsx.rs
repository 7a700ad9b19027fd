//! An Excel workbook's first sheet, read within [`super::limits`]. Before
//! calamine opens the file, its zip parts are checked (how many, the size
//! each declares, the size each really unzips to, how much each is
//! compressed) and its shared strings counted, as calamine reserves room
//! for as many as the file declares. The sheet's cells are then streamed
//! one by one: the dimension the sheet declares and the place of every cell
//! are checked before any row is laid out, as calamine's own reader lays
//! out every row and column between the first cell and the last.
//!
//! Long because each limit is checked where the bytes are read (archive,
//! shared strings, sheet), next to what it guards; its unit tests follow.

use std::io::{BufReader, Cursor, Read};

use calamine::{Data, DataRef, Reader as _};

use super::input::{Sheet, cell_text};
use super::limits::{
    MAX_CELL_CHARS, MAX_CELLS, MAX_COLUMNS, MAX_RATIO, MAX_ROWS, MAX_SHARED_STRINGS,
    MAX_SHARED_STRINGS_BYTES, MAX_TEXT_BYTES, MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES, RATIO_FROM_BYTES,
    megabytes, thousands,
};

/// Reads the first sheet of the workbook in `bytes`.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, String> {
    check_parts(bytes)?;
    let mut workbook = calamine::Xlsx::new(Cursor::new(bytes))
        .map_err(|e| format!("no es un libro de Excel legible: {e}"))?;
    let name = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or("el libro no tiene hojas")?;
    let mut reader = workbook
        .worksheet_cells_reader(&name)
        .map_err(|e| format!("primera hoja: {e}"))?;
    let declared = reader.dimensions();
    check_extent(declared.start, declared.end, "declara")?;

    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    let mut errors: Vec<(u32, u32, String)> = Vec::new();
    let (mut first, mut last) = ((u32::MAX, u32::MAX), (0, 0));
    let mut text_bytes = 0usize;
    while let Some(cell) = reader.next_cell().map_err(|e| format!("primera hoja: {e}"))? {
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        let (row, column) = cell.get_position();
        first = (first.0.min(row), first.1.min(column));
        last = (last.0.max(row), last.1.max(column));
        check_extent(first, last, "tiene")?;
        if cells.len() + errors.len() >= MAX_CELLS {
            return Err(format!(
                "la planilla tiene más de {} celdas; el máximo es {}",
                thousands(MAX_CELLS as u64),
                thousands(MAX_CELLS as u64)
            ));
        }
        let length = match value {
            DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => text.len(),
            DataRef::SharedString(text) => text.len(),
            _ => 0,
        };
        if length > MAX_CELL_CHARS {
            let chars = match value {
                DataRef::String(text) => text.chars().count(),
                DataRef::SharedString(text) => text.chars().count(),
                _ => length,
            };
            if chars > MAX_CELL_CHARS {
                return Err(format!(
                    "la celda {} tiene {} caracteres; el máximo es {}",
                    address(row, column),
                    thousands(chars as u64),
                    thousands(MAX_CELL_CHARS as u64)
                ));
            }
        }
        text_bytes += length;
        if text_bytes > MAX_TEXT_BYTES {
            return Err(format!(
                "las celdas de la planilla suman más de {} de texto; el máximo es {}",
                megabytes(MAX_TEXT_BYTES as u64),
                megabytes(MAX_TEXT_BYTES as u64)
            ));
        }
        match Data::from(value.clone()) {
            Data::Error(error) => errors.push((row, column, error.to_string())),
            data => cells.push((row, column, cell_text(&data))),
        }
    }
    drop(reader);
    lay_out(cells, errors, first, last)
}

/// The rows, as calamine's range would give them: from the first cell's
/// row and column to the last's, the header first.
fn lay_out(
    mut cells: Vec<(u32, u32, String)>,
    errors: Vec<(u32, u32, String)>,
    first: (u32, u32),
    last: (u32, u32),
) -> Result<Sheet, String> {
    for (row, column, error) in &errors {
        cells.push((*row, *column, error.clone()));
    }
    if cells.is_empty() {
        return Err("la primera hoja está vacía".into());
    }
    // Bounded by `check_extent`.
    let width = (last.1 - first.1) as usize + 1;
    cells.sort_by_key(|(row, column, _)| (*row, *column));
    let mut laid: Vec<(u32, Vec<String>)> = Vec::new();
    for (row, column, text) in cells {
        if laid.last().is_none_or(|(r, _)| *r != row) {
            laid.push((row, vec![String::new(); width]));
        }
        if let Some((_, line)) = laid.last_mut() {
            line[(column - first.1) as usize] = text;
        }
    }
    let mut laid = laid.into_iter();
    let headers = match laid.next() {
        Some((row, cells)) if row == first.0 => cells.into_iter().map(|c| c.trim().to_owned()).collect(),
        // The first row holds a cell, so it is always there.
        _ => return Err("la primera hoja está vacía".into()),
    };
    let cell_errors = errors
        .into_iter()
        .filter(|(row, _, _)| *row != first.0)
        .map(|(row, column, error)| (row as usize + 1, (column - first.1) as usize, error))
        .collect();
    let rows = laid
        .map(|(row, cells)| (row as usize + 1, cells))
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .collect();
    Ok(Sheet {
        headers,
        rows,
        cell_errors,
    })
}

/// Refuses a sheet that `verb` («declara», «tiene») cells from `first` to
/// `last` (row, column, from 0) beyond the limits.
fn check_extent(first: (u32, u32), last: (u32, u32), verb: &str) -> Result<(), String> {
    let rows = u64::from(last.0.saturating_sub(first.0)) + 1;
    let columns = u64::from(last.1.saturating_sub(first.1)) + 1;
    if columns > MAX_COLUMNS as u64 {
        return Err(format!(
            "la planilla {verb} {} columnas (de {} a {}); el máximo es {}",
            thousands(columns),
            column_name(first.1),
            column_name(last.1),
            thousands(MAX_COLUMNS as u64)
        ));
    }
    if rows > MAX_ROWS as u64 + 1 {
        return Err(format!(
            "la planilla {verb} {} filas de datos (hasta la fila {}); el máximo es {}",
            thousands(rows - 1),
            thousands(u64::from(last.0) + 1),
            thousands(MAX_ROWS as u64)
        ));
    }
    if rows * columns > MAX_CELLS as u64 {
        return Err(format!(
            "la planilla {verb} {} celdas ({} filas × {} columnas); el máximo es {}",
            thousands(rows * columns),
            thousands(rows),
            thousands(columns),
            thousands(MAX_CELLS as u64)
        ));
    }
    Ok(())
}

/// `0` → `A`, `16383` → `XFD`.
fn column_name(column: u32) -> String {
    let mut name = Vec::new();
    let mut n = u64::from(column) + 1;
    while n > 0 {
        let digit = ((n - 1) % 26) as u8;
        name.push(b'A' + digit);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// `(1048575, 16383)` → `XFD1048576`.
fn address(row: u32, column: u32) -> String {
    format!("{}{}", column_name(column), u64::from(row) + 1)
}

/// Checks the workbook's zip parts and counts its shared strings, reading
/// no part past the size it declares nor past the limits.
fn check_parts(bytes: &[u8]) -> Result<(), String> {
    let unreadable = |e: &dyn std::fmt::Display| format!("no es un libro de Excel legible: {e}");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(format!(
            "el libro tiene {} partes; el máximo es {}",
            thousands(zip.len() as u64),
            thousands(MAX_ZIP_ENTRIES as u64)
        ));
    }
    let mut total = 0u64;
    for index in 0..zip.len() {
        let part = zip.by_index_raw(index).map_err(|e| unreadable(&e))?;
        let (name, size) = (String::from_utf8_lossy(part.name_raw()).into_owned(), part.size());
        check_size(&name, size, part.compressed_size())?;
        total = total.saturating_add(size);
        if total > MAX_UNZIPPED_BYTES {
            return Err(format!(
                "el libro se descomprime a más de {}; el máximo es {}",
                megabytes(MAX_UNZIPPED_BYTES),
                megabytes(MAX_UNZIPPED_BYTES)
            ));
        }
    }
    // What a part declares may be false: each is unzipped, never past it.
    for index in 0..zip.len() {
        let part = zip.by_index(index).map_err(|e| unreadable(&e))?;
        let (name, declared) = (String::from_utf8_lossy(part.name_raw()).into_owned(), part.size());
        let mut capped = part.take(declared.saturating_add(1));
        if is_shared_strings(&name) {
            count_shared_strings(&mut capped, &name)?;
        } else if is_worksheet(&name) {
            check_references(&mut capped, &name)?;
        }
        // A read error here is a part that does not unzip as it declares
        // (the zip reader checks sizes and checksums as it goes).
        let read = std::io::copy(&mut capped, &mut std::io::sink());
        if read.is_err() || capped.limit() == 0 {
            return Err(damaged(&name));
        }
    }
    Ok(())
}

fn damaged(name: &str) -> String {
    format!("{name} no se descomprime como declara: el libro está dañado o manipulado")
}

fn is_shared_strings(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with("sharedstrings.xml")
}

fn is_worksheet(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.contains("worksheets/") && name.ends_with(".xml")
}

/// Refuses a cell, row or dimension reference past `XFD1048576`: Excel
/// writes none, and calamine's arithmetic on a long one overflows (found by
/// fuzzing); and a worksheet that is not well-formed XML.
fn check_references(part: &mut impl Read, name: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(part));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let (element, attribute, is_row) = match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                "c" => (e.clone(), "r", false),
                "row" => (e.clone(), "r", true),
                "dimension" => (e.clone(), "ref", false),
                _ => continue,
            },
            Ok(Event::Eof) => return Ok(()),
            // calamine reads on past what quick-xml calls an error, so the
            // rest could not be checked: a spreadsheet program writes none.
            Err(e) => return Err(format!("{name} no es XML válido ({e}): el libro está dañado")),
            _ => continue,
        };
        let fits = |text: &str| match is_row {
            true => (1..=7).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()),
            false => text.split(':').all(|cell| is_cell_reference(cell.as_bytes())),
        };
        if let Ok(Some(reference)) = element.try_get_attribute(attribute)
            && !fits(&reference.value)
        {
            return Err(format!(
                "{name}: «{}» no es una celda de Excel (la última es XFD1048576)",
                reference.value
            ));
        }
    }
}

/// `A1` to `XFD1048576`, as letters and digits; a bound checked only in
/// length, which keeps every later computation far from overflowing.
fn is_cell_reference(reference: &[u8]) -> bool {
    let letters = reference.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let digits = &reference[letters..];
    (1..=3).contains(&letters) && (1..=7).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
}

/// Refuses a part that unzips to more than its limit, or that is
/// compressed more than a spreadsheet ever is.
fn check_size(name: &str, size: u64, compressed: u64) -> Result<(), String> {
    let limit = if is_shared_strings(name) {
        MAX_SHARED_STRINGS_BYTES
    } else {
        MAX_UNZIPPED_BYTES
    };
    if size > limit {
        return Err(format!(
            "{name} se descomprime a {}; el máximo es {}",
            megabytes(size),
            megabytes(limit)
        ));
    }
    let ratio = size / compressed.max(1);
    if size >= RATIO_FROM_BYTES && ratio > MAX_RATIO {
        return Err(format!(
            "{name} está comprimido {} veces ({} que se vuelven {}); el máximo es {} veces",
            thousands(ratio),
            megabytes(compressed),
            megabytes(size),
            MAX_RATIO
        ));
    }
    Ok(())
}

/// Counts the shared strings (`<si>`) and checks the count the part
/// declares (`uniqueCount`), which calamine would reserve room for.
fn count_shared_strings(part: &mut impl Read, name: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let too_many = |count: u64| {
        format!(
            "{name} tiene {} textos; el máximo es {}",
            thousands(count),
            thousands(MAX_SHARED_STRINGS as u64)
        )
    };
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(part));
    let mut buf = Vec::new();
    let mut count = 0u64;
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                "si" => {
                    count += 1;
                    if count > MAX_SHARED_STRINGS as u64 {
                        return Err(too_many(count));
                    }
                }
                "sst" => {
                    if let Ok(Some(declared)) = e.try_get_attribute("uniqueCount") {
                        let declared = declared.value.trim().parse::<u64>().unwrap_or(u64::MAX);
                        if declared > MAX_SHARED_STRINGS as u64 {
                            return Err(too_many(declared));
                        }
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(quick_xml::Error::Io(_)) => return Err(damaged(name)),
            Err(_) => return Err(format!("{name} no es un XML legible")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_cells_are_named_as_excel_names_them() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16_383), "XFD");
        assert_eq!(address(1_048_575, 16_383), "XFD1048576");
    }

    #[test]
    fn an_extent_beyond_the_limits_is_refused_naming_the_limit() {
        let error = check_extent((0, 0), (1_048_575, 16_383), "declara").expect_err("too wide");
        assert_eq!(
            error,
            "la planilla declara 16.384 columnas (de A a XFD); el máximo es 200"
        );
        let error = check_extent((0, 0), (1_048_575, 12), "tiene").expect_err("too long");
        assert!(error.contains("1.048.575 filas de datos"), "{error}");
        assert!(error.contains("el máximo es 100.000"), "{error}");
        let error = check_extent((0, 0), (99_999, 199), "tiene").expect_err("too many cells");
        assert!(error.contains("20.000.000 celdas"), "{error}");
        assert!(check_extent((0, 0), (51_717, 12), "tiene").is_ok());
    }

    #[test]
    fn a_part_compressed_like_a_bomb_is_refused() {
        let error = check_size("xl/sharedStrings.xml", 128 << 20, 130 << 10).expect_err("bomb");
        assert!(error.contains("el máximo es 64 MB"), "{error}");
        let error = check_size("xl/worksheets/sheet1.xml", 40 << 20, 100 << 10).expect_err("ratio");
        assert!(error.contains("comprimido 409 veces"), "{error}");
        assert!(check_size("xl/worksheets/sheet1.xml", 42 << 20, 3 << 20).is_ok());
        assert!(
            check_size("xl/styles.xml", 100 << 10, 1 << 10).is_ok(),
            "small parts"
        );
    }
}
