//! What the benchmarks share: the real catalog and renderer, and realistic
//! padrones of any size.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use chrono::TimeZone;
use sello::archive::{Archive, BlobStore, FolioFormat, Office, Store};
use sello::config::Config;
use sello::forms::{Catalog, FormSpec};
use sello::keys::{KeyAlgorithm, OfficeKey};
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
        let at = chrono_tz::America::Mexico_City
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .expect("time");
        sello::forms::validate(form, data, sello::forms::IssueDate::draft(&at)).expect("valid data");
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
                "fecha": format!("2026-{:02}-{:02}", 1 + i % 10, 1 + i % 28),
            })
        })
        .collect();
    let mut data = example("padron-beneficiarios");
    data["beneficiarios"] = Value::Array(beneficiarios);
    data
}

const FAMILY_GIVEN: [&str; 16] = [
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
const FAMILY_SURNAMES: [&str; 16] = [
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

/// A realistic spreadsheet of `rows` families for `carta-compromiso`, as
/// a clerk's CSV: accented names, RUNs with check digits, varied dates.
pub fn cartas_spreadsheet(rows: usize) -> String {
    let example = example("carta-compromiso");
    let text = |name: &str| example[name].as_str().unwrap_or_default().to_owned();
    let mut csv = String::from(
        "comuna;fecha_firma;familia_id;familia_nombre;domicilio;representante.nombre;representante.identificacion;\
         representante_fecha_nacimiento;criterio_representante;lectura;profesional_nombre;profesional_cargo;unidad\n",
    );
    for i in 0..rows {
        let (a, b, c) = (
            FAMILY_SURNAMES[i % 16],
            FAMILY_SURNAMES[(i / 16) % 16],
            FAMILY_GIVEN[(i / 7) % 16],
        );
        csv.push_str(&format!(
            "La Pintana;{:02}/11/2026;FAM-13112-{i:06};Familia {a} - {b};Pasaje Los Aromos {} depto {};{c} {a} {b};{};{}-{:02}-{:02};{};{};{};{};{}\n",
            // Signed on or before the day the benches issue them.
            1 + i % 22,
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

/// A fresh archive (SQLite and blob folder in `dir`) of Panama's Red de
/// Oportunidades, and its new Ed25519 office key.
pub async fn fresh_office(dir: &Path) -> (Archive, Arc<OfficeKey>) {
    let url = format!("sqlite://{}", dir.join("sello.db").display());
    let store = Store::open(&url).await.expect("store");
    let blobs = BlobStore::open(dir.join("pdf").to_str().expect("utf-8")).expect("blobs");
    let office = Office::new("MIDES", "Red de Oportunidades");
    let archive = Archive::new(store, blobs, office, FolioFormat::default());
    let key = OfficeKey::generate(&dir.join("clave"), "MIDES", KeyAlgorithm::Ed25519).expect("key");
    (archive, Arc::new(key))
}
