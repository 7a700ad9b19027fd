//! The printed QR as a cheap phone reads it: hundreds of issued documents,
//! every page rasterised at 150 dpi and read by two independent decoders,
//! zbar and zxing-cpp, on the page and on a simulated photo of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use sello::keys::KeyAlgorithm;
use sello::signed_pdf::{IssueRequest, IssuedDocument, issue};
use serde_json::Value;

use crate::helpers::{BASE_URL, CATALOG, RENDERER, TestKey, example, issue_time, root};

/// How many documents, at least: each with its own code and folio.
const DOCUMENTS: usize = 200;
/// Check symbols outside QR's alphanumeric set, which used to push the
/// code to a denser version; the run goes on until it has issued a few.
const AWKWARD_SYMBOLS: [char; 2] = ['~', '='];
const AWKWARD_CODES: usize = 4;
/// A page as a cheap printer and a scan of it give it.
const DPI: &str = "150";
/// The phone's photo: the lower part of the page, where the QR is, seen
/// sharp at 250 dpi, tilted by 5°, blurred by the lens, sampled at 90 %
/// (225 dpi: a frame of about 5 megapixels, less than a cheap phone's
/// camera, would hold the whole page) and saved as JPEG of quality 60.
/// At 80 % (200 dpi) zbar missed one photo of 200 in one run of four.
const CAPTURE_DPI: &str = "250";
/// The capture's window at [`CAPTURE_DPI`] on a letter page (2125 × 2750
/// pixels): its lower 45 %, full width.
const CAPTURE_WINDOW: [&str; 8] = ["-x", "0", "-y", "1512", "-W", "2125", "-H", "1238"];
const PHOTO: [&str; 4] = ["0.9", "0.8", "5", "60"];

struct Scan {
    /// What zbar read on each page, in order.
    zbar: Vec<String>,
    /// What zxing-cpp read on each page: text and QR version.
    zxing: Vec<Vec<(String, i64)>>,
}

/// Issues documents of the oficio until there are enough, and enough with
/// each awkward check symbol.
fn issue_documents(key: &TestKey) -> Vec<IssuedDocument> {
    let data = example("oficio-comision");
    let mut documents = Vec::new();
    let awkward = |documents: &[IssuedDocument], symbol: char| {
        documents
            .iter()
            .filter(|d| d.code.display().ends_with(symbol))
            .count()
    };
    // Each symbol ends 1 code in 37: 2,000 documents miss four of one with
    // a probability far below 1e-20.
    while documents.len() < DOCUMENTS
        || AWKWARD_SYMBOLS
            .iter()
            .any(|s| awkward(&documents, *s) < AWKWARD_CODES)
    {
        assert!(documents.len() < 2000, "too few codes with awkward check symbols");
        let request = IssueRequest {
            form: CATALOG.get("oficio-comision").expect("form"),
            data: &data,
            issued_at: issue_time(),
            folio: Some(format!("DIF-SLP/OF/2026/{:04}", documents.len() + 1)),
            signer: "Mtra. Guadalupe Torres Medina",
            cargo: "Directora del Sistema DIF Municipal",
            endorsements: &[],
            hand_signatures: &[],
            on_paper: &[],
            citations: &[],
        };
        documents.push(issue(&RENDERER, &key.key, BASE_URL, &request).expect("issues"));
    }
    documents
}

/// Runs `work` on every item, on two threads (the machines we test on).
fn on_two_threads<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let half = items.len().div_ceil(2).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(half)
            .map(|chunk| scope.spawn(|| chunk.iter().map(&work).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    })
}

/// Every page of `pdf` as a PNG at `dpi`, in order, named `<pdf>-<tag>-N.png`.
fn rasterise(pdf: &Path, dpi: &str, window: &[&str], tag: &str) -> Vec<PathBuf> {
    let prefix = format!("{}-{tag}", pdf.with_extension("").display());
    let status = Command::new("pdftoppm")
        .args(["-png", "-gray", "-r", dpi])
        .args(window)
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm runs");
    assert!(status.success());
    let name = Path::new(&prefix)
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(pdf.parent().expect("dir"))
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "png")
                && p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(&format!("{name}-")))
        })
        .collect();
    pages.sort();
    pages
}

fn zbar(image: &Path) -> String {
    let output = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(image)
        .output()
        .expect("zbarimg runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn zxing(found: &Value) -> Vec<(String, i64)> {
    found
        .as_array()
        .expect("codes")
        .iter()
        .map(|code| {
            (
                code["text"].as_str().expect("text").to_owned(),
                code["version"].as_i64().expect("version"),
            )
        })
        .collect()
}

/// Reads each page, and the photo made from its capture, with both decoders.
fn scan(pages: &[PathBuf], captures: &[PathBuf]) -> (Scan, Scan) {
    // One Python process for every page: zxing-cpp, and Pillow for the photos.
    let output = Command::new("python3")
        .arg(root().join("tests/signing/phone_scan.py"))
        .args(PHOTO)
        .args(
            pages
                .iter()
                .zip(captures)
                .flat_map(|(page, capture)| [page, capture]),
        )
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "phone_scan.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), pages.len(), "one answer per page");
    let photos: Vec<PathBuf> = lines
        .iter()
        .map(|line| PathBuf::from(line["photo"].as_str().expect("photo")))
        .collect();
    let page_scan = Scan {
        zbar: on_two_threads(pages, |page| zbar(page)),
        zxing: lines.iter().map(|line| zxing(&line["page_codes"])).collect(),
    };
    let photo_scan = Scan {
        zbar: on_two_threads(&photos, |photo| zbar(photo)),
        zxing: lines.iter().map(|line| zxing(&line["photo_codes"])).collect(),
    };
    (page_scan, photo_scan)
}

/// What went wrong on page `index`, if anything; no code is printed.
fn problems(scan: &Scan, index: usize, link: &str, version: i16, what: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if scan.zbar[index] != link {
        problems.push(format!("{what} {index}: zbar did not read the link"));
    }
    match scan.zxing[index].as_slice() {
        [(text, read_version)] if text == link && *read_version == i64::from(version) => {}
        [(text, read_version)] if text == link => problems.push(format!(
            "{what} {index}: zxing-cpp read version {read_version}, not {version}"
        )),
        _ => problems.push(format!("{what} {index}: zxing-cpp did not read the link")),
    }
    problems
}

#[test]
fn hundreds_of_issued_documents_scan_at_150_dpi_and_in_a_phone_photo_with_two_decoders() {
    let key = TestKey::example(KeyAlgorithm::Ed25519);
    let documents = issue_documents(&key);
    let version = documents[0].qr_version;
    assert!(
        documents.iter().all(|d| d.qr_version == version),
        "every code has QR version {version}"
    );

    let dir = tempfile::tempdir().expect("temp");
    let pdfs: Vec<PathBuf> = documents
        .iter()
        .enumerate()
        .map(|(i, document)| {
            let path = dir.path().join(format!("d{i:04}.pdf"));
            std::fs::write(&path, &document.pdf).expect("write");
            path
        })
        .collect();
    let rasters = on_two_threads(&pdfs, |pdf| {
        (
            rasterise(pdf, DPI, &[], "page"),
            rasterise(pdf, CAPTURE_DPI, &CAPTURE_WINDOW, "capture"),
        )
    });
    let (mut pages, mut captures, mut links) = (Vec::new(), Vec::new(), Vec::new());
    for (document, (raster, capture)) in documents.iter().zip(rasters) {
        assert_eq!(raster.len(), document.pages);
        assert_eq!(capture.len(), document.pages);
        links.extend(std::iter::repeat_n(document.qr_link.as_str(), raster.len()));
        pages.extend(raster);
        captures.extend(capture);
    }
    assert!(pages.len() >= DOCUMENTS);

    let (page_scan, photo_scan) = scan(&pages, &captures);
    let mut failures = Vec::new();
    for (index, link) in links.iter().enumerate() {
        failures.extend(problems(&page_scan, index, link, version, "page"));
        failures.extend(problems(&photo_scan, index, link, version, "photo of page"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} pages (QR version {version}):\n{}",
        failures.len(),
        pages.len(),
        failures.join("\n")
    );
}
