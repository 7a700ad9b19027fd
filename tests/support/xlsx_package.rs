//! The parts every minimal workbook has around its sheet: content types,
//! relationships and the workbook naming one sheet. Shared by the tests
//! that build hostile spreadsheets and by the fuzz targets.

/// SpreadsheetML's main namespace, for the sheet's own XML (the fuzz
/// targets take their sheet as it comes, so they do not use it).
#[allow(dead_code)]
pub const SPREADSHEET_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

/// The package's fixed parts, by name; with `shared_strings`, the workbook
/// also points to `xl/sharedStrings.xml`. The sheet is
/// `xl/worksheets/sheet1.xml`.
pub fn package_parts(shared_strings: bool) -> [(&'static str, String); 4] {
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let strings_rel = if shared_strings {
        format!("<Relationship Id=\"rId2\" Type=\"{REL}/sharedStrings\" Target=\"sharedStrings.xml\"/>")
    } else {
        String::new()
    };
    [
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>"
                .to_owned(),
        ),
        (
            "_rels/.rels",
            format!(
                "<?xml version=\"1.0\"?><Relationships xmlns=\"{PKG}\"><Relationship Id=\"rId1\" \
                 Type=\"{REL}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                "<?xml version=\"1.0\"?><workbook xmlns=\"{SPREADSHEET_NS}\" xmlns:r=\"{REL}\"><sheets>\
                 <sheet name=\"Hoja1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                "<?xml version=\"1.0\"?><Relationships xmlns=\"{PKG}\">\
                 <Relationship Id=\"rId1\" Type=\"{REL}/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
                 {strings_rel}</Relationships>"
            ),
        ),
    ]
}
