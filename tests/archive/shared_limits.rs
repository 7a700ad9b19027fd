//! Limits counted in the database: two instances on one database allow
//! together what one would, per client.

use sello::archive::Store;
use sello::rate_limits::SharedLimit;

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
