//! Evidence added after issuance, on both engines: a document issued while
//! no TSA answered is recorded as awaiting its time-stamp; once a TSA
//! answers, `Extender::stamp_awaiting` adds a document time-stamp and the
//! validation data as incremental updates, the issued bytes a prefix of
//! the new PDF, both PDFs stored and checked by fsck, the log unchanged;
//! two instances stamp a document once; `renew` adds an archival
//! time-stamp only to documents whose evidence expires soon.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sello::archive::{Archive, DocumentRecord, sha256_hex};
use sello::evidence::Extender;
use sello::keys::{KeyStatus, TrustedKeys};
use sello::pdf::{TsaClient, verify_pdf};
use sello::signed_pdf::{IssueRequest, LongTermSources, issue_long_term};

use crate::ltv_pki::CrlTsa;
use crate::{BASE_URL, CATALOG, Fixture, RENDERER, archive_conformance, at, example};

fn client(url: &str) -> Arc<TsaClient> {
    Arc::new(TsaClient::new(vec![url.to_owned()], Duration::from_secs(5)))
}

struct Setup {
    long_term: Arc<LongTermSources>,
    _crl_dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let crl_dir = tempfile::tempdir().expect("temp dir");
    Setup {
        long_term: Arc::new(LongTermSources::new(
            crl_dir.path().to_owned(),
            Duration::from_secs(5),
        )),
        _crl_dir: crl_dir,
    }
}

/// Issues an oficio asking `tsa` for the signature's time-stamp.
async fn issue_asking(fixture: &Fixture, tsa: &TsaClient, setup: &Setup) -> DocumentRecord {
    issue_with_code(fixture, tsa, setup).await.0
}

/// [`issue_asking`], with the document's verification code.
async fn issue_with_code(fixture: &Fixture, tsa: &TsaClient, setup: &Setup) -> (DocumentRecord, String) {
    let data = example("oficio-comision");
    let spec = CATALOG.get("oficio-comision").expect("form");
    let order = crate::order("oficio-comision", &data, None, None);
    let issued = fixture
        .archive
        .issue(&order, |reservation| {
            let request = IssueRequest {
                form: spec,
                data: &data,
                issued_at: at(22),
                folio: Some(reservation.folio.to_string()),
                signer: "Mtra. Guadalupe Torres Medina",
                cargo: "Directora",
                endorsements: &[],
                hand_signatures: &[],
                on_paper: &[],
                citations: &reservation.citations,
            };
            issue_long_term(
                &RENDERER,
                &fixture.key,
                BASE_URL,
                &request,
                Some(tsa),
                Some(&setup.long_term),
            )
        })
        .await
        .expect("issues");
    match issued {
        sello::archive::Issued::New { record, document } => (record, document.code.display().to_string()),
        sello::archive::Issued::Existing(_) => panic!("a new document"),
    }
}

fn trusting(fixture: &Fixture) -> TrustedKeys {
    let mut trusted = TrustedKeys::default();
    trusted
        .add(fixture.key.certificate.clone(), KeyStatus::Active)
        .expect("trust");
    trusted
}

async fn reload(archive: &Archive, record: &DocumentRecord) -> DocumentRecord {
    archive
        .document(&record.folio)
        .await
        .expect("the document is found")
}

archive_conformance!(a_document_issued_while_no_tsa_answers_gets_its_timestamp_later);
async fn a_document_issued_while_no_tsa_answers_gets_its_timestamp_later(fixture: &Fixture) {
    let setup = setup();
    let mut tsa = CrlTsa::start(Utc::now() + chrono::Duration::days(3650));
    let url = tsa.url();
    tsa.stop();
    let (record, code) = issue_with_code(fixture, &client(&url), &setup).await;
    assert!(record.awaiting_timestamp_since.is_some(), "{record:?}");
    assert_eq!(record.current_pdf_sha256, record.pdf_sha256);
    let issued = fixture.archive.pdf(&record).await.expect("pdf");
    let report = verify_pdf(&issued, &trusting(fixture)).expect("reads");
    assert!(report.is_valid() && report.signatures[0].timestamp_time.is_none());

    // While the TSA is still down, the retry stops and changes nothing.
    let extender = Extender::new(client(&url), Arc::clone(&setup.long_term)).expect("extender");
    let summary = extender
        .stamp_awaiting(&fixture.archive, 100)
        .await
        .expect("runs");
    assert!(
        summary.tsa_unavailable.is_some() && summary.extended.is_empty(),
        "{summary:?}"
    );
    assert!(
        reload(&fixture.archive, &record)
            .await
            .awaiting_timestamp_since
            .is_some()
    );

    tsa.resume();
    let summary = extender
        .stamp_awaiting(&fixture.archive, 100)
        .await
        .expect("runs");
    assert_eq!(summary.extended, vec![record.folio.clone()], "{summary:?}");
    let stamped = reload(&fixture.archive, &record).await;
    assert_eq!(stamped.awaiting_timestamp_since, None);
    assert_eq!(stamped.pdf_sha256, record.pdf_sha256, "the issued hash is kept");
    let current = stamped.current_pdf_sha256.clone().expect("current");
    assert_ne!(Some(&current), record.pdf_sha256.as_ref());

    // What is served now is the extended PDF; the issued bytes are its prefix.
    let served = fixture.archive.pdf(&stamped).await.expect("pdf");
    assert_eq!(sha256_hex(&served), current);
    assert!(served.starts_with(&issued) && served.len() > issued.len());
    let report = verify_pdf(&served, &trusting(fixture)).expect("reads");
    assert!(report.is_valid(), "{report:?}");
    assert!(report.validation_data);
    let [stamp] = report.document_timestamps.as_slice() else {
        panic!("one document time-stamp: {report:?}");
    };
    // Valid, and followed only by its own validation data.
    assert!(stamp.valid && !stamp.covers_whole_file, "{stamp:?}");
    assert!(
        stamp
            .tsa
            .as_deref()
            .is_some_and(|t| t.contains("Sellado de tiempo con CRL"))
    );
    // The issued PDF is still in the store, by its hash.
    let kept = fixture
        .archive
        .blobs()
        .get(record.pdf_sha256.as_deref().expect("issued hash"))
        .await
        .expect("issued PDF kept");
    assert_eq!(kept, issued);

    // Both PDFs are checked by fsck, and the log still proves the issued one.
    let fsck = fixture.archive.fsck(false).await.expect("fsck");
    assert!(fsck.is_clean() && fsck.orphans.is_empty(), "{fsck:?}");
    assert_eq!(fsck.blobs_checked, 2);
    assert_eq!(fixture.archive.verify_log().await.expect("verifies"), Ok(1));

    // The log's proof bundle, checked offline against the extended PDF: its
    // issued bytes are the logged document; one byte changed in them is not.
    let service = crate::http::Service::new(fixture).await;
    let proof = service
        .send(
            axum::http::Request::get(format!("/v/{code}/prueba"))
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .text();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("prueba.txt"), &proof).expect("write");
    let check = |pdf: &[u8]| {
        std::fs::write(dir.path().join("doc.pdf"), pdf).expect("write");
        std::process::Command::new(env!("CARGO_BIN_EXE_sello"))
            .current_dir(dir.path())
            .env("SELLO_FORMS_DIR", crate::root().join("forms"))
            .args(["verify", "--proof", "prueba.txt", "doc.pdf", "--log-key"])
            .arg(service.state.log_key.verifier_key())
            .output()
            .expect("sello runs")
    };
    let good = check(&served);
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    let said = String::from_utf8_lossy(&good.stdout);
    assert!(
        said.contains(&format!(
            "sus primeros {} bytes son el documento emitido",
            issued.len()
        )),
        "{said}"
    );
    let mut tampered = served.clone();
    tampered[issued.len() / 2] ^= 0x01;
    assert_eq!(check(&tampered).status.code(), Some(1));

    // The audit trail says what was added, with both hashes.
    let events = fixture
        .archive
        .document_events(stamped.row_id)
        .await
        .expect("events");
    let extended = events
        .iter()
        .find(|e| e.action == "documento.extendido")
        .expect("an extension event");
    assert!(
        extended
            .details
            .contains(record.pdf_sha256.as_deref().expect("issued hash"))
    );
    assert!(extended.details.contains(&current));
    assert!(
        fixture
            .archive
            .verify_audit()
            .await
            .expect("audit")
            .broken
            .is_none()
    );

    // Once stamped, a second run has nothing to do.
    let again = extender
        .stamp_awaiting(&fixture.archive, 100)
        .await
        .expect("runs");
    assert!(again.extended.is_empty() && again.failed.is_empty(), "{again:?}");

    // A damaged extended PDF is reported by fsck, naming the folio.
    let path = fixture
        .blobs_dir
        .path()
        .join(format!("{}/{}/{current}.pdf", &current[0..2], &current[2..4]));
    std::fs::write(&path, b"%PDF-1.7 otro").expect("tamper");
    let fsck = fixture.archive.fsck(false).await.expect("fsck");
    assert!(!fsck.is_clean());
    assert_eq!(fsck.problems[0].folio, record.folio);
}

archive_conformance!(two_instances_stamp_a_document_once);
async fn two_instances_stamp_a_document_once(fixture: &Fixture) {
    let setup = setup();
    let mut tsa = CrlTsa::start(Utc::now() + chrono::Duration::days(3650));
    let url = tsa.url();
    tsa.stop();
    let mut folios = Vec::new();
    for _ in 0..3 {
        folios.push(issue_asking(fixture, &client(&url), &setup).await.folio);
    }
    tsa.resume();
    let one = Extender::new(client(&url), Arc::clone(&setup.long_term)).expect("extender");
    let other = Extender::new(client(&url), Arc::clone(&setup.long_term)).expect("extender");
    let (a, b) = tokio::join!(
        one.stamp_awaiting(&fixture.archive, 100),
        other.stamp_awaiting(&fixture.archive, 100)
    );
    let (a, b) = (a.expect("runs"), b.expect("runs"));
    let mut extended: Vec<String> = a.extended.iter().chain(&b.extended).cloned().collect();
    extended.sort();
    folios.sort();
    assert_eq!(extended, folios, "each once: {a:?} {b:?}");
    assert!(a.failed.is_empty() && b.failed.is_empty(), "{a:?} {b:?}");
    let rows: i64 = {
        let pool = fixture.archive.store().pool();
        sqlx::query_scalar("SELECT count(*) FROM document_extensions")
            .fetch_one(pool)
            .await
            .expect("count")
    };
    assert_eq!(rows, 3);
}

archive_conformance!(renew_adds_an_archival_timestamp_only_where_the_evidence_expires_soon);
async fn renew_adds_an_archival_timestamp_only_where_the_evidence_expires_soon(fixture: &Fixture) {
    let setup = setup();
    // A TSA whose certificate expires in 20 days, and one in ten years.
    let soon = CrlTsa::start(Utc::now() + chrono::Duration::days(20));
    let lasting = CrlTsa::start(Utc::now() + chrono::Duration::days(3650));
    let expiring = issue_asking(fixture, &client(&soon.url()), &setup).await;
    let safe = issue_asking(fixture, &client(&lasting.url()), &setup).await;
    assert!(expiring.awaiting_timestamp_since.is_none() && safe.awaiting_timestamp_since.is_none());

    let extender = Extender::new(client(&lasting.url()), Arc::clone(&setup.long_term)).expect("extender");
    let within = |days: i64| Utc::now() + chrono::Duration::days(days);
    let summary = extender
        .renew(&fixture.archive, within(90), 100)
        .await
        .expect("runs");
    assert_eq!(summary.extended, vec![expiring.folio.clone()], "{summary:?}");
    let renewed = reload(&fixture.archive, &expiring).await;
    let pdf = fixture.archive.pdf(&renewed).await.expect("pdf");
    let issued = fixture
        .archive
        .blobs()
        .get(expiring.pdf_sha256.as_deref().expect("issued hash"))
        .await
        .expect("issued");
    assert!(pdf.starts_with(&issued));
    let report = verify_pdf(&pdf, &trusting(fixture)).expect("reads");
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(report.document_timestamps.len(), 1);
    // The DSS holds the expiring TSA's validation data too, under the new
    // time-stamp.
    let stored = sello::pdf::stored_validation_data(&pdf).expect("dss");
    assert!(stored.crls.len() >= 2, "both TSAs' CRLs: {}", stored.crls.len());

    // Idempotent: the archival time-stamp lasts ten years now.
    let again = extender
        .renew(&fixture.archive, within(90), 100)
        .await
        .expect("runs");
    assert!(again.extended.is_empty(), "{again:?}");
    assert_eq!(
        reload(&fixture.archive, &safe).await.current_pdf_sha256,
        safe.pdf_sha256,
        "the lasting one untouched"
    );
    // A TSA whose own certificate expires as soon cannot outlive the
    // evidence: nothing is stored, and saying so is all renew does.
    let stuck = issue_asking(fixture, &client(&soon.url()), &setup).await;
    let same = Extender::new(client(&soon.url()), Arc::clone(&setup.long_term)).expect("extender");
    for _ in 0..2 {
        let summary = same.renew(&fixture.archive, within(90), 100).await.expect("runs");
        assert!(summary.extended.is_empty(), "{summary:?}");
        assert_eq!(summary.failed.len(), 1, "{summary:?}");
        assert!(summary.failed[0].1.contains("no después"), "{summary:?}");
    }
    let unchanged = reload(&fixture.archive, &stuck).await;
    assert_eq!(unchanged.current_pdf_sha256, stuck.pdf_sha256);
    assert!(fixture.archive.fsck(false).await.expect("fsck").is_clean());
    assert_eq!(fixture.archive.verify_log().await.expect("verifies"), Ok(3));
}

archive_conformance!(the_service_stamps_documents_awaiting_their_timestamp_by_itself);
async fn the_service_stamps_documents_awaiting_their_timestamp_by_itself(fixture: &Fixture) {
    let setup = setup();
    let mut tsa = CrlTsa::start(Utc::now() + chrono::Duration::days(3650));
    let url = tsa.url();
    tsa.stop();
    let record = issue_asking(fixture, &client(&url), &setup).await;
    assert!(record.awaiting_timestamp_since.is_some());
    tsa.resume();

    // `sello serve` as configured with a TSA: its retry runs at start, then
    // every `retry_minutes`.
    let data_dir = tempfile::tempdir().expect("temp dir");
    let root = tsa.root_pem().display().to_string();
    let config = crate::http::service_config(&[
        ("SELLO_DATA_DIR", data_dir.path().to_str().expect("utf-8")),
        ("SELLO_TIMESTAMP_TSA", &url),
        ("SELLO_TIMESTAMP_TRUSTED_ROOTS", &root),
        ("SELLO_TIMESTAMP_RETRY_MINUTES", "60"),
    ]);
    let app = sello::app::Application::builder(&config)
        .archive(fixture.archive.clone())
        .key(fixture.key.clone())
        .trusted(trusting(fixture))
        .log_key(sello::keys::LogKey::in_memory("sello.test/log".into()).expect("log key"))
        .build()
        .await
        .expect("the service is assembled");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let stamped = loop {
        let now = reload(&fixture.archive, &record).await;
        if now.awaiting_timestamp_since.is_none() {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "not stamped within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The retry ran as the period's job on the shared queue, once.
    let queue = sello::queue::Queue::with_holder(fixture.archive.store().clone(), "prueba");
    let job = loop {
        let jobs = queue.of_kind(sello::app::TIMESTAMP_RETRY).await.expect("jobs");
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        if jobs[0].state.is_final() {
            break jobs[0].clone();
        }
        assert!(std::time::Instant::now() < deadline, "the job did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((job.state, job.attempts), (sello::queue::JobState::Done, 1));
    assert_eq!(
        job.progress,
        Some(serde_json::json!({"resumen": "1 sellados, 0 con error"}))
    );
    let _ = stop.send(());
    serving.await.expect("joins").expect("served");
    let pdf = fixture.archive.pdf(&stamped).await.expect("pdf");
    let report = verify_pdf(&pdf, &trusting(fixture)).expect("reads");
    assert!(
        report.is_valid() && report.document_timestamps.len() == 1,
        "{report:?}"
    );
}
