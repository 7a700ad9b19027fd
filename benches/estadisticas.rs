//! The statistics over a large archive (issue 25, point 3): an office with
//! SELLO_BENCH_DOCS documents (100,000 by default) of a year, of six
//! forms, some annulled or replaced, a third of them naming a comuna, and
//! another office beside it; then the counts the page and the API make, on
//! SQLite and on PostgreSQL (at SELLO_TEST_DATABASE_URL, or the test one
//! at 127.0.0.1:5432, in a schema of its own, dropped after). Prints wall
//! and CPU time of each count, best of five, and the query plan.
//!
//! Seeding by real issuance would take this machine most of an hour, so
//! one document is issued for real and the rest are copies of its row with
//! their own folio, number, public id, form, state, day and comuna: the
//! counts read only the documents table.
//!
//! Run: `cargo bench --bench estadisticas` (or `--profile dev`).

mod support;

use std::time::Instant;

use chrono::TimeZone as _;
use sello::archive::statistics::{self, CountFilter, Division};
use sello::archive::{Archive, BlobStore, FolioFormat, IssueOrder, Office, Store};
use serde_json::json;

const FORMS: [&str; 6] = [
    "derivacion",
    "oficio-comision",
    "oficio-autorizacion-apoyo",
    "constancia-visita",
    "oficio-ayuda-funcional",
    "carta-compromiso",
];

/// The process's user + system CPU time so far, in seconds (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let documents = std::env::var("SELLO_BENCH_DOCS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000usize);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp");
        let url = format!("sqlite://{}", dir.path().join("sello.db").display());
        let store = Store::open(&url).await.expect("store");
        run("SQLite", store, dir.path(), documents).await;

        let url = std::env::var("SELLO_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let schema = format!("sello_bench_estadisticas_{}", std::process::id());
        let admin = match sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
        {
            Ok(admin) => admin,
            Err(error) => {
                println!("PostgreSQL: no disponible ({error}); solo SQLite");
                return;
            }
        };
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("schema");
        let store = Store::open_postgres_schema(&url, &schema)
            .await
            .expect("postgres");
        run("PostgreSQL", store, dir.path(), documents).await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await
            .expect("drop schema");
    });
}

async fn run(engine: &str, store: Store, dir: &std::path::Path, documents: usize) {
    let blobs = BlobStore::open(dir.join(format!("pdf-{engine}")).to_str().expect("utf-8")).expect("blobs");
    let office = Office::new("DIF-SLP", "DIF Soledad de Graciano Sánchez");
    let archive = Archive::new(store.clone(), blobs, office, FolioFormat::default());
    let key = sello::keys::OfficeKey::generate(
        &dir.join(format!("clave-{engine}")),
        "DIF",
        sello::keys::KeyAlgorithm::Ed25519,
    )
    .expect("key");
    let forms = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
    let config = sello::config::Config::from_sources(
        None,
        [("SELLO_FORMS_DIR".to_owned(), forms.display().to_string())],
    )
    .expect("configuration");
    let catalog = sello::forms::Catalog::load(&forms).expect("catalog");
    let issuer = sello::issuer::Issuer::new(&config, std::sync::Arc::new(key)).expect("issuer");
    let at = chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
        .single()
        .expect("time");
    let example = support::example("derivacion");
    let order = IssueOrder {
        form: catalog.get("derivacion").expect("form"),
        data: &example,
        issued_at: at,
        actor: "bench",
        expediente_id: None,
        idempotency_key: None,
        draft: None,
        endorsements: Vec::new(),
        on_paper: Vec::new(),
    };
    let model = issuer
        .issue(&archive, &order, ("Mtra. Guadalupe Torres Medina", "Directora"))
        .await
        .expect("issued")
        .record()
        .clone();

    let series: String = sqlx::query_scalar("SELECT series_code FROM documents WHERE id = $1")
        .bind(model.row_id)
        .fetch_one(store.pool())
        .await
        .expect("series");
    store
        .ensure_series(("DIF-CER", "DIF Cerritos"), (&series, "Oficios"))
        .await
        .expect("the other office's series");
    let seeding = Instant::now();
    let mut tx = store.pool().begin().await.expect("transaction");
    // A tenth more in another office, which the counts must leave out.
    for i in 1..documents + documents / 10 {
        let (office, number) = if i < documents {
            ("DIF-SLP", i + 1)
        } else {
            ("DIF-CER", i)
        };
        let day =
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + chrono::Days::new((i % 360) as u64);
        let form = FORMS[i % FORMS.len()];
        let status = match i % 20 {
            0 => "anulado",
            1 => "reemplazado",
            _ => "emitido",
        };
        let mut data = example.clone();
        data["comuna"] = json!(["Cauquenes", "Talca", "Linares", "Parral"][i % 4]);
        sqlx::query(
            "INSERT INTO documents (office_code, series_code, year, number, folio, form, expediente_id, status, \
             data, request_sha256, data_sha256, verification_url, pdf_sha256, pdf_size, pages, issued_at, \
             issued_on, issued_by, reserved_at, public_id, code_hash) \
             SELECT $10, series_code, year, $1, $2, $11, expediente_id, $12, $3, $4, data_sha256, \
             verification_url, pdf_sha256, pdf_size, pages, $5, $6, issued_by, reserved_at, $7, $9 \
             FROM documents WHERE id = $8",
        )
        .bind(number as i64)
        .bind(format!("{office}/OF/2026/{number:06}"))
        .bind(data.to_string())
        .bind(format!("{i:064x}"))
        .bind(format!("{day}T12:00:00-06:00"))
        .bind(day.to_string())
        .bind(format!("{i:032x}"))
        .bind(model.row_id)
        .bind(format!("{:064x}", i + (1 << 40)))
        .bind(office)
        .bind(form)
        .bind(status)
        .execute(&mut *tx)
        .await
        .expect("seeded");
    }
    tx.commit().await.expect("commit");
    store
        .execute("ANALYZE documents")
        .await
        .expect("statistics of the planner");
    println!(
        "{engine}: {} documentos de DIF-SLP y {} de otra oficina, sembrados en {:.1} s",
        documents,
        documents / 10,
        seeding.elapsed().as_secs_f64()
    );

    let offices = vec!["DIF-SLP".to_owned()];
    let year = CountFilter {
        offices: &offices,
        from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        to: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
        form: None,
    };
    let one_form = CountFilter {
        form: Some("derivacion"),
        ..year.clone()
    };
    let comuna_forms: Vec<&str> = catalog
        .iter()
        .filter(|f| f.fields.iter().any(|field| field.name == "comuna"))
        .map(|f| f.id.as_str())
        .collect();

    let (store, year, one_form, comuna_forms) = (&store, &year, &one_form, &comuna_forms);
    let (rows, wall, cpu) = best_of_five(|| async move {
        let rows = statistics::count_documents(store, year).await.expect("counted");
        rows.iter().map(|r| r.documents).sum::<i64>()
    })
    .await;
    println!(
        "  por oficina, formulario, mes y estado, un año: {rows} documentos en {wall:.1} ms (CPU {cpu:.1} ms)"
    );
    let (rows, wall, cpu) = best_of_five(|| async move {
        let rows = statistics::count_documents(store, one_form)
            .await
            .expect("counted");
        rows.iter().map(|r| r.documents).sum::<i64>()
    })
    .await;
    println!("  lo mismo, de un formulario: {rows} documentos en {wall:.1} ms (CPU {cpu:.1} ms)");
    let (rows, wall, cpu) = best_of_five(|| async move {
        let rows = statistics::count_by_territory(store, year, Division::Comuna, comuna_forms)
            .await
            .expect("counted");
        rows.iter().map(|r| r.documents).sum::<i64>()
    })
    .await;
    println!(
        "  por comuna (lee los datos de cada documento que la lleva): {rows} documentos en {wall:.1} ms (CPU {cpu:.1} ms)"
    );

    let explain = match store.backend() {
        sello::archive::Backend::Sqlite => "EXPLAIN QUERY PLAN ",
        sello::archive::Backend::Postgres => "EXPLAIN ",
    };
    let plan: Vec<String> = {
        use sqlx::Row as _;
        sqlx::query(&format!(
            "{explain}SELECT office_code, form, substr(issued_on, 1, 7) AS month, status, COUNT(*) \
             FROM documents WHERE office_code IN ('DIF-SLP') AND issued_on >= '2026-01-01' \
             AND issued_on <= '2026-12-31' AND code_hash IS NOT NULL AND status <> 'reservado' \
             GROUP BY office_code, form, substr(issued_on, 1, 7), status"
        ))
        .fetch_all(store.pool())
        .await
        .expect("plan")
        .iter()
        .map(|row| {
            (0..row.len())
                .filter_map(|i| row.try_get::<String, _>(i).ok())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
    };
    println!("  plan: {}", plan.join(" | "));
}

/// Runs `count` five times: its result, and the best wall and CPU time in ms.
async fn best_of_five<F, Fut>(count: F) -> (i64, f64, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let (mut best_wall, mut best_cpu, mut result) = (f64::MAX, f64::MAX, 0);
    for _ in 0..5 {
        let (cpu, started) = (cpu_seconds(), Instant::now());
        result = count().await;
        best_wall = best_wall.min(started.elapsed().as_secs_f64() * 1000.0);
        best_cpu = best_cpu.min((cpu_seconds() - cpu) * 1000.0);
    }
    (result, best_wall, best_cpu)
}
