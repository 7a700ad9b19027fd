//! The archive's storage: one conformance suite run against SQLite and
//! against the PostgreSQL at 127.0.0.1:5432 (database `test`), each test in
//! a fresh database (a temporary file, or a schema of its own).

mod api_lotes;
mod audit;
mod backup;
mod backup_tampered;
mod bulk;
mod bulk_hostile;
mod case_ways_in;
mod cases;
mod changes_since_return;
mod checks;
mod cli;
mod crash;
mod draft_validation;
#[path = "../support/entry_fields.rs"]
mod entry_fields;
mod estadisticas;
mod evidence;
mod folios;
mod hierarchy;
#[path = "../support/http.rs"]
pub mod http;
pub mod in_person;
mod instances;
mod issuing;
mod lote_reservations;
mod lote_takeover;
#[path = "../support/ltv_pki.rs"]
mod ltv_pki;
mod no_step_skipped;
mod notices;
mod offices;
#[path = "../support/oidc.rs"]
mod oidc;
mod periodic;
mod public_ids;
mod queue;
mod referrals;
mod registros;
mod s3;
mod search;
mod service;
mod shared_limits;
mod signature_blocks;
mod sso;
mod timestamps;
mod transparency_log;
#[path = "../support/tsa.rs"]
mod tsa;
pub mod upgrade;
mod verification_page;
mod webhooks;
mod workflows;
#[path = "../support/xlsx_package.rs"]
mod xlsx_package;

use std::sync::LazyLock;

use chrono::TimeZone as _;
use chrono_tz::Tz;
use sello::archive::{
    Archive, ArchiveError, BlobStore, DocumentRecord, FolioFormat, IssueOrder, Issued, Office, Store,
};
use sello::config::Config;
use sello::forms::Catalog;
use sello::keys::{KeyAlgorithm, OfficeKey};
use sello::render::Renderer;
use sello::signed_pdf::{IssueRequest, issue};
use serde_json::Value;

/// The public id an API answer gives, checked to be one.
pub fn public_id(value: &Value) -> sello::public_id::PublicId {
    let text = value.as_str().unwrap_or_else(|| panic!("an id is text: {value}"));
    sello::public_id::PublicId::parse(text).unwrap_or_else(|_| panic!("not a public id: {text}"))
}

/// The database's key of the document an API answer's id names.
pub async fn row_of(archive: &Archive, id: &Value) -> i64 {
    archive
        .document(&public_id(id).to_string())
        .await
        .expect("the document")
        .row_id
}

/// `SELLO_TEST_DATABASE_URL` overrides where the PostgreSQL tests run.
pub fn postgres_url() -> String {
    std::env::var("SELLO_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh SQLite archive in a temporary folder.
pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("sello.db").display());
    (Store::open(&url).await.expect("sqlite opens"), dir)
}

/// A fresh PostgreSQL archive in a schema of its own, dropped afterwards.
pub struct PostgresSchema {
    admin: sqlx::PgPool,
    name: String,
}

impl PostgresSchema {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn drop_now(self) {
        let _ = sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&self.admin)
            .await;
    }
}

pub async fn postgres() -> (Store, PostgresSchema) {
    // One connection to create and drop the schema: the server's connection
    // limit is shared by every test running on the machine.
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_url())
        .await
        .expect("the test PostgreSQL is running");
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("random");
    let name = format!(
        "sello_test_{}",
        random.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&admin)
        .await
        .expect("create schema");
    let store = Store::open_postgres_schema(&postgres_url(), &name)
        .await
        .expect("postgres opens");
    (store, PostgresSchema { admin, name })
}

/// Runs one conformance test against both backends.
#[macro_export]
macro_rules! conformance {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (store, _dir) = $crate::sqlite().await;
                super::$name(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let (store, schema) = $crate::postgres().await;
                super::$name(store).await;
                schema.drop_now().await;
            }
        }
    };
}

/// An archive with its blob folder, a signing key and the real renderer:
/// documents are rendered and signed for real.
pub struct Fixture {
    pub archive: Archive,
    pub key: std::sync::Arc<OfficeKey>,
    pub blobs_dir: tempfile::TempDir,
    _key_dir: tempfile::TempDir,
    _db_dir: Option<tempfile::TempDir>,
    schema: Option<PostgresSchema>,
}

/// The text of a PDF as poppler's pdftotext lays it out.
pub fn pdf_text(path: &std::path::Path) -> String {
    let output = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(output.status.success(), "pdftotext {}", path.display());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts that qpdf finds nothing wrong with the PDF at `path`.
pub fn assert_qpdf_check(path: &std::path::Path) {
    let check = std::process::Command::new("qpdf")
        .arg("--check")
        .arg(path)
        .output()
        .expect("qpdf");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}

pub fn config() -> Config {
    let env = [(
        "SELLO_FORMS_DIR".to_owned(),
        root().join("forms").display().to_string(),
    )];
    Config::from_sources(None, env).expect("valid configuration")
}

pub static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(&root().join("forms")).expect("catalog"));
pub static RENDERER: LazyLock<Renderer> = LazyLock::new(|| Renderer::new(&config()).expect("renderer"));
pub const BASE_URL: &str = "https://sello.dif-soledad.gob.mx";

pub fn example(id: &str) -> Value {
    let text = std::fs::read_to_string(root().join("forms").join(id).join("example.json")).expect("example");
    serde_json::from_str(&text).expect("JSON")
}

/// The day the examples are written for: their dates relate to it.
const EXAMPLES_ISSUED_ON: (i32, u32, u32) = (2026, 11, 22);

/// A form's example with every date moved by the days since the examples'
/// issue day, for tests that issue it today through the service: each date
/// keeps its relation to the issue date (a trip still ahead, a visit past).
pub fn example_now(id: &str) -> Value {
    let (y, m, d) = EXAMPLES_ISSUED_ON;
    let written_for = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Mexico_City)
        .date_naive();
    let shift = today.signed_duration_since(written_for);
    fn walk(value: &mut Value, shift: chrono::Duration) {
        match value {
            Value::String(text) => {
                if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    && text.len() == 10
                {
                    *text = (date + shift).format("%Y-%m-%d").to_string();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, shift)),
            Value::Object(fields) => fields.values_mut().for_each(|v| walk(v, shift)),
            _ => {}
        }
    }
    let mut example = example(id);
    walk(&mut example, shift);
    example
}

/// `data` citing what the archive holds: each required `documento` field
/// cites a document just issued from the example of the first form it
/// names (the examples share their persons), and each optional one is
/// left empty, as for a document from before Sello. A derivación goes to
/// an office of the installation and shares nothing; a contrarreferencia
/// answers a derivación another office sent to this one.
pub async fn citing_issued(fixture: &Fixture, form: &sello::forms::FormSpec, data: &Value) -> Value {
    let mut data = data.clone();
    if let Some(referral) = &form.derivacion {
        let to = data[&referral.oficina]
            .as_str()
            .expect("the example names an office")
            .to_owned();
        record_office(&fixture.archive, &to).await;
        if let (Some(shared), Some(object)) = (&referral.compartidos, data.as_object_mut()) {
            object.remove(shared);
        }
    }
    for field in &form.fields {
        let sello::forms::FieldType::Document { forms, .. } = &field.kind else {
            continue;
        };
        let answered = form
            .contrarreferencia
            .as_ref()
            .is_some_and(|a| a.derivacion == field.name);
        if answered {
            let record = referred_here(fixture).await;
            data[&field.name] = Value::String(record.folio);
        } else if let Some(closes) = form.closes.iter().find(|c| c.cita == field.name) {
            let folio = closed_by(fixture, closes, &data).await;
            data[&field.name] = Value::String(folio);
        } else if field.required {
            let cited = forms[0].id.as_str();
            let record = fixture.issue(cited, &example(cited)).await;
            data[&field.name] = Value::String(record.folio);
        } else if let Some(object) = data.as_object_mut() {
            object.remove(&field.name);
        }
    }
    data
}

/// Issues the example of the form `data` closes a follow-up of, saying what
/// `data` must coincide with (the person, the event and its day), the day
/// before the first of those dates: what a constancia's oficio de comisión
/// said before the event.
async fn closed_by(fixture: &Fixture, closes: &sello::forms::Closes, data: &Value) -> String {
    use chrono::TimeZone as _;
    let mut owing = example(&closes.formulario);
    if let Some((table, column, person)) = &closes.por_persona {
        owing[table][0][column] = data[person]["nombre"].clone();
    }
    let mut first = None;
    for name in &closes.coinciden {
        owing[name] = data[name].clone();
        let day = data[name]
            .as_str()
            .and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
        if let Some(day) = day {
            first = Some(first.map_or(day, |f: chrono::NaiveDate| f.min(day)));
        }
    }
    let when = match first {
        Some(day) => chrono_tz::America::Mexico_City
            .from_local_datetime(&(day - chrono::Days::new(1)).and_hms_opt(10, 0, 0).expect("time"))
            .single()
            .expect("time"),
        None => at(22),
    };
    crate::registros::issue_at(fixture, &closes.formulario, &owing, when).await
}

/// Another office of the installation, as an administrator would record it.
pub const OTHER_OFFICE: &str = "GSL-SUBSIDIOS";

/// Records office `code` in the installation, if it is not there.
pub async fn record_office(archive: &Archive, code: &str) {
    sqlx::query("INSERT INTO offices (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING")
        .bind(code)
        .bind(format!("Oficina {code}"))
        .execute(archive.store().pool())
        .await
        .expect("office");
}

/// The derivación example issued by [`OTHER_OFFICE`] to the fixture's
/// office, sharing nothing.
pub async fn referred_here(fixture: &Fixture) -> DocumentRecord {
    record_office(&fixture.archive, OTHER_OFFICE).await;
    let other = fixture
        .archive
        .for_office(Office::new(OTHER_OFFICE, "Subsidios Sociales"));
    let mut data = example("derivacion");
    data["oficina_destino"] = Value::String(fixture.archive.office().code.clone());
    if let Some(object) = data.as_object_mut() {
        object.remove("documentos_compartidos");
        object.remove("protocolo");
    }
    issue_into(&other, &fixture.key, "derivacion", &data, 22, None)
        .await
        .expect("the other office refers a case here")
        .record()
        .clone()
}

pub fn at(day: u32) -> chrono::DateTime<Tz> {
    chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 11, day, 10, 30, 0)
        .single()
        .expect("time")
}

impl Fixture {
    pub async fn new(
        store: Store,
        db_dir: Option<tempfile::TempDir>,
        schema: Option<PostgresSchema>,
    ) -> Self {
        let blobs_dir = tempfile::tempdir().expect("temp dir");
        let key_dir = tempfile::tempdir().expect("temp dir");
        let key = OfficeKey::generate(&key_dir.path().join("k"), "DIF Soledad", KeyAlgorithm::Ed25519)
            .expect("key");
        let blobs = BlobStore::open(blobs_dir.path().to_str().expect("utf-8")).expect("blobs");
        let office = Office::new("DIF-SLP", "DIF Soledad de Graciano Sánchez");
        Self {
            archive: Archive::new(store, blobs, office, FolioFormat::default()),
            key: std::sync::Arc::new(key),
            blobs_dir,
            _key_dir: key_dir,
            _db_dir: db_dir,
            schema,
        }
    }

    /// Issues `data` as form `form` on the given day of November 2026.
    pub async fn issue_on(
        &self,
        form: &str,
        data: &Value,
        day: u32,
        idempotency_key: Option<&str>,
    ) -> Result<Issued, ArchiveError> {
        issue_into(&self.archive, &self.key, form, data, day, idempotency_key).await
    }

    pub async fn issue(&self, form: &str, data: &Value) -> DocumentRecord {
        self.issue_on(form, data, 22, None)
            .await
            .expect("issues")
            .record()
            .clone()
    }

    pub async fn cleanup(self) {
        if let Some(schema) = self.schema {
            schema.drop_now().await;
        }
    }
}

/// The service over a fixture's archive, signing with its key.
impl http::Service {
    pub async fn new(fixture: &Fixture) -> Self {
        Self::with_config(fixture, http::service_config(&[])).await
    }

    /// With `config` (see [`http::service_config`]), trusting the
    /// fixture's key.
    pub async fn with_config(fixture: &Fixture, config: Config) -> Self {
        let mut trusted = sello::keys::TrustedKeys::default();
        trusted
            .add(fixture.key.certificate.clone(), sello::keys::KeyStatus::Active)
            .expect("trust");
        Self::build(fixture, config, fixture.key.clone(), trusted).await
    }

    /// With `config`, signing with `key` and trusting `trusted`.
    pub async fn build(
        fixture: &Fixture,
        config: Config,
        key: std::sync::Arc<OfficeKey>,
        trusted: sello::keys::TrustedKeys,
    ) -> Self {
        Self::over(fixture.archive.clone(), &config, key, trusted).await
    }
}

/// An order for `data` as form `form`, issued on 22 November 2026.
pub fn order<'a>(
    form: &str,
    data: &'a Value,
    expediente_id: Option<sello::public_id::PublicId>,
    idempotency_key: Option<&'a str>,
) -> IssueOrder<'a> {
    IssueOrder {
        form: CATALOG.get(form).expect("form"),
        data,
        issued_at: at(22),
        actor: "ana.lopez",
        expediente_id,
        idempotency_key,
        draft: None,
        endorsements: Vec::new(),
        on_paper: Vec::new(),
    }
}

/// Issues through the archive with the real renderer and signer.
pub async fn issue_into(
    archive: &Archive,
    key: &OfficeKey,
    form: &str,
    data: &Value,
    day: u32,
    idempotency_key: Option<&str>,
) -> Result<Issued, ArchiveError> {
    let spec = CATALOG.get(form).expect("form");
    let order = IssueOrder {
        issued_at: at(day),
        ..crate::order(form, data, None, idempotency_key)
    };
    archive
        .issue(&order, |reservation| {
            let request = IssueRequest {
                form: spec,
                data: &reservation.data,
                issued_at: at(day),
                folio: Some(reservation.folio.to_string()),
                signer: "Mtra. Guadalupe Torres Medina",
                cargo: "Directora",
                endorsements: &[],
                hand_signatures: &[],
                on_paper: &[],
                citations: &reservation.citations,
            };
            issue(&RENDERER, key, BASE_URL, &request)
        })
        .await
}

/// Runs one archive conformance test against both backends.
#[macro_export]
macro_rules! archive_conformance {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (store, dir) = $crate::sqlite().await;
                let fixture = $crate::Fixture::new(store, Some(dir), None).await;
                super::$name(&fixture).await;
                fixture.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let (store, schema) = $crate::postgres().await;
                let fixture = $crate::Fixture::new(store, None, Some(schema)).await;
                super::$name(&fixture).await;
                fixture.cleanup().await;
            }
        }
    };
}
