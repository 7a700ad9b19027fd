//! The transparency log: every issuance, annulment and replacement has its
//! entry, written with it; the tree's proofs hold; `verify_log` recomputes
//! the log from the archive and names the entry where they differ.

use sello::archive::{LogEvent, LogProblem};
use sello::tlog::merkle;

use crate::{Fixture, example};

async fn every_issued_document_is_in_the_log_and_proven_included(fixture: &Fixture) {
    let archive = &fixture.archive;
    let mut issued = Vec::new();
    for form in ["oficio-comision", "carta-compromiso", "oficio-comision"] {
        issued.push(fixture.issue(form, &example(form)).await);
    }
    let entries = archive.log_entries().await.expect("entries");
    assert_eq!(entries.len(), 3);
    assert_eq!(archive.log_size().await.expect("size"), 3);
    let leaves = archive.log_leaves().await.expect("leaves");
    let head = merkle::root(&leaves);
    for (document, entry) in issued.iter().zip(&entries) {
        assert_eq!(entry.event, LogEvent::Emision);
        assert_eq!(entry.document_id, document.row_id);
        assert!(
            entry.entry.contains(&format!("folio {}\n", document.folio)),
            "{}",
            entry.entry
        );
        let sha = document.pdf_sha256.as_deref().expect("sha");
        assert!(entry.entry.contains(&format!("sha256 {sha}\n")));
        let proof = merkle::inclusion_proof(entry.index as usize, &leaves).expect("proof");
        merkle::verify_inclusion(
            entry.index,
            3,
            &merkle::leaf_hash(entry.entry.as_bytes()),
            &proof,
            &head,
        )
        .expect("included");
    }
    // No personal data: neither the people the example names nor its signer.
    for entry in &entries {
        for personal in [
            "Lucía Hernández Salazar",
            "Ramiro Castillo Nava",
            "SLP-A-0457812",
            "Guadalupe Torres",
        ] {
            assert!(!entry.entry.contains(personal), "«{personal}» in the log");
        }
    }
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(3));
}
crate::archive_conformance!(every_issued_document_is_in_the_log_and_proven_included);

async fn annulment_and_replacement_append_entries_consistent_with_the_earlier_tree(fixture: &Fixture) {
    let archive = &fixture.archive;
    let one = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let two = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let three = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let before = archive.log_leaves().await.expect("leaves");
    archive
        .annul(&one.folio, "datos equivocados", "ana.lopez", None)
        .await
        .expect("annuls");
    archive
        .annul(&two.folio, "corregido", "ana.lopez", Some(&three.folio))
        .await
        .expect("replaces");
    let entries = archive.log_entries().await.expect("entries");
    let events: Vec<LogEvent> = entries.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        [
            LogEvent::Emision,
            LogEvent::Emision,
            LogEvent::Emision,
            LogEvent::Anulacion,
            LogEvent::Reemplazo
        ]
    );
    assert!(
        entries[4]
            .entry
            .contains(&format!("reemplazado-por {}\n", three.folio))
    );
    assert!(
        !entries[3].entry.contains("datos equivocados"),
        "the reason stays internal"
    );
    let after = archive.log_leaves().await.expect("leaves");
    assert_eq!(after[..3], before[..]);
    let proof = merkle::consistency_proof(3, &after).expect("proof");
    merkle::verify_consistency(3, 5, &proof, &merkle::root(&before), &merkle::root(&after))
        .expect("consistent");
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(5));
}
crate::archive_conformance!(annulment_and_replacement_append_entries_consistent_with_the_earlier_tree);

async fn tampering_an_entry_a_row_or_a_pdf_fails_log_verification_naming_the_entry(fixture: &Fixture) {
    let archive = &fixture.archive;
    let pool = archive.store().pool();
    let one = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let _two = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(2));

    // An entry's text changed (and its leaf hash with it, to look right).
    let (entry,): (String,) = sqlx::query_as("SELECT entry FROM log_entries WHERE idx = 1")
        .fetch_one(pool)
        .await
        .expect("entry");
    let forged = entry.replace("formulario carta-compromiso", "formulario oficio-comision");
    let forged_leaf = sello::archive::hex(&merkle::leaf_hash(forged.as_bytes()));
    sqlx::query("UPDATE log_entries SET entry = $1, leaf_hash = $2 WHERE idx = 1")
        .bind(&forged)
        .bind(&forged_leaf)
        .execute(pool)
        .await
        .expect("tamper");
    match archive.verify_log().await.expect("runs") {
        Err(LogProblem::Entry { index: 1, message }) => assert!(message.contains("no coincide"), "{message}"),
        other => panic!("tampered entry not found: {other:?}"),
    }
    // Only its leaf hash changed.
    sqlx::query("UPDATE log_entries SET entry = $1, leaf_hash = $2 WHERE idx = 1")
        .bind(&entry)
        .bind(&forged_leaf)
        .execute(pool)
        .await
        .expect("tamper");
    assert!(matches!(
        archive.verify_log().await.expect("runs"),
        Err(LogProblem::Entry { index: 1, .. })
    ));
    let leaf = sello::archive::hex(&merkle::leaf_hash(entry.as_bytes()));
    sqlx::query("UPDATE log_entries SET leaf_hash = $1 WHERE idx = 1")
        .bind(&leaf)
        .execute(pool)
        .await
        .expect("restore");
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(2));

    // The archived row changed under the entry.
    sqlx::query("UPDATE documents SET issued_at = $1 WHERE id = $2")
        .bind("2026-11-01T10:30:00-06:00")
        .bind(one.row_id)
        .execute(pool)
        .await
        .expect("tamper");
    assert!(matches!(
        archive.verify_log().await.expect("runs"),
        Err(LogProblem::Entry { index: 0, .. })
    ));
    sqlx::query("UPDATE documents SET issued_at = $1 WHERE id = $2")
        .bind(&one.issued_at)
        .bind(one.row_id)
        .execute(pool)
        .await
        .expect("restore");
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(2));

    // The archived PDF changed.
    let sha = one.pdf_sha256.clone().expect("sha");
    let path = fixture
        .blobs_dir
        .path()
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(format!("{sha}.pdf"));
    std::fs::write(&path, b"%PDF-1.7 otro").expect("damage");
    match archive.verify_log().await.expect("runs") {
        Err(LogProblem::Entry { index: 0, message }) => assert!(message.contains("PDF"), "{message}"),
        other => panic!("damaged PDF not found: {other:?}"),
    }
}
crate::archive_conformance!(tampering_an_entry_a_row_or_a_pdf_fails_log_verification_naming_the_entry);

async fn a_deleted_entry_is_named_as_missing(fixture: &Fixture) {
    let archive = &fixture.archive;
    let one = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    sqlx::query("DELETE FROM log_entries WHERE document_id = $1")
        .bind(one.row_id)
        .execute(archive.store().pool())
        .await
        .expect("delete");
    match archive.verify_log().await.expect("runs") {
        Err(LogProblem::Missing { folio, event }) => {
            assert_eq!((folio.as_str(), event), (one.folio.as_str(), "emision"))
        }
        other => panic!("missing entry not found: {other:?}"),
    }
}
crate::archive_conformance!(a_deleted_entry_is_named_as_missing);

/// An archive whose documents predate the log (as one upgraded past 0011
/// holds them): issued, annulled and replaced with no entries.
async fn rewind_to_before_the_log(fixture: &Fixture) {
    let pool = fixture.archive.store().pool();
    for statement in [
        "DELETE FROM log_entries",
        "UPDATE log_size SET size = 0 WHERE id = 1",
        "UPDATE log_backfill SET pending = 1, late_from = NULL, late_to = NULL WHERE id = 1",
    ] {
        sqlx::query(statement).execute(pool).await.expect(statement);
    }
}

async fn documents_from_before_the_log_are_backfilled_once_marked_late(fixture: &Fixture) {
    let archive = &fixture.archive;
    let one = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let two = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let three = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    archive
        .annul(&one.folio, "datos equivocados", "ana.lopez", None)
        .await
        .expect("annuls");
    archive
        .annul(&two.folio, "corregido", "ana.lopez", Some(&three.folio))
        .await
        .expect("replaces");
    rewind_to_before_the_log(fixture).await;
    assert!(matches!(
        archive.verify_log().await.expect("runs"),
        Err(LogProblem::Missing { .. })
    ));

    // Two instances at once: one appends, the other finds nothing pending.
    let (a, b) = tokio::join!(archive.backfill_log(), archive.backfill_log());
    let mut counts = [a.expect("backfills"), b.expect("backfills")];
    counts.sort();
    assert_eq!(counts, [0, 5]);
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(5));
    let entries = archive.log_entries().await.expect("entries");
    let order: Vec<(i64, LogEvent)> = entries.iter().map(|e| (e.document_id, e.event)).collect();
    assert_eq!(
        order,
        [
            (one.row_id, LogEvent::Emision),
            (two.row_id, LogEvent::Emision),
            (three.row_id, LogEvent::Emision),
            (one.row_id, LogEvent::Anulacion),
            (two.row_id, LogEvent::Reemplazo),
        ]
    );
    for entry in &entries {
        assert!(
            entry.entry.ends_with(sello::archive::LATE_MARK),
            "{}",
            entry.entry
        );
    }
    // Once: a second backfill, or a second open, appends nothing.
    assert_eq!(archive.backfill_log().await.expect("backfills"), 0);
    assert_eq!(archive.log_size().await.expect("size"), 5);

    // A later issuance is logged on time, without the mark.
    fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let last = archive
        .log_entries()
        .await
        .expect("entries")
        .pop()
        .expect("entry");
    assert_eq!(last.index, 5);
    assert!(!last.entry.contains("alta-tardia"), "{}", last.entry);
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(6));

    // A late entry stripped of its mark (its leaf hash recomputed) no longer
    // matches the archive.
    let pool = archive.store().pool();
    let late = &entries[2].entry;
    let forged = late.replace(sello::archive::LATE_MARK, "");
    sqlx::query("UPDATE log_entries SET entry = $1, leaf_hash = $2 WHERE idx = 2")
        .bind(&forged)
        .bind(sello::archive::hex(&merkle::leaf_hash(forged.as_bytes())))
        .execute(pool)
        .await
        .expect("tamper");
    match archive.verify_log().await.expect("runs") {
        Err(LogProblem::Entry { index: 2, .. }) => {}
        other => panic!("stripped mark not found: {other:?}"),
    }
    sqlx::query("UPDATE log_entries SET entry = $1, leaf_hash = $2 WHERE idx = 2")
        .bind(late)
        .bind(sello::archive::hex(&merkle::leaf_hash(late.as_bytes())))
        .execute(pool)
        .await
        .expect("restore");
    assert_eq!(archive.verify_log().await.expect("verifies"), Ok(6));
    // Nor may an entry logged on time be marked late.
    let on_time = &last.entry;
    let forged = format!("{on_time}{}", sello::archive::LATE_MARK);
    sqlx::query("UPDATE log_entries SET entry = $1, leaf_hash = $2 WHERE idx = 5")
        .bind(&forged)
        .bind(sello::archive::hex(&merkle::leaf_hash(forged.as_bytes())))
        .execute(pool)
        .await
        .expect("tamper");
    match archive.verify_log().await.expect("runs") {
        Err(LogProblem::Entry { index: 5, .. }) => {}
        other => panic!("added mark not found: {other:?}"),
    }

    // An entry deleted after the backfill ran is reported missing, never
    // appended again as late.
    sqlx::query("DELETE FROM log_entries WHERE idx = 5")
        .execute(pool)
        .await
        .expect("delete");
    sqlx::query("UPDATE log_size SET size = 5 WHERE id = 1")
        .execute(pool)
        .await
        .expect("size");
    assert_eq!(archive.backfill_log().await.expect("backfills"), 0);
    assert!(matches!(
        archive.verify_log().await.expect("runs"),
        Err(LogProblem::Missing { event: "emision", .. })
    ));
}
crate::archive_conformance!(documents_from_before_the_log_are_backfilled_once_marked_late);

/// A document issued through the fixture, with its verification code.
async fn issued_with_code(fixture: &Fixture, form: &str) -> (sello::archive::DocumentRecord, String) {
    match fixture
        .issue_on(form, &example(form), 22, None)
        .await
        .expect("issues")
    {
        sello::archive::Issued::New { record, document } => (record, document.code.display().to_string()),
        sello::archive::Issued::Existing(_) => panic!("a new document"),
    }
}

async fn get(service: &crate::http::Service, uri: &str) -> crate::http::Answer {
    use axum::body::Body;
    service
        .send(
            axum::http::Request::get(uri)
                .body(Body::empty())
                .expect("request"),
        )
        .await
}

async fn the_log_is_served_as_tiles_and_a_proof_bundle_verifies_offline(fixture: &Fixture) {
    use axum::http::StatusCode;
    use sello::tlog::{bundle, note};

    let (record, code) = issued_with_code(fixture, "oficio-comision").await;
    let (_other, _) = issued_with_code(fixture, "carta-compromiso").await;
    let service = crate::http::Service::new(fixture).await;
    let verifier = note::Verifier::parse(&service.state.log_key.verifier_key()).expect("verifier key");

    let checkpoint = get(&service, "/log/checkpoint").await;
    assert_eq!(checkpoint.status, StatusCode::OK);
    let opened = note::open_checkpoint(&checkpoint.text(), &verifier).expect("signed by the log key");
    let leaves = fixture.archive.log_leaves().await.expect("leaves");
    assert_eq!((opened.size, opened.root), (2, merkle::root(&leaves)));

    // The partial level-0 tile holds the two leaf hashes; the entry bundle
    // their texts, each after its big-endian length.
    let tile = get(&service, "/log/tile/0/000.p/2").await;
    assert_eq!(tile.status, StatusCode::OK);
    assert_eq!(tile.bytes, [leaves[0], leaves[1]].concat());
    assert_eq!(
        get(&service, "/log/tile/0/000.p/3").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&service, "/log/tile/0/000").await.status,
        StatusCode::NOT_FOUND
    );
    let entries = get(&service, "/log/tile/entries/000.p/2").await;
    let first = fixture.archive.log_entries().await.expect("entries")[0]
        .entry
        .clone();
    assert_eq!(entries.bytes[..2], (first.len() as u16).to_be_bytes());
    assert_eq!(entries.bytes[2..2 + first.len()], *first.as_bytes());

    // The page says where the document is in the log.
    let page = get(&service, &format!("/v/{code}")).await.text();
    assert!(
        page.contains("Registrado en el registro público: entrada 0, punto de control de tamaño 2"),
        "{page}"
    );

    let answer = get(&service, &format!("/v/{code}/prueba")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let proof = answer.text();
    let proven = bundle::verify(&proof, &verifier).expect("the bundle verifies");
    assert_eq!((proven.index, proven.checkpoint.size), (0, 2));
    let entry = String::from_utf8(proven.entry).expect("text");
    assert!(entry.contains(&format!(
        "sha256 {}\n",
        record.pdf_sha256.as_deref().expect("sha")
    )));
    assert!(!entry.contains(&code), "the code is in the log only as its hash");

    // Offline, with the command line: good, then one byte changed.
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("prueba.txt");
    std::fs::write(&file, &proof).expect("write");
    let run = |path: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sello"))
            .current_dir(dir.path())
            .env("SELLO_FORMS_DIR", crate::root().join("forms"))
            .args(["verify", "--proof"])
            .arg(path)
            .args(["--log-key", &service.state.log_key.verifier_key()])
            .output()
            .expect("sello runs")
    };
    let good = run(&file);
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains(&format!("el documento {}", record.folio)));
    let mut bytes = proof.into_bytes();
    let at = bytes.iter().position(|b| *b == b'\n').expect("a line") + 10;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&file, &bytes).expect("write");
    let bad = run(&file);
    assert_eq!(
        bad.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Prueba no válida"));
}
crate::archive_conformance!(the_log_is_served_as_tiles_and_a_proof_bundle_verifies_offline);
