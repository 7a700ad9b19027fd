//! The archive: where every issued document lives. One storage boundary
//! over SQLite (embedded, the default) and PostgreSQL (for offices that
//! outgrow one machine), each with its own migrations, plus a store of
//! PDFs addressed by their SHA-256.

mod annul;
pub(crate) mod audit;
mod blob_writes;
mod blobs;
mod bulk_lock;
mod case;
mod checks;
mod closing;
mod documents;
mod drafts;
mod export;
mod extensions;
mod filing;
mod folio;
mod follow_up_notices;
mod hand_signatures;
mod issue_protocol;
mod listing;
mod log;
mod office_logo;
mod public;
mod references;
mod referrals;
mod registers;
mod reservation;
mod resume;
mod s3;
mod search;
mod search_queue;
pub mod session_counts;
pub mod statistics;
pub(crate) mod steps;
pub mod text;
pub mod webhooks;

use crate::config::Config;

pub use crate::db::{Backend, Store, StoreError};
pub use crate::office::Office;
pub use annul::AnnulCategory;
pub use audit::{AuditEvent, ChainBreak, NewEvent, hex};
pub use blob_writes::StagedBlob;
pub use blobs::{BlobError, BlobStore, QUARANTINE, sha256_hex};
pub use bulk_lock::{BulkLock, BulkLockError};
pub use case::{CitationLink, Citations};
pub use checks::{AuditReport, BlobProblem, FsckReport};
pub use documents::{DocumentRecord, ExpedienteRecord, PersonRow, SignatureRow, Status};
pub use drafts::{DraftEdit, DraftRecord};
pub use export::{ExportSummary, pdf_file_name};
pub use extensions::{Extension, ExtensionCandidate, ExtensionKind};
pub use filing::{ExpedienteRef, NamedPerson, expediente_of, normal_identity, persons_in};
pub use folio::{DEFAULT_FORMAT, Folio, FolioFormat, series_of};
pub use follow_up_notices::{NoticeKey, OwingDocument};
pub use hand_signatures::{HandSignatureRecord, NewHandSignature, SignedItem};
pub use issue_protocol::{INTERRUPTED_AFTER, IssueOrder, Issued};
pub use listing::{DocumentFilter, LIST_LIMIT_MAX, ListedDocumentRow, ListedExpediente};
pub use log::{LATE_MARK, LogEntry, LogEvent, LogProblem};
pub use public::PublicView;
pub use references::{BLOB_COLUMNS, BlobReference, NOT_BLOB_COLUMNS, referenced_hashes};
pub use referrals::{ReferralRecord, ReferralState};
pub use registers::ListedDocument;
pub use reservation::{Reservation, request_sha256};
pub use s3::BucketBlobs;
pub use search::{PER_PAGE_MAX, RANKED_MAX, SearchHit, SearchQuery, SearchResults};
pub use steps::{FinalSignature, Move, StepRecord, Taker};

/// Why an archive operation did not happen. Nothing is changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("la clave de idempotencia «{0}» ya se usó con otros datos; use otra clave o los mismos datos")]
    IdempotencyConflict(String),
    #[error(
        "el documento con la clave de idempotencia «{0}» aún se está emitiendo (o su emisión se interrumpió hace menos de 15 minutos); intente más tarde"
    )]
    InProgress(String),
    #[error("no existe el documento «{0}» en el archivo de esta oficina")]
    DocumentNotFound(String),
    #[error("no existe el expediente «{0}» en el archivo de esta oficina")]
    ExpedienteNotFound(String),
    /// The operation is not allowed as asked; the message says why.
    #[error("{0}")]
    Refused(String),
    /// A document of another office no longer shared with this one (its
    /// derivación was annulled); the message says why. Served as missing.
    #[error("{0}")]
    NotShared(String),
    /// Rendering or signing failed; the folio was recorded as annulled.
    #[error("{0}")]
    Issue(#[from] crate::signed_pdf::IssueError),
}

impl From<sqlx::Error> for ArchiveError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(error))
    }
}

impl From<getrandom::Error> for ArchiveError {
    fn from(error: getrandom::Error) -> Self {
        Self::Store(StoreError::Random(error))
    }
}

/// An office's archive: its database and its PDFs.
#[derive(Debug, Clone)]
pub struct Archive {
    store: Store,
    blobs: BlobStore,
    office: Office,
    folio_format: FolioFormat,
    /// How many matches a search counts exactly and ranks.
    rank_limit: i64,
}

impl Archive {
    pub fn new(store: Store, blobs: BlobStore, office: Office, folio_format: FolioFormat) -> Self {
        Self {
            store,
            blobs,
            office,
            folio_format,
            rank_limit: RANKED_MAX,
        }
    }

    /// Counts and ranks up to `limit` matches per search (see [`RANKED_MAX`]).
    pub fn with_rank_limit(mut self, limit: i64) -> Self {
        self.rank_limit = limit.max(1);
        self
    }

    /// Opens the archive the configuration names, creating the data folder,
    /// the database and the blob store on first use.
    pub async fn open(config: &Config) -> Result<Self, ArchiveError> {
        if config.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                StoreError::Invalid(format!("no se pudo crear {}: {e}", config.data_dir.display()))
            })?;
        }
        let store = Store::open(&config.database_url).await?;
        let blobs = BlobStore::open(&config.blob_store)?;
        let office = Office::new(&config.office_code, &config.office_name);
        let archive = Self::new(store, blobs, office, config.folio_format.clone());
        // Issuances a crash interrupted long ago get their folio recorded.
        archive.recover_interrupted(INTERRUPTED_AFTER).await?;
        // And documents a crashed bulk run issued become searchable.
        archive.index_queued().await?;
        // Documents from before the log get their entries, marked late, once.
        archive.backfill_log().await?;
        Ok(archive)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub fn office(&self) -> &Office {
        &self.office
    }

    /// The same archive seen from another office of the installation:
    /// every lookup, search and issuance is then limited to that office.
    pub fn for_office(&self, office: Office) -> Self {
        Self {
            office,
            ..self.clone()
        }
    }
}
