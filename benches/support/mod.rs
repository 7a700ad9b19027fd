//! What the benchmarks share: the real catalog and renderer, and realistic
//! padrones of any size.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::path::Path;

use chrono::TimeZone;
use sello::config::Config;
use sello::forms::{Catalog, FormSpec};
use sello::render::{DocumentContext, Renderer};
use serde_json::{Value, json};

pub struct Bench {
    pub catalog: Catalog,
    pub renderer: Renderer,
}

impl Bench {
    pub fn new() -> Self {
        let forms = Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        let config = Config::from_sources(
            None,
            [("SELLO_FORMS_DIR".to_owned(), forms.display().to_string())],
        )
        .expect("configuration");
        Self {
            catalog: Catalog::load(&forms).expect("catalog"),
            renderer: Renderer::new(&config).expect("renderer"),
        }
    }

    pub fn form(&self, id: &str) -> &FormSpec {
        self.catalog.get(id).expect("form in catalog")
    }

    /// Validates and renders a draft; returns the PDF.
    pub fn render(&self, id: &str, data: &Value) -> Vec<u8> {
        let form = self.form(id);
        sello::forms::validate(form, data).expect("valid data");
        let at = chrono_tz::America::Mexico_City
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .expect("time");
        self.renderer
            .render(form, data, &DocumentContext::draft(at))
            .expect("renders")
            .pdf
    }
}

/// The example oficio with the fields a clerk changes from one to the next.
pub fn oficio_round(example: &Value, round: usize) -> Value {
    let mut data = example.clone();
    data["evento"] = json!(format!("Capacitación regional número {round}"));
    data["comisionados"][0]["nombre"] =
        json!(format!("{} {}", GIVEN[round % 12], SURNAMES[(round / 12) % 12]));
    data["fecha_evento"] = json!(format!("2026-12-{:02}", 1 + round % 28));
    data
}

pub fn example(id: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("forms")
        .join(id)
        .join("example.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("JSON")
}

const GIVEN: [&str; 12] = [
    "María Guadalupe",
    "José Luis",
    "Juana",
    "Francisco Javier",
    "Rosa Elena",
    "Juan Carlos",
    "Ana Karen",
    "Pedro",
    "Verónica",
    "Luis Ángel",
    "Esperanza",
    "Miguel Ángel",
];
const SURNAMES: [&str; 12] = [
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
    "Loredo",
    "Castañón",
];
const STREETS: [&str; 6] = [
    "Calle Hidalgo",
    "Av. San Pedro",
    "Calle Morelos",
    "Privada Los Pinos",
    "Calle Allende",
    "Av. Juárez",
];
const PLACES: [&str; 5] = [
    "Col. Centro",
    "La Lugarda",
    "Rancho Nuevo",
    "El Zapote",
    "Col. San Felipe",
];
const SERVICES: [&str; 5] = [
    "Silla de ruedas",
    "Andadera",
    "Despensa",
    "Aparato auditivo",
    "Desayuno escolar",
];

/// A padrón with `rows` beneficiaries, varied like a real one.
pub fn padron(rows: usize) -> Value {
    padron_round(rows, 0)
}

/// Another padrón of the same office: the same localities, services and
/// common names, but every address and name different from round to round.
pub fn padron_round(rows: usize, round: usize) -> Value {
    let beneficiarios: Vec<Value> = (0..rows)
        .map(|i| {
            json!({
                "nombre": format!("{} {} {}", GIVEN[(i + round) % 12], SURNAMES[(i / 12 + round) % 12], SURNAMES[(i / 7) % 12]),
                "curp": format!("HEGM{:06}MSPRRR{:02}", 800_101 + (i + round * 7_919) % 90_000, (i + round) % 100),
                "domicilio": format!("{} {}, {}", STREETS[i % 6], 1 + (i * 37 + round * 11) % 1500, PLACES[i % 5]),
                "servicio": SERVICES[i % 5],
                "fecha": format!("2026-{:02}-{:02}", 1 + i % 11, 1 + i % 28),
            })
        })
        .collect();
    let mut data = example("padron-beneficiarios");
    data["beneficiarios"] = Value::Array(beneficiarios);
    data
}
