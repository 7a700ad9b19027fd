//! Registers and reports Sello builds from the archive rather than from
//! what a clerk types (issue 25): the padrón de beneficiarios of a
//! programme (`padron`), the weekly report of oficios (`semanal`) and the
//! counts of sessions and attendance for the reporte de actividades and
//! the informe final (`actividades`). Each row cites the folio of the
//! document it comes from. And what documents still owe, with its due
//! date (`seguimientos`).
//!
//! A register is issued like any document, in tomos when large, and is
//! issued again as a new version only when what it lists changed: the
//! version before is then marked replaced by the new one (with its entry in
//! the transparency log), never deleted (`version`). Whether the archive
//! changed since a padrón in force was integrated is shown, not acted on
//! (`vigentes`).

pub mod actividades;
pub mod padron;
pub mod seguimientos;
pub mod semanal;
mod version;
pub mod vigentes;

pub use version::{Issuing, Register, Version};

use crate::archive::ArchiveError;

/// A register asked for something it cannot build: the message says what.
pub(crate) fn refused(message: impl Into<String>) -> ArchiveError {
    ArchiveError::Refused(message.into())
}
