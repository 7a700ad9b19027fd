//! The folios a lote reserved belong to that lote: a lote that failed
//! partway leaves them reserved, and the same sheet uploaded again (the
//! same rows, the same keys) is a new lote that does not take them for its
//! own; they are annulled as interrupted and the new lote's folios follow
//! what was issued meanwhile, in row order. A lote finished while its
//! folios are being reserved takes no more of them, and one left running
//! with no job to run it is finished, so its office may start another.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use sello::accounts::Role;
use sello::bulk::lotes::{self, LoteRecord};
use sello::bulk::{Responsible, RunOrder, chunks};
use sello::web::lotes::{Upload, start};
use serde_json::json;

use crate::Fixture;
use crate::api_lotes::lote_request;
use crate::http::{Service, service_config};

const OFFICE: &str = "DIF-SLP";

/// A lote of `csv` prepared by a capturista (stored with its rows as any
/// upload is) and then taken as approved without running: the test runs
/// its reservation by hand.
async fn prepared_lote(service: &Service, csv: &[u8]) -> LoteRecord {
    let (clerk, _) = service.user(OFFICE, "captura.reservas", Role::Capturista).await;
    // An office that lets its capturistas prepare lotes.
    service
        .state
        .accounts
        .set_preparers_bulk(OFFICE, true)
        .await
        .expect("allowed");
    let upload = Upload {
        form_id: "carta-compromiso".into(),
        file_name: "familias.csv".into(),
        bytes: csv.to_vec(),
        dry_run: false,
        on_paper: true,
    };
    let lote = start(&service.state, &clerk, upload).await.expect("stored");
    assert!(lote.awaiting_approval, "a capturista's lote waits");
    let store = service.state.archive.store();
    sqlx::query(
        "UPDATE lotes SET awaiting_approval = 0, signer = 'Persona jefa', cargo = 'Directora' WHERE id = $1",
    )
    .bind(lote.id)
    .execute(store.pool())
    .await
    .expect("approved");
    lotes::lote_by_id(store, lote.id)
        .await
        .expect("read")
        .expect("the lote")
}

/// Reserves the folios of the lote's rows as its job does, stopping before
/// row number `rows` as if its instance had died; whether every row was
/// reserved.
async fn reserve_until(service: &Service, lote: &LoteRecord, rows: usize) -> bool {
    let state = &service.state;
    let form = Arc::new(state.catalog.get("carta-compromiso").expect("form").clone());
    let office = state
        .accounts
        .office(OFFICE)
        .await
        .expect("read")
        .expect("office");
    // The job reads them again once it holds the office's bulk lock.
    let pending = lotes::pending_rows(state.archive.store(), lote.id)
        .await
        .expect("rows");
    let order = RunOrder {
        form,
        rows: pending,
        responsible: Responsible {
            name: &lote.signer,
            cargo: &lote.cargo,
            actor: &lote.actor,
        },
        issued_at: lote.issued_at,
        on_paper: lote.on_paper,
        workers: None,
        clock: None,
    };
    let asked = AtomicUsize::new(0);
    chunks::reserve_lote(
        &state.issuer,
        state.archive.for_office(office),
        &state.config.data_dir,
        lote,
        order,
        &|| asked.fetch_add(1, Ordering::Relaxed) >= rows,
        &|| {},
    )
    .await
    .expect("reserved")
}

async fn the_same_sheet_after_a_failed_lote_does_not_adopt_its_folios(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let (director, _) = service.user(OFFICE, "jefa.reservas", Role::Firmante).await;
    let token = service.token(&director).await;
    let store = service.state.archive.store();
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(6, &[]), false);

    // The first lote reserves three folios and fails.
    let failed = prepared_lote(&service, &csv).await;
    assert!(!reserve_until(&service, &failed, 3).await, "stopped partway");
    lotes::finish(store, failed.id, Some("se interrumpió"))
        .await
        .expect("finished");
    let left: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM documents WHERE status = 'reservado' ORDER BY number")
            .fetch_all(store.pool())
            .await
            .expect("reserved");
    assert_eq!(left.len(), 3, "the failed lote's folios are left reserved");

    // A carta is issued meanwhile: its folio follows them.
    let mut data = crate::example_now("carta-compromiso");
    data["familia_id"] = json!("FAM-ENTRE-LOTES");
    let carta = service
        .api(
            "POST",
            "/api/v1/documents",
            Some(&token),
            Some(json!({"form": "carta-compromiso", "data": data, "firmaran_en_papel": true})),
        )
        .await;
    assert_eq!(carta.status, StatusCode::CREATED, "{}", carta.text());
    let carta_folio = carta.json()["document"]["folio"]
        .as_str()
        .expect("folio")
        .to_owned();
    let carta_number: i64 = sqlx::query_scalar("SELECT number FROM documents WHERE folio = $1")
        .bind(&carta_folio)
        .fetch_one(store.pool())
        .await
        .expect("number");

    // The same sheet, uploaded again and issued.
    let started = service
        .send(lote_request(
            &token,
            &[("formulario", "carta-compromiso"), ("en_papel", "true")],
            &csv,
        ))
        .await;
    assert!(
        matches!(started.status, StatusCode::ACCEPTED | StatusCode::OK),
        "{}",
        started.text()
    );
    let id = started.json()["id"].as_str().expect("id").to_owned();
    let progress = crate::api_lotes::finished(&service, &token, &id).await;
    assert_eq!(progress["finished"], true, "{progress}");
    assert_eq!(progress["documents"], 6, "{progress}");

    // The failed lote's folios were annulled as interrupted, not issued
    // by the new lote with its date and a number below the carta's.
    for document in &left {
        let (status, reason): (String, Option<String>) =
            sqlx::query_as("SELECT status, annul_reason FROM documents WHERE id = $1")
                .bind(document)
                .fetch_one(store.pool())
                .await
                .expect("document");
        assert_eq!(
            (status.as_str(), reason.as_deref()),
            ("anulado", Some("emisión interrumpida")),
            "a folio of the failed lote"
        );
    }
    let issued: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT r.line, d.number FROM lote_rows r JOIN lotes l ON l.id = r.lote_id \
         JOIN documents d ON d.id = r.document_id WHERE l.public_id = $1 AND r.outcome = 'emitido' \
         ORDER BY r.line",
    )
    .bind(&id)
    .fetch_all(store.pool())
    .await
    .expect("issued");
    assert_eq!(issued.len(), 6);
    let mut last = carta_number;
    for (line, number) in issued {
        assert!(
            number > last,
            "line {line} has folio number {number}, after {last} (the carta's is {carta_number})"
        );
        last = number;
    }
}
crate::archive_conformance!(the_same_sheet_after_a_failed_lote_does_not_adopt_its_folios);

async fn a_lote_finished_while_reserving_takes_no_more_folios(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let store = service.state.archive.store();
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(4, &[]), false);
    let lote = prepared_lote(&service, &csv).await;
    // One of its chunks failed it (or it was given up) meanwhile.
    lotes::finish(store, lote.id, Some("generador de PDF"))
        .await
        .expect("finished");
    assert!(!reserve_until(&service, &lote, usize::MAX).await, "it stops");
    let reserved: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(reserved, 0, "no folio taken for a finished lote");
}
crate::archive_conformance!(a_lote_finished_while_reserving_takes_no_more_folios);

async fn a_lote_left_with_no_job_is_finished_and_frees_its_office(fixture: &Fixture) {
    let data_dir = tempfile::tempdir().expect("temp");
    let data_path = data_dir.path().display().to_string();
    let service = Service::with_config(fixture, service_config(&[("SELLO_DATA_DIR", &data_path)])).await;
    let store = service.state.archive.store();
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(2, &[]), false);
    // Running, and no job of it left (as after a holder died between
    // giving up its job and marking the lote).
    let stranded = prepared_lote(&service, &csv).await;
    assert!(lotes::office_busy(store, OFFICE).await.expect("busy"));
    assert_eq!(chunks::finish_stranded(store).await.expect("swept"), 1);
    let stranded = lotes::lote_by_id(store, stranded.id)
        .await
        .expect("read")
        .expect("lote");
    assert!(
        stranded.is_finished() && stranded.failure.is_some(),
        "{stranded:?}"
    );
    assert!(
        !lotes::office_busy(store, OFFICE).await.expect("busy"),
        "the office may start another"
    );
    // A lote whose job waits its turn is left alone.
    let (clerk, _) = service.user(OFFICE, "captura.otra", Role::Capturista).await;
    let upload = Upload {
        form_id: "carta-compromiso".into(),
        file_name: "familias.csv".into(),
        bytes: csv.clone(),
        dry_run: false,
        on_paper: true,
    };
    let waiting = start(&service.state, &clerk, upload).await.expect("stored");
    let approver = sello::bulk::approval::Approver {
        name: "Persona jefa",
        cargo: "Directora",
        username: "jefa.otra",
    };
    let approved = sello::bulk::approval::approve(
        store,
        waiting.id,
        waiting.public_id,
        OFFICE,
        &approver,
        waiting.issued_at,
    )
    .await
    .expect("approved");
    assert!(approved);
    assert_eq!(chunks::finish_stranded(store).await.expect("swept"), 0);
    assert!(lotes::office_busy(store, OFFICE).await.expect("busy"));
}
crate::archive_conformance!(a_lote_left_with_no_job_is_finished_and_frees_its_office);
