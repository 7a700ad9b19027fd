//! Archive benchmarks (a bench binary; run on a quiet machine):
//!
//! - `cargo bench --bench archive -- issue`: issuance throughput (render +
//!   sign + store + commit), sequential and with two workers, on SQLite and
//!   on PostgreSQL.
//! - `cargo bench --bench archive -- search`: search latency (median, p95)
//!   over an archive of `SELLO_BENCH_DOCS` documents (default 1,000,000) on
//!   SQLite and on PostgreSQL. The archive is synthetic: rows and index
//!   entries written straight into the database with realistic Spanish
//!   names, places and folios, folded exactly as issuance folds them. No
//!   PDF is rendered (a million renders would take hours, and search never
//!   reads them).
//!
//! - `cargo bench --bench archive -- log`: what the transparency log costs:
//!   CPU time per issuance on SQLite (the log's append is part of it and
//!   cannot be switched off), CPU time per entry of recomputing the log
//!   (`verify_log`: the same row read and hash the append does, plus the
//!   PDF's hash), and the time of a tree head and an inclusion proof at
//!   that size (what `/v/<code>/prueba` computes per request).
//!
//! - `cargo bench --bench archive -- timestamp`: what an RFC 3161
//!   time-stamp adds to an issuance: oficios issued on SQLite in
//!   alternating blocks with and without a time-stamp from a local TSA
//!   (certomancer on loopback, P-256 and RSA), through one reused client;
//!   CPU time of this process per document (the TSA's own CPU is another
//!   process's) and wall time. `SELLO_BENCH_TIMESTAMP_DOCS` documents of
//!   each kind (default 100).
//!
//! - `cargo bench --bench archive -- ltv`: what long-term validation adds,
//!   in CPU time of this process per oficio (certomancer's TSA and CRLs on
//!   loopback do their work in another process): issuing with a
//!   time-stamp, with and without the DSS (the office's chain and CRL, the
//!   TSA's, embedded before the signature), in alternating blocks of ten;
//!   and adding a document time-stamp with its validation data to a
//!   document issued without one. `SELLO_BENCH_LTV_DOCS` of each (default
//!   100).
//!
//! PostgreSQL is `SELLO_BENCH_DATABASE_URL`, by default the local test server.

#[path = "../tests/support/ltv_pki.rs"]
mod ltv_pki;
mod support;
#[path = "../tests/support/tsa.rs"]
mod tsa;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeZone as _;
use sello::archive::{Archive, BlobStore, FolioFormat, IssueOrder, Office, SearchQuery, Store, text::fold};
use sello::keys::{KeyAlgorithm, OfficeKey};
use sello::pdf::TsaClient;
use sello::signed_pdf::{IssueRequest, issue_stamped};
use serde_json::Value;
use support::{Bench, example, oficio_round};

const GIVEN: [&str; 40] = [
    "María",
    "José",
    "Juana",
    "Francisco",
    "Rosa",
    "Juan",
    "Ana",
    "Pedro",
    "Verónica",
    "Luis",
    "Esperanza",
    "Miguel",
    "Carolina",
    "Felipe",
    "Camila",
    "Ignacio",
    "Valentina",
    "Matías",
    "Catalina",
    "Tomás",
    "Fernanda",
    "Sebastián",
    "Constanza",
    "Benjamín",
    "Josefa",
    "Vicente",
    "Daniela",
    "Cristóbal",
    "Gabriela",
    "Andrés",
    "Ximena",
    "Héctor",
    "Lucía",
    "Raúl",
    "Marisol",
    "Óscar",
    "Yolanda",
    "Iván",
    "Noemí",
    "Rubén",
];
const SURNAMES: [&str; 60] = [
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Rodríguez",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
    "Rivera",
    "Gómez",
    "Díaz",
    "Cruz",
    "Morales",
    "Reyes",
    "Gutiérrez",
    "Ortiz",
    "Ruiz",
    "Muñoz",
    "Rojas",
    "Soto",
    "Contreras",
    "Silva",
    "Sepúlveda",
    "Morales",
    "Fuentes",
    "Valenzuela",
    "Araya",
    "Espinoza",
    "Castillo",
    "Tapia",
    "Vergara",
    "Núñez",
    "Carrasco",
    "Castañón",
    "Loredo",
    "Zúñiga",
    "Ibáñez",
    "Peña",
    "Benítez",
    "Quiñones",
    "Orellana",
    "Cáceres",
    "Jiménez",
    "Vásquez",
    "Aguilar",
    "Mendoza",
    "Navarro",
    "Bravo",
    "Saavedra",
    "Toledo",
    "Alvarado",
    "Acuña",
    "Pizarro",
    "Salinas",
    "Olivares",
    "Cortés",
    "Beltrán",
];
const PLACES: [&str; 12] = [
    "La Pintana",
    "Puente Alto",
    "San Bernardo",
    "Soledad de Graciano Sánchez",
    "Ciudad Valles",
    "Colón",
    "San Miguelito",
    "Chepo",
    "Renca",
    "Lo Espejo",
    "Rioverde",
    "Matehuala",
];
const FORMS: [(&str, &str, &str); 6] = [
    ("carta-compromiso", "CA", "Carta de Compromiso"),
    ("plan-intervencion", "PL", "Plan de Intervención"),
    ("caracterizacion-familia", "FI", "Caracterización de la familia"),
    ("oficio-ayuda-funcional", "OF", "Oficio de ayuda funcional"),
    ("acta-primer-contacto", "AC", "Acta de primer contacto"),
    ("informe-social", "IN", "Informe social"),
];

/// A small deterministic generator, so every run builds the same archive.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn main() {
    let mode = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if mode.is_empty() || mode == "issue" {
            issue_throughput().await;
        }
        if mode.is_empty() || mode == "search" {
            search_latency().await;
        }
        if mode.is_empty() || mode == "log" {
            log_cost().await;
        }
        if mode.is_empty() || mode == "timestamp" {
            timestamp_cost(tsa::TsaKind::P256).await;
            timestamp_cost(tsa::TsaKind::RsaSha256).await;
        }
        if mode.is_empty() || mode == "ltv" {
            ltv_cost();
        }
    });
}

/// CPU seconds (user and system, every thread) this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

async fn log_cost() {
    use sello::tlog::merkle;
    let bench = Bench::new();
    let key_dir = tempfile::tempdir().expect("temp");
    let key = OfficeKey::generate(&key_dir.path().join("k"), "DIF", KeyAlgorithm::Ed25519).expect("key");
    let count: usize = std::env::var("SELLO_BENCH_LOG_DOCS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().expect("temp");
    let store = Store::open(&format!("sqlite://{}", dir.path().join("sello.db").display()))
        .await
        .expect("db");
    let blobs = BlobStore::open(dir.path().join("blobs").to_str().expect("utf-8")).expect("blobs");
    let archive = Archive::new(store, blobs, office(), FolioFormat::default());
    let base = example("oficio-comision");
    let cpu = cpu_seconds();
    let mut rendering = Duration::ZERO;
    for round in 0..count {
        rendering += issue_one(&archive, &bench, &key, &oficio_round(&base, round), None).await;
    }
    let issuing_cpu = cpu_seconds() - cpu;
    let cpu = cpu_seconds();
    let size = archive
        .verify_log()
        .await
        .expect("runs")
        .expect("the log matches");
    let verify_cpu = cpu_seconds() - cpu;
    let leaves = archive.log_leaves().await.expect("leaves");
    let started = Instant::now();
    let head = merkle::root(&leaves);
    let proof = merkle::inclusion_proof(count / 2, &leaves).expect("proof");
    merkle::verify_inclusion((count / 2) as u64, size, &leaves[count / 2], &proof, &head).expect("holds");
    let proving = started.elapsed();
    println!(
        "log sqlite: {count} oficios issued with the log, {:.1} ms of CPU each (render + sign {:.1} ms); \
         recomputing the log {:.2} ms of CPU per entry; tree head + inclusion proof at size {size}: {:.2} ms",
        issuing_cpu * 1000.0 / count as f64,
        rendering.as_secs_f64() * 1000.0 / count as f64,
        verify_cpu * 1000.0 / count as f64,
        proving.as_secs_f64() * 1000.0,
    );
}

/// CPU and wall time per oficio with and without a time-stamp, measured
/// in alternating blocks of ten in one run so that both see the same load.
async fn timestamp_cost(kind: tsa::TsaKind) {
    let bench = Bench::new();
    let tsa = tsa::Tsa::start_with(kind);
    let roots = x509_cert::Certificate::load_pem_chain(&std::fs::read(tsa.root_pem()).expect("root"))
        .expect("root certificate");
    // As the issuer makes it from `[timestamp]`: the tokens are checked
    // against the root before they are embedded.
    let client = TsaClient::with_roots(vec![tsa.url()], Duration::from_secs(10), roots);
    let key_dir = tempfile::tempdir().expect("temp");
    let key = OfficeKey::generate(&key_dir.path().join("k"), "DIF", KeyAlgorithm::Ed25519).expect("key");
    let count: usize = std::env::var("SELLO_BENCH_TIMESTAMP_DOCS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().expect("temp");
    let store = Store::open(&format!("sqlite://{}", dir.path().join("sello.db").display()))
        .await
        .expect("db");
    let blobs = BlobStore::open(dir.path().join("blobs").to_str().expect("utf-8")).expect("blobs");
    let archive = Archive::new(store, blobs, office(), FolioFormat::default());
    let base = example("oficio-comision");
    // Warm up both paths (fonts, the client's connection and thread).
    issue_one(&archive, &bench, &key, &oficio_round(&base, 0), None).await;
    issue_one(&archive, &bench, &key, &oficio_round(&base, 1), Some(&client)).await;
    let (mut cpu, mut wall) = ([0.0f64; 2], [Duration::ZERO; 2]);
    let mut round = 2;
    for _ in 0..count.div_ceil(10) {
        for (i, tsa) in [None, Some(&client)].into_iter().enumerate() {
            let (started_cpu, started) = (cpu_seconds(), Instant::now());
            for _ in 0..10 {
                issue_one(&archive, &bench, &key, &oficio_round(&base, round), tsa).await;
                round += 1;
            }
            cpu[i] += cpu_seconds() - started_cpu;
            wall[i] += started.elapsed();
        }
    }
    let issued = (count.div_ceil(10) * 10) as f64;
    let per = |seconds: f64| seconds * 1000.0 / issued;
    println!(
        "timestamp {kind:?} sqlite: {issued} oficios each way; without a time-stamp {:.1} ms of CPU ({:.1} ms wall) \
         per document, with one {:.1} ms of CPU ({:.1} ms wall): +{:.1} ms of CPU, +{:.1} ms wall",
        per(cpu[0]),
        per(wall[0].as_secs_f64()),
        per(cpu[1]),
        per(wall[1].as_secs_f64()),
        per(cpu[1] - cpu[0]),
        per(wall[1].as_secs_f64() - wall[0].as_secs_f64()),
    );
}

/// CPU per oficio of the DSS at issuance, and of a document time-stamp
/// with its validation data added later, measured in one run.
fn ltv_cost() {
    use sello::pdf::add_document_timestamp;
    use sello::signed_pdf::{LongTermSources, issue_long_term};
    let bench = Bench::new();
    let tsa = ltv_pki::CrlTsa::start(chrono::Utc::now() + chrono::Duration::days(3650));
    let client = TsaClient::new(vec![tsa.url()], Duration::from_secs(10));
    let dir = tempfile::tempdir().expect("temp");
    let env = [
        (
            "SELLO_FORMS_DIR",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("forms")
                .display()
                .to_string(),
        ),
        ("SELLO_DATA_DIR", dir.path().display().to_string()),
    ];
    let config =
        sello::config::Config::from_sources(None, env.map(|(k, v)| (k.to_owned(), v))).expect("config");
    let (key, _) = sello::keys::office_key(&config).expect("office key");
    let sources = LongTermSources::for_config(&config);
    let count: usize = std::env::var("SELLO_BENCH_LTV_DOCS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let form = bench.form("oficio-comision");
    let data = example("oficio-comision");
    let at = chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("time");
    let request = IssueRequest {
        form,
        data: &data,
        issued_at: at,
        folio: Some("DIF/OF/2026/0001".into()),
        signer: "Directora",
        cargo: "Directora",
        endorsements: &[],
        hand_signatures: &[],
        on_paper: &[],
        citations: &[],
    };
    let issue = |long_term: Option<&LongTermSources>| {
        issue_long_term(
            &bench.renderer,
            &key,
            "https://sello.example",
            &request,
            Some(&client),
            long_term,
        )
        .expect("issues")
    };
    // Warm up: fonts, the client, the TSA's CRL fetched once and kept.
    issue(None);
    issue(Some(&sources));
    let mut cpu = [0.0f64; 2];
    let mut sizes = [0usize; 2];
    for _ in 0..count.div_ceil(10) {
        for (i, long_term) in [None, Some(&sources)].into_iter().enumerate() {
            let started = cpu_seconds();
            for _ in 0..10 {
                sizes[i] = issue(long_term).pdf.len();
            }
            cpu[i] += cpu_seconds() - started;
        }
    }
    // A document time-stamp and its validation data, added to documents
    // issued without a time-stamp (with their DSS).
    let unstamped: Vec<Vec<u8>> = (0..count.div_ceil(10) * 10)
        .map(|_| {
            issue_long_term(
                &bench.renderer,
                &key,
                "https://sello.example",
                &request,
                None,
                Some(&sources),
            )
            .expect("issues")
            .pdf
        })
        .collect();
    let started = cpu_seconds();
    for pdf in &unstamped {
        let (stamped, _) = add_document_timestamp(pdf, &client).expect("stamped");
        sources.complete(stamped).expect("dss");
    }
    let stamping = cpu_seconds() - started;
    let issued = (count.div_ceil(10) * 10) as f64;
    let per = |seconds: f64| seconds * 1000.0 / issued;
    println!(
        "ltv: {issued} oficios each way, time-stamped; without the DSS {:.2} ms of CPU per document ({} bytes), \
         with it {:.2} ms ({} bytes): +{:.2} ms of CPU; a document time-stamp with its validation data added \
         later: {:.2} ms of CPU per document",
        per(cpu[0]),
        sizes[0],
        per(cpu[1]),
        sizes[1],
        per(cpu[1] - cpu[0]),
        per(stamping),
    );
}

fn postgres_url() -> String {
    std::env::var("SELLO_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh PostgreSQL schema for one run.
async fn postgres_store(name: &str) -> Store {
    let admin = sqlx::PgPool::connect(&postgres_url()).await.expect("PostgreSQL");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
        .execute(&admin)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&admin)
        .await
        .expect("create");
    Store::open_postgres_schema(&postgres_url(), name)
        .await
        .expect("opens")
}

fn office() -> Office {
    Office::new("DIF-SLP", "DIF Soledad")
}

async fn issue_throughput() {
    let bench = Arc::new(Bench::new());
    let key_dir = tempfile::tempdir().expect("temp");
    let key =
        Arc::new(OfficeKey::generate(&key_dir.path().join("k"), "DIF", KeyAlgorithm::Ed25519).expect("key"));
    let count = 300;
    for backend in ["sqlite", "postgres"] {
        for workers in [1usize, 2] {
            let dir = tempfile::tempdir().expect("temp");
            let store = match backend {
                "sqlite" => Store::open(&format!("sqlite://{}", dir.path().join("sello.db").display()))
                    .await
                    .expect("db"),
                _ => postgres_store("sello_bench_issue").await,
            };
            let blobs = BlobStore::open(dir.path().join("blobs").to_str().expect("utf-8")).expect("blobs");
            let archive = Archive::new(store, blobs, office(), FolioFormat::default());
            let started = Instant::now();
            let rendering = Arc::new(std::sync::Mutex::new(Duration::ZERO));
            let tasks: Vec<_> = (0..workers)
                .map(|worker| {
                    let (archive, key, bench) = (archive.clone(), key.clone(), bench.clone());
                    let rendering = rendering.clone();
                    tokio::spawn(async move {
                        let base = example("oficio-comision");
                        for round in (worker..count).step_by(workers) {
                            let spent =
                                issue_one(&archive, &bench, &key, &oficio_round(&base, round), None).await;
                            *rendering.lock().expect("lock") += spent;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
            let elapsed = started.elapsed();
            let rendering = *rendering.lock().expect("lock");
            println!(
                "issue {backend} workers={workers}: {count} oficios in {:.2} s = {:.0} documents/s \
                 ({:.1} ms each, of which render + sign {:.1} ms of one core)",
                elapsed.as_secs_f64(),
                count as f64 / elapsed.as_secs_f64(),
                elapsed.as_secs_f64() * 1000.0 / count as f64,
                rendering.as_secs_f64() * 1000.0 / count as f64,
            );
        }
    }
}

/// Issues one oficio; returns the time spent rendering and signing it.
async fn issue_one(
    archive: &Archive,
    bench: &Bench,
    key: &OfficeKey,
    data: &Value,
    tsa: Option<&TsaClient>,
) -> Duration {
    let form = bench.form("oficio-comision");
    let at = chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("time");
    let order = IssueOrder {
        form,
        data,
        issued_at: at,
        actor: "bench",
        expediente_id: None,
        idempotency_key: None,
        draft: None,
        endorsements: Vec::new(),
        on_paper: Vec::new(),
    };
    let mut spent = Duration::ZERO;
    archive
        .issue(&order, |reservation| {
            let started = Instant::now();
            let request = IssueRequest {
                form,
                data,
                issued_at: at,
                folio: Some(reservation.folio.to_string()),
                signer: "Directora",
                cargo: "Directora",
                endorsements: &[],
                hand_signatures: &[],
                on_paper: &[],
                citations: &reservation.citations,
            };
            let issued = issue_stamped(&bench.renderer, key, "https://sello.example", &request, tsa);
            spent = started.elapsed();
            issued
        })
        .await
        .expect("issues");
    spent
}

/// One synthetic document: its row fields and its folded index text.
struct Synthetic {
    id: i64,
    family: i64,
    form: &'static str,
    series: &'static str,
    folio: String,
    number: i64,
    issued_on: String,
    body: String,
    identity: String,
}

fn synthetic(rng: &mut Rng, id: i64, families: i64) -> Synthetic {
    let family = 1 + (rng.next() % families as u64) as i64;
    // A family's representative is the same in all its documents.
    let mut family_rng = Rng(0x9E37_79B9_7F4A_7C15 ^ family as u64);
    let representative = format!(
        "{} {} {} {}",
        family_rng.pick(&GIVEN),
        family_rng.pick(&GIVEN),
        family_rng.pick(&SURNAMES),
        family_rng.pick(&SURNAMES)
    );
    let surname = representative.split(' ').nth(2).unwrap_or_default().to_owned();
    let place = family_rng.pick(&PLACES);
    let identity = format!("{}-{}", 5_000_000 + family, family % 10);
    let (form, series, title) = FORMS[(rng.next() % FORMS.len() as u64) as usize];
    let number = id;
    let folio = format!("DIF-SLP/{series}/2026/{number:06}");
    let day = 1 + rng.next() % 330;
    let issued_on =
        (chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + chrono::Days::new(day)).to_string();
    let professional = format!("{} {}", rng.pick(&GIVEN), rng.pick(&SURNAMES));
    let body = fold(&format!(
        "{title}\n{folio}\nFamilia {surname}\n{place}\n{issued_on}\nFAM-{family:07}\nFamilia {surname}\n\
         Pasaje {} {}, {place}\n{representative}\n{identity}\n{professional}\nApoyo Familiar Integral\n\
         Unidad de Intervención Familiar, Municipalidad de {place}",
        rng.pick(&SURNAMES),
        rng.next() % 3000
    ));
    Synthetic {
        id,
        family,
        form,
        series,
        folio,
        number,
        issued_on,
        body,
        identity,
    }
}

/// Builds (or reuses) a synthetic archive of `docs` documents.
async fn build_synthetic(store: &Store, docs: i64, postgres_schema: Option<&str>) {
    let present: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents")
        .fetch_one(store.pool())
        .await
        .expect("count");
    if present == docs {
        println!("reusing the synthetic archive of {docs} documents");
        return;
    }
    let families = (docs / 4).max(1);
    let started = Instant::now();
    store
        .execute("INSERT INTO offices (code, name) VALUES ('DIF-SLP', 'DIF') ON CONFLICT DO NOTHING")
        .await
        .expect("office");
    for (_, series, _) in FORMS {
        store
            .execute(&format!("INSERT INTO series (office_code, code, name) VALUES ('DIF-SLP', '{series}', '{series}') ON CONFLICT DO NOTHING"))
            .await
            .expect("series");
    }
    // PostgreSQL is filled with array parameters, which only its own
    // driver binds.
    let postgres = match postgres_schema {
        Some(schema) => Some(
            sqlx::postgres::PgPoolOptions::new()
                .connect_with(
                    postgres_url()
                        .parse::<sqlx::postgres::PgConnectOptions>()
                        .expect("a PostgreSQL address")
                        .options([("search_path", schema)]),
                )
                .await
                .expect("PostgreSQL"),
        ),
        None => None,
    };
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    const BATCH: i64 = 20_000;
    let mut id = 1;
    while id <= docs {
        let batch: Vec<Synthetic> = (id..(id + BATCH).min(docs + 1))
            .map(|i| synthetic(&mut rng, i, families))
            .collect();
        match &postgres {
            None => {
                let mut tx = store.pool().begin().await.expect("tx");
                for doc in &batch {
                    sqlx::query("INSERT INTO expedientes (id, office_code, kind, key, title, opened_on, retention, public_id) \
                         VALUES ($1, 'DIF-SLP', 'familia', $2, $3, '2026-01-01', '10 años', lower(hex(randomblob(16)))) \
                         ON CONFLICT DO NOTHING")
                        .bind(doc.family).bind(format!("FAM-{:07}", doc.family)).bind(format!("Familia {}", doc.family))
                        .execute(&mut *tx).await.expect("expediente");
                    sqlx::query("INSERT INTO persons (id, office_code, identity, name) VALUES ($1, 'DIF-SLP', $2, 'x') ON CONFLICT DO NOTHING")
                        .bind(doc.family).bind(&doc.identity).execute(&mut *tx).await.expect("person");
                    sqlx::query("INSERT INTO documents (id, office_code, series_code, year, number, folio, form, expediente_id, \
                         status, data, request_sha256, code_hash, pdf_sha256, issued_at, issued_on, issued_by, reserved_at, public_id) \
                         VALUES ($1, 'DIF-SLP', $2, 2026, $3, $4, $5, $6, 'emitido', '{}', '', $7, '', $8, $8, 'bench', $8, \
                         lower(hex(randomblob(16))))")
                        .bind(doc.id).bind(doc.series).bind(doc.number).bind(&doc.folio).bind(doc.form).bind(doc.family)
                        .bind(format!("{:064x}", doc.id)).bind(&doc.issued_on)
                        .execute(&mut *tx).await.expect("document");
                    sqlx::query("INSERT INTO document_persons (document_id, person_id, role) VALUES ($1, $2, 'representante')")
                        .bind(doc.id).bind(doc.family).execute(&mut *tx).await.expect("link");
                    sqlx::query("INSERT INTO document_search (rowid, body) VALUES ($1, $2)")
                        .bind(doc.id)
                        .bind(&doc.body)
                        .execute(&mut *tx)
                        .await
                        .expect("index");
                }
                tx.commit().await.expect("commit");
            }
            Some(pool) => {
                let ids: Vec<i64> = batch.iter().map(|d| d.id).collect();
                let families: Vec<i64> = batch.iter().map(|d| d.family).collect();
                let keys: Vec<String> = batch.iter().map(|d| format!("FAM-{:07}", d.family)).collect();
                let identities: Vec<String> = batch.iter().map(|d| d.identity.clone()).collect();
                let series: Vec<&str> = batch.iter().map(|d| d.series).collect();
                let folios: Vec<String> = batch.iter().map(|d| d.folio.clone()).collect();
                let forms: Vec<&str> = batch.iter().map(|d| d.form).collect();
                let days: Vec<String> = batch.iter().map(|d| d.issued_on.clone()).collect();
                let bodies: Vec<String> = batch.iter().map(|d| d.body.clone()).collect();
                let mut tx = pool.begin().await.expect("tx");
                sqlx::query("INSERT INTO expedientes (id, office_code, kind, key, title, opened_on, retention, public_id) \
                     SELECT f, 'DIF-SLP', 'familia', k, 'Familia ' || f, '2026-01-01', '10 años', \
                     replace(gen_random_uuid()::text, '-', '') FROM UNNEST($1::bigint[], $2::text[]) AS t(f, k) \
                     ON CONFLICT DO NOTHING")
                    .bind(&families).bind(&keys).execute(&mut *tx).await.expect("expedientes");
                sqlx::query("INSERT INTO persons (id, office_code, identity, name) \
                     SELECT f, 'DIF-SLP', i, 'x' FROM UNNEST($1::bigint[], $2::text[]) AS t(f, i) ON CONFLICT DO NOTHING")
                    .bind(&families).bind(&identities).execute(&mut *tx).await.expect("persons");
                sqlx::query("INSERT INTO documents (id, office_code, series_code, year, number, folio, form, expediente_id, \
                     status, data, request_sha256, code_hash, pdf_sha256, issued_at, issued_on, issued_by, reserved_at, public_id) \
                     SELECT i, 'DIF-SLP', s, 2026, i, f, fm, e, 'emitido', '{}', '', lpad(to_hex(i), 64, '0'), '', d, d, 'bench', d, \
                     replace(gen_random_uuid()::text, '-', '') \
                     FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS t(i, s, f, fm, e, d)")
                    .bind(&ids).bind(&series).bind(&folios).bind(&forms).bind(&families).bind(&days)
                    .execute(&mut *tx).await.expect("documents");
                sqlx::query(
                    "INSERT INTO document_persons (document_id, person_id, role) \
                     SELECT i, e, 'representante' FROM UNNEST($1::bigint[], $2::bigint[]) AS t(i, e)",
                )
                .bind(&ids)
                .bind(&families)
                .execute(&mut *tx)
                .await
                .expect("links");
                sqlx::query(
                    "INSERT INTO document_search (document_id, body) \
                     SELECT i, to_tsvector('simple', b) FROM UNNEST($1::bigint[], $2::text[]) AS t(i, b)",
                )
                .bind(&ids)
                .bind(&bodies)
                .execute(&mut *tx)
                .await
                .expect("index");
                tx.commit().await.expect("commit");
            }
        }
        id += BATCH;
    }
    if let Some(pool) = &postgres {
        sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    }
    println!(
        "built {docs} synthetic documents in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// The searches an archivist makes; `folio` is one that exists.
fn query_mix(docs: i64, folio: String) -> Vec<(&'static str, SearchQuery)> {
    let text = |t: &str| SearchQuery {
        text: t.into(),
        per_page: 20,
        page: 1,
        ..SearchQuery::default()
    };
    let family = (docs / 4 / 3).max(1);
    let mut family_rng = Rng(0x9E37_79B9_7F4A_7C15 ^ family as u64);
    let name = format!(
        "{} {} {} {}",
        family_rng.pick(&GIVEN),
        family_rng.pick(&GIVEN),
        family_rng.pick(&SURNAMES),
        family_rng.pick(&SURNAMES)
    );
    let folded = fold(&name);
    let mut words = folded.split(' ');
    let first = words.next().unwrap_or_default().to_owned();
    let _ = words.next();
    let surname = words.next().unwrap_or_default().to_owned();
    vec![
        ("full name", text(&name)),
        (
            "first name + surname, no accents",
            text(&format!("{first} {surname}")),
        ),
        ("surname + place", text(&format!("{surname} pintana"))),
        ("folio, pasted whole", text(&folio)),
        ("family id", text(&format!("FAM-{family:07}"))),
        (
            "surname + form filter",
            SearchQuery {
                form: Some("carta-compromiso".into()),
                ..text(&surname)
            },
        ),
        (
            "person filter",
            SearchQuery {
                person: Some(format!("{}-{}", 5_000_000 + family, family % 10)),
                ..text("")
            },
        ),
        (
            "date range only",
            SearchQuery {
                from: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
                to: chrono::NaiveDate::from_ymd_opt(2026, 3, 7),
                ..text("")
            },
        ),
        ("one common surname", text(&surname)),
    ]
}

async fn search_latency() {
    let docs: i64 = std::env::var("SELLO_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let cache = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-archive");
    std::fs::create_dir_all(&cache).expect("cache dir");
    for backend in ["sqlite", "postgres"] {
        let store = match backend {
            "sqlite" => Store::open(&format!(
                "sqlite://{}",
                cache.join(format!("search-{docs}.db")).display()
            ))
            .await
            .expect("db"),
            _ => {
                let name = format!("sello_bench_search_{docs}");
                match Store::open_postgres_schema(&postgres_url(), &name).await {
                    Ok(store) => store,
                    Err(_) => postgres_store(&name).await,
                }
            }
        };
        let schema = format!("sello_bench_search_{docs}");
        build_synthetic(&store, docs, (backend == "postgres").then_some(schema.as_str())).await;
        let blobs = BlobStore::open(cache.join("blobs").to_str().expect("utf-8")).expect("blobs");
        let archive = Archive::new(store, blobs, office(), FolioFormat::default());
        let folio: String = sqlx::query_scalar("SELECT folio FROM documents WHERE id = $1")
            .bind(docs / 2)
            .fetch_one(archive.store().pool())
            .await
            .expect("a folio");
        let mix = query_mix(docs, folio);
        // Warm the caches once, as a running server would have them.
        for (_, query) in &mix {
            archive.search(query).await.expect("search");
        }
        let mut all = Vec::new();
        println!("search {backend}, {docs} documents:");
        for (name, query) in &mix {
            let mut times = Vec::new();
            let mut total = 0;
            for _ in 0..30 {
                let started = Instant::now();
                total = archive.search(query).await.expect("search").total;
                times.push(started.elapsed());
            }
            all.extend(times.iter().copied());
            let (median, p95) = percentiles(&mut times);
            println!(
                "  {name:<36} {total:>8} hits  median {:>7.2} ms  p95 {:>7.2} ms",
                ms(median),
                ms(p95)
            );
        }
        let (median, p95) = percentiles(&mut all);
        println!(
            "  all queries: median {:.2} ms, p95 {:.2} ms",
            ms(median),
            ms(p95)
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentiles(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    let at = |q: f64| {
        times[((times.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(times.len() - 1)]
    };
    (at(0.5), at(0.95))
}
