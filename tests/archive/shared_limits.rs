//! Limits counted in the database, or in Redis: two instances on one
//! database (or one Redis) allow together what one would, per client.

use sello::archive::Store;
use sello::rate_limits::{RedisCounters, RedisLimit, SharedLimit};

async fn two_instances_together_allow_one_burst_per_client(store: Store) {
    // 20 a minute: one every 3 s after a burst of 5.
    let first = SharedLimit::new(store.clone(), "consultas", 20, 5).expect("a limit");
    let second = SharedLimit::new(store.clone(), "consultas", 20, 5).expect("a limit");
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
    let login = SharedLimit::new(store.clone(), "acceso", 20, 5).expect("a limit");
    assert!(
        login.allows("203.0.113.7").await.expect("counted"),
        "another limit has its own count"
    );
    assert!(
        SharedLimit::new(store, "consultas", 0, 5).is_none(),
        "0 is no limit"
    );
}
crate::conformance!(two_instances_together_allow_one_burst_per_client);

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
    let first = RedisLimit::new(&first_counters, "consultas", 20, 5).expect("a limit");
    let second = RedisLimit::new(&second_counters, "consultas", 20, 5).expect("a limit");
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
    let login = RedisLimit::new(&first_counters, "acceso", 20, 5).expect("a limit");
    assert!(
        login.allows("203.0.113.7").await.expect("counted"),
        "another limit has its own count"
    );
    assert!(
        RedisLimit::new(&first_counters, "consultas", 0, 5).is_none(),
        "0 is no limit"
    );
    // The keys name no address, and go when the count is forgotten.
    let keys = first_counters.keys().await.expect("keys");
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| !k.contains("203.0.113") && !k.contains("198.51")),
        "{keys:?}"
    );
    assert_eq!(first_counters.clear().await.expect("cleared"), 3);
    assert!(first_counters.keys().await.expect("keys").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_waits_its_interval_after_the_burst_in_redis() {
    // 600 a minute: one every 100 ms after a burst of 2.
    let counters = redis_counters("intervalo");
    let limit = RedisLimit::new(&counters, "consultas", 600, 2).expect("a limit");
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
    let limiter = sello::web::ClientLimiter::redis(&counters, "consultas", 8, false);
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
async fn with_redis_silent_requests_do_not_each_wait_for_it() {
    // A Redis that takes the connection and never answers: each question
    // to it waits its half second out.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("redis://{}/", silent.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let counters = RedisCounters::new(&url, "sello-prueba:mudo:").expect("address");
    let limiter = sello::web::ClientLimiter::redis(&counters, "consultas", 600, false);
    let client: std::net::IpAddr = "203.0.113.10".parse().expect("ip");
    let started = std::time::Instant::now();
    let mut allowed = 0;
    for _ in 0..10 {
        if limiter.allows(client).await {
            allowed += 1;
        }
    }
    // Ten questions of half a second would take five; after the first
    // failure the others count here at once.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "only the first request waits for a Redis that does not answer: {:?}",
        started.elapsed()
    );
    assert!(allowed > 0, "still counted, in this process");
}
