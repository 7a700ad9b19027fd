//! Rendering speed, warm process: one oficio, and padrones of 1,000 and
//! 10,000 rows. Run on one core: `taskset -c 0 cargo bench --bench render`.

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn render_benchmarks(c: &mut Criterion) {
    let bench = support::Bench::new();

    let oficio = support::example("oficio-comision");
    c.bench_function("render oficio-comision", |b| {
        b.iter(|| bench.render("oficio-comision", &oficio))
    });

    let mut group = c.benchmark_group("render padron-beneficiarios");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for rows in [1_000, 10_000] {
        let padron = support::padron(rows);
        group.bench_function(format!("{rows} filas"), |b| {
            b.iter(|| bench.render("padron-beneficiarios", &padron))
        });
    }
    group.finish();
}

criterion_group!(benches, render_benchmarks);
criterion_main!(benches);
