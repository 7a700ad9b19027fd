//! Bulk issuance benchmark (a bench binary; release build, quiet machine):
//! `cargo bench --bench bulk`. Generates a realistic spreadsheet of
//! `SELLO_BENCH_ROWS` families (default 51,717, the households of Panama's
//! Red de Oportunidades) as CSV, then times what `sello bulk
//! carta-compromiso` does: read, map and validate every row, issue (render,
//! sign, store, commit) with one worker per core into a fresh SQLite
//! archive, and search the result. Prints documents per second, the total
//! time and the peak resident memory. `SELLO_BENCH_WORKERS` overrides the
//! number of workers.

mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::TimeZone as _;
use sello::archive::{Archive, BlobStore, FolioFormat, Office, SearchQuery, Store};
use sello::bulk::{BulkIssuer, Mapping, prepare, read_csv};
use sello::keys::{KeyAlgorithm, OfficeKey};
use support::{Bench, example};

const GIVEN: [&str; 16] = [
    "María",
    "José",
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
    "Ximena",
    "Héctor",
    "Yolanda",
    "Ñusta",
];
const FAMILY: [&str; 16] = [
    "Muñoz",
    "González",
    "Rodríguez",
    "Pérez",
    "Soto",
    "Contreras",
    "Núñez",
    "Rojas",
    "Díaz",
    "Sepúlveda",
    "Araya",
    "Fuentes",
    "Valenzuela",
    "Castillo",
    "Gutiérrez",
    "Ibáñez",
];

fn run_number(n: u32) -> String {
    let (mut sum, mut factor) = (0, 2);
    for digit in n.to_string().chars().rev() {
        sum += digit.to_digit(10).unwrap_or(0) * factor;
        factor = if factor == 7 { 2 } else { factor + 1 };
    }
    match 11 - sum % 11 {
        11 => format!("{n}-0"),
        10 => format!("{n}-K"),
        d => format!("{n}-{d}"),
    }
}

fn spreadsheet(rows: usize) -> String {
    let example = example("carta-compromiso");
    let text = |name: &str| example[name].as_str().unwrap_or_default().to_owned();
    let mut csv = String::from(
        "comuna;fecha_firma;familia_id;familia_nombre;domicilio;representante.nombre;representante.identificacion;\
         representante_fecha_nacimiento;criterio_representante;lectura;profesional_nombre;profesional_cargo;unidad\n",
    );
    for i in 0..rows {
        let (a, b, c) = (FAMILY[i % 16], FAMILY[(i / 16) % 16], GIVEN[(i / 7) % 16]);
        csv.push_str(&format!(
            "La Pintana;{:02}/11/2026;FAM-13112-{i:06};Familia {a} - {b};Pasaje Los Aromos {} depto {};{c} {a} {b};{};{}-{:02}-{:02};{};{};{};{};{}\n",
            1 + i % 28,
            100 + i % 900,
            1 + i % 40,
            run_number(10_000_000 + i as u32 * 13),
            1950 + i % 50,
            1 + i % 12,
            1 + i % 28,
            text("criterio_representante"),
            text("lectura"),
            text("profesional_nombre"),
            text("profesional_cargo"),
            text("unidad"),
        ));
    }
    csv
}

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
        let sheet = read_csv(spreadsheet(rows).as_bytes()).expect("csv");
        let mapping = Mapping::new(&form, &sheet.headers, None).expect("mapping");
        let (ready, problems) = prepare(&form, &sheet, &mapping, None);
        assert!(problems.is_empty(), "{:?}", &problems[..problems.len().min(3)]);
        let prepared = started.elapsed();

        let url = format!("sqlite://{}", dir.path().join("sello.db").display());
        let store = Store::open(&url).await.expect("store");
        let blobs = BlobStore::open(dir.path().join("pdf").to_str().expect("utf-8")).expect("blobs");
        let office = Office {
            code: "MIDES".into(),
            name: "Red de Oportunidades".into(),
        };
        let archive = Archive::new(store, blobs, office, FolioFormat::default());
        let key =
            OfficeKey::generate(&dir.path().join("clave"), "MIDES", KeyAlgorithm::Ed25519).expect("key");
        let issuer = BulkIssuer {
            archive: archive.clone(),
            renderer,
            key: Arc::new(key),
            base_url: "https://sello.mides.gob.pa".into(),
            signer: "Dirección de la Red de Oportunidades".into(),
            cargo: "Sello electrónico".into(),
            actor: "bench".into(),
            issued_at: chrono_tz::America::Panama
                .with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
                .single()
                .expect("time"),
            workers,
        };
        let issuing = Instant::now();
        let stop = AtomicBool::new(false);
        let outcomes = issuer.issue_rows(form.clone(), ready, &stop, &|_| {}).await;
        let issued = issuing.elapsed();
        let total = started.elapsed();
        let failed = outcomes
            .iter()
            .filter(|o| matches!(o, sello::bulk::RowOutcome::Failed(_)))
            .count();
        assert_eq!(failed, 0, "every row issued");
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
        println!(
            "bulk carta-compromiso: {rows} rows, {workers} workers: read+validate {:.1} s; issue {:.1} s \
             ({:.0} docs/s); total {:.1} s; search «nunez ibanez» {} hits in {:.1} ms; peak memory {:.0} MB",
            prepared.as_secs_f64(),
            issued.as_secs_f64(),
            rows as f64 / issued.as_secs_f64(),
            total.as_secs_f64(),
            found.total,
            searched.as_secs_f64() * 1000.0,
            peak_memory_mb()
        );
    });
}
