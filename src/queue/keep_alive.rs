//! A claimed job's lease renewed in the background while its work runs,
//! so that only a holder that stopped (killed, hung, cut off from the
//! database) loses it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Claimed, Queue, QueueError};

/// Renews a lease until dropped.
#[derive(Debug)]
pub struct KeepAlive {
    task: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

impl KeepAlive {
    pub(super) fn start(queue: Queue, job: Claimed, lease: Duration) -> Self {
        let lost = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&lost);
        let every = (lease / 3).max(Duration::from_millis(10));
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match queue.extend(&job, lease).await {
                    Ok(()) => {}
                    Err(QueueError::LeaseLost(_)) => {
                        flag.store(true, Ordering::Release);
                        return;
                    }
                    // The database may be back before the lease runs out.
                    Err(error) => {
                        tracing::warn!(job.id = job.id, error = %error, "no se pudo renovar el plazo de un trabajo")
                    }
                }
            }
        });
        Self { task, lost }
    }

    /// Whether another claim took the job over: stop working on it.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.task.abort();
    }
}
