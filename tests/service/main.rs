//! `sello serve` as a process, from a fresh data folder: the first-run
//! administrator, a real headless Chromium driving the staff app and the
//! public verification page, the API checked against its own OpenAPI
//! document by schemathesis, logs free of personal data and codes, and a
//! graceful stop.

mod browser;
mod deploy;
#[path = "../support/entry_fields.rs"]
mod entry_fields;
mod first_start;
mod openapi;
mod rotation;
mod server;
mod shutdown;
mod staff_app;

pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}
