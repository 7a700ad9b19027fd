//! Rendering speed, warm process: one oficio, and padrones of 1,000 and
//! 10,000 rows. Every iteration renders different data, as an office does;
//! identical data would only measure Typst's memo cache.
//! Run on one core: `taskset -c 0 cargo bench --bench render`.

mod support;

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn render_benchmarks(c: &mut Criterion) {
    let bench = support::Bench::new();

    let oficio = support::example("oficio-comision");
    let mut n = 0;
    c.bench_function("render oficio-comision", |b| {
        b.iter_batched(
            || {
                n += 1;
                support::oficio_round(&oficio, n)
            },
            |data| bench.render("oficio-comision", &data),
            BatchSize::SmallInput,
        )
    });

    let mut group = c.benchmark_group("render padron-beneficiarios");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    for rows in [1_000, 10_000] {
        let mut round = 0;
        group.bench_function(format!("{rows} filas"), |b| {
            b.iter_batched(
                || {
                    round += 1;
                    support::padron_round(rows, round)
                },
                |padron| bench.render("padron-beneficiarios", &padron),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, render_benchmarks);
criterion_main!(benches);
