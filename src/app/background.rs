//! The periodic work `sello serve` hands the shared queue
//! ([`crate::queue::Scheduler`]): the time-stamp retry and the follow-up
//! notices, each run once a period by whichever instance claims it.

use std::sync::Arc;

use futures::FutureExt as _;

use crate::archive::Archive;
use crate::evidence::Extender;
use crate::queue::{Periodic, Work};
use crate::web::AppState;

/// How often each instance looks at the queue for periodic work due.
pub(super) const PERIODIC_POLL: std::time::Duration = std::time::Duration::from_secs(15);

/// The kind of the job that retries the awaited time-stamps.
pub const TIMESTAMP_RETRY: &str = "sellos-de-tiempo-pendientes";

/// The kind of the job that mails the follow-ups due.
pub const FOLLOW_UP_NOTICES: &str = "avisos-de-seguimiento";

/// How often the follow-up notices go out: a due day is a day, so an
/// hour late is on time.
const FOLLOW_UP_ROUND: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Every hour, mails what fell due. A round that failed for an office is
/// tried again after a backoff; what was sent stays recorded in the
/// archive (`follow_up_notices`), so the retry mails nothing twice.
pub(super) fn follow_up_notices(state: Arc<AppState>) -> Periodic {
    let work: Work = Arc::new(move || notices_round(Arc::clone(&state)).boxed());
    Periodic::new(FOLLOW_UP_NOTICES, FOLLOW_UP_ROUND, work)
}

/// One run of [`follow_up_notices`]: its summary, or why to try again.
async fn notices_round(state: Arc<AppState>) -> Result<String, String> {
    let (sent, failed) = follow_up_round(&state).await;
    if sent > 0 {
        tracing::info!(notices.sent = sent, "avisos de seguimientos vencidos");
    }
    match failed {
        0 => Ok(format!("{sent} avisos enviados")),
        n => Err(format!("{sent} avisos enviados; falló la ronda de {n} oficinas")),
    }
}

/// One round of the follow-up notices over every office of the
/// installation, each on its own day: how many messages went out. An
/// office whose round fails is logged and the others go on; what was sent
/// stays recorded, so nothing is mailed twice.
pub async fn mail_follow_ups_due(state: &AppState) -> usize {
    follow_up_round(state).await.0
}

/// [`mail_follow_ups_due`]: how many messages went out, and for how many
/// offices the round failed.
async fn follow_up_round(state: &AppState) -> (usize, usize) {
    let offices = match state.accounts.offices().await {
        Ok(offices) => offices,
        Err(error) => {
            tracing::warn!(error = %error, "no se pudieron leer las oficinas para los avisos");
            return (0, 1);
        }
    };
    let mut sent = 0;
    let mut failed = 0;
    for office in offices {
        let today = state.issuer.now_in(&office).date_naive();
        let archive = state.archive.for_office(office);
        match state
            .notifier
            .follow_ups_due(&archive, &state.catalog, &state.accounts, today)
            .await
        {
            Ok(count) => sent += count,
            Err(error) => {
                failed += 1;
                tracing::warn!(error = %error, "falló una ronda de avisos de seguimiento");
            }
        }
    }
    (sent, failed)
}

/// Every `every`, adds their time-stamp to the documents issued while no
/// TSA answered; when no TSA answers now either, tried again after a
/// backoff. Each document is also claimed before it is stamped, so a run
/// taken over from an instance that stopped stamps nothing twice. The PDF
/// work and the TSA's answer are waited for off the async workers.
pub(super) fn timestamp_retry(
    extender: Arc<Extender>,
    archive: Archive,
    every: std::time::Duration,
) -> Periodic {
    let work: Work = Arc::new(move || stamp_round(Arc::clone(&extender), archive.clone()).boxed());
    Periodic::new(TIMESTAMP_RETRY, every, work)
}

/// One run of [`timestamp_retry`]: its summary, or why to try again (the
/// database, or no TSA answering).
async fn stamp_round(extender: Arc<Extender>, archive: Archive) -> Result<String, String> {
    let summary = extender
        .stamp_awaiting(&archive, 500)
        .await
        .map_err(|error| format!("no se pudieron leer los documentos en espera: {error}"))?;
    if !summary.extended.is_empty() || summary.tsa_unavailable.is_some() {
        tracing::info!(
            documents.stamped = summary.extended.len(),
            documents.failed = summary.failed.len(),
            tsa.unavailable = summary.tsa_unavailable.is_some(),
            "documentos en espera de sello de tiempo"
        );
    }
    let done = format!(
        "{} sellados, {} con error",
        summary.extended.len(),
        summary.failed.len()
    );
    match summary.tsa_unavailable {
        Some(problem) => Err(format!("{done}; ninguna autoridad respondió: {problem}")),
        None => Ok(done),
    }
}
