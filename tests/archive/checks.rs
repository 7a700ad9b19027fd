//! `fsck` checks every blob against the rows that point at it and moves
//! orphans to quarantine; `export` writes an expediente that can be checked
//! without Sello.

use std::io::Read as _;

use axum::http::StatusCode;
use sello::archive::{NewHandSignature, QUARANTINE, SignedItem, Taker, sha256_hex};
use serde_json::json;

use crate::http::Service;
use crate::in_person::{base64, draw, drawn_png};
use crate::workflows::{draft, staff, step};
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

/// Where `fsck --repair` moves a blob no row points at.
fn quarantined_path(fixture: &Fixture, sha256: &str) -> std::path::PathBuf {
    fixture
        .blobs_dir
        .path()
        .join(QUARANTINE)
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
    assert_eq!(report.orphans_quarantined, 0);

    let repaired = archive.fsck(true).await.expect("fsck");
    assert_eq!(repaired.orphans_quarantined, 1);
    assert!(!blob_path(fixture, &orphan).exists());
    assert_eq!(
        std::fs::read(quarantined_path(fixture, &orphan)).expect("kept in quarantine"),
        b"huerfano"
    );
    // Missing and damaged PDFs are reported, never "repaired" away.
    assert_eq!(repaired.problems.len(), 2);
    assert!(!repaired.is_clean());
}
crate::archive_conformance!(fsck_finds_missing_damaged_and_orphaned_pdfs);

async fn fsck_repair_keeps_every_drawing_and_scan_and_quarantines_only_strays(fixture: &Fixture) {
    let archive = &fixture.archive;
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let (apoyo, jefa) = (&staff.auxiliar, &staff.directora);

    // A carta signed on screen by the representative (a first drawing,
    // smudged and drawn again), then a scan of the signed paper attached.
    let id = draft(&service, apoyo, "carta-compromiso", &example("carta-compromiso")).await;
    step(&service, apoyo, id, "submit", None, StatusCode::OK).await;
    let smudged = drawn_png(600, 200, 1);
    let drawing = drawn_png(600, 200, 3);
    for png in [&smudged, &drawing] {
        let (status, body) = draw(&service, apoyo, id, "representante", png, true).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    step(&service, apoyo, id, "finish", None, StatusCode::OK).await;
    let issued = step(&service, jefa, id, "sign", None, StatusCode::CREATED).await;
    let document = issued["issued"]["document"].clone();
    let uri = format!(
        "/api/v1/documents/{}/hand-signatures",
        crate::public_id(&document["id"])
    );
    let scan = drawn_png(800, 300, 5);
    let attached = service
        .api(
            "POST",
            &uri,
            Some(apoyo),
            Some(
                json!({"kind": "papel", "purpose": "Carta firmada en papel", "media_type": "image/png",
                        "content_base64": base64(&scan), "name": "Representante"}),
            ),
        )
        .await;
    assert_eq!(attached.status, StatusCode::CREATED, "{}", attached.text());
    let scan_id = attached.json()["hand_signatures"]
        .as_array()
        .expect("list")
        .iter()
        .find(|h| h["kind"] == "papel")
        .expect("the scan")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let scan_uri = format!("{uri}/{scan_id}");
    let pdf_sha = document["pdf_sha256"].as_str().expect("sha").to_owned();
    let evidence = [
        sha256_hex(&smudged),
        sha256_hex(&drawing),
        sha256_hex(&scan),
        pdf_sha,
    ];

    let repaired = archive.fsck(true).await.expect("fsck");
    assert!(repaired.is_clean(), "{repaired:?}");
    assert!(
        repaired.orphans.is_empty(),
        "no evidence is an orphan: {:?}",
        repaired.orphans
    );
    assert_eq!(repaired.orphans_quarantined, 0);
    assert_eq!(repaired.blobs_checked, 4, "the PDF, two drawings and the scan");
    for sha in &evidence {
        assert!(blob_path(fixture, sha).is_file(), "{sha} is still in the store");
        assert!(!quarantined_path(fixture, sha).exists());
    }
    let file = service.api("GET", &scan_uri, Some(jefa), None).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.text());
    assert_eq!(file.bytes, scan);

    // A stray blob goes to quarantine, whole; nothing else moves.
    let stray = sha256_hex(b"suelto");
    std::fs::create_dir_all(blob_path(fixture, &stray).parent().expect("dir")).expect("dir");
    std::fs::write(blob_path(fixture, &stray), b"suelto").expect("stray");
    let repaired = archive.fsck(true).await.expect("fsck");
    assert_eq!(repaired.orphans, vec![stray.clone()]);
    assert_eq!(repaired.orphans_quarantined, 1);
    assert!(!blob_path(fixture, &stray).exists(), "out of the store");
    assert_eq!(
        std::fs::read(quarantined_path(fixture, &stray)).expect("quarantined"),
        b"suelto"
    );
    for sha in &evidence {
        assert!(blob_path(fixture, sha).is_file(), "{sha} is still in the store");
    }
    assert!(archive.fsck(true).await.expect("fsck").orphans.is_empty());

    // A scan removed by hand is damage, named by its document; never «íntegro».
    std::fs::remove_file(blob_path(fixture, &sha256_hex(&scan))).expect("remove");
    let report = archive.fsck(true).await.expect("fsck");
    assert!(!report.is_clean());
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let problem = &report.problems[0];
    assert_eq!(problem.folio, document["folio"].as_str().expect("folio"));
    assert_eq!(problem.sha256, sha256_hex(&scan));
    assert!(
        problem.problem.contains("falta") && problem.problem.contains("escaneo"),
        "{problem:?}"
    );

    // A referenced blob found in quarantine (its row committed while a
    // repair moved it) is reported, and brought back by the next repair.
    let drawing_sha = sha256_hex(&drawing);
    let quarantine = quarantined_path(fixture, &drawing_sha);
    std::fs::create_dir_all(quarantine.parent().expect("dir")).expect("dir");
    std::fs::rename(blob_path(fixture, &drawing_sha), &quarantine).expect("move");
    let report = archive.fsck(false).await.expect("fsck");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.sha256 == drawing_sha && p.problem.contains("cuarentena")),
        "{:?}",
        report.problems
    );
    let report = archive.fsck(true).await.expect("fsck");
    assert_eq!(report.restored, vec![drawing_sha.clone()]);
    assert!(blob_path(fixture, &drawing_sha).is_file());
    assert!(!report.problems.iter().any(|p| p.sha256 == drawing_sha));
}
crate::archive_conformance!(fsck_repair_keeps_every_drawing_and_scan_and_quarantines_only_strays);

/// A drawing or scan is in the store a moment before its row is committed:
/// a repair in that moment moves no orphan, since the blob may be one of
/// them; once the write is abandoned (or its announcement is as old as a
/// crash's), the next repair moves them all.
async fn fsck_repair_moves_no_orphan_while_a_blob_waits_for_its_row(fixture: &Fixture) {
    let archive = &fixture.archive;
    let stray = sha256_hex(b"suelto");
    std::fs::create_dir_all(blob_path(fixture, &stray).parent().expect("dir")).expect("dir");
    std::fs::write(blob_path(fixture, &stray), b"suelto").expect("stray");
    let staged = archive
        .stage_blob(b"dibujo a medio guardar".to_vec())
        .await
        .expect("staged");
    let drawing = staged.sha256.clone();
    assert_eq!(drawing, sha256_hex(b"dibujo a medio guardar"));

    let report = archive.fsck(true).await.expect("fsck");
    let mut orphans = vec![stray.clone(), drawing.clone()];
    orphans.sort();
    assert_eq!(report.orphans, orphans, "no row points at either yet");
    assert_eq!(report.orphans_quarantined, 0);
    assert!(blob_path(fixture, &drawing).is_file(), "the staged blob stays");
    assert!(blob_path(fixture, &stray).is_file(), "and so does every orphan");

    archive.abandon_staged(staged).await.expect("abandon");
    let report = archive.fsck(true).await.expect("fsck");
    assert_eq!(report.orphans_quarantined, 2);
    assert!(quarantined_path(fixture, &drawing).is_file());
    assert!(quarantined_path(fixture, &stray).is_file());

    // A signature refused after its blob was stored withdraws its stage.
    let taker = Taker {
        user_id: 1,
        username: "apoyo",
        name: "Apoyo",
        cargo: "Auxiliar",
    };
    let scan = b"escaneo de un documento que no existe".to_vec();
    let refused = archive
        .add_hand_signature(
            NewHandSignature {
                item: SignedItem::Document(999_999),
                signer: "",
                name: "Representante",
                kind: "papel",
                purpose: "Carta firmada en papel",
                bytes: scan.clone(),
                media_type: "image/png",
                consent: true,
                device: "escáner",
            },
            &taker,
        )
        .await;
    assert!(refused.is_err(), "no such document");
    let report = archive.fsck(true).await.expect("fsck");
    assert_eq!(report.orphans, vec![sha256_hex(&scan)]);
    assert_eq!(report.orphans_quarantined, 1, "nothing left announced");

    // An announcement left by a crash stops repairs only for a while.
    let old = "2000-01-01T00:00:00.000000Z";
    let sql = "INSERT INTO blob_writes (started_at) VALUES ($1)";
    sqlx::query(sql)
        .bind(old)
        .execute(archive.store().pool())
        .await
        .expect("announce");
    let late = sha256_hex(b"suelto otra vez");
    std::fs::create_dir_all(blob_path(fixture, &late).parent().expect("dir")).expect("dir");
    std::fs::write(blob_path(fixture, &late), b"suelto otra vez").expect("stray");
    let report = archive.fsck(true).await.expect("fsck");
    assert_eq!(report.orphans_quarantined, 1, "a crash's announcement is cleared");
    assert!(quarantined_path(fixture, &late).is_file());
}
crate::archive_conformance!(fsck_repair_moves_no_orphan_while_a_blob_waits_for_its_row);

/// Every `*sha256` column of the schema is either a blob fsck looks for or
/// a hash of something never stored: a new kind of stored file cannot be
/// forgotten (and its blobs taken for orphans).
async fn every_hash_column_is_known_to_fsck(fixture: &Fixture) {
    let store = fixture.archive.store();
    let sql = match store.backend() {
        sello::archive::Backend::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND p.name LIKE '%sha256%'"
        }
        sello::archive::Backend::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND column_name LIKE '%sha256%'"
        }
    };
    let columns: Vec<(String, String)> = sqlx::query_as(sql)
        .fetch_all(store.pool())
        .await
        .expect("columns");
    assert!(columns.len() >= sello::archive::BLOB_COLUMNS.len(), "{columns:?}");
    for (table, column) in &columns {
        let known = |list: &[(&str, &str)]| list.iter().any(|(t, c)| t == table && c == column);
        assert!(
            known(sello::archive::BLOB_COLUMNS) || known(sello::archive::NOT_BLOB_COLUMNS),
            "{table}.{column}: is it a blob? add it to BLOB_COLUMNS or NOT_BLOB_COLUMNS"
        );
    }
}
crate::archive_conformance!(every_hash_column_is_known_to_fsck);

async fn the_exported_copy_of_a_replaced_document_says_replaced_and_by_which(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let staff = staff(&service).await;
    let mut data = crate::example_now("oficio-comision");
    let id = draft(&service, &staff.auxiliar, "oficio-comision", &data).await;
    step(&service, &staff.auxiliar, id, "submit", None, StatusCode::OK).await;
    let first =
        step(&service, &staff.directora, id, "sign", None, StatusCode::CREATED).await["issued"]["document"]
            .clone();
    let uri = format!("/api/v1/documents/{}/correct", first["id"].as_str().expect("id"));
    let correction = service.api("POST", &uri, Some(&staff.auxiliar), None).await;
    assert_eq!(correction.status, StatusCode::CREATED, "{}", correction.text());
    let draft_id = crate::public_id(&correction.json()["id"]);
    data["lugar_evento"] = json!("Auditorio del DIF Estatal, San Luis Potosí");
    let put = service
        .api(
            "PUT",
            &format!("/api/v1/drafts/{draft_id}"),
            Some(&staff.auxiliar),
            Some(json!({"data": data})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    step(
        &service,
        &staff.auxiliar,
        draft_id,
        "submit",
        None,
        StatusCode::OK,
    )
    .await;
    let second = step(
        &service,
        &staff.directora,
        draft_id,
        "sign",
        None,
        StatusCode::CREATED,
    )
    .await["issued"]["document"]
        .clone();
    let new_folio = second["folio"].as_str().expect("folio");

    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("expediente.zip");
    let expediente = crate::public_id(&second["expediente_id"]);
    fixture
        .archive
        .export_expediente(expediente, &out, "archivista")
        .await
        .expect("export");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).expect("zip")).expect("zip");
    let manifest: serde_json::Value = {
        let mut bytes = Vec::new();
        zip.by_name("manifest.json")
            .expect("manifest")
            .read_to_end(&mut bytes)
            .expect("read");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    let entry = manifest["documentos"]
        .as_array()
        .expect("documents")
        .iter()
        .find(|d| d["folio"] == first["folio"])
        .expect("the replaced document")
        .clone();
    assert_eq!(entry["estado"], "reemplazado");
    let copy_name = entry["anulacion"]["copia_marcada"]
        .as_str()
        .expect("a marked copy");
    assert!(copy_name.ends_with("-REEMPLAZADO.pdf"), "{copy_name}");
    let mut copy = Vec::new();
    zip.by_name(copy_name)
        .expect("copy")
        .read_to_end(&mut copy)
        .expect("read");
    let copy_path = dir.path().join("copia.pdf");
    std::fs::write(&copy_path, copy).expect("write");
    let text = crate::pdf_text(&copy_path);
    let compact: String = text.split_whitespace().collect();
    assert!(compact.contains("REEMPLAZADO"), "{text}");
    let by: String = format!("reemplazadoporeldocumento{new_folio}")
        .split_whitespace()
        .collect();
    assert!(compact.contains(&by), "{text}");
    assert!(!text.contains("ANULADO") && !text.contains("anulado"), "{text}");
}
crate::archive_conformance!(the_exported_copy_of_a_replaced_document_says_replaced_and_by_which);

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
    // The office's certificates go with it, so its signatures verify without Sello.
    let mut trusted = sello::keys::TrustedKeys::default();
    trusted
        .add(fixture.key.certificate.clone(), sello::keys::KeyStatus::Active)
        .expect("trusted");
    let summary = archive
        .export_expediente_with(
            carta.expediente_id,
            &out,
            &trusted.certificates_pem(),
            "archivista",
        )
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
    // Each PDF, the annulled carta's marked copy, manifest, audit, certificates.
    assert_eq!(sums.lines().count(), expected + 4);
    let copy_name = entry["anulacion"]["copia_marcada"]
        .as_str()
        .expect("a marked copy");
    assert!(copy_name.ends_with("-ANULADO.pdf"), "{copy_name}");
    let copy_path = dir.path().join("anulado.pdf");
    std::fs::write(&copy_path, read(copy_name)).expect("write");
    assert!(crate::pdf_text(&copy_path).contains("ANULADO"));
    let pem = String::from_utf8(read("certificado.pem")).expect("utf-8");
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).expect("PEM");
    assert_eq!(label, "CERTIFICATE");
    assert_eq!(der, fixture.key.certificate_der, "the key that signed the PDFs");
    // Moments written one way: UTC, to the second.
    for moment in [&entry["emitido"], &entry["anulacion"]["fecha"]] {
        let text = moment.as_str().expect("a moment");
        assert!(text.ends_with('Z') && text.len() == 20, "{text}");
    }
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
        archive
            .export_expediente(
                sello::public_id::PublicId::generate().expect("random"),
                &out,
                "archivista"
            )
            .await,
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
            Err(sello::signed_pdf::IssueError::Other("sin papel".into()))
        })
        .await;
    assert!(failed.is_err());
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("e.zip");
    let summary = archive
        .export_expediente(issued.expediente_id, &out, "archivista")
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
    // Never issued: the manifest does not say it was, only that its folio
    // was reserved.
    assert!(
        spoiled["emitido"].is_null() && spoiled["emitido_por"].is_null(),
        "{spoiled}"
    );
    assert!(spoiled["folio_reservado"]["fecha"].is_string(), "{spoiled}");
    // Writing where one cannot is the user's mistake, said plainly.
    let nowhere = dir.path().join("no/such/folder/e.zip");
    assert!(matches!(
        archive
            .export_expediente(issued.expediente_id, &nowhere, "archivista")
            .await,
        Err(sello::archive::ArchiveError::Refused(_))
    ));
}
crate::archive_conformance!(an_expediente_with_a_spoiled_folio_still_exports);
