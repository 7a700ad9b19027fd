//! Whether the service stays responsive while a bulk job runs (a bench
//! binary; release build, quiet machine): `cargo bench --bench responsive`.
//! Starts the service on a local port, assembled as `sello serve` does it,
//! with the web app's bulk job (the same `BulkIssuer`, on the same runtime,
//! one worker per core) issuing `SELLO_BENCH_ROWS` cartas de compromiso
//! (default 1,500). A beneficiary's phone is played by one client asking for a document's
//! public page (`GET /v/<code>`) over a new connection each time, first
//! for 10 s with the service idle, then for as long as the job runs.
//! Prints the latency percentiles of both, and the job's rate.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::TimeZone as _;
use sello::app::Application;
use sello::bulk::{BulkIssuer, Mapping, Responsible, RowOutcome, prepare, read_csv};
use sello::keys::{KeyStatus, TrustedKeys};
use support::{Bench, cartas_spreadsheet};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const IDLE: Duration = Duration::from_secs(10);

/// One page load from a fresh connection, as a phone makes it.
async fn page_load(address: std::net::SocketAddr, path: &str) -> Duration {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: sello\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "the public page answers: {}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
    started.elapsed()
}

/// Page loads, one after another, until `done` says stop.
async fn page_loads(address: std::net::SocketAddr, path: &str, done: impl Fn() -> bool) -> Vec<Duration> {
    let mut times = Vec::new();
    while !done() {
        times.push(page_load(address, path).await);
    }
    times
}

fn describe(label: &str, mut times: Vec<Duration>) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    format!(
        "{label}: {} page loads, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
        times.len(),
        at(0.50),
        at(0.95),
        at(0.99),
        at(1.0)
    )
}

fn main() {
    let rows: usize = std::env::var("SELLO_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500);
    let bench = Bench::new();
    let form = Arc::new(bench.form("carta-compromiso").clone());
    let renderer = Arc::new(bench.renderer);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let forms = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        let config = sello::config::Config::from_sources(
            None,
            [
                ("SELLO_FORMS_DIR".to_owned(), forms.display().to_string()),
                ("SELLO_OFFICE_CODE".to_owned(), "MIDES".to_owned()),
                // Every page load is counted, none refused: this measures time.
                ("SELLO_LOOKUPS_PER_MINUTE".to_owned(), "0".to_owned()),
            ],
        )
        .expect("config");
        let (archive, key) = support::fresh_office(dir.path()).await;
        let mut trusted = TrustedKeys::default();
        trusted
            .add(key.certificate.clone(), KeyStatus::Active)
            .expect("trust");
        let app = Application::builder(&config)
            .archive(archive.clone())
            .key(key.clone())
            .trusted(trusted)
            .log_key(sello::keys::LogKey::in_memory("sello.test/log".into()).expect("log key"))
            .build()
            .await
            .expect("the service is assembled");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("port");
        let address = listener.local_addr().expect("address");
        tokio::spawn(app.serve(listener, std::future::pending()));

        let sheet = read_csv(cartas_spreadsheet(rows + 1).as_bytes()).expect("csv");
        let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
        let issued_at = chrono_tz::America::Panama
            .with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
            .single()
            .expect("time");
        let when = sello::forms::IssueDate::issued(&issued_at);
        let (mut ready, problems) = prepare(&form, &sheet, &mapping, None, when);
        assert!(problems.is_empty(), "{:?}", &problems[..problems.len().min(3)]);
        let responsible = Responsible {
            name: "Dirección de la Red de Oportunidades",
            cargo: "Sello electrónico",
            actor: "bench",
        };
        let issuer = BulkIssuer::new(archive, renderer, key, &config.base_url, &responsible, issued_at)
            .signed_on_paper(true);

        // The document the beneficiary checks, issued before the job.
        let first = vec![ready.remove(0)];
        let stop = AtomicBool::new(false);
        let outcomes = issuer.issue_rows(form.clone(), first, &stop, &|_| {}).await;
        let Some(RowOutcome::Issued(checked)) = outcomes.first() else {
            panic!("the first carta is issued: {outcomes:?}");
        };
        let path = checked.url[checked.url.find("/v/").expect("a /v/ link")..].to_owned();

        let idle_until = Instant::now() + IDLE;
        let idle = page_loads(address, &path, || Instant::now() >= idle_until).await;

        let finished = Arc::new(AtomicBool::new(false));
        let job = {
            let finished = finished.clone();
            async move {
                let started = Instant::now();
                let outcomes = issuer.issue_rows(form, ready, &stop, &|_| {}).await;
                finished.store(true, Ordering::Relaxed);
                let issued = outcomes
                    .iter()
                    .filter(|o| matches!(o, RowOutcome::Issued(_)))
                    .count();
                (issued, started.elapsed())
            }
        };
        // The phone is a task of its own, as each request is in the service.
        let phone = tokio::spawn({
            let finished = finished.clone();
            async move { page_loads(address, &path, || finished.load(Ordering::Relaxed)).await }
        });
        let (issued, took) = job.await;
        let busy = phone.await.expect("page loads");
        assert_eq!(issued, rows, "every row issued");
        println!("{}", describe("idle", idle));
        println!(
            "{}; bulk job: {issued} cartas in {:.1} s ({:.0} docs/s)",
            describe("during the bulk job", busy),
            took.as_secs_f64(),
            issued as f64 / took.as_secs_f64()
        );
    });
}
