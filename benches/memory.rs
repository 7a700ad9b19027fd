//! Memory over a long run: resident memory after 5,000 oficios in one
//! process, then the time and peak memory of a 10,000-row padrón.
//! Run: `taskset -c 0 cargo bench --bench memory`.

mod support;

use std::time::Instant;

/// A line of /proc/self/status, in MB (Linux).
fn status_mb(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing.
    let documents: usize = std::env::var("SELLO_BENCH_OFICIOS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let bench = support::Bench::new();
    let oficio = support::example("oficio-comision");

    let started = Instant::now();
    for i in 0..documents {
        // Different data each time, as in a real office.
        let pdf = bench.render("oficio-comision", &support::oficio_round(&oficio, i));
        std::hint::black_box(pdf);
        if (i + 1) % 1_000 == 0 {
            println!("{:>6} oficios   RSS {:>7.1} MB", i + 1, status_mb("VmRSS:"));
        }
    }
    let per_document = started.elapsed().as_secs_f64() * 1000.0 / documents as f64;
    println!(
        "oficio-comision: {documents} documentos, {per_document:.2} ms de media, RSS final {:.1} MB, pico {:.1} MB",
        status_mb("VmRSS:"),
        status_mb("VmHWM:")
    );

    let padron = support::padron(10_000);
    let started = Instant::now();
    let pdf = bench.render("padron-beneficiarios", &padron);
    println!(
        "padron-beneficiarios 10,000 filas: {:.2} s, {} KB, pico de memoria del proceso {:.1} MB",
        started.elapsed().as_secs_f64(),
        pdf.len() / 1024,
        status_mb("VmHWM:")
    );
}
