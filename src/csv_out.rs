//! The CSV files Sello writes for people (problems of a lote, lists of
//! what was issued): semicolons and UTF-8 with a BOM, as Excel in Spanish
//! opens them, and no cell a spreadsheet program would run as a formula.

use std::borrow::Cow;

/// What makes Excel, LibreOffice or Google Sheets read a cell as a formula
/// (or strip it and read what follows as one): OWASP's list.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as text a spreadsheet shows and never evaluates: one that begins
/// like a formula gets a leading `'`, which the program shows as text.
pub fn inert(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV of `header` and `rows`, every cell made [`inert`].
pub fn for_spreadsheets<R, C>(header: &[&str], rows: R) -> Vec<u8>
where
    R: IntoIterator<Item = Vec<C>>,
    C: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    // Writing to memory fails only if memory does.
    let _ = writer.write_record(header.iter().map(|h| inert(h).into_owned()));
    for row in rows {
        let _ = writer.write_record(row.iter().map(|c| inert(c.as_ref()).into_owned()));
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_begins_like_a_formula_is_written_as_text() {
        for cell in ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(inert(cell), format!("'{cell}"));
        }
        for cell in ["", "15.432.876-9", "Fecha de firma", "'ya citado", " =1"] {
            assert_eq!(inert(cell), cell);
        }
    }

    #[test]
    fn every_cell_of_a_written_csv_is_inert_header_included() {
        let bytes = for_spreadsheets(&["=a", "b"], [vec!["@c", "d"], vec!["e", "-f"]]);
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert_eq!(text, "\u{feff}'=a;b\n'@c;d\ne;'-f\n");
    }
}
