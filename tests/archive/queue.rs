//! The job queue on both engines: each job claimed by one holder at a
//! time, leases that another instance takes over when their holder stops
//! renewing them, fenced holders, retries after a backoff, and jobs that
//! exist only if the transaction that enqueued them commits.

use std::collections::BTreeMap;
use std::time::Duration;

use sello::archive::Store;
use sello::queue::{Backoff, JobState, NewJob, Queue, QueueError, Retry};
use serde_json::json;

const KIND: &str = "prueba";

fn quick() -> Backoff {
    Backoff {
        first: Duration::from_millis(300),
        max: Duration::from_secs(5),
    }
}

async fn a_job_is_claimed_worked_and_completed_once(store: Store) {
    let queue = Queue::with_holder(store.clone(), "a");
    assert!(
        queue
            .claim(KIND, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none()
    );
    let id = queue
        .enqueue(&NewJob::new(KIND, json!({"fila": 7})).in_group("lote-1"))
        .await
        .expect("enqueue");
    queue
        .enqueue(&NewJob::new("otra-cosa", json!({})))
        .await
        .expect("enqueue");
    let job = queue
        .claim(KIND, Duration::from_secs(30))
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(
        (job.id, job.attempt, job.payload.clone()),
        (id, 1, json!({"fila": 7}))
    );
    assert!(
        queue
            .claim(KIND, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none(),
        "a held job is not claimed again, and other kinds are not claimed"
    );
    queue
        .progress(&job, &json!({"hechas": 3}), Duration::from_secs(30))
        .await
        .expect("progress");
    let running = queue.get(id).await.expect("get").expect("the job");
    assert_eq!(running.state, JobState::Running);
    assert_eq!(running.lease_holder.as_deref(), Some("a"));
    assert_eq!(running.progress, Some(json!({"hechas": 3})));
    queue
        .complete(&job, Some(&json!({"hechas": 4})))
        .await
        .expect("complete");
    let done = queue.group("lote-1").await.expect("group");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].state, JobState::Done);
    assert_eq!(done[0].progress, Some(json!({"hechas": 4})));
    assert!(done[0].finished_at.is_some());
    assert!(
        matches!(queue.complete(&job, None).await, Err(QueueError::LeaseLost(_))),
        "a finished job is not finished twice"
    );
}
crate::conformance!(a_job_is_claimed_worked_and_completed_once);

async fn concurrent_instances_claim_each_job_exactly_once(store: Store) {
    let seed = Queue::with_holder(store.clone(), "seed");
    for n in 0..40 {
        seed.enqueue(&NewJob::new(KIND, json!({ "n": n })))
            .await
            .expect("enqueue");
    }
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let queue = Queue::with_holder(store.clone(), &format!("instancia-{w}"));
            tokio::spawn(async move {
                let mut taken = Vec::new();
                while let Some(job) = queue.claim(KIND, Duration::from_secs(30)).await.expect("claim") {
                    taken.push(job.payload["n"].as_i64().expect("n"));
                    queue.complete(&job, None).await.expect("complete");
                }
                taken
            })
        })
        .collect();
    let mut claims: BTreeMap<i64, usize> = BTreeMap::new();
    for worker in workers {
        for n in worker.await.expect("worker") {
            *claims.entry(n).or_default() += 1;
        }
    }
    assert_eq!(claims.len(), 40, "every job was claimed");
    assert!(claims.values().all(|&c| c == 1), "none twice: {claims:?}");
}
crate::conformance!(concurrent_instances_claim_each_job_exactly_once);

async fn a_dead_holders_lease_is_taken_over_and_the_dead_holder_is_fenced(store: Store) {
    let dead = Queue::with_holder(store.clone(), "muerta");
    let survivor = Queue::with_holder(store.clone(), "viva");
    let id = dead
        .enqueue(&NewJob::new(KIND, json!({})))
        .await
        .expect("enqueue");
    let lost = dead
        .claim(KIND, Duration::from_millis(400))
        .await
        .expect("claim")
        .expect("a job");
    assert!(
        survivor
            .claim(KIND, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none(),
        "not while the lease runs"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let taken = survivor
        .claim(KIND, Duration::from_secs(30))
        .await
        .expect("claim")
        .expect("the lease ran out");
    assert_eq!((taken.id, taken.attempt), (id, 2));
    for outcome in [
        dead.extend(&lost, Duration::from_secs(30)).await,
        dead.progress(&lost, &json!({}), Duration::from_secs(30)).await,
        dead.complete(&lost, None).await,
    ] {
        assert!(matches!(outcome, Err(QueueError::LeaseLost(_))), "{outcome:?}");
    }
    assert!(matches!(
        dead.fail(&lost, "tarde", quick()).await,
        Err(QueueError::LeaseLost(_))
    ));
    survivor.complete(&taken, None).await.expect("complete");
    let record = survivor.get(id).await.expect("get").expect("job");
    assert_eq!((record.state, record.attempts), (JobState::Done, 2));
    assert_eq!(record.lease_holder.as_deref(), Some("viva"));
}
crate::conformance!(a_dead_holders_lease_is_taken_over_and_the_dead_holder_is_fenced);

async fn a_kept_alive_lease_is_not_taken_over(store: Store) {
    let working = Queue::with_holder(store.clone(), "trabajando");
    let other = Queue::with_holder(store.clone(), "otra");
    working
        .enqueue(&NewJob::new(KIND, json!({})))
        .await
        .expect("enqueue");
    let job = working
        .claim(KIND, Duration::from_millis(450))
        .await
        .expect("claim")
        .expect("a job");
    let alive = working.keep_alive(&job, Duration::from_millis(450));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        other
            .claim(KIND, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none()
    );
    assert!(!alive.lost());
    drop(alive);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let taken = other.claim(KIND, Duration::from_secs(30)).await.expect("claim");
    assert!(taken.is_some(), "once renewals stop, the lease runs out");
}
crate::conformance!(a_kept_alive_lease_is_not_taken_over);

async fn a_failed_job_waits_its_backoff_then_gives_up_after_its_attempts(store: Store) {
    let queue = Queue::with_holder(store.clone(), "a");
    let id = queue
        .enqueue(&NewJob::new(KIND, json!({})).max_attempts(2))
        .await
        .expect("enqueue");
    let first = queue
        .claim(KIND, Duration::from_secs(30))
        .await
        .expect("claim")
        .expect("job");
    let retry = queue
        .fail(&first, "el servidor no respondió", quick())
        .await
        .expect("fail");
    assert!(matches!(retry, Retry::At(_)), "{retry:?}");
    let waiting = queue.get(id).await.expect("get").expect("job");
    assert_eq!(waiting.state, JobState::Queued);
    assert_eq!(waiting.last_error.as_deref(), Some("el servidor no respondió"));
    assert!(
        queue
            .claim(KIND, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none(),
        "not before its backoff"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second = queue
        .claim(KIND, Duration::from_secs(30))
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(second.attempt, 2);
    assert_eq!(
        queue.fail(&second, "otra vez", quick()).await.expect("fail"),
        Retry::GaveUp
    );
    let failed = queue.get(id).await.expect("get").expect("job");
    assert_eq!(failed.state, JobState::Failed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        queue
            .claim(KIND, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none()
    );
}
crate::conformance!(a_failed_job_waits_its_backoff_then_gives_up_after_its_attempts);

async fn a_job_whose_holder_dies_on_every_attempt_is_given_up(store: Store) {
    let queue = Queue::with_holder(store.clone(), "a");
    let id = queue
        .enqueue(&NewJob::new(KIND, json!({})).max_attempts(1))
        .await
        .expect("enqueue");
    let _dies = queue
        .claim(KIND, Duration::from_millis(100))
        .await
        .expect("claim")
        .expect("job");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        queue
            .claim(KIND, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none()
    );
    let record = queue.get(id).await.expect("get").expect("job");
    assert_eq!(record.state, JobState::Failed);
    assert!(record.last_error.is_some());
}
crate::conformance!(a_job_whose_holder_dies_on_every_attempt_is_given_up);

async fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist(store: Store) {
    let queue = Queue::with_holder(store.clone(), "a");
    let mut tx = store.begin_write().await.expect("tx");
    let id = Queue::enqueue_in(&mut tx, &NewJob::new(KIND, json!({})))
        .await
        .expect("enqueue");
    tx.rollback().await.expect("rollback");
    assert!(queue.get(id).await.expect("get").is_none());
    assert!(
        queue
            .claim(KIND, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none()
    );
    let mut tx = store.begin_write().await.expect("tx");
    let id = Queue::enqueue_in(&mut tx, &NewJob::new(KIND, json!({})))
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    let job = queue
        .claim(KIND, Duration::from_secs(30))
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(job.id, id);
}
crate::conformance!(a_job_enqueued_in_a_rolled_back_transaction_does_not_exist);
