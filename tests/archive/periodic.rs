//! Periodic work on the queue (the time-stamp retry, the follow-up
//! notices), on both engines: the job of a period is enqueued once and run
//! once whatever number of instances schedule it, a failed run is tried
//! again after its backoff, and the job of an instance that died is taken
//! over when its lease runs out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt as _;
use sello::archive::Store;
use sello::queue::{Backoff, JobState, Periodic, Queue, Scheduler, Work};

/// A period no test crosses (ten days): every round of a test is in one.
const LONG: Duration = Duration::from_secs(10 * 24 * 3600);

/// Work that counts its runs and fails its first `failures` ones.
fn counting(runs: &Arc<AtomicUsize>, failures: usize) -> Work {
    let runs = Arc::clone(runs);
    Arc::new(move || {
        let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if n <= failures {
                Err(format!("falla de prueba {n}"))
            } else {
                Ok(format!("corrida {n}"))
            }
        }
        .boxed()
    })
}

fn instance(store: &Store, holder: &str, kind: &str, runs: &Arc<AtomicUsize>, failures: usize) -> Scheduler {
    Scheduler::new(Queue::with_holder(store.clone(), holder)).with(
        Periodic::new(kind, LONG, counting(runs, failures))
            .backoff(Backoff {
                first: Duration::from_millis(1500),
                max: Duration::from_secs(5),
            })
            .lease(Duration::from_millis(600)),
    )
}

async fn two_instances_enqueue_and_run_each_period_once(store: Store) {
    let runs = Arc::new(AtomicUsize::new(0));
    let first = instance(&store, "a", "aviso", &runs, 0);
    let second = instance(&store, "b", "aviso", &runs, 0);
    // Both instances poll at once, a few times over.
    for _ in 0..3 {
        let (a, b) = tokio::join!(first.round(), second.round());
        a.expect("first round");
        b.expect("second round");
    }
    // A third instance started later, with nothing cached.
    let third = instance(&store, "c", "aviso", &runs, 0);
    assert!(third.round().await.expect("third round").is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the period's work ran once");
    let jobs = Queue::with_holder(store, "x")
        .of_kind("aviso")
        .await
        .expect("jobs");
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].state, JobState::Done);
    assert_eq!(jobs[0].attempts, 1);
    assert!(["a", "b"].contains(&jobs[0].lease_holder.as_deref().unwrap_or("")));
}
crate::conformance!(two_instances_enqueue_and_run_each_period_once);

async fn a_failed_run_is_tried_again_after_its_backoff(store: Store) {
    let runs = Arc::new(AtomicUsize::new(0));
    let scheduler = instance(&store, "a", "sellos", &runs, 1);
    let ran = scheduler.round().await.expect("round");
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].outcome, Err("falla de prueba 1".to_owned()));
    let queue = Queue::with_holder(store.clone(), "x");
    let job = queue.get(ran[0].job_id).await.expect("get").expect("the job");
    assert_eq!(job.state, JobState::Queued, "queued again");
    assert_eq!(job.last_error.as_deref(), Some("falla de prueba 1"));
    let wait = job.run_at - chrono::Utc::now();
    assert!(
        wait > chrono::TimeDelta::zero() && wait <= chrono::TimeDelta::milliseconds(1500),
        "retried after the backoff: {wait}"
    );
    // Another instance does not run it before its time either.
    let other = instance(&store, "b", "sellos", &runs, 1);
    assert!(
        other.round().await.expect("round").is_empty(),
        "not before the backoff"
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let ran = other.round().await.expect("round");
    assert_eq!(ran.len(), 1);
    assert_eq!(
        (ran[0].attempt, ran[0].outcome.clone()),
        (2, Ok("corrida 2".to_owned()))
    );
    let job = queue.get(ran[0].job_id).await.expect("get").expect("the job");
    assert_eq!((job.state, job.attempts), (JobState::Done, 2));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert!(
        scheduler.round().await.expect("round").is_empty(),
        "done for this period"
    );
}
crate::conformance!(a_failed_run_is_tried_again_after_its_backoff);

async fn the_job_of_an_instance_that_died_is_taken_over(store: Store) {
    let runs = Arc::new(AtomicUsize::new(0));
    let dead = instance(&store, "muerta", "renovar", &runs, 0);
    dead.enqueue_due().await.expect("enqueued");
    // The instance claims the job and dies before it finishes: nothing
    // renews its lease.
    let dying = Queue::with_holder(store.clone(), "muerta");
    let held = dying
        .claim("renovar", Duration::from_millis(1500))
        .await
        .expect("claim")
        .expect("the period's job");
    let survivor = instance(&store, "viva", "renovar", &runs, 0);
    assert!(
        survivor.round().await.expect("round").is_empty(),
        "held while its lease lasts"
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let ran = survivor.round().await.expect("round");
    assert_eq!(ran.len(), 1);
    assert_eq!((ran[0].job_id, ran[0].attempt), (held.id, 2));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let job = dying.get(held.id).await.expect("get").expect("the job");
    assert_eq!(
        (job.state, job.lease_holder.as_deref()),
        (JobState::Done, Some("viva"))
    );
    assert!(
        matches!(
            dying.complete(&held, None).await,
            Err(sello::queue::QueueError::LeaseLost(_))
        ),
        "the dead holder, back, records nothing"
    );
}
crate::conformance!(the_job_of_an_instance_that_died_is_taken_over);

async fn a_long_run_keeps_its_job_from_other_instances(store: Store) {
    // The work outlasts its lease (1.2 s) more than twice; the lease is
    // renewed meanwhile, so the other instance never runs it too.
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let slow: Work = Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_millis(3000)).await;
            Ok("lenta".to_owned())
        }
        .boxed()
    });
    let slow_instance = Scheduler::new(Queue::with_holder(store.clone(), "a"))
        .with(Periodic::new("lenta", LONG, slow).lease(Duration::from_millis(1200)));
    let other_runs = Arc::new(AtomicUsize::new(0));
    let other = instance(&store, "b", "lenta", &other_runs, 0);
    let running = tokio::spawn(async move { slow_instance.round().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..8 {
        assert!(other.round().await.expect("round").is_empty());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let ran = running.await.expect("joined").expect("round");
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].outcome, Ok("lenta".to_owned()));
    assert_eq!(
        (runs.load(Ordering::SeqCst), other_runs.load(Ordering::SeqCst)),
        (1, 0)
    );
}
crate::conformance!(a_long_run_keeps_its_job_from_other_instances);
