//! The same limits counted in Redis, for installations that run one: the
//! GCRA step is one Lua script, which Redis runs atomically, on the time
//! of the Redis server (so the instances' clocks need not agree). A key
//! holds one client's theoretical arrival time in milliseconds and expires
//! when it has passed, so quiet clients cost nothing and need no sweep.
//! Keys are named as the database's rows are, by the installation's
//! [`BucketKey`].

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::BucketKey;

/// Allowed: `1`; refused: `0`. KEYS[1] the client's key; ARGV[1] the
/// interval, ARGV[2] the burst's tolerance, both in milliseconds.
const GCRA: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then return 0 end
local later = tat + interval
redis.call('SET', KEYS[1], string.format('%d', later), 'PX', later - now)
return 1
";

/// How long a request waits for Redis before it is counted in this
/// process instead: a lookup must not hang on a counter.
const WAIT: Duration = Duration::from_millis(500);

/// A connection to the Redis of the limits, shared by every limit of the
/// instance; it reconnects by itself after an outage.
#[derive(Clone)]
pub struct RedisCounters {
    connection: ConnectionManager,
    /// Put before every key, so one Redis may hold other things.
    prefix: String,
}

impl std::fmt::Debug for RedisCounters {
    /// Without the address: it may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCounters {
    /// The Redis at `url`, with keys under `prefix`. Connects on first
    /// use, so a Redis that is down when the service starts does not stop
    /// it; a malformed `url` fails here.
    pub fn new(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(WAIT))
            .set_response_timeout(Some(WAIT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The keys under this prefix: one per client counted lately.
    pub async fn keys(&self) -> Result<Vec<String>, redis::RedisError> {
        let mut connection = self.connection.clone();
        let pattern = format!("{}*", self.prefix);
        let mut keys = Vec::new();
        let mut iter: redis::AsyncIter<'_, String> =
            redis::AsyncCommands::scan_match(&mut connection, pattern.as_str()).await?;
        while let Some(key) = iter.next_item().await {
            keys.push(key?);
        }
        Ok(keys)
    }

    /// Deletes every key under this prefix (tests; an installation that
    /// wants its counts forgotten). How many went.
    pub async fn clear(&self) -> Result<usize, redis::RedisError> {
        let keys = self.keys().await?;
        let mut connection = self.connection.clone();
        if !keys.is_empty() {
            let _: usize = redis::AsyncCommands::del(&mut connection, &keys).await?;
        }
        Ok(keys.len())
    }
}

/// One limit, counted in Redis.
#[derive(Debug)]
pub struct RedisLimit {
    counters: RedisCounters,
    /// The installation's secret, which names each client's key.
    key: BucketKey,
    script: redis::Script,
    name: String,
    interval_ms: i64,
    tolerance_ms: i64,
}

impl RedisLimit {
    /// `per_minute` requests a minute per client, `burst` of them at once,
    /// each client named under `key` (the installation's). `None` when
    /// `per_minute` is 0 (no limit).
    pub fn new(
        counters: &RedisCounters,
        key: &BucketKey,
        name: &str,
        per_minute: u32,
        burst: u32,
    ) -> Option<Self> {
        (per_minute > 0).then(|| {
            let interval_ms = (60_000 / i64::from(per_minute)).max(1);
            Self {
                counters: counters.clone(),
                key: key.clone(),
                script: redis::Script::new(GCRA),
                name: name.to_owned(),
                interval_ms,
                tolerance_ms: interval_ms.saturating_mul(i64::from(burst.max(1)) - 1),
            }
        })
    }

    /// Counts one request of `client` (its network, as text); whether it
    /// is allowed. An error when Redis did not answer within half a second.
    pub async fn allows(&self, client: &str) -> Result<bool, redis::RedisError> {
        let mut connection = self.counters.connection.clone();
        let key = format!("{}{}", self.counters.prefix, self.key.bucket(&self.name, client));
        let mut call = self.script.key(key);
        call.arg(self.interval_ms).arg(self.tolerance_ms);
        let answer = tokio::time::timeout(WAIT, call.invoke_async::<i64>(&mut connection)).await;
        match answer {
            Ok(result) => Ok(result? == 1),
            Err(_) => Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "Redis no respondió a tiempo",
            ))),
        }
    }
}
