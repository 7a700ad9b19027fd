//! The archive: where every issued document lives. One storage boundary
//! over SQLite (embedded, the default) and PostgreSQL (for offices that
//! outgrow one machine), each with its own migrations.
//!
//! This first part holds offices, series and folio counters.

mod folio;
mod store;

pub use folio::{DEFAULT_FORMAT, Folio, FolioFormat};
pub use store::{Backend, Store, StoreError};
