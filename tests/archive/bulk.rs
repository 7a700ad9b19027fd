//! `sello bulk`: one document per valid row, every bad row reported once,
//! reruns that issue only what is missing (after fixing rows, or after a
//! kill), CSV and Excel alike, Latin-1 accents read right.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

pub const HEADERS: [&str; 13] = [
    "comuna",
    "Fecha de firma",
    "familia_id",
    "familia_nombre",
    "domicilio",
    "representante.nombre",
    "representante.identificacion",
    "representante_fecha_nacimiento",
    "criterio_representante",
    "lectura",
    "profesional_nombre",
    "profesional_cargo",
    "unidad",
];

/// A RUN with its check digit.
fn run_number(n: u32) -> String {
    let (mut sum, mut factor) = (0, 2);
    for digit in n.to_string().chars().rev() {
        sum += digit.to_digit(10).expect("digit") * factor;
        factor = if factor == 7 { 2 } else { factor + 1 };
    }
    let check = match 11 - sum % 11 {
        11 => "0".to_owned(),
        10 => "K".to_owned(),
        d => d.to_string(),
    };
    format!("{n}-{check}")
}

/// `count` families; the rows named in `bad` carry a mistake each.
pub fn rows(count: usize, bad: &[usize]) -> Vec<Vec<String>> {
    let example = crate::example("carta-compromiso");
    let text = |name: &str| example[name].as_str().expect("text").to_owned();
    (1..=count)
        .map(|i| {
            let mut row = vec![
                "La Pintana".to_owned(),
                "20/11/2026".to_owned(),
                format!("FAM-13112-{i:06}"),
                format!("Familia Núñez Ñandú {i}"),
                format!("Pasaje Los Aromos {i}"),
                format!("Carolina Muñoz {i}"),
                run_number(15_000_000 + i as u32 * 7),
                "1984-04-12".to_owned(),
                text("criterio_representante"),
                text("lectura"),
                text("profesional_nombre"),
                text("profesional_cargo"),
                text("unidad"),
            ];
            if bad.contains(&i) {
                if i % 2 == 0 {
                    row[1] = "31/02/2026".to_owned();
                } else {
                    row[6] = "15.000.035-0".to_owned();
                }
            }
            row
        })
        .collect()
}

fn write_csv(path: &Path, rows: &[Vec<String>], latin1: bool) {
    std::fs::write(path, csv_bytes(rows, latin1)).expect("csv");
}

/// A spreadsheet as a clerk's Excel saves it: semicolons, CRLF.
pub fn csv_bytes(rows: &[Vec<String>], latin1: bool) -> Vec<u8> {
    let mut text = HEADERS.join(";") + "\r\n";
    for row in rows {
        text.push_str(&row.join(";"));
        text.push_str("\r\n");
    }
    if latin1 {
        encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
    } else {
        text.into_bytes()
    }
}

fn write_xlsx(path: &Path, rows: &[Vec<String>]) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, header) in HEADERS.iter().enumerate() {
        sheet.write_string(0, column as u16, *header).expect("cell");
    }
    for (r, row) in rows.iter().enumerate() {
        for (column, cell) in row.iter().enumerate() {
            let r = r as u32 + 1;
            // Dates as real Excel dates, as a clerk's sheet has them.
            match chrono::NaiveDate::parse_from_str(cell, "%d/%m/%Y") {
                Ok(date) if column == 1 => {
                    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(
                        chrono::Datelike::year(&date) as u16,
                        chrono::Datelike::month(&date) as u8,
                        chrono::Datelike::day(&date) as u8,
                    )
                    .expect("date");
                    let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
                    sheet
                        .write_datetime_with_format(r, column as u16, &date, &format)
                        .expect("cell");
                }
                _ => {
                    sheet.write_string(r, column as u16, cell).expect("cell");
                }
            }
        }
    }
    workbook.save(path).expect("xlsx");
}

fn sello(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(dir)
        .args(args)
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .output()
        .expect("sello runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The issued cartas in the archive: (familia_id → folio count).
fn issued(dir: &Path) -> Vec<String> {
    let output = sello(
        dir,
        &[
            "archive",
            "search",
            "",
            "--form",
            "carta-compromiso",
            "--status",
            "emitido",
            "--per-page",
            "100",
            "--json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let results: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut titles: Vec<String> = results["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["expediente_title"].as_str().expect("title").to_owned())
        .collect();
    titles.sort();
    titles
}

#[test]
fn bad_rows_are_reported_once_good_rows_issued_once_and_a_fixed_file_issues_the_rest() {
    let dir = tempfile::tempdir().expect("temp");
    let input = dir.path().join("familias.csv");
    write_csv(&input, &rows(12, &[4, 7]), true);

    let dry = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "familias.csv",
            "--dry-run",
        ],
    );
    assert_eq!(dry.status.code(), Some(2), "{}", stderr(&dry));
    assert!(issued(dir.path()).is_empty(), "a dry run issues nothing");

    let first = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "familias.csv",
            "--errors",
            "errores.csv",
            "--at",
            "2026-11-22",
        ],
    );
    assert_eq!(first.status.code(), Some(2), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("10 documento(s) emitido(s)"),
        "{}",
        stderr(&first)
    );
    let report = std::fs::read_to_string(dir.path().join("errores.csv")).expect("report");
    let lines: Vec<&str> = report.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "linea;columna;problema;nombre");
    assert_eq!(lines.len(), 3, "each bad row once:\n{report}");
    // Line 5 is row 4 (the header is line 1); line 8 is row 7.
    assert!(lines[1].starts_with("5;Fecha de firma;"), "{}", lines[1]);
    assert!(
        lines[1].ends_with(";Carolina Muñoz 4"),
        "each row names its person: {}",
        lines[1]
    );
    assert!(lines[2].ends_with(";Carolina Muñoz 7"), "{}", lines[2]);
    assert!(
        lines[2].starts_with("8;representante.identificacion;"),
        "{}",
        lines[2]
    );
    let after_first = issued(dir.path());
    assert_eq!(after_first.len(), 10);
    assert!(
        after_first.contains(&"Familia Núñez Ñandú 1".to_owned()),
        "Latin-1 accents read right: {after_first:?}"
    );

    // The same file again issues nothing twice.
    let again = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "familias.csv",
            "--at",
            "2026-11-22",
        ],
    );
    assert!(
        stderr(&again).contains("0 documento(s) emitido(s); 10 ya estaban emitidos"),
        "{}",
        stderr(&again)
    );
    // Fixed, it issues exactly the two that were missing; re-saved with
    // other spacing and the RUN without dots, the rest are the same rows.
    let mut fixed_rows = rows(12, &[]);
    fixed_rows[0][5] = format!("  {}  ", fixed_rows[0][5].replace(' ', "  "));
    fixed_rows[1][6] = fixed_rows[1][6].replace('.', "");
    // A row repeated in the file is reported, not issued twice.
    fixed_rows.push(fixed_rows[2].clone());
    write_csv(&input, &fixed_rows, true);
    let fixed = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "familias.csv",
            "--at",
            "2026-11-22",
        ],
    );
    assert_eq!(fixed.status.code(), Some(2), "{}", stderr(&fixed));
    assert!(
        stderr(&fixed).contains("línea 14: repite la línea 4"),
        "{}",
        stderr(&fixed)
    );
    assert!(
        stderr(&fixed).contains("2 documento(s) emitido(s); 10 ya estaban emitidos"),
        "{}",
        stderr(&fixed)
    );
    let all = issued(dir.path());
    assert_eq!(all.len(), 12);
    let mut unique = all.clone();
    unique.dedup();
    assert_eq!(unique.len(), 12, "one carta per family");
}

#[test]
fn excel_and_csv_give_the_same_documents() {
    let rows = rows(6, &[3]);
    let csv_dir = tempfile::tempdir().expect("temp");
    write_csv(&csv_dir.path().join("f.csv"), &rows, false);
    let xlsx_dir = tempfile::tempdir().expect("temp");
    write_xlsx(&xlsx_dir.path().join("f.xlsx"), &rows);
    let from_csv = sello(
        csv_dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "f.csv",
            "--at",
            "2026-11-22",
        ],
    );
    let from_xlsx = sello(
        xlsx_dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "f.xlsx",
            "--at",
            "2026-11-22",
        ],
    );
    // Line, folio and verification link per document; the links' codes are random.
    let folios = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join("\t"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        folios(&from_csv),
        folios(&from_xlsx),
        "same lines and folios: {}",
        stderr(&from_xlsx)
    );
    assert!(
        String::from_utf8_lossy(&from_csv.stdout).contains("\thttp"),
        "the verification link of each"
    );
    assert_eq!(String::from_utf8_lossy(&from_csv.stdout).lines().count(), 5);
    let problems = |o: &Output| {
        stderr(o)
            .lines()
            .filter(|l| l.starts_with("línea"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(problems(&from_csv), problems(&from_xlsx));
    assert_eq!(issued(csv_dir.path()), issued(xlsx_dir.path()));
}

#[test]
fn a_run_killed_midway_is_finished_by_the_next_run() {
    let dir = tempfile::tempdir().expect("temp");
    write_csv(&dir.path().join("f.csv"), &rows(60, &[]), false);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(dir.path())
        .args([
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "f.csv",
            "--at",
            "2026-11-22",
        ])
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sello bulk starts");
    // Kill it once some documents are issued but wait, with the rest of
    // their batch, to be indexed for search; and some are not issued.
    let database = dir.path().join("data/sello.db");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while queued_for_search(&database) < 5 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(std::time::Instant::now() < deadline, "no progress");
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    let queued = queued_for_search(&database);
    assert!(queued >= 5, "killed before indexing ({queued} queued)");
    // Opening the archive indexes what the killed run left queued.
    let partial = issued(dir.path()).len();
    assert!(partial < 60, "killed before the end ({partial})");
    assert_eq!(found(dir.path(), "Núñez Ñandú"), partial);
    assert_eq!(queued_for_search(&database), 0);

    let rerun = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "f.csv",
            "--at",
            "2026-11-22",
        ],
    );
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    let all = issued(dir.path());
    assert_eq!(all.len(), 60, "every row issued");
    let mut unique = all.clone();
    unique.dedup();
    assert_eq!(unique.len(), 60, "no row issued twice");
    assert_eq!(found(dir.path(), "nunez nandu"), 60, "every carta searchable");
    let check = sello(dir.path(), &["archive", "audit-verify"]);
    assert!(check.status.success(), "{}", stderr(&check));
}

#[test]
fn ctrl_c_finishes_what_is_under_way_and_the_next_run_issues_the_rest() {
    let dir = tempfile::tempdir().expect("temp");
    write_csv(&dir.path().join("f.csv"), &rows(80, &[]), false);
    let child = Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(dir.path())
        .args([
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "f.csv",
            "--at",
            "2026-11-22",
        ])
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sello bulk starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while walk_count(&dir.path().join("data/documentos")) < 5 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(std::time::Instant::now() < deadline, "no progress");
    }
    // What a terminal sends on Ctrl-C.
    let signal = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(signal.success());
    let output = child.wait_with_output().expect("wait");
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{text}");
    assert!(text.contains("Deteniendo"), "{text}");
    let partial = issued(dir.path()).len();
    assert!(partial > 0 && partial < 80, "stopped midway ({partial})");
    assert!(
        text.contains(&format!("{partial} documento(s) emitido(s)")),
        "the report counts what was issued before stopping: {text}"
    );

    let rerun = sello(
        dir.path(),
        &[
            "bulk",
            "carta-compromiso",
            "--firmaran-en-papel",
            "--input",
            "f.csv",
            "--at",
            "2026-11-22",
        ],
    );
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert!(
        stderr(&rerun).contains(&format!(
            "{} documento(s) emitido(s); {partial} ya estaban emitidos",
            80 - partial
        )),
        "{}",
        stderr(&rerun)
    );
    assert!(
        !stderr(&rerun).contains("se interrumpió"),
        "a stop by Ctrl-C leaves no folio half-issued: {}",
        stderr(&rerun)
    );
    let mut all = issued(dir.path());
    all.dedup();
    assert_eq!(all.len(), 80, "every row issued once");
    assert_eq!(found(dir.path(), "Núñez Ñandú"), 80, "every carta searchable");
}

#[test]
fn a_lote_is_joined_for_printing_in_row_order_and_its_padron_is_issued_once() {
    let dir = tempfile::tempdir().expect("temp");
    write_csv(&dir.path().join("familias.csv"), &rows(5, &[3]), false);
    let args = [
        "bulk",
        "carta-compromiso",
        "--firmaran-en-papel",
        "--input",
        "familias.csv",
        "--at",
        "2026-11-22",
        "--merged",
        "imprimir.pdf",
        "--padron",
        "padron.pdf",
    ];
    let first = sello(dir.path(), &args);
    assert_eq!(first.status.code(), Some(2), "row 3 is bad: {}", stderr(&first));

    let merged = dir.path().join("imprimir.pdf");
    crate::assert_qpdf_check(&merged);
    let bytes = std::fs::read(&merged).expect("merged");
    assert!(
        !bytes.windows(10).any(|w| w == b"/ByteRange"),
        "the printed copy carries no signature fields"
    );
    let text = crate::pdf_text(&merged);
    // Words as read, whatever line a name wraps to.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Each carta comes in two copies, each naming its family twice.
    let positions: Vec<usize> = [1, 2, 4, 5]
        .iter()
        .map(|i| {
            let name = format!("Familia Núñez Ñandú {i}");
            assert_eq!(words.matches(&name).count(), 4, "{name} in both copies:\n{text}");
            words.find(&name).expect("name")
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in row order: {positions:?}"
    );
    assert!(!text.contains("Ñandú 3"), "the bad row is not printed");
    let pages = text.matches('\u{c}').count();
    assert!(
        pages >= 8 && pages.is_multiple_of(4),
        "two copies of four cartas: {pages} pages"
    );

    let padron = crate::pdf_text(&dir.path().join("padron.pdf"));
    assert!(padron.contains("PADRÓN DE DOCUMENTOS EMITIDOS"), "{padron}");
    for i in [1, 2, 4, 5] {
        assert!(padron.contains(&format!("Carolina Muñoz {i}")), "{padron}");
    }
    assert!(!padron.contains("Muñoz 3"), "{padron}");
    for n in 1..=4 {
        assert!(padron.contains(&format!("CA/2026/000{n}")), "{padron}");
    }
    let folio_of = |output: &Output| {
        let text = stderr(output);
        text.lines()
            .find_map(|l| l.strip_prefix("Padrón del lote: folio "))
            .and_then(|rest| rest.split(',').next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no padrón folio in: {text}"))
    };
    let padron_folio = folio_of(&first);
    assert!(padron_folio.contains("/PA/"), "a padrón's series: {padron_folio}");

    // Run again another day: nothing new is issued, and the padrón of the
    // same documents is the same document, though its date would differ.
    let next_day: Vec<&str> = args
        .iter()
        .map(|a| if *a == "2026-11-22" { "2026-11-23" } else { a })
        .collect();
    let again = sello(dir.path(), &next_day);
    assert!(
        stderr(&again).contains("0 documento(s) emitido(s); 4 ya estaban emitidos"),
        "{}",
        stderr(&again)
    );
    assert_eq!(folio_of(&again), padron_folio);
    assert_eq!(crate::pdf_text(&merged), text, "the same lote joins the same way");
    let verify = sello(dir.path(), &["verify", "padron.pdf"]);
    assert!(
        verify.status.success(),
        "the padrón is signed: {}",
        stderr(&verify)
    );
}

/// How many cartas a full-text search finds.
fn found(dir: &Path, text: &str) -> usize {
    let output = sello(
        dir,
        &["archive", "search", text, "--form", "carta-compromiso", "--json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let results: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(results["total_exact"], true, "{results}");
    results["total"].as_u64().expect("total") as usize
}

/// Documents a bulk run issued and has not indexed yet, read without
/// opening the archive (which would index them).
fn queued_for_search(database: &Path) -> i64 {
    let url = format!("sqlite://{}?mode=ro", database.display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let Ok(pool) = sqlx::SqlitePool::connect(&url).await else {
            return 0;
        };
        let count = sqlx::query_scalar("SELECT count(*) FROM search_queue")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        pool.close().await;
        count
    })
}

fn walk_count(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}

/// Two bulk runs of one office never overlap, on either database; another
/// office's run is not held up.
async fn one_bulk_run_at_a_time_per_office(fixture: &crate::Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let first = fixture
        .archive
        .lock_bulk(data_dir.path())
        .await
        .expect("first run");
    let second = fixture.archive.lock_bulk(data_dir.path()).await;
    assert!(
        matches!(second, Err(sello::archive::BulkLockError::Busy)),
        "{second:?}"
    );
    drop(first);
    // The database notices the closed session at once or nearly so.
    let mut again = fixture.archive.lock_bulk(data_dir.path()).await;
    for _ in 0..50 {
        if again.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        again = fixture.archive.lock_bulk(data_dir.path()).await;
    }
    assert!(again.is_ok(), "released when the run ends: {again:?}");
    if fixture.archive.store().backend() == sello::archive::Backend::Postgres {
        let other = fixture
            .archive
            .for_office(sello::archive::Office::new("OTRA", "Otra"));
        assert!(
            other.lock_bulk(data_dir.path()).await.is_ok(),
            "another office's run goes on"
        );
    }
}
crate::archive_conformance!(one_bulk_run_at_a_time_per_office);

/// A run indexes its documents for search in batches, beside the rows
/// still being issued: every row is issued once, none waits on a batch, and
/// every document is found when the run returns, on either database.
async fn a_run_indexes_its_documents_in_batches_beside_its_rows(fixture: &crate::Fixture) {
    use sello::bulk::{BulkIssuer, Mapping, Responsible, RowOutcome, prepare, read_csv};

    let form = std::sync::Arc::new(crate::CATALOG.get("carta-compromiso").expect("form").clone());
    let sheet = read_csv(&csv_bytes(&rows(30, &[]), false)).expect("csv");
    let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
    let issued_at = crate::at(22);
    let when = sello::forms::IssueDate::issued(&issued_at);
    let (ready, problems) = prepare(&form, &sheet, &mapping, None, when);
    assert!(problems.is_empty(), "{problems:?}");
    let issuer = BulkIssuer::new(
        fixture.archive.clone(),
        std::sync::Arc::new(sello::render::Renderer::new(&crate::config()).expect("renderer")),
        fixture.key.clone(),
        crate::BASE_URL,
        &Responsible {
            name: "Mtra. Guadalupe Torres Medina",
            cargo: "Directora",
            actor: "lucia",
        },
        issued_at,
    )
    .with_workers(2)
    // Several batches in a short run, each while rows are under way.
    .with_search_batch(4);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let outcomes = issuer.issue_rows(form, ready, &stop, &|_| {}).await;
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| !matches!(o, RowOutcome::Issued(_)))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(outcomes.len(), 30);
    let found = fixture
        .archive
        .search(&sello::archive::SearchQuery {
            text: "Núñez Ñandú".into(),
            per_page: 10,
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!((found.total, found.total_exact), (30, true));
    assert_eq!(
        fixture.archive.index_queued().await.expect("index"),
        0,
        "nothing left queued"
    );
    // Each document of the run has its entry in the transparency log,
    // indexes without gaps although two workers completed at once.
    assert_eq!(fixture.archive.verify_log().await.expect("log"), Ok(30));
}
crate::archive_conformance!(a_run_indexes_its_documents_in_batches_beside_its_rows);

/// A big lote's padrón comes in tomos, each issued once for its documents.
async fn a_big_lote_has_its_padron_in_tomos_each_issued_once(fixture: &crate::Fixture) {
    use sello::archive::NamedPerson;
    use sello::bulk::{IssuedRow, Lote, Responsible, TOMO_ROWS, issue_padron};

    let issuer = sello::issuer::Issuer::new(&crate::config(), fixture.key.clone()).expect("issuer");
    let catalog = sello::forms::Catalog::load(&crate::root().join("forms")).expect("catalog");
    let rows: Vec<IssuedRow> = (1..=TOMO_ROWS + 1)
        .map(|i| IssuedRow {
            line: i + 1,
            id: sello::public_id::PublicId::generate().expect("random"),
            row_id: i as i64,
            folio: format!("DIF/CA/2026/{i:05}"),
            url: String::new(),
            person: Some(NamedPerson {
                role: "representante".into(),
                name: format!("Persona Número {i}"),
                identity: format!("{}-K", 15_000_000 + i),
            }),
        })
        .collect();
    let lote = Lote {
        form: catalog.get("carta-compromiso").expect("form"),
        file_name: "familias.xlsx",
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
        until: None,
        rows: &rows,
    };
    let responsible = Responsible {
        name: "Lucía Hernández Salazar",
        cargo: "Auxiliar de Área",
        actor: "lucia",
    };
    let padron_form = catalog.get(sello::bulk::PADRON_FORM).expect("padrón form");
    let counted = std::sync::atomic::AtomicUsize::new(0);
    let count = |_: &sello::archive::IssueOrder<'_>, _: &sello::archive::Issued| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let tomos = issue_padron(
        &issuer,
        &count,
        &fixture.archive,
        padron_form,
        &lote,
        &responsible,
        crate::at(22),
    )
    .await
    .expect("issued");
    assert_eq!(tomos.len(), 2);
    assert_eq!(
        counted.load(std::sync::atomic::Ordering::Relaxed),
        2,
        "each tomo issued is told"
    );
    let text = |pdf: Vec<u8>| {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("t.pdf");
        std::fs::write(&path, pdf).expect("write");
        crate::pdf_text(&path)
    };
    let first = text(fixture.archive.pdf(&tomos[0]).await.expect("pdf"));
    assert!(first.contains("1 de 2"), "the tomo says which it is");
    assert!(
        first.contains(&format!("Persona Número {TOMO_ROWS}")),
        "the first tomo is full"
    );
    assert!(!first.contains(&format!("Persona Número {}", TOMO_ROWS + 1)));
    let second = text(fixture.archive.pdf(&tomos[1]).await.expect("pdf"));
    assert!(second.contains("2 de 2"), "{second}");
    let numbered = |first: usize| {
        let (number, line) = (first.to_string(), (first + 1).to_string());
        move |text_line: &str| {
            let mut cells = text_line.split_whitespace();
            cells.next() == Some(number.as_str()) && cells.next() == Some(line.as_str())
        }
    };
    assert!(
        second.lines().any(numbered(TOMO_ROWS + 1)),
        "the second tomo goes on counting from the first: {second}"
    );
    assert!(
        second.contains(&format!("Persona Número {}", TOMO_ROWS + 1)),
        "{second}"
    );

    // Asked again the next day: the same tomos.
    let again = issue_padron(
        &issuer,
        &count,
        &fixture.archive,
        padron_form,
        &lote,
        &responsible,
        crate::at(23),
    )
    .await
    .expect("the same");
    let folios = |records: &[sello::archive::DocumentRecord]| {
        records.iter().map(|r| r.folio.clone()).collect::<Vec<_>>()
    };
    assert_eq!(folios(&again), folios(&tomos));
    // The same documents from a spreadsheet sorted another way: the same.
    let mut reordered = rows.clone();
    reordered.reverse();
    let reordered = Lote {
        rows: &reordered,
        ..lote
    };
    let same = issue_padron(
        &issuer,
        &count,
        &fixture.archive,
        padron_form,
        &reordered,
        &responsible,
        crate::at(23),
    )
    .await
    .expect("the same");
    assert_eq!(folios(&same), folios(&tomos));
    assert_eq!(
        counted.load(std::sync::atomic::Ordering::Relaxed),
        2,
        "nothing issued again"
    );
}
crate::archive_conformance!(a_big_lote_has_its_padron_in_tomos_each_issued_once);
