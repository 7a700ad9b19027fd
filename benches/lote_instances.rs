//! One lote on one `sello serve` and on two (a bench binary):
//! `cargo bench --bench lote_instances`. Each run has a fresh schema of the
//! PostgreSQL at `SELLO_BENCH_DATABASE_URL` (default: the tests' server,
//! database `test`) and a blob folder both instances share; the lote, of
//! `SELLO_BENCH_ROWS` cartas (default 20,000), is recorded with its rows
//! as an upload records it, and the instances, already listening, take
//! its jobs from the queue. Prints for each: the wall time from the lote
//! recorded to finished, the CPU time of the instances per document, the
//! documents per second and per CPU-second (per core kept busy), the
//! chunks each instance issued, and one against two.
//!
//! Then, with two instances and `SELLO_BENCH_RECLAIM_ROWS` cartas (default
//! 1,500), kills one with SIGKILL while it holds a chunk and prints how
//! long the chunk took to be claimed by the other (at most the lease, 20
//! s, plus the rest of the chunk the survivor was issuing) and to be
//! finished.
//!
//! The instances are the `sello` binary of this build; everything else on
//! the machine competes with them, so compare CPU per document and the
//! ratios measured in one run.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::TimeZone as _;
use sello::archive::Store;
use sello::bulk::lotes::{NewLote, create_lote};
use sello::bulk::{Mapping, prepare, read_csv};
use sello::public_id::PublicId;
use support::{Bench, cartas_spreadsheet};

const OFFICE: &str = "DIF-BENCH";

/// A `sello serve` process; killed when dropped.
struct Instance {
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    /// CPU seconds (user and system) the process has used so far.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }
}

/// One installation: a schema of its own, a data and blob folder.
struct Installation {
    url: String,
    schema: String,
    admin: sqlx::PgPool,
    work: tempfile::TempDir,
}

impl Installation {
    async fn new(base_url: &str, name: &str) -> Self {
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(base_url)
            .await
            .expect("PostgreSQL is running");
        let mut random = [0u8; 4];
        getrandom::fill(&mut random).expect("random");
        let schema = format!(
            "sello_bench_{name}_{}",
            random.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("schema");
        let url = format!("{base_url}?options=-c%20search_path%3D{schema}");
        Self {
            url,
            schema,
            admin,
            work: tempfile::tempdir().expect("temp"),
        }
    }

    fn serve(&self) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("address")
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
        // The service refuses settings it does not know, as this bench's.
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SELLO_BENCH_")) {
            command.env_remove(name);
        }
        let mut child = command
            .arg("serve")
            .current_dir(self.work.path())
            .env("SELLO_DATABASE_URL", &self.url)
            .env("SELLO_DATA_DIR", self.work.path().join("datos"))
            .env("SELLO_BLOB_STORE", self.work.path().join("documentos"))
            .env(
                "SELLO_FORMS_DIR",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms"),
            )
            .env("SELLO_OFFICE_CODE", OFFICE)
            .env("SELLO_LISTEN", format!("127.0.0.1:{port}"))
            .env("SELLO_BASE_URL", "http://sello.test")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sello serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (ready, listening) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
                if line.starts_with("Sello escucha") {
                    let _ = ready.send(());
                }
            }
        });
        if listening.recv_timeout(Duration::from_secs(300)).is_err() {
            panic!(
                "sello serve did not start:\n{}",
                log.lock().map(|l| l.clone()).unwrap_or_default()
            );
        }
        Instance { child }
    }

    async fn store(&self) -> Store {
        Store::open(&self.url).await.expect("store")
    }

    async fn drop_now(self) {
        let _ = sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(&self.admin)
            .await;
    }
}

/// Records a lote of `rows` cartas as an upload does; returns its id.
async fn record_lote(store: &Store, rows: usize) -> (i64, usize) {
    let bench = Bench::new();
    let form = bench.form("carta-compromiso");
    let sheet = read_csv(cartas_spreadsheet(rows).as_bytes()).expect("csv");
    let mapping = Mapping::new(form, &sheet.headers, None).expect("mapping");
    let issued_at = chrono_tz::America::Santiago
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("time");
    let (ready, problems) = prepare(
        form,
        &sheet,
        &mapping,
        None,
        sello::forms::IssueDate::On(issued_at.date_naive()),
    );
    assert!(problems.is_empty(), "{problems:?}");
    let lote = NewLote {
        public_id: PublicId::generate().expect("random"),
        office_code: OFFICE,
        form: "carta-compromiso",
        file_name: "familias.csv",
        on_paper: false,
        issued_at,
        total_rows: rows,
        unused_columns: &[],
        signer: "Directora de pruebas",
        cargo: "Directora",
        actor: "banco.de.pruebas",
        rows: &ready,
        problems: &[],
        awaiting_approval: false,
    };
    (create_lote(store, &lote).await.expect("lote"), ready.len())
}

async fn scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .expect("query")
}

async fn chunks_by(store: &Store, pid: u32) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'lote-tramo' AND state = 'done' AND lease_holder LIKE $1",
    )
    .bind(format!("{pid}-%"))
    .fetch_one(store.pool())
    .await
    .expect("count")
}

/// What one run measured.
struct Measured {
    seconds: f64,
    cpu: f64,
    documents: i64,
}

async fn run(base_url: &str, instances: usize, rows: usize) -> Measured {
    let installation = Installation::new(base_url, &format!("{instances}i")).await;
    let servers: Vec<Instance> = (0..instances).map(|_| installation.serve()).collect();
    let store = installation.store().await;
    let cpu_before: f64 = servers.iter().map(Instance::cpu_seconds).sum();
    let started = Instant::now();
    let (lote, valid) = record_lote(&store, rows).await;
    loop {
        let finished = scalar(
            &store,
            &format!("SELECT COUNT(*) FROM lotes WHERE id = {lote} AND finished_at IS NOT NULL"),
        )
        .await;
        if finished == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu: f64 = servers.iter().map(Instance::cpu_seconds).sum::<f64>() - cpu_before;
    let documents = scalar(&store, "SELECT COUNT(*) FROM documents WHERE status = 'emitido'").await;
    assert_eq!(documents, valid as i64, "every row issued once");
    let annulled = scalar(&store, "SELECT COUNT(*) FROM documents WHERE status <> 'emitido'").await;
    let mut by_instance = Vec::new();
    for server in &servers {
        by_instance.push(chunks_by(&store, server.child.id()).await);
    }
    println!(
        "{instances} instance(s): {documents} cartas in {seconds:.1} s = {:.1} cartas/s; \
         CPU {cpu:.1} s = {:.1} ms per carta, {:.2} cartas per CPU-second; chunks per instance {by_instance:?}; \
         {annulled} folio(s) annulled",
        documents as f64 / seconds,
        cpu * 1000.0 / documents as f64,
        documents as f64 / cpu,
    );
    drop(servers);
    store.pool().close().await;
    installation.drop_now().await;
    Measured {
        seconds,
        cpu,
        documents,
    }
}

/// Kills one of two instances while it holds a chunk; prints how long
/// the chunk took to be claimed by the other, and to be finished.
async fn reclaim(base_url: &str, rows: usize) {
    let installation = Installation::new(base_url, "reclaim").await;
    let first = installation.serve();
    let second = installation.serve();
    let store = installation.store().await;
    let (lote, _) = record_lote(&store, rows).await;
    let first_pid = first.child.id();
    let held = format!(
        "SELECT COALESCE(MIN(id), 0) FROM jobs WHERE kind = 'lote-tramo' AND state = 'running' \
         AND lease_holder LIKE '{first_pid}-%' AND EXISTS (SELECT 1 FROM jobs d WHERE d.kind = 'lote-tramo' \
         AND d.state = 'done')"
    );
    let job = loop {
        let job = scalar(&store, &held).await;
        if job != 0 {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    drop(first);
    let killed = Instant::now();
    let second_pid = second.child.id();
    let claimed = loop {
        let holder: String = sqlx::query_scalar("SELECT lease_holder FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(store.pool())
            .await
            .expect("job");
        if holder.starts_with(&format!("{second_pid}-")) {
            break killed.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let finished = loop {
        let done = scalar(
            &store,
            &format!("SELECT COUNT(*) FROM jobs WHERE id = {job} AND state = 'done'"),
        )
        .await;
        if done == 1 {
            break killed.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    loop {
        let finished = scalar(
            &store,
            &format!("SELECT COUNT(*) FROM lotes WHERE id = {lote} AND finished_at IS NOT NULL"),
        )
        .await;
        if finished == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let gaps = scalar(&store, "SELECT COUNT(*) FROM documents WHERE status <> 'emitido'").await;
    println!(
        "reclaim: the dead instance's chunk was claimed {:.1} s after SIGKILL and finished {:.1} s after; \
         {gaps} folio(s) not issued",
        claimed.as_secs_f64(),
        finished.as_secs_f64()
    );
    drop(second);
    store.pool().close().await;
    installation.drop_now().await;
}

#[tokio::main]
async fn main() {
    let base_url = std::env::var("SELLO_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rows = number("SELLO_BENCH_ROWS", 20_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("lote of {rows} cartas; this machine has {cores} core(s)");
    let one = run(&base_url, 1, rows).await;
    let two = run(&base_url, 2, rows).await;
    println!(
        "two against one: wall time {:.2}x, throughput {:.2}x, CPU per carta {:.2}x",
        two.seconds / one.seconds,
        (two.documents as f64 / two.seconds) / (one.documents as f64 / one.seconds),
        (two.cpu / two.documents as f64) / (one.cpu / one.documents as f64),
    );
    reclaim(&base_url, number("SELLO_BENCH_RECLAIM_ROWS", 1_500)).await;
}
