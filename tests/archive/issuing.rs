//! Issuing into the archive: expedientes, folios, persons, idempotency,
//! failures that record their folio, annulment and replacement.

use std::collections::BTreeSet;

use sello::archive::{ArchiveError, Issued, Status, sha256_hex};
use sello::keys::{KeyStatus, TrustedKeys};
use sello::pdf::verify_pdf;
use sello::signed_pdf::IssueError;

use crate::{Fixture, example};

async fn documents_are_filed_with_folios_in_their_expedientes(fixture: &Fixture) {
    let archive = &fixture.archive;
    let carta = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let plan = fixture
        .issue("plan-intervencion", &example("plan-intervencion"))
        .await;
    let oficio = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let second_oficio = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;

    assert_eq!(carta.folio, "DIF-SLP/CA/2026/0001");
    assert_eq!(plan.folio, "DIF-SLP/PL/2026/0001");
    assert_eq!(oficio.folio, "DIF-SLP/OF/2026/0001");
    assert_eq!(second_oficio.folio, "DIF-SLP/OF/2026/0002");
    assert_eq!(carta.status, Status::Emitido);

    // The family's documents share its expediente, found from familia_id.
    let family_of = |data: &serde_json::Value| data["familia_id"].as_str().expect("familia_id").to_owned();
    assert_eq!(
        family_of(&example("carta-compromiso")),
        family_of(&example("plan-intervencion")),
        "the examples are of one family"
    );
    assert_eq!(carta.expediente_id, plan.expediente_id);
    let expediente = archive.expediente(carta.expediente_id).await.expect("expediente");
    assert_eq!(expediente.kind, "familia");
    assert_eq!(expediente.key, family_of(&example("carta-compromiso")));
    assert_eq!(expediente.title, example("carta-compromiso")["familia_nombre"]);
    // An oficio with no family goes to the office's administrative file.
    let administrative = archive
        .expediente(oficio.expediente_id)
        .await
        .expect("expediente");
    assert_eq!(administrative.kind, "administrativo");
    assert_eq!(administrative.title, "Oficios 2026");
    assert_eq!(second_oficio.expediente_id, oficio.expediente_id);

    // The representative is a person of the expediente, by normalised RUN.
    let persons = archive
        .expediente_persons(carta.expediente_row_id)
        .await
        .expect("persons");
    let run = example("carta-compromiso")["representante"]["identificacion"]
        .as_str()
        .expect("RUN")
        .replace('.', "");
    assert!(persons.iter().any(|p| p.identity == run), "{persons:?}");

    // The PDF is stored under its hash, signed, and carries its folio.
    let pdf = archive.pdf(&carta).await.expect("pdf");
    assert_eq!(Some(sha256_hex(&pdf)), carta.pdf_sha256);
    let mut trusted = TrustedKeys::default();
    trusted
        .add(fixture.key.certificate.clone(), KeyStatus::Active)
        .expect("trust");
    assert!(verify_pdf(&pdf, &trusted).expect("parses").is_valid());
    let signatures = archive.signatures(carta.row_id).await.expect("signatures");
    assert_eq!(signatures.len(), 1);
    assert_eq!(signatures[0].key_id, fixture.key.key_id.to_string());
    assert!(
        carta
            .verification_url
            .as_deref()
            .is_some_and(|u| u.starts_with(crate::BASE_URL))
    );

    // Found again by folio and by id, and by its code's hash.
    assert_eq!(
        archive.document(&carta.folio).await.expect("by folio").id,
        carta.id
    );
    assert_eq!(
        archive
            .document(&carta.id.to_string())
            .await
            .expect("by id")
            .folio,
        carta.folio
    );
    let by_code = archive
        .document_by_code_hash(carta.code_hash.as_deref().expect("hash"))
        .await
        .expect("lookup");
    assert_eq!(by_code.map(|d| d.id), Some(carta.id));
}
crate::archive_conformance!(documents_are_filed_with_folios_in_their_expedientes);

async fn an_idempotency_key_returns_the_same_document_and_refuses_other_data(fixture: &Fixture) {
    let data = example("oficio-comision");
    let first = fixture
        .issue_on("oficio-comision", &data, 22, Some("solicitud-77"))
        .await
        .expect("issues");
    assert!(matches!(first, Issued::New { .. }));
    // The same data, even with its fields in another order and on another day.
    let mut reordered = serde_json::Map::new();
    for (k, v) in data.as_object().expect("object").iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    let again = fixture
        .issue_on(
            "oficio-comision",
            &serde_json::Value::Object(reordered),
            23,
            Some("solicitud-77"),
        )
        .await
        .expect("same document");
    assert!(matches!(again, Issued::Existing(_)));
    assert_eq!(again.record().id, first.record().id);
    assert_eq!(again.record().folio, first.record().folio);

    let mut other = data.clone();
    other["lugar_expedicion"] = "Ciudad Valles, S.L.P.".into();
    let refused = fixture
        .issue_on("oficio-comision", &other, 22, Some("solicitud-77"))
        .await;
    assert!(matches!(refused, Err(ArchiveError::IdempotencyConflict(ref k)) if k == "solicitud-77"));
    // No folio was spent on the replays.
    let next = fixture.issue("oficio-comision", &data).await;
    assert_eq!(next.folio, "DIF-SLP/OF/2026/0002");
}
crate::archive_conformance!(an_idempotency_key_returns_the_same_document_and_refuses_other_data);

async fn a_failed_issuance_records_its_folio_as_annulled_and_never_reuses_it(fixture: &Fixture) {
    let archive = &fixture.archive;
    let data = example("oficio-comision");
    let order = crate::order("oficio-comision", &data, None, Some("falla"));
    let failed = archive
        .issue(&order, |_| {
            Err(IssueError::Other("la impresora de PDF se cayó".into()))
        })
        .await;
    assert!(matches!(failed, Err(ArchiveError::Issue(_))));
    let spoiled = archive.document("DIF-SLP/OF/2026/0001").await.expect("recorded");
    assert_eq!(spoiled.status, Status::Anulado);
    assert!(
        spoiled
            .annul_reason
            .as_deref()
            .is_some_and(|r| r.contains("emisión fallida"))
    );
    assert!(spoiled.pdf_sha256.is_none() && spoiled.code_hash.is_none());

    // The key is free again, and the next document takes the next number.
    let retried = fixture
        .issue_on("oficio-comision", &data, 22, Some("falla"))
        .await
        .expect("issues");
    assert_eq!(retried.record().folio, "DIF-SLP/OF/2026/0002");
    let events = archive.document_events(spoiled.row_id).await.expect("events");
    assert_eq!(events.last().map(|e| e.action.as_str()), Some("folio.anulado"));
}
crate::archive_conformance!(a_failed_issuance_records_its_folio_as_annulled_and_never_reuses_it);

async fn an_interrupted_issuance_is_invisible_then_recorded_as_annulled(fixture: &Fixture) {
    let archive = &fixture.archive;
    let data = example("oficio-comision");
    let order = crate::order("oficio-comision", &data, None, None);
    // As if the process died after taking the folio.
    let reservation = archive.reserve(&order).await.expect("reserves").expect("new");
    assert!(matches!(
        archive.document(reservation.folio.as_str()).await,
        Err(ArchiveError::DocumentNotFound(_))
    ));
    assert!(
        archive
            .recover_interrupted(sello::archive::INTERRUPTED_AFTER)
            .await
            .expect("recover")
            .is_empty()
    );
    let recovered = archive
        .recover_interrupted(std::time::Duration::ZERO)
        .await
        .expect("recover");
    assert_eq!(recovered, vec![reservation.folio.to_string()]);
    let record = archive
        .document(reservation.folio.as_str())
        .await
        .expect("visible now");
    assert_eq!(record.status, Status::Anulado);
    assert_eq!(record.annul_reason.as_deref(), Some("emisión interrumpida"));
}
crate::archive_conformance!(an_interrupted_issuance_is_invisible_then_recorded_as_annulled);

async fn annulment_and_replacement_keep_the_document_with_reason_and_author(fixture: &Fixture) {
    let archive = &fixture.archive;
    let data = example("oficio-comision");
    let original = fixture.issue("oficio-comision", &data).await;
    let correction = fixture.issue("oficio-comision", &data).await;
    let other = fixture.issue("oficio-comision", &data).await;

    let blank = archive.annul(&original.folio, "   ", "director", None).await;
    assert!(matches!(blank, Err(ArchiveError::Refused(ref m)) if m.contains("motivo")));
    let itself = archive
        .annul(&original.folio, "error", "director", Some(&original.folio))
        .await;
    assert!(matches!(itself, Err(ArchiveError::Refused(_))));

    let replaced = archive
        .annul(
            &original.folio,
            "Fecha del evento equivocada",
            "director",
            Some(&correction.folio),
        )
        .await
        .expect("replaced");
    assert_eq!(replaced.status, Status::Reemplazado);
    assert_eq!(replaced.replaced_by, Some(correction.id));
    assert_eq!(replaced.annulled_by.as_deref(), Some("director"));
    assert_eq!(
        replaced.annul_reason.as_deref(),
        Some("Fecha del evento equivocada")
    );

    let annulled = archive
        .annul(&other.id.to_string(), "Duplicado", "director", None)
        .await
        .expect("annulled");
    assert_eq!(annulled.status, Status::Anulado);
    let twice = archive.annul(&other.folio, "otra vez", "director", None).await;
    assert!(matches!(twice, Err(ArchiveError::Refused(ref m)) if m.contains("ya está anulado")));
    // A replaced document cannot be the replacement of another.
    let stale = archive
        .annul(&correction.folio, "x", "director", Some(&original.folio))
        .await;
    assert!(matches!(stale, Err(ArchiveError::Refused(_))));
    assert!(matches!(
        archive.annul("DIF-SLP/OF/2026/9999", "x", "director", None).await,
        Err(ArchiveError::DocumentNotFound(_))
    ));

    // Nothing is ever deleted, even by hand.
    let deleted = archive.store().execute("DELETE FROM documents").await;
    assert!(deleted.is_err(), "documents must not be deletable");
    let events = archive.document_events(original.row_id).await.expect("events");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["documento.emitido", "documento.reemplazado"]);
}
crate::archive_conformance!(annulment_and_replacement_keep_the_document_with_reason_and_author);

async fn concurrent_issuance_gives_every_document_its_own_folio(fixture: &Fixture) {
    let data = example("oficio-comision");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (archive, key, data) = (fixture.archive.clone(), fixture.key.clone(), data.clone());
            tokio::spawn(async move {
                let mut folios = Vec::new();
                for _ in 0..5 {
                    let issued = crate::issue_into(&archive, &key, "oficio-comision", &data, 22, None)
                        .await
                        .expect("issues");
                    folios.push(issued.record().folio.clone());
                }
                folios
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let unique: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(unique.len(), 20, "{all:?}");
    let expected: BTreeSet<_> = (1..=20).map(|n| format!("DIF-SLP/OF/2026/{n:04}")).collect();
    assert_eq!(unique, expected, "no holes");
    let report = fixture.archive.verify_audit().await.expect("audit");
    assert!(report.broken.is_none(), "{report:?}");
    // One 'expediente.abierto' and twenty 'documento.emitido'.
    assert_eq!(report.events, 21);
}
crate::archive_conformance!(concurrent_issuance_gives_every_document_its_own_folio);

async fn a_document_can_be_filed_in_a_chosen_expediente_but_not_a_closed_one(fixture: &Fixture) {
    let archive = &fixture.archive;
    let carta = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let spec = crate::CATALOG.get("oficio-comision").expect("form");
    let data = example("oficio-comision");
    let order = |expediente_id| crate::order("oficio-comision", &data, expediente_id, None);
    let render = |reservation: &sello::archive::Reservation| {
        let request = sello::signed_pdf::IssueRequest {
            form: spec,
            data: &data,
            issued_at: crate::at(22),
            folio: Some(reservation.folio.to_string()),
            signer: "Directora",
            cargo: "Directora",
            endorsements: &[],
            hand_signatures: &[],
            on_paper: &[],
            citations: &reservation.citations,
        };
        sello::signed_pdf::issue(&crate::RENDERER, &fixture.key, crate::BASE_URL, &request)
    };
    let filed = archive
        .issue(&order(Some(carta.expediente_id)), render)
        .await
        .expect("issues");
    assert_eq!(filed.record().expediente_id, carta.expediente_id);
    assert!(matches!(
        archive
            .issue(
                &order(Some(sello::public_id::PublicId::generate().expect("random"))),
                render
            )
            .await,
        Err(ArchiveError::ExpedienteNotFound(_))
    ));

    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let before = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    assert!(matches!(
        archive
            .close_expediente(carta.expediente_id, before, "archivista")
            .await,
        Err(ArchiveError::Refused(_))
    ));
    let closed = archive
        .close_expediente(carta.expediente_id, day, "archivista")
        .await
        .expect("closes");
    assert_eq!(closed.closed_on.as_deref(), Some("2026-11-30"));
    let refused = archive.issue(&order(Some(carta.expediente_id)), render).await;
    assert!(
        matches!(refused, Err(ArchiveError::Refused(ref m)) if m.contains("cerró")),
        "{:?}",
        refused.err()
    );
    // Derived from the data, too: the family's closed file takes nothing new.
    let again = fixture
        .issue_on("carta-compromiso", &example("carta-compromiso"), 22, None)
        .await;
    assert!(matches!(again, Err(ArchiveError::Refused(_))));
    // Refusals spend no folio.
    let next = fixture.issue("oficio-comision", &data).await;
    assert_eq!(next.folio, "DIF-SLP/OF/2026/0002");
}
crate::archive_conformance!(a_document_can_be_filed_in_a_chosen_expediente_but_not_a_closed_one);

async fn two_issuances_with_one_key_at_once_give_one_document(fixture: &Fixture) {
    let data = example("oficio-comision");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (archive, key, data) = (fixture.archive.clone(), fixture.key.clone(), data.clone());
            tokio::spawn(async move {
                crate::issue_into(&archive, &key, "oficio-comision", &data, 22, Some("una-sola-vez")).await
            })
        })
        .collect();
    let mut folios = BTreeSet::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(issued) => {
                folios.insert(issued.record().folio.clone());
            }
            // The others either got the same document or were told to wait.
            Err(ArchiveError::InProgress(key)) => assert_eq!(key, "una-sola-vez"),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(folios.len(), 1, "{folios:?}");
    let issued = fixture
        .archive
        .search(&sello::archive::SearchQuery {
            per_page: 10,
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(issued.total, 1, "one folio spent");
}
crate::archive_conformance!(two_issuances_with_one_key_at_once_give_one_document);

async fn two_documents_cannot_replace_each_other(fixture: &Fixture) {
    let data = example("oficio-comision");
    let a = fixture.issue("oficio-comision", &data).await;
    let b = fixture.issue("oficio-comision", &data).await;
    let (archive_a, archive_b) = (fixture.archive.clone(), fixture.archive.clone());
    let (fa, fb) = (a.folio.clone(), b.folio.clone());
    let one = tokio::spawn(async move { archive_a.annul(&fa, "corrección", "ana", Some(&fb)).await });
    let (fa, fb) = (a.folio.clone(), b.folio.clone());
    let other = tokio::spawn(async move { archive_b.annul(&fb, "corrección", "luis", Some(&fa)).await });
    let results = [one.await.expect("task"), other.await.expect("task")];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let statuses = [
        fixture.archive.document(&a.folio).await.expect("a").status,
        fixture.archive.document(&b.folio).await.expect("b").status,
    ];
    assert!(
        statuses.contains(&Status::Emitido),
        "one stays current: {statuses:?}"
    );
}
crate::archive_conformance!(two_documents_cannot_replace_each_other);
