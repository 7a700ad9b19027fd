//! The transparency log's vocabulary: RFC 6962 Merkle hashing, tree heads,
//! inclusion and consistency proofs (`merkle`), C2SP signed-note checkpoints
//! (`note`) and the C2SP `tlog-proof` offline bundle (`bundle`).
//!
//! Written here rather than taken from a crate: `ct-merkle` covers only the
//! tree, and `tlog_tiles`/`signed_note` pin ed25519-dalek 2 and sha2 0.10,
//! which would put a second copy of each into the build for a few hundred
//! lines of pure functions. The known-answer tests below come from
//! transparency-dev/merkle's test data.
//!
//! Pure functions only: storing entries and keys belongs to `archive` and
//! `keys`.

pub mod bundle;
pub mod merkle;
pub mod note;

pub use merkle::Hash;
