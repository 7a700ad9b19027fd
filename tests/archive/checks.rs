//! `fsck` checks every PDF against its row and finds orphans; `export`
//! writes an expediente that can be checked without Sello.

use std::io::Read as _;

use sello::archive::sha256_hex;

use crate::{Fixture, example};

/// Where the folder store keeps a blob.
fn blob_path(fixture: &Fixture, sha256: &str) -> std::path::PathBuf {
    fixture
        .blobs_dir
        .path()
        .join(&sha256[0..2])
        .join(&sha256[2..4])
        .join(format!("{sha256}.pdf"))
}

async fn fsck_finds_missing_damaged_and_orphaned_pdfs(fixture: &Fixture) {
    let archive = &fixture.archive;
    let one = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let two = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let clean = archive.fsck(false).await.expect("fsck");
    assert!(clean.is_clean(), "{clean:?}");
    assert_eq!(clean.documents_checked, 2);
    assert_eq!(clean.database, "ok");

    let one_sha = one.pdf_sha256.clone().expect("sha");
    let two_sha = two.pdf_sha256.clone().expect("sha");
    std::fs::remove_file(blob_path(fixture, &one_sha)).expect("remove");
    std::fs::write(blob_path(fixture, &two_sha), b"%PDF-1.7 otra cosa").expect("damage");
    let orphan = sha256_hex(b"huerfano");
    std::fs::create_dir_all(blob_path(fixture, &orphan).parent().expect("dir")).expect("dir");
    std::fs::write(blob_path(fixture, &orphan), b"huerfano").expect("orphan");

    let report = archive.fsck(false).await.expect("fsck");
    assert!(!report.is_clean());
    let problems: Vec<(&str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.folio.as_str(), p.problem.as_str()))
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|(f, p)| *f == one.folio && p.contains("falta"))
    );
    assert!(
        problems
            .iter()
            .any(|(f, p)| *f == two.folio && p.contains("dañado"))
    );
    assert_eq!(report.orphans, vec![orphan.clone()]);
    assert_eq!(report.orphans_removed, 0);

    let repaired = archive.fsck(true).await.expect("fsck");
    assert_eq!(repaired.orphans_removed, 1);
    assert!(!blob_path(fixture, &orphan).exists());
    // Missing and damaged PDFs are reported, never "repaired" away.
    assert_eq!(repaired.problems.len(), 2);
}
crate::archive_conformance!(fsck_finds_missing_damaged_and_orphaned_pdfs);

async fn an_exported_expediente_can_be_checked_without_sello(fixture: &Fixture) {
    let archive = &fixture.archive;
    let carta = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let plan = fixture
        .issue("plan-intervencion", &example("plan-intervencion"))
        .await;
    let data = example("plan-intervencion");
    assert_eq!(
        data["familia_id"],
        example("carta-compromiso")["familia_id"],
        "the examples are of one family"
    );
    archive
        .annul(&carta.folio, "Firmada por error", "director", None)
        .await
        .expect("annul");

    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("expediente.zip");
    let summary = archive
        .export_expediente(carta.expediente_id, &out)
        .await
        .expect("export");
    let expected = 2;
    assert_eq!(summary.documents, expected);

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).expect("zip")).expect("zip");
    let mut read = |name: &str| {
        let mut bytes = Vec::new();
        zip.by_name(name)
            .expect(name)
            .read_to_end(&mut bytes)
            .expect("read");
        bytes
    };
    let manifest: serde_json::Value = serde_json::from_slice(&read("manifest.json")).expect("JSON");
    let documents = manifest["documentos"].as_array().expect("documents");
    assert_eq!(documents.len(), expected);
    let entry = documents
        .iter()
        .find(|d| d["folio"] == carta.folio.as_str())
        .expect("carta");
    assert_eq!(entry["estado"], "anulado");
    assert_eq!(entry["anulacion"]["motivo"], "Firmada por error");
    assert_eq!(entry["firmas"][0]["key_id"], fixture.key.key_id.to_string());
    assert!(entry["verificacion"].as_str().is_some_and(|u| u.contains("/v/")));
    // Every file's SHA-256 matches SHA256SUMS, and each PDF its row.
    let sums = String::from_utf8(read("SHA256SUMS")).expect("utf-8");
    assert_eq!(sums.lines().count(), expected + 2);
    for line in sums.lines() {
        let (sha, name) = line.split_once("  ").expect("sum line");
        assert_eq!(sha256_hex(&read(name)), sha, "{name}");
    }
    let pdf = read(entry["archivo"].as_str().expect("file"));
    assert_eq!(Some(sha256_hex(&pdf)), carta.pdf_sha256);
    let audit: serde_json::Value = serde_json::from_slice(&read("auditoria.json")).expect("JSON");
    let actions: Vec<&str> = audit
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"expediente.abierto") && actions.contains(&"documento.anulado"),
        "{actions:?}"
    );
    assert!(documents.iter().any(|d| d["folio"] == plan.folio.as_str()));
    assert!(matches!(
        archive.export_expediente(99_999, &out).await,
        Err(sello::archive::ArchiveError::ExpedienteNotFound(_))
    ));
}
crate::archive_conformance!(an_exported_expediente_can_be_checked_without_sello);

async fn an_expediente_with_a_spoiled_folio_still_exports(fixture: &Fixture) {
    let archive = &fixture.archive;
    let data = example("oficio-comision");
    let issued = fixture.issue("oficio-comision", &data).await;
    let failed = archive
        .issue(&crate::order("oficio-comision", &data, None, None), |_| {
            Err(sello::issue::IssueError::Other("sin papel".into()))
        })
        .await;
    assert!(failed.is_err());
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("e.zip");
    let summary = archive
        .export_expediente(issued.expediente_id, &out)
        .await
        .expect("exports");
    assert_eq!(summary.documents, 1, "one PDF");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).expect("zip")).expect("zip");
    let mut manifest = String::new();
    zip.by_name("manifest.json")
        .expect("manifest")
        .read_to_string(&mut manifest)
        .expect("read");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("JSON");
    let spoiled = manifest["documentos"]
        .as_array()
        .expect("documents")
        .iter()
        .find(|d| d["folio"] == "DIF-SLP/OF/2026/0002")
        .expect("the spoiled folio is listed");
    assert_eq!(spoiled["estado"], "anulado");
    assert!(spoiled["archivo"].is_null());
    // Writing where one cannot is the user's mistake, said plainly.
    let nowhere = dir.path().join("no/such/folder/e.zip");
    assert!(matches!(
        archive.export_expediente(issued.expediente_id, &nowhere).await,
        Err(sello::archive::ArchiveError::Refused(_))
    ));
}
crate::archive_conformance!(an_expediente_with_a_spoiled_folio_still_exports);
