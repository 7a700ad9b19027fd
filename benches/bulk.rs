//! Bulk issuance benchmark (a bench binary; release build, quiet machine):
//! `cargo bench --bench bulk`. Generates a realistic spreadsheet of
//! `SELLO_BENCH_ROWS` families (default 51,717, the households of Panama's
//! Red de Oportunidades) as CSV, then times what `sello bulk
//! carta-compromiso` does: read, map and validate every row, issue (render,
//! sign, store, commit) with one worker per core into a fresh SQLite
//! archive, and search the result. Prints documents per second, the total
//! time, the CPU time per carta and the peak resident memory.
//! `SELLO_BENCH_WORKERS` overrides the number of workers.
//!
//! First it renders and signs the first 1,000 cartas on the same workers
//! without the archive: the ceiling the bulk run approaches on this
//! machine, so a slow run shows whether rendering or storing is the cost.

mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::TimeZone as _;
use sello::archive::SearchQuery;
use sello::bulk::{BulkIssuer, Mapping, ReadyRow, Responsible, prepare, read_csv};
use sello::forms::FormSpec;
use sello::keys::OfficeKey;
use sello::render::Renderer;
use sello::signed_pdf::{IssueRequest, issue};
use support::{Bench, cartas_spreadsheet};

fn peak_memory_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user and system, every thread) this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name: state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // Linux counts them in hundredths of a second.
    (ticks(11) + ticks(12)) / 100.0
}

/// What the bulk run renders and signs with, for timing that alone.
struct Press {
    renderer: Arc<Renderer>,
    key: Arc<OfficeKey>,
    base_url: &'static str,
    responsible: Responsible<'static>,
    issued_at: chrono::DateTime<chrono_tz::Tz>,
    workers: usize,
}

/// Renders and signs `rows` on `workers` threads, storing nothing;
/// returns the seconds taken and the CPU seconds used.
fn render_and_sign_only(issuer: &Press, form: &FormSpec, rows: &[ReadyRow]) -> (f64, f64) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    // On rayon's pool, as the bulk run renders.
    rayon::scope(|scope| {
        for _ in 0..issuer.workers {
            scope.spawn(|_| {
                while let Some(row) = rows.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                    let request = IssueRequest {
                        form,
                        data: &row.data,
                        issued_at: issuer.issued_at,
                        folio: Some(format!("MIDES-PRUEBA-{}", row.line)),
                        signer: issuer.responsible.name,
                        cargo: issuer.responsible.cargo,
                        endorsements: &[],
                        hand_signatures: &[],
                        on_paper: &[],
                        citations: &[],
                    };
                    issue(&issuer.renderer, &issuer.key, issuer.base_url, &request).expect("issued");
                }
            });
        }
    });
    (started.elapsed().as_secs_f64(), cpu_seconds() - cpu)
}

fn main() {
    let rows: usize = std::env::var("SELLO_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(51_717);
    let workers = std::env::var("SELLO_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let bench = Bench::new();
    let form = Arc::new(bench.form("carta-compromiso").clone());
    let renderer = Arc::new(bench.renderer);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let started = Instant::now();
        let sheet = read_csv(cartas_spreadsheet(rows).as_bytes()).expect("csv");
        let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
        let issued_at = chrono_tz::America::Panama
            .with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
            .single()
            .expect("time");
        let when = sello::forms::IssueDate::issued(&issued_at);
        let (ready, problems) = prepare(&form, &sheet, &mapping, None, when);
        assert!(problems.is_empty(), "{:?}", &problems[..problems.len().min(3)]);
        let prepared = started.elapsed();

        let (archive, key) = support::fresh_office(dir.path()).await;
        let press = Press {
            renderer,
            key,
            base_url: "https://sello.mides.gob.pa",
            responsible: Responsible {
                name: "Dirección de la Red de Oportunidades",
                cargo: "Sello electrónico",
                actor: "bench",
            },
            issued_at,
            workers,
        };
        let issuer = BulkIssuer::new(
            archive.clone(),
            press.renderer.clone(),
            press.key.clone(),
            press.base_url,
            &press.responsible,
            issued_at,
        )
        .with_workers(workers)
        .signed_on_paper(true);
        // Warm (fonts, the template's evaluation), then timed.
        render_and_sign_only(&press, &form, &ready[..ready.len().min(50)]);
        let sample = &ready[..ready.len().min(1000)];
        let (alone, alone_cpu) = render_and_sign_only(&press, &form, sample);
        println!(
            "render and sign only, {} cartas, {workers} workers: {:.0} docs/s, {:.1} ms of CPU per carta",
            sample.len(),
            sample.len() as f64 / alone,
            alone_cpu * 1000.0 / sample.len() as f64
        );

        let (issuing, cpu) = (Instant::now(), cpu_seconds());
        let stop = AtomicBool::new(false);
        let outcomes = issuer.issue_rows(form.clone(), ready, &stop, &|_| {}).await;
        let issued = issuing.elapsed();
        let issued_cpu = cpu_seconds() - cpu;
        let total = started.elapsed();
        let failed: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                sello::bulk::RowOutcome::Failed(problem) => Some(problem),
                _ => None,
            })
            .collect();
        assert!(
            failed.is_empty(),
            "{} rows failed, the first: {:?}",
            failed.len(),
            &failed[..failed.len().min(5)]
        );
        let query = SearchQuery {
            text: "nunez ibanez".into(),
            page: 1,
            per_page: 20,
            ..SearchQuery::default()
        };
        let searching = Instant::now();
        let found = archive.search(&query).await.expect("search");
        let searched = searching.elapsed();
        assert!(found.total > 0, "issued documents are searchable");
        // The last carta too: the run ends when all it issued is indexed.
        let last = SearchQuery {
            text: format!("FAM-13112-{:06}", rows - 1),
            ..query.clone()
        };
        let last = archive.search(&last).await.expect("search");
        assert_eq!(last.total, 1, "the last carta is searchable");
        println!(
            "bulk carta-compromiso: {rows} rows, {workers} workers: read+validate {:.1} s; issue {:.1} s \
             ({:.0} docs/s, {:.1} ms of CPU per carta); total {:.1} s; search «nunez ibanez» {} hits in {:.1} ms; \
             peak memory {:.0} MB",
            prepared.as_secs_f64(),
            issued.as_secs_f64(),
            rows as f64 / issued.as_secs_f64(),
            issued_cpu * 1000.0 / rows as f64,
            total.as_secs_f64(),
            found.total,
            searched.as_secs_f64() * 1000.0,
            peak_memory_mb()
        );
    });
}
