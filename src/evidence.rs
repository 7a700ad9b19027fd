//! Keeping the evidence of issued documents alive, as incremental updates
//! of their PDFs (PAdES): the time-stamp a document issued while no TSA
//! answered awaits (`sello archive timestamp`, and a periodic task of
//! `sello serve`), and archival time-stamps for documents whose newest
//! time-stamp's certificate, or signing chain, expires soon (`sello archive
//! renew`). Either way the update is: the validation data of what the PDF
//! holds (DSS), a document time-stamp over all of it, then the new
//! time-stamp's own validation data. The archive checks the old PDF is a
//! byte prefix of the new one and records both.
//!
//! Each document is claimed first, so two instances sharing one database
//! stamp it once. The PDF work and the TSA's answer are waited for off the
//! async workers.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::{Archive, ArchiveError, Extension, ExtensionCandidate, ExtensionKind};
use crate::keys::TrustedKeys;
use crate::pdf::{SignError, TimeStamp, TsaClient, add_document_timestamp, evidence_expiry, verify_pdf};
use crate::signed_pdf::LongTermSources;

/// What one run did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ExtensionSummary {
    /// Folios whose PDF was extended.
    pub extended: Vec<String>,
    /// Documents found not to need it after all (their evidence lasts),
    /// or claimed by another instance.
    pub skipped: usize,
    /// Folios that could not be extended, and why, in Spanish.
    pub failed: Vec<(String, String)>,
    /// Set when the run stopped early because no TSA answered.
    pub tsa_unavailable: Option<String>,
}

/// Why one document was not extended.
enum Failure {
    /// No TSA answered: the rest would fail alike.
    Tsa(String),
    Other(String),
}

/// Extends documents' PDFs with time-stamps and validation data.
pub struct Extender {
    tsa: Arc<TsaClient>,
    long_term: Arc<LongTermSources>,
    /// This instance's name in its claims.
    claimant: String,
}

impl Extender {
    pub fn new(tsa: Arc<TsaClient>, long_term: Arc<LongTermSources>) -> Result<Self, ArchiveError> {
        let mut name = [0u8; 8];
        getrandom::fill(&mut name)?;
        Ok(Self {
            tsa,
            long_term,
            claimant: crate::archive::hex(&name),
        })
    }

    /// Adds a document time-stamp to up to `limit` documents awaiting one.
    pub async fn stamp_awaiting(
        &self,
        archive: &Archive,
        limit: i64,
    ) -> Result<ExtensionSummary, ArchiveError> {
        let candidates = archive.awaiting_timestamp(limit).await?;
        self.extend_all(archive, candidates, ExtensionKind::Timestamp, None)
            .await
    }

    /// Adds an archival time-stamp to up to `limit` documents whose
    /// evidence expires before `before` (and only to those: a document
    /// whose stored expiry is unknown is looked at and its expiry kept).
    pub async fn renew(
        &self,
        archive: &Archive,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<ExtensionSummary, ArchiveError> {
        let candidates = archive.evidence_expiring(before, limit).await?;
        self.extend_all(archive, candidates, ExtensionKind::Archival, Some(before))
            .await
    }

    async fn extend_all(
        &self,
        archive: &Archive,
        candidates: Vec<ExtensionCandidate>,
        kind: ExtensionKind,
        due_before: Option<DateTime<Utc>>,
    ) -> Result<ExtensionSummary, ArchiveError> {
        let mut summary = ExtensionSummary::default();
        for candidate in candidates {
            if !archive
                .claim_extension(candidate.document_id, &self.claimant)
                .await?
            {
                summary.skipped += 1;
                continue;
            }
            let outcome = self.extend(archive, &candidate, kind, due_before).await;
            if !matches!(outcome, Ok(Some(_))) {
                archive
                    .release_extension(candidate.document_id, &self.claimant)
                    .await?;
            }
            match outcome {
                Ok(Some(_)) => {
                    tracing::info!(document.id = candidate.document_id, "documento extendido");
                    summary.extended.push(candidate.folio);
                }
                Ok(None) => summary.skipped += 1,
                Err(Failure::Tsa(problem)) => {
                    summary.tsa_unavailable = Some(problem);
                    break;
                }
                Err(Failure::Other(problem)) => {
                    tracing::warn!(document.id = candidate.document_id, error = %problem, "extension failed");
                    summary.failed.push((candidate.folio, problem));
                }
            }
        }
        Ok(summary)
    }

    /// Extends one claimed document; `None` if it turned out not to need
    /// it (stamped meanwhile, or its evidence lasts past `due_before`).
    async fn extend(
        &self,
        archive: &Archive,
        candidate: &ExtensionCandidate,
        kind: ExtensionKind,
        due_before: Option<DateTime<Utc>>,
    ) -> Result<Option<String>, Failure> {
        let storage = |e: ArchiveError| Failure::Other(e.to_string());
        let id = candidate.document_id;
        if kind == ExtensionKind::Timestamp && !archive.awaits_timestamp(id).await.map_err(storage)? {
            return Ok(None);
        }
        let previous_sha256 = archive.newest_pdf_sha256(id).await.map_err(storage)?;
        let previous = archive
            .blobs()
            .get(&previous_sha256)
            .await
            .map_err(|e| Failure::Other(e.to_string()))?;
        let mut expiring = None;
        if let Some(before) = due_before {
            let expiry = evidence_expiry(&previous).map_err(|e| Failure::Other(e.to_string()))?;
            match expiry {
                Some(until) if until >= before => {
                    archive.set_evidence_until(id, until).await.map_err(storage)?;
                    return Ok(None);
                }
                None => return Ok(None),
                Some(until) => expiring = Some(until),
            }
        }
        let (tsa, long_term) = (Arc::clone(&self.tsa), Arc::clone(&self.long_term));
        let (pdf, stamp, evidence_until) =
            tokio::task::spawn_blocking(move || extend_pdf(&tsa, &long_term, previous))
                .await
                .map_err(|e| Failure::Other(e.to_string()))??;
        // An archival time-stamp that expires no later than the evidence it
        // should outlive adds nothing: the TSA's own certificate is about
        // to expire. Nothing is stored, so running renew again is harmless.
        if let (Some(old), Some(new)) = (expiring, evidence_until)
            && new <= old
        {
            return Err(Failure::Other(format!(
                "el sello de tiempo nuevo ({}) vence el {}, no después que la evidencia actual: configure una TSA cuyo certificado dure más",
                stamp.tsa,
                new.format("%Y-%m-%d")
            )));
        }
        let extension = Extension {
            kind,
            previous_sha256,
            pdf,
            stamped_at: stamp.time,
            tsa: stamp.tsa,
            evidence_until,
        };
        let sha256 = archive
            .record_extension(id, &self.claimant, extension)
            .await
            .map_err(storage)?;
        Ok(Some(sha256))
    }
}

/// The extended PDF, its new time-stamp, and when its evidence expires.
type Extended = (Vec<u8>, TimeStamp, Option<DateTime<Utc>>);

fn extend_pdf(tsa: &TsaClient, long_term: &LongTermSources, pdf: Vec<u8>) -> Result<Extended, Failure> {
    let other = |e: &dyn std::fmt::Display| Failure::Other(e.to_string());
    // What validates the evidence so far, protected by the new time-stamp…
    let pdf = long_term.complete(pdf).map_err(|e| other(&e))?;
    let (pdf, stamp) = add_document_timestamp(&pdf, tsa).map_err(|e| match e {
        SignError::Cms(problem) => Failure::Tsa(problem),
        other => Failure::Other(other.to_string()),
    })?;
    // …and what validates the new time-stamp itself.
    let pdf = long_term.complete(pdf).map_err(|e| other(&e))?;
    // Sello's own strict verifier must accept what was added.
    let report = verify_pdf(&pdf, &TrustedKeys::default()).map_err(|e| other(&e))?;
    if let Some(change) = report.modification {
        return Err(Failure::Other(format!("la extensión no es aceptable: {change}")));
    }
    if let Some(problem) = report.document_timestamps.iter().find_map(|t| t.problem.clone()) {
        return Err(Failure::Other(problem));
    }
    let until = evidence_expiry(&pdf).map_err(|e| other(&e))?;
    Ok((pdf, stamp, until))
}
