//! Limits counted in the database, or in Redis: two instances on one
//! database (or one Redis) allow together what one would, per client; a
//! client is named under the installation's secret, never by a hash that
//! every address could be tried against.

use sello::archive::Store;
use sello::db::Backend;
use sello::rate_limits::{BucketKey, RedisCounters, RedisLimit, SharedLimit};
use sha2::Digest as _;

/// The installation's key, as an instance starting on `store` reads it.
async fn key_of(store: &Store) -> BucketKey {
    BucketKey::of_installation(store)
        .await
        .expect("the installation's key")
}

async fn two_instances_together_allow_one_burst_per_client(store: Store) {
    // 20 a minute: one every 3 s after a burst of 5. Each instance reads
    // the installation's key itself, as two processes would.
    let first = SharedLimit::new(store.clone(), &key_of(&store).await, "consultas", 20, 5).expect("a limit");
    let second = SharedLimit::new(store.clone(), &key_of(&store).await, "consultas", 20, 5).expect("a limit");
    let started = std::time::Instant::now();
    let mut allowed = 0;
    for n in 0..20 {
        let instance = if n % 2 == 0 { &first } else { &second };
        if instance.allows("203.0.113.7").await.expect("counted") {
            allowed += 1;
        }
    }
    let elapsed = started.elapsed();
    // Each would allow 5 alone; one more may have dripped in per 3 s.
    let dripped = usize::try_from(elapsed.as_secs() / 3).expect("small");
    assert!(
        (5..=5 + dripped).contains(&allowed),
        "{allowed} allowed in {elapsed:?} by two instances"
    );
    assert!(
        second.allows("198.51.100.1").await.expect("counted"),
        "another client has its own count"
    );
    let login = SharedLimit::new(store.clone(), &key_of(&store).await, "acceso", 20, 5).expect("a limit");
    assert!(
        login.allows("203.0.113.7").await.expect("counted"),
        "another limit has its own count"
    );
    let key = key_of(&store).await;
    assert!(
        SharedLimit::new(store, &key, "consultas", 0, 5).is_none(),
        "0 is no limit"
    );
}
crate::conformance!(two_instances_together_allow_one_burst_per_client);

/// The buckets stored for one client by a limit of `store`.
async fn buckets_after_one_lookup(store: &Store, client: &str) -> Vec<String> {
    let limit = SharedLimit::new(store.clone(), &key_of(store).await, "consultas", 20, 5).expect("a limit");
    assert!(limit.allows(client).await.expect("counted"));
    sqlx::query_scalar("SELECT bucket FROM rate_limits")
        .fetch_all(store.pool())
        .await
        .expect("buckets")
}

async fn a_stored_bucket_is_keyed_by_the_installation_not_a_plain_hash(store: Store) {
    let client = "203.0.113.7";
    let here = buckets_after_one_lookup(&store, client).await;
    assert_eq!(here.len(), 1, "{here:?}");
    // What anyone could compute for every IPv4 address and look up.
    let plain = sha2::Sha256::digest(format!("consultas\n{client}").as_bytes());
    let plain: String = plain.iter().map(|b| format!("{b:02x}")).collect();
    assert_ne!(here[0], plain, "the bucket is not SHA-256(limit, address)");
    assert!(!here[0].contains(client));
    // Another installation, on an engine alike, names the client otherwise.
    let elsewhere = match store.backend() {
        Backend::Sqlite => {
            let (other, dir) = crate::sqlite().await;
            let buckets = buckets_after_one_lookup(&other, client).await;
            drop(dir);
            buckets
        }
        Backend::Postgres => {
            let (other, schema) = crate::postgres().await;
            let buckets = buckets_after_one_lookup(&other, client).await;
            other.pool().close().await;
            schema.drop_now().await;
            buckets
        }
    };
    assert_eq!(elsewhere.len(), 1);
    assert_ne!(elsewhere[0], here[0], "each installation has a secret of its own");
    assert_ne!(elsewhere[0], plain);
}
crate::conformance!(a_stored_bucket_is_keyed_by_the_installation_not_a_plain_hash);

/// The Redis the tests count in; `SELLO_TEST_REDIS_URL` overrides it.
pub fn redis_url() -> String {
    std::env::var("SELLO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

/// Counters under a prefix of this test's own, so tests running at once
/// (or a run that died before cleaning up) never share a count.
fn redis_counters(test: &str) -> RedisCounters {
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("random");
    let tail: String = random.iter().map(|b| format!("{b:02x}")).collect();
    RedisCounters::new(&redis_url(), &format!("sello-prueba:{test}:{tail}:")).expect("a Redis address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_counting_in_redis_together_allow_one_burst_per_client() {
    // Each instance has its own connection, as two processes would.
    let first_counters = redis_counters("rafaga");
    let second_counters = RedisCounters::new(&redis_url(), first_counters.prefix()).expect("address");
    // Two instances of one installation: one key, read from its database.
    let (store, _dir) = crate::sqlite().await;
    let first = RedisLimit::new(&first_counters, &key_of(&store).await, "consultas", 20, 5).expect("a limit");
    let second =
        RedisLimit::new(&second_counters, &key_of(&store).await, "consultas", 20, 5).expect("a limit");
    let started = std::time::Instant::now();
    let mut allowed = 0;
    for n in 0..20 {
        let instance = if n % 2 == 0 { &first } else { &second };
        if instance.allows("203.0.113.7").await.expect("counted") {
            allowed += 1;
        }
    }
    let elapsed = started.elapsed();
    let dripped = usize::try_from(elapsed.as_secs() / 3).expect("small");
    assert!(
        (5..=5 + dripped).contains(&allowed),
        "{allowed} allowed in {elapsed:?} by two instances"
    );
    assert!(
        second.allows("198.51.100.1").await.expect("counted"),
        "another client has its own count"
    );
    let login = RedisLimit::new(&first_counters, &key_of(&store).await, "acceso", 20, 5).expect("a limit");
    assert!(
        login.allows("203.0.113.7").await.expect("counted"),
        "another limit has its own count"
    );
    assert!(
        RedisLimit::new(&first_counters, &key_of(&store).await, "consultas", 0, 5).is_none(),
        "0 is no limit"
    );
    // The keys name no address, nor its plain hash, and go when the count
    // is forgotten.
    let keys = first_counters.keys().await.expect("keys");
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| !k.contains("203.0.113") && !k.contains("198.51")),
        "{keys:?}"
    );
    let plain = sha2::Sha256::digest(b"consultas\n203.0.113.7");
    let plain: String = plain.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!keys.iter().any(|k| k.ends_with(&plain)), "{keys:?}");
    assert_eq!(first_counters.clear().await.expect("cleared"), 3);
    assert!(first_counters.keys().await.expect("keys").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_waits_its_interval_after_the_burst_in_redis() {
    // 600 a minute: one every 100 ms after a burst of 2.
    let counters = redis_counters("intervalo");
    let key = BucketKey::random().expect("random");
    let limit = RedisLimit::new(&counters, &key, "consultas", 600, 2).expect("a limit");
    assert!(limit.allows("203.0.113.8").await.expect("counted"));
    assert!(limit.allows("203.0.113.8").await.expect("counted"));
    assert!(
        !limit.allows("203.0.113.8").await.expect("counted"),
        "past the burst"
    );
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert!(
        limit.allows("203.0.113.8").await.expect("counted"),
        "one interval later"
    );
    counters.clear().await.expect("cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_down_each_instance_still_limits_in_its_own_memory() {
    // Nothing listens on port 1.
    let counters = RedisCounters::new("redis://127.0.0.1:1/", "sello-prueba:caido:").expect("address");
    // 8 a minute: a burst of 2, then one every 7.5 s.
    let key = BucketKey::random().expect("random");
    let limiter = sello::web::ClientLimiter::redis(&counters, &key, "consultas", 8, false);
    let client: std::net::IpAddr = "203.0.113.9".parse().expect("ip");
    let started = std::time::Instant::now();
    let mut allowed = 0;
    for _ in 0..8 {
        if limiter.allows(client).await {
            allowed += 1;
        }
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(7),
        "each request waits for Redis at most about half a second: {:?}",
        started.elapsed()
    );
    assert_eq!(allowed, 2, "the burst of 8 a minute, counted here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_hanging_only_one_request_in_a_while_waits_for_it() {
    // A server that accepts connections and never answers, as a Redis
    // stuck or behind a dropped route would.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let counters =
        RedisCounters::new(&format!("redis://{address}/"), "sello-prueba:colgado:").expect("address");
    let key = BucketKey::random().expect("random");
    let limiter = sello::web::ClientLimiter::redis(&counters, &key, "consultas", 600, false);
    let client: std::net::IpAddr = "203.0.113.10".parse().expect("ip");
    let started = std::time::Instant::now();
    for _ in 0..10 {
        assert!(limiter.allows(client).await, "within the burst, counted here");
    }
    // Each request waiting its half second would take five.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "only the first request waits for Redis: {:?}",
        started.elapsed()
    );
}
