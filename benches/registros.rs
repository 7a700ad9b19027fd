//! Building a programme's padrón from a large archive (issue 25): an
//! archive of SELLO_BENCH_DOCS issued authorisations (100,000 by default)
//! for SELLO_BENCH_FAMILIES beneficiaries (51,717, Red de Oportunidades'
//! count of households), then the padrón of the year: the scan of the
//! archive, and the whole issuance (scan, 42 tomos rendered, two at a time, signed and
//! stored). Prints wall and CPU time and the process's peak memory.
//!
//! Seeding by real issuance would take this machine most of an hour, so
//! one document is issued for real and the rest are copies of its row with
//! their own folio, number, public id, day and beneficiary, written in one
//! transaction: the padrón reads only the documents table, which then
//! holds what real issuance would leave there (no PDFs of their own, no
//! log entries or search index, which the padrón does not read).
//!
//! Run: `cargo bench --bench registros`. With `--profile dev` it builds
//! much sooner, but Sello's own code (the PDF's post-processing, the
//! signature, validation) is then unoptimised: its figures are not the
//! product's.

mod support;

use std::time::Instant;

use chrono::TimeZone as _;
use sello::archive::{Archive, BlobStore, FolioFormat, IssueOrder, Office, Store};
use sello::registros::{Issuing, padron};
use serde_json::{Value, json};

/// A line of /proc/self/status, in MB (Linux).
fn status_mb(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

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
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ")".
    (ticks(11) + ticks(12)) / 100.0
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A well-formed CURP for family `n`, with its check digit.
fn curp(n: usize) -> String {
    const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";
    let letters: String = (0..5)
        .map(|i| char::from(b'A' + ((n / 26usize.pow(i)) % 26) as u8))
        .collect();
    let body = format!("GOML850312M{letters}0");
    let sum: u32 = body
        .chars()
        .zip((2..=18).rev())
        .map(|(c, weight)| ALPHABET.chars().position(|a| a == c).unwrap_or(0) as u32 * weight)
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn main() {
    let documents = env_number("SELLO_BENCH_DOCS", 100_000);
    let families = env_number("SELLO_BENCH_FAMILIES", 51_717).min(documents);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(documents, families));
}

async fn run(documents: usize, families: usize) {
    let dir = tempfile::tempdir().expect("temp");
    let url = format!("sqlite://{}", dir.path().join("sello.db").display());
    let store = Store::open(&url).await.expect("store");
    let blobs = BlobStore::open(dir.path().join("pdf").to_str().expect("utf-8")).expect("blobs");
    let office = Office::new("DIF-SLP", "DIF Soledad de Graciano Sánchez");
    let archive = Archive::new(store, blobs, office, FolioFormat::default());
    let key = sello::keys::OfficeKey::generate(
        &dir.path().join("clave"),
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
    let form = catalog.get("oficio-autorizacion-apoyo").expect("form");
    let zone = chrono_tz::America::Mexico_City;
    let at = zone
        .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
        .single()
        .expect("time");

    // One issued for real; its row is the model of the others.
    let example = support::example("oficio-autorizacion-apoyo");
    let order = IssueOrder {
        form,
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
    let seeding = Instant::now();
    let mut tx = archive.store().pool().begin().await.expect("transaction");
    for i in 1..documents {
        let family = i % families;
        let day =
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + chrono::Days::new((i % 300) as u64);
        let mut data: Value = example.clone();
        // Each applies for herself: the domicilio is hers (of another
        // beneficiary the padrón would print «no consta»).
        data["solicitante"] =
            json!({"nombre": format!("Beneficiaria Número {family}"), "identificacion": curp(family)});
        if let Some(fields) = data.as_object_mut() {
            fields.remove("beneficiario");
        }
        data["domicilio"] = json!(format!("Calle Hidalgo {i}, Colonia Centro"));
        data["apoyo"] = json!(
            [
                "Despensa mensual",
                "Lentes graduados",
                "Silla de ruedas",
                "Medicamentos"
            ][i % 4]
        );
        sqlx::query(
            "INSERT INTO documents (office_code, series_code, year, number, folio, form, expediente_id, status, \
             data, request_sha256, data_sha256, verification_url, pdf_sha256, pdf_size, pages, issued_at, \
             issued_on, issued_by, reserved_at, public_id, code_hash) \
             SELECT office_code, series_code, year, $1, $2, form, expediente_id, 'emitido', $3, $4, data_sha256, \
             verification_url, pdf_sha256, pdf_size, pages, $5, $6, issued_by, reserved_at, $7, $9 \
             FROM documents WHERE id = $8",
        )
        .bind((i + 1) as i64)
        .bind(format!("DIF-SLP/OF/2026/{:06}", i + 1))
        .bind(data.to_string())
        .bind(format!("{i:064x}"))
        .bind(format!("{}T12:00:00-06:00", day))
        .bind(day.to_string())
        .bind(format!("{i:032x}"))
        .bind(model.row_id)
        .bind(format!("{:064x}", i + (1 << 40)))
        .execute(&mut *tx)
        .await
        .expect("seeded");
    }
    tx.commit().await.expect("commit");
    println!(
        "archivo: {documents} documentos de {families} familias, sembrado en {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let request = padron::PadronRequest {
        programa: "Apoyos asistenciales 2026",
        localidad: Some("Soledad de Graciano Sánchez, S.L.P."),
        forms: vec![form],
        from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        to: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
    };
    let (cpu, started) = (cpu_seconds(), Instant::now());
    let rows = padron::rows(&archive, &request).await.expect("rows");
    println!(
        "lectura del archivo: {} filas en {:.2} s (CPU {:.2} s), pico de memoria {:.0} MB",
        rows.len(),
        started.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        status_mb("VmHWM:")
    );
    drop(rows);

    let issuing = Issuing {
        issuer: &issuer,
        archive: &archive,
        name: "Mtra. Guadalupe Torres Medina",
        cargo: "Directora del Sistema DIF Municipal",
        actor: "bench",
        signs: true,
        at: zone
            .with_ymd_and_hms(2026, 12, 1, 10, 0, 0)
            .single()
            .expect("time"),
    };
    let (cpu, started) = (cpu_seconds(), Instant::now());
    let (version, rows) = padron::issue(&issuing, &catalog, &request).await.expect("padrón");
    println!(
        "padrón: {rows} beneficiarios en {} tomos, emitido en {:.2} s (CPU {:.2} s), pico de memoria del proceso {:.0} MB",
        version.tomos.len(),
        started.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        status_mb("VmHWM:")
    );
}
