//! Work that runs once per period across every instance (the time-stamp
//! retry, the follow-up notices), scheduled through the queue.
//!
//! Periods are counted from 1970 in each instance's clock, so every
//! instance names the current one alike; each enqueues its job under the
//! key `kind@start`, which the database lets in once ([`Queue::enqueue_unique`]).
//! Whichever instance claims it runs it under a lease it keeps renewing;
//! a failed run is queued again after a backoff, and the job of a holder
//! that died is taken over when its lease runs out, as any job's.
//! A period no instance was alive for is skipped, not made up later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::json;

use super::{Backoff, NewJob, Queue, QueueError, Retry, now_ms};

/// One run of a periodic job: a summary for the log (no personal data),
/// or why it failed (to be tried again).
pub type Work = Arc<dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// How long finished periodic jobs are kept, for whoever looks at the
/// queue: a week.
const KEEP_FINISHED: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// At most this many jobs of one kind are run per round (a backlog of
/// retries is worked through over the next rounds).
const RUNS_PER_ROUND: usize = 4;

/// A kind of job that runs every `every`.
pub struct Periodic {
    pub kind: String,
    pub every: Duration,
    /// Before a failed run is tried again.
    pub backoff: Backoff,
    /// Runs of one period before it is given up (the next period comes
    /// anyway).
    pub max_attempts: u32,
    /// How long a holder keeps the job without renewing; renewed every
    /// third of it while the work runs.
    pub lease: Duration,
    work: Work,
}

impl std::fmt::Debug for Periodic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Periodic")
            .field("kind", &self.kind)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl Periodic {
    /// `work` as `kind`, every `every` (at least a second): retried after
    /// a minute, doubling up to the period, 3 times a period, under a
    /// lease of a minute.
    pub fn new(kind: &str, every: Duration, work: Work) -> Self {
        let every = every.max(Duration::from_secs(1));
        Self {
            kind: kind.to_owned(),
            every,
            backoff: Backoff {
                first: Duration::from_secs(60).min(every),
                max: every,
            },
            max_attempts: 3,
            lease: Duration::from_secs(60),
            work,
        }
    }

    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The start of the period `now` is in (milliseconds since 1970).
    fn period_of(&self, now_ms: i64) -> i64 {
        let every = i64::try_from(self.every.as_millis()).unwrap_or(i64::MAX).max(1);
        now_ms.div_euclid(every) * every
    }

    /// The key of the job of the period starting at `start`.
    pub fn key(&self, start: i64) -> String {
        format!("{}@{start}", self.kind)
    }
}

/// What became of one job a round ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub kind: String,
    pub job_id: i64,
    pub attempt: u32,
    /// The summary, or why it failed.
    pub outcome: Result<String, String>,
}

/// The periodic jobs one instance enqueues and runs.
pub struct Scheduler {
    queue: Queue,
    jobs: Vec<Periodic>,
    /// The last period this instance enqueued, per kind: the database is
    /// asked once a period, not every round.
    enqueued: Mutex<HashMap<String, i64>>,
}

impl Scheduler {
    pub fn new(queue: Queue) -> Self {
        Self {
            queue,
            jobs: Vec::new(),
            enqueued: Mutex::new(HashMap::new()),
        }
    }

    /// Adds `job` to what this instance schedules.
    pub fn with(mut self, job: Periodic) -> Self {
        self.jobs.push(job);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Enqueues the current period's job of each kind, unless this or
    /// another instance did; forgets the jobs finished long ago.
    pub async fn enqueue_due(&self) -> Result<(), QueueError> {
        let now = now_ms();
        for job in &self.jobs {
            let start = job.period_of(now);
            if self.already_enqueued(&job.kind, start) {
                continue;
            }
            let new = NewJob::new(&job.kind, json!({ "periodo_ms": start }))
                .run_at(DateTime::from_timestamp_millis(start).unwrap_or_default())
                .max_attempts(job.max_attempts);
            if let Some(id) = self.queue.enqueue_unique(&new, &job.key(start)).await? {
                tracing::debug!(job.id = id, job.kind = %job.kind, "trabajo periódico en cola");
                self.queue
                    .forget_finished(&job.kind, Utc::now() - KEEP_FINISHED)
                    .await?;
            }
            self.enqueued
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(job.kind.clone(), start);
        }
        Ok(())
    }

    fn already_enqueued(&self, kind: &str, start: i64) -> bool {
        self.enqueued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(kind)
            .is_some_and(|last| *last >= start)
    }

    /// Claims and runs the jobs of these kinds that are due (a new period,
    /// a retry whose backoff passed, one whose holder died).
    pub async fn run_due(&self) -> Result<Vec<Ran>, QueueError> {
        let mut ran = Vec::new();
        for job in &self.jobs {
            for _ in 0..RUNS_PER_ROUND {
                let Some(claimed) = self.queue.claim(&job.kind, job.lease).await? else {
                    break;
                };
                let alive = self.queue.keep_alive(&claimed, job.lease);
                let outcome = (job.work)().await;
                let lost = alive.lost();
                drop(alive);
                let recorded = match &outcome {
                    Ok(summary) => self.queue.complete(&claimed, Some(&json!({ "resumen": summary }))).await,
                    Err(error) => self.queue.fail(&claimed, error, job.backoff).await.map(|retry| {
                        if retry == Retry::GaveUp {
                            tracing::warn!(job.id = claimed.id, job.kind = %job.kind, "trabajo periódico abandonado en este periodo");
                        }
                    }),
                };
                match recorded {
                    Ok(()) => {}
                    // Taken over while it ran: the other holder's run counts.
                    Err(QueueError::LeaseLost(_)) => {
                        tracing::warn!(job.id = claimed.id, job.kind = %job.kind, lease.lost = lost, "otra instancia tomó el trabajo periódico");
                    }
                    Err(error) => return Err(error),
                }
                if let Err(error) = &outcome {
                    tracing::warn!(job.id = claimed.id, job.kind = %job.kind, job.attempt = claimed.attempt, error = %error, "falló un trabajo periódico");
                }
                ran.push(Ran {
                    kind: job.kind.clone(),
                    job_id: claimed.id,
                    attempt: claimed.attempt,
                    outcome,
                });
            }
        }
        Ok(ran)
    }

    /// One round: [`Self::enqueue_due`], then [`Self::run_due`].
    pub async fn round(&self) -> Result<Vec<Ran>, QueueError> {
        self.enqueue_due().await?;
        self.run_due().await
    }

    /// A round every `poll`, for as long as the task lives; a round that
    /// fails (the database away) is logged and the next one tries again.
    pub async fn run(self, poll: Duration) {
        let mut ticks = tokio::time::interval(poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = self.round().await {
                tracing::warn!(error = %error, "falló una ronda de trabajos periódicos");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instance_names_the_same_period() {
        use futures::FutureExt as _;
        let job = Periodic::new(
            "x",
            Duration::from_secs(900),
            Arc::new(|| async { Ok(String::new()) }.boxed()),
        );
        let start = job.period_of(1_765_000_123_456);
        assert_eq!(start % 900_000, 0);
        assert!(start <= 1_765_000_123_456 && 1_765_000_123_456 < start + 900_000);
        assert_eq!(job.period_of(start), start);
        assert_eq!(job.period_of(start + 899_999), start);
        assert_eq!(job.period_of(start + 900_000), start + 900_000);
        assert_eq!(job.key(start), format!("x@{start}"));
    }
}
