//! The service's metrics, served at `/metrics` in Prometheus' text format: documents issued, how long
//! rendering and signing take, verification lookups. Counts only: no
//! names, codes or folios.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::signed_pdf::Timings;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FormLabel {
    form: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// The service's counters and histograms.
pub struct Metrics {
    registry: Registry,
    issued: Family<FormLabel, Counter>,
    render_seconds: Histogram,
    sign_seconds: Histogram,
    lookups: Family<OutcomeLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sello");
        let issued = Family::<FormLabel, Counter>::default();
        registry.register(
            "documents_issued",
            "Documentos emitidos y firmados, por formulario",
            issued.clone(),
        );
        // From 2 ms to about 4 s: a carta renders in ~10 ms, a long padrón in seconds.
        let render_seconds = Histogram::new(exponential_buckets(0.002, 2.0, 12));
        registry.register(
            "render_seconds",
            "Tiempo de composición del PDF con Typst",
            render_seconds.clone(),
        );
        let sign_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 12));
        registry.register("sign_seconds", "Tiempo de firma del PDF", sign_seconds.clone());
        let lookups = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "verification_lookups",
            "Consultas de verificación pública, por resultado",
            lookups.clone(),
        );
        Self {
            registry,
            issued,
            render_seconds,
            sign_seconds,
            lookups,
        }
    }
}

impl Metrics {
    pub fn document_issued(&self, form: &str, timings: Timings) {
        self.issued
            .get_or_create(&FormLabel {
                form: form.to_owned(),
            })
            .inc();
        self.render_seconds.observe(timings.render.as_secs_f64());
        self.sign_seconds.observe(timings.sign.as_secs_f64());
    }

    /// `outcome`: emitido, anulado, reemplazado, no_encontrado or limitado.
    pub fn lookup(&self, outcome: &'static str) {
        self.lookups.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// The text Prometheus scrapes.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
