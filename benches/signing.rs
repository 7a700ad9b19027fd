//! Signing and verifying, release build: a one-page oficio and a 1,000-row
//! padrón. Signing reads only the trailer, the catalog, the first page and
//! the form, so its cost should not grow with the document.
//! Run on one core: `taskset -c 0 cargo bench --bench signing`.

mod support;

use chrono::TimeZone;
use criterion::{Criterion, criterion_group, criterion_main};
use sello::keys::{KeyAlgorithm, KeyStatus, OfficeKey, TrustedKeys};
use sello::pdf::{SignatureRequest, sign_pdf, verify_pdf};

fn signing_benchmarks(c: &mut Criterion) {
    let bench = support::Bench::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let documents = [
        (
            "oficio-comision",
            bench.render("oficio-comision", &support::example("oficio-comision")),
        ),
        (
            "padron-beneficiarios 1000 filas",
            bench.render("padron-beneficiarios", &support::padron(1_000)),
        ),
    ];
    let at = chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("time");
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::P256] {
        let key = OfficeKey::generate(
            &dir.path().join(format!("{algorithm:?}")),
            "Oficina de prueba",
            algorithm,
        )
        .expect("key");
        let mut trusted = TrustedKeys::default();
        trusted
            .add(key.certificate.clone(), KeyStatus::Active)
            .expect("trust");
        let request = SignatureRequest {
            key: &key,
            signer: "Mtra. Guadalupe Torres Medina",
            cargo: "Directora",
            signing_time: at,
        };
        for (name, pdf) in &documents {
            c.bench_function(&format!("sign {name} ({})", algorithm.label()), |b| {
                b.iter(|| sign_pdf(pdf, &request).expect("signs"))
            });
            let signed = sign_pdf(pdf, &request).expect("signs");
            c.bench_function(&format!("verify {name} ({})", algorithm.label()), |b| {
                b.iter(|| assert!(verify_pdf(&signed, &trusted).expect("reads").is_valid()))
            });
        }
    }
}

criterion_group!(benches, signing_benchmarks);
criterion_main!(benches);
