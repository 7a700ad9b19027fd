//! A durable queue of background work in the database every instance
//! shares: bulk lotes and their chunks, retries, notices, webhooks. A job
//! is enqueued (in the caller's transaction if it likes), claimed by one
//! instance under a lease it renews while it works, and completed or
//! failed; a failure is tried again after a backoff until its attempts run
//! out. When a holder dies its lease runs out and another instance claims
//! the job again, so a job's work must be safe to do twice (idempotent),
//! or check what an earlier attempt left.
//!
//! Claiming is one statement: `UPDATE … WHERE id = (SELECT … LIMIT 1 FOR
//! UPDATE SKIP LOCKED) RETURNING …` on PostgreSQL, the same without the
//! row lock on SQLite, where the statement holds the database's one write
//! lock. Each claim adds one to `attempts`, which with the holder's name
//! fences every later call: a holder whose lease was taken over can
//! neither renew, report progress, complete nor fail the job
//! ([`QueueError::LeaseLost`]).
//!
//! Written here rather than taken from a crate: see ARCHITECTURE.md,
//! «Several instances on one database».
//!
//! Long because the queue's operations are one protocol over one table:
//! each call's fence (holder and attempt) only reads right beside the
//! claim that set it.

mod keep_alive;
mod periodic;

pub use keep_alive::KeepAlive;
pub use periodic::{Periodic, Ran, Scheduler, Work};

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::{Store, Tx};

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("base de datos: {0}")]
    Database(#[from] sqlx::Error),
    /// A payload or progress stored that is not JSON (written by hand?).
    #[error("datos del trabajo {0}: {1}")]
    Payload(i64, serde_json::Error),
    /// The lease was taken over by another claim (it ran out), or the job
    /// is no longer running: whatever this holder does now is not recorded.
    #[error("el trabajo {0} ya no está en manos de esta instancia")]
    LeaseLost(i64),
    /// No random bits for the holder's name.
    #[error("generador aleatorio del sistema: {0}")]
    Random(#[from] getrandom::Error),
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its time (`run_at`), or for a retry.
    Queued,
    /// Held by an instance under a lease.
    Running,
    Done,
    /// Gave up: its attempts ran out.
    Failed,
}

impl JobState {
    fn parse(text: &str) -> Self {
        match text {
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => Self::Queued,
        }
    }

    /// Whether nothing more will happen to the job.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    /// Not before then; now when `None`.
    pub run_at: Option<DateTime<Utc>>,
    /// Claims before it is given up (at least one).
    pub max_attempts: u32,
    /// Jobs that belong together (a lote's chunks), found by
    /// [`Queue::group`].
    pub group: Option<String>,
}

impl NewJob {
    /// A job of `kind` (what runs it) with `payload` (what it works on),
    /// to run now, tried up to 5 times, in no group.
    pub fn new(kind: &str, payload: Value) -> Self {
        Self {
            kind: kind.to_owned(),
            payload,
            run_at: None,
            max_attempts: 5,
            group: None,
        }
    }

    pub fn run_at(mut self, when: DateTime<Utc>) -> Self {
        self.run_at = Some(when);
        self
    }

    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    pub fn in_group(mut self, group: &str) -> Self {
        self.group = Some(group.to_owned());
        self
    }
}

/// A job this instance claimed, with what fences its lease.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    /// This claim's number, from 1: more than 1 when an earlier attempt
    /// failed or its holder died.
    pub attempt: u32,
    pub max_attempts: u32,
    pub group: Option<String>,
    /// What an earlier attempt reported, if any.
    pub progress: Option<Value>,
}

/// A job as stored, for pages that show it and for tests.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub state: JobState,
    pub progress: Option<Value>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
    pub lease_holder: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub group: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// How long to wait before trying a failed job again: `first`, doubled
/// at each attempt, never more than `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after the `attempt`th attempt failed.
    pub fn after(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

impl Default for Backoff {
    /// Ten seconds, doubling, at most an hour.
    fn default() -> Self {
        Self {
            first: Duration::from_secs(10),
            max: Duration::from_secs(3600),
        }
    }
}

/// What became of a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Queued again, not before then.
    At(DateTime<Utc>),
    /// Its attempts ran out: it stays `failed`.
    GaveUp,
}

/// The queue as one instance sees it: the database and the name this
/// instance holds leases under.
#[derive(Debug, Clone)]
pub struct Queue {
    store: Store,
    holder: String,
}

const JOB_COLUMNS: &str = "id, kind, payload, state, progress, attempts, max_attempts, run_at, \
     lease_holder, lease_until, last_error, group_key, created_at, finished_at";

type JobRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

type ClaimedRow = (i64, String, String, i64, i64, Option<String>, Option<String>);

impl Queue {
    /// The queue in `store`, for a holder named after this process and a
    /// random part (a restarted process is another holder).
    pub fn new(store: Store) -> Result<Self, QueueError> {
        let mut random = [0u8; 6];
        getrandom::fill(&mut random)?;
        let tail: String = random.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self::with_holder(
            store,
            &format!("{}-{tail}", std::process::id()),
        ))
    }

    /// The queue in `store` for a holder of that name (unique per instance).
    pub fn with_holder(store: Store, holder: &str) -> Self {
        Self {
            store,
            holder: holder.to_owned(),
        }
    }

    /// The name this instance holds leases under.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Enqueues `job` in its own transaction; returns its id.
    pub async fn enqueue(&self, job: &NewJob) -> Result<i64, QueueError> {
        let mut tx = self.store.begin_write().await?;
        let id = Self::enqueue_in(&mut tx, job).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Enqueues `job` inside the caller's transaction: the job exists if
    /// and only if what the caller writes is committed.
    pub async fn enqueue_in(tx: &mut Tx, job: &NewJob) -> Result<i64, QueueError> {
        let now = now_ms();
        let run_at = job.run_at.map_or(now, |t| t.timestamp_millis());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, group_key, created_at) \
             VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&job.kind)
        .bind(job.payload.to_string())
        .bind(i64::from(job.max_attempts.max(1)))
        .bind(run_at)
        .bind(job.group.as_deref())
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        Ok(id)
    }

    /// Enqueues `job` under `unique_key` unless a job with that key exists
    /// (enqueued by this or another instance, in whatever state): its id
    /// when this call enqueued it.
    pub async fn enqueue_unique(&self, job: &NewJob, unique_key: &str) -> Result<Option<i64>, QueueError> {
        let now = now_ms();
        let run_at = job.run_at.map_or(now, |t| t.timestamp_millis());
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, group_key, created_at, unique_key) \
             VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $7) \
             ON CONFLICT (unique_key) DO NOTHING RETURNING id",
        )
        .bind(&job.kind)
        .bind(job.payload.to_string())
        .bind(i64::from(job.max_attempts.max(1)))
        .bind(run_at)
        .bind(job.group.as_deref())
        .bind(now)
        .bind(unique_key)
        .fetch_optional(self.store.pool())
        .await?;
        Ok(id)
    }

    /// The job enqueued under `unique_key`, if any.
    pub async fn get_unique(&self, unique_key: &str) -> Result<Option<JobRecord>, QueueError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE unique_key = $1");
        let row: Option<JobRow> = sqlx::query_as(&sql)
            .bind(unique_key)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(record).transpose()
    }

    /// The jobs of `kind`, in the order they were enqueued.
    pub async fn of_kind(&self, kind: &str) -> Result<Vec<JobRecord>, QueueError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 ORDER BY id");
        let rows: Vec<JobRow> = sqlx::query_as(&sql)
            .bind(kind)
            .fetch_all(self.store.pool())
            .await?;
        rows.into_iter().map(record).collect()
    }

    /// Deletes the jobs of `kind` that finished before `before`; how many.
    pub async fn forget_finished(&self, kind: &str, before: DateTime<Utc>) -> Result<u64, QueueError> {
        let deleted = sqlx::query(
            "DELETE FROM jobs WHERE kind = $1 AND state IN ('done', 'failed') AND finished_at < $2",
        )
        .bind(kind)
        .bind(before.timestamp_millis())
        .execute(self.store.pool())
        .await?
        .rows_affected();
        Ok(deleted)
    }

    /// Claims the oldest job of `kind` that is due, or whose holder's
    /// lease ran out, for `lease`. A job taken back from a dead holder
    /// after its last attempt is given up instead (and the next looked
    /// for), so a job that kills its holder cannot kill every instance.
    pub async fn claim(&self, kind: &str, lease: Duration) -> Result<Option<Claimed>, QueueError> {
        loop {
            let now = now_ms();
            let sql = format!(
                "UPDATE jobs SET state = 'running', lease_holder = $1, lease_until = $2, \
                 attempts = attempts + 1 \
                 WHERE id = (SELECT id FROM jobs WHERE kind = $3 AND \
                   ((state = 'queued' AND run_at <= $4) OR (state = 'running' AND lease_until < $4)) \
                   ORDER BY run_at, id LIMIT 1{}) \
                 RETURNING id, kind, payload, attempts, max_attempts, group_key, progress",
                self.store.dialect().skip_locked()
            );
            let row: Option<ClaimedRow> = sqlx::query_as(&sql)
                .bind(&self.holder)
                .bind(now.saturating_add(millis(lease)))
                .bind(kind)
                .bind(now)
                .fetch_optional(self.store.pool())
                .await?;
            let Some((id, kind, payload, attempts, max_attempts, group, progress)) = row else {
                return Ok(None);
            };
            let claimed = Claimed {
                id,
                kind,
                payload: parse_json(id, &payload)?,
                attempt: to_u32(attempts),
                max_attempts: to_u32(max_attempts),
                group,
                progress: progress.as_deref().map(|p| parse_json(id, p)).transpose()?,
            };
            if claimed.attempt <= claimed.max_attempts {
                return Ok(Some(claimed));
            }
            tracing::warn!(job.id = id, job.kind = %claimed.kind, "trabajo abandonado: su instancia dejó de responder en cada intento");
            self.finish(
                &claimed,
                "failed",
                None,
                Some("se agotaron los intentos: la instancia que lo tenía dejó de responder"),
            )
            .await?;
        }
    }

    /// Renews the lease of `job` for `lease` from now.
    pub async fn extend(&self, job: &Claimed, lease: Duration) -> Result<(), QueueError> {
        let changed = sqlx::query(
            "UPDATE jobs SET lease_until = $1 \
             WHERE id = $2 AND lease_holder = $3 AND attempts = $4 AND state = 'running'",
        )
        .bind(now_ms().saturating_add(millis(lease)))
        .bind(job.id)
        .bind(&self.holder)
        .bind(i64::from(job.attempt))
        .execute(self.store.pool())
        .await?
        .rows_affected();
        fenced(job.id, changed)
    }

    /// Records how far `job` got, and renews its lease for `lease`.
    pub async fn progress(&self, job: &Claimed, progress: &Value, lease: Duration) -> Result<(), QueueError> {
        let changed = sqlx::query(
            "UPDATE jobs SET progress = $1, lease_until = $2 \
             WHERE id = $3 AND lease_holder = $4 AND attempts = $5 AND state = 'running'",
        )
        .bind(progress.to_string())
        .bind(now_ms().saturating_add(millis(lease)))
        .bind(job.id)
        .bind(&self.holder)
        .bind(i64::from(job.attempt))
        .execute(self.store.pool())
        .await?
        .rows_affected();
        fenced(job.id, changed)
    }

    /// Marks `job` done, with its last progress if given.
    pub async fn complete(&self, job: &Claimed, progress: Option<&Value>) -> Result<(), QueueError> {
        self.finish(job, "done", progress, None).await
    }

    /// Marks `job` done inside `tx`, so that what completing it means (a
    /// lote finished) commits with it or not at all.
    pub async fn complete_in(&self, tx: &mut Tx, job: &Claimed) -> Result<(), QueueError> {
        let changed = sqlx::query(FINISH)
            .bind("done")
            .bind(None::<String>)
            .bind(None::<&str>)
            .bind(now_ms())
            .bind(job.id)
            .bind(&self.holder)
            .bind(i64::from(job.attempt))
            .execute(&mut **tx)
            .await?
            .rows_affected();
        fenced(job.id, changed)
    }

    /// Records that `job` failed with `error` (for the log and the job's
    /// page: no personal data): queued again after `backoff` unless its
    /// attempts ran out.
    pub async fn fail(&self, job: &Claimed, error: &str, backoff: Backoff) -> Result<Retry, QueueError> {
        if job.attempt >= job.max_attempts {
            self.finish(job, "failed", None, Some(error)).await?;
            return Ok(Retry::GaveUp);
        }
        let run_at = now_ms().saturating_add(millis(backoff.after(job.attempt)));
        let changed = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $1, lease_until = NULL, last_error = $2 \
             WHERE id = $3 AND lease_holder = $4 AND attempts = $5 AND state = 'running'",
        )
        .bind(run_at)
        .bind(error)
        .bind(job.id)
        .bind(&self.holder)
        .bind(i64::from(job.attempt))
        .execute(self.store.pool())
        .await?
        .rows_affected();
        fenced(job.id, changed)?;
        Ok(Retry::At(from_ms(run_at)))
    }

    async fn finish(
        &self,
        job: &Claimed,
        state: &str,
        progress: Option<&Value>,
        error: Option<&str>,
    ) -> Result<(), QueueError> {
        let changed = sqlx::query(FINISH)
            .bind(state)
            .bind(progress.map(Value::to_string))
            .bind(error)
            .bind(now_ms())
            .bind(job.id)
            .bind(&self.holder)
            .bind(i64::from(job.attempt))
            .execute(self.store.pool())
            .await?
            .rows_affected();
        fenced(job.id, changed)
    }

    /// Keeps renewing `job`'s lease for `lease` every third of it, in the
    /// background, until the returned guard drops; the guard tells when
    /// the lease was lost.
    pub fn keep_alive(&self, job: &Claimed, lease: Duration) -> KeepAlive {
        KeepAlive::start(self.clone(), job.clone(), lease)
    }

    /// The job with that id.
    pub async fn get(&self, id: i64) -> Result<Option<JobRecord>, QueueError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(record).transpose()
    }

    /// The jobs of a group, in the order they were enqueued.
    pub async fn group(&self, group: &str) -> Result<Vec<JobRecord>, QueueError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE group_key = $1 ORDER BY id");
        let rows: Vec<JobRow> = sqlx::query_as(&sql)
            .bind(group)
            .fetch_all(self.store.pool())
            .await?;
        rows.into_iter().map(record).collect()
    }
}

/// Ends a job its holder still holds: state, progress, error, time, and
/// the job, holder and attempt that fence it.
const FINISH: &str = "UPDATE jobs SET state = $1, progress = COALESCE($2, progress), \
     last_error = COALESCE($3, last_error), lease_until = NULL, finished_at = $4 \
     WHERE id = $5 AND lease_holder = $6 AND attempts = $7 AND state = 'running'";

fn fenced(id: i64, changed: u64) -> Result<(), QueueError> {
    if changed == 1 {
        Ok(())
    } else {
        Err(QueueError::LeaseLost(id))
    }
}

fn record(row: JobRow) -> Result<JobRecord, QueueError> {
    let (id, kind, payload, state, progress, attempts, max_attempts, run_at, holder, until, error, group) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11,
    );
    Ok(JobRecord {
        id,
        kind,
        payload: parse_json(id, &payload)?,
        state: JobState::parse(&state),
        progress: progress.as_deref().map(|p| parse_json(id, p)).transpose()?,
        attempts: to_u32(attempts),
        max_attempts: to_u32(max_attempts),
        run_at: from_ms(run_at),
        lease_holder: holder,
        lease_until: until.map(from_ms),
        last_error: error,
        group,
        created_at: from_ms(row.12),
        finished_at: row.13.map(from_ms),
    })
}

fn parse_json(id: i64, text: &str) -> Result<Value, QueueError> {
    serde_json::from_str(text).map_err(|e| QueueError::Payload(id, e))
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Now, as the queue's columns count time.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_ceiling() {
        let backoff = Backoff {
            first: Duration::from_secs(10),
            max: Duration::from_secs(60),
        };
        assert_eq!(backoff.after(1), Duration::from_secs(10));
        assert_eq!(backoff.after(2), Duration::from_secs(20));
        assert_eq!(backoff.after(3), Duration::from_secs(40));
        assert_eq!(backoff.after(4), Duration::from_secs(60));
        assert_eq!(backoff.after(400), Duration::from_secs(60));
    }
}
