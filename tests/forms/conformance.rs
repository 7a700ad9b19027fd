//! Every form's example, issued and signed, conforms to PDF/A-3b and to
//! PDF/UA-1 as an independent validator judges it (`page-validation`,
//! installed by `scripts/test`): the archive keeps what it can read in
//! thirty years, and a blind person's screen reader reads what was signed.

use std::path::Path;
use std::process::Command;

use crate::helpers::{CATALOG, TINY_PNG, example, image_count, issue_as_tramite, render_draft_with};

/// Validates `files` against both profiles in one Python process; returns,
/// per file that fails, the profile and the rules it breaks.
fn failures(files: &[(String, std::path::PathBuf)]) -> Vec<String> {
    let script = r#"
import json, sys, page
for line in sys.stdin:
    name, path = json.loads(line)
    for profile in ("3b", "ua1"):
        report = page.validate_pdf(path, profile=profile)
        if not report.is_compliant:
            rules = sorted({f.rule_id for f in report.failures})
            print(f"{name}: {profile}: {', '.join(rules)}")
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        for (name, path) in files {
            let line = serde_json::json!([name, path.display().to_string()]);
            writeln!(stdin, "{line}").expect("write");
        }
    }
    let output = child.wait_with_output().expect("validator finishes");
    assert!(
        output.status.success(),
        "the validator failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_issued(dir: &Path, id: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{id}.pdf"));
    std::fs::write(&path, issue_as_tramite(id, &example(id))).expect("write pdf");
    path
}

#[test]
fn every_issued_form_is_pdf_a_3b_and_pdf_ua_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<(String, std::path::PathBuf)> = CATALOG
        .iter()
        .map(|form| {
            let id = form.id.as_str();
            (id.to_owned(), write_issued(dir.path(), id))
        })
        .collect();
    assert!(files.len() > 20, "the whole catalog: {}", files.len());
    let failed = failures(&files);
    assert!(failed.is_empty(), "not conformant:\n{}", failed.join("\n"));
}

#[test]
fn a_letterhead_logo_and_a_signature_drawn_on_screen_keep_it_conformant() {
    // Both are images, which PDF/UA-1 requires to say what they show.
    let dir = tempfile::tempdir().expect("temp dir");
    let logo = dir.path().join("escudo.png");
    std::fs::write(&logo, TINY_PNG).expect("write logo");
    let pdf = render_draft_with(
        &[("SELLO_LOGO", logo.to_str().expect("utf-8"))],
        "carta-compromiso",
        &example("carta-compromiso"),
        vec![("representante".into(), TINY_PNG.to_vec())],
    );
    // The logo and the drawing.
    let images = image_count(&pdf);
    assert!(
        images >= 2,
        "the logo and the drawn signature are printed: {images} image(s)"
    );
    let path = dir.path().join("carta-compromiso.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let failed = failures(&[("carta-compromiso con logotipo y firma dibujada".into(), path)]);
    assert!(failed.is_empty(), "not conformant:\n{}", failed.join("\n"));
}

#[test]
fn a_signature_field_without_its_description_is_not_conformant() {
    // The check can fail: the same document, its signature field's /TU
    // (what a screen reader says of it) renamed away, breaks PDF/UA.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_issued(dir.path(), "oficio-comision");
    let mut bytes = std::fs::read(&path).expect("read");
    let at = bytes
        .windows(3)
        .rposition(|w| w == b"/TU")
        .expect("the widget has /TU");
    bytes[at..at + 3].copy_from_slice(b"/TX");
    std::fs::write(&path, bytes).expect("write");
    let failed = failures(&[("oficio-comision".into(), path)]);
    assert!(
        failed.iter().any(|f| f.contains(": ua1: ") && f.contains("TU")),
        "a signature field without /TU went unnoticed: {failed:?}"
    );
}

#[test]
fn a_stream_whose_data_ends_in_a_carriage_return_is_made_conformant() {
    // About one rendering in thirty has a compressed stream whose last byte
    // is a CR, which Typst follows with a lone LF: find one by changing
    // the event's name, then check the validator reads the raw file as
    // broken and the file Sello issues from it as conformant.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut data = example("oficio-comision");
    let (raw, fixed) = (0..600)
        .find_map(|n| {
            data["evento"] = serde_json::json!(format!("Capacitación regional número {n}"));
            let raw = render_draft_with(&[], "oficio-comision", &data, Vec::new());
            let fixed = sello::pdf::unambiguous_stream_ends(raw.clone()).expect("reads");
            (fixed != raw).then_some((raw, fixed))
        })
        .expect("a rendering with a stream ending in a CR");
    // Only carriage returns were added.
    assert!(fixed.len() > raw.len());
    let (raw_path, fixed_path) = (dir.path().join("raw.pdf"), dir.path().join("fixed.pdf"));
    std::fs::write(&raw_path, &raw).expect("write");
    std::fs::write(&fixed_path, &fixed).expect("write");
    let failed = failures(&[("raw".into(), raw_path), ("fixed".into(), fixed_path.clone())]);
    assert!(
        failed.iter().any(|f| f.starts_with("raw: 3b: ")),
        "the validator saw nothing wrong in the raw file: {failed:?}"
    );
    assert!(
        !failed.iter().any(|f| f.starts_with("fixed: ")),
        "not conformant: {failed:?}"
    );
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&fixed_path)
        .output()
        .expect("qpdf runs");
    assert!(
        check.status.success() && check.stderr.is_empty(),
        "qpdf: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}
