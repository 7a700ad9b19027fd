//! Limits counted where every instance sees them, so that N instances
//! behind one proxy allow what one would: the generic cell rate algorithm
//! (GCRA, as `governor` counts in one process) kept in the database, one
//! row per limited client, updated by one statement.
//!
//! A client's row holds its theoretical arrival time (`tat`): a request at
//! `now` is allowed when `max(tat, now) − now` is within the burst's
//! tolerance, and then moves `tat` on by one interval. The row names the
//! client by an HMAC of the limit's name and its network under the
//! installation's secret ([`BucketKey`]), so the table holds no address,
//! nor one that hashing every address would find.
//!
//! An installation that runs Redis may count there instead
//! ([`RedisLimit`]), with the same algorithm and the same names of clients.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::db::Store;

mod bucket;
mod in_redis;

pub use bucket::{BucketKey, BucketKeyError};
pub use in_redis::{RedisCounters, RedisLimit};

/// How often (in requests) the rows of clients gone quiet are deleted.
const SWEEP_EVERY: u64 = 1000;

/// One limit, counted in the database.
#[derive(Debug)]
pub struct SharedLimit {
    store: Store,
    /// The installation's secret, which names each row.
    key: BucketKey,
    /// Names the limit in each row's name (`consultas`, `acceso`).
    name: String,
    /// Time between two requests at the steady rate.
    interval: Duration,
    /// Requests allowed at once after a quiet spell.
    burst: u32,
    calls: AtomicU64,
}

impl SharedLimit {
    /// `per_minute` requests a minute per client, `burst` of them at once,
    /// each client named under `key` (the installation's: see
    /// [`BucketKey::of_installation`]). `None` when `per_minute` is 0 (no
    /// limit).
    pub fn new(store: Store, key: &BucketKey, name: &str, per_minute: u32, burst: u32) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            store,
            key: key.clone(),
            name: name.to_owned(),
            interval: Duration::from_secs(60) / per_minute,
            burst: burst.max(1),
            calls: AtomicU64::new(0),
        })
    }

    /// Counts one request of `client` (its network, as text); whether it
    /// is allowed.
    pub async fn allows(&self, client: &str) -> Result<bool, sqlx::Error> {
        let now = chrono::Utc::now().timestamp_millis();
        let interval = i64::try_from(self.interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let tolerance = interval.saturating_mul(i64::from(self.burst) - 1);
        const LATER: &str = "CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END";
        let sql = format!(
            "INSERT INTO rate_limits (bucket, tat, allowed) VALUES ($1, $2 + $3, 1) \
             ON CONFLICT (bucket) DO UPDATE SET \
             allowed = CASE WHEN {LATER} - $2 <= $4 THEN 1 ELSE 0 END, \
             tat = CASE WHEN {LATER} - $2 <= $4 THEN {LATER} + $3 ELSE rate_limits.tat END \
             RETURNING allowed"
        );
        let allowed: i64 = sqlx::query_scalar(&sql)
            .bind(self.key.bucket(&self.name, client))
            .bind(now)
            .bind(interval)
            .bind(tolerance)
            .fetch_one(self.store.pool())
            .await?;
        if self.calls.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // A row whose time has passed counts as no row at all.
            sqlx::query("DELETE FROM rate_limits WHERE tat < $1")
                .bind(now)
                .execute(self.store.pool())
                .await?;
        }
        Ok(allowed == 1)
    }
}
